"""Benchmark: streaming the export API's CSV and NDJSON at 100,000 accepted ideas.

Reports ideas per second and the peak Python memory (tracemalloc) while streaming,
at a tenth of the size and at the full size: flat memory means the two peaks match.
Usage: python bench/export.py [IDEAS]   (BENCH_DATABASE_URL for PostgreSQL)
"""

import os
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import insert

from engage import create_app
from engage.agencies.models import Agency
from engage.auth.models import User
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.extensions import db
from engage.ideas.models import Idea
from engage.tokens.services import create_token

BATCH = 5_000


def seed(app, ideas: int) -> str:
    with app.app_context():
        upgrade()
        now = now_utc()
        agency = Agency(name="Bench agency", slug="bench")
        authors = [
            User(
                email=f"bench{n}@example.org",
                display_name=f"Bench {n}",
                password_hash="x",
                email_verified_at=now,
            )
            for n in range(100)
        ]
        challenge = Challenge(
            agency=agency,
            slug="bench",
            title="Bench challenge",
            summary="Bench",
            opens_at=now - timedelta(days=30),
            submissions_close_at=now - timedelta(days=9),
            voting_closes_at=now - timedelta(days=1),
            published_at=now,
            idea_count=ideas,
        )
        db.session.add_all([agency, challenge, *authors])
        db.session.commit()
        for start in range(0, ideas, BATCH):
            rows = [
                {
                    "challenge_id": challenge.id,
                    "author_id": authors[n % 100].id,
                    "title": f"Accepted idea {n}",
                    "body": f"An **accepted** idea, number {n}.",
                    "body_html": f"<p>An <strong>accepted</strong> idea, number {n}.</p>",
                    "excerpt": f"An accepted idea, number {n}.",
                    "moderation_state": "published",
                    "published_at": now,
                    "decision": "accepted",
                    "decision_response": "Yes.",
                    "decided_at": now,
                    "pipeline_stage": "backlog",
                    "vote_count": n % 1000,
                    "comment_count": 0,
                    "created_at": now - timedelta(days=2),
                    "updated_at": now - timedelta(days=2, seconds=-n),
                }
                for n in range(start, min(start + BATCH, ideas))
            ]
            db.session.execute(insert(Idea), rows)
            db.session.commit()
        _, value = create_token(None, agency, "bench", ["ideas:read"])
        db.session.commit()
        return value


def stream(client, token: str, output: str, trace: bool) -> tuple[int, float, int]:
    """Stream one export; return (lines, seconds, peak bytes traced or 0)."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get(
        f"/api/v1/ideas?format={output}",
        buffered=False,
        headers={"Authorization": f"Bearer {token}"},
    )
    lines = sum(chunk.count(b"\n") for chunk in response.response)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    response.close()
    return lines, seconds, peak


def main() -> None:
    ideas = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench" * 8,
                "API_RATE_LIMIT": "1000 per second",
                "SERVER_NAME": "bench.test",
            }
        )
        token = seed(app, ideas)
        client = app.test_client()
        print(f"{ideas:,} accepted ideas ({url.split(':')[0]})")
        for output in ("csv", "ndjson"):
            lines, seconds, _ = stream(client, token, output, trace=False)
            print(
                f"{output:7} {lines - (output == 'csv'):>8,} ideas in {seconds:5.1f}s "
                f"= {(lines - 1) / seconds:7,.0f} ideas/s"
            )
        for output in ("csv", "ndjson"):
            _, _, peak = stream(client, token, output, trace=True)
            print(f"{output:7} peak traced memory while streaming: {peak / 2**20:6.1f} MiB")


if __name__ == "__main__":
    main()
