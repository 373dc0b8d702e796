"""Benchmark: requests per second of the search page at 100,000 ideas, next to the
challenge page of the same challenge.

Seeds a throw-away database with bench/idea_list.py's seed (SQLite in a temporary
folder, or BENCH_DATABASE_URL for PostgreSQL): the database's triggers index every idea
as it goes in. Then serves the pages in-process through the WSGI test client, as a
visitor (the challenge page comes from the page cache; search pages are not cached).
Usage: python bench/search.py [IDEAS]
"""

import os
import sys
import tempfile
import time

from idea_list import baseline, rate, seed

from engage import create_app
from engage.extensions import db


def settle(app) -> None:
    """What autovacuum does after a bulk load on PostgreSQL: without statistics the
    planner walks the idea list's index instead of the GIN index, and the GIN index's
    pending list is merged."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()


def main() -> None:
    ideas = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench" * 8})
        started = time.perf_counter()
        slug = seed(app, ideas)
        settle(app)
        engine = url.split(":")[0]
        elapsed = time.perf_counter() - started
        print(f"seeded and indexed {ideas:,} ideas in {elapsed:.1f}s ({engine})")
        visitor = app.test_client()
        rare = f"{ideas // 2}"  # in one idea's title and body ("number 50000")
        print(f"minimal Flask page:                       {baseline():8.0f} req/s")
        for label, path in [
            ("challenge page, most votes", f"/challenges/{slug}"),
            ("search, one matching idea", f"/search?q={rare}"),
            ("search, one matching idea, in challenge", f"/search?q={rare}&challenge={slug}"),
            ("search, two words, one idea", f"/search?q=number+{rare}"),
            ("search, every idea matches", "/search?q=bench"),
            ("search, every idea matches, page 50", "/search?q=bench&page=50"),
            ("search, no match", "/search?q=nothingmatches"),
        ]:
            print(f"{label + ':':41} {rate(visitor, path):8.0f} req/s")


if __name__ == "__main__":
    main()
