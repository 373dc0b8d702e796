"""Absolute links come from PUBLIC_URL, never from the request's Host header; production
answers only to its own host names; behind proxies, the client's address is believed only
from as many proxies as TRUSTED_PROXIES says."""

import csv
import io
import re

import pytest

from engage.config import UnsafeConfiguration, check_production_safety
from engage.extensions import db
from engage.http import external_url
from engage.mail import deliver_waiting, send_to_user
from engage.tokens.services import create_token

PUBLIC_URL = "https://engage.example.org/civic"


@pytest.fixture
def public_app(app):
    """The suite's app with links on PUBLIC_URL, and no SERVER_NAME that would hide a
    link built from the Host header."""
    app.config.update(PUBLIC_URL=PUBLIC_URL, SERVER_NAME=None)
    return app


@pytest.fixture
def production(monkeypatch, make_app):
    """Build an app with ENGAGE_ENV=production (and what production requires)."""
    monkeypatch.setenv("ENGAGE_ENV", "production")

    def make(**overrides):
        settings = {"PUBLIC_URL": "https://engage.test", "MAIL_SERVER": "127.0.0.1"}
        return make_app(**{**settings, **overrides})

    return make


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def test_reset_requested_with_a_foreign_host_mails_a_link_on_the_public_url(
    public_app, make_user, mailbox
):
    make_user("ada@example.org")
    response = public_app.test_client().post(
        "/account/reset", data={"email": "ada@example.org"}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 200
    [message] = mailbox
    [link] = links(message.get_content())
    assert link.startswith(f"{PUBLIC_URL}/account/reset/")


def test_link_is_built_on_the_public_url_without_a_request(public_app):
    with public_app.app_context():
        assert external_url("ideas.show", idea_id=7) == f"{PUBLIC_URL}/ideas/7"


def test_worker_mails_links_on_the_public_url(public_app, make_user, mailbox):
    public_app.config["MAIL_SEND_AFTER_COMMIT"] = False
    send_to_user(make_user(), "verify_email", token="t0ken")
    db.session.commit()
    assert deliver_waiting() == (1, 0)
    assert links(mailbox[0].get_content()) == [f"{PUBLIC_URL}/account/verify/t0ken"]


def test_api_links_use_the_public_url_whatever_the_host(
    public_app, make_agency, make_challenge, make_idea
):
    agency = make_agency()
    idea = make_idea(make_challenge(agency=agency))
    _, secret = create_token(None, agency, "Sync", ["ideas:read"])
    db.session.commit()
    public_app.config["API_SETTLE_SECONDS"] = 0
    response = public_app.test_client().get(
        "/api/v1/ideas?limit=1&decision=none",
        headers={"Authorization": f"Bearer {secret}", "Host": "evil.example"},
    )
    body = response.get_json()
    assert body["data"][0]["url"] == f"{PUBLIC_URL}/ideas/{idea.id}"
    assert body["next"].startswith(f"{PUBLIC_URL}/api/v1/ideas?")


def test_openapi_server_is_the_public_url(public_app):
    response = public_app.test_client().get("/api/v1/openapi.json", headers={"Host": "evil.ex"})
    assert response.get_json()["servers"] == [{"url": f"{PUBLIC_URL}/api/v1"}]


def test_ranking_csv_links_use_the_public_url(
    public_app, client, auth, make_user, make_agency, make_challenge, make_idea
):
    admin = make_user("alex@example.org")
    agency = make_agency("city", members=[(admin, "admin")])
    idea = make_idea(make_challenge(agency=agency, slug="trees"))
    auth.login("alex@example.org")
    response = client.get("/agencies/city/challenges/trees/ideas.csv")
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["url"] == f"{PUBLIC_URL}/ideas/{idea.id}"


# Production settings


def production_settings(**settings) -> dict:
    return {
        "ENGAGE_ENV": "production",
        "SECRET_KEY": "s" * 32,
        "MAIL_SERVER": "smtp.example",
        "PUBLIC_URL": "https://engage.example.org",
        **settings,
    }


@pytest.mark.parametrize(
    "public_url", ["", "http://engage.example.org", "engage.example.org", "https://"]
)
def test_production_without_an_https_public_url_is_refused(monkeypatch, public_url):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/engage")
    with pytest.raises(UnsafeConfiguration, match="PUBLIC_URL"):
        check_production_safety(production_settings(PUBLIC_URL=public_url))


def test_production_answers_400_to_a_foreign_host(production):
    response = production().test_client().get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Bad request" in response.get_data(as_text=True)


def test_production_answers_its_public_host(production):
    assert production().test_client().get("/").status_code == 200


def test_production_answers_the_extra_trusted_hosts(production):
    client = production(EXTRA_TRUSTED_HOSTS=["www.engage.test"]).test_client()
    assert client.get("/", headers={"Host": "www.engage.test"}).status_code == 200


def test_development_answers_any_host(client):
    assert client.get("/", headers={"Host": "laptop.local:5000"}).status_code == 200


def test_development_with_trusted_hosts_refuses_others(make_app):
    client = make_app(EXTRA_TRUSTED_HOSTS=["engage.test"]).test_client()
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_api_gets_problem_json_for_a_foreign_host(production):
    response = production().test_client().get("/api/v1/ideas", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


# Proxies


def sign_in_from(client, address: str):
    return client.post(
        "/account/sign-in",
        data={"email": "nobody@example.org", "password": "wrong password"},
        headers={"X-Forwarded-For": address},
    )


def test_behind_a_trusted_proxy_limits_count_the_client_address(make_app):
    client = make_app(TRUSTED_PROXIES=1, AUTH_RATE_LIMIT="1 per minute").test_client()
    assert sign_in_from(client, "203.0.113.1").status_code != 429
    assert sign_in_from(client, "203.0.113.2").status_code != 429
    assert sign_in_from(client, "203.0.113.2").status_code == 429


def test_without_trusted_proxies_forwarded_addresses_are_ignored(make_app):
    client = make_app(AUTH_RATE_LIMIT="1 per minute").test_client()
    assert sign_in_from(client, "203.0.113.1").status_code != 429
    assert sign_in_from(client, "203.0.113.2").status_code == 429
