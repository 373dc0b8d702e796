"""Shared fixtures: an app on a migrated database emptied before each test, a client,
a signed-in `auth` helper, a `mailbox` of sent e-mails and model factories.

TEST_DATABASE_URL selects the database (PostgreSQL in CI); by default a SQLite file.
"""

import itertools
import os
from datetime import timedelta

import pytest
from flask import g
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text

from engage import create_app
from engage.extensions import db, limiter
from engage.mail import email_sent

TEST_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def worker_id() -> str:
    """This process's name under pytest-xdist ("gw0", …), or "master" without it."""
    return os.environ.get("PYTEST_XDIST_WORKER", "master")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "engage-test.sqlite")
    url = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    if worker_id == "master":
        return url.render_as_string(hide_password=False)
    # Parallel workers (pytest-xdist) each get a database of their own next to it.
    worker_url = url.set(database=f"{url.database}_{worker_id}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": worker_url.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{worker_url.database}"'))
    admin.dispose()
    return worker_url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _migrated(database_url, tmp_path_factory):
    """Build the schema once per run through the Alembic migrations themselves."""
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return database_url


def _test_config(database_url, instance_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": "engage.test",
        "MAIL_SERVER": "",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt costs ~50 ms a user
        "AUTH_RATE_LIMIT": "10000 per minute",  # test_auth_rate_limit.py sets a real one
        "PUBLIC_URL": "http://engage.test",
        # Per-account limits and quotas: the tests of abuse limits set real ones.
        "SIGN_IN_FAILURE_LIMIT": "10000 per minute",
        "RESET_EMAIL_LIMIT": "10000 per minute",
        "IDEA_QUOTA": "10000 per minute",
        "COMMENT_QUOTA": "10000 per minute",
        "VOTE_QUOTA": "10000 per minute",
        "REPORT_QUOTA": "10000 per minute",
        "CACHE_TYPE": "NullCache",  # test_caching.py turns the page cache on
        "CACHE_NO_NULL_WARNING": True,
    }


def _empty_all_tables() -> None:
    # DELETE, not TRUNCATE: on tables this small it is some twenty times faster.
    tables = list(reversed(db.metadata.sorted_tables))
    for table in tables:
        db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":
        serials = [
            t.name
            for t in tables
            if "id" in t.c and t.c.id.autoincrement is not False and t.c.id.primary_key
        ]
        restarts = ", ".join(
            f"setval(pg_get_serial_sequence('{name}', 'id'), 1, false)" for name in serials
        )
        db.session.execute(text(f"SELECT {restarts}"))
    db.session.commit()


def _isolate_requests(app) -> None:
    """Give every test request a fresh `g` and fresh reads, as a real server would.

    The factories keep one app context open for the whole test, and Flask reuses an
    open app context for requests: without this, the signed-in user, the locale and
    loaded rows cached by one request would leak into the next.
    """

    def start_fresh():
        for key in list(g):
            g.pop(key)
        db.session.expire_all()

    app.before_request_funcs.setdefault(None, []).insert(0, start_fresh)


@pytest.fixture(scope="session")
def _shared_app(_migrated, tmp_path_factory):
    """The app every test uses, built once per test process so that its templates are
    compiled once; the `app` fixture gives each test its own settings and empty tables."""
    app = create_app(_test_config(_migrated, tmp_path_factory.mktemp("instance")))
    _isolate_requests(app)
    limiter_state = (limiter._storage, limiter._limiter)
    yield app, limiter_state
    with app.app_context():
        db.engine.dispose()


def _reset_rate_limits(limiter_state) -> None:
    # One Limiter serves every app of the process, and create_app (make_app, some config
    # tests) points it at the new app's storage: point it back, and forget the counts.
    limiter._storage, limiter._limiter = limiter_state
    limiter._storage_dead = False
    limiter.reset()


@pytest.fixture
def app(_shared_app):
    app, limiter_state = _shared_app
    settings = dict(app.config)
    _reset_rate_limits(limiter_state)
    with app.app_context():
        _empty_all_tables()
    yield app
    with app.app_context():
        db.session.remove()
    app.config.clear()
    app.config.update(settings)


@pytest.fixture
def make_app(app, tmp_path):
    """Build another app on the test database with some settings changed: those that
    create_app reads once (ENGAGE_ENV from the environment, proxies, timeouts, Redis)."""
    made = []

    def make(**overrides):
        settings = _test_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
        made.append(create_app({**settings, **overrides}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_context(app):
    """One app context (and so one database session) shared by every factory of a test."""
    with app.app_context():
        yield


@pytest.fixture
def csrf_app(app):
    """The same app with CSRF protection on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def mailbox(app):
    """Every e-mail handed to a transport during the test, in order."""
    sent = []

    def record(sender, message, **extra):
        sent.append(message)

    email_sent.connect(record, app)
    yield sent
    email_sent.disconnect(record, app)


@pytest.fixture
def query_counter(app):
    """Count the SQL statements run inside `with query_counter() as count:`."""

    class Counter:
        def __init__(self):
            self.statements = []

        def __enter__(self):
            event.listen(db.engine, "before_cursor_execute", self._record)
            return self

        def __exit__(self, *exc):
            event.remove(db.engine, "before_cursor_execute", self._record)

        def _record(self, conn, cursor, statement, *args):
            # SQLite's BEGIN is sent as a statement (engage.db); PostgreSQL's is implicit.
            if statement != "BEGIN":
                self.statements.append(statement)

        @property
        def count(self):
            return len(self.statements)

    with app.app_context():
        db.engine  # noqa: B018 - create the engine before listening to it
    return Counter


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email, password=TEST_PASSWORD, **extra):
        data = {"email": email, "password": password, **extra}
        return self._client.post("/account/sign-in", data=data)

    def logout(self):
        return self._client.post("/account/sign-out")


@pytest.fixture
def auth(client):
    return AuthActions(client)


_sequence = itertools.count(1)


@pytest.fixture
def make_user(app, app_context):
    from engage.auth.models import User
    from engage.db import now_utc

    def make(email=None, *, verified=True, password=TEST_PASSWORD, **fields):
        number = next(_sequence)
        fields.setdefault("display_name", f"Person {number}")
        if fields.get("account_type") == "business":
            fields.setdefault("organisation_name", f"Company {number}")
        user = User(
            email=email or f"person{number}@example.org",
            email_verified_at=now_utc() if verified else None,
            **fields,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_agency(app, app_context):
    from engage.agencies.models import Agency, Membership

    def make(slug=None, *, members=(), **fields):
        number = next(_sequence)
        agency = Agency(
            name=fields.pop("name", f"Agency {number}"), slug=slug or f"agency-{number}", **fields
        )
        db.session.add(agency)
        for user, role in members:
            db.session.add(Membership(agency=agency, user=user, role=role))
        db.session.commit()
        return agency

    return make


@pytest.fixture
def make_challenge(app, app_context, make_agency):
    """Make a challenge in `phase` (draft, upcoming, open, voting, review, closed)."""
    from engage.challenges.models import Challenge
    from engage.challenges.tags import resolve_tags
    from engage.db import now_utc
    from engage.text import render_markdown

    def make(phase="open", *, agency=None, tags=(), **fields):
        number = next(_sequence)
        now = now_utc()
        day = timedelta(days=1)
        opens, closes, votes_close = {
            "draft": (now + day, now + 10 * day, now + 20 * day),
            "upcoming": (now + day, now + 10 * day, now + 20 * day),
            "open": (now - day, now + 10 * day, now + 20 * day),
            "voting": (now - 10 * day, now - day, now + 10 * day),
            "review": (now - 20 * day, now - 10 * day, now - day),
            "closed": (now - 30 * day, now - 20 * day, now - 10 * day),
        }[phase]
        body = fields.pop("body", "Tell us.")
        challenge = Challenge(
            agency=agency or make_agency(),
            title=fields.pop("title", f"Challenge {number}"),
            slug=fields.pop("slug", f"challenge-{number}"),
            summary=fields.pop("summary", "What should we do?"),
            body=body,
            body_html=str(render_markdown(body)),
            opens_at=opens,
            submissions_close_at=closes,
            voting_closes_at=votes_close,
            published_at=None if phase == "draft" else now - 30 * day,
            closed_at=now - day if phase == "closed" else None,
            tags=resolve_tags(list(tags)),
            **fields,
        )
        db.session.add(challenge)
        db.session.commit()
        return challenge

    return make


@pytest.fixture
def make_idea(app, app_context, make_user, make_challenge):
    """Make an idea in `state` through the moderation state machine; a merged one points
    to `merged_into`, by default a new published idea of its challenge."""
    from engage.ideas import states
    from engage.ideas.models import Idea
    from engage.text import render_markdown

    def make(challenge=None, *, author=None, state="published", merged_into=None, **fields):
        number = next(_sequence)
        challenge = challenge or make_challenge()
        if state == "merged" and merged_into is None:
            merged_into = make(challenge)
        body = fields.pop("body", "An idea worth doing.")
        idea = Idea(
            challenge=challenge,
            author=author or make_user(),
            title=fields.pop("title", f"Idea {number}"),
            **fields,
        )
        idea.set_body(body, str(render_markdown(body)))
        states.enter_initial_state(idea, pre_moderated=state != "published")
        paths = {
            "pending": [],
            "published": [],
            "rejected": [("reject", "No")],
            "changes_requested": [("request_changes", "More")],
            "hidden": [("publish", None), ("hide", "Off")],
            "withdrawn": [("withdraw", None)],
            "merged": [("merge", None)],
        }
        for action, reason in paths[state]:
            target = merged_into if action == "merge" else None
            states.apply_transition(idea, action, reason, merged_into=target)
        db.session.add(idea)
        db.session.commit()
        return idea

    return make


@pytest.fixture
def make_vote(app, app_context):
    from engage.ideas.services import cast_vote

    def make(voter, idea):
        cast_vote(voter, idea)
        db.session.commit()

    return make
