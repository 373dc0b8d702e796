"""The /api/v1 endpoints. Errors are application/problem+json (RFC 9457)."""

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    request,
    stream_with_context,
)
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from engage.api import queries, serializers
from engage.api.json_input import JsonRefused, json_object, strict_loads
from engage.api.models import IdempotentResponse
from engage.api.openapi import LIMIT_DEFAULT, LIMIT_MAX, openapi_document
from engage.db import now_utc
from engage.errors import Problem
from engage.exports import csv_lines
from engage.extensions import csrf, db, limiter
from engage.http import external_url
from engage.ideas import decisions, states
from engage.ideas import serializers as idea_serializers
from engage.ideas.models import Idea
from engage.text import clean_line, clean_text
from engage.tokens.services import TokenExpired, token_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

LIST_PARAMETERS = ("decision", "challenge", "stage", "updated_since", "cursor", "limit", "format")
CURSOR_MAX = 200  # characters; the API's own cursors have about 60
PIPELINE_FIELDS = {"stage": clean_line, "note": clean_text, "external_ref": clean_line}
PUBLIC_ENDPOINTS = {"api.openapi"}
# Ideas an incremental feed may show in their new state after they left the set, if
# they were ever published (published_at is never cleared): pending or rejected ideas,
# and those withdrawn or merged before a moderator published them, never appear.
# RFC 3339 date-times (datetime.fromisoformat alone also takes ISO week dates and more).
_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)", re.ASCII | re.IGNORECASE
)
_CURSOR = re.compile(r"[A-Za-z0-9_-]+")
# An Idempotency-Key is a structured-field string: printable ASCII.
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,200}")


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
    scheme, _space, value = header.partition(" ")
    # The scheme name is case-insensitive (RFC 9110).
    try:
        token = token_for(value.strip()) if scheme.lower() == "bearer" and value else None
    except TokenExpired as error:
        raise Problem(
            401,
            error.message,
            headers={
                "WWW-Authenticate": 'Bearer realm="engage", error="invalid_token", '
                'error_description="The token has expired"'
            },
        ) from None
    if token is None:
        raise Problem(
            401,
            _("Send a valid API token as 'Authorization: Bearer <token>'."),
            headers={"WWW-Authenticate": 'Bearer realm="engage"'},
        )
    db.session.commit()  # keep last_used_at even if the request fails later
    g.api_token = token
    return None


def _require_scope(scope: str) -> None:
    if not g.api_token.has_scope(scope):
        raise Problem(403, _("This token lacks the '%(scope)s' scope.", scope=scope))


def _agency_idea(idea_id: int) -> Idea:
    idea = queries.agency_idea(g.api_token.agency_id, idea_id)
    if idea is None:  # another agency's idea is as absent as a missing one
        raise Problem(404, _("There is no idea %(id)d.", id=idea_id))
    return idea


def encode_cursor(idea: Idea) -> str:
    raw = json.dumps({"u": idea.updated_at.isoformat(), "i": idea.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The position in a cursor from encode_cursor. Raises Problem (400) for anything else."""
    refused = Problem(400, _("The cursor is not one this API gave out."), field="cursor")
    if len(cursor) > CURSOR_MAX or not _CURSOR.fullmatch(cursor):
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = strict_loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, JsonRefused):
        raise refused from None
    if not isinstance(data, dict) or set(data) != {"u", "i"}:
        raise refused
    updated_at, idea_id = _utc_datetime(data["u"]), data["i"]
    if updated_at is None or type(idea_id) is not int or not 0 < idea_id < 2**31:
        raise refused
    return updated_at, idea_id


def _utc_datetime(text: str) -> datetime | None:
    """An ISO 8601 date-time with a time zone, in UTC; None if it is not one.

    Offsets near the years 1 and 9999 fall outside what UTC can hold: bad input too.
    """
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text.upper()).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_rfc3339(value: str) -> datetime:
    parsed = _utc_datetime(value)
    if parsed is None:
        raise Problem(
            400,
            _("Give a date-time in RFC 3339 with a time zone, like 2026-01-31T12:00:00Z."),
            field="updated_since",
        )
    return parsed


def _one_of(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise Problem(400, _("Use one of: %(values)s.", values=", ".join(allowed)), field=name)
    return value


def _idea_filters() -> dict:
    args = request.args
    for name in LIST_PARAMETERS:
        if len(args.getlist(name)) > 1:
            raise Problem(400, _("Give this parameter once."), field=name)
    decision = _one_of("decision", args.get("decision", states.ACCEPTED), states.DECISIONS)
    stage = args.get("stage")
    if stage is not None:
        _one_of("stage", stage, states.PIPELINE_STAGES)
    limit_text = args.get("limit", str(LIMIT_DEFAULT))
    # isdecimal() alone would take other scripts' digits ("٣"); length keeps int() cheap.
    if not (
        limit_text.isascii()
        and limit_text.isdecimal()
        and len(limit_text) <= 4
        and 1 <= int(limit_text) <= LIMIT_MAX
    ):
        raise Problem(
            400, _("Use a whole number from 1 to %(max)d.", max=LIMIT_MAX), field="limit"
        )
    challenge_id = None
    if "challenge" in args:
        challenge_id = queries.challenge_id(g.api_token.agency_id, args["challenge"][:80])
        if challenge_id is None:
            raise Problem(
                422, _("This agency has no challenge with that slug."), field="challenge"
            )
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


def _wanted_format() -> str:
    requested = request.args.get("format")
    if requested is not None:
        return _one_of("format", requested, ("json", "csv", "ndjson"))
    best = request.accept_mimetypes.best_match(
        ["application/json", "text/csv", "application/x-ndjson"], default="application/json"
    )
    return {"text/csv": "csv", "application/x-ndjson": "ndjson"}.get(best, "json")


@bp.get("/ideas")
def list_ideas():
    _require_scope("ideas:read")
    filters = _idea_filters()
    settled = now_utc() - timedelta(seconds=current_app.config["API_SETTLE_SECONDS"])
    query = queries.ideas_query(g.api_token.agency_id, filters, settled)
    output = _wanted_format()
    if output != "json":
        return _stream(query, output)
    rows = db.session.scalars(query.limit(filters["limit"] + 1)).unique().all()
    has_more = len(rows) > filters["limit"]
    rows = rows[: filters["limit"]]
    cursor = encode_cursor(rows[-1]) if rows else request.args.get("cursor")
    # Always a way to continue: after the last idea seen, or (nothing seen yet) from the
    # start again, so a client can poll with `next` whatever it got.
    # Only the parameters the API reads: others could clash with the URL builder's own.
    params = {k: v for k, v in request.args.items() if k in LIST_PARAMETERS and k != "cursor"}
    if cursor:
        params["cursor"] = cursor
    next_url = external_url("api.list_ideas", **params)
    response = jsonify(
        {
            "data": [idea_serializers.idea_json(idea) for idea in rows],
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
            json.dumps(idea_serializers.idea_json(idea), ensure_ascii=False) + "\n"
            for idea in ideas()
        )
        mimetype = "application/x-ndjson"
    return Response(stream_with_context(body), mimetype=mimetype)


@bp.get("/ideas/<int(max=2147483647):idea_id>")
def get_idea(idea_id: int):
    _require_scope("ideas:read")
    return jsonify(idea_serializers.idea_detail_json(_agency_idea(idea_id)))


@bp.post("/ideas/<int(max=2147483647):idea_id>/pipeline")
def move_pipeline(idea_id: int):
    _require_scope("pipeline:write")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise Problem(
            400, _("Use a key of 1 to 200 printable ASCII characters."), field="Idempotency-Key"
        )
    data = json_object(PIPELINE_FIELDS, required=("stage",))
    request_hash = hashlib.sha256(f"{idea_id}\n".encode() + request.get_data()).hexdigest()
    if key is not None:
        stored = queries.stored_response(g.api_token.id, key)
        if stored is not None:
            return _replay(stored, request_hash)
    idea = _agency_idea(idea_id)
    # Refusals (an unknown stage 422, a move the stage does not allow 409) are answered
    # by engage.errors with their class's status.
    decisions.move_idea_stage(None, idea, data["stage"], data["note"], data["external_ref"])
    body = json.dumps(idea_serializers.idea_detail_json(idea))
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
        return _replay(queries.stored_response(g.api_token.id, key), request_hash)
    return Response(body, status=200, mimetype="application/json")


def _replay(stored: IdempotentResponse, request_hash: str) -> Response:
    if stored.request_hash != request_hash:
        raise Problem(
            422,
            _("This Idempotency-Key was already used with another request."),
            field="Idempotency-Key",
        )
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/challenges")
def list_challenges():
    _require_scope("ideas:read")
    challenges = queries.agency_challenges(g.api_token.agency_id)
    now = now_utc()
    return jsonify({"data": [serializers.challenge_json(c, now) for c in challenges]})


@bp.get("/openapi.json")
def openapi():

    return jsonify(openapi_document())
