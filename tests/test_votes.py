"""Votes: one per person per idea, only while the challenge takes votes, within its limit,
and a stored count that always equals the number of vote rows — also under concurrency."""

import os
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engage.auth.models import User
from engage.db import now_utc
from engage.errors import LimitReached, NotPermitted
from engage.extensions import db
from engage.ideas import services
from engage.ideas.models import Idea, Vote

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs concurrent writers: SQLite serialises whole-database writes, so only "
    "PostgreSQL (TEST_DATABASE_URL) shows whether row locks keep the rules",
)


def _vote_rows(idea_id: int | None = None, voter_id: int | None = None) -> int:
    query = select(func.count(Vote.id))
    if idea_id is not None:
        query = query.where(Vote.idea_id == idea_id)
    if voter_id is not None:
        query = query.where(Vote.voter_id == voter_id)
    return db.session.scalar(query)


def _stored_count(idea_id: int) -> int:
    return db.session.scalar(select(Idea.vote_count).where(Idea.id == idea_id))


@pytest.fixture
def voter(make_user, make_idea, make_vote, auth):
    # The factories first: each pushes its own app context, and so its own session.
    user = make_user("voter@example.org")
    auth.login("voter@example.org")
    return user


def _page(client, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def test_vote_is_counted_and_redirects_to_the_idea(client, voter, make_idea):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/vote")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{idea.id}"
    assert _vote_rows(idea.id, voter.id) == 1
    assert _stored_count(idea.id) == 1
    assert "Your vote is counted." in _page(client, f"/ideas/{idea.id}")


def test_vote_goes_back_to_a_safe_next(client, voter, make_idea):
    idea = make_idea()
    back = f"/challenges/{idea.challenge.slug}?sort=newest#ideas"

    response = client.post(f"/ideas/{idea.id}/vote", data={"next": back})

    assert response.headers["Location"] == back


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ideas\r\nSet-Cookie: x=1",
    ],
)
def test_vote_ignores_an_unsafe_next(client, voter, make_idea, target):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/vote", data={"next": target})

    assert response.headers["Location"] == f"/ideas/{idea.id}"
    assert _vote_rows(idea.id) == 1


@pytest.mark.parametrize("action", ["vote", "unvote"])
def test_vote_and_unvote_need_post(client, voter, make_idea, action):
    idea = make_idea()

    assert client.get(f"/ideas/{idea.id}/{action}").status_code == 405
    assert _vote_rows() == 0


def test_visitor_is_sent_to_sign_in_to_vote(client, make_idea):
    idea = make_idea()

    response = client.post(f"/ideas/{idea.id}/vote")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")
    assert _vote_rows() == 0


def test_second_vote_is_a_no_op(client, voter, make_idea):
    idea = make_idea()
    client.post(f"/ideas/{idea.id}/vote")

    response = client.post(f"/ideas/{idea.id}/vote")

    assert response.status_code == 302
    assert _vote_rows(idea.id) == 1
    assert _stored_count(idea.id) == 1
    assert "You had already voted for this idea." in _page(client, f"/ideas/{idea.id}")


def test_second_cast_vote_returns_false(make_user, make_idea):
    person, idea = make_user(), make_idea()

    assert services.cast_vote(person, idea) is True
    assert services.cast_vote(person, idea) is False
    db.session.commit()

    assert _vote_rows(idea.id) == 1 == _stored_count(idea.id)


def test_unvote_takes_the_vote_back(client, voter, make_idea):
    idea = make_idea()
    client.post(f"/ideas/{idea.id}/vote")

    response = client.post(f"/ideas/{idea.id}/unvote")

    assert response.status_code == 302
    assert _vote_rows(idea.id) == 0
    assert _stored_count(idea.id) == 0
    assert "Your vote is withdrawn." in _page(client, f"/ideas/{idea.id}")


def test_unvote_without_a_vote_is_a_no_op(client, voter, make_idea, make_user, make_vote):
    idea = make_idea()
    make_vote(make_user(), idea)

    client.post(f"/ideas/{idea.id}/unvote")

    assert _vote_rows(idea.id) == 1 == _stored_count(idea.id)
    assert "You had not voted for this idea." in _page(client, f"/ideas/{idea.id}")


def test_idea_page_offers_to_withdraw_a_vote_once_cast(client, voter, make_idea):
    idea = make_idea()
    url = f"/ideas/{idea.id}"
    assert f'action="{url}/vote"' in client.get(url).get_data(as_text=True)

    client.post(f"{url}/vote")

    html = client.get(url).get_data(as_text=True)
    assert f'action="{url}/unvote"' in html
    assert f'action="{url}/vote"' not in html


@pytest.mark.parametrize("phase", ["open", "voting"])
def test_votes_are_taken_in_open_and_voting_phases(
    client, voter, make_challenge, make_idea, phase
):
    idea = make_idea(make_challenge(phase))

    client.post(f"/ideas/{idea.id}/vote")

    assert _vote_rows(idea.id) == 1 == _stored_count(idea.id)


@pytest.mark.parametrize("phase", ["upcoming", "review", "closed"])
def test_votes_are_refused_in_other_phases(client, voter, make_challenge, make_idea, phase):
    idea = make_idea(make_challenge(phase))

    response = client.post(f"/ideas/{idea.id}/vote")

    assert response.status_code == 403
    assert "Voting is closed for this challenge." in response.get_data(as_text=True)
    assert _vote_rows() == 0 == _stored_count(idea.id)


def test_no_vote_button_once_voting_is_closed(client, voter, make_challenge, make_idea):
    idea = make_idea(make_challenge("review"))

    html = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert f'action="/ideas/{idea.id}/vote"' not in html


def test_vote_on_an_idea_of_a_draft_challenge_answers_404(
    client, voter, make_challenge, make_idea
):
    idea = make_idea(make_challenge("draft"))

    assert client.post(f"/ideas/{idea.id}/vote").status_code == 404
    assert _vote_rows() == 0


def test_unvote_refused_after_voting_closes(client, voter, make_challenge, make_idea):
    challenge = make_challenge("voting")
    idea = make_idea(challenge)
    client.post(f"/ideas/{idea.id}/vote")
    challenge.voting_closes_at = now_utc() - timedelta(hours=1)
    db.session.commit()

    response = client.post(f"/ideas/{idea.id}/unvote")

    assert response.status_code == 403
    assert "Voting is closed for this challenge." in response.get_data(as_text=True)
    assert _vote_rows(idea.id, voter.id) == 1 == _stored_count(idea.id)


def test_own_pending_idea_cannot_be_voted_on(client, voter, make_idea):
    idea = make_idea(author=voter, state="pending")

    response = client.post(f"/ideas/{idea.id}/vote")

    assert response.status_code == 403
    assert "Only published ideas can receive votes." in response.get_data(as_text=True)
    assert _vote_rows() == 0


def test_unverified_person_cannot_vote_and_is_told_why(client, auth, make_user, make_idea):
    make_user("new@example.org", verified=False)
    idea = make_idea()
    auth.login("new@example.org")

    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    response = client.post(f"/ideas/{idea.id}/vote")

    assert f'action="/ideas/{idea.id}/vote"' not in page
    assert response.status_code == 403
    assert "Confirm your e-mail address to take part." in response.get_data(as_text=True)
    assert _vote_rows() == 0


def test_business_cannot_vote_in_a_challenge_for_citizens_only(
    client, auth, make_user, make_challenge, make_idea
):
    make_user("firm@example.org", account_type="business")
    idea = make_idea(make_challenge("open", allow_business=False))
    auth.login("firm@example.org")

    response = client.post(f"/ideas/{idea.id}/vote")

    assert response.status_code == 403
    assert "This challenge is open to citizens only." in response.get_data(as_text=True)
    assert _vote_rows() == 0


def test_suspended_person_cannot_vote(make_user, make_idea):
    person = make_user(suspended_at=now_utc())
    idea = make_idea()

    with pytest.raises(NotPermitted):
        services.cast_vote(person, idea)


def test_vote_limit_reached_shows_why_and_stores_nothing(client, voter, make_challenge, make_idea):
    challenge = make_challenge("open", vote_limit=2)
    first, second, third = (make_idea(challenge) for _ in range(3))
    client.post(f"/ideas/{first.id}/vote")
    client.post(f"/ideas/{second.id}/vote")

    response = client.post(f"/ideas/{third.id}/vote")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{third.id}"
    html = client.get(f"/ideas/{third.id}").get_data(as_text=True)
    assert "You have used all 2 of your votes in this challenge." in html
    assert _vote_rows(voter_id=voter.id) == 2
    assert _vote_rows(third.id) == 0 == _stored_count(third.id)


def test_vote_limit_counts_only_votes_in_the_same_challenge(
    make_user, make_challenge, make_idea, make_vote
):
    person = make_user()
    make_vote(person, make_idea(make_challenge("open")))
    limited = make_challenge("open", vote_limit=1)

    assert services.cast_vote(person, make_idea(limited)) is True


def test_vote_on_an_idea_that_was_withdrawn_no_longer_uses_the_limit(
    make_user, make_challenge, make_idea, make_vote
):
    person = make_user()
    challenge = make_challenge("open", vote_limit=1)
    gone, other = make_idea(challenge), make_idea(challenge)
    make_vote(person, gone)
    services.withdraw_idea(gone.author, gone)
    db.session.commit()

    assert services.cast_vote(person, other) is True


def test_taking_a_vote_back_frees_it_under_the_limit(
    make_user, make_challenge, make_idea, make_vote
):
    person = make_user()
    challenge = make_challenge("open", vote_limit=1)
    first, second = make_idea(challenge), make_idea(challenge)
    make_vote(person, first)
    with pytest.raises(LimitReached):
        services.cast_vote(person, second)
    db.session.rollback()

    services.withdraw_vote(person, first)
    services.cast_vote(person, second)
    db.session.commit()

    assert _vote_rows(first.id) == 0 == _stored_count(first.id)
    assert _vote_rows(second.id) == 1 == _stored_count(second.id)


def test_voting_again_at_the_limit_is_a_no_op_not_an_error(
    make_user, make_challenge, make_idea, make_vote
):
    person = make_user()
    idea = make_idea(make_challenge("open", vote_limit=1))
    make_vote(person, idea)

    assert services.cast_vote(person, idea) is False


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vote_count_equals_vote_rows_after_every_step(make_user, make_challenge, make_idea, seed):
    rng = random.Random(seed)
    people = [make_user() for _ in range(4)]
    ideas = [make_idea(make_challenge("open")) for _ in range(2)]
    limited = make_challenge("open", vote_limit=2)
    ideas += [make_idea(limited) for _ in range(3)]

    for _ in range(60):
        person, idea = rng.choice(people), rng.choice(ideas)
        action = rng.choice([services.cast_vote, services.withdraw_vote])
        try:
            action(person, idea)
        except LimitReached:
            db.session.rollback()
        else:
            db.session.commit()
        for each in ideas:
            assert _stored_count(each.id) == _vote_rows(each.id), f"idea {each.id} drifted"
    for person in people:
        used = db.session.scalar(
            select(func.count(Vote.id)).where(
                Vote.voter_id == person.id, Vote.challenge_id == limited.id
            )
        )
        assert used <= 2


def _run_together(app, calls) -> list[Exception]:
    """Run each call in its own thread, app context and session, all released at once."""
    barrier = threading.Barrier(len(calls))
    errors: list[Exception] = []

    def worker(call):
        barrier.wait()  # before any connection is taken, so the pool cannot starve it
        with app.app_context():
            try:
                call()
                db.session.commit()
            except LimitReached:
                db.session.rollback()
            except Exception as error:  # reported to the test below
                db.session.rollback()
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a voting thread hung"
    return errors


def _vote_call(voter_id: int, idea_id: int):
    def call():
        services.cast_vote(db.session.get(User, voter_id), db.session.get(Idea, idea_id))

    return call


@postgresql_only
def test_same_person_voting_from_twenty_threads_counts_once(app, make_user, make_idea):
    voter_id, idea_id = make_user().id, make_idea().id
    db.session.commit()

    errors = _run_together(app, [_vote_call(voter_id, idea_id) for _ in range(20)])

    assert errors == []
    db.session.expire_all()
    assert _vote_rows(idea_id) == 1
    assert _stored_count(idea_id) == 1


@postgresql_only
def test_twenty_people_voting_at_once_are_all_counted(app, make_user, make_idea):
    idea_id = make_idea().id
    voter_ids = [make_user().id for _ in range(20)]
    db.session.commit()

    errors = _run_together(app, [_vote_call(voter_id, idea_id) for voter_id in voter_ids])

    assert errors == []
    db.session.expire_all()
    assert _vote_rows(idea_id) == 20
    assert _stored_count(idea_id) == 20


@postgresql_only
def test_vote_limit_holds_when_voting_on_ten_ideas_at_once(
    app, make_user, make_challenge, make_idea
):
    challenge = make_challenge("open", vote_limit=3)
    voter_id = make_user().id
    idea_ids = [make_idea(challenge).id for _ in range(10)]
    db.session.commit()

    errors = _run_together(app, [_vote_call(voter_id, idea_id) for idea_id in idea_ids])

    assert errors == []
    db.session.expire_all()
    assert _vote_rows(voter_id=voter_id) == 3
    assert sum(_stored_count(idea_id) for idea_id in idea_ids) == 3
    assert all(_stored_count(i) == _vote_rows(i) for i in idea_ids)
