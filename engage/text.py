"""User-written text: normalized on the way in, Markdown rendered once (when it is
written) to HTML sanitized by one bleach Cleaner, and plain-text excerpts.

Markdown goes through cmark-gfm, a C parser that runs in linear time and without
recursion; its HTML is measured before bleach (the slow, tree-building step) sees it, so
no text can make rendering deep or slow.
"""

import html
import re
import unicodedata
from functools import partial

import bleach
import cmarkgfm
from bleach.linkifier import LinkifyFilter
from cmarkgfm.cmark import Options
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from engage.errors import ValidationFailed

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "ul", "ol", "li", "a", "code", "pre", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Limits checked before sanitizing. Real texts stay far below them: a 10,000-character
# idea nests a few levels and has a few hundred elements.
SOURCE_MAX = 20_000
NESTING_LEVELS = 12  # lists and quotes inside each other, as promised to authors
DEPTH_MAX = 2 * NESTING_LEVELS + 8  # HTML elements: a list level is <ul><li>, then inline
ELEMENTS_MAX = 1_000
LINKS_MAX = 300
CHARACTER_REFERENCES_MAX = 3_000  # "&lt;", "&quot;"… each costs bleach a little
HTML_GROWTH_MAX = 4  # HTML at most this many times the source (plus a little)

# Raw HTML is passed on (UNSAFE) only so that bleach's allow-list decides about it.
_CMARK_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8
_CMARK_EXTENSIONS = ["autolink"]


class MarkdownTooComplex(ValueError):
    """The text is over the rendering limits; `limit` says which: "length", "depth",
    "elements", "links", "references" or "growth"."""

    def __init__(self, limit: str):
        super().__init__(f"over the {limit} limit")
        self.limit = limit


def _set_link_rel(attrs, new=False):
    if (None, "href") not in attrs:
        return None  # an <a> without a usable link is dropped to its text
    attrs[(None, "rel")] = LINK_REL
    return attrs


# The linkifier only sets `rel` on the links cmark made; cmark-gfm has already turned
# bare URLs into links, in linear time (bleach's own URL pattern backtracks on "(((").
_NO_URLS = re.compile(r"(?!)")
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[
        partial(LinkifyFilter, callbacks=[_set_link_rel], url_re=_NO_URLS, parse_email=False)
    ],
)

# cmark's HTML is well formed and escapes "<" in text and attributes, so every "<" in it
# starts a tag, a closing tag or a comment.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = frozenset({"br", "hr", "img", "input", "wbr", "area", "col", "embed", "source"})


def _check_shape(markup: str, source_length: int) -> None:
    if len(markup) > HTML_GROWTH_MAX * source_length + 2_000:
        raise MarkdownTooComplex("growth")
    if markup.count("&") > CHARACTER_REFERENCES_MAX:
        raise MarkdownTooComplex("references")
    depth = deepest = elements = links = 0
    for match in _TAG.finditer(markup):
        closing, name, self_closing = match.groups()
        if closing:
            depth -= 1
        elif not self_closing and name.lower() not in _VOID:
            depth += 1
            elements += 1
            deepest = max(deepest, depth)
            links += name.lower() == "a"
    for limit, value, maximum in (
        ("depth", deepest, DEPTH_MAX),
        ("elements", elements, ELEMENTS_MAX),
        ("links", links, LINKS_MAX),
    ):
        if value > maximum:
            raise MarkdownTooComplex(limit)


def render_markdown(source: str | None) -> Markup:
    """Render Markdown to sanitized HTML that is safe to put in a page.

    Raises MarkdownTooComplex for a text over the limits; services turn that into a
    message for the author, so such a text is never stored.
    """
    if not source:
        return Markup("")
    if len(source) > SOURCE_MAX:
        raise MarkdownTooComplex("length")
    markup = cmarkgfm.markdown_to_html_with_extensions(
        source, options=_CMARK_OPTIONS, extensions=_CMARK_EXTENSIONS
    )
    _check_shape(markup, len(source))
    return Markup(_cleaner.clean(markup).strip())


def render_markdown_or_text(source: str | None) -> Markup:
    """Like render_markdown, but never fails: a text over the limits is shown as its
    escaped paragraphs (for rows written before the limits existed)."""
    try:
        return render_markdown(source)
    except MarkdownTooComplex:
        paragraphs = re.split(r"\n\s*\n", (source or "").strip())
        return Markup("\n").join(
            Markup("<p>{}</p>").format(Markup("<br>\n").join(paragraph.split("\n")))
            for paragraph in paragraphs
            if paragraph.strip()
        )


# In sanitized HTML every "<" starts a tag: block ends separate words, inline tags do not.
_BLOCK_TAG = re.compile(r"</?(?:p|br|li|ul|ol|blockquote|pre)\b[^>]*>")
_INLINE_TAG = re.compile(r"<[^>]*>")


def plain_excerpt(markup: str | None, length: int = 200) -> str:
    """Return the text of sanitized HTML (from render_markdown) without tags, cut at a
    word boundary."""
    if not markup:
        return ""
    text = _INLINE_TAG.sub("", _BLOCK_TAG.sub(" ", markup))
    # bleach escapes entities and Jinja escapes again on output: undo the first.
    text = " ".join(html.unescape(text).split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut + "…"


# Text in -----------------------------------------------------------------------------

# Controls other than tab and newline (C0, DEL, C1) are never part of a text.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Invisible characters that reorder or hide text: bidi controls, zero-width characters,
# the soft hyphen and the byte-order mark. Names and titles never need them.
_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def clean_line(value: str | None) -> str:
    """Normalize one line of text (a name, a title): NFC, no controls, bidi or
    zero-width characters, and every run of whitespace (line and paragraph separators
    included) as one space."""
    if not value:
        return ""
    value = _INVISIBLE.sub("", unicodedata.normalize("NFC", value))
    return " ".join(_CONTROLS.sub(" ", value).split())


def clean_text(value: str | None) -> str:
    """Normalize a text of several lines (Markdown): NFC, newlines as \\n, no controls
    but tab and newline. Surrounding blank space is trimmed."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", value).strip()


def render_written(source: str, field: str) -> str:
    """Render a text that is being written, for storing beside its source.

    Raises ValidationFailed on `field`, with a message for the author, when the text is
    over the rendering limits (so such a text is never stored).
    """
    try:
        return str(render_markdown(source))
    except MarkdownTooComplex as error:
        if error.limit == "depth":
            message = _l(
                "Lists and quotes can be nested at most %(max)d levels deep.", max=NESTING_LEVELS
            )
        else:
            message = _l(
                "This text has too much formatting to show (hundreds of links, list items "
                "or special characters). Please simplify it."
            )
        raise ValidationFailed(message, field) from None


SLUG_MAX = 80


def slugify(text: str, fallback: str = "challenge") -> str:
    """Lower-case ASCII words joined by hyphens for addresses: 'Vélo & ville' → 'velo-ville'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    # Room for a "-12345" suffix that tells apart two equal titles.
    return slug[: SLUG_MAX - 6].strip("-") or fallback
