"""Agencies and the people who work for them (admins and moderators)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import TimestampMixin, UTCDateTime, now_utc
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
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    agency: Mapped[Agency] = relationship()
    user = relationship("User")

    def __repr__(self) -> str:
        return f"<Membership {self.user_id}@{self.agency_id} {self.role}>"


class Invitation(db.Model):
    """An e-mailed invitation to join an agency's team; the link is signed, not stored."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'moderator')", name="role"),
        Index("ix_invitations_agency", "agency_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship()

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.role}@{self.agency_id}>"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
