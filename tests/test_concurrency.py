"""Simultaneous requests have one effect: the same click sent many times at once gives one
transition, one history record, one e-mail and one webhook event, and no error page.

Each request runs in its own thread with its own test client and database connection,
all released together. Only PostgreSQL has concurrent writers (SQLite lets one write at a
time), so this module runs there; CI runs the suite on both.
"""

import os
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from engage.agencies.models import Invitation, Membership
from engage.agencies.services import invitation_token
from engage.audit import ModerationAction
from engage.challenges.models import Challenge
from engage.extensions import db
from engage.ideas.decisions import decide_idea
from engage.ideas.models import Comment, Idea, PipelineEvent, Vote
from engage.mail import OutboxEmail
from engage.moderation.models import Flag, RiskFlag
from engage.tokens.models import ApiToken, hash_token, new_token_value
from engage.webhooks.models import OutboxEvent

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs concurrent writers: SQLite serialises whole-database writes, so only "
    "PostgreSQL (TEST_DATABASE_URL) shows whether row locks keep the rules",
)

TIMES = 8


def signed_in(app, email: str):
    client = app.test_client()
    response = client.post(
        "/account/sign-in", data={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def together(calls) -> list[int]:
    """Run each call (client → response) in its own thread, released at once; return the
    status codes. None of them may be a server error."""
    barrier = threading.Barrier(len(calls))
    statuses: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        statuses[index] = call().status_code

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert all(status is not None and status < 500 for status in statuses), statuses
    return statuses


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def actions(action: str) -> int:
    return count(ModerationAction, ModerationAction.action == action)


@pytest.fixture
def world(app, make_user, make_agency, make_challenge, make_idea):
    admin = make_user("admin@example.org")
    moderator = make_user("moderator@example.org")
    author = make_user("author@example.org")
    agency = make_agency("city", members=[(admin, "admin"), (moderator, "moderator")])
    challenge = make_challenge("open", agency=agency, slug="greener")
    db.session.commit()
    return SimpleNamespace(
        app=app,
        admin=admin,
        moderator=moderator,
        author=author,
        agency=agency,
        challenge=challenge,
        make_idea=lambda **fields: make_idea(challenge, author=author, **fields),
    )


def same_click(app, email: str, url: str, data: dict, times: int = TIMES) -> list[int]:
    clients = [signed_in(app, email) for _ in range(times)]
    return together([lambda c=c: c.post(url, data=data) for c in clients])


def test_ten_simultaneous_accepts_give_one_decision(world, make_vote, make_user):
    idea = world.make_idea()
    voter = make_user(email_on_decisions=True)
    make_vote(voter, idea)

    statuses = same_click(
        world.app,
        "admin@example.org",
        f"/agencies/city/ideas/{idea.id}/decision",
        {"action": "accept", "response": "We will do it."},
        times=10,
    )

    assert statuses.count(302) == 1
    assert count(PipelineEvent, PipelineEvent.idea_id == idea.id) == 1
    assert actions("decide_accept") == 1
    assert count(OutboxEvent, OutboxEvent.event_type == "idea.accepted") == 1
    assert count(OutboxEmail) == 2  # the author and the voter who asked, once each


def test_simultaneous_publishes_count_the_idea_once(world):
    idea = world.make_idea(state="pending")

    statuses = same_click(
        world.app,
        "moderator@example.org",
        f"/moderation/ideas/{idea.id}/decide",
        {"action": "publish"},
        times=12,
    )

    assert 302 in statuses
    assert actions("publish") == 1
    assert db.session.get(Challenge, world.challenge.id).idea_count == 1
    assert count(OutboxEmail, OutboxEmail.recipient == "author@example.org") == 1


def test_simultaneous_reports_hide_the_idea_once(world, make_user):
    world.app.config["FLAG_HIDE_THRESHOLD"] = 3
    idea = world.make_idea()
    reporters = [make_user(f"reporter{n}@example.org") for n in range(6)]
    db.session.commit()
    clients = [signed_in(world.app, person.email) for person in reporters]

    url = f"/ideas/{idea.id}/flag"
    together([lambda c=c: c.post(url, data={"reason": "spam"}) for c in clients])

    # The third report hides the idea; the later ones find it no longer public.
    assert count(Flag, Flag.idea_id == idea.id) == 3
    assert actions("auto_hide") == 1
    stored = db.session.get(Idea, idea.id)
    assert (stored.moderation_state, stored.open_flag_count) == ("hidden", 3)
    assert db.session.get(Challenge, world.challenge.id).idea_count == 0


def test_the_same_report_sent_twice_at_once_counts_once(world, make_user):
    idea = world.make_idea()
    make_user("reporter@example.org")

    same_click(world.app, "reporter@example.org", f"/ideas/{idea.id}/flag", {"reason": "spam"})

    assert count(Flag, Flag.idea_id == idea.id) == 1
    assert db.session.get(Idea, idea.id).open_flag_count == 1


def test_pushes_to_two_final_stages_at_once_give_one_outcome(world, client):
    idea = world.make_idea()
    decide_idea(world.admin, idea, "accept", "Yes.")
    value = new_token_value()
    db.session.add(
        ApiToken(
            agency_id=world.agency.id,
            name="Backlog",
            prefix=value[:12],
            token_hash=hash_token(value),
            scopes="ideas:read pipeline:write",
        )
    )
    db.session.commit()
    headers = {"Authorization": f"Bearer {value}"}
    clients = [world.app.test_client() for _ in range(2)]
    url = f"/api/v1/ideas/{idea.id}/pipeline"

    statuses = together(
        [
            lambda c=c, stage=stage: c.post(url, json={"stage": stage}, headers=headers)
            for c, stage in zip(clients, ("implemented", "discontinued"), strict=True)
        ]
    )

    # The loser finds the idea in the other final stage: implemented cannot be
    # discontinued (409), and reopening a discontinued idea needs a note (422).
    assert sorted(statuses) in ([200, 409], [200, 422])
    assert count(PipelineEvent, PipelineEvent.idea_id == idea.id) == 2  # backlog, then one
    assert count(OutboxEvent, OutboxEvent.event_type == "idea.pipeline_changed") == 1


def test_simultaneous_merges_move_each_vote_once(world, make_user, make_vote):
    target = world.make_idea(title="Trees in parks")
    duplicate = world.make_idea(title="More trees in parks")
    both, only_duplicate = make_user(), make_user()
    make_vote(both, target)
    make_vote(both, duplicate)
    make_vote(only_duplicate, duplicate)

    same_click(
        world.app,
        "moderator@example.org",
        f"/moderation/ideas/{duplicate.id}/merge",
        {"target_id": str(target.id)},
    )

    assert actions("merge") == 1
    assert actions("merge_into") == 1
    assert count(Vote, Vote.idea_id == target.id) == 2
    assert count(Vote, Vote.idea_id == duplicate.id) == 0
    assert db.session.get(Idea, target.id).vote_count == 2
    assert db.session.get(Idea, duplicate.id).vote_count == 0


def test_votes_racing_a_merge_are_counted_where_they_land(world, make_user):
    target = world.make_idea(title="Benches")
    duplicate = world.make_idea(title="More benches")
    voters = [make_user(f"voter{n}@example.org") for n in range(6)]
    db.session.commit()
    voting = [signed_in(world.app, person.email) for person in voters]
    merging = signed_in(world.app, "moderator@example.org")

    vote_url, merge_url = f"/ideas/{duplicate.id}/vote", f"/moderation/ideas/{duplicate.id}/merge"
    merge_data = {"target_id": str(target.id)}
    together(
        [lambda c=c: c.post(vote_url) for c in voting]
        + [lambda: merging.post(merge_url, data=merge_data)]
    )

    for idea_id in (target.id, duplicate.id):
        rows = count(Vote, Vote.idea_id == idea_id)
        assert db.session.get(Idea, idea_id).vote_count == rows
    assert count(Vote, Vote.idea_id == duplicate.id) == 0


def test_a_double_submitted_idea_is_created_once(world):
    data = {"title": "Shade sails", "body": "Over the playground.", "submission_key": "k" * 32}

    statuses = same_click(
        world.app, "author@example.org", "/challenges/greener/ideas/new", data, times=5
    )

    assert statuses == [302] * 5
    assert count(Idea, Idea.title == "Shade sails") == 1
    assert db.session.get(Challenge, world.challenge.id).idea_count == 1


def test_a_double_submitted_comment_is_posted_once(world):
    idea = world.make_idea()

    statuses = same_click(
        world.app,
        "author@example.org",
        f"/ideas/{idea.id}/comments",
        {"body": "Yes please.", "submission_key": "c" * 32},
        times=5,
    )

    assert statuses == [302] * 5
    assert count(Comment, Comment.idea_id == idea.id) == 1
    assert db.session.get(Idea, idea.id).comment_count == 1


def test_simultaneous_hides_of_a_comment_record_one_decision(world, make_user):
    idea = world.make_idea()
    comment = Comment(idea_id=idea.id, author=make_user(), body="Rude", body_html="<p>Rude</p>")
    db.session.add(comment)
    db.session.commit()

    same_click(
        world.app,
        "moderator@example.org",
        f"/moderation/comments/{comment.id}/decide",
        {"action": "hide", "reason": "Rude"},
    )

    assert actions("comment_hide") == 1
    assert count(OutboxEmail) == 1


def test_simultaneous_dismissals_of_reports_record_one_decision(world, make_user):
    idea = world.make_idea()
    db.session.add(Flag(reporter_id=make_user().id, idea_id=idea.id, reason="spam"))
    idea.open_flag_count = 1
    db.session.commit()

    same_click(
        world.app,
        "moderator@example.org",
        f"/moderation/ideas/{idea.id}/dismiss-flags",
        {"reason": "Not spam"},
    )

    assert actions("dismiss_flags") == 1


def test_simultaneous_risk_flags_of_one_kind_give_one_flag(world):
    idea = world.make_idea()

    same_click(
        world.app,
        "moderator@example.org",
        f"/moderation/ideas/{idea.id}/risks",
        {"kind": "privacy", "note": "Names a neighbour."},
    )

    assert count(RiskFlag, RiskFlag.idea_id == idea.id) == 1
    assert actions("risk_set") == 1


def test_simultaneous_withdrawals_count_the_idea_out_once(world):
    idea = world.make_idea()

    same_click(world.app, "author@example.org", f"/ideas/{idea.id}/withdraw", {})

    assert db.session.get(Idea, idea.id).moderation_state == "withdrawn"
    assert db.session.get(Challenge, world.challenge.id).idea_count == 0


def test_simultaneous_publishes_of_a_challenge_are_no_error(world, make_challenge):
    draft = make_challenge("draft", agency=world.agency, slug="draft")

    statuses = same_click(
        world.app, "admin@example.org", "/agencies/city/challenges/draft/publish", {}
    )

    assert statuses == [302] * TIMES
    assert db.session.get(Challenge, draft.id).published_at is not None


def test_an_invitation_accepted_in_several_tabs_makes_one_membership(world, make_user):
    invitee = make_user("invitee@example.org")
    invitation = Invitation(
        agency_id=world.agency.id,
        email="invitee@example.org",
        role="moderator",
        invited_by_id=world.admin.id,
    )
    db.session.add(invitation)
    db.session.commit()

    statuses = same_click(
        world.app, "invitee@example.org", f"/invitations/{invitation_token(invitation)}", {}
    )

    assert 302 in statuses
    assert count(Membership, Membership.user_id == invitee.id) == 1
