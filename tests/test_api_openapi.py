"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that describes exactly the
routes of /api/v1, and whose schemas the real responses (and errors) match."""

import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import update

from engage.challenges.tags import resolve_tags
from engage.db import now_utc
from engage.extensions import db, limiter
from engage.ideas.decisions import decide_idea, move_idea_stage
from engage.moderation.services import set_risk_flag
from engage.tokens.models import ApiToken
from engage.tokens.services import create_token

DOCUMENT_URI = "urn:engage:openapi"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.fixture
def world(app, make_user, make_agency, make_challenge, make_idea):
    app.config["API_SETTLE_SECONDS"] = 0
    admin = make_user("alex@example.org")
    moderator = make_user("morgan@example.org")
    agency = make_agency("city", members=[(admin, "admin"), (moderator, "moderator")])
    other_admin = make_user("olga@example.org")
    other = make_agency("county", members=[(other_admin, "admin")])
    challenge = make_challenge("open", agency=agency, tags=["parks"])
    make_challenge("draft", agency=agency)
    business = make_user(account_type="business", organisation_name="Acme")
    idea = make_idea(
        challenge, author=business, title="Fruit trees", tags=resolve_tags(["parks", "trees"])
    )
    decide_idea(admin, idea, "accept", "We will plant them.")
    move_idea_stage(admin, idea, "concept", "Costed", "PARK-1")
    set_risk_flag(moderator, idea, "safety", "Ladders")
    second = make_idea(challenge, tags=[])
    decide_idea(admin, second, "accept", "Yes.")
    shortlisted = make_idea(challenge)
    decide_idea(admin, shortlisted, "shortlist", "Maybe.")
    theirs = make_idea(make_challenge("open", agency=other))
    _, value = create_token(None, agency, "Backlog", ["ideas:read", "pipeline:write"])
    _, reader = create_token(None, agency, "Reader", ["ideas:read"])
    db.session.commit()
    return SimpleNamespace(
        agency=agency,
        idea=idea,
        shortlisted=shortlisted,
        theirs=theirs,
        headers={"Authorization": f"Bearer {value}"},
        reader={"Authorization": f"Bearer {reader}"},
    )


class Contract:
    """Checks a response against what the document says of its operation and status."""

    def __init__(self, document: dict):
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOCUMENT_URI, resource)

    def check(self, path: str, method: str, response) -> None:
        operation = self.document["paths"][path][method.lower()]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method} {path} {status} is undocumented"
        documented = operation["responses"][status]
        content = documented["content"]
        assert response.mimetype in content, f"{response.mimetype} is undocumented"
        schema = content[response.mimetype]["schema"]
        validator = Draft202012Validator(
            self._absolute(schema),
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(response.get_json()), key=str)
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
        for header in documented.get("headers", {}):
            if header == "Link" and not response.get_json().get("has_more"):
                continue
            assert header in response.headers, header

    @staticmethod
    def _absolute(schema: dict) -> dict:
        """The schema with its local $refs pointing into the registered document."""
        if "$ref" in schema:
            return {"$ref": DOCUMENT_URI + schema["$ref"]}
        return schema


@pytest.fixture
def contract(document):
    return Contract(document)


def api_rules(app) -> set[tuple[str, str]]:
    rules = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1") :])
        rules |= {(path, method) for method in rule.methods - IGNORED_METHODS}
    return rules


def test_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"].startswith("3.1.")


def test_document_paths_are_exactly_the_api_routes(app, document):
    documented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == api_rules(app)


def test_document_server_is_the_api_root(document):
    assert [s["url"] for s in document["servers"]] == ["http://engage.test/api/v1"]


def test_every_operation_but_the_document_needs_a_bearer_token(document):
    assert document["security"] == [{"bearerToken": []}]
    assert document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    public = [
        path
        for path, item in document["paths"].items()
        for operation in item.values()
        if operation.get("security") == []
    ]
    assert public == ["/openapi.json"]


def test_list_parameters_are_those_the_api_reads(document):
    parameters = document["paths"]["/ideas"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == {
        "decision",
        "challenge",
        "stage",
        "updated_since",
        "cursor",
        "limit",
        "format",
    }
    limit = next(p for p in parameters if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 500, 100)


def test_idea_schema_lists_every_key_of_the_representation(client, world, document):
    item = client.get("/api/v1/ideas", headers=world.headers).get_json()["data"][0]
    schema = document["components"]["schemas"]["Idea"]
    assert set(schema["required"]) == set(schema["properties"]) == set(item)


# Real responses against the documented schemas


def test_idea_list_matches_its_schema(client, world, contract):
    for query in (
        "",
        "?limit=1",
        "?decision=shortlisted",
        "?updated_since=2000-01-01T00:00:00Z&limit=1",
    ):
        response = client.get(f"/api/v1/ideas{query}", headers=world.headers)
        contract.check("/ideas", "GET", response)
        assert response.get_json()["data"], query
        assert ("Link" in response.headers) is response.get_json()["has_more"]


def test_exports_use_documented_media_types(client, world, document):
    content = document["paths"]["/ideas"]["get"]["responses"]["200"]["content"]
    for fmt in ("csv", "ndjson", "json"):
        response = client.get(f"/api/v1/ideas?format={fmt}", headers=world.headers)
        response.get_data()
        assert response.mimetype in content


def test_idea_detail_matches_its_schema(client, world, contract):
    response = client.get(f"/api/v1/ideas/{world.idea.id}", headers=world.headers)
    assert response.get_json()["pipeline_history"] and response.get_json()["risk_flags"]
    contract.check("/ideas/{idea_id}", "GET", response)


def test_pipeline_move_matches_its_schema(client, world, contract):
    response = client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        headers=world.headers,
        json={"stage": "validation", "note": "Trial", "external_ref": "P2"},
    )
    contract.check("/ideas/{idea_id}/pipeline", "POST", response)


def test_pipeline_request_body_schema_accepts_what_the_api_accepts(document):
    schema = document["paths"]["/ideas/{idea_id}/pipeline"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    resolved = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    validator = Draft202012Validator(resolved)
    assert validator.is_valid({"stage": "concept", "note": "x", "external_ref": "A"})
    assert not validator.is_valid({"stage": "concept", "priority": "high"})
    assert not validator.is_valid({"note": "x"})


def test_challenge_list_matches_its_schema(client, world, contract):
    response = client.get("/api/v1/challenges", headers=world.headers)
    assert len(response.get_json()["data"]) == 2
    contract.check("/challenges", "GET", response)


def test_schema_check_catches_an_undocumented_or_wrong_key(client, world, contract):
    response = client.get(f"/api/v1/ideas/{world.idea.id}", headers=world.headers)
    good = response.get_json()
    for doctored in (
        {**good, "email": "ada@example.org"},
        {**good, "vote_count": -1},
        {**good, "updated_at": "yesterday"},
        {**good, "author": {**good["author"], "email": "ada@example.org"}},
    ):
        response.set_data(json.dumps(doctored))
        with pytest.raises(AssertionError):
            contract.check("/ideas/{idea_id}", "GET", response)


def test_document_matches_its_own_schema(client, contract):
    contract.check("/openapi.json", "GET", client.get("/api/v1/openapi.json"))


@pytest.mark.parametrize(
    ("method", "path", "url", "body", "status"),
    [
        ("GET", "/ideas", "/api/v1/ideas?limit=0", None, 400),
        ("GET", "/ideas", "/api/v1/ideas?updated_since=soon", None, 400),
        ("GET", "/ideas", "/api/v1/ideas?challenge=nowhere", None, 422),
        ("GET", "/ideas/{idea_id}", "/api/v1/ideas/{theirs}", None, 404),
        ("POST", "/ideas/{idea_id}/pipeline", "/api/v1/ideas/{idea}/pipeline", "not json", 400),
        ("POST", "/ideas/{idea_id}/pipeline", "/api/v1/ideas/{idea}/pipeline", "x" * 70_000, 413),
        ("POST", "/ideas/{idea_id}/pipeline", "/api/v1/ideas/{idea}/pipeline", b"\xff", 400),
        (
            "POST",
            "/ideas/{idea_id}/pipeline",
            "/api/v1/ideas/{idea}/pipeline",
            {"stage": "concept", "note": "\x00"},
            422,
        ),
        (
            "POST",
            "/ideas/{idea_id}/pipeline",
            "/api/v1/ideas/{idea}/pipeline",
            {"stage": "concept"},
            409,
        ),
        (
            "POST",
            "/ideas/{idea_id}/pipeline",
            "/api/v1/ideas/{idea}/pipeline",
            {"stage": "later"},
            422,
        ),
        (
            "POST",
            "/ideas/{idea_id}/pipeline",
            "/api/v1/ideas/{theirs}/pipeline",
            {"stage": "concept"},
            404,
        ),
    ],
)
def test_problem_responses_match_the_documented_schema(
    client, world, contract, method, path, url, body, status
):
    url = url.format(idea=world.idea.id, theirs=world.theirs.id)
    kwargs = (
        {"json": body}
        if isinstance(body, dict)
        else {"data": body, "content_type": "application/json"}
    )
    response = client.open(url, method=method, headers=world.headers, **kwargs)
    assert response.status_code == status
    contract.check(path, method, response)


@pytest.mark.parametrize(
    ("method", "path", "url"),
    [
        ("GET", "/ideas", "/api/v1/ideas"),
        ("GET", "/ideas/{idea_id}", "/api/v1/ideas/{idea}"),
        ("POST", "/ideas/{idea_id}/pipeline", "/api/v1/ideas/{idea}/pipeline"),
        ("GET", "/challenges", "/api/v1/challenges"),
    ],
)
def test_401_matches_the_documented_schema(client, world, contract, method, path, url):
    response = client.open(
        url.format(idea=world.idea.id),
        method=method,
        json={"stage": "concept"} if method == "POST" else None,
    )
    assert response.status_code == 401
    contract.check(path, method, response)


def test_403_matches_the_documented_schema(client, world, contract):
    response = client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        headers=world.reader,
        json={"stage": "validation"},
    )
    assert response.status_code == 403
    contract.check("/ideas/{idea_id}/pipeline", "POST", response)


def test_429_matches_the_documented_schema(app, client, world, contract):
    limiter.reset()
    app.config["API_RATE_LIMIT"] = "1 per minute"
    client.get("/api/v1/challenges", headers=world.headers)
    response = client.get("/api/v1/challenges", headers=world.headers)
    assert response.status_code == 429
    contract.check("/challenges", "GET", response)


def test_415_matches_the_documented_schema(client, world, contract):
    response = client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        headers=world.headers,
        data='{"stage": "concept"}',
        content_type="text/plain",
    )
    assert response.status_code == 415
    contract.check("/ideas/{idea_id}/pipeline", "POST", response)


def test_401_for_an_expired_token_matches_the_documented_schema(client, world, contract):
    _, value = create_token(None, world.agency, "Old", ["ideas:read"], expires_in_days=1)
    db.session.execute(update(ApiToken).values(expires_at=now_utc() - timedelta(seconds=1)))
    db.session.commit()
    response = client.get("/api/v1/challenges", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401
    contract.check("/challenges", "GET", response)
