"""The demo's moderation work, done by the demo moderator through the real pages: the
queue can be cleared, the duplicate merged, and the demo citizen hears of every outcome."""

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from engage.demo import DEMO_AGENCY_SLUG, DEMO_PASSWORD
from engage.extensions import db
from engage.ideas.models import Comment, Idea, Vote

QUEUE = f"/agencies/{DEMO_AGENCY_SLUG}/moderation"
PENDING = ("Library card as city pass", "Accessible PDF forms")
REPORTED_IDEA = "Plant fruit trees in Riverside Park"
DUPLICATE = "More fruit trees in our parks"


def _text(markup: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.fixture
def demo(app, runner):
    app.config["FLAG_HIDE_THRESHOLD"] = 3
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output

    def idea_id(title: str) -> int:
        with app.app_context():
            return db.session.scalar(select(Idea.id).where(Idea.title == title))

    def spam_comment_id() -> int:
        with app.app_context():
            return db.session.scalar(
                select(Comment.id).where(Comment.body.startswith("Cheap watches"))
            )

    return idea_id, spam_comment_id


@pytest.fixture
def demo_moderator(client, auth, demo):
    response = auth.login("moderator@example.org", DEMO_PASSWORD)
    assert response.status_code == 302
    return demo


def _queue(client) -> str:
    response = client.get(QUEUE)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _clear_the_queue(client, idea_id, spam_comment_id) -> None:
    """Every decision the demo queue waits for, as the buttons of the pages send them."""
    published, rejected = (idea_id(title) for title in PENDING)
    steps = [
        (f"/moderation/ideas/{published}/decide", {"action": "publish", "next": QUEUE}),
        (
            f"{QUEUE}/bulk",
            {
                "idea_ids": [str(rejected)],
                "action": "reject",
                "reason": "All our forms are being rebuilt as web pages instead.",
            },
        ),
        (
            f"/moderation/comments/{spam_comment_id()}/decide",
            {"action": "uphold_flags", "reason": "Advertising.", "next": QUEUE},
        ),
        (
            f"/moderation/ideas/{idea_id(REPORTED_IDEA)}/dismiss-flags",
            {"reason": "Fruit trees give shade: on topic.", "next": QUEUE},
        ),
    ]
    for url, data in steps:
        response = client.post(url, data=data)
        assert response.status_code == 302, url
        assert response.headers["Location"] == QUEUE


def _merge(client, idea_id):
    response = client.post(
        f"/moderation/ideas/{idea_id(DUPLICATE)}/merge",
        data={"target_id": str(idea_id(REPORTED_IDEA)), "reason": "The same proposal."},
    )
    assert response.status_code == 302


def test_demo_moderator_lands_on_the_demo_queue(client, demo_moderator):
    response = client.get("/moderation")

    assert response.status_code == 302
    assert response.headers["Location"] == QUEUE


def test_demo_queue_holds_each_kind_of_work(client, demo_moderator):
    idea_id, _ = demo_moderator

    page = _queue(client)

    text = _text(page)
    assert "Waiting ideas (2)" in text
    assert "Reported ideas (1)" in text
    assert "Reported comments (1)" in text
    for title in (*PENDING, REPORTED_IDEA):
        assert f"#{idea_id(title)} {title}" in text
    assert "Cheap watches" in text


def test_demo_moderator_clears_the_whole_queue(client, demo_moderator):
    _clear_the_queue(client, *demo_moderator)

    page = _queue(client)

    assert "Nothing is waiting. Well done!" in page
    assert "Everything (0)" in _text(page)


def test_demo_queue_decisions_reach_their_states(app, client, demo_moderator):
    idea_id, spam_comment_id = demo_moderator

    _clear_the_queue(client, idea_id, spam_comment_id)

    with app.app_context():
        states = {
            title: db.session.scalar(select(Idea.moderation_state).where(Idea.title == title))
            for title in (*PENDING, REPORTED_IDEA)
        }
        spam = db.session.get(Comment, spam_comment_id())
        assert (spam.is_hidden, spam.open_flag_count) == (True, 0)
    assert states == {PENDING[0]: "published", PENDING[1]: "rejected", REPORTED_IDEA: "published"}


def test_demo_moderator_merges_the_duplicate_without_double_votes(app, client, demo_moderator):
    idea_id, _ = demo_moderator
    target, duplicate = idea_id(REPORTED_IDEA), idea_id(DUPLICATE)
    with app.app_context():
        voters = set(
            db.session.scalars(select(Vote.voter_id).where(Vote.idea_id.in_([target, duplicate])))
        )
        both = set(db.session.scalars(select(Vote.voter_id).where(Vote.idea_id == target))) & set(
            db.session.scalars(select(Vote.voter_id).where(Vote.idea_id == duplicate))
        )
    assert both, "the demo has people who voted for both ideas"

    _merge(client, idea_id)

    with app.app_context():
        merged, kept = db.session.get(Idea, duplicate), db.session.get(Idea, target)
        rows = db.session.scalar(select(func.count(Vote.id)).where(Vote.idea_id == target))
        target_voters = set(
            db.session.scalars(select(Vote.voter_id).where(Vote.idea_id == target))
        )
        assert (merged.moderation_state, merged.merged_into_id) == ("merged", target)
        assert merged.vote_count == 0
        assert kept.vote_count == rows == len(voters)
    assert target_voters == voters


def test_merged_demo_idea_points_to_the_target(client, demo_moderator):
    idea_id, _ = demo_moderator
    _merge(client, idea_id)
    client.post("/account/sign-out")

    page = client.get(f"/ideas/{idea_id(DUPLICATE)}").get_data(as_text=True)

    assert "This idea was merged with a similar one." in page
    assert f'href="/ideas/{idea_id(REPORTED_IDEA)}"' in page
    assert "This comment was hidden by a moderator." in page


def test_demo_citizen_is_emailed_for_each_decision_on_their_content(
    client, demo_moderator, mailbox
):
    idea_id, spam_comment_id = demo_moderator

    _clear_the_queue(client, idea_id, spam_comment_id)
    _merge(client, idea_id)

    subjects = [m["Subject"] for m in mailbox if m["To"] == "citizen@example.org"]
    assert subjects == [
        "Your idea “Library card as city pass” was published",
        "Your idea “Accessible PDF forms” was rejected",
        "Reports about your idea “Plant fruit trees in Riverside Park” were dismissed",
        "Your idea “More fruit trees in our parks” was merged with a similar one",
    ]
    [rejection] = [m for m in mailbox if "was rejected" in m["Subject"]]
    assert "All our forms are being rebuilt as web pages instead." in rejection.get_content()
    [spam_author_mail] = [m for m in mailbox if m["To"] != "citizen@example.org"]
    assert spam_author_mail["Subject"] == "Your comment was hidden"


def test_demo_citizen_sees_the_outcomes_on_their_account(client, auth, demo_moderator):
    idea_id, spam_comment_id = demo_moderator
    _clear_the_queue(client, idea_id, spam_comment_id)
    _merge(client, idea_id)
    auth.logout()
    auth.login("citizen@example.org", DEMO_PASSWORD)

    page = client.get("/account/").get_data(as_text=True)

    items = {}
    for item in re.findall(r'<li class="my-idea">(.*?)</li>', page, re.S):
        title = re.search(r'<a href="/ideas/\d+">(.*?)</a>', item).group(1)
        items[html_lib.unescape(title)] = _text(item)
    assert "Published" in items["Library card as city pass"]
    assert "Rejected" in items["Accessible PDF forms"]
    assert (
        "Moderator's note: All our forms are being rebuilt as web pages instead."
        in items["Accessible PDF forms"]
    )
    assert "Merged" in items[DUPLICATE]
    assert "Published" in items[REPORTED_IDEA]
