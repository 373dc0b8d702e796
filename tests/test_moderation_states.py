"""The comment lifecycle table, walked for every (state, action) pair; the one function
that moves an idea or a comment through its own table; the rules that keep ideas and
comments in the moderation queue."""

from datetime import timedelta

import pytest
from tables import first_source, states_and_actions, transition_table

from engage.db import now_utc
from engage.errors import InvalidTransition, ValidationFailed
from engage.extensions import db
from engage.ideas import services as ideas
from engage.ideas import states
from engage.ideas.models import Comment, Idea

COMMENT_STATES = ("visible", "hidden")
# What each action leads to from each state ("-": refused), written out by hand.
EXPECTED = transition_table("""
         hide    restore
visible  hidden  -
hidden   -       visible
""")
ALLOWED = [pair for pair, target in EXPECTED.items() if target]
REFUSED = [pair for pair, target in EXPECTED.items() if not target]
NEED_REASON = ["hide"]


@pytest.fixture
def make_comment(make_user, make_idea):
    """Make a comment on a published idea, in the given comment state."""

    def make(state: str = states.VISIBLE) -> Comment:
        comment = ideas.add_comment(make_user(), make_idea(), "Nice idea.")
        if state == states.COMMENT_HIDDEN:
            states.apply_comment_transition(comment, "hide", "Rude.")
        db.session.commit()
        return comment

    return make


def _snapshot(comment: Comment) -> tuple:
    return comment.moderation_state, comment.moderation_reason


def _reason_for(action: str) -> str | None:
    return "  Rude words.  " if action in NEED_REASON else None


# --- the comment table ------------------------------------------------------------------


def test_expectations_cover_every_comment_state_and_action():
    assert states_and_actions(EXPECTED) == (
        set(states.COMMENT_STATES),
        set(states.COMMENT_TRANSITIONS),
    )
    assert set(COMMENT_STATES) == set(states.COMMENT_STATES)
    needing = sorted(a for a, t in states.COMMENT_TRANSITIONS.items() if t.needs_reason)
    assert needing == NEED_REASON


@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_allowed_comment_transition_reaches_its_target(make_comment, state, action):
    comment = make_comment(state)
    target = EXPECTED[state, action]

    result = states.apply_comment_transition(comment, action, _reason_for(action))
    db.session.commit()

    assert result == (state, target)
    db.session.expire_all()
    stored = db.session.get(Comment, comment.id)
    assert stored.moderation_state == target
    assert stored.is_hidden is (target == "hidden")


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_refused_comment_transition_raises_and_changes_nothing(make_comment, state, action):
    comment = make_comment(state)
    before = _snapshot(comment)

    with pytest.raises(InvalidTransition) as raised:
        states.apply_comment_transition(comment, action, "A reason, in case one is needed.")

    assert str(raised.value.message) == "This comment cannot be changed that way now."
    assert _snapshot(comment) == before
    db.session.commit()
    db.session.expire_all()
    assert _snapshot(db.session.get(Comment, comment.id)) == before


@pytest.mark.parametrize("state", COMMENT_STATES)
@pytest.mark.parametrize("action", ["publish", "delete", "", "HIDE"])
def test_unknown_comment_action_raises_and_changes_nothing(make_comment, state, action):
    comment = make_comment(state)
    before = _snapshot(comment)

    with pytest.raises(InvalidTransition):
        states.apply_comment_transition(comment, action, "A reason.")

    assert _snapshot(comment) == before


@pytest.mark.parametrize("reason", [None, "", "  \n\t"])
@pytest.mark.parametrize("action", NEED_REASON)
def test_comment_transition_needing_a_reason_refuses_without_one(make_comment, action, reason):
    comment = make_comment(first_source(EXPECTED, action))
    before = _snapshot(comment)

    with pytest.raises(ValidationFailed) as raised:
        states.apply_comment_transition(comment, action, reason)

    assert raised.value.field == "reason"
    assert _snapshot(comment) == before


def test_hiding_stores_the_reason_without_surrounding_spaces(make_comment):
    comment = make_comment(states.VISIBLE)

    states.apply_comment_transition(comment, "hide", "  Rude words.\n")
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(Comment, comment.id).moderation_reason == "Rude words."


def test_restoring_clears_the_hidden_reason(make_comment):
    comment = make_comment(states.COMMENT_HIDDEN)
    assert comment.moderation_reason == "Rude."

    states.apply_comment_transition(comment, "restore", "Ignored: restore needs none.")
    db.session.commit()

    assert (comment.moderation_state, comment.moderation_reason) == ("visible", None)


# --- apply_moderation: each kind through its own table -----------------------------------
# The idea's moves are a hand-picked sample: test_ideas_states.py walks its whole table.
IDEA_MOVES = [
    ("published", "hide", "hidden"),
    ("hidden", "restore", "published"),
    ("pending", "publish", "published"),
    ("pending", "reject", "rejected"),
]
IDEA_ONLY_ACTIONS = ["publish", "reject", "request_changes", "resubmit", "merge", "withdraw"]


@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_apply_moderation_moves_a_comment_by_the_comment_table(make_comment, state, action):
    comment = make_comment(state)

    result = states.apply_moderation(comment, action, _reason_for(action))
    db.session.commit()

    assert result == (state, EXPECTED[state, action])
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).moderation_state == EXPECTED[state, action]


@pytest.mark.parametrize("action", IDEA_ONLY_ACTIONS)
def test_apply_moderation_refuses_an_idea_action_on_a_comment(make_comment, action):
    comment = make_comment(states.VISIBLE)

    with pytest.raises(InvalidTransition) as raised:
        states.apply_moderation(comment, action, "A reason.")

    assert str(raised.value.message) == "This comment cannot be changed that way now."
    assert _snapshot(comment) == ("visible", None)


@pytest.mark.parametrize(("state", "action", "target"), IDEA_MOVES)
def test_apply_moderation_moves_an_idea_by_the_idea_table(make_idea, state, action, target):
    idea = make_idea(state=state)

    result = states.apply_moderation(idea, action, "A reason.")
    db.session.commit()

    assert result == (state, target)
    db.session.expire_all()
    stored = db.session.get(Idea, idea.id)
    assert stored.moderation_state == target
    # The idea table's own bookkeeping ran: the published-idea counter followed.
    assert stored.challenge.idea_count == (1 if target == "published" else 0)


def test_apply_moderation_refuses_what_the_idea_table_refuses(make_idea):
    idea = make_idea(state="published")

    with pytest.raises(InvalidTransition):
        states.apply_moderation(idea, "restore")

    assert idea.moderation_state == "published"


# --- update_queue_position --------------------------------------------------------------


def _transient_idea(**fields) -> Idea:
    return Idea(title="Benches", body="More benches.", **fields)


def test_item_waiting_for_a_decision_enters_the_queue():
    idea = _transient_idea(open_flag_count=0)
    before = now_utc()

    states.update_queue_position(idea, waiting_for_decision=True)

    assert before <= idea.queued_at <= now_utc()


def test_item_keeps_its_place_while_it_waits():
    entered = now_utc() - timedelta(days=3)
    idea = _transient_idea(open_flag_count=0, queued_at=entered)

    states.update_queue_position(idea, waiting_for_decision=True)

    assert idea.queued_at == entered


def test_item_with_open_flags_enters_the_queue():
    idea = _transient_idea(open_flag_count=1)

    states.update_queue_position(idea)

    assert idea.queued_at is not None


def test_flagged_item_keeps_its_place_while_flags_are_open():
    entered = now_utc() - timedelta(hours=5)
    comment = Comment(body="Rude", open_flag_count=2, queued_at=entered)

    states.update_queue_position(comment)

    assert comment.queued_at == entered


def test_item_leaves_the_queue_when_nothing_is_left_to_decide():
    idea = _transient_idea(open_flag_count=0, queued_at=now_utc())

    states.update_queue_position(idea, waiting_for_decision=False)

    assert idea.queued_at is None


def test_item_not_yet_counted_is_treated_as_without_flags():
    idea = _transient_idea(queued_at=now_utc())
    assert idea.open_flag_count is None

    states.update_queue_position(idea)

    assert idea.queued_at is None


def test_item_outside_the_queue_stays_outside():
    comment = Comment(body="Fine", open_flag_count=0)

    states.update_queue_position(comment)

    assert comment.queued_at is None


def test_new_idea_under_pre_moderation_enters_the_queue(make_idea, make_challenge):
    idea = make_idea(make_challenge(moderation_mode="pre"), state="pending")

    assert idea.queued_at is not None


def test_new_idea_under_post_moderation_is_not_queued(make_idea):
    idea = make_idea(state="published")

    assert idea.queued_at is None


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("publish", None),
        ("reject", "No."),
        ("request_changes", "More."),
        ("withdraw", None),
        ("merge", None),
    ],
)
def test_every_way_out_of_pending_leaves_the_queue(make_idea, action, reason):
    idea = make_idea(state="pending")
    merged_into = make_idea(idea.challenge) if action == "merge" else None

    states.apply_transition(idea, action, reason, merged_into)

    assert idea.queued_at is None


def test_resubmitted_idea_enters_the_queue_again_at_the_back(make_idea):
    idea = make_idea(state="changes_requested")
    assert idea.queued_at is None
    before = now_utc()

    states.apply_transition(idea, "resubmit")

    assert idea.queued_at >= before


def test_flagged_idea_stays_queued_when_hidden(make_idea):
    idea = make_idea(state="published")
    entered = now_utc() - timedelta(hours=1)
    idea.open_flag_count, idea.queued_at = 2, entered

    states.apply_transition(idea, "hide", "Reported.")

    assert idea.queued_at == entered


def test_flagged_idea_stays_queued_when_restored(make_idea):
    idea = make_idea(state="hidden")
    entered = now_utc() - timedelta(hours=1)
    idea.open_flag_count, idea.queued_at = 1, entered

    states.apply_transition(idea, "restore")

    assert idea.queued_at == entered
