"""Request helpers shared by the views: safe redirect targets and forgiving arguments."""

from urllib.parse import urlsplit

from flask import request, session
from flask_babel import get_locale
from flask_login import current_user

from engage.extensions import cache


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
