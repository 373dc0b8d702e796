"""Database helpers shared by every feature: UTC timestamp columns, row locks,
dialect-aware inserts, SQLite set-up, times as the API writes them, and what
autogenerate leaves out (the search engine's tables and columns)."""

import sqlite3
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, TypeDecorator, event, inspect, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import ObjectDeletedError

from engage.errors import InvalidTransition


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Python's sqlite3 driver begins transactions on its own, only before writes,
        # which breaks SAVEPOINTs (SQLAlchemy's documented recipe): SQLAlchemy says BEGIN.
        dbapi_connection.isolation_level = None
        # SQLite enforces foreign keys (and ON DELETE) only when asked, per connection,
        # outside a transaction: ask, so that it refuses what PostgreSQL refuses.
        dbapi_connection.execute("PRAGMA foreign_keys = ON")


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def now_utc() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC; always give back aware UTC datetimes.

    SQLite has no time zones, so values are normalised to naive UTC on the way in
    and marked UTC on the way out; PostgreSQL stores them as timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, onupdate=now_utc)


def render_migration_item(type_, obj, autogen_context):
    """Write UTCDateTime into migrations as a plain timestamptz column."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Full-text search lives outside the models, in the database's own engine (migration
# 0009_search): SQLite's FTS5 tables (and the shadow tables FTS5 keeps beside them) and
# PostgreSQL's search_vector columns with their GIN indexes. Autogenerate compares the
# models with the database: without this, it would offer to drop them.
SEARCH_TABLES = ("idea_search", "challenge_search")
SEARCH_COLUMN = "search_vector"
SEARCH_INDEXES = ("ix_ideas_search_vector", "ix_challenges_search_vector")


def is_search_table(name: str) -> bool:
    """Whether `name` is an FTS5 table of search, or one of its shadow tables."""
    return any(name == table or name.startswith(table + "_") for table in SEARCH_TABLES)


def include_in_autogenerate(name, type_, parent_names) -> bool:
    """Alembic's include_name hook: leave the search machinery out of comparisons."""
    if type_ == "table":
        return not is_search_table(name)
    if type_ == "column":
        return name != SEARCH_COLUMN
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True


def insert_for(session, model):
    """An INSERT for the session's database that can say ON CONFLICT DO NOTHING."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def lock(instance) -> None:
    """Load the row of `instance` again, locked until the transaction ends, so that
    concurrent changes of it take turns and each sees the one before.

    Call it before reading the state a change depends on. Pending changes are flushed
    first, so calling it twice is harmless. PostgreSQL locks the row (FOR UPDATE);
    SQLite has one writer at a time, so a no-op write takes the database's write lock.
    """
    session = inspect(instance).session
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        table = instance.__table__
        # Text, not update(): an ORM update would bump `updated_at` through onupdate.
        session.execute(
            text(f"UPDATE {table.name} SET id = id WHERE id = :id"), {"id": instance.id}
        )
    try:
        # OF the row's own table: the instance may have been loaded with outer joins.
        session.refresh(instance, with_for_update={"of": type(instance)})
    except ObjectDeletedError:
        raise InvalidTransition(
            _l("Someone removed this meanwhile. Please reload the page.")
        ) from None


def rfc3339(value: datetime | None) -> str | None:
    """The time as RFC 3339 in UTC with microseconds, as the API and webhooks write it."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
