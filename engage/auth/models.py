"""People with an account: citizens and businesses, and the site admins among them."""

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from engage.db import TimestampMixin, UTCDateTime
from engage.extensions import db

ACCOUNT_TYPES = ("citizen", "business")


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("account_type IN ('citizen', 'business')", name="account_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored as auth.services.normalize_email gives it (NFKC, case-folded), so the unique
    # constraint also refuses look-alikes.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    account_type: Mapped[str] = mapped_column(String(16), default="citizen")
    organisation_name: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str | None] = mapped_column(String(8))
    # An IANA zone name ("Europe/Paris"); dates are shown in it. None means UTC.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # E-mail me when an idea I voted for gets a decision.
    email_on_decisions: Mapped[bool] = mapped_column(default=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_admin: Mapped[bool] = mapped_column(default=False)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped whenever the password is set or every session is ended (suspension): reset
    # links carry it, so a link sent before stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    # Bumped each time a reset link is sent: only the newest link works.
    reset_generation: Mapped[int] = mapped_column(default=0)

    # Not columns: set by auth.sessions on the object it signs in or loads for a request.
    # `session_token` is the random secret of the browser's cookies (Flask-Login stores
    # what get_id() returns), `signed_in_session` its row.
    session_token = None
    signed_in_session = None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.account_type}>"

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        if self.session_token is None:
            raise RuntimeError("sign in through engage.auth.sessions.start_session")
        return self.session_token

    # Flask-Login compares users by get_id(), a session's token here: compare accounts.
    def __eq__(self, other):
        if isinstance(other, User):
            return self is other or (self.id is not None and self.id == other.id)
        return NotImplemented

    __hash__ = UserMixin.__hash__

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_business(self) -> bool:
        return self.account_type == "business"

    @property
    def public_name(self) -> str:
        """The name shown on public pages: the organisation for businesses."""
        if self.is_business and self.organisation_name:
            return self.organisation_name
        return self.display_name


class UserSession(db.Model):
    """One signed-in browser: its cookie carries a random token stored here as a hash,
    so signing out (or an idle or expired session) ends that cookie wherever it went.

    Rules and lifetimes live in auth.sessions.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "Remember me": the session outlives the browser, up to expires_at.
    remember: Mapped[bool] = mapped_column(default=False)
    # When the password was typed for it (sign-in or confirmation): freshness counts from it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Written at most once a minute: the idle limit counts from it.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"
