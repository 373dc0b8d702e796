"""API rate limits (API_RATE_LIMIT): counted per token, answered with 429 problem+json and
a Retry-After header."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engage.extensions import db, limiter
from engage.tokens.models import ApiToken
from engage.tokens.services import create_token


@pytest.fixture
def world(app, make_agency):
    app.config["API_SETTLE_SECONDS"] = 0
    app.config["API_RATE_LIMIT"] = "5 per minute"
    limiter.reset()
    agency = make_agency("city")
    other_agency = make_agency("county")
    _, first = create_token(None, agency, "Backlog", ["ideas:read"])
    _, second = create_token(None, agency, "Portfolio", ["ideas:read"])
    _, third = create_token(None, other_agency, "County", ["ideas:read"])
    db.session.commit()
    return SimpleNamespace(
        **{
            name: {"Authorization": f"Bearer {value}"}
            for name, value in (("first", first), ("second", second), ("other_agency", third))
        }
    )


def use_up(client, headers, count=5, path="/api/v1/ideas"):
    statuses = [client.get(path, headers=headers).status_code for _ in range(count)]
    assert statuses == [200] * count


def test_requests_within_the_limit_succeed(client, world):
    use_up(client, world.first)


def test_request_over_the_limit_gets_429_problem_with_retry_after(client, world):
    use_up(client, world.first)
    response = client.get("/api/v1/ideas", headers=world.first)
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 429
    assert {"type", "title", "detail"} <= set(body)
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60


def test_limit_counts_every_endpoint_of_the_token_together(client, world):
    for path in (
        "/api/v1/ideas",
        "/api/v1/challenges",
        "/api/v1/ideas?format=ndjson",
        "/api/v1/ideas/1",
        "/api/v1/challenges",
    ):
        client.get(path, headers=world.first).get_data()
    assert client.get("/api/v1/challenges", headers=world.first).status_code == 429


def test_another_token_of_the_same_agency_is_unaffected(client, world):
    use_up(client, world.first)
    assert client.get("/api/v1/ideas", headers=world.first).status_code == 429
    use_up(client, world.second)


def test_another_agencys_token_is_unaffected(client, world):
    use_up(client, world.first)
    assert client.get("/api/v1/ideas", headers=world.first).status_code == 429
    use_up(client, world.other_agency)


def test_requests_without_a_token_do_not_use_up_a_tokens_limit(client, world):
    for _ in range(6):
        client.get("/api/v1/ideas")
    use_up(client, world.first)


def test_limit_is_read_from_the_configuration(app, client, world):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    use_up(client, world.first, count=2)
    assert client.get("/api/v1/ideas", headers=world.first).status_code == 429


def test_refused_request_does_not_record_a_use_of_the_token(client, world):
    use_up(client, world.first)
    db.session.expire_all()
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "Backlog"))
    last_used = token.last_used_at
    assert client.get("/api/v1/ideas", headers=world.first).status_code == 429
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == last_used
