"""The /api/v1 endpoints. Errors are application/problem+json (RFC 9457)."""

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from engage.api import serializers
from engage.api.models import IdempotentResponse
from engage.api.services import token_for
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.errors import DomainError, InvalidTransition
from engage.exports import csv_lines
from engage.extensions import csrf, db, limiter
from engage.ideas import decisions, states
from engage.ideas.models import Idea

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

LIMIT_DEFAULT, LIMIT_MAX = 100, 500
PUBLIC_ENDPOINTS = {"api.openapi"}
# Ideas an incremental feed may show in their new state after they left the set, if
# they were ever published (published_at is never cleared): pending or rejected ideas,
# and those withdrawn or merged before a moderator published them, never appear.
ONCE_PUBLIC = (states.PUBLISHED, states.HIDDEN, states.MERGED, states.WITHDRAWN)
PROBLEM_TYPES = "https://engage.example/problems/"


class Problem(Exception):
    """An API error answered as application/problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.field, self.headers = field, headers or {}


def problem_response(problem: Problem):
    body = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.field:
        body["invalid_params"] = [{"name": problem.field, "reason": problem.detail}]
    response = jsonify(body)
    response.status_code = problem.status
    response.mimetype = "application/problem+json"
    response.headers.update(problem.headers)
    return response


bp.register_error_handler(Problem, problem_response)


def _bad_parameter(field: str, detail: str, status: int = 400) -> Problem:
    return Problem(status, "Invalid parameter", detail, field=field)


def rate_limit_key() -> str:
    """Rate limits count per token (by its hash), or per address without one."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


# Shared by every endpoint: a token has one budget for the whole API, not one per route.
limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=rate_limit_key
)(bp)


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    # The scheme name is case-insensitive (RFC 9110).
    token = token_for(value.strip()) if scheme.lower() == "bearer" and value else None
    if token is None:
        raise Problem(
            401,
            "Unauthorized",
            "Send a valid API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="engage"'},
        )
    db.session.commit()  # keep last_used_at even if the request fails later
    g.api_token = token
    return None


def _require_scope(scope: str) -> None:
    if not g.api_token.has_scope(scope):
        raise Problem(403, "Forbidden", f"This token lacks the '{scope}' scope.")


def _agency_idea(idea_id: int) -> Idea:
    idea = db.session.scalar(
        select(Idea)
        .join(Challenge)
        .where(Idea.id == idea_id, Challenge.agency_id == g.api_token.agency_id)
        .options(*_idea_loads(), selectinload(Idea.pipeline_events))
    )
    if idea is None:  # another agency's idea is as absent as a missing one
        raise Problem(404, "Not Found", f"There is no idea {idea_id}.")
    return idea


def _idea_loads():
    return (
        joinedload(Idea.author),
        joinedload(Idea.challenge),
        selectinload(Idea.tags),
        selectinload(Idea.risk_flags),
    )


def encode_cursor(idea: Idea) -> str:
    raw = json.dumps({"u": idea.updated_at.isoformat(), "i": idea.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        updated_at = _utc_datetime(data["u"])
        idea_id = int(data["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad_parameter("cursor", "The cursor is not one this API gave out.") from None
    if updated_at is None or not 0 < idea_id < 2**31:
        raise _bad_parameter("cursor", "The cursor is not one this API gave out.")
    return updated_at, idea_id


def _utc_datetime(text: str) -> datetime | None:
    """An ISO 8601 date-time with a time zone, in UTC; None if it is not one.

    Offsets near the years 1 and 9999 fall outside what UTC can hold: bad input too.
    """
    try:
        value = datetime.fromisoformat(text)
        return value.astimezone(UTC) if value.tzinfo is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def parse_rfc3339(value: str) -> datetime:
    parsed = _utc_datetime(value)
    if parsed is None or "T" not in value.upper():
        raise _bad_parameter(
            "updated_since",
            "Give a date-time in RFC 3339 with a time zone, like 2026-01-31T12:00:00Z.",
        )
    return parsed


def _idea_filters() -> dict:
    args = request.args
    decision = args.get("decision", states.ACCEPTED)
    if decision not in states.DECISIONS:
        raise _bad_parameter("decision", f"Use one of: {', '.join(states.DECISIONS)}.")
    stage = args.get("stage")
    if stage is not None and stage not in states.PIPELINE_STAGES:
        raise _bad_parameter("stage", f"Use one of: {', '.join(states.PIPELINE_STAGES)}.")
    limit_text = args.get("limit", str(LIMIT_DEFAULT))
    if not (limit_text.isascii() and limit_text.isdigit()) or not (
        1 <= int(limit_text) <= LIMIT_MAX
    ):
        raise _bad_parameter("limit", f"Use a whole number from 1 to {LIMIT_MAX}.")
    challenge_id = None
    if "challenge" in args:
        challenge_id = db.session.scalar(
            select(Challenge.id).where(
                Challenge.slug == args["challenge"][:80],
                Challenge.agency_id == g.api_token.agency_id,
            )
        )
        if challenge_id is None:
            raise _bad_parameter("challenge", "This agency has no challenge with that slug.", 422)
    since = parse_rfc3339(args["updated_since"]) if "updated_since" in args else None
    cursor = decode_cursor(args["cursor"]) if "cursor" in args else None
    return {
        "decision": decision,
        "stage": stage,
        "limit": int(limit_text),
        "challenge_id": challenge_id,
        "since": since,
        "cursor": cursor,
    }


def _ideas_query(f: dict):
    incremental = f["since"] is not None or f["cursor"] is not None
    settled = now_utc() - timedelta(seconds=current_app.config["API_SETTLE_SECONDS"])
    query = (
        select(Idea)
        .join(Challenge)
        .where(
            Challenge.agency_id == g.api_token.agency_id,
            Idea.decision == f["decision"],
            Idea.updated_at <= settled,
        )
        .order_by(Idea.updated_at, Idea.id)
        .options(*_idea_loads())
    )
    if incremental:
        query = query.where(Idea.moderation_state.in_(ONCE_PUBLIC), Idea.published_at.is_not(None))
    else:
        query = query.where(Idea.moderation_state == states.PUBLISHED)
    if f["stage"]:
        query = query.where(Idea.pipeline_stage == f["stage"])
    if f["challenge_id"]:
        query = query.where(Idea.challenge_id == f["challenge_id"])
    if f["since"]:
        query = query.where(Idea.updated_at > f["since"])
    if f["cursor"]:
        updated_at, idea_id = f["cursor"]
        query = query.where(
            or_(
                Idea.updated_at > updated_at,
                and_(Idea.updated_at == updated_at, Idea.id > idea_id),
            )
        )
    return query


def _wanted_format() -> str:
    requested = request.args.get("format")
    if requested is not None:
        if requested not in ("json", "csv", "ndjson"):
            raise _bad_parameter("format", "Use json, csv or ndjson.")
        return requested
    best = request.accept_mimetypes.best_match(
        ["application/json", "text/csv", "application/x-ndjson"], default="application/json"
    )
    return {"text/csv": "csv", "application/x-ndjson": "ndjson"}.get(best, "json")


@bp.get("/ideas")
def list_ideas():
    _require_scope("ideas:read")
    filters = _idea_filters()
    query = _ideas_query(filters)
    output = _wanted_format()
    if output != "json":
        return _stream(query, output)
    rows = db.session.scalars(query.limit(filters["limit"] + 1)).unique().all()
    has_more = len(rows) > filters["limit"]
    rows = rows[: filters["limit"]]
    cursor = encode_cursor(rows[-1]) if rows else request.args.get("cursor")
    # Always a way to continue: after the last idea seen, or (nothing seen yet) from the
    # start again, so a client can poll with `next` whatever it got.
    params = {k: v for k, v in request.args.items() if k != "cursor"}
    if cursor:
        params["cursor"] = cursor
    next_url = url_for("api.list_ideas", _external=True, **params)
    response = jsonify(
        {
            "data": [serializers.idea_json(idea) for idea in rows],
            "next": next_url,
            "next_cursor": cursor,
            "has_more": has_more,
        }
    )
    if has_more and next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


def _stream(query, output: str) -> Response:
    """Every matching idea, fetched in batches, written out as it comes."""

    def ideas():
        # Run inside the streamed body: the request's own session is gone by then.
        for idea in db.session.scalars(query.execution_options(yield_per=500)):
            yield idea
            db.session.expunge(idea)  # keep the identity map (and memory) flat

    if output == "csv":
        body = csv_lines(
            list(serializers.CSV_COLUMNS), (serializers.idea_csv_row(idea) for idea in ideas())
        )
        mimetype = "text/csv"
    else:
        body = (
            json.dumps(serializers.idea_json(idea), ensure_ascii=False) + "\n" for idea in ideas()
        )
        mimetype = "application/x-ndjson"
    return Response(stream_with_context(body), mimetype=mimetype)


@bp.get("/ideas/<int(max=2147483647):idea_id>")
def get_idea(idea_id: int):
    _require_scope("ideas:read")
    return jsonify(serializers.idea_detail_json(_agency_idea(idea_id)))


def _pipeline_request() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Problem(
            400,
            "Bad Request",
            "Send a JSON object with 'stage' and optionally 'note' and 'external_ref'.",
        )
    for name, required in (("stage", True), ("note", False), ("external_ref", False)):
        value = data.get(name)
        if (value is None and required) or (value is not None and not isinstance(value, str)):
            raise _bad_parameter(name, f"'{name}' must be a string.", 422)
    unknown = set(data) - {"stage", "note", "external_ref"}
    if unknown:
        raise _bad_parameter(sorted(unknown)[0], "Unknown field.", 422)
    return data


@bp.post("/ideas/<int(max=2147483647):idea_id>/pipeline")
def move_pipeline(idea_id: int):
    _require_scope("pipeline:write")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise _bad_parameter("Idempotency-Key", "Use a key of 1 to 200 characters.")
    request_hash = hashlib.sha256(f"{idea_id}\n".encode() + request.get_data()).hexdigest()
    if key is not None:
        stored = _stored_response(key)
        if stored is not None:
            return _replay(stored, request_hash)
    idea = _agency_idea(idea_id)
    data = _pipeline_request()
    try:
        decisions.move_idea_stage(
            None, idea, data["stage"], data.get("note"), data.get("external_ref"), by_api=True
        )
    except InvalidTransition as error:
        db.session.rollback()
        if data["stage"] not in states.PIPELINE_STAGES:
            raise _bad_parameter("stage", str(error.message), 422) from None
        raise Problem(409, "Conflict", str(error.message), field="stage") from None
    except DomainError as error:
        db.session.rollback()
        raise _bad_parameter(error.field or "body", str(error.message), 422) from None
    body = json.dumps(serializers.idea_detail_json(idea))
    if key is not None:
        db.session.add(
            IdempotentResponse(
                token_id=g.api_token.id, key=key, request_hash=request_hash, status=200, body=body
            )
        )
    try:
        db.session.commit()
    except IntegrityError:  # the same key won a race: answer as the winner did
        db.session.rollback()
        return _replay(_stored_response(key), request_hash)
    return Response(body, status=200, mimetype="application/json")


def _stored_response(key: str) -> IdempotentResponse | None:
    return db.session.scalar(
        select(IdempotentResponse).where(
            IdempotentResponse.token_id == g.api_token.id, IdempotentResponse.key == key
        )
    )


def _replay(stored: IdempotentResponse, request_hash: str) -> Response:
    if stored.request_hash != request_hash:
        raise Problem(
            422,
            "Idempotency key reused",
            "This Idempotency-Key was already used with another request.",
            field="Idempotency-Key",
        )
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/challenges")
def list_challenges():
    _require_scope("ideas:read")
    challenges = db.session.scalars(
        select(Challenge)
        .where(Challenge.agency_id == g.api_token.agency_id)
        .options(selectinload(Challenge.tags))
        .order_by(Challenge.opens_at.desc(), Challenge.id.desc())
    ).all()
    now = now_utc()
    return jsonify({"data": [serializers.challenge_json(c, now) for c in challenges]})


@bp.get("/openapi.json")
def openapi():
    from engage.api.openapi import openapi_document

    return jsonify(openapi_document())
