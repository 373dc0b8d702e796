"""JSON representations of the API: never an e-mail address or other personal data."""

from datetime import UTC, datetime

from engage.http import external_url


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


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


CSV_COLUMNS = (
    "id",
    "url",
    "challenge_slug",
    "title",
    "author_display_name",
    "author_account_type",
    "author_organisation",
    "tags",
    "vote_count",
    "comment_count",
    "moderation_state",
    "decision",
    "pipeline_stage",
    "external_ref",
    "risk_flags",
    "created_at",
    "published_at",
    "decided_at",
    "updated_at",
)


def idea_csv_row(idea) -> list:
    data = idea_json(idea)
    return [
        data["id"],
        data["url"],
        data["challenge"]["slug"],
        data["title"],
        data["author"]["display_name"],
        data["author"]["account_type"],
        data["author"]["organisation"] or "",
        " ".join(data["tags"]),
        data["vote_count"],
        data["comment_count"],
        data["moderation_state"],
        data["decision"],
        data["pipeline_stage"] or "",
        data["external_ref"] or "",
        " ".join(r["kind"] for r in data["risk_flags"]),
        data["created_at"],
        data["published_at"] or "",
        data["decided_at"] or "",
        data["updated_at"],
    ]


def challenge_json(challenge, now: datetime) -> dict:
    return {
        "id": challenge.id,
        "slug": challenge.slug,
        "title": challenge.title,
        "summary": challenge.summary,
        "url": external_url("challenges.show", slug=challenge.slug),
        "phase": challenge.phase(now),
        "opens_at": rfc3339(challenge.opens_at),
        "submissions_close_at": rfc3339(challenge.submissions_close_at),
        "voting_closes_at": rfc3339(challenge.voting_closes_at),
        "idea_count": challenge.idea_count,
        "tags": [tag.name for tag in challenge.tags],
    }
