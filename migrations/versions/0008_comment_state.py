"""A comment's visibility as a moderation state, like an idea's: moderation_state
'visible' | 'hidden' with moderation_reason, in place of is_hidden and hidden_reason

Revision ID: 0008_comment_state
Revises: 0007_state_constraints
Create Date: 2026-12-03 10:12:31.402117

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_comment_state"
down_revision = "0007_state_constraints"
branch_labels = None
depends_on = None

# The values of engage.ideas.states as they are today: a migration does not follow the code.
NEW_CONSTRAINTS = {
    "ck_comments_moderation_state": "moderation_state IN ('visible', 'hidden')",
    "ck_comments_hidden_has_reason": (
        "moderation_state <> 'hidden' OR moderation_reason IS NOT NULL"
    ),
}
OLD_CONSTRAINTS = {
    "ck_comments_hidden_has_reason": "NOT is_hidden OR hidden_reason IS NOT NULL",
}

comments = sa.table(
    "comments",
    sa.column("is_hidden", sa.Boolean()),
    sa.column("moderation_state", sa.String(20)),
)


def upgrade():
    # The constraint names is_hidden, which goes: drop it before SQLite copies the table.
    with op.batch_alter_table("comments", schema=None) as batch_op:
        for name in OLD_CONSTRAINTS:
            batch_op.drop_constraint(batch_op.f(name), type_="check")
        batch_op.add_column(
            sa.Column(
                "moderation_state", sa.String(length=20), nullable=False, server_default="visible"
            )
        )
        batch_op.alter_column("hidden_reason", new_column_name="moderation_reason")

    op.execute(
        sa.update(comments).where(comments.c.is_hidden).values(moderation_state="hidden")
    )

    # The application gives new comments their state; the default was for existing rows.
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.alter_column("moderation_state", server_default=None)
        batch_op.drop_column("is_hidden")
        for name, condition in NEW_CONSTRAINTS.items():
            batch_op.create_check_constraint(batch_op.f(name), condition)


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        for name in reversed(NEW_CONSTRAINTS):
            batch_op.drop_constraint(batch_op.f(name), type_="check")
        batch_op.add_column(
            sa.Column("is_hidden", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.alter_column("moderation_reason", new_column_name="hidden_reason")

    op.execute(
        sa.update(comments)
        .where(comments.c.moderation_state == "hidden")
        .values(is_hidden=sa.true())
    )

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.alter_column("is_hidden", server_default=None)
        batch_op.drop_column("moderation_state")
        for name, condition in OLD_CONSTRAINTS.items():
            batch_op.create_check_constraint(batch_op.f(name), condition)
