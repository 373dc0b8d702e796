"""Read side of moderation: the agency's queue with everything a row shows."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from engage.audit import ModerationAction
from engage.challenges.models import Challenge
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Comment, Idea, Reportable
from engage.moderation.models import Flag

QUEUE_KINDS = ("pending", "flagged_ideas", "flagged_comments")
QUEUE_LIMIT = 200
SIMILAR_PER_ROW = 3
# Short and common words say nothing about whether two titles mean the same thing.
STOP_WORDS = frozenset(
    "about after also and are for from have into more most not our that the their them "
    "then there these this those with your pour dans avec sans plus les des une sur par "
    "para con por las los una del".split()
)


@dataclass
class QueueRow:
    kind: str
    item: object
    idea: Idea
    queued_at: datetime
    flags: list = field(default_factory=list)
    similar: list = field(default_factory=list)

    def age(self, now: datetime) -> timedelta:
        return now - self.queued_at

    def is_overdue(self, now: datetime, target_hours: int) -> bool:
        return self.age(now) > timedelta(hours=target_hours)


def _row(item: Reportable) -> QueueRow:
    return QueueRow(item.kind, item, item.root_idea, item.queued_at)


def _agency_ideas(agency_id: int, challenge_id: int | None):
    query = select(Idea).join(Challenge).where(Challenge.agency_id == agency_id)
    return query.where(Idea.challenge_id == challenge_id) if challenge_id else query


def queue_counts(agency_id: int) -> dict[str, int]:
    """How many items of each kind wait in the agency's queue (two queries)."""
    pending = func.sum(case((Idea.moderation_state == states.PENDING, 1), else_=0))
    flagged = func.sum(case((Idea.open_flag_count > 0, 1), else_=0))
    ideas = db.session.execute(
        select(pending, flagged)
        .join(Challenge)
        .where(Challenge.agency_id == agency_id, Idea.queued_at.is_not(None))
    ).one()
    comments = db.session.scalar(
        select(func.count(Comment.id))
        .join(Idea)
        .join(Challenge)
        .where(Challenge.agency_id == agency_id, Comment.queued_at.is_not(None))
    )
    return {
        "pending": ideas[0] or 0,
        "flagged_ideas": ideas[1] or 0,
        "flagged_comments": comments or 0,
    }


def moderation_queue(
    agency_id: int, *, challenge_id: int | None = None, kind: str = "", limit: int = QUEUE_LIMIT
) -> list[QueueRow]:
    """The agency's waiting items, oldest first, in a constant number of queries."""
    rows: list[QueueRow] = []
    if kind in ("", "pending", "flagged_ideas"):
        query = _agency_ideas(agency_id, challenge_id).where(Idea.queued_at.is_not(None))
        if kind == "pending":
            query = query.where(Idea.moderation_state == states.PENDING)
        elif kind == "flagged_ideas":
            query = query.where(Idea.open_flag_count > 0)
        ideas = db.session.scalars(
            query.options(
                selectinload(Idea.author),
                selectinload(Idea.risk_flags),
                selectinload(Idea.challenge),
            )
            .order_by(Idea.queued_at, Idea.id)
            .limit(limit)
        ).all()
        rows += [_row(idea) for idea in ideas]
    if kind in ("", "flagged_comments"):
        query = (
            select(Comment)
            .join(Idea)
            .join(Challenge)
            .where(Challenge.agency_id == agency_id, Comment.queued_at.is_not(None))
        )
        if challenge_id:
            query = query.where(Idea.challenge_id == challenge_id)
        comments = db.session.scalars(
            query.options(
                selectinload(Comment.author),
                selectinload(Comment.idea).selectinload(Idea.challenge),
            )
            .order_by(Comment.queued_at, Comment.id)
            .limit(limit)
        ).all()
        rows += [_row(comment) for comment in comments]
    rows.sort(key=lambda row: row.queued_at)
    rows = rows[:limit]
    _attach_flags(rows)
    attach_similar(rows)
    return rows


def _attach_flags(rows: list[QueueRow]) -> None:
    """Give each row the open reports of its item (one query)."""
    flagged: dict[str, list[int]] = {}
    for row in rows:
        if row.item.open_flag_count:
            flagged.setdefault(row.kind, []).append(row.item.id)
    if not flagged:
        return
    flags = db.session.scalars(
        select(Flag)
        .where(
            Flag.resolved_at.is_(None),
            or_(*(Flag.column_for(kind).in_(ids) for kind, ids in flagged.items())),
        )
        .order_by(Flag.created_at)
    ).all()
    by_target: dict[tuple, list] = {}
    for flag in flags:
        by_target.setdefault(flag.target, []).append(flag)
    for row in rows:
        row.flags = by_target.get((row.kind, row.item.id), [])


def title_words(title: str) -> set[str]:
    return {w for w in re.findall(r"\w{4,}", title.lower()) if w not in STOP_WORDS}


def attach_similar(rows: list[QueueRow]) -> None:
    """Find ideas of the same challenge sharing title words with each idea row (one query)."""
    idea_rows = [r for r in rows if r.kind == "idea"]
    words = set().union(*(title_words(r.idea.title) for r in idea_rows)) if idea_rows else set()
    if not words:
        return
    challenge_ids = {r.idea.challenge_id for r in idea_rows}
    candidates = db.session.execute(
        select(Idea.id, Idea.challenge_id, Idea.title, Idea.moderation_state)
        .where(
            Idea.challenge_id.in_(challenge_ids),
            Idea.moderation_state.in_([states.PUBLISHED, states.PENDING]),
            or_(
                *(
                    func.lower(Idea.title).contains(word, autoescape=True)
                    for word in sorted(words)[:50]
                )
            ),
        )
        .order_by(Idea.vote_count.desc(), Idea.id)
        .limit(500)
    ).all()
    for row in idea_rows:
        own = title_words(row.idea.title)
        scored = [
            (len(own & title_words(c.title)), c)
            for c in candidates
            if c.challenge_id == row.idea.challenge_id and c.id != row.idea.id
        ]
        scored = [pair for pair in scored if pair[0] > 0]
        scored.sort(key=lambda pair: -pair[0])
        row.similar = [c for _, c in scored[:SIMILAR_PER_ROW]]


def idea_history(idea_id: int) -> list[ModerationAction]:
    """The audit trail of an idea and its comments, oldest first."""
    return db.session.scalars(
        select(ModerationAction)
        .where(ModerationAction.idea_id == idea_id)
        .options(selectinload(ModerationAction.actor))
        .order_by(ModerationAction.created_at, ModerationAction.id)
    ).all()


def open_flags_for(*, idea_id: int | None = None, comment_ids=()) -> list[Flag]:
    return db.session.scalars(
        select(Flag)
        .where(
            Flag.resolved_at.is_(None),
            or_(Flag.idea_id == idea_id, Flag.comment_id.in_(list(comment_ids))),
        )
        .order_by(Flag.created_at)
    ).all()


def agency_challenges(agency_id: int):
    return db.session.execute(
        select(Challenge.id, Challenge.title)
        .where(Challenge.agency_id == agency_id)
        .order_by(Challenge.title)
    ).all()
