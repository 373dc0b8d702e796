"""Domain errors raised by services, and the HTML / problem+json error pages."""

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from engage.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused the change; `message` is shown to the person."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input broke a rule that a form cannot check (uniqueness, cross-field rules)."""


class InvalidTransition(DomainError):
    """The object's current state does not allow this action."""


class LimitReached(DomainError):
    """A quota, such as a challenge's vote limit, is used up."""


class NotPermitted(DomainError):
    """The person may not do this (their role, account state or the phase forbids it)."""


# i18n: titles of error pages
ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Request too large"),
    422: _l("Request could not be processed"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}

ERROR_DETAILS = {
    400: _l("The request was malformed. Please check what you sent and try again."),
    401: _l("You need to sign in to see this page."),
    403: _l("You are not allowed to do this."),
    404: _l("We could not find that page. It may have been moved or removed."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This conflicts with the current state of the resource."),
    413: _l("What you sent is too large."),
    422: _l("We could not process what you sent."),
    429: _l("You have made too many requests. Please wait a moment and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again."),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, detail=None):
    """Render an error as an HTML page or as application/problem+json."""
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])
    detail = detail or ERROR_DETAILS.get(status, ERROR_DETAILS[500])
    if wants_json():
        body = {
            "type": "about:blank",
            "title": str(title),
            "status": status,
            "detail": str(detail),
        }
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        return response
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(
            400,
            _l(
                "This form has expired or was already sent. Please go back, reload the page "
                "and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code >= 500:
            return server_error(error)
        # A description given with abort(code, description) is ours and translated;
        # Werkzeug's default English descriptions are not shown.
        detail = error.description if error.description != type(error).description else None
        response = error_response(error.code, detail)
        if isinstance(response, tuple):
            body, status = response
            response = app.make_response((body, status))
        for key, value in error.get_headers():
            if key.lower() not in {"content-type", "content-length"}:
                response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def server_error(error):
        if not isinstance(error, InternalServerError):
            log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
