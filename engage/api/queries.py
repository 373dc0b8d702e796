"""Read-side queries of the export API, always within the token's agency."""

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from engage.api.models import IdempotentResponse
from engage.challenges.models import Challenge
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Idea

# What an incremental sync reports: every idea that was once public, in its state now.
SYNCED_STATES = (states.PUBLISHED, states.HIDDEN, states.MERGED, states.WITHDRAWN)


def _idea_loads():
    return (
        joinedload(Idea.author),
        joinedload(Idea.challenge),
        selectinload(Idea.tags),
        selectinload(Idea.risk_flags),
    )


def agency_idea(agency_id: int, idea_id: int) -> Idea | None:
    """The agency's idea with its pipeline history, or None (also for another agency's)."""
    return db.session.scalar(
        select(Idea)
        .join(Challenge)
        .where(Idea.id == idea_id, Challenge.agency_id == agency_id)
        .options(*_idea_loads(), selectinload(Idea.pipeline_events))
    )


def challenge_id(agency_id: int, slug: str) -> int | None:
    return db.session.scalar(
        select(Challenge.id).where(Challenge.slug == slug, Challenge.agency_id == agency_id)
    )


def agency_challenges(agency_id: int) -> list[Challenge]:
    return db.session.scalars(
        select(Challenge)
        .where(Challenge.agency_id == agency_id)
        .options(selectinload(Challenge.tags))
        .order_by(Challenge.opens_at.desc(), Challenge.id.desc())
    ).all()


def ideas_query(agency_id: int, f: dict, settled: datetime):
    """The agency's ideas for the filters `f`, in (updated_at, id) order, changed no later
    than `settled` (so that a page never misses a change still being committed)."""
    incremental = f["since"] is not None or f["cursor"] is not None
    query = (
        select(Idea)
        .join(Challenge)
        .where(
            Challenge.agency_id == agency_id,
            Idea.decision == f["decision"],
            Idea.updated_at <= settled,
        )
        .order_by(Idea.updated_at, Idea.id)
        .options(*_idea_loads())
    )
    if incremental:
        query = query.where(
            Idea.moderation_state.in_(SYNCED_STATES), Idea.published_at.is_not(None)
        )
    else:
        query = query.where(Idea.moderation_state == states.PUBLISHED)
    if f["stage"]:
        query = query.where(Idea.pipeline_stage == f["stage"])
    if f["challenge_id"]:
        query = query.where(Idea.challenge_id == f["challenge_id"])
    if f["since"]:
        query = query.where(Idea.updated_at > f["since"])
    if f["cursor"]:
        updated_at, idea_id = f["cursor"]
        query = query.where(
            or_(
                Idea.updated_at > updated_at,
                and_(Idea.updated_at == updated_at, Idea.id > idea_id),
            )
        )
    return query


def stored_response(token_id: int, key: str) -> IdempotentResponse | None:
    """The answer kept for this token's Idempotency-Key, if any."""
    return db.session.scalar(
        select(IdempotentResponse).where(
            IdempotentResponse.token_id == token_id, IdempotentResponse.key == key
        )
    )
