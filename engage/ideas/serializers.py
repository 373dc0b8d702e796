"""The public JSON of an idea, shared by the API and webhook events: never an e-mail
address or other personal data."""

from engage.db import rfc3339
from engage.http import external_url
from engage.webhooks.services import emit


def author_json(user) -> dict:
    return {
        "display_name": user.display_name,
        "account_type": user.account_type,
        "organisation": user.organisation_name if user.is_business else None,
    }


def idea_json(idea) -> dict:
    challenge = idea.challenge
    return {
        "id": idea.id,
        "url": external_url("ideas.show", idea_id=idea.id),
        "challenge": {"id": challenge.id, "slug": challenge.slug, "title": challenge.title},
        "title": idea.title,
        "body_markdown": idea.body,
        "body_html": idea.body_html,
        "tags": [tag.name for tag in idea.tags],
        "author": author_json(idea.author),
        "vote_count": idea.vote_count,
        "comment_count": idea.comment_count,
        "moderation_state": idea.moderation_state,
        "decision": idea.decision,
        "decision_response": idea.decision_response,
        "pipeline_stage": idea.pipeline_stage,
        "external_ref": idea.external_ref,
        "risk_flags": [{"kind": r.kind, "note": r.note} for r in idea.risk_flags],
        "created_at": rfc3339(idea.created_at),
        "published_at": rfc3339(idea.published_at),
        "decided_at": rfc3339(idea.decided_at),
        "updated_at": rfc3339(idea.updated_at),
    }


def idea_detail_json(idea) -> dict:
    return {
        **idea_json(idea),
        "pipeline_history": [
            {
                "stage": e.stage,
                "note": e.note,
                "external_ref": e.external_ref,
                "at": rfc3339(e.created_at),
            }
            for e in idea.pipeline_events
        ],
    }


def emit_idea_event(event_type: str, idea) -> None:
    """Tell the agency's systems about a change of the idea (through the outbox)."""
    emit(idea.challenge.agency_id, event_type, idea_json(idea))
