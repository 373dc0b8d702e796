"""Moderation use cases: decide on ideas and comments, merge, flags, risk flags.

Every staff change locks the rows it changes first (so simultaneous requests give one
transition, one record and one e-mail), goes through the state machines of ideas.states,
writes one append-only ModerationAction, queues the author's e-mail, and flushes; the
caller commits. Who may moderate (the agency's staff: moderation.permissions) is the
caller's to check; a report is checked here, as its reporter is a party to it.
"""

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from engage import mail
from engage.audit import record_action
from engage.challenges.models import Challenge
from engage.db import insert_for, lock, now_utc
from engage.errors import InvalidTransition, ValidationFailed
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Comment, Idea, Reportable, Vote
from engage.ideas.serializers import emit_idea_event
from engage.moderation.models import FLAG_REASONS, RISK_KINDS, Flag, RiskFlag
from engage.moderation.permissions import (
    can_flag,
)
from engage.permissions import require

IDEA_DECISIONS = ("publish", "reject", "request_changes", "hide", "restore")
BULK_DECISIONS = ("publish", "reject")
REASON_MAX = 2000
FLAG_DETAILS_MAX = 500
RISK_NOTE_MAX = 2000


def _clean_reason(reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise ValidationFailed(_l("Use at most %(max)d characters.", max=REASON_MAX), "reason")
    return reason


def _resolve_open_flags(item: Reportable) -> None:
    db.session.execute(
        update(Flag)
        .where(Flag.column_for(item.kind) == item.id, Flag.resolved_at.is_(None))
        .values(resolved_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    item.open_flag_count = 0


def _tell_author(item: Reportable, action: str, reason: str | None) -> None:
    """E-mail the author a staff decision on their idea or comment."""
    mail.send_to_user(
        item.author, f"{item.kind}_moderated", **{item.kind: item}, action=action, reason=reason
    )


def _moderate(actor, item: Reportable, action: str, reason: str | None) -> None:
    """Move an idea or a comment by a staff decision, record it, e-mail its author.

    Hiding upholds its open reports and restoring dismisses them; both close them and
    take the item out of the queue.
    """
    lock(item)
    source, target = states.apply_moderation(item, action, reason)
    if action in ("hide", "restore"):  # either way, the reports are decided on
        _resolve_open_flags(item)
    states.update_queue_position(item, waiting_for_decision=target == states.PENDING)
    record_action(
        actor,
        item.agency_id,
        f"{item.audit_prefix}{action}",
        **item.subjects,
        from_state=source,
        to_state=target,
        reason=reason,
    )
    _tell_author(item, action, reason)
    db.session.flush()


def moderate_idea(actor, idea: Idea, action: str, reason: str | None = None) -> None:
    """Publish, reject, request changes to, hide or restore an idea.

    Hiding upholds its open reports and restoring dismisses them; both close them and
    take the idea out of the queue. The author is e-mailed.
    Raises InvalidTransition (illegal move), ValidationFailed (missing or
    too long a reason).
    """
    if action not in IDEA_DECISIONS:
        raise InvalidTransition(_l("Unknown decision."))
    _moderate(actor, idea, action, _clean_reason(reason))
    _tell_agency_systems(idea)


def bulk_moderate(actor, agency, idea_ids: list[int], action: str, reason: str | None):
    """Apply one decision with one reason to several ideas of one agency.

    Returns (done, skipped): ideas of other agencies or in another state are skipped.
    """
    if action not in BULK_DECISIONS:
        raise InvalidTransition(_l("Only publish and reject can be applied to a selection."))
    ideas = db.session.scalars(
        select(Idea)
        .join(Challenge)
        .where(Idea.id.in_(idea_ids), Challenge.agency_id == agency.id)
        .order_by(Idea.id)
    ).all()
    done = 0
    for idea in ideas:
        try:
            with db.session.begin_nested():
                moderate_idea(actor, idea, action, reason)
            done += 1
        except InvalidTransition:  # in another state by now: skipped
            pass
    return done, len(set(idea_ids)) - done


def merge_idea(actor, duplicate: Idea, target: Idea, reason: str | None = None) -> None:
    """Merge a duplicate into a published idea of the same challenge.

    Votes move to the target without counting anyone twice; the duplicate stays
    readable with its comments and a pointer to the target; its author is e-mailed.
    Raises ValidationFailed (wrong target), InvalidTransition.
    """
    reason = _clean_reason(reason)
    if target.id == duplicate.id or target.challenge_id != duplicate.challenge_id:
        raise ValidationFailed(_l("Choose another idea of the same challenge."), "target_id")
    for idea in sorted((duplicate, target), key=lambda each: each.id):  # one lock order
        lock(idea)
    if not target.is_published:
        raise ValidationFailed(_l("Ideas can only be merged into a published idea."), "target_id")
    source, to_state = states.apply_transition(duplicate, "merge", merged_into=target)
    _move_votes(duplicate, target)
    _resolve_open_flags(duplicate)
    states.update_queue_position(duplicate)
    agency_id = duplicate.challenge.agency_id
    record_action(
        actor,
        agency_id,
        "merge",
        idea=duplicate,
        from_state=source,
        to_state=to_state,
        reason=reason or f"→ #{target.id}",
    )
    record_action(actor, agency_id, "merge_into", idea=target, reason=f"← #{duplicate.id}")
    mail.send_to_user(
        duplicate.author, "idea_merged", idea=duplicate, target=target, reason=reason
    )
    db.session.flush()
    _tell_agency_systems(duplicate)
    _tell_agency_systems(target)


def _move_votes(duplicate: Idea, target: Idea) -> None:
    """Give the target every voter of the duplicate who has not voted for it already."""
    theirs = aliased(Vote)
    movable = select(literal(target.id), Vote.voter_id, Vote.challenge_id, Vote.created_at).where(
        Vote.idea_id == duplicate.id,
        ~exists().where(theirs.idea_id == target.id, theirs.voter_id == Vote.voter_id),
    )
    db.session.execute(
        insert_for(db.session, Vote)
        .from_select(["idea_id", "voter_id", "challenge_id", "created_at"], movable)
        .on_conflict_do_nothing()
    )
    db.session.execute(Vote.__table__.delete().where(Vote.idea_id == duplicate.id))
    for idea in (target, duplicate):
        count = select(func.count(Vote.id)).where(Vote.idea_id == idea.id).scalar_subquery()
        db.session.execute(
            update(Idea)
            .where(Idea.id == idea.id)
            .values(vote_count=count)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(idea, ["vote_count"])


def _tell_agency_systems(idea: Idea) -> None:
    """Ideas the agency has decided on live in its systems too: send them the change."""
    if idea.decision != states.NO_DECISION:
        emit_idea_event("idea.updated", idea)


def moderate_comment(actor, comment: Comment, action: str, reason: str | None = None) -> None:
    """Hide (reason required; closes open flags) or restore a comment; e-mail its author."""
    _moderate(actor, comment, action, _clean_reason(reason))


# The staff decision of each kind, with its own rules: ideas have a list of decisions,
# and the agency's systems hear of a change to one.
_MODERATE_BY_KIND = {"idea": moderate_idea, "comment": moderate_comment}


def flag_content(reporter, item: Reportable, reason: str, details: str | None = None) -> Flag:
    """Report an idea or comment once. At the site's threshold of distinct reporters the
    item is hidden until a moderator reviews it.

    Raises NotPermitted, ValidationFailed (bad reason, missing details, already reported).
    """
    if reason not in FLAG_REASONS:
        raise ValidationFailed(_l("Choose a reason from the list."), "reason")
    details = (details or "").strip() or None
    if reason == "other" and not details:
        raise ValidationFailed(_l("Tell us what is wrong."), "details")
    if details and len(details) > FLAG_DETAILS_MAX:
        raise ValidationFailed(
            _l("Use at most %(max)d characters.", max=FLAG_DETAILS_MAX), "details"
        )
    # Reports of one item take turns, so the threshold hides it exactly once.
    lock(item)
    require(can_flag(reporter, item))
    flag = Flag(
        reporter_id=reporter.id,
        reason=reason,
        details=details,
        **{Flag.column_for(item.kind).key: item.id},
    )
    try:
        with db.session.begin_nested():
            db.session.add(flag)
    except IntegrityError:
        raise ValidationFailed(_l("You have already reported this.")) from None
    model = type(item)
    db.session.execute(
        update(model)
        .where(model.id == item.id)
        .values(open_flag_count=model.open_flag_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(item, ["open_flag_count"])
    states.update_queue_position(item, waiting_for_decision=False)
    if item.open_flag_count >= current_app.config["FLAG_HIDE_THRESHOLD"]:
        _hide_pending_review(item)
    db.session.flush()
    return flag


def _hide_pending_review(item: Reportable) -> None:
    if not item.is_visible:
        return
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        reason = gettext(
            "Hidden automatically after several reports, until a moderator reviews it."
        )
    source, target = states.apply_moderation(item, "hide", reason)
    record_action(
        None,
        item.agency_id,
        "auto_hide",
        **item.subjects,
        from_state=source,
        to_state=target,
        reason=reason,
    )


def _decision_on_reports(actor, item: Reportable, reason: str | None) -> str:
    """Check a decision on an item's open reports: a reason, and reports to decide."""
    reason = _clean_reason(reason)
    if not reason:
        raise ValidationFailed(_l("A reason is required for this decision."), "reason")
    lock(item)
    if not item.open_flag_count:
        raise InvalidTransition(_l("There are no open reports to decide on."))
    return reason


def dismiss_flags(actor, item: Reportable, reason: str | None) -> None:
    """Close an item's open reports as unfounded; content hidden by them comes back.

    The author is e-mailed. Raises ValidationFailed (no reason),
    InvalidTransition (no open reports).
    """
    reason = _decision_on_reports(actor, item, reason)
    _resolve_open_flags(item)
    source = item.moderation_state
    if item.is_hidden:
        states.apply_moderation(item, "restore")
    target = item.moderation_state
    states.update_queue_position(item, waiting_for_decision=target == states.PENDING)
    record_action(
        actor,
        item.agency_id,
        "dismiss_flags",
        **item.subjects,
        from_state=source,
        to_state=target,
        reason=reason,
    )
    mail.send_to_user(
        item.author, "flags_dismissed", **item.subjects, restored=source != target, reason=reason
    )
    db.session.flush()


def uphold_flags(actor, item: Reportable, reason: str | None) -> None:
    """Agree with an item's open reports: it is hidden (or stays hidden) and they close.

    The author is e-mailed. Raises ValidationFailed (no reason),
    InvalidTransition (no open reports).
    """
    reason = _decision_on_reports(actor, item, reason)
    if item.is_visible:
        _MODERATE_BY_KIND[item.kind](actor, item, "hide", reason)
        return
    state = item.moderation_state
    _resolve_open_flags(item)
    item.moderation_reason = reason  # the author is shown why it stays hidden
    states.update_queue_position(item)
    record_action(
        actor,
        item.agency_id,
        "uphold_flags",
        **item.subjects,
        from_state=state,
        to_state=state,
        reason=reason,
    )
    _tell_author(item, "hide", reason)
    db.session.flush()


def set_risk_flag(actor, idea: Idea, kind: str, note: str) -> RiskFlag:
    """Mark (or re-describe) a risk of an idea. Raises ValidationFailed."""
    if kind not in RISK_KINDS:
        raise ValidationFailed(_l("Choose a kind of risk from the list."), "kind")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_l("Describe the risk."), "note")
    if len(note) > RISK_NOTE_MAX:
        raise ValidationFailed(_l("Use at most %(max)d characters.", max=RISK_NOTE_MAX), "note")
    lock(idea)
    risk = next((r for r in idea.risk_flags if r.kind == kind), None)
    if risk is not None and risk.note == note:
        return risk  # already said: nothing new for the history
    if risk is None:
        risk = RiskFlag(kind=kind, note=note, set_by_id=actor.id)
        idea.risk_flags.append(risk)
    else:
        risk.note, risk.set_by_id = note, actor.id
    record_action(
        actor, idea.challenge.agency_id, "risk_set", idea=idea, to_state=kind, reason=note
    )
    db.session.flush()
    return risk


def clear_risk_flag(actor, idea: Idea, kind: str) -> None:
    """Remove a risk flag. Raises InvalidTransition if it is not set."""
    lock(idea)
    risk = next((r for r in idea.risk_flags if r.kind == kind), None)
    if risk is None:
        raise InvalidTransition(_l("This risk is not marked on the idea."))
    idea.risk_flags.remove(risk)
    record_action(
        actor,
        idea.challenge.agency_id,
        "risk_cleared",
        idea=idea,
        from_state=kind,
        reason=risk.note,
    )
    db.session.flush()


def set_moderation_target(actor, agency, hours: int) -> None:
    """Set how many hours an item may wait before it counts as overdue."""
    if not 1 <= hours <= 24 * 30:
        raise ValidationFailed(_l("Choose between 1 and 720 hours."), "hours")
    agency.moderation_target_hours = hours
    db.session.flush()
