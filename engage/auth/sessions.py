"""Server-side sessions: a signed-in browser holds a random token, the database holds its
SHA-256 hash and lifetimes (a UserSession row), so ending the row ends every copy of the
cookie at once.

A browser session ends after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS
after sign-in; a "remember me" one after REMEMBER_IDLE_DAYS unused and REMEMBER_DAYS
after sign-in. Functions flush, never commit (but see `load_user`).
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select

from engage.auth.models import User, UserSession
from engage.db import lock, now_utc
from engage.extensions import db

# last_seen_at is written at most this often, so most requests write nothing.
TOUCH_INTERVAL = timedelta(minutes=1)
_TOKEN_LENGTHS = range(32, 129)  # what token_urlsafe(32) gives, with room to grow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle_limit(remember: bool) -> timedelta:
    if remember:
        return timedelta(days=current_app.config["REMEMBER_IDLE_DAYS"])
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _lifetime(remember: bool) -> timedelta:
    if remember:
        return timedelta(days=current_app.config["REMEMBER_DAYS"])
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def is_alive(row: UserSession, now: datetime) -> bool:
    """Whether the session has neither expired nor been left idle too long."""
    return now < row.expires_at and now - row.last_seen_at < _idle_limit(row.remember)


def is_fresh(row: UserSession, now: datetime | None = None) -> bool:
    """Whether the password was typed for this session within FRESH_SIGN_IN_MINUTES."""
    limit = timedelta(minutes=current_app.config["FRESH_SIGN_IN_MINUTES"])
    return (now or now_utc()) - row.created_at <= limit


def _attach(user: User, token: str, row: UserSession) -> None:
    user.session_token = token
    user.signed_in_session = row


def _delete_ended(user_id: int, now: datetime) -> None:
    """Delete the person's sessions that have expired or been idle too long."""

    def idle(remember: bool):
        return and_(
            UserSession.remember.is_(remember),
            UserSession.last_seen_at <= now - _idle_limit(remember),
        )

    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user_id,
            or_(UserSession.expires_at <= now, idle(True), idle(False)),
        )
    )


def start_session(user: User, *, remember: bool, now: datetime | None = None) -> UserSession:
    """Sign `user` in on one more browser: store a new session and give `user` its token
    (`user.get_id()`, which Flask-Login puts in the cookies).

    The person's sessions that have ended meanwhile are deleted.
    """
    now = now or now_utc()
    _delete_ended(user.id, now)
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=_hash(token),
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + _lifetime(remember),
    )
    db.session.add(row)
    db.session.flush()
    _attach(user, token, row)
    return row


def renew_session(user: User) -> UserSession:
    """Replace the session `user` is signed in with by a new one, after the password was
    typed again: a new token, and freshness and lifetime counted from now."""
    old = user.signed_in_session
    row = start_session(user, remember=old.remember)
    end_session(old)
    return row


def end_session(row: UserSession) -> None:
    """Sign one browser out: its session and remember-me cookies stop working."""
    db.session.execute(delete(UserSession).where(UserSession.id == row.id))


def end_sessions(user: User, *, keep: UserSession | None = None) -> None:
    """Sign `user` out everywhere but in the session `keep`, and make the links that
    carry the session version (password reset) stop working."""
    lock(user)
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    db.session.execute(query)
    user.session_version += 1
    db.session.flush()


def load_user(token) -> User | None:
    """The account signed in with `token` (Flask-Login's user loader), or None when no
    such session exists, it has ended, or the account is suspended. One query.

    At most once a TOUCH_INTERVAL it records that the session is in use, committing at
    once: a request's reads happen without a write, and its own commit stays its own. The
    record waits for a later request when this one has already begun its transaction
    (something ran before the loader), so no change of the request is ever committed here.
    """
    if not isinstance(token, str) or len(token) not in _TOKEN_LENGTHS:
        return None
    session = db.session()  # this request's Session, behind the scoped proxy
    may_commit = not session.in_transaction() and not (
        session.new or session.dirty or session.deleted
    )
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    now = now_utc()
    if user.suspended_at is not None or not is_alive(row, now):
        return None
    if may_commit and now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        session.commit()
    _attach(user, token, row)
    return user
