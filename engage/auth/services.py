"""Accounts: registration, e-mail verification, sign-in, password reset, profile.

Services flush, never commit. Answers never reveal whether an address has an account.
"""

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from engage import mail
from engage.auth.models import User, UserSession
from engage.auth.sessions import end_sessions
from engage.db import lock, now_utc
from engage.errors import NotPermitted, ValidationFailed
from engage.extensions import db

PASSWORD_MIN = 10
PASSWORD_MAX = 200
VERIFY, RESET = "verify-email", "reset-password"
COMMON_PASSWORDS = "data/common-passwords.txt"  # in the engage package

# Checked when an address is unknown, so a wrong address costs as long as a wrong password.
_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy_hashes[method]


def normalize_email(email: str) -> str:
    """The form an address is stored and compared in: NFKC (full-width letters become
    plain ones), case-folded, without surrounding spaces; look-alikes become one."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def address_key(email: str) -> str:
    """A stand-in for an address in rate-limit counters: the same for look-alikes, and
    without the secret key it tells nothing about the address."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, normalize_email(email).encode(), hashlib.sha256).hexdigest()


@cache
def _common_passwords() -> frozenset[str]:
    text = files("engage").joinpath(COMMON_PASSWORDS).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    """Whether the password is on the list of common ones shipped with Engage."""
    return password.casefold() in _common_passwords()


def _refuse_common_password(password: str) -> None:
    if is_common_password(password):
        raise ValidationFailed(
            _l(
                "This password is one of the most common ones, which are tried first when "
                "accounts are attacked. Please choose another."
            ),
            "password",
        )


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def make_token(user: User, purpose: str) -> str:
    """Sign a link token that stops working once used (it names the state it changes)."""
    if purpose == VERIFY:
        payload = {"u": user.id, "e": user.email}
    else:
        # Dead once the password is set (session version) or a newer link is sent.
        payload = {"u": user.id, "v": user.session_version, "g": user.reset_generation}
    return _serializer(purpose).dumps(payload)


def _load_token(token: str, purpose: str, max_age_key: str) -> User:
    invalid = ValidationFailed(_l("This link is invalid or has already been used."))
    try:
        payload = _serializer(purpose).loads(token, max_age=current_app.config[max_age_key])
    except SignatureExpired:
        raise ValidationFailed(_l("This link has expired. Please ask for a new one.")) from None
    except BadSignature:
        raise invalid from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise invalid
    user = db.session.get(User, payload["u"])
    if user is None:
        raise invalid
    lock(user)  # the link changes the state it names: one use, however many clicks
    if purpose == VERIFY and (user.is_verified or payload.get("e") != user.email):
        raise invalid
    if purpose == RESET and (
        payload.get("v") != user.session_version or payload.get("g") != user.reset_generation
    ):
        raise invalid
    return user


def register_user(
    *,
    email: str,
    password: str,
    display_name: str,
    account_type: str = "citizen",
    organisation_name: str | None = None,
    locale: str | None = None,
) -> User | None:
    """Create an unverified account and send the verification link.

    If the address already has an account (look-alikes included, or one registered by a
    simultaneous request), nothing is created: its owner gets an e-mail saying so, and
    None is returned (the caller answers exactly as on success).
    Raises ValidationFailed for a business without organisation name or a common password.
    """
    if account_type not in ("citizen", "business"):
        raise ValidationFailed(_l("Choose citizen or business."), "account_type")
    organisation_name = (organisation_name or "").strip() or None
    if account_type == "business" and not organisation_name:
        raise ValidationFailed(
            _l("A business account needs the organisation's name."), "organisation_name"
        )
    _refuse_common_password(password)
    user = User(
        email=normalize_email(email),
        display_name=display_name.strip(),
        account_type=account_type,
        organisation_name=organisation_name if account_type == "business" else None,
        locale=locale,
    )
    # Hashed either way, so a known address answers as slowly as a new account is created.
    user.set_password(password)
    if find_user_by_email(user.email) is None and _insert_new(user):
        send_verification(user)
        return user
    mail.send_to_user(find_user_by_email(user.email), "already_registered")
    return None


def _insert_new(user: User) -> bool:
    """Store a new account; False when its address was registered meanwhile."""
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        return False
    return True


def send_verification(user: User) -> None:
    """E-mail a fresh verification link, unless the address is already verified."""
    if not user.is_verified:
        mail.send_to_user(user, "verify_email", token=make_token(user, VERIFY))


def verify_email(token: str) -> User:
    """Mark the account's address verified. Raises ValidationFailed for a bad link."""
    user = _load_token(token, VERIFY, "VERIFY_TOKEN_MAX_AGE")
    user.email_verified_at = now_utc()
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the account for these credentials, or None. Raises NotPermitted if suspended."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password):
        return None
    if user.suspended_at is not None:
        raise NotPermitted(_l("This account is suspended. Contact the site's operators."))
    return user


@dataclass(frozen=True)
class _Stranger:
    """An address without an account, as mail.send_to_user needs a recipient."""

    email: str
    locale: str | None
    display_name: str = ""


def request_password_reset(email: str, locale: str | None = None) -> None:
    """E-mail a reset link to the address's account, which kills the links sent before;
    to an address without an account, e-mail a note saying so (in `locale`).

    Both do the same work, so neither the answer nor its timing tells which it was.
    """
    user = find_user_by_email(email)
    if user is None:
        mail.send_to_user(_Stranger(normalize_email(email), locale), "reset_unknown")
        return
    lock(user)
    user.reset_generation += 1
    db.session.flush()
    mail.send_to_user(user, "reset_password", token=make_token(user, RESET))


def _set_password(user: User, password: str, keep: UserSession | None = None) -> None:
    _refuse_common_password(password)
    user.set_password(password)
    # Signs out every other session and remember-me cookie, and kills reset links.
    end_sessions(user, keep=keep)


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link and end every session of the account.

    Raises ValidationFailed for a bad link (no field) or a common password ("password").
    """
    user = _load_token(token, RESET, "RESET_TOKEN_MAX_AGE")
    _set_password(user, password)
    # Following the link proves the address, too.
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()
    return user


def change_password(
    user: User, current_password: str, new_password: str, *, keep: UserSession | None = None
) -> None:
    """Change the password and end every session of the account but `keep` (the one the
    change was made in). Raises ValidationFailed if the current password is wrong
    ("current_password") or the new one is common ("password")."""
    if not user.check_password(current_password):
        raise ValidationFailed(_l("Your current password is not correct."), "current_password")
    _set_password(user, new_password, keep=keep)


def update_profile(
    user: User,
    *,
    display_name: str,
    locale: str | None,
    organisation_name: str | None = None,
    timezone: str | None = None,
    email_on_decisions: bool = False,
) -> None:
    """Change the public name, language, time zone, e-mail choices and (for
    businesses) organisation name. Raises ValidationFailed."""
    if locale and locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed(_l("Choose one of the offered languages."), "locale")
    if timezone and timezone not in available_timezones():
        raise ValidationFailed(_l("Choose one of the offered time zones."), "timezone")
    organisation_name = (organisation_name or "").strip()
    if user.is_business and not organisation_name:
        raise ValidationFailed(
            _l("A business account needs the organisation's name."), "organisation_name"
        )
    user.display_name = display_name.strip()
    user.locale = locale or None
    user.timezone = timezone or None
    user.email_on_decisions = email_on_decisions
    if user.is_business:
        user.organisation_name = organisation_name
    db.session.flush()


def create_site_admin(email: str, password: str) -> tuple[User, bool]:
    """Create a verified site admin, or promote the existing account with this address.

    Returns (user, created). An existing account keeps its password.
    Raises ValidationFailed for an address that is not one.
    """
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed(_l("Enter a valid e-mail address."), "email") from None
    user = find_user_by_email(email)
    created = user is None
    if created:
        user = User(
            email=normalize_email(email),
            display_name=normalize_email(email).split("@")[0][:80],
            account_type="citizen",
            email_verified_at=now_utc(),
        )
        user.set_password(password)
        db.session.add(user)
    user.is_admin = True
    db.session.flush()
    return user, created
