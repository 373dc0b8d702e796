"""State invariants as check constraints: merged ⇔ target, accepted ⇔ stage, a reason
for every refusal and hiding, a date for what was published, a response to a decision; an index on merged_into_id

Revision ID: 0007_state_constraints
Revises: 0006_integrity
Create Date: 2026-12-02 02:27:43.118204

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_state_constraints"
down_revision = "0006_integrity"
branch_labels = None
depends_on = None

# The values of engage.ideas.states as they are today: a migration does not follow the code.
IDEA_CONSTRAINTS = {
    "ck_ideas_merged_has_target": "(moderation_state = 'merged') = (merged_into_id IS NOT NULL)",
    "ck_ideas_reason_required": (
        "moderation_state NOT IN ('rejected', 'changes_requested', 'hidden') "
        "OR moderation_reason IS NOT NULL"
    ),
    "ck_ideas_published_has_date": (
        "moderation_state NOT IN ('published', 'hidden') OR published_at IS NOT NULL"
    ),
    "ck_ideas_decided_has_response": (
        "decision = 'none' OR (decision_response IS NOT NULL AND decided_at IS NOT NULL)"
    ),
    "ck_ideas_accepted_has_stage": "(decision = 'accepted') = (pipeline_stage IS NOT NULL)",
}
COMMENT_CONSTRAINTS = {
    "ck_comments_hidden_has_reason": "NOT is_hidden OR hidden_reason IS NOT NULL",
}


def upgrade():
    # Every state-changing service already keeps these; rows that break one make the
    # upgrade fail (named in the error) rather than be changed here without a decision.
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        for name, condition in IDEA_CONSTRAINTS.items():
            batch_op.create_check_constraint(batch_op.f(name), condition)
        # With foreign keys enforced, SQLite looks up the ideas that point to an idea
        # each time one is locked or deleted: index the pointer.
        batch_op.create_index("ix_ideas_merged_into", ["merged_into_id"], unique=False)

    with op.batch_alter_table("comments", schema=None) as batch_op:
        for name, condition in COMMENT_CONSTRAINTS.items():
            batch_op.create_check_constraint(batch_op.f(name), condition)


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        for name in reversed(COMMENT_CONSTRAINTS):
            batch_op.drop_constraint(batch_op.f(name), type_="check")

    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_index("ix_ideas_merged_into")
        for name in reversed(IDEA_CONSTRAINTS):
            batch_op.drop_constraint(batch_op.f(name), type_="check")
