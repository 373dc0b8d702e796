"""Read-side queries for the agency pages: agencies with their team sizes, a team, and
which people speak for an agency."""

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from engage.agencies.models import Agency, Invitation, Membership
from engage.extensions import db


def agencies_with_team_sizes() -> list:
    """Every agency with its number of members, by name: (Agency, count) rows."""
    members = (
        select(func.count(Membership.id))
        .where(Membership.agency_id == Agency.id)
        .scalar_subquery()
    )
    return db.session.execute(select(Agency, members).order_by(Agency.name)).all()


def agencies_by_name(ids: list[int] | None = None) -> list[Agency]:
    """The agencies with these ids (every agency for None), by name."""
    query = select(Agency).order_by(Agency.name)
    if ids is not None:
        query = query.where(Agency.id.in_(ids))
    return db.session.scalars(query).all()


def team_members(agency_id: int) -> list[Membership]:
    """The agency's members with their accounts, admins first."""
    return db.session.scalars(
        select(Membership)
        .where(Membership.agency_id == agency_id)
        .options(selectinload(Membership.user))
        .order_by(Membership.role, Membership.id)
    ).all()


def open_invitations(agency_id: int) -> list[Invitation]:
    """Invitations neither accepted nor revoked, newest first."""
    return db.session.scalars(
        select(Invitation)
        .where(
            Invitation.agency_id == agency_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc())
    ).all()


def members_among(agency_id: int, user_ids) -> set[int]:
    """Which of these people are members (admins or moderators) of the agency (one query)."""
    user_ids = set(user_ids)
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.agency_id == agency_id, Membership.user_id.in_(user_ids)
            )
        )
    )
