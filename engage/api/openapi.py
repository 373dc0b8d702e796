"""The OpenAPI 3.1 description of /api/v1, kept beside the code it describes."""

from engage.api.json_input import BODY_MAX, DEPTH_MAX
from engage.http import external_url
from engage.ideas import states
from engage.moderation.models import RISK_KINDS

# Ideas per page of the list: what the contract promises and the views enforce.
LIMIT_DEFAULT, LIMIT_MAX = 100, 500

NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


ERRORS = {
    "400": _problem(
        "A parameter is malformed or given twice, or the body is not a JSON object in "
        "UTF-8 (duplicate keys, NaN, numbers too large and nesting deeper than "
        f"{DEPTH_MAX} levels are refused too); `invalid_params` names the field."
    ),
    "401": {
        **_problem("No token, or a token that is unknown, revoked or expired."),
        "headers": {
            "WWW-Authenticate": {
                "description": 'Bearer realm="engage"; for an expired token with '
                'error="invalid_token".',
                "schema": {"type": "string"},
            }
        },
    },
    "403": _problem("The token lacks the scope this operation needs."),
    "429": {
        **_problem("Too many requests for this token."),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer"},
            }
        },
    },
}

IDEA_PROPERTIES = {
    "id": {"type": "integer"},
    "url": {"type": "string", "format": "uri"},
    "challenge": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "slug", "title"],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "title": {"type": "string"},
        },
    },
    "title": {"type": "string", "maxLength": 140},
    "body_markdown": {"type": "string"},
    "body_html": {"type": "string", "description": "Sanitized HTML rendered from the Markdown."},
    "tags": {"type": "array", "items": {"type": "string"}},
    "author": {
        "type": "object",
        "additionalProperties": False,
        "required": ["display_name", "account_type", "organisation"],
        "description": "Public name only: never an e-mail address or other personal data.",
        "properties": {
            "display_name": {"type": "string"},
            "account_type": {"enum": ["citizen", "business"]},
            "organisation": NULLABLE_STRING,
        },
    },
    "vote_count": {"type": "integer", "minimum": 0},
    "comment_count": {"type": "integer", "minimum": 0},
    "moderation_state": {"enum": list(states.MODERATION_STATES)},
    "decision": {"enum": list(states.DECISIONS)},
    "decision_response": NULLABLE_STRING,
    "pipeline_stage": {"enum": [*states.PIPELINE_STAGES, None]},
    "external_ref": NULLABLE_STRING,
    "risk_flags": {
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "note"],
            "properties": {"kind": {"enum": list(RISK_KINDS)}, "note": {"type": "string"}},
        },
    },
    "created_at": TIMESTAMP,
    "published_at": NULLABLE_TIMESTAMP,
    "decided_at": NULLABLE_TIMESTAMP,
    "updated_at": TIMESTAMP,
}

SCHEMAS = {
    "Idea": {
        "type": "object",
        "additionalProperties": False,
        "required": list(IDEA_PROPERTIES),
        "properties": IDEA_PROPERTIES,
    },
    "IdeaDetail": {
        "type": "object",
        "additionalProperties": False,
        "required": [*IDEA_PROPERTIES, "pipeline_history"],
        "properties": {
            **IDEA_PROPERTIES,
            "pipeline_history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["stage", "note", "external_ref", "at"],
                    "properties": {
                        "stage": {"enum": list(states.PIPELINE_STAGES)},
                        "note": {"type": "string"},
                        "external_ref": NULLABLE_STRING,
                        "at": TIMESTAMP,
                    },
                },
            },
        },
    },
    "IdeaPage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["data", "next", "next_cursor", "has_more"],
        "properties": {
            "data": {"type": "array", "items": _ref("Idea")},
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "This request again from after its last idea: follow it "
                "now while has_more, or later to poll for changes.",
            },
            "next_cursor": NULLABLE_STRING,
            "has_more": {"type": "boolean"},
        },
    },
    "Challenge": {
        "type": "object",
        "additionalProperties": False,
        "required": [
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
        ],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "phase": {"enum": ["draft", "upcoming", "open", "voting", "review", "closed"]},
            "opens_at": TIMESTAMP,
            "submissions_close_at": TIMESTAMP,
            "voting_closes_at": TIMESTAMP,
            "idea_count": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ChallengeList": {
        "type": "object",
        "additionalProperties": False,
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": _ref("Challenge")}},
    },
    "PipelineChange": {
        "type": "object",
        "additionalProperties": False,
        "required": ["stage"],
        "properties": {
            "stage": {"enum": list(states.PIPELINE_STAGES)},
            "note": {"type": ["string", "null"], "maxLength": 2000},
            "external_ref": {"type": ["string", "null"], "maxLength": 120},
        },
    },
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "invalid_params": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "reason"],
                    "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
                },
            },
        },
    },
}


def _query(name, description, schema, example=None) -> dict:
    parameter = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if example is not None:
        parameter["example"] = example
    return parameter


IDEA_ID = {
    "name": "idea_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}

LIST_PARAMETERS = [
    _query(
        "decision",
        "Ideas with this decision (default: accepted).",
        {"enum": list(states.DECISIONS), "default": "accepted"},
    ),
    _query("challenge", "Only this challenge of the agency (its slug).", {"type": "string"}),
    _query("stage", "Only ideas in this pipeline stage.", {"enum": list(states.PIPELINE_STAGES)}),
    _query(
        "updated_since",
        "Only ideas changed after this time (RFC 3339). With it, ideas "
        "that left the set (hidden, merged, withdrawn) appear once in their new state.",
        {"type": "string", "format": "date-time"},
        "2026-01-01T00:00:00Z",
    ),
    _query("cursor", "Opaque position from `next_cursor`; continue after it.", {"type": "string"}),
    _query(
        "limit",
        "Ideas per page (JSON only).",
        {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
    ),
    _query(
        "format",
        "Instead of the Accept header: json, csv or ndjson. CSV and NDJSON "
        "stream every matching idea.",
        {"enum": ["json", "csv", "ndjson"]},
    ),
]


def openapi_document() -> dict:
    ok = "200"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Engage export API",
            "version": "1.0.0",
            "description": "Pull accepted ideas into your backlog and push their progress "
            "back. Ideas are ordered by (updated_at, id) and paged with an "
            "opaque cursor, so polling with the last `next` link never misses "
            "or repeats a change.",
        },
        "servers": [{"url": external_url("api.openapi").rsplit("/", 1)[0]}],
        "security": [{"bearerToken": []}],
        "paths": {
            "/ideas": {
                "get": {
                    "operationId": "listIdeas",
                    "summary": "The agency's ideas, oldest change first",
                    "parameters": LIST_PARAMETERS,
                    "responses": {
                        ok: {
                            "description": "A page of ideas (JSON) or all of them (CSV, NDJSON).",
                            "headers": {
                                "Link": {
                                    "description": 'rel="next" while has_more.',
                                    "schema": {"type": "string"},
                                }
                            },
                            "content": {
                                "application/json": {"schema": _ref("IdeaPage")},
                                "text/csv": {"schema": {"type": "string"}},
                                "application/x-ndjson": {"schema": {"type": "string"}},
                            },
                        },
                        "422": _problem("The challenge is not one of the agency's."),
                        **ERRORS,
                    },
                }
            },
            "/ideas/{idea_id}": {
                "get": {
                    "operationId": "getIdea",
                    "summary": "One idea with its pipeline history",
                    "parameters": [IDEA_ID],
                    "responses": {
                        ok: {
                            "description": "The idea.",
                            "content": {"application/json": {"schema": _ref("IdeaDetail")}},
                        },
                        "404": _problem("No such idea in this agency."),
                        **ERRORS,
                    },
                }
            },
            "/ideas/{idea_id}/pipeline": {
                "post": {
                    "operationId": "moveIdeaStage",
                    "summary": "Move an accepted idea to another stage (scope pipeline:write)",
                    "description": "ISO 56002's process is iterative: an accepted idea may "
                    "move to any other stage of backlog, concept, validation, development, "
                    "deployment and implemented, forward or back, or to discontinued unless "
                    "it is implemented or discontinued already. A move back (or reopening a "
                    "discontinued idea) needs a `note`, shown on the idea's public page; "
                    "without one the answer is 422 naming `note`.",
                    "parameters": [
                        IDEA_ID,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Retries with the same key and body get the first "
                            "answer and change nothing; another body gets 422.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("PipelineChange")}},
                    },
                    "responses": {
                        ok: {
                            "description": "The idea after the move.",
                            "content": {"application/json": {"schema": _ref("IdeaDetail")}},
                        },
                        "404": _problem("No such idea in this agency."),
                        "409": _problem(
                            "The idea cannot move to that stage now (it is not accepted, "
                            "or already there)."
                        ),
                        "413": _problem(f"The body is over {BODY_MAX} bytes."),
                        "415": _problem(
                            "The body is not JSON (`Content-Type: application/json` or "
                            "another `+json` type), or not in UTF-8, or compressed."
                        ),
                        "422": _problem(
                            "A field is unknown, missing, not a string, or holds a NUL "
                            "character or an unpaired surrogate; or the Idempotency-Key was "
                            "reused; or a move back has no note."
                        ),
                        **ERRORS,
                    },
                }
            },
            "/challenges": {
                "get": {
                    "operationId": "listChallenges",
                    "summary": "The agency's challenges",
                    "responses": {
                        ok: {
                            "description": "Challenges with phase and counts.",
                            "content": {"application/json": {"schema": _ref("ChallengeList")}},
                        },
                        **ERRORS,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        ok: {
                            "description": "OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An agency API token, created in the agency workspace or "
                    "with `flask --app engage api-token create`.",
                }
            },
        },
    }
