"""The API's own representations (CSV rows, challenges) beside the idea JSON it shares
with webhook events: never an e-mail address or other personal data."""

from datetime import datetime

from engage.db import rfc3339
from engage.http import external_url
from engage.ideas.serializers import idea_json

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
