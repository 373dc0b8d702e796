"""GET /api/v1/ideas, /ideas/{id} and /challenges: authentication, the exact idea
representation, filters, parameter errors as problem+json, keyset pagination, agency
isolation, CSV and NDJSON exports and content negotiation."""

import base64
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from engage.challenges.tags import resolve_tags
from engage.extensions import db
from engage.ideas import states
from engage.ideas.decisions import decide_idea, move_idea_stage
from engage.moderation.services import moderate_idea, set_risk_flag
from engage.tokens.services import create_token, revoke_token

IDEA_KEYS = {
    "id",
    "url",
    "challenge",
    "title",
    "body_markdown",
    "body_html",
    "tags",
    "author",
    "vote_count",
    "comment_count",
    "moderation_state",
    "decision",
    "decision_response",
    "pipeline_stage",
    "external_ref",
    "risk_flags",
    "created_at",
    "published_at",
    "decided_at",
    "updated_at",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PROBLEM_KEYS = {"type", "title", "status", "detail"}


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value)


@pytest.fixture
def world(app, make_user, make_agency, make_challenge, make_idea):
    app.config["API_SETTLE_SECONDS"] = 0
    admin = make_user("alex@example.org")
    moderator = make_user("morgan@example.org")
    agency = make_agency("city", members=[(admin, "admin"), (moderator, "moderator")])
    other_admin = make_user("olga@example.org")
    other = make_agency("county", members=[(other_admin, "admin")])
    challenge = make_challenge("open", agency=agency, slug="greener-city", title="Greener city")
    second = make_challenge("voting", agency=agency, slug="safer-streets", title="Safer streets")
    other_challenge = make_challenge("open", agency=other, slug="county-roads")
    token, value = create_token(None, agency, "Backlog", ["ideas:read", "pipeline:write"])
    db.session.commit()

    def idea(decision="accept", *, challenge=challenge, decider=admin, **fields):
        made = make_idea(challenge, **fields)
        if decision:
            decide_idea(decider, made, decision, f"We {decision} this.")
            db.session.commit()
        return made

    return SimpleNamespace(
        admin=admin,
        moderator=moderator,
        agency=agency,
        other=other,
        other_admin=other_admin,
        challenge=challenge,
        second=second,
        other_challenge=other_challenge,
        token=token,
        value=value,
        headers=bearer(value),
        idea=idea,
        make_user=make_user,
    )


def get(client, world, path="/api/v1/ideas", **kwargs):
    return client.get(path, headers={**world.headers, **kwargs.pop("headers", {})}, **kwargs)


def ids(response) -> list[int]:
    return [item["id"] for item in response.get_json()["data"]]


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body)
    assert body["status"] == status
    assert body["detail"]
    if field is not None:
        assert [p["name"] for p in body["invalid_params"]] == [field]
    return body


# Authentication and scopes


def test_request_without_token_gets_401_problem(client, world):
    response = client.get("/api/v1/ideas")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer eng_not-a-real-token",
        "Bearer ",
        "Basic YWxleDpzZWNyZXQ=",
        "eng_abc",
        "Bearer " + "eng_" + "a" * 200,
    ],
)
def test_bad_token_gets_401_problem(client, world, header):
    assert_problem(client.get("/api/v1/ideas", headers={"Authorization": header}), 401)


def test_token_value_without_bearer_scheme_gets_401(client, world):
    response = client.get("/api/v1/ideas", headers={"Authorization": world.value})
    assert_problem(response, 401)


def test_revoked_token_gets_401_problem(client, world):
    revoke_token(world.admin, world.token)
    db.session.commit()
    for path in ("/api/v1/ideas", "/api/v1/challenges", "/api/v1/ideas/1"):
        assert_problem(get(client, world, path), 401)


def test_token_without_ideas_read_gets_403_problem(client, world):
    _, value = create_token(None, world.agency, "Writer", ["pipeline:write"])
    db.session.commit()
    idea = world.idea()
    for path in ("/api/v1/ideas", f"/api/v1/ideas/{idea.id}", "/api/v1/challenges"):
        body = assert_problem(client.get(path, headers=bearer(value)), 403)
        assert "ideas:read" in body["detail"]


def test_openapi_document_needs_no_token(client, world):
    assert client.get("/api/v1/openapi.json").status_code == 200


# The representation


def test_idea_has_exactly_the_documented_keys(client, world):
    world.idea()
    (item,) = get(client, world).get_json()["data"]
    assert set(item) == IDEA_KEYS
    assert set(item["challenge"]) == {"id", "slug", "title"}
    assert set(item["author"]) == {"display_name", "account_type", "organisation"}


def test_idea_detail_adds_only_pipeline_history(client, world):
    idea = world.idea()
    detail = get(client, world, f"/api/v1/ideas/{idea.id}").get_json()
    assert set(detail) == IDEA_KEYS | {"pipeline_history"}
    assert [set(step) for step in detail["pipeline_history"]] == [
        {"stage", "note", "external_ref", "at"}
    ]


def test_idea_values_describe_the_idea(client, world, make_vote):
    author = world.make_user(display_name="Ada Author")
    idea = world.idea(author=author, title="Fruit trees", body="Plant **apples**.")
    make_vote(world.make_user(), idea)
    db.session.refresh(idea)
    (item,) = get(client, world).get_json()["data"]
    assert item["id"] == idea.id
    assert item["url"] == f"http://engage.test/ideas/{idea.id}"
    assert item["challenge"] == {
        "id": world.challenge.id,
        "slug": "greener-city",
        "title": "Greener city",
    }
    assert item["title"] == "Fruit trees"
    assert item["body_markdown"] == "Plant **apples**."
    assert item["body_html"] == "<p>Plant <strong>apples</strong>.</p>"
    assert item["author"] == {
        "display_name": "Ada Author",
        "account_type": "citizen",
        "organisation": None,
    }
    assert (item["vote_count"], item["comment_count"]) == (1, 0)
    assert (item["moderation_state"], item["decision"]) == ("published", "accepted")
    assert item["decision_response"] == "We accept this."
    assert (item["pipeline_stage"], item["external_ref"]) == ("backlog", None)
    assert item["risk_flags"] == []
    assert parse_time(item["updated_at"]) == idea.updated_at


def test_idea_timestamps_are_rfc3339_utc(client, world):
    world.idea()
    (item,) = get(client, world).get_json()["data"]
    for key in ("created_at", "published_at", "decided_at", "updated_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", item[key]), key
        assert parse_time(item[key]).utcoffset() == timedelta(0)


def test_idea_tags_are_listed_by_name(client, world):
    idea = world.idea()
    idea.tags = resolve_tags(["trees", "parks"])
    db.session.commit()
    (item,) = get(client, world).get_json()["data"]
    assert item["tags"] == ["parks", "trees"]


def test_body_html_is_sanitized(client, world):
    world.idea(
        body='<script>alert(1)</script><a href="javascript:x()" onclick="y()">link</a> <b>bold</b>'
    )
    html = get(client, world).get_json()["data"][0]["body_html"]
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onclick" not in html


def test_business_author_shows_organisation(client, world):
    author = world.make_user(
        account_type="business", organisation_name="Acme Ltd", display_name="Bea Business"
    )
    world.idea(author=author)
    (item,) = get(client, world).get_json()["data"]
    assert item["author"] == {
        "display_name": "Bea Business",
        "account_type": "business",
        "organisation": "Acme Ltd",
    }


def test_detail_lists_pipeline_history_and_risk_flags(client, world):
    idea = world.idea()
    move_idea_stage(world.admin, idea, "concept", "Drafting a plan", "JIRA-7")
    set_risk_flag(world.moderator, idea, "privacy", "Cameras in the park")
    db.session.commit()
    detail = get(client, world, f"/api/v1/ideas/{idea.id}").get_json()
    assert [(s["stage"], s["note"], s["external_ref"]) for s in detail["pipeline_history"]] == [
        ("backlog", "We accept this.", None),
        ("concept", "Drafting a plan", "JIRA-7"),
    ]
    assert all(parse_time(s["at"]) for s in detail["pipeline_history"])
    assert detail["risk_flags"] == [{"kind": "privacy", "note": "Cameras in the park"}]
    assert (detail["pipeline_stage"], detail["external_ref"]) == ("concept", "JIRA-7")


def test_no_api_response_contains_an_email_address(client, world, make_vote, make_idea):
    business = world.make_user(
        "boss@acme.example", account_type="business", organisation_name="Acme"
    )
    idea = world.idea(author=business, title="Benches", body="Shade for everyone.")
    make_vote(world.make_user("voter@example.net", email_on_decisions=True), idea)
    world.idea("shortlist", author=world.make_user("short@example.org"))
    pending = make_idea(world.challenge, state="pending")
    move_idea_stage(world.admin, idea, "concept", "Planning")
    set_risk_flag(world.moderator, idea, "safety", "Check the slope")
    db.session.commit()
    calls = [
        ("GET", "/api/v1/ideas", {}),
        ("GET", "/api/v1/ideas", {"decision": "shortlisted"}),
        ("GET", "/api/v1/ideas", {"updated_since": "2000-01-01T00:00:00Z"}),
        ("GET", "/api/v1/ideas", {"format": "csv"}),
        ("GET", "/api/v1/ideas", {"format": "ndjson"}),
        ("GET", f"/api/v1/ideas/{idea.id}", {}),
        ("GET", f"/api/v1/ideas/{pending.id}", {}),
        ("GET", "/api/v1/challenges", {}),
        ("POST", f"/api/v1/ideas/{idea.id}/pipeline", {}),
        ("GET", "/api/v1/ideas/999999", {}),
        ("GET", "/api/v1/openapi.json", {}),
    ]
    # Each streamed body is read before the next request starts.
    texts = [
        client.open(
            path,
            method=method,
            headers=world.headers,
            query_string=query,
            json={"stage": "validation"} if method == "POST" else None,
        ).get_data(as_text=True)
        for method, path, query in calls
    ]
    assert json.loads(texts[0])["data"]
    for text in texts:
        assert not EMAIL.search(text), text


# Default set and filters


def test_lists_only_published_accepted_ideas_by_default(client, world, make_idea):
    accepted = world.idea()
    world.idea("shortlist")
    world.idea("decline")
    world.idea(None)
    make_idea(world.challenge, state="pending")
    hidden = world.idea()
    moderate_idea(world.moderator, hidden, "hide", "Off topic")
    db.session.commit()
    assert ids(get(client, world)) == [accepted.id]


@pytest.mark.parametrize("decision", ["none", "shortlisted", "accepted", "declined"])
def test_decision_filter_lists_that_decision(client, world, decision):
    made = {
        "none": world.idea(None),
        "shortlisted": world.idea("shortlist"),
        "accepted": world.idea("accept"),
        "declined": world.idea("decline"),
    }
    response = get(client, world, query_string={"decision": decision})
    assert ids(response) == [made[decision].id]


def test_stage_filter_lists_ideas_in_that_stage(client, world):
    backlog = world.idea()
    concept = world.idea()
    move_idea_stage(world.admin, concept, "concept")
    db.session.commit()
    assert ids(get(client, world, query_string={"stage": "concept"})) == [concept.id]
    assert ids(get(client, world, query_string={"stage": "backlog"})) == [backlog.id]
    assert ids(get(client, world, query_string={"stage": "implemented"})) == []


def test_challenge_filter_lists_that_challenges_ideas(client, world):
    first = world.idea()
    second = world.idea(challenge=world.second)
    assert ids(get(client, world, query_string={"challenge": "greener-city"})) == [first.id]
    assert ids(get(client, world, query_string={"challenge": "safer-streets"})) == [second.id]


def test_updated_since_lists_ideas_changed_after_that_time(client, world):
    old = world.idea()
    fresh = world.idea()
    since = fresh.updated_at - timedelta(microseconds=1)
    move_idea_stage(world.admin, old, "concept")
    db.session.commit()
    query = {"updated_since": since.isoformat().replace("+00:00", "Z")}
    assert ids(get(client, world, query_string=query)) == [fresh.id, old.id]


def test_updated_since_accepts_any_time_zone_offset(client, world):
    idea = world.idea()
    paris = (idea.updated_at - timedelta(seconds=1)).astimezone(ZoneInfo("Europe/Paris"))
    later = (idea.updated_at + timedelta(seconds=1)).astimezone(ZoneInfo("America/New_York"))
    assert ids(get(client, world, query_string={"updated_since": paris.isoformat()})) == [idea.id]
    assert ids(get(client, world, query_string={"updated_since": later.isoformat()})) == []


def test_limit_caps_the_page(client, world):
    made = [world.idea() for _ in range(3)]
    assert ids(get(client, world, query_string={"limit": "2"})) == [made[0].id, made[1].id]
    assert ids(get(client, world, query_string={"limit": "500"})) == [i.id for i in made]


def test_default_limit_is_100(client, world, make_idea):
    author = world.make_user()
    for _ in range(101):
        made = make_idea(world.challenge, author=author)
        states.apply_decision(made, "accept", "Yes")
    db.session.commit()
    body = get(client, world).get_json()
    assert (len(body["data"]), body["has_more"]) == (100, True)


def test_ideas_are_ordered_by_update_then_id(client, world):
    made = [world.idea() for _ in range(4)]
    move_idea_stage(world.admin, made[1], "concept")
    db.session.commit()
    items = get(client, world).get_json()["data"]
    assert [i["id"] for i in items] == [made[0].id, made[2].id, made[3].id, made[1].id]
    keys = [(parse_time(i["updated_at"]), i["id"]) for i in items]
    assert keys == sorted(keys)


# Parameter errors


def cursor_of(data) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"limit": "0"}, 400, "limit"),
        ({"limit": "501"}, 400, "limit"),
        ({"limit": "abc"}, 400, "limit"),
        ({"limit": "-1"}, 400, "limit"),
        ({"limit": ""}, 400, "limit"),
        ({"limit": "1e2"}, 400, "limit"),
        ({"updated_since": "yesterday"}, 400, "updated_since"),
        ({"updated_since": "2026-13-01T00:00:00Z"}, 400, "updated_since"),
        ({"updated_since": "2026-01-01T00:00:00"}, 400, "updated_since"),
        ({"updated_since": "2026-01-01"}, 400, "updated_since"),
        ({"updated_since": "0001-01-01T00:00:00+01:00"}, 400, "updated_since"),
        ({"updated_since": "9999-12-31T23:59:59-01:00"}, 400, "updated_since"),
        ({"cursor": "!!!"}, 400, "cursor"),
        ({"cursor": "bm90IGpzb24"}, 400, "cursor"),
        ({"cursor": cursor_of(["2026-01-01T00:00:00+00:00", 1])}, 400, "cursor"),
        ({"cursor": cursor_of({"u": "2026-01-01T00:00:00", "i": 1})}, 400, "cursor"),
        ({"cursor": cursor_of({"u": "2026-01-01T00:00:00+00:00", "i": 0})}, 400, "cursor"),
        ({"cursor": cursor_of({"u": "2026-01-01T00:00:00+00:00", "i": "x"})}, 400, "cursor"),
        ({"cursor": cursor_of({"u": "0001-01-01T00:00:00+01:00", "i": 1})}, 400, "cursor"),
        ({"cursor": cursor_of({"i": 1})}, 400, "cursor"),
        ({"challenge": "no-such-challenge"}, 422, "challenge"),
        ({"challenge": "county-roads"}, 422, "challenge"),
        ({"decision": "maybe"}, 400, "decision"),
        ({"decision": "Accepted"}, 400, "decision"),
        ({"stage": "done"}, 400, "stage"),
        ({"format": "xml"}, 400, "format"),
    ],
)
def test_bad_parameter_gets_problem_naming_the_field(client, world, query, status, field):
    world.idea()
    assert_problem(get(client, world, query_string=query), status, field)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/ideas/0", "/api/v1/ideas/abc", "/api/v1/ideas/99999999999", "/api/v1/nothing"],
)
def test_unknown_api_path_gets_404_problem(client, world, path):
    assert_problem(get(client, world, path), 404)


# Pagination


def test_pages_are_linked_by_next_and_link_header(client, world):
    made = [world.idea() for _ in range(5)]
    seen, url, pages = [], "/api/v1/ideas?limit=2", 0
    while True:
        response = get(client, world, url)
        body = response.get_json()
        seen += ids(response)
        pages += 1
        if not body["has_more"]:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        query = parse_qs(urlsplit(body["next"]).query)
        assert query["cursor"] == [body["next_cursor"]]
        assert query["limit"] == ["2"]
        url = body["next"]
    assert seen == [i.id for i in made]
    assert pages == 3


def test_next_keeps_the_filters(client, world):
    [world.idea(challenge=world.second) for _ in range(2)]
    world.idea()
    body = get(
        client,
        world,
        query_string={"limit": "1", "challenge": "safer-streets", "stage": "backlog"},
    ).get_json()
    query = parse_qs(urlsplit(body["next"]).query)
    assert query["challenge"] == ["safer-streets"]
    assert query["stage"] == ["backlog"]
    second = get(client, world, body["next"]).get_json()
    assert len(second["data"]) == 1 and not second["has_more"]
    assert second["data"][0]["challenge"]["slug"] == "safer-streets"


def test_last_page_links_to_polling_from_its_end(client, world):
    world.idea()
    body = get(client, world).get_json()
    assert body["has_more"] is False
    assert body["next"] and body["next_cursor"]
    assert get(client, world, body["next"]).get_json()["data"] == []
    later = world.idea()
    assert ids(get(client, world, body["next"])) == [later.id]


def test_empty_page_after_a_cursor_keeps_that_cursor(client, world):
    world.idea()
    first = get(client, world).get_json()
    again = get(client, world, first["next"]).get_json()
    assert again["data"] == [] and again["next_cursor"] == first["next_cursor"]


def test_cursor_survives_changes_to_ideas_already_read(client, world):
    made = [world.idea() for _ in range(4)]
    first = get(client, world, query_string={"limit": "2"}).get_json()
    move_idea_stage(world.admin, made[0], "concept")
    db.session.commit()
    second = get(client, world, first["next"]).get_json()
    third = get(client, world, second["next"]).get_json()
    assert [i["id"] for i in second["data"] + third["data"]] == [
        made[2].id,
        made[3].id,
        made[0].id,
    ]
    assert third["data"][0]["pipeline_stage"] == "concept"


# Another agency


def test_another_agencys_ideas_are_never_listed(client, world):
    mine = world.idea()
    theirs = world.idea(challenge=world.other_challenge, decider=world.other_admin)
    for query in ({}, {"updated_since": "2000-01-01T00:00:00Z"}, {"decision": "accepted"}):
        assert ids(get(client, world, query_string=query)) == [mine.id]
    for fmt in ("csv", "ndjson"):
        text = get(client, world, query_string={"format": fmt}).get_data(as_text=True)
        assert theirs.title not in text


def test_another_agencys_idea_is_404(client, world):
    theirs = world.idea(challenge=world.other_challenge, decider=world.other_admin)
    body = assert_problem(get(client, world, f"/api/v1/ideas/{theirs.id}"), 404)
    missing = assert_problem(get(client, world, "/api/v1/ideas/2147483647"), 404)
    assert body["title"] == missing["title"]


def test_own_idea_detail_is_returned_whatever_its_state(client, world, make_idea):
    pending = make_idea(world.challenge, state="pending")
    detail = get(client, world, f"/api/v1/ideas/{pending.id}").get_json()
    assert (detail["id"], detail["moderation_state"]) == (pending.id, "pending")


# CSV and NDJSON


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_lists_every_matching_idea(client, world):
    made = [world.idea() for _ in range(3)]
    response = get(client, world, query_string={"format": "csv", "limit": "1"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    rows = csv_rows(response)
    assert [int(r["id"]) for r in rows] == [i.id for i in made]
    assert rows[0]["challenge_slug"] == "greener-city"
    assert rows[0]["decision"] == "accepted"
    assert rows[0]["pipeline_stage"] == "backlog"


@pytest.mark.parametrize(
    "title", ["=1+1", "@SUM(A1:A2)", "+x", "-x", "\tTab", "=cmd|'/c calc'!A0"]
)
def test_csv_cells_are_formula_safe(client, world, title):
    world.idea(title=title, author=world.make_user(display_name=title))
    (row,) = csv_rows(get(client, world, query_string={"format": "csv"}))
    assert row["title"] == "'" + title
    assert row["author_display_name"] == "'" + title


def test_csv_keeps_ordinary_text_as_is(client, world):
    world.idea(title='Trees, benches and "shade" = good')
    (row,) = csv_rows(get(client, world, query_string={"format": "csv"}))
    assert row["title"] == 'Trees, benches and "shade" = good'


def test_ndjson_has_one_idea_object_per_line(client, world):
    made = [world.idea() for _ in range(3)]
    response = get(client, world, query_string={"format": "ndjson"})
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert response.is_streamed
    lines = response.get_data(as_text=True).splitlines()
    items = [json.loads(line) for line in lines]
    assert [i["id"] for i in items] == [i.id for i in made]
    assert all(set(item) == IDEA_KEYS for item in items)
    assert items == get(client, world).get_json()["data"]


def test_exports_apply_the_filters(client, world):
    world.idea()
    wanted = world.idea(challenge=world.second)
    query = {"challenge": "safer-streets"}
    ndjson = get(client, world, query_string={**query, "format": "ndjson"})
    assert [json.loads(x)["id"] for x in ndjson.get_data(as_text=True).splitlines()] == [wanted.id]
    assert [
        int(r["id"]) for r in csv_rows(get(client, world, query_string={**query, "format": "csv"}))
    ] == [wanted.id]


def test_empty_csv_still_has_its_header(client, world):
    rows = get(client, world, query_string={"format": "csv"}).get_data(as_text=True)
    assert rows.splitlines()[0].startswith("id,url,challenge_slug,title,")


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        ("text/csv", "text/csv"),
        ("application/x-ndjson", "application/x-ndjson"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("text/html", "application/json"),
        ("text/csv;q=0.5, application/x-ndjson", "application/x-ndjson"),
    ],
)
def test_accept_header_chooses_the_format(client, world, accept, mimetype):
    world.idea()
    response = get(client, world, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_format_parameter_wins_over_accept_header(client, world):
    world.idea()
    response = get(client, world, headers={"Accept": "text/csv"}, query_string={"format": "json"})
    assert response.mimetype == "application/json"


# Challenges


def test_challenges_lists_the_agencys_challenges_with_phase_and_counts(client, world):
    world.idea()
    world.idea()
    world.idea(challenge=world.second)
    body = get(client, world, "/api/v1/challenges").get_json()
    by_slug = {c["slug"]: c for c in body["data"]}
    assert set(by_slug) == {"greener-city", "safer-streets"}
    assert by_slug["greener-city"]["phase"] == "open"
    assert by_slug["safer-streets"]["phase"] == "voting"
    assert by_slug["greener-city"]["idea_count"] == 2
    assert by_slug["safer-streets"]["idea_count"] == 1
    assert set(by_slug["greener-city"]) == {
        "id",
        "slug",
        "title",
        "summary",
        "url",
        "phase",
        "opens_at",
        "submissions_close_at",
        "voting_closes_at",
        "idea_count",
        "tags",
    }
    assert by_slug["greener-city"]["url"] == "http://engage.test/challenges/greener-city"
    assert parse_time(by_slug["greener-city"]["opens_at"]) < datetime.now(UTC)


# Queries


def count_queries(query_counter, client, world, query) -> int:
    with query_counter() as counter:
        response = get(client, world, query_string=query)
        response.get_data()  # a streamed body runs its queries while it is read
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("query", [{}, {"format": "csv"}, {"format": "ndjson"}])
def test_query_count_does_not_grow_with_the_number_of_ideas(client, world, query_counter, query):
    def add_ideas(count):
        for _ in range(count):
            idea = world.idea(tags=resolve_tags(["parks"]))
            set_risk_flag(world.moderator, idea, "safety", "Ladders")
        db.session.commit()

    add_ideas(2)
    count_queries(query_counter, client, world, query)  # records the token's first use
    few = count_queries(query_counter, client, world, query)
    add_ideas(8)
    assert count_queries(query_counter, client, world, query) == few
