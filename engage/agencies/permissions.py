"""Who may run an agency's workspace: its admins (and site admins); staff may look."""

from engage.permissions import is_admin_of, is_staff_of


def can_manage_agency(user, agency) -> bool:
    """Challenges, decisions, team: the agency's admins and site admins."""
    return is_admin_of(user, agency.id)


def can_view_workspace(user, agency) -> bool:
    """Moderators see the workspace pages and rankings but change nothing there."""
    return is_staff_of(user, agency.id)


def can_decide_idea(user, idea) -> bool:
    return is_admin_of(user, idea.challenge.agency_id)


def is_site_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_admin)
