"""Benchmark: requests per second of a challenge's idea list at 100,000 ideas.

Seeds a throw-away database (SQLite in a temporary folder, or BENCH_DATABASE_URL),
then serves the challenge page in-process through the WSGI test client, beside a
minimal Flask page as the machine's baseline. Usage: python bench/idea_list.py [IDEAS]
"""

import os
import sys
import tempfile
import time
from datetime import timedelta

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert

from engage import create_app
from engage.agencies.models import Agency
from engage.auth.models import User
from engage.auth.sessions import start_session
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.extensions import db
from engage.ideas.models import Idea

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
            opens_at=now - timedelta(days=1),
            submissions_close_at=now + timedelta(days=9),
            voting_closes_at=now + timedelta(days=19),
            published_at=now,
            idea_count=ideas,
        )
        db.session.add_all([agency, challenge, *authors])
        db.session.commit()
        author_ids = [a.id for a in authors]
        for start in range(0, ideas, BATCH):
            rows = [
                {
                    "challenge_id": challenge.id,
                    "author_id": author_ids[n % 100],
                    "title": f"Idea number {n}",
                    "body": f"A **bench** idea, number {n}. " * 5,
                    "excerpt": f"A bench idea, number {n}.",
                    "moderation_state": "published",
                    "published_at": now - timedelta(seconds=n),
                    "decision": "none",
                    "vote_count": (n * 7919) % 1000,
                    "comment_count": n % 13,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(start, min(start + BATCH, ideas))
            ]
            db.session.execute(insert(Idea), rows)
            db.session.commit()
        return challenge.slug


def rate(client, path: str, seconds: float = 3.0) -> float:
    client.get(path)  # warm up caches and templates
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        count += 1
    return count / (time.perf_counter() - start)


def baseline() -> float:
    app = Flask("baseline")
    app.add_url_rule("/", "index", lambda: "Hello")
    return rate(app.test_client(), "/")


def main() -> None:
    ideas = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench" * 8})
        started = time.perf_counter()
        slug = seed(app, ideas)
        engine = url.split(":")[0]
        print(f"seeded {ideas:,} ideas in {time.perf_counter() - started:.1f}s ({engine})")
        visitor = app.test_client()
        member = app.test_client()
        with app.app_context(), member.session_transaction() as session:
            person = db.session.get(User, 1)
            start_session(person, remember=False)
            db.session.commit()
            session["_user_id"] = person.get_id()
        print(f"minimal Flask page:                  {baseline():8.0f} req/s")
        for label, path in [
            ("idea list, most votes", f"/challenges/{slug}"),
            ("idea list, newest", f"/challenges/{slug}?sort=newest"),
            ("idea list, page 2,500", f"/challenges/{slug}?sort=votes&page=2500"),
        ]:
            print(f"{label + ', visitor:':36} {rate(visitor, path):8.0f} req/s")
            print(f"{label + ', signed in:':36} {rate(member, path):8.0f} req/s")


if __name__ == "__main__":
    main()
