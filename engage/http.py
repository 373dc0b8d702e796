"""Request helpers shared by the views: safe redirect targets and forgiving arguments,
and the guard that refuses broken text before any view reads it; absolute URLs."""

from urllib.parse import unquote_to_bytes, urlsplit

from flask import abort, current_app, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engage.extensions import cache

NUL_REFUSED = _l("The request contains characters that are not allowed.")
INVALID_UTF8_REFUSED = _l(
    "Part of what you sent is not readable text (it is not valid UTF-8). Please type it "
    "again and send it once more."
)
FORM_BODY = "application/x-www-form-urlencoded"


def _text_problem(encoded: bytes):
    """Why a query string or form body is refused, or None: each name and value,
    percent-decoded, must be valid UTF-8 (lone surrogates are not) and hold no NUL."""
    for pair in encoded.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                text = unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return INVALID_UTF8_REFUSED
            if "\x00" in text:
                return NUL_REFUSED
    return None


def refuse_broken_text():
    """Answer 400 to a request whose path, query string or form holds NUL, or whose query
    string or form body is not valid UTF-8.

    Werkzeug would keep the invalid bytes percent-encoded (or drop the whole body) without
    a word, and PostgreSQL cannot store NUL. Reads the raw body, so it must run before
    anything parses the form (CSRF does, in its own before_request).
    """
    problem = NUL_REFUSED if "\x00" in request.path else _text_problem(request.query_string)
    if problem is None and request.mimetype == FORM_BODY:
        problem = _text_problem(request.get_data(cache=True))
    elif problem is None and request.method == "POST":
        # Other form bodies (multipart) are checked as Werkzeug decoded them: for NUL.
        if any("\x00" in name + value for name, value in request.form.items(multi=True)):
            problem = NUL_REFUSED
    if problem is not None:
        abort(400, description=problem)


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on PUBLIC_URL (its scheme, host and path prefix),
    with or without a request: e-mails, the API and webhooks never trust the Host header.
    """
    current_app.inject_url_defaults(endpoint, values)
    return _public_urls(current_app.config["PUBLIC_URL"]).build(
        endpoint, values, force_external=True
    )


def _public_urls(public_url: str):
    """The app's URL map bound to PUBLIC_URL, made once per app (exports build many)."""
    cached = current_app.extensions.get("engage_public_urls")
    if cached is None or cached[0] != public_url:
        public = urlsplit(public_url)
        adapter = current_app.url_map.bind(
            public.netloc, script_name=public.path or "/", url_scheme=public.scheme
        )
        cached = current_app.extensions["engage_public_urls"] = (public_url, adapter)
    return cached[1]


def safe_next(target: str | None, default: str) -> str:
    """Return `target` if it is a path on this site, else `default`.

    Refuses scheme-relative (`//host`), backslash (`/\\host`) and scheme (`https:host`)
    forms that browsers would take to another site.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def page_arg(name: str = "page", last: int = 1) -> int:
    """Read a page number; anything not a positive integer gives 1, too large gives `last`."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > 9:
        return max(last, 1)
    return min(max(int(raw), 1), max(last, 1))


def choice_arg(name: str, choices, default: str) -> str:
    """Read an argument that must be one of `choices`; anything else gives `default`."""
    value = request.args.get(name, default)
    return value if value in choices else default


def _personal_request() -> bool:
    """Signed-in people and pending messages make a page personal: never cache those."""
    return current_user.is_authenticated or "_flashes" in session


def _public_page_key() -> str:
    return f"page:{get_locale()}:{request.full_path}"


def cached_for_visitors(view):
    """Serve a public GET page from the cache to visitors who are not signed in.

    The page must not depend on the session (no CSRF token, no personal data): only
    successful renders are stored, for CACHE_DEFAULT_TIMEOUT seconds, per language.
    """
    return cache.cached(
        make_cache_key=lambda *args, **kwargs: _public_page_key(),
        unless=_personal_request,
        response_filter=lambda rv: isinstance(rv, str),
    )(view)
