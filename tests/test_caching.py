"""The public-page cache: visitors share cached pages, signed-in people never do."""

import uuid

import pytest
import redis

from engage.extensions import cache


@pytest.fixture
def cached_app(app):
    app.config.update(CACHE_TYPE="SimpleCache", CACHE_DEFAULT_TIMEOUT=60)
    cache.init_app(app)
    yield app
    with app.app_context():
        cache.clear()


@pytest.fixture(autouse=True)
def _no_cache_afterwards(app):
    """The app is shared by the tests of this process: give the next ones no cache again,
    or they would be served the pages cached here (ids restart in every test)."""
    yield
    app.config["CACHE_TYPE"] = "NullCache"
    cache.init_app(app)


def test_visitor_is_served_the_cached_challenge_page(cached_app, make_challenge, make_idea):
    challenge = make_challenge("open")
    client = cached_app.test_client()
    first = client.get(f"/challenges/{challenge.slug}")
    make_idea(challenge, title="Arrived after the page was cached")
    second = client.get(f"/challenges/{challenge.slug}")
    assert second.status_code == 200
    assert second.get_data() == first.get_data()
    assert "Arrived after" not in second.get_data(as_text=True)


def test_signed_in_person_always_gets_a_fresh_page(
    cached_app, make_challenge, make_idea, make_user
):
    challenge = make_challenge("open")
    user = make_user()
    cached_app.test_client().get(f"/challenges/{challenge.slug}")
    make_idea(challenge, title="Fresh for members")
    client = cached_app.test_client()
    client.post(
        "/account/sign-in", data={"email": user.email, "password": "correct horse battery"}
    )
    assert "Fresh for members" in client.get(f"/challenges/{challenge.slug}").get_data(
        as_text=True
    )


def test_cache_keeps_one_page_per_language(cached_app, make_challenge):
    challenge = make_challenge("open")
    client = cached_app.test_client()
    english = client.get(f"/challenges/{challenge.slug}", headers={"Accept-Language": "en"})
    french = client.get(f"/challenges/{challenge.slug}", headers={"Accept-Language": "fr"})
    assert 'lang="en"' in english.get_data(as_text=True)
    assert 'lang="fr"' in french.get_data(as_text=True)


def test_cached_pages_set_no_session_cookie(cached_app, make_challenge, make_idea):
    idea = make_idea(make_challenge("open"))
    client = cached_app.test_client()
    for path in ("/", "/challenges", f"/challenges/{idea.challenge.slug}", f"/ideas/{idea.id}"):
        assert "Set-Cookie" not in client.get(path).headers, path


def test_not_found_is_not_cached(cached_app, make_challenge):
    client = cached_app.test_client()
    assert client.get("/challenges/later").status_code == 404
    make_challenge("open", slug="later")
    assert client.get("/challenges/later").status_code == 200


def test_visitor_with_a_pending_message_gets_a_fresh_page(cached_app, make_challenge, make_idea):
    challenge = make_challenge("open")
    client = cached_app.test_client()
    client.get("/")
    make_idea(challenge, title="Seen with the flash")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "You are signed out.")]
    page = client.get("/").get_data(as_text=True)
    assert "You are signed out." in page


def test_redis_backend_shares_pages_between_app_processes(app, make_challenge, make_idea):
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    app.config.update(
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL="redis://127.0.0.1:6379/0",
        CACHE_KEY_PREFIX=f"engage-test-{uuid.uuid4().hex}:",
        CACHE_DEFAULT_TIMEOUT=60,
    )
    cache.init_app(app)
    challenge = make_challenge("open")
    first = app.test_client().get(f"/challenges/{challenge.slug}")
    make_idea(challenge, title="Only in the database")
    second = app.test_client().get(f"/challenges/{challenge.slug}")
    assert second.get_data() == first.get_data()
    with app.app_context():
        cache.clear()
