"""Read side of the agency workspace: its challenges and their ranked ideas."""

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from engage.auth.models import User
from engage.challenges.models import Challenge, Tag
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Idea
from engage.moderation.models import RISK_KINDS, RiskFlag

RANKING_PAGE = 50


def agency_challenges(agency_id: int):
    """All the agency's challenges, drafts included, newest first, with the number of
    ideas waiting for moderation and whether it has any idea at all (in any state)."""
    pending = (
        select(func.count(Idea.id))
        .where(Idea.challenge_id == Challenge.id, Idea.moderation_state == states.PENDING)
        .scalar_subquery()
    )
    # Rejected or withdrawn ideas count too: a challenge with ideas can only be closed.
    has_ideas = exists().where(Idea.challenge_id == Challenge.id)
    return db.session.execute(
        select(Challenge, pending, has_ideas)
        .where(Challenge.agency_id == agency_id)
        .order_by(Challenge.opens_at.desc(), Challenge.id.desc())
    ).all()


def ranked_ideas(
    challenge: Challenge,
    *,
    decision: str = "",
    risk: str = "",
    tag: str = "",
    author_type: str = "",
):
    """Published ideas of a challenge, most votes first, filtered (a Select to page or stream)."""
    query = (
        select(Idea)
        .where(Idea.challenge_id == challenge.id, Idea.moderation_state == states.PUBLISHED)
        .order_by(Idea.vote_count.desc(), Idea.id.desc())
    )
    if decision in states.DECISIONS:
        query = query.where(Idea.decision == decision)
    if risk in RISK_KINDS:
        query = query.where(Idea.risk_flags.any(RiskFlag.kind == risk))
    if tag:
        query = query.where(Idea.tags.any(Tag.name == tag.lower()))
    if author_type in ("citizen", "business"):
        query = query.where(Idea.author.has(User.account_type == author_type))
    return query


def ranked_page(query, page: int):
    return db.session.scalars(
        query.options(
            joinedload(Idea.author), selectinload(Idea.tags), selectinload(Idea.risk_flags)
        )
        .limit(RANKING_PAGE)
        .offset((page - 1) * RANKING_PAGE)
    ).all()


def count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def stream_ideas(query, batch: int = 500):
    """Yield the ideas in batches without loading them all at once."""
    return db.session.scalars(
        query.options(
            joinedload(Idea.author), selectinload(Idea.tags), selectinload(Idea.risk_flags)
        ).execution_options(yield_per=batch)
    )
