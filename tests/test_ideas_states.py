"""The moderation lifecycle of an idea: every (state, action) pair of the table."""

import pytest
from sqlalchemy import func, select
from tables import first_source, states_and_actions, transition_table

from engage.errors import InvalidTransition, ValidationFailed
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Idea

# What each action leads to from each state ("-": refused), written out by hand.
EXPECTED = transition_table("""
                   publish    reject    request_changes    resubmit  hide    restore    merge   withdraw
pending            published  rejected  changes_requested  -         -       -          merged  withdrawn
published          -          -         -                  -         hidden  -          merged  withdrawn
rejected           -          -         -                  -         -       -          -       -
changes_requested  -          -         -                  pending   -       -          -       withdrawn
hidden             -          -         -                  -         -       published  merged  -
merged             -          -         -                  -         -       -          -       -
withdrawn          -          -         -                  -         -       -          -       -
""")  # noqa: E501
ALLOWED = [pair for pair, target in EXPECTED.items() if target]
REFUSED = [pair for pair, target in EXPECTED.items() if not target]
NEED_REASON = ["hide", "reject", "request_changes"]


def _reason_for(action: str) -> str | None:
    return "  Off topic for this challenge.  " if action in NEED_REASON else None


def _target_for(make_idea, idea: Idea, action: str) -> Idea | None:
    """A merge points to a published idea of the same challenge; no other action does."""
    return make_idea(idea.challenge) if action == "merge" else None


def _snapshot(idea: Idea) -> tuple:
    return (
        idea.moderation_state,
        idea.moderation_reason,
        idea.published_at,
        idea.challenge.idea_count,
    )


def _published_in_database(challenge_id: int) -> int:
    return db.session.scalar(
        select(func.count(Idea.id)).where(
            Idea.challenge_id == challenge_id, Idea.moderation_state == states.PUBLISHED
        )
    )


def test_expectations_cover_every_state_and_action_of_the_code():
    assert states_and_actions(EXPECTED) == (
        set(states.MODERATION_STATES),
        set(states.TRANSITIONS),
    )
    assert set(states.STATE_LABELS) == set(states.MODERATION_STATES)


def test_actions_that_need_a_reason_are_those_expected():
    assert sorted(a for a, t in states.TRANSITIONS.items() if t.needs_reason) == NEED_REASON


@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_allowed_transition_reaches_its_target(make_idea, state, action):
    idea = make_idea(state=state)
    target = EXPECTED[state, action]
    merged_into = _target_for(make_idea, idea, action)

    result = states.apply_transition(idea, action, _reason_for(action), merged_into)
    db.session.commit()

    assert result == (state, target)
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).moderation_state == target


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_refused_transition_raises_and_changes_nothing(make_idea, state, action):
    idea = make_idea(state=state)
    before = _snapshot(idea)

    with pytest.raises(InvalidTransition):
        states.apply_transition(idea, action, "A reason, in case one is needed.")

    assert _snapshot(idea) == before
    db.session.commit()
    db.session.expire_all()
    assert _snapshot(db.session.get(Idea, idea.id)) == before


@pytest.mark.parametrize("reason", [None, "", "   \n\t"])
@pytest.mark.parametrize("action", NEED_REASON)
def test_transition_needing_a_reason_refuses_without_one(make_idea, action, reason):
    source = first_source(EXPECTED, action)
    idea = make_idea(state=source)
    before = _snapshot(idea)

    with pytest.raises(ValidationFailed) as raised:
        states.apply_transition(idea, action, reason)

    assert raised.value.field == "reason"
    assert _snapshot(idea) == before


@pytest.mark.parametrize("action", NEED_REASON)
def test_reason_is_stored_without_surrounding_spaces(make_idea, action):
    idea = make_idea(
        state=next(
            state for (state, each), target in EXPECTED.items() if each == action and target
        )
    )

    states.apply_transition(idea, action, "  Please add a map.\n")
    db.session.commit()

    assert db.session.get(Idea, idea.id).moderation_reason == "Please add a map."


def test_transition_without_reason_clears_the_previous_reason(make_idea):
    idea = make_idea(state="hidden")
    assert idea.moderation_reason == "Off"

    states.apply_transition(idea, "restore")
    db.session.commit()

    assert idea.moderation_reason is None


def test_merge_is_refused_without_the_idea_it_points_to(make_idea):
    idea = make_idea(state="published")
    before = _snapshot(idea)

    with pytest.raises(ValueError):
        states.apply_transition(idea, "merge")

    assert _snapshot(idea) == before
    assert idea.merged_into_id is None


def test_only_a_merge_points_to_another_idea(make_idea):
    idea = make_idea(state="published")
    other = make_idea(idea.challenge)
    before = _snapshot(idea)

    with pytest.raises(ValueError):
        states.apply_transition(idea, "hide", "Off", merged_into=other)

    assert _snapshot(idea) == before
    assert idea.merged_into_id is None


def test_merge_points_to_its_target(make_idea):
    idea = make_idea(state="published")
    target = make_idea(idea.challenge)

    states.apply_transition(idea, "merge", merged_into=target)
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(Idea, idea.id).merged_into_id == target.id


def test_unknown_action_raises_and_changes_nothing(make_idea):
    idea = make_idea(state="pending")
    before = _snapshot(idea)

    with pytest.raises(InvalidTransition):
        states.apply_transition(idea, "promote")

    assert _snapshot(idea) == before


@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_challenge_idea_count_follows_each_allowed_transition(make_idea, state, action):
    idea = make_idea(state=state)
    merged_into = _target_for(make_idea, idea, action)
    challenge = idea.challenge
    before = challenge.idea_count
    target = EXPECTED[state, action]

    states.apply_transition(idea, action, _reason_for(action), merged_into)
    db.session.commit()

    expected = before + (target == states.PUBLISHED) - (state == states.PUBLISHED)
    assert challenge.idea_count == expected
    assert challenge.idea_count == _published_in_database(challenge.id)


@pytest.mark.parametrize(
    ("pre_moderated", "state", "count"), [(False, states.PUBLISHED, 1), (True, states.PENDING, 0)]
)
def test_initial_state_depends_on_moderation_mode(
    make_challenge, make_user, pre_moderated, state, count
):
    challenge = make_challenge()
    idea = Idea(challenge=challenge, author=make_user(), title="Benches", body="More benches.")

    assert states.enter_initial_state(idea, pre_moderated=pre_moderated) == state
    db.session.add(idea)
    db.session.commit()

    assert idea.moderation_state == state
    assert (idea.published_at is not None) == (state == states.PUBLISHED)
    assert challenge.idea_count == count == _published_in_database(challenge.id)


def test_first_publication_date_is_kept_when_restored(make_idea):
    idea = make_idea(state="pending")
    assert idea.published_at is None
    states.apply_transition(idea, "publish")
    db.session.commit()
    first = idea.published_at

    states.apply_transition(idea, "hide", "Spam")
    states.apply_transition(idea, "restore")
    db.session.commit()

    assert first is not None
    assert idea.published_at == first


def test_several_transitions_before_a_flush_all_count(make_idea):
    idea = make_idea(state="pending")
    challenge = idea.challenge

    states.apply_transition(idea, "publish")
    states.apply_transition(idea, "hide", "Spam")
    db.session.commit()

    assert challenge.idea_count == 0 == _published_in_database(challenge.id)


def test_idea_made_hidden_is_not_counted(make_challenge, make_idea):
    challenge = make_challenge()
    make_idea(challenge, state="published")
    make_idea(challenge, state="hidden")

    db.session.refresh(challenge)
    assert challenge.idea_count == 1 == _published_in_database(challenge.id)
