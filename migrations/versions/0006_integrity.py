"""Integrity under pressure: stored HTML for every Markdown text, submission keys,
server-side sessions, single-use reset links, dead letters, expiring API tokens

Revision ID: 0006_integrity
Revises: 0005_mail_outbox
Create Date: 2026-12-01 22:01:49.278025

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

from engage.text import plain_excerpt, render_markdown_or_text

# revision identifiers, used by Alembic.
revision = "0006_integrity"
down_revision = "0005_mail_outbox"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=False, server_default=""))

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_comments_author_id_submission_key"), ["author_id", "submission_key"]
        )

    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_response_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_ideas_author_id_submission_key"), ["author_id", "submission_key"]
        )

    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=300), nullable=True))

    with op.batch_alter_table("pipeline_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_html", sa.Text(), nullable=False, server_default=""))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reset_generation", sa.Integer(), nullable=False, server_default="0")
        )

    _render_stored_html()
    _normalize_email_addresses()


def _html(source):
    return str(render_markdown_or_text(source)) if source else ""


def _rewrite(table: str, source: str, make_values) -> None:
    """Recompute columns of every row from `source`, in batches of primary keys."""
    rows = sa.table(table, sa.column("id"), sa.column(source))
    connection = op.get_bind()
    last = 0
    while True:
        batch = connection.execute(
            sa.select(rows.c.id, rows.c[source])
            .where(rows.c.id > last)
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for row_id, text in batch:
            values = make_values(text)
            target = sa.table(table, sa.column("id"), *(sa.column(name) for name in values))
            connection.execute(sa.update(target).where(target.c.id == row_id).values(values))
        last = batch[-1][0]


def _render_stored_html() -> None:
    """Render every Markdown text once with the new renderer, so pages only print HTML.
    A text over the new limits is kept, shown as plain paragraphs."""

    def idea_body(text):
        body_html = _html(text)
        return {"body_html": body_html, "excerpt": plain_excerpt(body_html, 240)}

    _rewrite("ideas", "body", idea_body)
    _rewrite(
        "ideas",
        "decision_response",
        lambda text: {"decision_response_html": _html(text) if text else None},
    )
    _rewrite("comments", "body", lambda text: {"body_html": _html(text)})
    _rewrite("challenges", "body", lambda text: {"body_html": _html(text)})
    _rewrite("pipeline_events", "note", lambda text: {"note_html": _html(text)})


def _normalize_email_addresses() -> None:
    """Addresses are now compared in NFKC and case-folded: store them that way (an
    address that would then collide with another account's is left as it was)."""
    connection = op.get_bind()
    users = sa.table("users", sa.column("id"), sa.column("email"))
    taken = {email for (email,) in connection.execute(sa.select(users.c.email))}
    for user_id, email in connection.execute(sa.select(users.c.id, users.c.email)).all():
        normalized = unicodedata.normalize("NFKC", email.strip()).casefold()
        if normalized != email and normalized not in taken:
            connection.execute(
                sa.update(users).where(users.c.id == user_id).values(email=normalized)
            )
            taken.add(normalized)
    invitations = sa.table("invitations", sa.column("id"), sa.column("email"))
    rows = connection.execute(sa.select(invitations.c.id, invitations.c.email)).all()
    for row_id, email in rows:
        normalized = unicodedata.normalize("NFKC", email.strip()).casefold()
        if normalized != email:
            connection.execute(
                sa.update(invitations).where(invitations.c.id == row_id).values(email=normalized)
            )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("reset_generation")

    with op.batch_alter_table("pipeline_events", schema=None) as batch_op:
        batch_op.drop_column("note_html")

    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("failed_at")

    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_ideas_author_id_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
        batch_op.drop_column("decision_response_html")

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_comments_author_id_submission_key"), type_="unique"
        )
        batch_op.drop_column("submission_key")
        batch_op.drop_column("body_html")

    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_column("body_html")

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))

    op.drop_table("user_sessions")
