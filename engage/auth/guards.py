"""What stands in front of account pages and sensitive changes: the limits on sign-in,
registration and reset e-mails, the way to sign in first, and the fresh sign-in that
sensitive staff actions need.

Every limit answers 429 with Retry-After and a translated message, before the view runs.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_fresh

from engage.auth import sessions
from engage.auth.services import address_key
from engage.errors import error_response, wants_json
from engage.extensions import limiter, login_manager
from engage.http import safe_next
from engage.quotas import breached_wait

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


# Guessing passwords or flooding inboxes needs many POSTs: limit them per client address.
limit_attempts = limiter.shared_limit(
    lambda: current_app.config["AUTH_RATE_LIMIT"], scope="account-forms", methods=["POST"]
)


def _sign_in_address_key() -> str:
    """The account an attempt is for: the address typed on the sign-in form, or the
    signed-in person's own when they type their password again."""
    email = current_user.email if current_user.is_authenticated else request.form.get("email")
    return address_key(email or "")


def mark_failed_sign_in() -> None:
    """Count this request's wrong password against the account's SIGN_IN_FAILURE_LIMIT."""
    g.sign_in_failed = True


# Per account, from however many client addresses; only wrong passwords count, and while
# the limit holds even the right one is refused. Known and unknown addresses alike.
limit_sign_in_failures = limiter.shared_limit(
    lambda: current_app.config["SIGN_IN_FAILURE_LIMIT"],
    scope="sign-in-failures",
    key_func=_sign_in_address_key,
    methods=["POST"],
    deduct_when=lambda response: g.get("sign_in_failed", False),
    error_message=lambda: _(
        "Too many wrong passwords were tried for this account. To protect it, signing in "
        "is paused: please wait %(wait)s before you try again.",
        wait=breached_wait(),
    ),
)

# Every request for a link sends an e-mail (to an address with or without an account).
limit_reset_emails = limiter.shared_limit(
    lambda: current_app.config["RESET_EMAIL_LIMIT"],
    scope="reset-emails",
    key_func=lambda: address_key(request.form.get("email") or ""),
    methods=["POST"],
    error_message=lambda: _(
        "We have already sent several messages to this address. Please check your inbox "
        "and spam folder, or wait %(wait)s before you ask for another one.",
        wait=breached_wait(),
    ),
)


def _way_back() -> str | None:
    """Where to return once signed in: this page for a GET; after a refused POST (a vote,
    a new API token) the page the button was on, since the POST address cannot be opened.
    """
    if request.method == "GET":
        target = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        target = None
        if referrer.netloc == request.host:
            target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(target, None) or None


@login_manager.unauthorized_handler
def sign_in_first():
    """Send people to sign in, then back to the page they were on."""
    if wants_json():
        return error_response(401)
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for("auth.login", next=_way_back()))


@login_manager.needs_refresh_handler
def confirm_password_first():
    """Send people to type their password again, then back to the page they were on."""
    if wants_json():
        return error_response(401)
    flash(_("Please type your password again to continue."), "info")
    return redirect(url_for(login_manager.refresh_view, next=_way_back()))


def signed_in_recently() -> bool:
    """Whether the password was typed in this browser within FRESH_SIGN_IN_MINUTES. A
    session restored from a remember-me cookie alone never was (Flask-Login's "fresh")."""
    return (
        current_user.is_authenticated
        and login_fresh()
        and sessions.is_fresh(current_user.signed_in_session)
    )


def fresh_sign_in_required(view):
    """Ask for the password again before a change (any request but GET and HEAD) unless
    it was typed recently (`signed_in_recently`). Put it under @login_required.

    Like Flask-Login's fresh_login_required, with a time limit, and pages stay readable.
    """

    @wraps(view)
    def guarded(*args, **kwargs):
        if request.method not in SAFE_METHODS:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not signed_in_recently():
                return login_manager.needs_refresh()
        return view(*args, **kwargs)

    return guarded
