"""Read-side queries for the public challenge pages."""

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from engage.agencies.models import Agency
from engage.challenges import states
from engage.challenges.models import Challenge, Tag
from engage.extensions import db

# Home and list order: where someone can act now comes first.
PHASE_ORDER = {
    states.OPEN: 0,
    states.VOTING: 1,
    states.UPCOMING: 2,
    states.REVIEW: 3,
    states.CLOSED: 4,
}
LIST_LIMIT = 200


def phase_condition(phase: str, now: datetime):
    """SQL condition equivalent to `states.phase_at(...) == phase` (tested to agree)."""
    not_closed = or_(Challenge.closed_at.is_(None), Challenge.closed_at > now)
    published = Challenge.published_at.is_not(None)
    conditions = {
        states.DRAFT: Challenge.published_at.is_(None),
        states.CLOSED: and_(published, Challenge.closed_at <= now),
        states.UPCOMING: and_(published, not_closed, Challenge.opens_at > now),
        states.OPEN: and_(
            published, not_closed, Challenge.opens_at <= now, Challenge.submissions_close_at > now
        ),
        states.VOTING: and_(
            published,
            not_closed,
            Challenge.submissions_close_at <= now,
            Challenge.voting_closes_at > now,
        ),
        states.REVIEW: and_(published, not_closed, Challenge.voting_closes_at <= now),
    }
    return conditions[phase]


def public_challenges(now: datetime, *, agency: str = "", phase: str = "", tag: str = ""):
    """Published challenges, filtered, in phase order (open first), newest first within."""
    query = (
        select(Challenge)
        .join(Challenge.agency)
        .where(Challenge.published_at.is_not(None))
        .options(selectinload(Challenge.agency), selectinload(Challenge.tags))
        .order_by(Challenge.opens_at.desc(), Challenge.id.desc())
        .limit(LIST_LIMIT)
    )
    if agency:
        query = query.where(Agency.slug == agency)
    if phase in PHASE_ORDER:
        query = query.where(phase_condition(phase, now))
    if tag:
        query = query.where(Challenge.tags.any(Tag.name == tag))
    challenges = db.session.scalars(query).all()
    return sorted(challenges, key=lambda c: PHASE_ORDER[c.phase(now)])


def filter_choices():
    """Agencies and tags that public challenges use, for the filter form."""
    published = Challenge.published_at.is_not(None)
    agencies = db.session.execute(
        select(Agency.slug, Agency.name)
        .where(Agency.id.in_(select(Challenge.agency_id).where(published)))
        .order_by(Agency.name)
    ).all()
    tags = db.session.scalars(
        select(Tag.name)
        .where(Tag.id.in_(select(Challenge.tags.property.secondary.c.tag_id)))
        .order_by(Tag.name)
    ).all()
    return agencies, tags


def challenge_by_slug(slug: str) -> Challenge | None:
    return db.session.scalar(
        select(Challenge)
        .where(Challenge.slug == slug)
        .options(joinedload(Challenge.agency), selectinload(Challenge.tags))
    )
