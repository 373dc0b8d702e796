"""Response headers: nothing shown to a signed-in person (or answered by the API) is
stored by a cache, the content security policy, and in production HSTS and __Host-
cookies."""

from http.cookies import SimpleCookie

import pytest

NO_STORE = "no-store"


@pytest.fixture
def production(monkeypatch, make_app):
    monkeypatch.setenv("ENGAGE_ENV", "production")
    return make_app(PUBLIC_URL="https://engage.test", MAIL_SERVER="127.0.0.1")


def cache_control(response) -> str:
    return response.headers.get("Cache-Control", "")


def test_page_for_a_signed_in_person_is_not_stored(client, auth, make_user):
    make_user("ada@example.org")
    auth.login("ada@example.org")
    assert cache_control(client.get("/")) == NO_STORE


def test_redirect_for_a_signed_in_person_is_not_stored(client, auth, make_user):
    make_user("ada@example.org")
    response = auth.login("ada@example.org")
    assert response.status_code == 302
    assert cache_control(response) == NO_STORE


def test_page_showing_a_new_api_token_is_not_stored(client, auth, make_user, make_agency):
    admin = make_user("alex@example.org")
    make_agency("city", members=[(admin, "admin")])
    auth.login("alex@example.org")
    response = client.post(
        "/agencies/city/integrations/tokens", data={"name": "Sync", "scopes": ["ideas:read"]}
    )
    assert response.status_code == 201
    assert cache_control(response) == NO_STORE


def test_api_answers_are_not_stored(client):
    response = client.get("/api/v1/ideas")
    assert response.status_code == 401
    assert cache_control(response) == NO_STORE


def test_public_page_for_a_visitor_may_be_stored(client):
    assert NO_STORE not in cache_control(client.get("/"))


def test_static_files_for_a_signed_in_person_may_be_stored(client, auth, make_user):
    make_user("ada@example.org")
    auth.login("ada@example.org")
    with client.get("/static/css/engage.css") as response:
        assert NO_STORE not in cache_control(response)


def test_content_security_policy_forbids_base_and_plugins(client):
    policy = client.get("/").headers["Content-Security-Policy"].split("; ")
    assert "base-uri 'none'" in policy
    assert "object-src 'none'" in policy


def test_production_sends_hsts(production):
    response = production.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_production_cookies_are_host_only_and_secure(production, make_user):
    make_user("ada@example.org")
    response = production.test_client().post(
        "/account/sign-in",
        data={"email": "ada@example.org", "password": "correct horse battery", "remember": "y"},
    )
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookies.update(SimpleCookie(header))
    assert set(cookies) == {"__Host-session", "__Host-remember_token"}
    for cookie in cookies.values():
        assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
