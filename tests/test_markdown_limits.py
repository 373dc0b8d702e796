"""Markdown that cannot hurt: pathological texts render within the limits or are refused
with a message, and a stored text never breaks a page (timings: bench/markdown_corpus.py)."""

import pytest
from markupsafe import Markup
from pathological_markdown import CORPUS
from sqlalchemy import func, select
from test_markdown import active_content

from engage.extensions import db
from engage.ideas.models import Comment, Idea
from engage.text import (
    NESTING_LEVELS,
    MarkdownTooComplex,
    render_markdown,
    render_markdown_or_text,
)

NAMES = sorted(CORPUS)


def nested_list(levels: int) -> str:
    return "".join("  " * level + "- item\n" for level in range(levels))


@pytest.mark.parametrize("name", NAMES)
def test_pathological_text_renders_or_is_refused_as_too_complex(name):
    try:
        html = render_markdown(CORPUS[name])
    except MarkdownTooComplex as error:
        assert error.limit in {"length", "depth", "elements", "links", "references", "growth"}
    else:
        assert isinstance(html, Markup)
        assert active_content(html) == []


@pytest.mark.parametrize("name", NAMES)
def test_pathological_text_always_has_a_safe_rendering(name):
    html = render_markdown_or_text(CORPUS[name])

    assert isinstance(html, Markup)
    assert active_content(html) == []


def test_text_over_the_limits_is_shown_as_escaped_paragraphs():
    html = render_markdown_or_text("<b>x</b>\n" + "- " * 300 + "x\n\nsecond")

    assert html.startswith("<p>&lt;b&gt;x&lt;/b&gt;<br>\n- - ")
    assert html.endswith("<p>second</p>")


def test_lists_nested_as_deep_as_promised_are_rendered():
    html = render_markdown(nested_list(NESTING_LEVELS))

    assert html.count("<ul>") == NESTING_LEVELS


def test_lists_nested_deeper_than_promised_are_too_complex():
    with pytest.raises(MarkdownTooComplex) as raised:
        render_markdown(nested_list(NESTING_LEVELS + 5))

    assert raised.value.limit == "depth"


def test_text_longer_than_any_field_is_too_complex():
    with pytest.raises(MarkdownTooComplex) as raised:
        render_markdown("a" * 20_001)

    assert raised.value.limit == "length"


def test_hundreds_of_links_are_too_complex():
    with pytest.raises(MarkdownTooComplex) as raised:
        render_markdown("[a](https://example.org) " * 301)

    assert raised.value.limit == "links"


# Through the pages --------------------------------------------------------------------


@pytest.fixture
def commenter(make_user, auth):
    person = make_user("commenter@example.org")
    auth.login("commenter@example.org")
    return person


def _comments() -> int:
    return db.session.scalar(select(func.count(Comment.id)))


def test_comment_of_hundreds_of_nested_list_markers_is_refused_with_a_message(
    client, commenter, make_idea
):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "- " * 300 + "x"})

    assert response.status_code == 422
    assert "nested at most 12 levels" in response.get_data(as_text=True)
    assert _comments() == 0
    assert client.get(f"/ideas/{idea.id}").status_code == 200


def test_idea_of_too_much_formatting_is_refused_and_its_preview_says_why(
    client, commenter, make_challenge
):
    challenge = make_challenge("open")
    data = {"title": "Entities", "body": "&" * 10_000}

    preview = client.post(
        f"/challenges/{challenge.slug}/ideas/new", data={**data, "preview": "Preview"}
    )
    submitted = client.post(f"/challenges/{challenge.slug}/ideas/new", data=data)

    assert preview.status_code == 422
    assert "too much formatting" in preview.get_data(as_text=True)
    assert submitted.status_code == 422
    assert db.session.scalar(select(func.count(Idea.id))) == 0


@pytest.mark.parametrize("name", NAMES)
def test_every_pathological_comment_is_posted_or_refused_never_an_error(
    client, commenter, make_idea, name
):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": CORPUS[name][:5000]})

    assert response.status_code in (302, 422)
    page = client.get(f"/ideas/{idea.id}")
    assert page.status_code == 200
    assert active_content(page.get_data(as_text=True)) == []


@pytest.fixture
def stored_bomb(make_user, make_agency, make_challenge, make_idea):
    """A comment written before the limits existed: its stored HTML is the fallback."""
    moderator = make_user("moderator@example.org")
    agency = make_agency(members=[(moderator, "moderator")])
    idea = make_idea(make_challenge("open", agency=agency))
    source = "- " * 300 + "x"
    comment = Comment(
        idea_id=idea.id,
        author=make_user(),
        body=source,
        body_html=str(render_markdown_or_text(source)),
        open_flag_count=1,
    )
    db.session.add(comment)
    db.session.commit()
    return comment


def test_page_holding_a_stored_bomb_answers_200_for_everyone(client, auth, stored_bomb):
    idea_url = f"/ideas/{stored_bomb.idea_id}"
    assert client.get(idea_url).status_code == 200

    auth.login("moderator@example.org")
    assert client.get(idea_url).status_code == 200
    assert client.get(f"/moderation/ideas/{stored_bomb.idea_id}").status_code == 200
    assert client.get("/moderation", follow_redirects=True).status_code == 200


def test_staff_can_hide_a_stored_bomb(client, auth, stored_bomb):
    auth.login("moderator@example.org")

    response = client.post(
        f"/moderation/comments/{stored_bomb.id}/decide",
        data={"action": "hide", "reason": "Unreadable"},
    )

    assert response.status_code == 302
    db.session.refresh(stored_bomb)
    assert stored_bomb.is_hidden
