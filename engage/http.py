"""Request helpers shared by the views: safe redirect targets and forgiving arguments."""

from urllib.parse import urlsplit

from flask import request


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
