"""Use cases of citizen participation: submit, edit and withdraw ideas, vote, comment.

The person acting is a party to each action, so each service checks that they may
take part in it now (the same predicate the views show: the phase, the idea's state,
their account), whoever calls; it changes the models, keeps the stored counters in the
same transaction, and flushes; the caller commits. A change of
an existing idea locks its row first, so simultaneous requests take turns; a form sent
twice with the same submission key creates one idea or comment.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from engage.auth.models import User
from engage.challenges.models import Challenge
from engage.challenges.tags import parse_tags, resolve_tags
from engage.db import insert_for, lock
from engage.errors import LimitReached, ValidationFailed
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Comment, Idea, Vote
from engage.ideas.permissions import (
    can_comment_idea,
    can_edit_idea,
    can_submit_idea,
    can_vote_idea,
    can_withdraw_idea,
)
from engage.permissions import require
from engage.text import render_written


def _already_submitted(model, author: User, submission_key: str | None, body: str):
    """The row this author already created with this form, if any.

    The same key with another text is a form reused from the browser's history:
    refused, so that it neither creates a second row nor passes for the first.
    """
    if not submission_key:
        return None
    existing = db.session.scalar(
        select(model).where(model.author_id == author.id, model.submission_key == submission_key)
    )
    if existing is not None and existing.body != body:
        raise ValidationFailed(
            _l("This form was already sent. Open the page again to write another one.")
        )
    return existing


def _insert_once(row, submission_key: str | None, enter=lambda: None):
    """Insert a new idea or comment (after `enter`, which may change counters); if a
    simultaneous request with the same submission key got there first, undo both and
    return that one instead: the unique constraint decides the race."""
    try:
        with db.session.begin_nested():
            enter()
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        existing = _already_submitted(type(row), row.author, submission_key, row.body)
        if existing is None:
            raise
        return existing
    return row


def submit_idea(
    author: User,
    challenge: Challenge,
    *,
    title: str,
    body: str,
    tags: str = "",
    location: str | None = None,
    submission_key: str | None = None,
    now: datetime | None = None,
) -> Idea:
    """Create an idea: pending under pre-moderation, else published at once.

    A form sent again with the same `submission_key` returns the idea it created.
    Raises NotPermitted outside the open phase or for someone who may not take part,
    ValidationFailed for bad tags or a text over the rendering limits.
    """
    require(can_submit_idea(author, challenge, now))
    existing = _already_submitted(Idea, author, submission_key, body)
    if existing is not None:
        return existing
    idea = Idea(
        challenge=challenge,
        author=author,
        title=title.strip(),
        location=(location or "").strip() or None,
        tags=resolve_tags(parse_tags(tags)),
        submission_key=submission_key or None,
    )
    idea.set_body(body, render_written(body, "body"))
    return _insert_once(
        idea,
        submission_key,
        enter=lambda: states.enter_initial_state(idea, challenge.is_pre_moderated),
    )


def edit_idea(
    author: User,
    idea: Idea,
    *,
    title: str,
    body: str,
    tags: str = "",
    location: str | None = None,
    now: datetime | None = None,
) -> None:
    """Change an idea's text; an idea sent back for changes returns to the queue."""
    lock(idea)
    require(can_edit_idea(author, idea, now))
    idea.title = title.strip()
    idea.set_body(body, render_written(body, "body"))
    idea.location = (location or "").strip() or None
    idea.tags = resolve_tags(parse_tags(tags))
    if idea.moderation_state == states.CHANGES_REQUESTED:
        states.apply_transition(idea, "resubmit")
    db.session.flush()


def withdraw_idea(author: User, idea: Idea, now: datetime | None = None) -> None:
    """Take an idea back; it leaves public lists but keeps its history."""
    lock(idea)
    require(can_withdraw_idea(author, idea, now))
    states.apply_transition(idea, "withdraw")
    db.session.flush()


def _votes_used(voter: User, challenge: Challenge) -> int:
    """How many of the voter's votes count against the challenge's vote limit (one query).

    Votes on ideas that left (withdrawn, hidden, merged) no longer use the quota.
    """
    return db.session.scalar(
        select(func.count(Vote.id))
        .join(Idea, Idea.id == Vote.idea_id)
        .where(
            Vote.voter_id == voter.id,
            Vote.challenge_id == challenge.id,
            Idea.moderation_state == states.PUBLISHED,
        )
    )


def _votes_used_up(limit: int):
    return _l(
        "You have used all %(limit)d of your votes in this challenge. "
        "Take one back to vote for this idea.",
        limit=limit,
    )


@dataclass(frozen=True)
class VotesLeft:
    """A person's votes in a challenge that limits them: the limit and how many are used."""

    limit: int
    used: int

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def reason(self):
        """Why this person cannot vote for one more idea (what cast_vote would raise)."""
        return _votes_used_up(self.limit)


def votes_left(user, challenge: Challenge, now: datetime | None = None) -> VotesLeft | None:
    """The person's votes left in the challenge (one query), or None when the challenge
    has no vote limit, takes no votes now, or the person is not signed in."""
    if challenge.vote_limit is None or user is None or not user.is_authenticated:
        return None
    if not challenge.rules(now).vote:
        return None
    return VotesLeft(challenge.vote_limit, _votes_used(user, challenge))


def cast_vote(voter: User, idea: Idea, now: datetime | None = None) -> bool:
    """Add the voter's vote; return False if it was already there.

    The count rises in SQL only when a row was really inserted, so it never drifts.
    The idea's row is locked first (a merge or hiding waits for the vote, or the vote
    for them); with a vote limit the voter's row too, so concurrent votes cannot both
    pass the check. Raises NotPermitted or LimitReached.
    """
    lock(idea)
    require(can_vote_idea(voter, idea, now))
    challenge = idea.challenge
    if challenge.vote_limit is not None:
        db.session.execute(select(User.id).where(User.id == voter.id).with_for_update())
        already = db.session.scalar(
            select(Vote.id).where(Vote.idea_id == idea.id, Vote.voter_id == voter.id)
        )
        if already is not None:
            return False
        if _votes_used(voter, challenge) >= challenge.vote_limit:
            raise LimitReached(_votes_used_up(challenge.vote_limit))
    # RETURNING tells whether a row went in; rowcount cannot: with implicit RETURNING,
    # PostgreSQL drivers report -1 whether the row was inserted or skipped.
    inserted = db.session.scalar(
        insert_for(db.session, Vote)
        .values(idea_id=idea.id, voter_id=voter.id, challenge_id=challenge.id)
        .on_conflict_do_nothing()
        .returning(Vote.id)
    )
    if inserted is not None:
        _add_to_counter(idea, Idea.vote_count, 1)
    return inserted is not None


def withdraw_vote(voter: User, idea: Idea, now: datetime | None = None) -> bool:
    """Take the voter's vote back; return False if there was none."""
    lock(idea)
    require(can_vote_idea(voter, idea, now))
    deleted = db.session.execute(
        delete(Vote).where(Vote.idea_id == idea.id, Vote.voter_id == voter.id)
    ).rowcount
    if deleted == 1:
        _add_to_counter(idea, Idea.vote_count, -1)
    return deleted == 1


def add_comment(
    author: User,
    idea: Idea,
    body: str,
    now: datetime | None = None,
    *,
    submission_key: str | None = None,
) -> Comment:
    """Comment on a published idea while the challenge takes comments.

    A form sent again with the same `submission_key` returns the comment it created.
    Raises NotPermitted, ValidationFailed (a text over the rendering limits).
    """
    require(can_comment_idea(author, idea, now))
    body = body.strip()
    existing = _already_submitted(Comment, author, submission_key, body)
    if existing is not None:
        return existing
    comment = Comment(
        idea_id=idea.id,
        author=author,
        body=body,
        body_html=render_written(body, "body"),
        submission_key=submission_key or None,
    )
    inserted = _insert_once(comment, submission_key)
    if inserted is comment:
        _add_to_counter(idea, Idea.comment_count, 1)
    return inserted


def _add_to_counter(idea: Idea, column, delta: int) -> None:
    db.session.execute(
        update(Idea)
        .where(Idea.id == idea.id)
        .values({column: column + delta})
        .execution_options(synchronize_session=False)
    )
    db.session.expire(idea, [column.key])


def voted_idea_ids(user, idea_ids: list[int]) -> set[int]:
    """Return which of these ideas the user has voted for (one query)."""
    if not idea_ids or user is None or not user.is_authenticated:
        return set()
    return set(
        db.session.scalars(
            select(Vote.idea_id).where(Vote.voter_id == user.id, Vote.idea_id.in_(idea_ids))
        )
    )
