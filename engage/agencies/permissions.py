"""Who may run an agency's workspace: its admins (and site admins); staff may look."""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from engage.permissions import ALLOWED, Verdict, deny, is_admin_of, is_staff_of


def can_manage_agency(user, agency) -> bool:
    """Challenges, decisions, team: the agency's admins and site admins."""
    return is_admin_of(user, agency.id)


def can_view_workspace(user, agency) -> bool:
    """Moderators see the workspace pages and rankings but change nothing there."""
    return is_staff_of(user, agency.id)


def can_decide_idea(user, idea, now: datetime | None = None) -> Verdict:
    """Shortlist, accept or decline: the agency's admins, while the challenge's phase
    allows decisions (its `decide` rule: not once it is closed)."""
    if not is_admin_of(user, idea.challenge.agency_id):
        return deny(_l("Only the agency's admins can decide on its ideas."))
    if not idea.challenge.rules(now).decide:
        return deny(_l("This challenge is closed: decisions on its ideas can no longer be taken."))
    return ALLOWED


def is_site_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_admin)
