"""Read-side queries for the public idea lists, and the one rule that says which ideas
an outcome filter ("accepted", "in progress", …) holds."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from engage.agencies.models import Agency
from engage.challenges.models import Challenge, Tag
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Comment, Idea, PipelineEvent

IDEA_SORTS = {
    "votes": (Idea.vote_count.desc(), Idea.id.desc()),
    "newest": (Idea.published_at.desc(), Idea.id.desc()),
    "discussed": (Idea.comment_count.desc(), Idea.id.desc()),
}

# Decisions that answer an idea for good; shortlisted ideas still wait for one.
ANSWERED_DECISIONS = (states.ACCEPTED, states.DECLINED)
# Accepted ideas being worked on: past the backlog, not yet implemented or discontinued.
IN_PROGRESS_STAGES = ("concept", "validation", "development", "deployment")

# The outcome filters of idea lists, in the order they are offered.
OUTCOMES = {
    "awaiting": _l("Awaiting an answer"),
    "accepted": states.DECISION_LABELS[states.ACCEPTED],
    "in_progress": _l("In progress"),
    "implemented": states.STAGE_LABELS["implemented"],
    "declined": states.DECISION_LABELS[states.DECLINED],
}


def outcome_condition(outcome: str):
    """The SQL condition on Idea that holds the ideas of an outcome in OUTCOMES.

    Awaiting an answer: no decision yet, or shortlisted. Accepted: in any stage.
    In progress: accepted and between the backlog and implementation. Raises KeyError
    for an unknown outcome (read it with engage.http.choice_arg first).
    """
    return {
        "awaiting": Idea.decision.not_in(ANSWERED_DECISIONS),
        "accepted": Idea.decision == states.ACCEPTED,
        "in_progress": and_(
            Idea.decision == states.ACCEPTED, Idea.pipeline_stage.in_(IN_PROGRESS_STAGES)
        ),
        "implemented": Idea.pipeline_stage == "implemented",
        "declined": Idea.decision == states.DECLINED,
    }[outcome]


def _published_ideas(challenge: Challenge, outcome: str = "", tag: str = ""):
    """The condition for a challenge's published ideas, narrowed by outcome and tag."""
    conditions = [Idea.challenge_id == challenge.id, Idea.moderation_state == states.PUBLISHED]
    if outcome:
        conditions.append(outcome_condition(outcome))
    if tag:
        conditions.append(Idea.tags.any(Tag.name == tag))
    return and_(*conditions)


def published_ideas_page(
    challenge: Challenge, sort: str, page: int, per_page: int, *, outcome: str = "", tag: str = ""
):
    """One page of a challenge's published ideas, optionally of one outcome (OUTCOMES) and
    one tag, with authors and tags loaded."""
    return db.session.scalars(
        select(Idea)
        .where(_published_ideas(challenge, outcome, tag))
        .order_by(*IDEA_SORTS[sort])
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(selectinload(Idea.author), selectinload(Idea.tags))
    ).all()


def count_published_ideas(challenge: Challenge, *, outcome: str = "", tag: str = "") -> int:
    """How many published ideas the challenge holds of this outcome and tag.

    Without a filter the challenge's stored counter answers, with no query.
    """
    if not outcome and not tag:
        return challenge.idea_count
    return db.session.scalar(
        select(func.count(Idea.id)).where(_published_ideas(challenge, outcome, tag))
    )


def _public_answered_ideas():
    """Published ideas of published challenges that have a final answer."""
    return (
        select(Idea)
        .join(Idea.challenge)
        .where(
            Idea.moderation_state == states.PUBLISHED,
            Challenge.published_at.is_not(None),
            Idea.decision.in_(ANSWERED_DECISIONS),
        )
        .options(joinedload(Idea.challenge).joinedload(Challenge.agency))
    )


def recent_answers(limit: int = 5) -> list[Idea]:
    """The public ideas answered (accepted or declined) most recently, newest first."""
    return db.session.scalars(
        _public_answered_ideas().order_by(Idea.decided_at.desc(), Idea.id.desc()).limit(limit)
    ).all()


def recently_implemented(limit: int = 5) -> list[Idea]:
    """The public ideas that reached the implemented stage most recently."""
    reached = (
        select(func.max(PipelineEvent.created_at))
        .where(PipelineEvent.idea_id == Idea.id, PipelineEvent.stage == "implemented")
        .correlate(Idea)
        .scalar_subquery()
    )
    return db.session.scalars(
        _public_answered_ideas()
        .where(Idea.pipeline_stage == "implemented")
        .order_by(reached.desc(), Idea.id.desc())
        .limit(limit)
    ).all()


def outcomes_by_agency() -> list:
    """Per agency with public answers, by name: (name, slug, accepted, implemented,
    answered) counts of its published ideas in published challenges."""

    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return db.session.execute(
        select(
            Agency.name,
            Agency.slug,
            count_where(outcome_condition("accepted")).label("accepted"),
            count_where(outcome_condition("implemented")).label("implemented"),
            func.count(Idea.id).label("answered"),
        )
        .select_from(Idea)
        .join(Challenge, Challenge.id == Idea.challenge_id)
        .join(Agency, Agency.id == Challenge.agency_id)
        .where(
            Idea.moderation_state == states.PUBLISHED,
            Challenge.published_at.is_not(None),
            Idea.decision.in_(ANSWERED_DECISIONS),
        )
        .group_by(Agency.id, Agency.name, Agency.slug)
        .order_by(Agency.name, Agency.id)
    ).all()


def ideas_by_author(author_id: int, limit: int = 100) -> list[Idea]:
    """The author's latest ideas in every state, with their challenges."""
    return db.session.scalars(
        select(Idea)
        .where(Idea.author_id == author_id)
        .options(selectinload(Idea.challenge))
        .order_by(Idea.created_at.desc(), Idea.id.desc())
        .limit(limit)
    ).all()


def comments_on(idea_id: int, limit: int | None = None) -> list[Comment]:
    """The idea's comments, hidden ones included, oldest first, with their authors."""
    return db.session.scalars(
        select(Comment)
        .where(Comment.idea_id == idea_id)
        .options(selectinload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
        .limit(limit)
    ).all()
