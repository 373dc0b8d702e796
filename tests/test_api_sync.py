"""Incremental sync through /api/v1/ideas: a client paging with `updated_since` and the
cursor while ideas change between its pages, then polling with the last `next` link,
sees every idea's latest state, misses none, and repeats only what changed after it
was read; ideas that leave the set appear once more in their new state."""

from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest

from engage.db import now_utc
from engage.extensions import db
from engage.ideas.decisions import decide_idea
from engage.ideas.models import Idea
from engage.ideas.services import withdraw_idea
from engage.moderation.services import merge_idea, moderate_idea
from engage.tokens.services import create_token

START = "/api/v1/ideas?limit=7&updated_since=2000-01-01T00:00:00Z"
STATE_KEYS = ("moderation_state", "decision", "pipeline_stage", "vote_count", "updated_at")


@pytest.fixture
def world(app, client, make_user, make_agency, make_challenge, make_idea, make_vote):
    app.config["API_SETTLE_SECONDS"] = 0
    admin = make_user("alex@example.org")
    moderator = make_user("morgan@example.org")
    agency = make_agency("city", members=[(admin, "admin"), (moderator, "moderator")])
    challenge = make_challenge("open", agency=agency)
    author = make_user()
    _, value = create_token(None, agency, "Backlog", ["ideas:read", "pipeline:write"])
    db.session.commit()

    def accepted():
        idea = make_idea(challenge, author=author)
        decide_idea(admin, idea, "accept", "We will do it.")
        db.session.commit()
        return idea

    return SimpleNamespace(
        admin=admin,
        moderator=moderator,
        challenge=challenge,
        author=author,
        headers={"Authorization": f"Bearer {value}"},
        accepted=accepted,
        make_idea=make_idea,
        make_user=make_user,
        make_vote=make_vote,
        client=client,
    )


class SyncClient:
    """What an agency system does: follow `next`, remember the latest copy of each idea."""

    def __init__(self, world):
        self.world = world
        self.read = []  # every idea as it was read, in order
        self.next = None

    def page(self, url: str) -> dict:
        response = self.world.client.get(url, headers=self.world.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        self.read += body["data"]
        self.next = body["next"]
        return body

    def follow(self, url: str) -> None:
        while self.page(url)["has_more"]:
            url = self.next

    @property
    def counts(self) -> Counter:
        return Counter(item["id"] for item in self.read)

    @property
    def latest(self) -> dict:
        return {item["id"]: item for item in self.read}


def current_state(world, idea_id: int) -> tuple:
    response = world.client.get(f"/api/v1/ideas/{idea_id}", headers=world.headers)
    return tuple(response.get_json()[key] for key in STATE_KEYS)


def hide(world, idea):
    moderate_idea(world.moderator, idea, "hide", "Off topic")
    db.session.commit()


def vote(world, idea):
    world.make_vote(world.make_user(), idea)


def move_by_api(world, idea, stage="concept"):
    response = world.client.post(
        f"/api/v1/ideas/{idea.id}/pipeline",
        headers=world.headers,
        json={"stage": stage, "note": "On our board"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_changes_between_pages_are_neither_missed_nor_repeated(world):
    ideas = [world.accepted() for _ in range(30)]
    waiting = world.make_idea(world.challenge)  # published, accepted only during the sync
    never = [
        world.make_idea(world.challenge, state=state)
        for state in ("pending", "rejected", "changes_requested")
    ]
    sync = SyncClient(world)

    sync.page(START)  # ideas 0-6
    move_by_api(world, ideas[2])  # read already: read again later
    vote(world, ideas[20])  # not read yet: read once, later
    sync.page(sync.next)  # ideas 7-13
    hide(world, ideas[8])
    vote(world, ideas[5])
    sync.page(sync.next)  # ideas 14-19 and 21
    decide_idea(world.admin, waiting, "accept", "Yes, after all.")
    db.session.commit()
    merge_idea(world.moderator, ideas[16], ideas[25])  # the target is not read yet
    db.session.commit()
    sync.follow(sync.next)

    changed_after_read = {ideas[2].id, ideas[8].id, ideas[5].id, ideas[16].id}
    expected_ids = {idea.id for idea in ideas} | {waiting.id}
    assert set(sync.counts) == expected_ids
    assert {i for i, n in sync.counts.items() if n > 1} == changed_after_read
    assert max(sync.counts.values()) == 2
    assert not {idea.id for idea in never} & set(sync.counts)
    for idea_id, item in sync.latest.items():
        assert tuple(item[key] for key in STATE_KEYS) == current_state(world, idea_id)
    latest = sync.latest
    assert latest[ideas[2].id]["pipeline_stage"] == "concept"
    assert latest[ideas[5].id]["vote_count"] == 1
    assert latest[ideas[20].id]["vote_count"] == 1
    assert latest[ideas[8].id]["moderation_state"] == "hidden"
    assert latest[ideas[16].id]["moderation_state"] == "merged"
    assert latest[waiting.id]["decision"] == "accepted"

    before = len(sync.read)
    sync.page(sync.next)  # polling with the last next link: nothing new
    assert len(sync.read) == before


def test_polling_with_last_next_link_returns_only_later_changes(world):
    ideas = [world.accepted() for _ in range(10)]
    sync = SyncClient(world)
    sync.follow(START)
    vote(world, ideas[3])
    move_by_api(world, ideas[7])
    body = sync.page(sync.next)
    assert [item["id"] for item in body["data"]] == [ideas[3].id, ideas[7].id]
    assert body["has_more"] is False
    assert body["data"][0]["vote_count"] == 1
    assert body["data"][1]["pipeline_stage"] == "concept"
    assert sync.page(sync.next)["data"] == []


def test_idea_changed_twice_between_polls_is_read_once_in_its_latest_state(world):
    ideas = [world.accepted() for _ in range(3)]
    sync = SyncClient(world)
    sync.follow(START)
    move_by_api(world, ideas[0], "concept")
    move_by_api(world, ideas[0], "validation")
    body = sync.page(sync.next)
    assert [(i["id"], i["pipeline_stage"]) for i in body["data"]] == [(ideas[0].id, "validation")]


def test_paging_without_changes_reads_each_idea_once_in_order(world):
    ideas = [world.accepted() for _ in range(30)]
    sync = SyncClient(world)
    sync.follow(START)
    assert [item["id"] for item in sync.read] == [idea.id for idea in ideas]


@pytest.mark.parametrize("leave", ["hide", "merge"])
def test_idea_that_leaves_the_set_appears_once_more_in_its_new_state(world, leave):
    ideas = [world.accepted() for _ in range(8)]
    sync = SyncClient(world)
    sync.follow(START)
    if leave == "hide":
        hide(world, ideas[1])
    else:
        merge_idea(world.moderator, ideas[1], ideas[0])
        db.session.commit()
    body = sync.page(sync.next)
    state = {"hide": "hidden", "merge": "merged"}[leave]
    changed = [(item["id"], item["moderation_state"]) for item in body["data"]]
    assert (ideas[1].id, state) in changed
    assert [i for i, _ in changed].count(ideas[1].id) == 1
    assert sync.page(sync.next)["data"] == []


def test_idea_that_left_the_set_is_not_in_the_full_list(world):
    ideas = [world.accepted() for _ in range(3)]
    hide(world, ideas[1])
    response = world.client.get("/api/v1/ideas", headers=world.headers)
    assert [item["id"] for item in response.get_json()["data"]] == [ideas[0].id, ideas[2].id]


def test_pending_and_rejected_ideas_never_appear(world):
    make = world.make_idea
    hidden_states = [
        make(world.challenge, state=s) for s in ("pending", "rejected", "changes_requested")
    ]
    published = make(world.challenge)
    for query in (
        "decision=none",
        "decision=none&updated_since=2000-01-01T00:00:00Z",
        "updated_since=2000-01-01T00:00:00Z",
        "",
    ):
        sync = SyncClient(world)
        sync.follow(f"/api/v1/ideas?limit=2&{query}")
        assert not {idea.id for idea in hidden_states} & set(sync.counts), query
    sync = SyncClient(world)
    sync.follow("/api/v1/ideas?decision=none&updated_since=2000-01-01T00:00:00Z")
    assert set(sync.counts) == {published.id}


def test_ideas_never_published_stay_out_of_the_feed_after_leaving_moderation(world):
    withdrawn = world.make_idea(world.challenge, state="pending", author=world.author)
    withdraw_idea(world.author, withdrawn)
    target = world.make_idea(world.challenge)
    merged = world.make_idea(world.challenge, state="pending")
    merge_idea(world.moderator, merged, target)
    db.session.commit()
    assert {db.session.get(Idea, i).moderation_state for i in (withdrawn.id, merged.id)} == {
        "withdrawn",
        "merged",
    }
    sync = SyncClient(world)
    sync.follow("/api/v1/ideas?decision=none&updated_since=2000-01-01T00:00:00Z")
    assert set(sync.counts) == {target.id}


def test_changes_younger_than_the_settle_time_wait_for_a_later_poll(app, world):
    app.config["API_SETTLE_SECONDS"] = 2
    old = world.accepted()
    old.updated_at = now_utc() - timedelta(hours=1)
    db.session.commit()
    fresh = world.accepted()  # may still be committing elsewhere: not shown yet
    sync = SyncClient(world)
    sync.follow(START)
    assert list(sync.counts) == [old.id]
    app.config["API_SETTLE_SECONDS"] = 0  # as if two seconds went by
    sync.page(sync.next)
    assert list(sync.counts) == [old.id, fresh.id]
