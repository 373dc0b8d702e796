"""Hostile input to /api/v1: malformed or ambiguous bodies, headers, query parameters and
paths each get a 4xx application/problem+json and change nothing in the database."""

import base64
import gzip
import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from engage.api.models import IdempotentResponse
from engage.audit import ModerationAction
from engage.extensions import db
from engage.ideas.decisions import decide_idea
from engage.ideas.models import Idea, PipelineEvent
from engage.mail import OutboxEmail
from engage.tokens.services import create_token
from engage.webhooks.models import OutboxEvent

VALID = b'{"stage": "concept", "note": "Costed", "external_ref": "PARK-1"}'


@pytest.fixture
def world(app, make_user, make_agency, make_challenge, make_idea):
    app.config["API_SETTLE_SECONDS"] = 0
    admin = make_user()
    agency = make_agency("city", members=[(admin, "admin")])
    challenge = make_challenge("open", agency=agency, slug="parks")
    idea = make_idea(challenge, title="Fruit trees")
    decide_idea(admin, idea, "accept", "We will plant them.")
    _, value = create_token(None, agency, "Backlog", ["ideas:read", "pipeline:write"])
    db.session.commit()
    return SimpleNamespace(idea=idea, auth={"Authorization": f"Bearer {value}"})


def snapshot(idea) -> tuple:
    """What a refused request must leave as it was."""
    db.session.expire_all()
    stored = db.session.get(Idea, idea.id)
    events = db.session.execute(
        select(PipelineEvent.stage, PipelineEvent.note, PipelineEvent.external_ref).where(
            PipelineEvent.idea_id == idea.id
        )
    ).all()
    counts = [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (OutboxEvent, OutboxEmail, ModerationAction, IdempotentResponse)
    ]
    return (stored.pipeline_stage, stored.external_ref, stored.updated_at, events, counts)


def assert_problem(response, status, field=None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert [p["name"] for p in body["invalid_params"]] == [field]
    return body


def post(client, world, data: bytes, content_type="application/json", headers=None):
    return client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        data=data,
        content_type=content_type,
        headers={**world.auth, "Idempotency-Key": "retry-1", **(headers or {})},
    )


def nested(depth: int) -> bytes:
    return b'{"stage": "concept", "note": ' + b"[" * depth + b"]" * depth + b"}"


# Bodies -----------------------------------------------------------------------------------

HOSTILE_BODIES = {
    # Not UTF-8
    "latin-1 byte": (b'{"stage": "concept", "note": "caf\xe9"}', 400, None),
    "encoded surrogate": (b'{"stage": "concept", "note": "\xed\xa0\x80"}', 400, None),
    "overlong slash": (b'{"stage": "\xc0\xafconcept"}', 400, None),
    "cut emoji": (b'{"stage": "concept", "note": "\xf0\x9f\x8c"}', 400, None),
    "utf-16": ('{"stage": "concept"}'.encode("utf-16"), 400, None),
    "byte-order mark": (b"\xef\xbb\xbf" + VALID, 400, None),
    # Not JSON, or not one JSON value
    "truncated": (b'{"stage": "concept"', 400, None),
    "trailing text": (VALID + b" and more", 400, None),
    "two objects": (VALID + VALID, 400, None),
    "single quotes": (b"{'stage': 'concept'}", 400, None),
    "raw NUL in a string": (b'{"stage": "concept", "note": "a\x00b"}', 400, None),
    "raw control in a string": (b'{"stage": "concept", "note": "a\x01b"}', 400, None),
    "empty": (b"", 400, None),
    "whitespace": (b" \n ", 400, None),
    # Ambiguous keys
    "duplicate stage": (b'{"stage": "concept", "stage": "implemented"}', 400, "stage"),
    "duplicate nested key": (b'{"stage": "concept", "note": {"a": 1, "a": 2}}', 400, "a"),
    # Numbers JSON has not, or that no float holds
    "NaN": (b'{"stage": "concept", "note": NaN}', 400, None),
    "Infinity": (b'{"stage": "concept", "note": Infinity}', 400, None),
    "-Infinity": (b'{"stage": "concept", "note": -Infinity}', 400, None),
    "1e400": (b'{"stage": "concept", "note": 1e400}', 400, None),
    "-1e400": (b'{"stage": "concept", "external_ref": -1e400}', 400, None),
    "5000 digits": (b'{"stage": "concept", "note": ' + b"9" * 5000 + b"}", 400, None),
    # Nesting
    "9 levels": (nested(8), 400, None),
    "30000 arrays": (nested(30_000), 400, None),
    "unclosed arrays": (b'{"stage": "concept", "note": ' + b"[" * 60_000, 400, None),
    "9000 objects": (b'{"a": ' * 9_000 + b"1" + b"}" * 9_000, 400, None),
    # Not an object
    "null": (b"null", 400, None),
    "true": (b"true", 400, None),
    "number": (b"42", 400, None),
    "string": (b'"concept"', 400, None),
    "array": (b'[{"stage": "concept"}]', 400, None),
    # Text that cannot be stored
    "escaped NUL in note": (b'{"stage": "concept", "note": "a\\u0000b"}', 422, "note"),
    "escaped NUL in stage": (b'{"stage": "concept\\u0000"}', 422, "stage"),
    "escaped NUL in reference": (
        b'{"stage": "concept", "external_ref": "\\u0000"}',
        422,
        "external_ref",
    ),
    "high surrogate alone": (b'{"stage": "concept", "note": "\\ud800"}', 422, "note"),
    "low surrogate alone": (b'{"stage": "concept", "note": "x\\udfff"}', 422, "note"),
    "surrogates reversed": (b'{"stage": "concept", "note": "\\udc00\\ud800"}', 422, "note"),
    "NUL in a key": (b'{"stage": "concept", "no\\u0000te": "x"}', 422, "no\ufffdte"),
    "surrogate in a key": (b'{"stage": "concept", "\\ud800": "x"}', 422, "\ufffd"),
    "NUL deep inside": (b'{"stage": "concept", "extra": [{"x": ["\\u0000"]}]}', 422, "extra"),
    # Fields
    "no field": (b"{}", 422, "stage"),
    "unknown field": (b'{"stage": "concept", "priority": "high"}', 422, "priority"),
    "stage as object": (b'{"stage": {"name": "concept"}}', 422, "stage"),
    "stage as list": (b'{"stage": ["concept"]}', 422, "stage"),
    "stage as boolean": (b'{"stage": true}', 422, "stage"),
    "note as number": (b'{"stage": "concept", "note": 1.5}', 422, "note"),
    "stage that is only invisible": (b'{"stage": "\\u200b\\u202e"}', 422, "stage"),
}


@pytest.mark.parametrize(
    ("body", "status", "field"), HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys()
)
def test_hostile_body_is_refused_and_changes_nothing(client, world, body, status, field):
    before = snapshot(world.idea)
    assert_problem(post(client, world, body), status, field)
    assert snapshot(world.idea) == before


def test_body_over_64_kib_is_413(client, world):
    body = json.dumps({"stage": "concept", "note": "x" * 70_000}).encode()
    before = snapshot(world.idea)
    assert_problem(post(client, world, body), 413)
    assert snapshot(world.idea) == before


def test_body_over_the_site_limit_is_413(app, client, world):
    body = b" " * (app.config["MAX_CONTENT_LENGTH"] + 1) + VALID
    before = snapshot(world.idea)
    assert_problem(post(client, world, body), 413)
    assert snapshot(world.idea) == before


def test_brackets_inside_strings_are_not_nesting(client, world):
    note = "[[[[[[[[[[{{{{{{{{{{ ]]]]]"
    body = json.dumps({"stage": "concept", "note": note, "external_ref": '"[{\\'}).encode()
    response = post(client, world, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["pipeline_history"][-1]["note"] == note


def test_escaped_surrogate_pair_is_one_character(client, world):
    response = post(client, world, b'{"stage": "concept", "note": "Trees \\ud83c\\udf33"}')
    assert response.status_code == 200
    assert response.get_json()["pipeline_history"][-1]["note"] == "Trees \N{DECIDUOUS TREE}"


def test_refused_body_does_not_use_up_its_idempotency_key(client, world):
    assert_problem(post(client, world, b'{"stage": "concept", "note": "\\u0000"}'), 422)
    response = post(client, world, VALID)
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers


# Headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
    ],
)
def test_body_not_declared_as_utf8_json_is_415(client, world, content_type):
    before = snapshot(world.idea)
    assert_problem(post(client, world, VALID, content_type=content_type), 415)
    assert snapshot(world.idea) == before


def test_compressed_body_is_415(client, world):
    before = snapshot(world.idea)
    response = post(client, world, gzip.compress(VALID), headers={"Content-Encoding": "gzip"})
    assert_problem(response, 415)
    assert snapshot(world.idea) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=UTF-8", "Application/JSON", "application/vnd.backlog+json"],
)
def test_any_json_media_type_in_utf8_is_read(client, world, content_type):
    assert post(client, world, VALID, content_type=content_type).status_code == 200


@pytest.mark.parametrize("key", ["caf\xe9", "tab\there", "del\x7f", "k" * 201, ""])
def test_idempotency_key_not_of_printable_ascii_is_400(client, world, key):
    before = snapshot(world.idea)
    response = post(client, world, VALID, headers={"Idempotency-Key": key})
    assert_problem(response, 400, "Idempotency-Key")
    assert snapshot(world.idea) == before


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Basic ZW5nXzpzZWNyZXQ=",
        "Bearer eng_" + "A" * 5000,
        "Bearer eng_\x00",
        "Bearer eng_\xe9\xe9",
        "Bearer  Bearer eng_x",
        "eng_abc",
    ],
)
def test_malformed_authorization_is_401_with_www_authenticate(client, world, authorization):
    before = snapshot(world.idea)
    response = client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        data=VALID,
        content_type="application/json",
        headers={"Authorization": authorization},
    )
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert snapshot(world.idea) == before


# Query parameters -------------------------------------------------------------------------


def cursor_of(raw: str | bytes) -> str:
    raw = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_with(i: str, u: str = '"2026-01-01T00:00:00+00:00"', more: str = "") -> str:
    """A cursor of the API's shape holding these JSON texts as its time and idea id."""
    return cursor_of('{"u": ' + u + ', "i": ' + i + more + "}")


HOSTILE_QUERIES = {
    "cursor holding 1e400": {"cursor": cursor_with("1e400")},
    "cursor holding NaN": {"cursor": cursor_with("NaN")},
    "cursor with a huge id": {"cursor": cursor_with(str(10**30))},
    "cursor with 2**31": {"cursor": cursor_with(str(2**31))},
    "cursor with a negative id": {"cursor": cursor_with("-5")},
    "cursor with a float id": {"cursor": cursor_with("1.0")},
    "cursor with a string id": {"cursor": cursor_with('"1"')},
    "cursor with a boolean id": {"cursor": cursor_with("true")},
    "cursor with a list id": {"cursor": cursor_with("[1]")},
    "cursor with a number time": {"cursor": cursor_of('{"u": 1767225600, "i": 1}')},
    "cursor with a list time": {"cursor": cursor_with("1", u='["2026-01-01T00:00:00Z"]')},
    "cursor with a duplicate key": {"cursor": cursor_with("1", more=', "i": 2')},
    "cursor with another key": {"cursor": cursor_with("1", more=', "x": 0')},
    "cursor of a list": {"cursor": cursor_of('["2026-01-01T00:00:00Z", 1]')},
    "cursor of a string": {"cursor": cursor_of('"abc"')},
    "cursor of a number": {"cursor": cursor_of("1e400")},
    "cursor of null": {"cursor": cursor_of("null")},
    "cursor of nested lists": {"cursor": cursor_of("[" * 100)},
    "cursor with a NUL": {"cursor": cursor_of('{"u": "2026-01-01T00:00:00Z\\u0000", "i": 1}')},
    "cursor of invalid UTF-8": {"cursor": cursor_of(b'{"u": "\xff", "i": 1}')},
    "cursor with padding": {"cursor": cursor_of('{"i": 1}') + "=="},
    "cursor with other base64": {"cursor": "ab+/cd"},
    "cursor of one character": {"cursor": "a"},
    "cursor not in ASCII": {"cursor": "\u00e9t\u00e9"},
    "empty cursor": {"cursor": ""},
    "cursor too long": {"cursor": "A" * 5000},
    "year 0": {"updated_since": "0000-01-01T00:00:00Z"},
    "year 10000": {"updated_since": "10000-01-01T00:00:00Z"},
    "offset of 99 hours": {"updated_since": "2026-01-01T00:00:00+99:00"},
    "offset of 24 hours": {"updated_since": "2026-01-01T00:00:00+24:00"},
    "offset before year 1": {"updated_since": "0001-01-01T00:00:00+23:59"},
    "offset after year 9999": {"updated_since": "9999-12-31T23:59:59-23:59"},
    "hour 25": {"updated_since": "2026-01-01T25:00:00Z"},
    "week date": {"updated_since": "2026-W01-1T00:00:00Z"},
    "fullwidth digits": {"updated_since": "\uff12\uff10\uff12\uff16-01-01T00:00:00Z"},
    "Arabic-Indic limit": {"limit": "\u0663"},
    "fullwidth limit": {"limit": "\uff13"},
    "superscript limit": {"limit": "\u00b9"},
    "limit with underscore": {"limit": "1_0"},
    "limit with a sign": {"limit": "+5"},
    "limit with a space": {"limit": " 5"},
    "hexadecimal limit": {"limit": "0x10"},
    "5000-digit limit": {"limit": "9" * 5000},
    "float limit": {"limit": "2.5"},
    "unknown format": {"format": "xml"},
    "format in capitals": {"format": "JSON"},
    "empty format": {"format": ""},
    "NUL in a decision": {"decision": "accepted\x00"},
}


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_hostile_query_parameter_is_a_400_problem(client, world, query):
    body = assert_problem(client.get("/api/v1/ideas", query_string=query, headers=world.auth), 400)
    if not any("\x00" in value for value in query.values()):  # refused before reading
        assert [p["name"] for p in body["invalid_params"]] == list(query)


def test_cursor_of_the_shape_the_hostile_ones_vary_is_read(client, world):
    response = client.get(
        "/api/v1/ideas", query_string={"cursor": cursor_with("1")}, headers=world.auth
    )
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["decision", "stage", "limit", "cursor", "format"])
def test_repeated_parameter_is_a_400_problem_naming_it(client, world, name):
    values = {
        "decision": "accepted",
        "stage": "backlog",
        "limit": "5",
        "cursor": cursor_with("1"),
        "format": "json",
    }[name]
    response = client.get(f"/api/v1/ideas?{name}={values}&{name}={values}", headers=world.auth)
    assert_problem(response, 400, name)


def test_unknown_parameters_are_left_out_of_the_next_link(client, world):
    response = client.get(
        "/api/v1/ideas",
        query_string={
            "limit": "5",
            "endpoint": "x",
            "_external": "0",
            "_scheme": "javascript",
            "_anchor": "x",
        },
        headers=world.auth,
    )
    assert response.status_code == 200
    params = parse_qs(urlsplit(response.get_json()["next"]).query)
    assert set(params) == {"limit", "cursor"}


def test_query_that_is_not_utf8_is_a_400_problem(client, world):
    response = client.get("/api/v1/ideas?challenge=%ff%fe", headers=world.auth)
    assert_problem(response, 400)


# Paths and methods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing", 404),
        ("GET", "/api/v1/ideas/99999999999999999999", 404),
        ("GET", "/api/v1/ideas/-1", 404),
        ("GET", "/api/v1/ideas/%00", 400),
        ("GET", "/api/v1/ideas/1/pipeline", 405),
        ("DELETE", "/api/v1/ideas", 405),
        ("PUT", "/api/v1/ideas/1/pipeline", 405),
    ],
)
def test_unknown_route_or_method_is_a_problem(client, world, method, path, status):
    for headers in (world.auth, {}):
        before = snapshot(world.idea)
        response = client.open(path, method=method, headers=headers)
        assert_problem(response, status)
        assert snapshot(world.idea) == before
        if status == 405:
            assert response.headers["Allow"]
