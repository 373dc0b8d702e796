"""The lifecycles of an idea — moderation, the agency's decision, the pipeline stage —
and of a comment, each a table with the one function that applies it."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from sqlalchemy.sql.expression import ColumnElement

from engage.db import now_utc
from engage.errors import InvalidTransition, ValidationFailed

PENDING = "pending"
PUBLISHED = "published"
REJECTED = "rejected"
CHANGES_REQUESTED = "changes_requested"
HIDDEN = "hidden"
MERGED = "merged"
WITHDRAWN = "withdrawn"
MODERATION_STATES = (PENDING, PUBLISHED, REJECTED, CHANGES_REQUESTED, HIDDEN, MERGED, WITHDRAWN)

STATE_LABELS = {
    PENDING: _l("Waiting for moderation"),
    PUBLISHED: _l("Published"),
    REJECTED: _l("Rejected"),
    CHANGES_REQUESTED: _l("Changes requested"),
    HIDDEN: _l("Hidden"),
    MERGED: _l("Merged"),
    WITHDRAWN: _l("Withdrawn"),
}


@dataclass(frozen=True)
class Transition:
    """From which states an action may start, where it leads, whether it needs a reason
    (or, for a merge, the idea it points to).

    Who may take it is not said here: the permission predicates decide that.
    """

    sources: frozenset
    target: str
    needs_reason: bool = False
    needs_target: bool = False


TRANSITIONS = {
    "publish": Transition(frozenset({PENDING}), PUBLISHED),
    "reject": Transition(frozenset({PENDING}), REJECTED, needs_reason=True),
    "request_changes": Transition(frozenset({PENDING}), CHANGES_REQUESTED, needs_reason=True),
    "resubmit": Transition(frozenset({CHANGES_REQUESTED}), PENDING),
    "hide": Transition(frozenset({PUBLISHED}), HIDDEN, needs_reason=True),
    "restore": Transition(frozenset({HIDDEN}), PUBLISHED),
    "merge": Transition(frozenset({PENDING, PUBLISHED, HIDDEN}), MERGED, needs_target=True),
    "withdraw": Transition(frozenset({PENDING, PUBLISHED, CHANGES_REQUESTED}), WITHDRAWN),
}

# The author may change the text only while nobody has voted on it as published.
EDITABLE_STATES = frozenset({PENDING, CHANGES_REQUESTED})


def enter_initial_state(idea, pre_moderated: bool) -> str:
    """Give a new idea its first state: pending under pre-moderation, else published."""
    target = PENDING if pre_moderated else PUBLISHED
    _enter_state(idea, target)
    return target


def apply_transition(
    idea, action: str, reason: str | None = None, merged_into=None
) -> tuple[str, str]:
    """Move `idea` by `action`; the only code that assigns `moderation_state`.

    A merge points the idea to `merged_into` (which the caller has checked); no other
    action takes one. Keeps the challenge's published-idea counter in step. Raises
    InvalidTransition when the current state does not allow the action, ValidationFailed
    ("reason") when a required reason is missing. Returns (from_state, to_state).
    """
    transition = TRANSITIONS.get(action)
    if transition is None or idea.moderation_state not in transition.sources:
        raise InvalidTransition(
            _l(
                "This idea is %(state)s; that action is not possible now.",
                state=STATE_LABELS.get(idea.moderation_state, idea.moderation_state),
            )
        )
    if transition.needs_reason and not (reason or "").strip():
        raise ValidationFailed(_l("A reason is required for this decision."), "reason")
    if transition.needs_target != (merged_into is not None):
        raise ValueError("A merge, and only a merge, points the idea to another one.")
    source = idea.moderation_state
    # The reason of the latest decision is what the author is shown.
    reason = reason.strip() if transition.needs_reason else None
    _enter_state(idea, transition.target, reason, merged_into)
    return source, transition.target


def _enter_state(idea, target: str, reason: str | None = None, merged_into=None) -> None:
    """Assign a moderation state with its reason (and a merge's target), and keep
    counters and dates consistent with it.

    Everything is read before anything is assigned: a read may load, a load flushes,
    and the database refuses a state without what goes with it (models.Idea).
    """
    was_public = idea.moderation_state == PUBLISHED
    is_public = target == PUBLISHED
    first_publication = is_public and idea.published_at is None
    challenge = idea.challenge if was_public != is_public else None
    update_queue_position(idea, waiting_for_decision=target == PENDING)
    idea.moderation_state = target
    idea.moderation_reason = reason
    if merged_into is not None:
        idea.merged_into = merged_into
    if first_publication:
        idea.published_at = now_utc()
    if challenge is not None:
        # An SQL expression, not Python arithmetic, so concurrent changes add up. One
        # that is not flushed yet is built upon, so that every move in a row counts.
        unflushed = inspect(challenge).attrs.idea_count.loaded_value
        base = unflushed if isinstance(unflushed, ColumnElement) else type(challenge).idea_count
        challenge.idea_count = base + 1 if is_public else base - 1


def update_queue_position(item, waiting_for_decision: bool = False) -> None:
    """Keep an idea or comment in the moderation queue while it waits or has open flags.

    It keeps its place (the time it entered) until nothing is left to decide.
    """
    in_queue = waiting_for_decision or (item.open_flag_count or 0) > 0
    if in_queue and item.queued_at is None:
        item.queued_at = now_utc()
    elif not in_queue:
        item.queued_at = None


# Comments have two states; hiding and restoring them are staff decisions with a reason.
# Hidden is the same state for both kinds: the moderation code reads it on either.
VISIBLE, COMMENT_HIDDEN = "visible", HIDDEN
COMMENT_STATES = (VISIBLE, COMMENT_HIDDEN)
COMMENT_TRANSITIONS = {
    "hide": Transition(frozenset({VISIBLE}), COMMENT_HIDDEN, needs_reason=True),
    "restore": Transition(frozenset({COMMENT_HIDDEN}), VISIBLE),
}


def apply_comment_transition(comment, action: str, reason: str | None = None):
    """Hide or restore a comment; the only code that assigns its `moderation_state`.

    Raises InvalidTransition or ValidationFailed like apply_transition. Returns
    (from_state, to_state).
    """
    transition = COMMENT_TRANSITIONS.get(action)
    source = comment.moderation_state
    if transition is None or source not in transition.sources:
        raise InvalidTransition(_l("This comment cannot be changed that way now."))
    if transition.needs_reason and not (reason or "").strip():
        raise ValidationFailed(_l("A reason is required for this decision."), "reason")
    comment.moderation_state = transition.target
    comment.moderation_reason = reason.strip() if transition.needs_reason else None
    return source, transition.target


# Each kind of reportable item (models.Reportable.kind) moves through its own table.
_APPLY_BY_KIND = {"idea": apply_transition, "comment": apply_comment_transition}


def apply_moderation(item, action: str, reason: str | None = None) -> tuple[str, str]:
    """Move an idea or a comment by a staff decision (hide, restore, …) through the
    table of its kind: TRANSITIONS for an idea, COMMENT_TRANSITIONS for a comment.

    Raises InvalidTransition or ValidationFailed like those tables' functions. Returns
    (from_state, to_state).
    """
    return _APPLY_BY_KIND[item.kind](item, action, reason)


# The agency's decision on a published idea, always with a public response.
NO_DECISION, SHORTLISTED, ACCEPTED, DECLINED = "none", "shortlisted", "accepted", "declined"
DECISIONS = (NO_DECISION, SHORTLISTED, ACCEPTED, DECLINED)
DECISION_LABELS = {
    NO_DECISION: _l("No decision yet"),
    SHORTLISTED: _l("Shortlisted"),
    ACCEPTED: _l("Accepted"),
    DECLINED: _l("Declined"),
}
# A decision can be corrected: an accepted idea can go back to the shortlist or be
# declined, a declined one reconsidered. Each change needs a new public response; the
# audit trail keeps every earlier one.
DECISION_TRANSITIONS = {
    "shortlist": Transition(
        frozenset({NO_DECISION, ACCEPTED, DECLINED}), SHORTLISTED, needs_reason=True
    ),
    "accept": Transition(
        frozenset({NO_DECISION, SHORTLISTED, DECLINED}), ACCEPTED, needs_reason=True
    ),
    "decline": Transition(
        frozenset({NO_DECISION, SHORTLISTED, ACCEPTED}), DECLINED, needs_reason=True
    ),
}

# ISO 56002's innovation process: accepted ideas move forward through these stages,
# or are discontinued from any stage that is not final.
PIPELINE_STAGES = (
    "backlog",
    "concept",
    "validation",
    "development",
    "deployment",
    "implemented",
    "discontinued",
)
FORWARD_STAGES = PIPELINE_STAGES[:-1]
FINAL_STAGES = frozenset({"implemented", "discontinued"})
STAGE_LABELS = {
    "backlog": _l("Backlog"),
    "concept": _l("Concept"),
    "validation": _l("Validation"),
    "development": _l("Development"),
    "deployment": _l("Deployment"),
    "implemented": _l("Implemented"),
    "discontinued": _l("Discontinued"),
}


def apply_decision(idea, action: str, response: str | None) -> tuple[str, str]:
    """Shortlist, accept or decline a published idea; the only code that assigns `decision`.

    Accepting puts the idea in the pipeline's first stage; leaving "accepted" takes it
    out of the pipeline (its stage history stays). Raises InvalidTransition, or
    ValidationFailed ("response") without a response.
    """
    transition = DECISION_TRANSITIONS.get(action)
    if idea.moderation_state != PUBLISHED:
        raise InvalidTransition(_l("Only published ideas can be decided on."))
    if transition is None or idea.decision not in transition.sources:
        raise InvalidTransition(
            _l(
                "This idea is already %(decision)s; that decision is not possible now.",
                decision=DECISION_LABELS.get(idea.decision, idea.decision),
            )
        )
    if transition.needs_reason and not (response or "").strip():
        raise ValidationFailed(_l("Write the public response to this decision."), "response")
    source = idea.decision
    idea.decision = transition.target
    idea.decision_response = (response or "").strip() or None
    idea.decided_at = now_utc()
    idea.pipeline_stage = FORWARD_STAGES[0] if transition.target == ACCEPTED else None
    return source, transition.target


def allowed_next_stages(idea) -> list[str]:
    """The stages an accepted idea may move to. ISO 56002's process is iterative: any
    other stage of the process, later or earlier (a move back needs a public note), and
    discontinued from any stage that is not final."""
    current = idea.pipeline_stage
    if idea.decision != ACCEPTED or current is None:
        return []
    stages = [stage for stage in FORWARD_STAGES if stage != current]
    return stages if current in FINAL_STAGES else [*stages, "discontinued"]


def is_move_back(source: str, target: str) -> bool:
    """Whether going from `source` to `target` goes back in the process (or reopens a
    discontinued idea)."""
    if source == "discontinued":
        return True
    return target in FORWARD_STAGES and FORWARD_STAGES.index(target) < FORWARD_STAGES.index(source)


def apply_stage(idea, stage: str, note: str | None = None) -> tuple[str | None, str]:
    """Move an accepted idea to another pipeline stage; the only code that assigns
    `pipeline_stage` after acceptance. Raises ValidationFailed for an unknown stage or a
    move back without a note, InvalidTransition for any other move."""
    if stage not in PIPELINE_STAGES:
        raise ValidationFailed(_l("Unknown stage."), "stage")
    if idea.pipeline_stage is None:
        raise InvalidTransition(
            _l(
                "This idea is not in the pipeline (only accepted ideas are), so it cannot "
                "move to %(target)s.",
                target=STAGE_LABELS[stage],
            ),
            "stage",
        )
    if stage not in allowed_next_stages(idea):
        raise InvalidTransition(
            _l(
                "An idea in stage %(stage)s cannot move to %(target)s.",
                stage=STAGE_LABELS[idea.pipeline_stage],
                target=STAGE_LABELS[stage],
            ),
            "stage",
        )
    if is_move_back(idea.pipeline_stage, stage) and not (note or "").strip():
        raise ValidationFailed(
            _l(
                "Say in the public note why the idea goes back to %(target)s.",
                target=STAGE_LABELS[stage],
            ),
            "note",
        )
    source = idea.pipeline_stage
    idea.pipeline_stage = stage
    return source, stage
