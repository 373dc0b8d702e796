"""Agencies and the people who work for them (admins and moderators)."""

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import TimestampMixin
from engage.extensions import db

MEMBER_ROLES = ("admin", "moderator")


class Agency(TimestampMixin, db.Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(255))
    # Items waiting longer than this in the moderation queue are shown as overdue.
    moderation_target_hours: Mapped[int] = mapped_column(default=48)

    def __repr__(self) -> str:
        return f"<Agency {self.slug}>"


class Membership(TimestampMixin, db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("agency_id", "user_id"),
        CheckConstraint("role IN ('admin', 'moderator')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    role: Mapped[str] = mapped_column(String(16))

    agency: Mapped[Agency] = relationship()
    user = relationship("User")

    def __repr__(self) -> str:
        return f"<Membership {self.user_id}@{self.agency_id} {self.role}>"
