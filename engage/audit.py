"""The audit trail: one append-only record per change of state that staff (or the
system, without an actor) make to an idea or a comment. Every feature writes to it."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import UTCDateTime, now_utc
from engage.extensions import db


class ModerationAction(db.Model):
    """One staff action (or automatic one, without actor): append-only."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        Index("ix_moderation_actions_idea", "idea_id", "created_at"),
        Index("ix_moderation_actions_comment", "comment_id", "created_at"),
        Index("ix_moderation_actions_agency", "agency_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    actor = relationship("User")

    def __repr__(self) -> str:
        return f"<ModerationAction {self.action} {self.from_state}→{self.to_state}>"


@event.listens_for(ModerationAction, "before_update")
@event.listens_for(ModerationAction, "before_delete")
def _refuse_rewriting_history(mapper, connection, target):
    raise RuntimeError("Moderation actions are append-only.")


def record_action(
    actor,
    agency_id: int,
    action: str,
    *,
    idea=None,
    comment=None,
    from_state=None,
    to_state=None,
    reason=None,
) -> ModerationAction:
    """Append one record to the audit trail (actor None for automatic actions)."""
    record = ModerationAction(
        agency_id=agency_id,
        actor_id=actor.id if actor else None,
        idea_id=idea.id if idea else None,
        comment_id=comment.id if comment else None,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
    )
    db.session.add(record)
    return record


def decision_records(idea_id: int) -> list[ModerationAction]:
    """The agency's decisions on the idea, newest first: what it decided, when, and its
    public response (each record keeps the response given then)."""
    return db.session.scalars(
        select(ModerationAction)
        .where(ModerationAction.idea_id == idea_id, ModerationAction.action.like("decide_%"))
        .order_by(ModerationAction.id.desc())
    ).all()
