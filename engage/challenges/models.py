"""Challenges that agencies post, and the tags shared by challenges and ideas."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.challenges import states
from engage.db import TimestampMixin, UTCDateTime, now_utc
from engage.extensions import db


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


challenge_tags = Table(
    "challenge_tags",
    db.metadata,
    Column(
        "challenge_id", Integer, ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Challenge(TimestampMixin, db.Model):
    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint("moderation_mode IN ('pre', 'post')", name="moderation_mode"),
        CheckConstraint("vote_limit IS NULL OR vote_limit > 0", name="vote_limit"),
        CheckConstraint(
            "opens_at < submissions_close_at AND submissions_close_at <= voting_closes_at",
            name="timeline",
        ),
        Index("ix_challenges_listing", "published_at", "opens_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(140))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submissions_close_at: Mapped[datetime] = mapped_column(UTCDateTime())
    voting_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderation_mode: Mapped[str] = mapped_column(String(8), default="post")
    vote_limit: Mapped[int | None] = mapped_column()
    allow_business: Mapped[bool] = mapped_column(default=True)
    # Published ideas, kept by the moderation transition so pages need no COUNT(*).
    idea_count: Mapped[int] = mapped_column(default=0)

    agency = relationship("Agency")
    tags: Mapped[list[Tag]] = relationship(secondary=challenge_tags, order_by=Tag.name)

    def __repr__(self) -> str:
        return f"<Challenge {self.slug}>"

    def phase(self, now: datetime | None = None) -> str:
        return states.phase_at(
            now or now_utc(),
            published_at=self.published_at,
            opens_at=self.opens_at,
            submissions_close_at=self.submissions_close_at,
            voting_closes_at=self.voting_closes_at,
            closed_at=self.closed_at,
        )

    def rules(self, now: datetime | None = None) -> states.PhaseRules:
        return states.PHASE_RULES[self.phase(now)]

    @property
    def is_pre_moderated(self) -> bool:
        return self.moderation_mode == "pre"
