"""API tokens: create (the value is returned once and never stored), revoke, authenticate."""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from engage.db import now_utc
from engage.errors import DomainError, InvalidTransition, ValidationFailed
from engage.extensions import db
from engage.tokens.models import SCOPES, ApiToken, hash_token, new_token_value

NAME_MAX = 80
EXPIRY_DAYS_MAX = 3650
# A token's last use is shown to the minute; recording it more often is only writes.
USE_RECORD_INTERVAL = timedelta(minutes=1)


class TokenExpired(DomainError):
    """The token is known and not revoked, but past its expiry."""


def create_token(
    actor,
    agency,
    name: str,
    scopes: list[str],
    *,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for the agency; return it with its value, which is shown once.

    `actor` is the admin who asked (None from the command line); who may is the
    caller's to check. It stops working `expires_in_days` days from now (1 to
    EXPIRY_DAYS_MAX), or never when that is None. Raises ValidationFailed (name,
    scopes, expires_in_days).
    """
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed(
            _l("Give the token a name of at most %(max)d characters.", max=NAME_MAX), "name"
        )
    scopes = sorted(set(scopes))
    if not scopes or any(scope not in SCOPES for scope in scopes):
        raise ValidationFailed(_l("Choose at least one scope from the list."), "scopes")
    if expires_in_days is not None and not 1 <= expires_in_days <= EXPIRY_DAYS_MAX:
        raise ValidationFailed(
            _l("A token can expire in 1 to %(max)d days.", max=EXPIRY_DAYS_MAX),
            "expires_in_days",
        )
    now = now_utc()
    value = new_token_value()
    token = ApiToken(
        agency_id=agency.id,
        name=name,
        prefix=value[:12],
        token_hash=hash_token(value),
        scopes=" ".join(scopes),
        created_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.flush()
    return token, value


def revoke_token(actor, token: ApiToken) -> None:
    """Stop the token from working, for good. Raises InvalidTransition (already revoked)."""
    if token.revoked_at is not None:
        raise InvalidTransition(_l("This token is already revoked."))
    token.revoked_at = now_utc()
    db.session.flush()


def token_for(value: str, now: datetime | None = None) -> ApiToken | None:
    """The usable token with this value, or None (unknown or revoked). Marks its last use,
    at most once every USE_RECORD_INTERVAL, so that most reads write nothing.

    Raises TokenExpired for a token past its expiry: only whoever holds its value learns
    that, and the expired token's last use is left as it was.
    """
    if not value.startswith("eng_") or len(value) > 100:
        return None
    now = now or now_utc()
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(value), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None:
        return None
    if token.is_expired(now):
        raise TokenExpired(_l("This token has expired. An agency admin can create a new one."))
    if token.last_used_at is None or now - token.last_used_at >= USE_RECORD_INTERVAL:
        # A plain UPDATE: concurrent requests of one token must not conflict.
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return token


def agency_tokens(agency_id: int) -> list[ApiToken]:
    """The agency's tokens, usable ones first, newest first."""
    return db.session.scalars(
        select(ApiToken)
        .where(ApiToken.agency_id == agency_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    ).all()
