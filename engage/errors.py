"""Domain errors raised by services, and the HTML / problem+json error pages."""

import logging
import sqlite3

from flask import Flask, current_app, jsonify, render_template, request, session
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from engage.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused the change; `message` is shown to the person, `field`
    names the input at fault (if any), and the class's `status` is what the refusal means
    in HTTP. A view may map the error onto its form; one that escapes the view is answered
    by the handler in register_error_handlers, with that status."""

    status = 422
    headers: dict[str, str] | None = None  # extra response headers, such as WWW-Authenticate

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input broke a rule that a form cannot check (uniqueness, cross-field rules, a
    required reason, a value that is not one of the known ones)."""

    status = 422


class InvalidTransition(DomainError):
    """The object's current state does not allow this action."""

    status = 409


class LimitReached(DomainError):
    """A quota, such as a challenge's vote limit, is used up."""

    # A conflict with what the person already did, not a request rate (that is 429).
    status = 409


class NotPermitted(DomainError):
    """The person may not do this (their role, account state or the phase forbids it)."""

    status = 403


class Problem(DomainError):
    """A refusal of the request itself rather than of a domain rule (no token, a body that
    is not JSON, an unknown parameter), with its status and any headers given here."""

    def __init__(
        self, status: int, detail, *, field: str | None = None, headers: dict | None = None
    ):
        super().__init__(detail, field)
        self.status = status
        self.headers = headers


# i18n: titles of error pages
ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Request too large"),
    415: _l("Unsupported media type"),
    422: _l("Request could not be processed"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}

ERROR_DETAILS = {
    400: _l("The request was malformed. Please check what you sent and try again."),
    401: _l("You need to sign in to see this page."),
    403: _l("You are not allowed to do this."),
    404: _l("We could not find that page. It may have been moved or removed."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This conflicts with the current state of the resource."),
    413: _l("What you sent is too large."),
    415: _l("This address does not accept that kind of content."),
    422: _l("We could not process what you sent."),
    429: _l("You have made too many requests. Please wait a moment and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again."),
    503: _l("The site cannot reach its data right now. Please try again in a minute."),
}
# Seconds a client is asked to wait when the database is unreachable or too slow.
RETRY_AFTER_SECONDS = 30


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def problem_response(status: int, detail=None, *, invalid_params=None, headers=None):
    """The one application/problem+json (RFC 9457) answer; `invalid_params` lists the
    fields at fault as {"name", "reason"}."""
    body = {
        "type": "about:blank",
        "title": str(ERROR_TITLES.get(status, ERROR_TITLES[500])),
        "status": status,
        "detail": str(detail or ERROR_DETAILS.get(status, ERROR_DETAILS[500])),
    }
    if invalid_params:
        body["invalid_params"] = invalid_params
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    response.headers.update(headers or {})
    return response


def error_response(status: int, detail=None, *, field: str | None = None, headers=None):
    """Render an error as an HTML page or as application/problem+json; `field` is named
    in problem+json's `invalid_params`."""
    if wants_json():
        invalid = None
        if field is not None:
            invalid = [{"name": field, "reason": str(detail)}]
        return problem_response(status, detail, invalid_params=invalid, headers=headers)
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])
    detail = detail or ERROR_DETAILS.get(status, ERROR_DETAILS[500])
    page = render_template("errors/error.html", status=status, title=title, detail=detail)
    return current_app.response_class(page, status, headers, mimetype="text/html")


SQLITE_OUTAGES = ("database is locked", "unable to open database")


def is_outage(error: BaseException) -> bool:
    """Whether a database error means "unreachable or too slow" rather than a bug: a lost
    or refused connection, no free connection in the pool, a statement timeout, SQLite's
    wait for a lock running out."""
    if isinstance(error, sa_exc.TimeoutError):
        return True
    if not isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return False
    if isinstance(error.orig, sqlite3.Error) and not error.connection_invalidated:
        # SQLite reports mistakes (a missing table, bad SQL) as OperationalError too.
        return any(text in str(error.orig) for text in SQLITE_OUTAGES)
    return True


def _locale_without_account() -> str:
    """The language chosen in the session or the browser's: the account's would need the
    database."""
    languages = current_app.config["LANGUAGES"]
    if session.get("locale") in languages:
        return session["locale"]
    best = request.accept_languages.best_match(list(languages))
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def standalone_error(status: int, headers=None):
    """An error answer that needs neither the database nor a trusted Host header: the
    person's language from the session or browser, and problem+json or a page without the
    site's layout (no signed-in person, no links built from the request)."""
    locale = _locale_without_account()
    with force_locale(locale):
        if wants_json():
            return problem_response(status, headers=headers)
        # Straight from the Jinja environment: context processors would load the person.
        page = current_app.jinja_env.get_template("errors/standalone.html").render(
            lang=locale,
            site_name=current_app.config["SITE_NAME"],
            stylesheet=f"{request.script_root}{current_app.static_url_path}/css/engage.css",
            status=status,
            title=ERROR_TITLES[status],
            detail=ERROR_DETAILS[status],
        )
    return current_app.response_class(page, status, headers, mimetype="text/html")


def database_unavailable(error: Exception):
    """503 with Retry-After: the database is unreachable or too slow."""
    log.error(
        "Database unavailable on %s %s: %s (%s)",
        request.method,
        request.path,
        type(error).__name__,
        type(getattr(error, "orig", None)).__name__,
    )
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        pass  # the connection is gone; the pool discards it
    return standalone_error(503, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        # The Host header is not one of ours (TRUSTED_HOSTS): no URL can be built for it.
        return standalone_error(400)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(
            400,
            _l(
                "This form has expired or was already sent. Please go back, reload the page "
                "and try again."
            ),
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        # A refusal no view mapped onto a form: nothing the request changed is kept.
        db.session.rollback()
        return error_response(
            error.status, error.message, field=error.field, headers=error.headers
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code >= 500:
            return server_error(error)
        # A description given with abort(code, description) is ours and translated;
        # Werkzeug's default English descriptions are not shown.
        detail = error.description if error.description != type(error).description else None
        response = error_response(error.code, detail)
        for key, value in error.get_headers():
            if key.lower() not in {"content-type", "content-length"}:
                response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def server_error(error):
        if is_outage(error):
            return database_unavailable(error)
        if not isinstance(error, InternalServerError):
            log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
