"""The agency's decision on an idea and its pipeline stage: every (decision, action) pair of
DECISION_TRANSITIONS and every (stage, target) pair of the pipeline, stored and read back."""

import pytest
from sqlalchemy import select
from tables import states_and_actions, transition_table

from engage.agencies.models import Membership
from engage.audit import ModerationAction
from engage.db import now_utc
from engage.errors import InvalidTransition, ValidationFailed
from engage.extensions import db
from engage.ideas import decisions, states
from engage.ideas.models import Idea, PipelineEvent
from engage.ideas.permissions import can_decide_idea

# What each decision leads to from each earlier one ("-": refused), written out by hand.
EXPECTED = transition_table("""
             shortlist    accept    decline
none         shortlisted  accepted  declined
shortlisted  -            accepted  declined
accepted     shortlisted  -         declined
declined     shortlisted  accepted  -
""")
ALLOWED = [pair for pair, target in EXPECTED.items() if target]
REFUSED = [pair for pair, target in EXPECTED.items() if not target]
UNPUBLISHED = [s for s in states.MODERATION_STATES if s != states.PUBLISHED]

# The pipeline written out by hand, so the tests do not reuse the code's own arithmetic.
FORWARD = ["backlog", "concept", "validation", "development", "deployment", "implemented"]
FINAL = {"implemented", "discontinued"}
STAGE_PAIRS = [(s, t) for s in states.PIPELINE_STAGES for t in states.PIPELINE_STAGES]


def _may_move(source: str, target: str) -> bool:
    if source == target:
        return False
    if target == "discontinued":
        return source not in FINAL
    return True  # any stage of the process, forward or back


def _goes_back(source: str, target: str) -> bool:
    if source == "discontinued":
        return True  # reopening
    return target != "discontinued" and FORWARD.index(target) < FORWARD.index(source)


STAGE_ALLOWED = [(s, t) for s, t in STAGE_PAIRS if _may_move(s, t)]
STAGE_REFUSED = [(s, t) for s, t in STAGE_PAIRS if not _may_move(s, t)]

RESPONSE = "  We will try this in two districts first.  "
# Reaching each decision from `none`, through the table itself.
PATHS = {"none": [], "shortlisted": ["shortlist"], "accepted": ["accept"], "declined": ["decline"]}


@pytest.fixture
def admin(make_user, make_agency, make_challenge, make_idea):
    # Every factory is set up before any row is made, so all share one session.
    return make_user("admin@example.org")


@pytest.fixture
def challenge(make_agency, make_challenge, admin):
    return make_challenge("open", agency=make_agency("city", members=[(admin, "admin")]))


@pytest.fixture
def idea_with(make_idea, challenge):
    """Make an idea with the given moderation state, decision and pipeline stage."""

    def make(decision="none", *, state="published", stage=None) -> Idea:
        idea = make_idea(challenge, state=state)
        for action in PATHS[decision]:
            states.apply_decision(idea, action, "Earlier response.")
        if stage not in (None, "backlog"):
            states.apply_stage(idea, stage)
        db.session.commit()
        expected_stage = stage or ("backlog" if decision == "accepted" else None)
        assert (idea.decision, idea.pipeline_stage) == (decision, expected_stage)
        return idea

    return make


def _stored(idea: Idea) -> Idea:
    db.session.expire_all()
    return db.session.get(Idea, idea.id)


def _decision_snapshot(idea: Idea) -> tuple:
    return (
        idea.moderation_state,
        idea.decision,
        idea.decision_response,
        idea.decided_at,
        idea.pipeline_stage,
    )


# --- the decision table ------------------------------------------------------------------


def test_expectations_cover_every_decision_and_action():
    assert states_and_actions(EXPECTED) == (
        set(states.DECISIONS),
        set(states.DECISION_TRANSITIONS),
    )
    assert all(t.needs_reason for t in states.DECISION_TRANSITIONS.values())
    assert set(states.DECISION_LABELS) == set(states.DECISIONS)


@pytest.mark.parametrize(("decision", "action"), ALLOWED)
def test_allowed_decision_reaches_its_target_with_the_response(idea_with, decision, action):
    idea = idea_with(decision)
    target = EXPECTED[decision, action]

    result = states.apply_decision(idea, action, RESPONSE)
    db.session.commit()

    assert result == (decision, target)
    stored = _stored(idea)
    assert stored.decision == target
    assert stored.decision_response == RESPONSE.strip()
    assert stored.decided_at is not None
    assert stored.moderation_state == states.PUBLISHED


@pytest.mark.parametrize(("decision", "action"), ALLOWED)
def test_only_accepting_puts_the_idea_in_the_backlog(idea_with, decision, action):
    idea = idea_with(decision)

    states.apply_decision(idea, action, RESPONSE)
    db.session.commit()

    expected = "backlog" if action == "accept" else None
    assert _stored(idea).pipeline_stage == expected


@pytest.mark.parametrize(("decision", "action"), REFUSED)
def test_refused_decision_raises_and_changes_nothing(idea_with, decision, action):
    idea = idea_with(decision)
    before = _decision_snapshot(idea)

    with pytest.raises(InvalidTransition) as raised:
        states.apply_decision(idea, action, RESPONSE)

    label = str(states.DECISION_LABELS[decision])
    assert str(raised.value.message) == (
        f"This idea is already {label}; that decision is not possible now."
    )
    assert _decision_snapshot(idea) == before
    db.session.commit()
    assert _decision_snapshot(_stored(idea)) == before


@pytest.mark.parametrize("decision", states.DECISIONS)
@pytest.mark.parametrize("action", ["", "approve"])
def test_unknown_decision_action_raises_and_changes_nothing(idea_with, decision, action):
    idea = idea_with(decision)
    before = _decision_snapshot(idea)

    with pytest.raises(InvalidTransition):
        states.apply_decision(idea, action, RESPONSE)

    assert _decision_snapshot(idea) == before


@pytest.mark.parametrize("action", sorted(states.DECISION_TRANSITIONS))
def test_decision_without_response_is_refused(idea_with, action):
    idea = idea_with("none")
    before = _decision_snapshot(idea)

    for response in (None, "", "  \n\t"):
        with pytest.raises(ValidationFailed) as raised:
            states.apply_decision(idea, action, response)
        assert raised.value.field == "response"
        assert str(raised.value.message) == "Write the public response to this decision."

    db.session.commit()
    assert _decision_snapshot(_stored(idea)) == before


@pytest.mark.parametrize("state", UNPUBLISHED)
def test_only_published_ideas_can_be_decided_on(idea_with, state):
    idea = idea_with(state=state)
    before = _decision_snapshot(idea)

    for action in states.DECISION_TRANSITIONS:
        with pytest.raises(InvalidTransition) as raised:
            states.apply_decision(idea, action, RESPONSE)
        assert str(raised.value.message) == "Only published ideas can be decided on."

    db.session.commit()
    assert _decision_snapshot(_stored(idea)) == before


def test_decide_idea_starts_the_pipeline_history_at_backlog(idea_with, admin):
    idea = idea_with("shortlisted")

    decisions.decide_idea(admin, idea, "accept", RESPONSE)
    db.session.commit()

    events = db.session.execute(
        select(PipelineEvent.stage, PipelineEvent.note, PipelineEvent.actor_id).where(
            PipelineEvent.idea_id == idea.id
        )
    ).all()
    assert events == [("backlog", RESPONSE.strip(), admin.id)]
    audit = db.session.execute(
        select(
            ModerationAction.action, ModerationAction.from_state, ModerationAction.to_state
        ).where(ModerationAction.idea_id == idea.id)
    ).all()
    assert audit == [("decide_accept", "shortlisted", "accepted")]


@pytest.mark.parametrize("action", ["shortlist", "decline"])
def test_decide_idea_without_accepting_starts_no_pipeline(idea_with, admin, action):
    idea = idea_with("none")

    decisions.decide_idea(admin, idea, action, RESPONSE)
    db.session.commit()

    assert _stored(idea).pipeline_stage is None
    assert (
        db.session.scalars(select(PipelineEvent).where(PipelineEvent.idea_id == idea.id)).all()
        == []
    )


def test_only_the_agencys_admins_may_decide(idea_with, make_user, challenge):
    # Who may decide is the predicate's to say (the workspace checks it before calling
    # decide_idea; tests/test_workspace_permissions.py walks every role through it).
    moderator, admin = make_user(), make_user()
    db.session.add_all(
        [
            Membership(agency_id=challenge.agency_id, user_id=moderator.id, role="moderator"),
            Membership(agency_id=challenge.agency_id, user_id=admin.id, role="admin"),
        ]
    )
    db.session.commit()
    idea = idea_with("none")

    assert not can_decide_idea(moderator, idea)
    assert can_decide_idea(admin, idea)


def test_decide_idea_refuses_a_closed_challenge_whoever_calls(idea_with, challenge, make_user):
    challenge.closed_at = now_utc()
    db.session.commit()
    idea = idea_with("none")

    with pytest.raises(InvalidTransition, match="This challenge is closed"):
        decisions.decide_idea(make_user(), idea, "accept", RESPONSE)

    db.session.rollback()
    assert _stored(idea).decision == "none"


# --- the pipeline ------------------------------------------------------------------------


def test_pipeline_table_is_the_iso_56002_process():
    assert list(states.PIPELINE_STAGES) == [*FORWARD, "discontinued"]
    assert set(states.FINAL_STAGES) == FINAL
    assert set(states.STAGE_LABELS) == set(states.PIPELINE_STAGES)


def test_every_stage_pair_is_either_allowed_or_refused():
    assert len(STAGE_ALLOWED) + len(STAGE_REFUSED) == 7 * 7
    # Between the 6 stages of the process both ways (6 x 5), reopening a discontinued
    # idea at any of them (6), and discontinued from the 5 stages not final.
    assert len(STAGE_ALLOWED) == 41


@pytest.mark.parametrize("stage", states.PIPELINE_STAGES)
def test_allowed_next_stages_are_the_other_ones_then_discontinued(idea_with, stage):
    idea = idea_with("accepted", stage=stage)

    expected = [t for s, t in STAGE_ALLOWED if s == stage]
    assert states.allowed_next_stages(idea) == expected
    assert ("discontinued" in expected) == (stage not in FINAL)


@pytest.mark.parametrize(("stage", "target"), STAGE_ALLOWED)
def test_allowed_stage_move_reaches_its_target(idea_with, stage, target):
    idea = idea_with("accepted", stage=stage)

    result = states.apply_stage(idea, target, "Why it moves.")
    db.session.commit()

    assert result == (stage, target)
    stored = _stored(idea)
    assert stored.pipeline_stage == target
    assert stored.decision == "accepted"


@pytest.mark.parametrize(("stage", "target"), STAGE_REFUSED)
def test_refused_stage_move_raises_and_changes_nothing(idea_with, stage, target):
    idea = idea_with("accepted", stage=stage)

    with pytest.raises(InvalidTransition) as raised:
        states.apply_stage(idea, target)

    assert raised.value.field == "stage"
    assert str(raised.value.message) == (
        f"An idea in stage {states.STAGE_LABELS[stage]} cannot move to "
        f"{states.STAGE_LABELS[target]}."
    )
    assert idea.pipeline_stage == stage
    db.session.commit()
    assert _stored(idea).pipeline_stage == stage


@pytest.mark.parametrize("decision", ["none", "shortlisted", "declined"])
def test_ideas_not_accepted_have_no_pipeline(idea_with, decision):
    idea = idea_with(decision)

    assert states.allowed_next_stages(idea) == []
    for target in states.PIPELINE_STAGES:
        with pytest.raises(InvalidTransition):
            states.apply_stage(idea, target)
    db.session.commit()
    assert _stored(idea).pipeline_stage is None


@pytest.mark.parametrize("target", ["", "done", "BACKLOG", "concept "])
def test_unknown_stage_is_refused(idea_with, target):
    idea = idea_with("accepted", stage="backlog")

    with pytest.raises(ValidationFailed) as raised:
        states.apply_stage(idea, target)

    assert str(raised.value.message) == "Unknown stage."
    assert idea.pipeline_stage == "backlog"


def test_stage_moves_follow_allowed_next_stages_step_by_step(idea_with):
    """Walking the whole pipeline one stage at a time ends in `implemented`, final."""
    idea = idea_with("accepted", stage="backlog")

    for target in FORWARD[1:]:
        assert target in states.allowed_next_stages(idea)
        states.apply_stage(idea, target)
    db.session.commit()

    assert _stored(idea).pipeline_stage == "implemented"
    assert states.allowed_next_stages(idea) == FORWARD[:-1]  # back only, with a note


@pytest.mark.parametrize(
    ("stage", "target"), [(s, t) for s, t in STAGE_ALLOWED if _goes_back(s, t)]
)
def test_moving_back_needs_a_public_note(idea_with, stage, target):
    idea = idea_with("accepted", stage=stage)

    with pytest.raises(ValidationFailed) as raised:
        states.apply_stage(idea, target, "  ")

    assert raised.value.field == "note"
    assert idea.pipeline_stage == stage
    assert states.apply_stage(idea, target, "The pilot showed we must test again.") == (
        stage,
        target,
    )


@pytest.mark.parametrize(
    ("stage", "target"), [(s, t) for s, t in STAGE_ALLOWED if not _goes_back(s, t)]
)
def test_moving_forward_needs_no_note(idea_with, stage, target):
    idea = idea_with("accepted", stage=stage)

    assert states.apply_stage(idea, target) == (stage, target)


def test_changing_an_accepted_decision_keeps_every_response_and_the_stage_history(
    idea_with, admin
):
    idea = idea_with("none")
    decisions.decide_idea(admin, idea, "accept", "We will build it.")
    decisions.move_idea_stage(admin, idea, "development", "Building.")
    decisions.decide_idea(admin, idea, "decline", "The budget was withdrawn.")
    db.session.commit()

    stored = _stored(idea)
    assert (stored.decision, stored.pipeline_stage) == ("declined", None)
    assert stored.decision_response == "The budget was withdrawn."
    assert [e.stage for e in stored.pipeline_events] == ["backlog", "development"]
    responses = db.session.scalars(
        select(ModerationAction.reason)
        .where(ModerationAction.idea_id == idea.id, ModerationAction.action.like("decide_%"))
        .order_by(ModerationAction.id)
    ).all()
    assert responses == ["We will build it.", "The budget was withdrawn."]
