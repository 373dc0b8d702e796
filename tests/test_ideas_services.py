"""Services of citizen participation: submit, edit and withdraw ideas; tags."""

import pytest
from sqlalchemy import func, select

from engage.challenges.models import Tag
from engage.challenges.tags import parse_tags
from engage.db import now_utc
from engage.errors import NotPermitted, ValidationFailed
from engage.extensions import db
from engage.ideas import services
from engage.ideas.models import Idea


def _idea_rows() -> int:
    return db.session.scalar(select(func.count(Idea.id)))


def _submit(author, challenge, **fields) -> Idea:
    fields.setdefault("title", "Shade trees on Market Street")
    fields.setdefault("body", "Plant **trees** along the street.")
    idea = services.submit_idea(author, challenge, **fields)
    db.session.commit()
    return idea


def test_submit_idea_publishes_at_once_under_post_moderation(make_user, make_challenge):
    challenge = make_challenge("open")

    idea = _submit(make_user(), challenge)

    assert idea.moderation_state == "published"
    assert idea.published_at is not None
    assert challenge.idea_count == 1


def test_submit_idea_waits_for_moderation_under_pre_moderation(make_user, make_challenge):
    challenge = make_challenge("open", moderation_mode="pre")

    idea = _submit(make_user(), challenge)

    assert idea.moderation_state == "pending"
    assert idea.published_at is None
    assert challenge.idea_count == 0


def test_submit_idea_stores_what_was_given(make_user, make_challenge):
    author = make_user()
    challenge = make_challenge("open")

    idea = _submit(
        author,
        challenge,
        title="  Benches  ",
        body="More *benches*.",
        tags="Parks, seating",
        location="  Town square ",
    )

    db.session.expire_all()
    stored = db.session.get(Idea, idea.id)
    assert (stored.title, stored.body, stored.location) == (
        "Benches",
        "More *benches*.",
        "Town square",
    )
    assert stored.author_id == author.id
    assert stored.challenge_id == challenge.id
    assert [tag.name for tag in stored.tags] == ["parks", "seating"]
    assert (stored.vote_count, stored.comment_count, stored.decision) == (0, 0, "none")


def test_submit_idea_without_location_stores_none(make_user, make_challenge):
    idea = _submit(make_user(), make_challenge("open"), location="   ")

    assert idea.location is None


@pytest.mark.parametrize("phase", ["draft", "upcoming", "voting", "review", "closed"])
def test_submit_idea_refused_outside_open_phase(make_user, make_challenge, phase):
    challenge = make_challenge(phase)

    with pytest.raises(NotPermitted) as raised:
        services.submit_idea(make_user(), challenge, title="Late", body="Too late.")

    assert str(raised.value.message) == "This challenge is not accepting ideas now."
    db.session.rollback()
    assert _idea_rows() == 0


@pytest.mark.parametrize("who", ["unverified", "suspended", "business"])
def test_submit_idea_refused_to_who_may_not_take_part(make_user, make_challenge, who):
    fields = {
        "unverified": {"verified": False},
        "suspended": {"suspended_at": now_utc()},
        "business": {"account_type": "business"},
    }[who]
    challenge = make_challenge("open", allow_business=False)

    with pytest.raises(NotPermitted):
        services.submit_idea(make_user(**fields), challenge, title="Mine", body="Body.")

    db.session.rollback()
    assert _idea_rows() == 0


def test_business_submits_when_the_challenge_admits_businesses(make_user, make_challenge):
    idea = _submit(make_user(account_type="business"), make_challenge("open"))

    assert idea.is_published


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", []),
        (None, []),
        ("Parks", ["parks"]),
        ("Parks, TREES,parks , Trees", ["parks", "trees"]),
        ("  Bike   Lanes , ,, ", ["bike lanes"]),
        ("a, b, c, d, e", ["a", "b", "c", "d", "e"]),
        ("a, b, c, d, e, A, B", ["a", "b", "c", "d", "e"]),
        ("x" * 40, ["x" * 40]),
    ],
)
def test_parse_tags_gives_distinct_lower_case_names(text, names):
    assert parse_tags(text) == names


def test_parse_tags_refuses_more_than_five():
    with pytest.raises(ValidationFailed) as raised:
        parse_tags("a, b, c, d, e, f")

    assert raised.value.field == "tags"
    assert str(raised.value.message) == "Use at most 5 tags."


def test_parse_tags_refuses_a_tag_too_long():
    with pytest.raises(ValidationFailed) as raised:
        parse_tags("short, " + "x" * 41)

    assert raised.value.field == "tags"


def test_submit_idea_with_too_many_tags_stores_nothing(make_user, make_challenge):
    challenge = make_challenge("open")

    with pytest.raises(ValidationFailed):
        services.submit_idea(make_user(), challenge, title="T", body="B", tags="a, b, c, d, e, f")

    db.session.rollback()
    assert _idea_rows() == 0
    assert db.session.scalar(select(func.count(Tag.id))) == 0
    assert challenge.idea_count == 0


def test_submit_idea_reuses_existing_tags(make_user, make_challenge):
    challenge = make_challenge("open", tags=["parks"])

    idea = _submit(make_user(), challenge, tags="PARKS, water")

    assert [tag.name for tag in idea.tags] == ["parks", "water"]
    assert db.session.scalar(select(func.count(Tag.id))) == 2


def test_author_edits_a_pending_idea(make_user, make_idea):
    author = make_user()
    idea = make_idea(author=author, state="pending")

    services.edit_idea(
        author, idea, title=" New title ", body="New body.", tags="Water", location="Harbour"
    )
    db.session.commit()

    db.session.expire_all()
    stored = db.session.get(Idea, idea.id)
    assert (stored.title, stored.body, stored.location) == ("New title", "New body.", "Harbour")
    assert [tag.name for tag in stored.tags] == ["water"]
    assert stored.moderation_state == "pending"


def test_edit_after_changes_requested_goes_back_to_moderation(make_user, make_idea):
    author = make_user()
    idea = make_idea(author=author, state="changes_requested")

    services.edit_idea(author, idea, title="Clearer", body="With a map.")
    db.session.commit()

    assert idea.moderation_state == "pending"
    assert idea.moderation_reason is None


@pytest.mark.parametrize("state", ["published", "rejected", "hidden", "withdrawn", "merged"])
def test_author_cannot_edit_once_out_of_moderation(make_user, make_idea, state):
    author = make_user()
    idea = make_idea(author=author, state=state, title="Original")

    with pytest.raises(NotPermitted):
        services.edit_idea(author, idea, title="Changed", body="Changed.")

    db.session.rollback()
    assert db.session.get(Idea, idea.id).title == "Original"


def test_another_person_cannot_edit(make_user, make_idea):
    idea = make_idea(state="pending", title="Original")

    with pytest.raises(NotPermitted):
        services.edit_idea(make_user(), idea, title="Changed", body="Changed.")

    db.session.rollback()
    assert db.session.get(Idea, idea.id).title == "Original"


def test_edit_refused_once_the_challenge_is_in_review(make_user, make_challenge, make_idea):
    author = make_user()
    idea = make_idea(make_challenge("review"), author=author, state="pending")

    with pytest.raises(NotPermitted):
        services.edit_idea(author, idea, title="Changed", body="Changed.")


def test_author_withdraws_a_published_idea(make_user, make_idea):
    author = make_user()
    idea = make_idea(author=author, state="published")
    challenge = idea.challenge
    assert challenge.idea_count == 1

    services.withdraw_idea(author, idea)
    db.session.commit()

    assert idea.moderation_state == "withdrawn"
    assert challenge.idea_count == 0


def test_author_withdraws_a_pending_idea(make_user, make_idea):
    author = make_user()
    idea = make_idea(author=author, state="pending")

    services.withdraw_idea(author, idea)
    db.session.commit()

    assert idea.moderation_state == "withdrawn"
    assert idea.challenge.idea_count == 0


def test_another_person_cannot_withdraw(make_user, make_idea):
    idea = make_idea(state="published")

    with pytest.raises(NotPermitted):
        services.withdraw_idea(make_user(), idea)

    assert idea.moderation_state == "published"


@pytest.mark.parametrize("state", ["rejected", "hidden", "withdrawn", "merged"])
def test_withdraw_refused_from_final_states(make_user, make_idea, state):
    author = make_user()
    idea = make_idea(author=author, state=state)

    with pytest.raises(NotPermitted):
        services.withdraw_idea(author, idea)

    assert idea.moderation_state == state
