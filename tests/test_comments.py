"""Comments on ideas: who may post them, when, what they look like, in which order."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engage.db import now_utc
from engage.errors import NotPermitted
from engage.extensions import db
from engage.ideas import services, states
from engage.ideas.models import Comment, Idea


def _comment_rows() -> int:
    return db.session.scalar(select(func.count(Comment.id)))


def _stored_count(idea_id: int) -> int:
    return db.session.scalar(select(Idea.comment_count).where(Idea.id == idea_id))


def _field_error(html: str) -> str:
    match = re.search(r'<p class="field-error" id="body-error">(.*?)</p>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


@pytest.fixture
def commenter(make_user, make_idea, auth):
    # make_idea first: each factory pushes its own app context, and so its own session.
    user = make_user("commenter@example.org")
    auth.login("commenter@example.org")
    return user


def test_comment_on_a_published_idea_is_posted(client, commenter, make_idea):
    idea = make_idea()

    response = client.post(
        f"/ideas/{idea.id}/comments", data={"body": "  Yes, *please*: near the school.  "}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{idea.id}#comments"
    comment = db.session.scalars(select(Comment)).one()
    assert (comment.idea_id, comment.author_id) == (idea.id, commenter.id)
    assert comment.body == "Yes, *please*: near the school."
    assert _stored_count(idea.id) == 1
    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Your comment is posted." in html
    assert "Yes, <em>please</em>: near the school." in html
    assert "1 comment" in html


def test_comment_count_rises_with_each_comment(make_user, make_idea):
    idea = make_idea()
    for number in range(3):
        services.add_comment(make_user(), idea, f"Comment {number}")
        db.session.commit()

    assert idea.comment_count == 3 == _comment_rows()


def test_comment_refused_on_own_pending_idea(client, commenter, make_idea):
    idea = make_idea(author=commenter, state="pending")

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Anyone?"})

    assert response.status_code == 403
    assert "Only published ideas can be discussed." in response.get_data(as_text=True)
    assert _comment_rows() == 0 == _stored_count(idea.id)


def test_comment_on_someone_elses_pending_idea_answers_404(client, commenter, make_idea):
    idea = make_idea(state="pending")

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Hello"})

    assert response.status_code == 404
    assert _comment_rows() == 0


def test_comment_form_is_not_shown_on_a_pending_idea(client, commenter, make_idea):
    idea = make_idea(author=commenter, state="pending")

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert f'action="/ideas/{idea.id}/comments"' not in html


def test_comment_refused_once_the_challenge_is_closed(
    client, commenter, make_challenge, make_idea
):
    idea = make_idea(make_challenge("closed"))

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Too late?"})

    assert response.status_code == 403
    assert "Comments are closed for this challenge." in response.get_data(as_text=True)
    assert _comment_rows() == 0 == _stored_count(idea.id)


def test_closed_challenge_shows_why_instead_of_the_form(
    client, commenter, make_challenge, make_idea
):
    idea = make_idea(make_challenge("closed"))

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert f'action="/ideas/{idea.id}/comments"' not in html
    assert "Comments are closed for this challenge." in html


@pytest.mark.parametrize("phase", ["open", "voting", "review"])
def test_comments_are_taken_until_the_review_ends(
    client, commenter, make_challenge, make_idea, phase
):
    idea = make_idea(make_challenge(phase))

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Good one."})

    assert response.status_code == 302
    assert _comment_rows() == 1 == _stored_count(idea.id)


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_empty_comment_is_refused_with_422(client, commenter, make_idea, body):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": body})

    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True)) == "Write a comment first."
    assert _comment_rows() == 0 == _stored_count(idea.id)


def test_too_long_comment_is_refused_with_422(client, commenter, make_idea):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "c" * 5001})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _field_error(html) == "Use at most 5000 characters."
    assert "c" * 5001 in html  # what was written is given back to correct
    assert _comment_rows() == 0 == _stored_count(idea.id)


def test_longest_comment_is_accepted(client, commenter, make_idea):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "c" * 5000})

    assert response.status_code == 302
    assert _comment_rows() == 1


def test_unverified_person_cannot_comment_and_is_told_why(client, auth, make_user, make_idea):
    make_user("new@example.org", verified=False)
    idea = make_idea()
    auth.login("new@example.org")

    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Hi"})

    assert f'action="/ideas/{idea.id}/comments"' not in page
    assert "Confirm your e-mail address to take part." in page
    assert response.status_code == 403
    assert _comment_rows() == 0


def test_visitor_is_invited_to_sign_in_to_comment(client, make_idea):
    idea = make_idea()

    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Hi"})

    assert f'action="/ideas/{idea.id}/comments"' not in page
    assert "Sign in to take part." in page
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")
    assert _comment_rows() == 0


def test_suspended_person_cannot_comment(make_user, make_idea):
    with pytest.raises(NotPermitted):
        services.add_comment(make_user(suspended_at=now_utc()), make_idea(), "Hi")


def test_hidden_comment_shows_a_placeholder(client, make_user, make_idea):
    idea = make_idea()
    comment = services.add_comment(make_user(display_name="Troll"), idea, "Rude words")
    states.apply_comment_transition(comment, "hide", "Insults")
    db.session.commit()

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert "This comment was hidden by a moderator." in html
    assert "Rude words" not in html
    assert "Troll" not in html
    assert f'id="comment-{comment.id}"' in html


def test_comments_are_listed_newest_last(client, make_user, make_idea):
    idea = make_idea()
    author = make_user()
    now = now_utc()
    for body, minutes_ago in [
        ("Middle remark", 20),
        ("Latest remark", 10),
        ("Earliest remark", 30),
    ]:
        comment = services.add_comment(author, idea, body)
        comment.created_at = now - timedelta(minutes=minutes_ago)
    db.session.commit()

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert (
        html.index("Earliest remark") < html.index("Middle remark") < html.index("Latest remark")
    )


def test_comment_html_is_sanitized(client, commenter, make_idea):
    idea = make_idea()

    client.post(
        f"/ideas/{idea.id}/comments",
        data={"body": "<script>alert(1)</script>\n\n[x](javascript:alert(2)) **ok**"},
    )

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "javascript:alert(2)" not in html
    assert "<strong>ok</strong>" in html
