"""Who someone is to an agency, and the Verdict that every can_* predicate returns."""

from dataclasses import dataclass

from flask import abort, g, has_app_context
from sqlalchemy import select

from engage.extensions import db


@dataclass(frozen=True)
class Verdict:
    """The answer of a permission predicate: truthy when allowed, else with a reason."""

    allowed: bool
    reason: object = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Verdict(True)


def deny(reason) -> Verdict:
    return Verdict(False, reason)


def agency_roles(user) -> dict[int, str]:
    """Return {agency_id: role} for the user, loaded once per request."""
    if user is None or not user.is_authenticated:
        return {}
    cache = g.setdefault("agency_roles", {}) if has_app_context() else {}
    if user.id not in cache:
        from engage.agencies.models import Membership

        rows = db.session.execute(
            select(Membership.agency_id, Membership.role).where(Membership.user_id == user.id)
        )
        cache[user.id] = {agency_id: role for agency_id, role in rows}
    return cache[user.id]


def is_staff_of(user, agency_id: int) -> bool:
    """Site admins and any member (admin or moderator) of the agency."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or agency_id in agency_roles(user)


def is_admin_of(user, agency_id: int) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or agency_roles(user).get(agency_id) == "admin"


def require(verdict) -> None:
    """Abort with 403 and the verdict's reason unless it allows."""
    if not verdict:
        abort(403, description=getattr(verdict, "reason", None) or None)
