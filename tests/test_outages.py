"""Outages that say so: a database that is unreachable or too slow gives 503 with
Retry-After (a plain page that needs no database, problem+json for the API), and Redis
down changes nothing visible: rate limits count in the process, the page cache is
skipped. Real sockets throughout: closed ports, a listener that never answers, locks
held by another connection."""

import socket
import sqlite3

import pytest
from sqlalchemy import create_engine, make_url, text

from engage.extensions import db
from engage.tokens.services import create_token


def closed_port() -> int:
    with socket.socket() as probe:  # free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_server():
    """A TCP listener on 127.0.0.1 that takes connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def unreachable_database(port: int) -> str:
    return f"postgresql+psycopg://engage@127.0.0.1:{port}/engage"


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert "Temporarily unavailable" in response.get_data(as_text=True)


# The database


def test_unreachable_database_gives_503_page(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=unreachable_database(closed_port()))
    assert_unavailable_page(app.test_client().get("/"))


def test_unreachable_database_gives_503_problem_to_the_api(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=unreachable_database(closed_port()))
    response = app.test_client().get(
        "/api/v1/ideas", headers={"Authorization": "Bearer eng_" + "a" * 43}
    )
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503
    assert int(response.headers["Retry-After"]) > 0


def test_unreachable_database_gives_503_problem_to_json_clients(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=unreachable_database(closed_port()))
    response = app.test_client().get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"


def test_unavailable_page_is_in_the_browser_language(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=unreachable_database(closed_port()))
    response = app.test_client().get("/", headers={"Accept-Language": "fr"})
    assert response.status_code == 503
    assert '<html lang="fr">' in response.get_data(as_text=True)


def test_signed_in_person_gets_the_unavailable_page_not_stored(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=unreachable_database(closed_port()))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "t" * 43  # a session token of the right shape
    response = client.get("/account/")
    assert_unavailable_page(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_database_that_never_answers_gives_503(make_app, silent_server):
    app = make_app(
        SQLALCHEMY_DATABASE_URI=unreachable_database(silent_server), DATABASE_CONNECT_TIMEOUT=1
    )
    assert_unavailable_page(app.test_client().get("/"))


@pytest.fixture
def locked_challenges(app):
    """Another connection holding the challenges table so that nobody can read it."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        yield
        connection.rollback()
        connection.close()
        return
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE challenges IN ACCESS EXCLUSIVE MODE"))
        yield
        connection.rollback()
    engine.dispose()


def test_statement_waiting_past_the_timeout_gives_503(make_app, locked_challenges):
    # PostgreSQL cancels the statement; SQLite stops waiting for the lock ("locked").
    app = make_app(DATABASE_STATEMENT_TIMEOUT=0.2)
    assert_unavailable_page(app.test_client().get("/challenges"))


def test_no_free_connection_in_the_pool_gives_503(make_app):
    app = make_app(
        DATABASE_POOL_TIMEOUT=0.2,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
    )
    with app.app_context(), db.engine.connect():  # the only connection, taken
        response = app.test_client().get("/challenges")
    assert_unavailable_page(response)


def test_mistake_in_sql_is_still_a_500(make_app):
    app = make_app()  # of its own: the shared app takes no new routes

    @app.get("/broken-query")
    def broken_query():
        db.session.execute(text("SELECT * FROM no_such_table"))

    assert app.test_client().get("/broken-query").status_code == 500


# Redis


@pytest.fixture
def redis_down(make_app):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    return make_app(
        RATELIMIT_STORAGE_URI=url, CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url, REDIS_TIMEOUT=0.5
    )


def test_sign_in_works_while_redis_is_down(redis_down, make_user):
    make_user("ada@example.org")
    response = redis_down.test_client().post(
        "/account/sign-in", data={"email": "ada@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 302


def test_api_works_while_redis_is_down(redis_down, make_agency):
    agency = make_agency()
    _, secret = create_token(None, agency, "Sync", ["ideas:read"])
    db.session.commit()
    response = redis_down.test_client().get(
        "/api/v1/ideas", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200


def test_public_pages_work_while_redis_is_down(redis_down):
    client = redis_down.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200


def test_rate_limits_count_in_the_process_while_redis_is_down(make_app):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    client = make_app(
        RATELIMIT_STORAGE_URI=url, REDIS_TIMEOUT=0.5, AUTH_RATE_LIMIT="1 per minute"
    ).test_client()
    attempt = {"email": "nobody@example.org", "password": "wrong password"}
    assert client.post("/account/sign-in", data=attempt).status_code != 429
    assert client.post("/account/sign-in", data=attempt).status_code == 429
