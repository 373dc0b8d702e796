"""Stored counters (idea.vote_count, idea.comment_count, challenge.idea_count) never drift
from the rows they count, whatever mix of operations runs."""

import random

import pytest
from sqlalchemy import func, select

from engage.challenges.models import Challenge
from engage.errors import DomainError, LimitReached
from engage.extensions import db
from engage.ideas import services, states
from engage.ideas.models import Comment, Idea, Vote


def _drift() -> list[str]:
    """Every stored counter that differs from COUNT(*) of what it counts."""
    db.session.expire_all()
    votes = dict(
        db.session.execute(select(Vote.idea_id, func.count(Vote.id)).group_by(Vote.idea_id)).all()
    )
    comments = dict(
        db.session.execute(
            select(Comment.idea_id, func.count(Comment.id)).group_by(Comment.idea_id)
        ).all()
    )
    published = dict(
        db.session.execute(
            select(Idea.challenge_id, func.count(Idea.id))
            .where(Idea.moderation_state == states.PUBLISHED)
            .group_by(Idea.challenge_id)
        ).all()
    )
    drift = []
    for idea_id, vote_count, comment_count in db.session.execute(
        select(Idea.id, Idea.vote_count, Idea.comment_count)
    ):
        if vote_count != votes.get(idea_id, 0):
            drift.append(f"idea {idea_id}: vote_count {vote_count}, {votes.get(idea_id, 0)} votes")
        if comment_count != comments.get(idea_id, 0):
            drift.append(
                f"idea {idea_id}: comment_count {comment_count}, "
                f"{comments.get(idea_id, 0)} comments"
            )
    for challenge_id, idea_count in db.session.execute(select(Challenge.id, Challenge.idea_count)):
        if idea_count != published.get(challenge_id, 0):
            drift.append(
                f"challenge {challenge_id}: idea_count {idea_count}, "
                f"{published.get(challenge_id, 0)} published"
            )
    return drift


def test_counters_start_at_zero_and_match(make_challenge):
    make_challenge("open")

    assert _drift() == []


def test_counters_follow_a_scripted_mix_of_operations(make_user, make_challenge):
    post = make_challenge("open", vote_limit=2)
    pre = make_challenge("open", moderation_mode="pre")
    alice, bob, carol = make_user(), make_user(), make_user()

    def step(operation, *args, **kwargs):
        result = operation(*args, **kwargs)
        db.session.commit()
        assert _drift() == [], operation.__name__
        return result

    def submit(author, challenge, title):
        return step(services.submit_idea, author, challenge, title=title, body="Text.")

    benches = submit(alice, post, "Benches")
    trees = submit(bob, post, "Trees")
    lights = submit(carol, pre, "Lights")
    fountain = submit(alice, pre, "Fountain")
    step(states.apply_transition, lights, "publish")
    step(states.apply_transition, fountain, "request_changes", "Where exactly?")
    step(services.edit_idea, alice, fountain, title="Fountain", body="In the park.")
    step(states.apply_transition, fountain, "publish")
    for person in (alice, bob, carol):
        step(services.cast_vote, person, benches)
        step(services.cast_vote, person, lights)
        step(services.add_comment, person, benches, "Agreed.")
    step(services.cast_vote, alice, benches)
    step(services.cast_vote, bob, trees)
    step(services.cast_vote, alice, trees)
    kiosk = submit(bob, post, "Kiosk")
    with pytest.raises(LimitReached):
        services.cast_vote(alice, kiosk)
    db.session.rollback()
    assert _drift() == []
    step(services.withdraw_vote, carol, benches)
    step(services.withdraw_vote, carol, benches)
    step(states.apply_transition, trees, "hide", "Duplicate")
    step(services.add_comment, alice, lights, "Solar ones?")
    step(states.apply_transition, trees, "restore")
    step(states.apply_transition, trees, "merge", merged_into=benches)
    step(services.withdraw_idea, carol, lights)
    step(states.apply_transition, benches, "hide", "Off topic")

    assert _drift() == []
    db.session.expire_all()
    assert (post.idea_count, pre.idea_count) == (1, 1)


def test_counters_follow_participation_through_the_pages(
    client, auth, make_user, make_challenge, make_idea
):
    challenge = make_challenge("open", slug="parks")
    idea = make_idea(challenge)
    make_user("one@example.org")
    make_user("two@example.org")

    for email in ("one@example.org", "two@example.org"):
        auth.login(email)
        client.post(f"/ideas/{idea.id}/vote")
        client.post(f"/ideas/{idea.id}/vote")
        client.post(f"/ideas/{idea.id}/comments", data={"body": "Nice"})
        client.post(f"/ideas/{idea.id}/comments", data={"body": ""})
        client.post("/challenges/parks/ideas/new", data={"title": "Mine", "body": "B"})
        assert _drift() == []
        auth.logout()
    auth.login("one@example.org")
    client.post(f"/ideas/{idea.id}/unvote")
    own = db.session.scalars(select(Idea).where(Idea.title == "Mine").order_by(Idea.id)).first()
    client.post(f"/ideas/{own.id}/withdraw")

    assert _drift() == []
    db.session.expire_all()
    assert (idea.vote_count, idea.comment_count, challenge.idea_count) == (1, 2, 2)


def _random_operation(rng, people, challenges, ideas):
    person = rng.choice(people)
    idea = rng.choice(ideas) if ideas else None
    kind = rng.choice(
        ["submit", "vote", "vote", "unvote", "comment", "transition", "withdraw", "edit"]
    )
    if kind == "submit" or idea is None:
        ideas.append(
            services.submit_idea(person, rng.choice(challenges), title="Idea", body="Text.")
        )
    elif kind == "vote":
        services.cast_vote(person, idea)
    elif kind == "unvote":
        services.withdraw_vote(person, idea)
    elif kind == "comment":
        services.add_comment(person, idea, "A comment.")
    elif kind == "withdraw":
        services.withdraw_idea(idea.author, idea)
    elif kind == "edit":
        services.edit_idea(idea.author, idea, title="Edited", body="Edited.")
    else:
        action = rng.choice(sorted(states.TRANSITIONS))
        reason = "Because." if states.TRANSITIONS[action].needs_reason else None
        merged_into = None
        if states.TRANSITIONS[action].needs_target:
            others = [i for i in ideas if i is not idea and i.challenge_id == idea.challenge_id]
            if not others:
                return
            merged_into = others[0]
        states.apply_transition(idea, action, reason, merged_into)


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_counters_never_drift_under_a_random_mix(make_user, make_challenge, seed):
    rng = random.Random(seed)
    people = [make_user() for _ in range(4)]
    challenges = [
        make_challenge("open"),
        make_challenge("open", moderation_mode="pre"),
        make_challenge("open", vote_limit=2),
    ]
    ideas: list[Idea] = []

    for number in range(80):
        try:
            _random_operation(rng, people, challenges, ideas)
        except DomainError:
            db.session.rollback()
        else:
            db.session.commit()
        assert _drift() == [], f"after step {number}"
