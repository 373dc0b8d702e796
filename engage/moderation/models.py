"""People's flags on ideas and comments, and risk flags on ideas."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import TimestampMixin, UTCDateTime, now_utc
from engage.extensions import db

FLAG_REASONS = ("spam", "offensive", "personal_data", "off_topic", "other")
RISK_KINDS = ("privacy", "safety", "legal", "accessibility")


class Flag(db.Model):
    """A signed-in person's report of an idea or a comment; open until staff decide."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("reporter_id", "idea_id"),
        UniqueConstraint("reporter_id", "comment_id"),
        CheckConstraint("(idea_id IS NULL) <> (comment_id IS NULL)", name="one_target"),
        CheckConstraint(
            "reason IN ('spam', 'offensive', 'personal_data', 'off_topic', 'other')",
            name="reason",
        ),
        Index("ix_flags_idea_open", "idea_id", "resolved_at"),
        Index("ix_flags_comment_open", "comment_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Flag {self.reason} idea={self.idea_id} comment={self.comment_id}>"

    @classmethod
    def column_for(cls, kind: str):
        """The column that points a flag to an item of this kind (Reportable.kind)."""
        return {"idea": cls.idea_id, "comment": cls.comment_id}[kind]

    @property
    def target(self) -> tuple[str, int]:
        """The kind and id of the item reported."""
        return ("idea", self.idea_id) if self.idea_id else ("comment", self.comment_id)


class RiskFlag(TimestampMixin, db.Model):
    """A risk staff see in an idea (ISO 56000 risk management), with a note."""

    __tablename__ = "risk_flags"
    __table_args__ = (
        UniqueConstraint("idea_id", "kind"),
        CheckConstraint("kind IN ('privacy', 'safety', 'legal', 'accessibility')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    set_by = relationship("User")

    def __repr__(self) -> str:
        return f"<RiskFlag {self.kind} idea={self.idea_id}>"
