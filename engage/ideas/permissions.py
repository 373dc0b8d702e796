"""Who may see, submit, edit, vote on and comment on ideas, given the challenge's phase."""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from engage.agencies.permissions import is_admin_of, is_staff_of
from engage.ideas import states
from engage.permissions import ALLOWED, Verdict, deny


def can_view_challenge(user, challenge, now: datetime | None = None) -> bool:
    """Published challenges are public; drafts only for the agency's staff."""
    return challenge.rules(now).public or is_staff_of(user, challenge.agency_id)


def can_view_idea(user, idea, now: datetime | None = None) -> bool:
    """Published and merged ideas are public; others only for their author and staff."""
    if not can_view_challenge(user, idea.challenge, now):
        return False
    if idea.moderation_state in (states.PUBLISHED, states.MERGED):
        return True
    if user is not None and user.is_authenticated and user.id == idea.author_id:
        return True
    return is_staff_of(user, idea.challenge.agency_id)


def can_participate(user, challenge) -> Verdict:
    """Signed in, active, verified, and of an account type the challenge admits."""
    if user is None or not user.is_authenticated:
        return deny(_l("Sign in to take part."))
    if user.suspended_at is not None:
        return deny(_l("Your account is suspended."))
    if not user.is_verified:
        return deny(
            _l("Confirm your e-mail address to take part. We sent you a link when you registered.")
        )
    if user.is_business and not challenge.allow_business:
        return deny(_l("This challenge is open to citizens only."))
    return ALLOWED


def can_submit_idea(user, challenge, now: datetime | None = None) -> Verdict:
    if not challenge.rules(now).submit:
        return deny(_l("This challenge is not accepting ideas now."))
    return can_participate(user, challenge)


def can_vote_idea(user, idea, now: datetime | None = None) -> Verdict:
    """Vote, or take a vote back, on a published idea while the challenge takes votes."""
    if not idea.is_published:
        return deny(_l("Only published ideas can receive votes."))
    if not idea.challenge.rules(now).vote:
        return deny(_l("Voting is closed for this challenge."))
    return can_participate(user, idea.challenge)


def can_comment_idea(user, idea, now: datetime | None = None) -> Verdict:
    if not idea.is_published:
        return deny(_l("Only published ideas can be discussed."))
    if not idea.challenge.rules(now).comment:
        return deny(_l("Comments are closed for this challenge."))
    return can_participate(user, idea.challenge)


def _is_author(user, idea) -> bool:
    return user is not None and user.is_authenticated and user.id == idea.author_id


def can_edit_idea(user, idea, now: datetime | None = None) -> Verdict:
    """The author edits while the idea waits for moderation or changes were requested."""
    if not _is_author(user, idea):
        return deny(_l("Only the author can edit this idea."))
    if idea.moderation_state not in states.EDITABLE_STATES:
        return deny(_l("This idea can no longer be edited."))
    if not idea.challenge.rules(now).edit:
        return deny(_l("This challenge is closed."))
    return ALLOWED


def can_withdraw_idea(user, idea, now: datetime | None = None) -> Verdict:
    if not _is_author(user, idea):
        return deny(_l("Only the author can withdraw this idea."))
    if idea.moderation_state not in states.TRANSITIONS["withdraw"].sources:
        return deny(_l("This idea can no longer be withdrawn."))
    return ALLOWED


DECISIONS_CLOSED = _l("This challenge is closed: decisions on its ideas can no longer be taken.")


def can_decide_idea(user, idea, now: datetime | None = None) -> Verdict:
    """Shortlist, accept or decline: the agency's admins, while the challenge's phase
    allows decisions (its `decide` rule: not once it is closed)."""
    if not is_admin_of(user, idea.challenge.agency_id):
        return deny(_l("Only the agency's admins can decide on its ideas."))
    if not idea.challenge.rules(now).decide:
        return deny(DECISIONS_CLOSED)
    return ALLOWED
