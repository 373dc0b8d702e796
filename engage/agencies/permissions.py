"""Who someone is to an agency (loaded once per request), and who may run its
workspace: its admins (and site admins); staff may look."""

from flask import g, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from engage.agencies.models import Membership
from engage.extensions import db


def agency_roles(user) -> dict[int, str]:
    """Return {agency_id: role} for the user, loaded once per request."""
    if user is None or not user.is_authenticated:
        return {}
    cache = g.setdefault("agency_roles", {}) if has_app_context() else {}
    if user.id not in cache:
        rows = db.session.execute(
            select(Membership.agency_id, Membership.role).where(Membership.user_id == user.id)
        )
        cache[user.id] = {agency_id: role for agency_id, role in rows}
    return cache[user.id]


@event.listens_for(Session, "after_flush")
def _forget_cached_roles(session, flush_context) -> None:
    """agency_roles caches memberships per request: drop the cache when they change."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if has_app_context() and any(isinstance(obj, Membership) for obj in changed):
        g.pop("agency_roles", None)


def is_staff_of(user, agency_id: int) -> bool:
    """Site admins and any member (admin or moderator) of the agency."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or agency_id in agency_roles(user)


def is_admin_of(user, agency_id: int) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or agency_roles(user).get(agency_id) == "admin"


def can_manage_agency(user, agency) -> bool:
    """Challenges, decisions, team: the agency's admins and site admins."""
    return is_admin_of(user, agency.id)


def can_view_workspace(user, agency) -> bool:
    """Moderators see the workspace pages and rankings but change nothing there."""
    return is_staff_of(user, agency.id)


def is_site_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_admin)
