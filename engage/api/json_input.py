"""JSON the API reads (request bodies, cursors): parsed strictly, and a body refused as
problem+json unless it is a small, unambiguous JSON object of clean text.

Python's json module alone takes the last of duplicate keys, accepts NaN and Infinity,
turns 1e400 into infinity, decodes escaped NUL characters and lone surrogates (which
PostgreSQL cannot store), and recurses once per level of nesting: each is refused here.
"""

import json
import math
import re
from collections.abc import Callable, Collection, Mapping

from flask import request
from flask_babel import gettext as _

from engage.errors import Problem

BODY_MAX = 64 * 1024  # bytes; a pipeline move with its longest note is under 10 KiB
DEPTH_MAX = 8  # arrays and objects inside each other
DIGITS_MAX = 20  # of an integer
NAME_SHOWN_MAX = 100  # characters of a client's field name echoed in an answer

# A JSON string, whole (or to the end of an unterminated one), or a bracket. Matched from
# left to right and possessively, brackets inside strings are skipped in linear time.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]', re.DOTALL)
# What no stored text may hold: NUL, and halves of a surrogate pair without the other.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


class JsonRefused(ValueError):
    """JSON text that is malformed or ambiguous; `field` is the key at fault, if any."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def _nesting(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (at least DEPTH_MAX + 1 if deeper)."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > DEPTH_MAX:
                break
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _object(pairs: list) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            name = safe_name(key)
            raise JsonRefused(_("'%(name)s' is given more than once.", name=name), name)
        result[key] = value
    return result


def _constant(name: str):
    raise JsonRefused(_("JSON does not allow the value %(value)s.", value=name))


def _too_large():
    return JsonRefused(_("A number is too large."))


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _too_large()
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > DIGITS_MAX:
        raise _too_large()
    return int(text)


def strict_loads(text: str):
    """Parse JSON text, refusing (JsonRefused) duplicate keys, NaN and Infinity, numbers
    too large for a float or of more than DIGITS_MAX digits, and nesting deeper than
    DEPTH_MAX (measured before parsing, so the parser never recurses far)."""
    if text.count("[") + text.count("{") > DEPTH_MAX and _nesting(text) > DEPTH_MAX:
        raise JsonRefused(
            _("Arrays and objects may nest at most %(max)d levels deep.", max=DEPTH_MAX)
        )
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
        )
    except JsonRefused:
        raise
    except ValueError:
        raise JsonRefused(_("This is not valid JSON.")) from None


def safe_name(name: str) -> str:
    """A key as the client sent it, cut short and with what cannot be stored replaced,
    to name it in an answer."""
    if len(name) > NAME_SHOWN_MAX:
        name = name[: NAME_SHOWN_MAX - 1] + "…"
    return _UNSAFE.sub("\ufffd", name)


def _strings(value, field: str | None):
    """Every string of a parsed JSON value, keys included, with the top-level field
    holding it (None for the top-level keys themselves)."""
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield field, key
            yield from _strings(item, field if field is not None else key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, field)


def _body_text() -> str:
    mimetype = request.mimetype
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise Problem(415, _("Send the body as JSON, with 'Content-Type: application/json'."))
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8") or request.content_encoding not in (None, "identity"):
        raise Problem(415, _("Send the body as JSON in UTF-8, not compressed."))
    too_large = Problem(413, _("Send a body of at most %(size)d bytes.", size=BODY_MAX))
    if (request.content_length or 0) > BODY_MAX:
        raise too_large
    # A body sent without a length is cut off at the site's MAX_CONTENT_LENGTH (413).
    raw = request.get_data(cache=True)
    if len(raw) > BODY_MAX:
        raise too_large
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, _("The body is not valid UTF-8.")) from None


def json_object(
    fields: Mapping[str, Callable[[str], str]], required: Collection[str] = ()
) -> dict[str, str | None]:
    """The request's body: a JSON object of text `fields`, each normalized by its cleaner
    (engage.text.clean_line or clean_text); a field absent or null is None.

    Raises Problem: 415 (not JSON, another charset, compressed), 413 (over BODY_MAX),
    400 (not UTF-8, not JSON, duplicate key, NaN, too large a number, too deep, not an
    object), 422 naming the field (NUL or lone surrogate, unknown field, not a string,
    required field missing).
    """
    try:
        data = strict_loads(_body_text())
    except JsonRefused as error:
        raise Problem(400, error.message, field=error.field) from None
    if not isinstance(data, dict):
        raise Problem(
            400, _("Send a JSON object with the fields: %(fields)s.", fields=", ".join(fields))
        )
    for field, text in _strings(data, None):
        if _UNSAFE.search(text):
            name = safe_name(field if field is not None else text)
            raise Problem(
                422,
                _("'%(name)s' holds a NUL character or an unpaired surrogate.", name=name),
                field=name,
            )
    unknown = sorted(set(data) - set(fields))
    if unknown:
        name = safe_name(unknown[0])
        raise Problem(422, _("'%(name)s' is not a field of this request.", name=name), field=name)
    result = {}
    for name, clean in fields.items():
        value = data.get(name)
        if value is None and name in required:
            raise Problem(422, _("'%(name)s' is required.", name=name), field=name)
        if value is not None and not isinstance(value, str):
            raise Problem(422, _("'%(name)s' must be a string.", name=name), field=name)
        result[name] = clean(value) if value is not None else None
    return result
