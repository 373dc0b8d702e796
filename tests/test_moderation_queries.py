"""The moderation pages run a small, constant number of SQL queries however much waits."""

import itertools
import re
from datetime import timedelta

import pytest

from engage.auth.models import User
from engage.db import now_utc
from engage.extensions import db
from engage.ideas import services as ideas
from engage.ideas import states
from engage.ideas.models import Idea
from engage.moderation import services
from engage.text import render_markdown

MAX_QUERIES = 20
_numbers = itertools.count(1)


def make_people(count: int) -> list[User]:
    """Distinct verified people who never sign in (no costly password hashing)."""
    people = []
    for _ in range(count):
        number = next(_numbers)
        business = number % 2 == 0
        people.append(
            User(
                email=f"someone{number}@example.org",
                display_name=f"Someone {number}",
                password_hash="!",
                email_verified_at=now_utc(),
                account_type="business" if business else "citizen",
                organisation_name=f"Firm {number}" if business else None,
            )
        )
    db.session.add_all(people)
    db.session.commit()
    return people


def count_queries(app, client, query_counter, url: str) -> tuple[int, str]:
    """Count the queries of one GET, as a real request would run them.

    A fresh application context gives the request an empty session (no object already
    loaded by the test) and fresh `g` (the signed-in person is loaded again).
    """
    with app.app_context(), query_counter() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count, response.get_data(as_text=True)


def _rows(page: str) -> int:
    return len(re.findall(r'<li class="queue-row', page))


@pytest.fixture
def moderator(app, make_user, make_agency, make_challenge, make_idea, make_vote, auth):
    app.config["FLAG_HIDE_THRESHOLD"] = 3
    person = make_user("moderator@example.org")
    auth.login("moderator@example.org")
    return person


@pytest.fixture
def queue_of(moderator, make_agency, make_challenge, make_idea):
    """Make agency `slug` whose queue holds `pending` ideas waiting for a decision,
    `flagged_ideas` reported ideas with risks, and `flagged_comments` reported comments,
    each by another person, spread over two challenges."""

    def make(slug: str, *, pending: int, flagged_ideas: int, flagged_comments: int):
        agency = make_agency(slug, members=[(moderator, "moderator")])
        challenges = [
            make_challenge("open", agency=agency, moderation_mode="pre") for _ in range(2)
        ]
        authors = make_people(pending + flagged_ideas + flagged_comments)
        reporters = make_people(2)
        now = now_utc()
        for number in range(pending):
            idea = Idea(
                challenge=challenges[number % 2],
                author=authors[number],
                title=f"Shade trees on street number {number}",
            )
            body = f"**Plant** trees on street {number}, see https://example.org"
            idea.set_body(body, str(render_markdown(body)))
            states.enter_initial_state(idea, pre_moderated=True)
            idea.queued_at = now - timedelta(minutes=number)
            db.session.add(idea)
        db.session.commit()
        discussed = make_idea(challenges[0], title="Benches along the river")
        for number in range(flagged_ideas):
            idea = make_idea(
                challenges[1],
                author=authors[pending + number],
                title=f"Fountains in square {number}",
            )
            services.set_risk_flag(moderator, idea, "privacy", "Names a neighbour.")
            services.set_risk_flag(moderator, idea, "safety", "Busy road.")
            for reporter in reporters:
                services.flag_content(reporter, idea, "other", "Copied from an advert.")
            # Older than every pending idea, so that the page shows every kind of row.
            idea.queued_at = now - timedelta(days=2, minutes=number)
        for number in range(flagged_comments):
            comment = ideas.add_comment(
                authors[pending + flagged_ideas + number],
                discussed,
                f"Buy *cheap* watches, offer {number}",
            )
            services.flag_content(reporters[number % 2], comment, "spam")
            comment.queued_at = now - timedelta(days=1, minutes=number)
        db.session.commit()
        return agency

    return make


def test_queue_query_count_does_not_grow_with_the_queue(app, client, query_counter, queue_of):
    queue_of("small", pending=10, flagged_ideas=1, flagged_comments=3)
    queue_of("large", pending=200, flagged_ideas=5, flagged_comments=20)

    small, small_page = count_queries(app, client, query_counter, "/agencies/small/moderation")
    large, large_page = count_queries(app, client, query_counter, "/agencies/large/moderation")

    assert _rows(small_page) == 14
    assert _rows(large_page) == 200
    assert large_page.count('<span class="tag">Privacy</span>') == 5
    assert large_page.count("Spam or advertising") == 20
    assert 'class="similar-list"' in large_page
    assert large == small
    assert large <= MAX_QUERIES


@pytest.mark.parametrize(
    "query", ["kind=pending", "kind=flagged_ideas", "kind=flagged_comments", "challenge=first"]
)
def test_filtered_queue_query_count_does_not_grow_with_the_queue(
    app, client, query_counter, queue_of, query
):
    agencies = {
        "small": queue_of("small", pending=10, flagged_ideas=1, flagged_comments=3),
        "large": queue_of("large", pending=200, flagged_ideas=5, flagged_comments=20),
    }
    counts = {}
    for slug, agency in agencies.items():
        first = min(challenge.id for challenge in _challenges_of(agency.id))
        url = f"/agencies/{slug}/moderation?" + query.replace("first", str(first))
        counts[slug], _ = count_queries(app, client, query_counter, url)

    assert counts["large"] == counts["small"]
    assert counts["large"] <= MAX_QUERIES


def _challenges_of(agency_id: int):
    from engage.challenges.models import Challenge

    return db.session.scalars(db.select(Challenge).where(Challenge.agency_id == agency_id))


def test_idea_file_query_count_does_not_grow_with_comments_and_history(
    app, client, query_counter, moderator, make_agency, make_challenge, make_idea
):
    agency = make_agency("city", members=[(moderator, "moderator")])
    challenge = make_challenge("open", agency=agency)
    quiet, busy = make_idea(challenge, title="Quiet idea"), make_idea(challenge, title="Busy")
    for idea, count in ((quiet, 1), (busy, 30)):
        for commenter in make_people(count):
            comment = ideas.add_comment(commenter, idea, "Rude *words*")
            services.moderate_comment(moderator, comment, "hide", "Rude.")
        for reporter in make_people(min(count, 2)):
            services.flag_content(reporter, idea, "spam")
    db.session.commit()

    quiet_count, _ = count_queries(app, client, query_counter, f"/moderation/ideas/{quiet.id}")
    busy_count, page = count_queries(app, client, query_counter, f"/moderation/ideas/{busy.id}")

    assert page.count('class="comment"') == 30
    assert busy_count == quiet_count
    assert busy_count <= MAX_QUERIES
