"""Who may moderate what: staff of the content's agency (site admins everywhere);
signed-in, verified people may flag what they can see."""

from flask_babel import lazy_gettext as _l

from engage.agencies.permissions import is_admin_of, is_staff_of
from engage.permissions import ALLOWED, Verdict, deny


def can_moderate_agency(user, agency) -> bool:
    return is_staff_of(user, agency.id)


def can_moderate_idea(user, idea) -> bool:
    return is_staff_of(user, idea.challenge.agency_id)


def can_moderate_comment(user, comment) -> bool:
    return is_staff_of(user, comment.idea.challenge.agency_id)


def can_set_moderation_target(user, agency) -> Verdict:
    """How long items may wait: the agency's admins decide, moderators see it."""
    if not is_admin_of(user, agency.id):
        return deny(_l("Only the agency's admins can change this."))
    return ALLOWED


def can_flag(user, item) -> Verdict:
    """Report a published idea or a visible comment on one, once, not one's own."""
    if user is None or not user.is_authenticated:
        return deny(_l("Sign in to report content."))
    if not user.is_verified or user.suspended_at is not None:
        return deny(_l("Confirm your e-mail address to report content."))
    if item.author_id == user.id:
        return deny(_l("You cannot report your own contribution."))
    if not (item.is_visible and item.root_idea.is_published):
        return deny(_l("This content is not public."))
    return ALLOWED
