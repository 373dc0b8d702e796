"""User text: the Markdown allow-list, and XSS payloads that must never become active."""

import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup, escape
from sqlalchemy import select

from engage.auth.models import User
from engage.extensions import db
from engage.ideas.models import Comment, Idea
from engage.text import clean_line, plain_excerpt, render_markdown

# render_markdown allow-list ---------------------------------------------------------------


def test_markdown_renders_paragraphs():
    assert render_markdown("One.\n\nTwo.") == "<p>One.</p>\n<p>Two.</p>"


def test_markdown_renders_emphasis_and_strong():
    assert render_markdown("*soft* and **loud**") == (
        "<p><em>soft</em> and <strong>loud</strong></p>"
    )


def test_markdown_renders_bulleted_lists():
    assert render_markdown("- trees\n- benches") == (
        "<ul>\n<li>trees</li>\n<li>benches</li>\n</ul>"
    )


def test_markdown_renders_numbered_lists():
    assert render_markdown("1. plan\n2. build") == "<ol>\n<li>plan</li>\n<li>build</li>\n</ol>"


def test_markdown_renders_line_breaks():
    assert render_markdown("first  \nsecond") == "<p>first<br>\nsecond</p>"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/plan",
        "http://example.org/plan",
        "mailto:parks@example.org",
    ],
)
def test_markdown_links_allowed_protocols_with_nofollow_rel(url):
    assert render_markdown(f"[the plan]({url})") == (
        f'<p><a href="{url}" rel="nofollow ugc noopener">the plan</a></p>'
    )


def test_markdown_keeps_link_titles():
    assert render_markdown('[plan](https://example.org "Our plan")') == (
        '<p><a href="https://example.org" title="Our plan" rel="nofollow ugc noopener">'
        "plan</a></p>"
    )


def test_markdown_turns_bare_urls_into_nofollow_links():
    assert render_markdown("See https://example.org today") == (
        '<p>See <a href="https://example.org" rel="nofollow ugc noopener">'
        "https://example.org</a> today</p>"
    )


def test_markdown_replaces_a_users_rel_and_drops_target():
    html = render_markdown('<a href="https://example.org" rel="opener" target="_blank">x</a>')

    assert html == '<p><a href="https://example.org" rel="nofollow ugc noopener">x</a></p>'


def test_markdown_does_not_linkify_inside_code():
    assert render_markdown("`https://example.org`") == ("<p><code>https://example.org</code></p>")


def test_markdown_renders_inline_code_escaped():
    assert render_markdown("`<b>x</b>`") == "<p><code>&lt;b&gt;x&lt;/b&gt;</code></p>"


def test_markdown_renders_code_blocks():
    assert render_markdown("    x = 1\n") == "<pre><code>x = 1\n</code></pre>"


def test_markdown_renders_blockquotes():
    assert render_markdown("> As promised") == ("<blockquote>\n<p>As promised</p>\n</blockquote>")


def test_markdown_reduces_headings_to_text_so_pages_keep_one_h1():
    html = render_markdown("# Big title\n\ntext")

    assert "<h1" not in html and "Big title" in html


def test_markdown_drops_images():
    assert "<img" not in render_markdown("![a cat](https://example.org/cat.png)")


def test_markdown_strips_tags_outside_the_allow_list_keeping_their_text():
    html = render_markdown("<b>bold</b> <u>under</u> <table><tr><td>cell</td></tr></table>")

    assert re.sub(r"\s+", " ", html) == "<p>bold under cell</p>"


def test_markdown_escapes_text_that_looks_like_markup():
    assert render_markdown("a & b < c") == "<p>a &amp; b &lt; c</p>"


@pytest.mark.parametrize("source", ["", None])
def test_markdown_of_nothing_is_empty(source):
    assert render_markdown(source) == ""


def test_markdown_returns_markup_that_templates_print_as_is():
    assert isinstance(render_markdown("*x*"), Markup)


# XSS payloads ------------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=https://evil.example></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>">',
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="  javascript:alert(1)">click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">click</a>',
    '<a href="vbscript:msgbox(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](javascript:alert(1))",
    "<javascript:alert(1)>",
    '<p onclick="alert(1)">x</p>',
    '<a href="https://example.org" onmouseover="alert(1)">x</a>',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<style>*{color:red}</style>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<base href=https://evil.example/>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)",
    "<img src=x onerror=alert(1)",
    "<script",
    '<a href="javascript:alert(1)"',
    "<!--<script>alert(1)</script>-->",
    '[x](https://example.org "a\\" onmouseover=\\"alert(1)")',
]

DANGEROUS_TAGS = {
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "img",
    "image",
    "video",
    "audio",
    "base",
    "details",
    "template",
    "body",
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "srcdoc",
    "xlink:href",
    "poster",
    "background",
}
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class ActiveContentFinder(HTMLParser):
    """Collect every tag and attribute a browser would act on."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.body_tags = 0

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.body_tags += 1
            if self.body_tags == 1 and not attrs:
                return  # the layout's own <body>
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "link" and dict(attrs).get("rel") != "stylesheet":
            self.problems.append(f"<link {attrs}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc"}:
                self.problems.append(f"{tag}[{name}]")
            if name in URL_ATTRIBUTES and not _is_safe_url(value or ""):
                self.problems.append(f"{tag}[{name}={value!r}]")

    handle_startendtag = handle_starttag


def _is_safe_url(value: str) -> bool:
    """A relative URL, or one with an allowed scheme, as a browser would read it."""
    # Browsers ignore ASCII whitespace and control characters anywhere in a URL scheme.
    compact = re.sub(r"[\x00-\x20\x7f]", "", value).lower()
    scheme = re.match(r"[a-z][a-z0-9+.-]*:", compact)
    return scheme is None or compact.startswith(SAFE_SCHEMES)


def active_content(html: str) -> list[str]:
    finder = ActiveContentFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_render_markdown_leaves_no_active_content(payload):
    assert active_content(render_markdown(payload)) == []


def test_active_content_finder_catches_what_it_looks_for():
    # The checker itself, so a broken checker cannot make the tests above pass.
    raw = (
        '<script>x</script><img src=x onerror=y><a href="jav&#x09;ascript:x">a</a>'
        '<p style="x">p</p><a href="DATA:text/html,x">b</a><svg onload=x>'
    )
    assert active_content(raw) == [
        "<script>",
        "<img>",
        "img[onerror]",
        "a[href='jav\\tascript:x']",
        "p[style]",
        "a[href='DATA:text/html,x']",
        "<svg>",
        "svg[onload]",
    ]


@pytest.fixture
def author(make_user):
    return make_user("author@example.org", display_name="Ada")


@pytest.fixture
def challenge(make_challenge):
    return make_challenge("open", slug="xss", title="Safe challenge")


def _tag_for(payload: str) -> str:
    """The payload itself when it fits the tag rules (≤ 40 characters, no comma)."""
    if len(payload) <= 40 and "," not in payload:
        return payload
    return "<script>alert(1)</script>"


def _submit_everywhere(client, auth, payload: str) -> int:
    """Use the payload as title, body, tags, location and comment; return the idea id."""
    auth.login("author@example.org")
    response = client.post(
        "/challenges/xss/ideas/new",
        data={
            "title": payload[:140],
            "body": payload,
            "tags": _tag_for(payload),
            "location": payload[:200],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    idea_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    response = client.post(f"/ideas/{idea_id}/comments", data={"body": payload})
    assert response.status_code == 302
    return idea_id


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_are_inert_on_idea_challenge_and_profile_pages(
    client, auth, author, challenge, payload
):
    idea_id = _submit_everywhere(client, auth, payload)
    # Titles and names arrive normalized (one line, single spaces).
    shown = str(escape(clean_line(payload[:140])))

    for url in (f"/ideas/{idea_id}", "/challenges/xss", "/account/"):
        page = client.get(url).get_data(as_text=True)
        assert active_content(page) == [], url
        assert shown in page, url  # the text is there, only escaped


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_are_inert_in_the_idea_preview(client, auth, author, challenge, payload):
    auth.login("author@example.org")

    response = client.post(
        "/challenges/xss/ideas/new",
        data={
            "title": payload[:140],
            "body": payload,
            "preview": "Preview",
        },
    )

    assert response.status_code == 200
    assert active_content(response.get_data(as_text=True)) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_are_inert_in_author_names(client, make_challenge, make_idea, payload):
    challenge = make_challenge("open", slug="names")
    # Made directly: these people never sign in, so no password hashing is paid for.
    person = User(email="person@example.org", password_hash="!", display_name=payload[:80])
    business = User(
        email="firm@example.org",
        password_hash="!",
        display_name="Firm",
        account_type="business",
        organisation_name=payload[:120],
    )
    first = make_idea(challenge, author=person, title="By a person")
    make_idea(challenge, author=business, title="By a business")
    db.session.commit()

    for url in ("/challenges/names", f"/ideas/{first.id}"):
        page = client.get(url).get_data(as_text=True)
        assert active_content(page) == [], url
        assert str(escape(payload[:80])) in page, url


def test_xss_payloads_in_a_challenge_are_inert(client, make_challenge):
    make_challenge(
        "open",
        slug="hostile",
        title="<script>alert(1)</script>",
        summary="<img src=x onerror=alert(1)>",
        body="\n\n".join(PAYLOADS),
        tags=["<svg onload=alert(1)>"],
    )

    for url in ("/", "/challenges", "/challenges/hostile"):
        assert active_content(client.get(url).get_data(as_text=True)) == [], url


def test_xss_payload_is_stored_as_written(client, auth, author, challenge):
    payload = "<img src=x onerror=alert(1)>"

    idea_id = _submit_everywhere(client, auth, payload)

    idea = db.session.get(Idea, idea_id)
    comment = db.session.scalars(select(Comment).where(Comment.idea_id == idea_id)).one()
    assert (idea.title, idea.body, comment.body) == (payload, payload, payload)


# plain_excerpt -----------------------------------------------------------------------------


def excerpt(source, **options):
    return plain_excerpt(render_markdown(source), **options)


def test_plain_excerpt_strips_markdown_and_html():
    source = "**Plant** [trees](https://example.org) <em>now</em>, `please`\n\n- a\n- b"

    assert excerpt(source) == "Plant trees now, please a b"


def test_plain_excerpt_keeps_only_the_text_of_script_tags():
    assert excerpt("<script>alert(1)</script> hello") == "alert(1) hello"


def test_plain_excerpt_returns_plain_characters_for_the_template_to_escape():
    assert excerpt("Fish &amp; chips < 5 €") == "Fish & chips < 5 €"


def test_plain_excerpt_cuts_at_a_word_boundary():
    assert excerpt("one two three four", length=9) == "one two…"


def test_plain_excerpt_keeps_short_text_whole():
    assert excerpt("one two three", length=13) == "one two three"


def test_plain_excerpt_collapses_whitespace():
    assert excerpt("one\n\n\ntwo    three") == "one two three"


@pytest.mark.parametrize("source", ["", None])
def test_plain_excerpt_of_nothing_is_empty(source):
    assert excerpt(source) == ""


def test_idea_list_excerpt_shows_no_markup(client, make_challenge, make_idea):
    challenge = make_challenge("open", slug="excerpt")
    make_idea(challenge, body="**Bold** claim with <em>markup</em> & more")

    page = client.get("/challenges/excerpt").get_data(as_text=True)

    assert "<p>Bold claim with markup &amp; more</p>" in page
