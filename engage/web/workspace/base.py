"""The workspace blueprint and its loaders: an agency's pages answer 404 to anyone
who is not on its staff (or a site admin); changes need the agency's admin role."""

from flask import Blueprint, abort, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.agencies.models import Agency
from engage.agencies.permissions import can_manage_agency, can_view_workspace
from engage.challenges.models import Challenge
from engage.errors import DomainError
from engage.extensions import db
from engage.ideas.models import Idea

bp = Blueprint("workspace", __name__)

IDEA_ID = "<int(max=2147483647):idea_id>"
MEMBER_ID = "<int(max=2147483647):member_id>"


def agency_for_staff(slug: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    if agency is None or not can_view_workspace(current_user, agency):
        abort(404)
    return agency


def require_admin(agency: Agency) -> None:
    """403 unless the person runs the agency (its staff may look, not change)."""
    if not can_manage_agency(current_user, agency):
        abort(403, description=_("Only the agency's admins can do this."))


def agency_for_admin(slug: str) -> Agency:
    agency = agency_for_staff(slug)
    require_admin(agency)
    return agency


def challenge_of(agency: Agency, challenge_slug: str) -> Challenge:
    challenge = db.session.scalar(
        select(Challenge).where(Challenge.slug == challenge_slug, Challenge.agency_id == agency.id)
    )
    if challenge is None:
        abort(404)
    return challenge


def idea_of(agency: Agency, idea_id: int) -> Idea:
    idea = db.session.scalar(
        select(Idea)
        .where(Idea.id == idea_id)
        .options(selectinload(Idea.challenge), selectinload(Idea.pipeline_events))
    )
    if idea is None or idea.challenge.agency_id != agency.id:
        abort(404)
    return idea


def apply_change(change, message: str, back: str):
    """Run a one-button change, commit it or flash why not, and go back."""
    try:
        change()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(back)


def owned(agency: Agency, model, object_id: int):
    """The agency's row of `model`, or 404 (also for another agency's)."""
    row = db.session.get(model, object_id)
    if row is None or row.agency_id != agency.id:
        abort(404)
    return row
