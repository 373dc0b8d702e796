"""User-written text: Markdown rendered to HTML and sanitized by one bleach Cleaner."""

import html
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


def render_markdown(source: str | None) -> Markup:
    """Render Markdown to sanitized HTML that is safe to put in a page."""
    if not source:
        return Markup("")
    html = markdown.markdown(source, output_format="html")
    return Markup(_cleaner.clean(html))


def plain_excerpt(source: str | None, length: int = 200) -> str:
    """Return the text of a Markdown document without markup, cut at a word boundary."""
    if not source:
        return ""
    text = _text_only.clean(markdown.markdown(source))
    # bleach escapes entities and Jinja escapes again on output: undo the first.
    text = " ".join(html.unescape(text).split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut + "…"

