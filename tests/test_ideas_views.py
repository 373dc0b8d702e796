"""Idea pages: submit, preview, edit and withdraw through the real routes."""

import re

import pytest
from sqlalchemy import func, select

from engage.auth.models import User
from engage.challenges.tags import resolve_tags
from engage.extensions import db
from engage.ideas.models import Idea


def _idea_rows() -> int:
    return db.session.scalar(select(func.count(Idea.id)))


def _only_idea() -> Idea:
    db.session.expire_all()
    return db.session.scalars(select(Idea)).one()


def _field_error(html: str, name: str) -> str:
    """The error text shown next to a field, or '' when the field has none."""
    match = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def _form(**fields) -> dict:
    data = {
        "title": "Shade trees on Market Street",
        "body": "Plant **trees** along the street.",
        "tags": "",
        "location": "",
        "submit": "Submit idea",
    }
    data.update(fields)
    return data


@pytest.fixture
def citizen(make_user, make_idea, auth):
    # make_idea first: each factory pushes its own app context, and so its own session.
    user = make_user("citizen@example.org")
    auth.login("citizen@example.org")
    return user


def test_submit_form_is_shown_in_open_phase(client, citizen, make_challenge):
    make_challenge("open", slug="parks")

    response = client.get("/challenges/parks/ideas/new")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="title"' in html and 'name="body"' in html


def test_only_required_fields_are_marked_required(client, citizen, make_challenge):
    make_challenge("open", slug="parks")

    html = client.get("/challenges/parks/ideas/new").get_data(as_text=True)

    controls = re.findall(r"<(?:input|textarea) [^>]*>", html)
    marked = {
        re.search(r'name="(\w+)"', control).group(1)
        for control in controls
        if re.search(r"\srequired\b", control)
    }
    assert marked == {"title", "body"}
    assert "aria-invalid" not in html
    assert '="None"' not in html


def test_visitor_is_sent_to_sign_in_before_submitting(client, make_challenge):
    make_challenge("open", slug="parks")

    response = client.post("/challenges/parks/ideas/new", data=_form())

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")
    assert _idea_rows() == 0


def test_submit_publishes_at_once_under_post_moderation(client, citizen, make_challenge):
    challenge = make_challenge("open", slug="parks")

    response = client.post("/challenges/parks/ideas/new", data=_form())

    idea = _only_idea()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{idea.id}"
    assert idea.moderation_state == "published"
    assert idea.author_id == citizen.id
    assert db.session.get(type(challenge), challenge.id).idea_count == 1
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Thank you! Your idea is published." in page
    assert "<strong>trees</strong>" in page


def test_submit_under_pre_moderation_is_pending_and_hidden_from_others(
    client, auth, citizen, make_user, make_challenge
):
    make_user("neighbour@example.org")
    make_challenge("open", slug="parks", moderation_mode="pre")

    client.post("/challenges/parks/ideas/new", data=_form(title="Quiet hours"))

    idea = _only_idea()
    assert idea.moderation_state == "pending"
    page = client.get(f"/ideas/{idea.id}")
    assert page.status_code == 200
    assert "Only you and the moderators can see this idea" in page.get_data(as_text=True)
    auth.logout()
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    assert "Quiet hours" not in client.get("/challenges/parks").get_data(as_text=True)
    auth.login("neighbour@example.org")
    assert client.get(f"/ideas/{idea.id}").status_code == 404


@pytest.mark.parametrize("phase", ["upcoming", "voting", "review", "closed"])
def test_submit_refused_outside_open_phase(client, citizen, make_challenge, phase):
    make_challenge(phase, slug="parks")

    shown = client.get("/challenges/parks/ideas/new")
    sent = client.post("/challenges/parks/ideas/new", data=_form())

    for response in (shown, sent):
        assert response.status_code == 403
        html = response.get_data(as_text=True)
        assert "This challenge is not accepting ideas now." in html
        assert 'name="title"' not in html
    assert _idea_rows() == 0


def test_unverified_person_is_told_to_confirm_their_address(
    client, auth, make_user, make_challenge
):
    make_user("new@example.org", verified=False)
    make_challenge("open", slug="parks")
    auth.login("new@example.org")

    response = client.post("/challenges/parks/ideas/new", data=_form())

    assert response.status_code == 403
    assert "Confirm your e-mail address to take part." in response.get_data(as_text=True)
    assert _idea_rows() == 0


def test_unknown_challenge_answers_404(client, citizen):
    assert client.get("/challenges/nowhere/ideas/new").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "t" * 141, "Use at most 140 characters."),
        ("body", "b" * 10_001, "Use at most 10000 characters."),
        ("title", "", "Give your idea a title."),
        ("title", "   ", "Give your idea a title."),
        ("body", "", "Describe your idea."),
        ("tags", "a, b, c, d, e, f", "Use at most 5 tags."),
        ("tags", "x" * 41, "Each tag can be at most 40 characters long."),
    ],
)
def test_bad_submission_is_refused_with_the_error_next_to_its_field(
    client, citizen, make_challenge, field, value, message
):
    make_challenge("open", slug="parks")

    response = client.post("/challenges/parks/ideas/new", data=_form(**{field: value}))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _field_error(html, field) == message
    assert f'aria-describedby="{field}-hint {field}-error"' in html
    assert _idea_rows() == 0


def test_longest_title_and_body_are_accepted(client, citizen, make_challenge):
    make_challenge("open", slug="parks")

    response = client.post(
        "/challenges/parks/ideas/new", data=_form(title="t" * 140, body="b" * 10_000)
    )

    assert response.status_code == 302
    idea = _only_idea()
    assert (len(idea.title), len(idea.body)) == (140, 10_000)


def test_preview_renders_markdown_and_stores_nothing(client, citizen, make_challenge):
    make_challenge("open", slug="parks")
    data = _form(body="Plant **trees**.\n\n<script>alert(1)</script>")
    del data["submit"]
    data["preview"] = "Preview"

    response = client.post("/challenges/parks/ideas/new", data=data)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    preview = html[html.index('id="preview-title"') : html.index("</section>")]
    assert "<strong>trees</strong>" in preview
    assert "<script>" not in html
    assert "Shade trees on Market Street" in preview
    assert _idea_rows() == 0


def test_tags_are_stored_lower_case_without_duplicates(client, citizen, make_challenge):
    make_challenge("open", slug="parks")

    client.post("/challenges/parks/ideas/new", data=_form(tags="Parks, TREES, parks ,trees"))

    assert [tag.name for tag in _only_idea().tags] == ["parks", "trees"]


def test_extra_fields_in_a_submission_are_ignored(client, citizen, make_user, make_challenge):
    other = make_user()
    make_challenge("open", slug="parks", moderation_mode="pre")

    client.post(
        "/challenges/parks/ideas/new",
        data=_form(
            is_admin="1",
            vote_count="99",
            comment_count="7",
            author_id=str(other.id),
            moderation_state="published",
            decision="accepted",
            challenge_id="999",
        ),
    )

    idea = _only_idea()
    assert idea.author_id == citizen.id
    assert idea.moderation_state == "pending"
    assert (idea.vote_count, idea.comment_count, idea.decision) == (0, 0, "none")
    assert db.session.get(User, citizen.id).is_admin is False


@pytest.fixture
def own_pending_idea(citizen, make_challenge, make_idea):
    challenge = make_challenge("open", moderation_mode="pre")
    return make_idea(challenge, author=citizen, state="pending", title="Original")


def test_author_sees_the_edit_form_filled_in(client, citizen, make_idea):
    idea = make_idea(author=citizen, state="pending", title="Original")
    idea.tags = resolve_tags(["parks", "water"])
    db.session.commit()

    response = client.get(f"/ideas/{idea.id}/edit")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="Original"' in html
    assert 'value="parks, water"' in html


def test_author_edits_a_pending_idea(client, own_pending_idea):
    response = client.post(
        f"/ideas/{own_pending_idea.id}/edit", data=_form(title="Better title", body="Better body.")
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{own_pending_idea.id}"
    idea = _only_idea()
    assert (idea.title, idea.body, idea.moderation_state) == (
        "Better title",
        "Better body.",
        "pending",
    )


def test_edit_with_a_title_too_long_changes_nothing(client, own_pending_idea):
    response = client.post(f"/ideas/{own_pending_idea.id}/edit", data=_form(title="t" * 141))

    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "title") == (
        "Use at most 140 characters."
    )
    assert _only_idea().title == "Original"


def test_edit_preview_changes_nothing(client, own_pending_idea):
    data = _form(title="Changed", body="*Changed*")
    del data["submit"]
    data["preview"] = "Preview"

    response = client.post(f"/ideas/{own_pending_idea.id}/edit", data=data)

    assert response.status_code == 200
    assert "<em>Changed</em>" in response.get_data(as_text=True)
    assert _only_idea().title == "Original"


def test_extra_fields_in_an_edit_are_ignored(client, own_pending_idea):
    client.post(
        f"/ideas/{own_pending_idea.id}/edit",
        data=_form(moderation_state="published", vote_count="50"),
    )

    idea = _only_idea()
    assert (idea.moderation_state, idea.vote_count) == ("pending", 0)
    assert idea.challenge.idea_count == 0


def test_author_cannot_edit_once_published(client, citizen, make_idea):
    idea = make_idea(author=citizen, state="published", title="Original")

    assert client.get(f"/ideas/{idea.id}/edit").status_code == 403
    response = client.post(f"/ideas/{idea.id}/edit", data=_form(title="Changed"))

    assert response.status_code == 403
    assert "This idea can no longer be edited." in response.get_data(as_text=True)
    assert _only_idea().title == "Original"


def test_another_person_cannot_edit_a_published_idea(client, citizen, make_idea):
    idea = make_idea(state="published", title="Original")

    response = client.post(f"/ideas/{idea.id}/edit", data=_form(title="Changed"))

    assert response.status_code == 403
    assert _only_idea().title == "Original"


def test_another_person_cannot_even_see_a_pending_idea_to_edit(client, citizen, make_idea):
    idea = make_idea(state="pending", title="Original")

    response = client.post(f"/ideas/{idea.id}/edit", data=_form(title="Changed"))

    assert response.status_code == 404
    assert _only_idea().title == "Original"


def test_agency_staff_cannot_edit_an_authors_pending_idea(
    client, auth, make_user, make_agency, make_challenge, make_idea
):
    staff = make_user("staff@example.org")
    challenge = make_challenge("open", agency=make_agency(members=[(staff, "moderator")]))
    idea = make_idea(challenge, state="pending", title="Original")
    auth.login("staff@example.org")

    assert client.get(f"/ideas/{idea.id}").status_code == 200
    response = client.post(f"/ideas/{idea.id}/edit", data=_form(title="Changed"))

    assert response.status_code == 403
    assert _only_idea().title == "Original"


def test_author_sees_edit_and_withdraw_buttons_on_a_pending_idea(client, citizen, make_idea):
    idea = make_idea(author=citizen, state="pending")

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert f'href="/ideas/{idea.id}/edit"' in html
    assert f'action="/ideas/{idea.id}/withdraw"' in html


def test_author_of_a_published_idea_may_withdraw_but_not_edit(client, citizen, make_idea):
    idea = make_idea(author=citizen, state="published")

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert f'href="/ideas/{idea.id}/edit"' not in html
    assert f'action="/ideas/{idea.id}/withdraw"' in html


def test_others_see_neither_edit_nor_withdraw_button(client, citizen, make_idea):
    idea = make_idea(state="published")

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert f'href="/ideas/{idea.id}/edit"' not in html
    assert f'action="/ideas/{idea.id}/withdraw"' not in html


def test_author_withdraws_an_idea(client, citizen, make_idea):
    idea = make_idea(author=citizen, state="published")

    response = client.post(f"/ideas/{idea.id}/withdraw")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{idea.id}"
    withdrawn = _only_idea()
    assert withdrawn.moderation_state == "withdrawn"
    assert withdrawn.challenge.idea_count == 0
    assert "Your idea is withdrawn." in client.get(f"/ideas/{idea.id}").get_data(as_text=True)


def test_withdrawn_idea_is_gone_for_others(client, auth, citizen, make_idea):
    idea = make_idea(author=citizen, state="published")
    client.post(f"/ideas/{idea.id}/withdraw")

    auth.logout()

    assert client.get(f"/ideas/{idea.id}").status_code == 404


def test_withdraw_needs_post(client, citizen, make_idea):
    idea = make_idea(author=citizen, state="published")

    assert client.get(f"/ideas/{idea.id}/withdraw").status_code == 405
    assert _only_idea().moderation_state == "published"


def test_another_person_cannot_withdraw(client, citizen, make_idea):
    idea = make_idea(state="published")

    response = client.post(f"/ideas/{idea.id}/withdraw")

    assert response.status_code == 403
    assert _only_idea().moderation_state == "published"
