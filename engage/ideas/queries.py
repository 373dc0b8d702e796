"""Read-side queries for the public idea lists."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.challenges.models import Challenge
from engage.extensions import db
from engage.ideas.models import Comment, Idea

IDEA_SORTS = {
    "votes": (Idea.vote_count.desc(), Idea.id.desc()),
    "newest": (Idea.published_at.desc(), Idea.id.desc()),
    "discussed": (Idea.comment_count.desc(), Idea.id.desc()),
}


def published_ideas_page(challenge: Challenge, sort: str, page: int, per_page: int):
    """One page of a challenge's published ideas with authors and tags loaded."""
    return db.session.scalars(
        select(Idea)
        .where(Idea.challenge_id == challenge.id, Idea.moderation_state == "published")
        .order_by(*IDEA_SORTS[sort])
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(selectinload(Idea.author), selectinload(Idea.tags))
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
