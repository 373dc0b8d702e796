"""API tokens: created in the agency workspace or with the CLI, shown once, stored only as
a hash with a visible prefix, revocable, optionally expiring, recording their last use,
scoped, and managed by the agency's admins only."""

import hashlib
import html
import re
from datetime import UTC, timedelta
from types import SimpleNamespace

import pytest
from babel.dates import format_datetime
from sqlalchemy import select, update

from engage.db import now_utc
from engage.extensions import db
from engage.tokens.models import ApiToken
from engage.tokens.services import token_for

TOKEN_PATTERN = re.compile(r"eng_[A-Za-z0-9_-]{43}")


def stored_tokens() -> list[ApiToken]:
    db.session.expire_all()
    return db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


def token_rows() -> list[tuple]:
    """Every column of every token row, to prove that a refused request changed nothing."""
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(select(ApiToken.__table__)).all()]


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def world(app, make_user, make_agency):
    app.config["API_SETTLE_SECONDS"] = 0
    admin = make_user("alex@example.org")
    moderator = make_user("morgan@example.org")
    other_admin = make_user("olga@example.org")
    citizen = make_user("cyd@example.org")
    agency = make_agency("city", members=[(admin, "admin"), (moderator, "moderator")])
    other = make_agency("county", members=[(other_admin, "admin")])
    return SimpleNamespace(
        admin=admin,
        moderator=moderator,
        other_admin=other_admin,
        citizen=citizen,
        agency=agency,
        other=other,
    )


def create_in_workspace(client, name="Backlog sync", scopes=("ideas:read",), slug="city"):
    return client.post(
        f"/agencies/{slug}/integrations/tokens", data={"name": name, "scopes": list(scopes)}
    )


def create_with_cli(
    runner, slug="city", name="Backlog sync", scopes="ideas:read,pipeline:write", extra=()
):
    return runner.invoke(
        args=["api-token", "create", "--agency", slug, "--name", name, "--scopes", scopes, *extra]
    )


def test_workspace_shows_new_token_once_with_201(client, auth, world):
    auth.login("alex@example.org")
    response = create_in_workspace(client, scopes=["ideas:read", "pipeline:write"])
    assert response.status_code == 201
    values = TOKEN_PATTERN.findall(response.get_data(as_text=True))
    assert len(set(values)) == 1
    (token,) = stored_tokens()
    assert token.name == "Backlog sync"
    assert token.scope_list == ["ideas:read", "pipeline:write"]
    assert token.agency_id == world.agency.id
    assert token.created_by_id == world.admin.id
    assert token.revoked_at is None and token.last_used_at is None


def test_workspace_token_is_stored_only_as_its_sha256(client, auth, world):
    auth.login("alex@example.org")
    value = TOKEN_PATTERN.search(create_in_workspace(client).get_data(as_text=True)).group()
    (token,) = stored_tokens()
    assert token.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert token.prefix == value[:12]
    assert not any(value in str(cell) for cell in token_rows()[0])


def test_token_list_shows_prefix_but_never_the_value_again(client, auth, world):
    auth.login("alex@example.org")
    value = TOKEN_PATTERN.search(create_in_workspace(client).get_data(as_text=True)).group()
    page = client.get("/agencies/city/integrations")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"{value[:12]}…" in text
    assert value not in text
    assert not TOKEN_PATTERN.search(text)


def test_workspace_token_works_for_the_api(client, auth, world):
    auth.login("alex@example.org")
    value = TOKEN_PATTERN.search(create_in_workspace(client).get_data(as_text=True)).group()
    auth.logout()
    assert client.get("/api/v1/challenges", headers=bearer(value)).status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "scopes": ["ideas:read"]},
        {"name": "x" * 81, "scopes": ["ideas:read"]},
        {"name": "Backlog"},
        {"name": "Backlog", "scopes": ["ideas:write"]},
    ],
)
def test_workspace_refuses_token_without_name_or_known_scope(client, auth, world, data):
    auth.login("alex@example.org")
    response = client.post("/agencies/city/integrations/tokens", data=data)
    assert response.status_code == 422
    assert not TOKEN_PATTERN.search(response.get_data(as_text=True))
    assert stored_tokens() == []


def test_cli_prints_working_token_alone_on_last_line(runner, client, world):
    result = create_with_cli(runner)
    assert result.exit_code == 0, result.output
    value = result.stdout.splitlines()[-1]
    assert TOKEN_PATTERN.fullmatch(value)
    (token,) = stored_tokens()
    assert token.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert token.agency_id == world.agency.id
    assert token.scope_list == ["ideas:read", "pipeline:write"]
    assert token.created_by_id is None
    assert client.get("/api/v1/challenges", headers=bearer(value)).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"slug": "nowhere"}, "No agency with the slug 'nowhere'."),
        ({"scopes": "ideas:read,admin"}, "Choose at least one scope from the list."),
        ({"scopes": ","}, "Choose at least one scope from the list."),
        ({"name": " "}, "Give the token a name of at most 80 characters."),
    ],
)
def test_cli_refuses_unknown_agency_scope_or_empty_name(runner, world, args, message):
    result = create_with_cli(runner, **args)
    assert result.exit_code != 0
    assert message in result.output
    assert not TOKEN_PATTERN.search(result.output)
    assert stored_tokens() == []


def test_revoked_token_gets_401(client, auth, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    (token,) = stored_tokens()
    auth.login("alex@example.org")
    response = client.post(f"/agencies/city/integrations/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert response.location.endswith("/agencies/city/integrations")
    assert stored_tokens()[0].revoked_at is not None
    answer = client.get("/api/v1/ideas", headers=bearer(value))
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"


def test_revoked_token_is_listed_as_revoked_without_revoke_button(client, auth, runner, world):
    create_with_cli(runner)
    (token,) = stored_tokens()
    auth.login("alex@example.org")
    client.post(f"/agencies/city/integrations/tokens/{token.id}/revoke")
    text = client.get("/agencies/city/integrations").get_data(as_text=True)
    assert "Revoked" in text
    assert f"/integrations/tokens/{token.id}/revoke" not in text


def test_revoking_twice_changes_nothing(client, auth, runner, world):
    create_with_cli(runner)
    (token,) = stored_tokens()
    auth.login("alex@example.org")
    client.post(f"/agencies/city/integrations/tokens/{token.id}/revoke")
    before = token_rows()
    response = client.post(f"/agencies/city/integrations/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert token_rows() == before


def test_token_records_its_last_use(client, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    assert stored_tokens()[0].last_used_at is None
    client.get("/api/v1/challenges", headers=bearer(value))
    assert stored_tokens()[0].last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(app, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    start = now_utc()
    uses = [start, start + timedelta(seconds=59), start + timedelta(seconds=60)]
    recorded = []
    for when in uses:
        token_for(value, now=when)
        db.session.commit()
        recorded.append(stored_tokens()[0].last_used_at)
    assert recorded == [start, start, start + timedelta(seconds=60)]


def test_last_use_is_recorded_even_when_the_request_fails(client, runner, world):
    value = create_with_cli(runner, scopes="pipeline:write").stdout.splitlines()[-1]
    assert client.get("/api/v1/ideas", headers=bearer(value)).status_code == 403
    assert stored_tokens()[0].last_used_at is not None


def test_last_use_shows_in_the_workspace(client, auth, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    auth.login("alex@example.org")
    assert "never" in client.get("/agencies/city/integrations").get_data(as_text=True)
    client.get("/api/v1/challenges", headers=bearer(value))
    assert "never" not in client.get("/agencies/city/integrations").get_data(as_text=True)


def test_unknown_or_malformed_token_does_not_touch_last_use(client, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    for header in (value[:-1] + ("A" if value[-1] != "A" else "B"), value[4:], ""):
        assert client.get("/api/v1/ideas", headers=bearer(header)).status_code == 401
    assert stored_tokens()[0].last_used_at is None


@pytest.mark.parametrize(
    ("scopes", "allowed", "refused"),
    [
        (
            "ideas:read",
            ["GET /api/v1/ideas", "GET /api/v1/challenges"],
            ["POST /api/v1/ideas/1/pipeline"],
        ),
        (
            "pipeline:write",
            ["POST /api/v1/ideas/1/pipeline"],
            ["GET /api/v1/ideas", "GET /api/v1/ideas/1", "GET /api/v1/challenges"],
        ),
    ],
)
def test_token_reaches_only_what_its_scopes_allow(client, runner, world, scopes, allowed, refused):
    value = create_with_cli(runner, scopes=scopes).stdout.splitlines()[-1]

    def call(line):
        method, path = line.split()
        return client.open(
            path,
            method=method,
            headers=bearer(value),
            json={"stage": "concept"} if method == "POST" else None,
        )

    for line in allowed:
        assert call(line).status_code != 403, line  # 200, or 404 for the missing idea 1
    for line in refused:
        response = call(line)
        assert response.status_code == 403, line
        assert response.get_json()["detail"].startswith("This token lacks the")


def test_token_of_one_agency_does_not_list_another_agencys_challenges(
    client, runner, world, make_challenge
):
    make_challenge("open", agency=world.other, slug="county-roads")
    mine = make_challenge("open", agency=world.agency, slug="city-parks")
    value = create_with_cli(runner).stdout.splitlines()[-1]
    data = client.get("/api/v1/challenges", headers=bearer(value)).get_json()["data"]
    assert [c["id"] for c in data] == [mine.id]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("olga@example.org", 404),
        ("morgan@example.org", 403),
        ("cyd@example.org", 404),
    ],
)
def test_only_the_agencys_admins_see_the_integrations_page(client, auth, world, who, status):
    auth.login(who)
    assert client.get("/agencies/city/integrations").status_code == status


def test_signed_out_visitor_is_sent_to_sign_in(client, world):
    response = client.get("/agencies/city/integrations")
    assert response.status_code == 302
    assert "/account/sign-in" in response.location


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("olga@example.org", 404),
        ("morgan@example.org", 403),
        ("cyd@example.org", 404),
    ],
)
def test_only_the_agencys_admins_create_tokens(client, auth, world, who, status):
    auth.login(who)
    response = create_in_workspace(client)
    assert response.status_code == status
    assert not TOKEN_PATTERN.search(response.get_data(as_text=True))
    assert stored_tokens() == []


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("olga@example.org", 404),
        ("morgan@example.org", 403),
        ("cyd@example.org", 404),
    ],
)
def test_only_the_agencys_admins_revoke_tokens(client, auth, runner, world, who, status):
    create_with_cli(runner)
    (token,) = stored_tokens()
    before = token_rows()
    auth.login(who)
    response = client.post(f"/agencies/city/integrations/tokens/{token.id}/revoke")
    assert response.status_code == status
    assert token_rows() == before


def test_admin_cannot_revoke_another_agencys_token_through_own_workspace(
    client, auth, runner, world
):
    create_with_cli(runner, slug="city")
    (token,) = stored_tokens()
    before = token_rows()
    auth.login("olga@example.org")
    response = client.post(f"/agencies/county/integrations/tokens/{token.id}/revoke")
    assert response.status_code == 404
    assert token_rows() == before


def test_other_agencys_tokens_are_not_listed(client, auth, runner, world):
    create_with_cli(runner, slug="city", name="City backlog")
    auth.login("olga@example.org")
    text = client.get("/agencies/county/integrations").get_data(as_text=True)
    assert "City backlog" not in text
    assert stored_tokens()[0].prefix not in text


# Expiry


def expire(token_id: int) -> None:
    """Move a token's expiry into the past, as time would."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(expires_at=now_utc() - timedelta(seconds=1))
    )
    db.session.commit()


@pytest.mark.parametrize("days", [30, 90, 365])
def test_workspace_token_expires_after_the_chosen_days(client, auth, world, days):
    auth.login("alex@example.org")
    response = client.post(
        "/agencies/city/integrations/tokens",
        data={"name": "Backlog", "scopes": ["ideas:read"], "expires_in_days": str(days)},
    )
    assert response.status_code == 201
    (token,) = stored_tokens()
    assert token.expires_at - token.created_at == timedelta(days=days)


def test_workspace_token_never_expires_by_default(client, auth, world):
    auth.login("alex@example.org")
    assert create_in_workspace(client).status_code == 201
    assert stored_tokens()[0].expires_at is None


@pytest.mark.parametrize("days", ["7", "0", "-30", "3651", "thirty"])
def test_workspace_refuses_an_expiry_not_offered(client, auth, world, days):
    auth.login("alex@example.org")
    response = client.post(
        "/agencies/city/integrations/tokens",
        data={"name": "Backlog", "scopes": ["ideas:read"], "expires_in_days": days},
    )
    assert response.status_code == 422
    assert not TOKEN_PATTERN.search(response.get_data(as_text=True))
    assert stored_tokens() == []


def test_new_token_notice_says_when_it_stops_working(client, auth, world):
    auth.login("alex@example.org")
    response = client.post(
        "/agencies/city/integrations/tokens",
        data={"name": "Backlog", "scopes": ["ideas:read"], "expires_in_days": "30"},
    )
    assert "It stops working on" in response.get_data(as_text=True)


def test_cli_token_expires_after_the_given_days(runner, world):
    result = create_with_cli(runner, extra=["--expires-in-days", "10"])
    assert result.exit_code == 0, result.output
    (token,) = stored_tokens()
    assert token.expires_at - token.created_at == timedelta(days=10)
    assert f"It expires at {token.expires_at.isoformat(timespec='seconds')}." in result.output
    assert TOKEN_PATTERN.fullmatch(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("days", ["0", "-1", "3651"])
def test_cli_refuses_an_expiry_out_of_range(runner, world, days):
    result = create_with_cli(runner, extra=["--expires-in-days", days])
    assert result.exit_code != 0
    assert "A token can expire in 1 to 3650 days." in result.output
    assert not TOKEN_PATTERN.search(result.output)
    assert stored_tokens() == []


def test_token_works_until_it_expires(client, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    db.session.execute(update(ApiToken).values(expires_at=now_utc() + timedelta(minutes=1)))
    db.session.commit()
    assert client.get("/api/v1/challenges", headers=bearer(value)).status_code == 200


def test_expired_token_gets_401_saying_it_expired(client, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    expire(stored_tokens()[0].id)
    response = client.get("/api/v1/challenges", headers=bearer(value))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "expired" in response.get_json()["detail"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_token_does_not_record_a_use(client, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    expire(stored_tokens()[0].id)
    client.get("/api/v1/challenges", headers=bearer(value))
    assert stored_tokens()[0].last_used_at is None


def test_other_tokens_get_the_plain_401_when_an_expired_one_exists(client, runner, world):
    expired = create_with_cli(runner).stdout.splitlines()[-1]
    expire(stored_tokens()[0].id)
    plain = client.get("/api/v1/challenges").get_json()
    wrong = expired[:-1] + ("A" if expired[-1] != "A" else "B")
    for value in (wrong, "eng_unknown"):
        response = client.get("/api/v1/challenges", headers=bearer(value))
        assert response.get_json() == plain
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="engage"'


def test_revoked_token_past_its_expiry_gets_the_plain_401(client, auth, runner, world):
    value = create_with_cli(runner).stdout.splitlines()[-1]
    (token,) = stored_tokens()
    auth.login("alex@example.org")
    client.post(f"/agencies/city/integrations/tokens/{token.id}/revoke")
    expire(token.id)
    response = client.get("/api/v1/challenges", headers=bearer(value))
    assert response.status_code == 401
    assert "expired" not in response.get_json()["detail"]


def test_token_list_shows_the_expiry_date(client, auth, runner, world):
    create_with_cli(runner, extra=["--expires-in-days", "5"])
    auth.login("alex@example.org")
    text = client.get("/agencies/city/integrations").get_data(as_text=True)
    shown = format_datetime(stored_tokens()[0].expires_at, "short", tzinfo=UTC, locale="en")
    assert html.escape(shown) in text
    assert "Expired" not in text


def test_token_list_marks_expired_tokens_without_revoke_button(client, auth, runner, world):
    create_with_cli(runner)
    (token,) = stored_tokens()
    expire(token.id)
    auth.login("alex@example.org")
    text = client.get("/agencies/city/integrations").get_data(as_text=True)
    assert "Expired" in text
    assert f"/integrations/tokens/{token.id}/revoke" not in text
