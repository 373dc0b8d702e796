"""Read-side queries about accounts."""

from sqlalchemy import select

from engage.auth.models import User
from engage.extensions import db


def users_by_email_prefix(prefix: str, limit: int) -> list[User]:
    """Accounts whose address starts with `prefix` (taken literally), by address."""
    return db.session.scalars(
        select(User)
        .where(User.email.startswith(prefix, autoescape=True))
        .order_by(User.email)
        .limit(limit)
    ).all()
