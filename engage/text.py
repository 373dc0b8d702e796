"""User-written text: Markdown rendered to HTML and sanitized by one bleach Cleaner."""

import html
import threading
from functools import partial

import bleach
import markdown
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "ul", "ol", "li", "a", "code", "pre", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"


def _set_link_rel(attrs, new=False):
    href_key = (None, "href")
    if href_key not in attrs:
        return None  # an <a> without a usable link is dropped to its text
    attrs[(None, "rel")] = LINK_REL
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], skip_tags={"pre", "code"})],
)
_text_only = bleach.Cleaner(tags=frozenset(), attributes={}, strip=True, strip_comments=True)


_local = threading.local()


def _markdown(source: str) -> str:
    # Building a Markdown converter costs more than converting a short text: keep one
    # per thread (they are not thread-safe) and reset it between documents.
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(output_format="html")
    return converter.reset().convert(source)


def render_markdown(source: str | None) -> Markup:
    """Render Markdown to sanitized HTML that is safe to put in a page."""
    if not source:
        return Markup("")
    return Markup(_cleaner.clean(_markdown(source)))


def plain_excerpt(source: str | None, length: int = 200) -> str:
    """Return the text of a Markdown document without markup, cut at a word boundary."""
    if not source:
        return ""
    text = _text_only.clean(_markdown(source))
    # bleach escapes entities and Jinja escapes again on output: undo the first.
    text = " ".join(html.unescape(text).split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut + "…"
