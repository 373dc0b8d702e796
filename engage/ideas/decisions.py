"""The agency's answer to an idea: decide on it, then move it through the pipeline.

Both lock the idea's row first (so simultaneous requests give one change, one e-mail
and one event), go through ideas.states, write the audit trail, tell the people who
care by e-mail, write a webhook event to the outbox, and flush; the caller commits.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from engage import mail
from engage.audit import record_action
from engage.auth.models import User
from engage.db import lock
from engage.errors import InvalidTransition, ValidationFailed
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Idea, PipelineEvent, Vote
from engage.ideas.permissions import DECISIONS_CLOSED
from engage.ideas.serializers import emit_idea_event
from engage.text import render_written

RESPONSE_MAX = 5000
NOTE_MAX = 2000
EXTERNAL_REF_MAX = 120


def decide_idea(actor, idea: Idea, action: str, response: str) -> None:
    """Shortlist, accept or decline a published idea with a public response.

    The author and the voters who asked for it are e-mailed; accepting puts the idea
    in the backlog. Who may (the agency's admins: ideas.permissions.can_decide_idea) is
    the caller's to check; the challenge's phase is checked here. Raises
    InvalidTransition, ValidationFailed.
    """
    if not idea.challenge.rules().decide:
        raise InvalidTransition(DECISIONS_CLOSED)
    if len(response or "") > RESPONSE_MAX:
        raise ValidationFailed(_l("Use at most %(max)d characters.", max=RESPONSE_MAX), "response")
    response_html = render_written(response, "response") if response else ""
    lock(idea)
    source, target = states.apply_decision(idea, action, response)
    idea.decision_response_html = response_html
    if target == states.ACCEPTED:
        idea.pipeline_events.append(
            PipelineEvent(
                stage=idea.pipeline_stage,
                note=idea.decision_response,
                note_html=response_html,
                actor_id=actor.id,
            )
        )
    record_action(
        actor,
        idea.challenge.agency_id,
        f"decide_{action}",
        idea=idea,
        from_state=source,
        to_state=target,
        reason=idea.decision_response,
    )
    db.session.flush()
    emit_idea_event("idea.accepted" if target == states.ACCEPTED else "idea.updated", idea)
    for person in _people_to_tell(idea):
        mail.send_to_user(person, "idea_decided", idea=idea, is_author=person.id == idea.author_id)
    db.session.flush()


def _people_to_tell(idea: Idea) -> list[User]:
    """The author, and every voter who opted in to decision e-mails (one query)."""
    voters = db.session.scalars(
        select(User)
        .join(Vote, Vote.voter_id == User.id)
        .where(
            Vote.idea_id == idea.id,
            User.email_on_decisions.is_(True),
            User.id != idea.author_id,
            User.suspended_at.is_(None),
        )
    ).all()
    return [idea.author, *voters]


def move_idea_stage(
    actor,
    idea: Idea,
    stage: str,
    note: str | None = None,
    external_ref: str | None = None,
) -> PipelineEvent:
    """Move an accepted idea to another stage (back with a note, or discontinue it).

    `actor` is the agency's admin, or None for an agency system through the API; who
    may is the caller's to check (the workspace's admin pages, the API's token scope).
    The author is e-mailed. Raises InvalidTransition, ValidationFailed.
    """
    note = (note or "").strip()
    external_ref = (external_ref or "").strip() or None
    if len(note) > NOTE_MAX:
        raise ValidationFailed(_l("Use at most %(max)d characters.", max=NOTE_MAX), "note")
    if external_ref and len(external_ref) > EXTERNAL_REF_MAX:
        raise ValidationFailed(
            _l("Use at most %(max)d characters.", max=EXTERNAL_REF_MAX), "external_ref"
        )
    note_html = render_written(note, "note") if note else ""
    lock(idea)
    source, target = states.apply_stage(idea, stage, note)
    if external_ref:
        idea.external_ref = external_ref
    event = PipelineEvent(
        stage=target,
        note=note,
        note_html=note_html,
        external_ref=external_ref,
        actor_id=actor.id if actor else None,
    )
    idea.pipeline_events.append(event)
    record_action(
        actor,
        idea.challenge.agency_id,
        "stage",
        idea=idea,
        from_state=source,
        to_state=target,
        reason=note or None,
    )
    db.session.flush()
    emit_idea_event("idea.pipeline_changed", idea)
    mail.send_to_user(idea.author, "idea_stage", idea=idea, event=event)
    db.session.flush()
    return event
