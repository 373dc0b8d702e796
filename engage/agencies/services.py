"""Agencies and their teams: create agencies, invite people, change roles, suspend accounts.

Who may (site admins, the agency's admins) is the caller's to check with
agencies.permissions; these functions keep the rules of the team itself. Services
flush, never commit; e-mails leave after the caller commits.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from engage import mail
from engage.agencies.models import MEMBER_ROLES, Agency, Invitation, Membership
from engage.auth.models import User
from engage.auth.services import find_user_by_email, normalize_email
from engage.auth.sessions import end_sessions
from engage.db import lock, now_utc
from engage.errors import InvalidTransition, NotPermitted, ValidationFailed
from engage.extensions import db
from engage.text import slugify

INVITATION_SALT = "agency-invitation"
INVITATION_MAX_AGE = 7 * 24 * 3600


def create_agency(
    actor,
    *,
    name: str,
    slug: str | None,
    description: str = "",
    website: str | None = None,
    first_admin_email: str,
) -> Agency:
    """Create an agency and invite (or appoint) its first admin."""
    slug = slugify(slug or name, fallback="agency")
    if db.session.scalar(select(Agency.id).where(Agency.slug == slug)):
        raise ValidationFailed(_l("Another agency already uses this address."), "slug")
    agency = Agency(
        name=name.strip(),
        slug=slug,
        description=description.strip(),
        website=(website or "").strip() or None,
    )
    db.session.add(agency)
    db.session.flush()
    invite_member(actor, agency, first_admin_email, "admin")
    return agency


def invite_member(actor, agency: Agency, email: str, role: str) -> Invitation:
    """E-mail a signed link that adds the person to the team once they accept.

    Raises ValidationFailed (unknown role, already a member).
    """
    if role not in MEMBER_ROLES:
        raise ValidationFailed(_l("Choose admin or moderator."), "role")
    email = normalize_email(email)
    existing = find_user_by_email(email)
    if existing is not None and _membership(agency, existing) is not None:
        raise ValidationFailed(_l("This person is already in the team."), "email")
    invitation = Invitation(agency=agency, email=email, role=role, invited_by_id=actor.id)
    db.session.add(invitation)
    db.session.flush()
    recipient = existing or User(email=email, display_name=email.split("@")[0], locale=None)
    mail.send_to_user(
        recipient,
        "invitation",
        agency=agency,
        invitation=invitation,
        token=invitation_token(invitation),
        inviter=actor,
        has_account=existing is not None,
    )
    return invitation


def invitation_token(invitation: Invitation) -> str:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)
    return serializer.dumps({"i": invitation.id, "e": invitation.email})


def load_invitation(token: str) -> Invitation:
    """The open invitation a link stands for. Raises ValidationFailed if it is not one."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)
    invalid = ValidationFailed(_l("This invitation is invalid or has already been used."))
    try:
        payload = serializer.loads(token, max_age=INVITATION_MAX_AGE)
    except SignatureExpired:
        raise ValidationFailed(_l("This invitation has expired. Ask for a new one.")) from None
    except BadSignature:
        raise invalid from None
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        raise invalid
    invitation = db.session.get(Invitation, payload["i"])
    if invitation is None or not invitation.is_open or invitation.email != payload.get("e"):
        raise invalid
    return invitation


def accept_invitation(user, invitation: Invitation) -> Membership:
    """Join the team. The signed-in account's verified address must be the invited one."""
    lock(invitation)
    if not invitation.is_open:
        raise InvalidTransition(_l("This invitation is invalid or has already been used."))
    if user.email != invitation.email:
        raise NotPermitted(
            _l(
                "This invitation was sent to another e-mail address. Sign in "
                "with that address to accept it."
            )
        )
    if not user.is_verified:
        user.email_verified_at = now_utc()  # the signed link proves the address
    membership = _membership(invitation.agency, user)
    if membership is None:
        membership = Membership(agency=invitation.agency, user=user, role=invitation.role)
        db.session.add(membership)
    invitation.accepted_at = now_utc()
    db.session.flush()
    return membership


def revoke_invitation(actor, invitation: Invitation) -> None:
    if not invitation.is_open:
        raise InvalidTransition(_l("This invitation is no longer open."))
    invitation.revoked_at = now_utc()
    db.session.flush()


def _membership(agency: Agency, user: User) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.agency_id == agency.id, Membership.user_id == user.id)
    )


def _admin_count(agency: Agency) -> int:
    """Count the admins, their rows locked so two concurrent demotions cannot both pass."""
    # PostgreSQL refuses FOR UPDATE on an aggregate: lock the rows, count them here.
    return len(
        db.session.scalars(
            select(Membership.id)
            .where(Membership.agency_id == agency.id, Membership.role == "admin")
            .with_for_update()
        ).all()
    )


def change_role(actor, membership: Membership, role: str) -> None:
    """Make a member admin or moderator; the team always keeps one admin."""
    if role not in MEMBER_ROLES:
        raise ValidationFailed(_l("Choose admin or moderator."), "role")
    if membership.role == "admin" and role != "admin" and _admin_count(membership.agency) <= 1:
        raise InvalidTransition(
            _l("The team needs at least one admin. Appoint another admin first.")
        )
    membership.role = role
    db.session.flush()


def remove_member(actor, membership: Membership) -> None:
    """Take someone off the team; the last admin cannot be removed."""
    if membership.role == "admin" and _admin_count(membership.agency) <= 1:
        raise InvalidTransition(
            _l("The team needs at least one admin. Appoint another admin first.")
        )
    db.session.delete(membership)
    db.session.flush()


def suspend_user(actor, user: User) -> None:
    """Stop an account from signing in; its content stays."""
    if user.id == actor.id:
        raise InvalidTransition(_l("You cannot suspend your own account."))
    if user.suspended_at is not None:
        raise InvalidTransition(_l("This account is already suspended."))
    user.suspended_at = now_utc()
    end_sessions(user)  # signs them out everywhere, remember-me cookies included


def restore_user(actor, user: User) -> None:
    if user.suspended_at is None:
        raise InvalidTransition(_l("This account is not suspended."))
    user.suspended_at = None
    db.session.flush()
