"""Running challenges: create, edit, publish, close and delete them.

Who may (the agency's admins) is the caller's to check, with agencies.permissions;
every rule of the challenge itself is checked here whoever calls.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engage.challenges.models import Challenge
from engage.challenges.tags import parse_tags, resolve_tags
from engage.db import lock, now_utc
from engage.errors import InvalidTransition, NotPermitted, ValidationFailed
from engage.extensions import db
from engage.text import render_written, slugify


def _unique_slug(title: str, challenge_id: int | None) -> str:
    base = slugify(title)
    slug, number = base, 1
    while db.session.scalar(
        select(Challenge.id).where(Challenge.slug == slug, Challenge.id != (challenge_id or 0))
    ):
        number += 1
        slug = f"{base}-{number}"
    return slug


def _check_timeline(
    opens_at: datetime, submissions_close_at: datetime, voting_closes_at: datetime
) -> None:
    if not opens_at < submissions_close_at:
        raise ValidationFailed(
            _l("Ideas must close after the challenge opens."), "submissions_close_at"
        )
    if not submissions_close_at <= voting_closes_at:
        raise ValidationFailed(_l("Voting cannot close before ideas close."), "voting_closes_at")


def save_challenge(
    actor,
    agency,
    challenge: Challenge | None = None,
    *,
    title: str,
    summary: str,
    body: str,
    tags: str,
    opens_at: datetime,
    submissions_close_at: datetime,
    voting_closes_at: datetime,
    moderation_mode: str,
    vote_limit: int | None,
    allow_business: bool,
) -> Challenge:
    """Create a draft challenge, or change one. Raises NotPermitted (another agency's
    challenge), ValidationFailed."""
    if challenge is not None and challenge.agency_id != agency.id:
        raise NotPermitted(_l("This challenge belongs to another agency."))
    _check_timeline(opens_at, submissions_close_at, voting_closes_at)
    if moderation_mode not in ("pre", "post"):
        raise ValidationFailed(_l("Choose how ideas are moderated."), "moderation_mode")
    if vote_limit is not None and vote_limit < 1:
        raise ValidationFailed(_l("The vote limit must be at least 1, or empty."), "vote_limit")
    body_html = render_written(body, "body")
    tag_rows = resolve_tags(parse_tags(tags))
    if challenge is None:
        challenge = Challenge(agency=agency, slug=_unique_slug(title, None))
        db.session.add(challenge)
    else:
        lock(challenge)
    challenge.title = title.strip()
    challenge.summary = summary.strip()
    challenge.body = body
    challenge.body_html = body_html
    challenge.tags = tag_rows
    challenge.opens_at = opens_at
    challenge.submissions_close_at = submissions_close_at
    challenge.voting_closes_at = voting_closes_at
    challenge.moderation_mode = moderation_mode
    challenge.vote_limit = vote_limit
    challenge.allow_business = allow_business
    db.session.flush()
    return challenge


def publish_challenge(actor, challenge: Challenge) -> None:
    """Make a draft public; it opens for ideas at its `opens_at`."""
    lock(challenge)
    if challenge.published_at is not None:
        raise InvalidTransition(_l("This challenge is already published."))
    challenge.published_at = now_utc()
    db.session.flush()


def close_challenge(actor, challenge: Challenge) -> None:
    """End a published challenge now: no more ideas, votes or comments."""
    lock(challenge)
    if challenge.published_at is None:
        raise InvalidTransition(_l("A draft cannot be closed; delete it instead."))
    if challenge.closed_at is not None:
        raise InvalidTransition(_l("This challenge is already closed."))
    challenge.closed_at = now_utc()
    db.session.flush()


def delete_challenge(actor, challenge: Challenge) -> None:
    """Delete a challenge that has no ideas; one with ideas can only be closed."""
    lock(challenge)
    try:
        with db.session.begin_nested():
            db.session.delete(challenge)
    except IntegrityError:  # its ideas still point to it
        raise InvalidTransition(
            _l("A challenge with ideas cannot be deleted. Close it instead.")
        ) from None
