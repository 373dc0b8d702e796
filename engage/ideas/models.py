"""Ideas submitted to challenges, the votes they get and the comments on them."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.challenges.models import Tag
from engage.db import TimestampMixin, UTCDateTime, now_utc
from engage.extensions import db
from engage.ideas import states
from engage.text import plain_excerpt

TITLE_MAX = 140
BODY_MAX = 10_000
COMMENT_MAX = 5_000
LOCATION_MAX = 200
EXCERPT_MAX = 240
# The random key a submission form carries, so that sending it twice creates one row.
SUBMISSION_KEY_MAX = 64


def _in(column: str, values, operator: str = "IN") -> str:
    return f"{column} {operator} ({', '.join(repr(v) for v in values)})"


# Entered only by transitions that need a reason, which the author is shown.
REASONED_STATES = (states.REJECTED, states.CHANGES_REQUESTED, states.HIDDEN)
# Published, or hidden after being published: either has a first publication date.
ONCE_PUBLIC_STATES = (states.PUBLISHED, states.HIDDEN)


class Reportable:
    """What ideas and comments share as content that people report and staff hide.

    Each kind keeps its own lifecycle table in states.py, with a "hidden" state that
    "hide" enters and "restore" leaves; states.apply_moderation moves either kind
    through its own. Open reports (moderation's Flag rows) are counted here, and keep
    the item in the moderation queue.
    """

    # "idea" or "comment": how flags, the queue and e-mail templates name the kind.
    kind: ClassVar[str]
    # The state people see and may report, the one that "hide" leaves.
    visible_state: ClassVar[str]
    # Put before a staff action's name in the audit trail ("comment_hide").
    audit_prefix: ClassVar[str]

    open_flag_count: Mapped[int] = mapped_column(default=0)
    # Set while the item waits in the moderation queue (pending or flagged), oldest first.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    @property
    def root_idea(self) -> "Idea":
        """The idea this item is, or is on."""
        raise NotImplementedError

    @property
    def subjects(self) -> dict:
        """The idea and the comment (or None) that records and e-mails about it name."""
        raise NotImplementedError

    @property
    def agency_id(self) -> int:
        return self.root_idea.challenge.agency_id

    @property
    def is_visible(self) -> bool:
        return self.moderation_state == self.visible_state

    @property
    def is_hidden(self) -> bool:
        return self.moderation_state == states.HIDDEN


idea_tags = db.Table(
    "idea_tags",
    Column("idea_id", Integer, ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Idea(Reportable, TimestampMixin, db.Model):
    __tablename__ = "ideas"
    __table_args__ = (
        CheckConstraint(
            _in("moderation_state", states.MODERATION_STATES), name="moderation_state"
        ),
        CheckConstraint(_in("decision", states.DECISIONS), name="decision"),
        CheckConstraint(
            f"pipeline_stage IS NULL OR {_in('pipeline_stage', states.PIPELINE_STAGES)}",
            name="pipeline_stage",
        ),
        CheckConstraint("vote_count >= 0 AND comment_count >= 0", name="counters"),
        # What the transitions of states.py guarantee, refused to every other writer too.
        CheckConstraint(
            f"(moderation_state = '{states.MERGED}') = (merged_into_id IS NOT NULL)",
            name="merged_has_target",
        ),
        CheckConstraint(
            f"{_in('moderation_state', REASONED_STATES, 'NOT IN')} "
            "OR moderation_reason IS NOT NULL",
            name="reason_required",
        ),
        CheckConstraint(
            f"{_in('moderation_state', ONCE_PUBLIC_STATES, 'NOT IN')} OR published_at IS NOT NULL",
            name="published_has_date",
        ),
        CheckConstraint(
            f"decision = '{states.NO_DECISION}' "
            "OR (decision_response IS NOT NULL AND decided_at IS NOT NULL)",
            name="decided_has_response",
        ),
        CheckConstraint(
            f"(decision = '{states.ACCEPTED}') = (pipeline_stage IS NOT NULL)",
            name="accepted_has_stage",
        ),
        # One index per sort order of the challenge page (published ideas only).
        Index("ix_ideas_by_votes", "challenge_id", "moderation_state", "vote_count", "id"),
        Index("ix_ideas_by_newest", "challenge_id", "moderation_state", "published_at", "id"),
        Index("ix_ideas_by_comments", "challenge_id", "moderation_state", "comment_count", "id"),
        # The export API pages through changes in (updated_at, id) order.
        Index("ix_ideas_by_update", "updated_at", "id"),
        # Merged ideas are found from their target; SQLite's foreign-key checks use it too
        # each time an idea row is locked or deleted.
        Index("ix_ideas_merged_into", "merged_into_id"),
        UniqueConstraint("author_id", "submission_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)
    # Rendered and sanitized once when the body changes; pages and exports print it.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Plain-text start of the body, stored so lists never render Markdown per row.
    excerpt: Mapped[str] = mapped_column(String(EXCERPT_MAX + 1), default="")
    location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    moderation_state: Mapped[str] = mapped_column(String(20))
    moderation_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id"))
    decision: Mapped[str] = mapped_column(String(16), default="none")
    decision_response: Mapped[str | None] = mapped_column(Text)
    decision_response_html: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pipeline_stage: Mapped[str | None] = mapped_column(String(16))
    external_ref: Mapped[str | None] = mapped_column(String(120))
    vote_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)
    submission_key: Mapped[str | None] = mapped_column(String(SUBMISSION_KEY_MAX))

    challenge = relationship("Challenge")
    author = relationship("User")
    tags: Mapped[list[Tag]] = relationship(secondary=idea_tags, order_by=Tag.name)
    merged_into = relationship("Idea", remote_side="Idea.id")
    risk_flags = relationship("RiskFlag", order_by="RiskFlag.kind", cascade="all, delete-orphan")
    pipeline_events = relationship(
        "PipelineEvent",
        order_by="(PipelineEvent.created_at, PipelineEvent.id)",
        cascade="all, delete-orphan",
    )

    kind = "idea"
    visible_state = states.PUBLISHED
    audit_prefix = ""

    def __repr__(self) -> str:
        return f"<Idea {self.id} {self.moderation_state}>"

    @property
    def root_idea(self) -> "Idea":
        return self

    @property
    def subjects(self) -> dict:
        return {"idea": self, "comment": None}

    def set_body(self, body: str, body_html: str) -> None:
        """Store the Markdown with its rendered HTML (from text.render_markdown)."""
        self.body = body
        self.body_html = body_html
        self.excerpt = plain_excerpt(body_html, EXCERPT_MAX)

    @property
    def is_published(self) -> bool:
        return self.moderation_state == states.PUBLISHED

    @property
    def state_label(self):
        return states.STATE_LABELS[self.moderation_state]

    @property
    def decision_label(self):
        return states.DECISION_LABELS[self.decision]

    @property
    def stage_label(self):
        return states.STAGE_LABELS.get(self.pipeline_stage, "")


class PipelineEvent(db.Model):
    """One step of an accepted idea through the agency's pipeline, shown publicly."""

    __tablename__ = "pipeline_events"
    __table_args__ = (Index("ix_pipeline_events_idea", "idea_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    note_html: Mapped[str] = mapped_column(Text, default="")
    external_ref: Mapped[str | None] = mapped_column(String(120))
    # The staff member who moved it, or None when an agency system did through the API.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    def __repr__(self) -> str:
        return f"<PipelineEvent {self.idea_id} {self.stage}>"


class Vote(db.Model):
    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("idea_id", "voter_id"),
        Index("ix_votes_voter_challenge", "voter_id", "challenge_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Copied from the idea so a challenge's vote limit is one indexed count.
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    def __repr__(self) -> str:
        return f"<Vote {self.voter_id}→{self.idea_id}>"


class Comment(Reportable, TimestampMixin, db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_idea_created", "idea_id", "created_at", "id"),
        UniqueConstraint("author_id", "submission_key"),
        CheckConstraint(_in("moderation_state", states.COMMENT_STATES), name="moderation_state"),
        CheckConstraint(
            f"moderation_state <> '{states.COMMENT_HIDDEN}' OR moderation_reason IS NOT NULL",
            name="hidden_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    moderation_state: Mapped[str] = mapped_column(String(20), default=states.VISIBLE)
    # Why a moderator hid it, which its author is shown.
    moderation_reason: Mapped[str | None] = mapped_column(Text)
    submission_key: Mapped[str | None] = mapped_column(String(SUBMISSION_KEY_MAX))

    author = relationship("User")
    idea = relationship("Idea")

    kind = "comment"
    visible_state = states.VISIBLE
    audit_prefix = "comment_"

    def __repr__(self) -> str:
        return f"<Comment {self.id} on {self.idea_id}>"

    @property
    def root_idea(self) -> Idea:
        return self.idea

    @property
    def subjects(self) -> dict:
        return {"idea": self.idea, "comment": self}
