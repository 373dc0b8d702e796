"""The public pages run a small, constant number of SQL queries however much they show."""

import itertools

import pytest

from engage.auth.models import User
from engage.challenges.tags import resolve_tags
from engage.db import now_utc
from engage.extensions import db
from engage.ideas.services import add_comment, cast_vote

MAX_QUERIES = 12
_numbers = itertools.count(1)


def make_people(count: int) -> list[User]:
    """Distinct verified people who never sign in (no costly password hashing)."""
    people = []
    for _ in range(count):
        number = next(_numbers)
        people.append(
            User(
                email=f"someone{number}@example.org",
                display_name=f"Someone {number}",
                password_hash="!",
                email_verified_at=now_utc(),
                account_type="business" if number % 2 else "citizen",
                organisation_name=f"Firm {number}" if number % 2 else None,
            )
        )
    db.session.add_all(people)
    db.session.commit()
    return people


def count_queries(app, client, query_counter, url: str) -> int:
    """Count the queries of one GET, as a real request would run them.

    A fresh application context gives the request an empty session (no object already
    loaded by the test) and fresh `g` (the signed-in person is loaded again).
    """
    with app.app_context(), query_counter() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


@pytest.fixture
def voter(make_user, auth):
    person = make_user("voter@example.org")
    auth.login("voter@example.org")
    return person


@pytest.fixture
def challenge_with_ideas(make_challenge, make_idea, voter):
    """Make a challenge holding `count` ideas, each with its own author, tags, comments
    and votes; the signed-in voter voted for every other one."""

    def make(count: int, slug: str):
        challenge = make_challenge("open", slug=slug, tags=["city", "green"])
        authors = make_people(count)
        commenters = make_people(2)
        for number, author in enumerate(authors):
            idea = make_idea(
                challenge,
                author=author,
                title=f"Idea {number}",
                body=f"**Idea** number {number}, see https://example.org",
                tags=_tags(f"topic-{number}", "shared"),
            )
            for commenter in commenters:
                add_comment(commenter, idea, f"I agree with idea {number}.")
            cast_vote(commenters[0], idea)
            if number % 2:
                cast_vote(voter, idea)
            db.session.commit()
        return challenge

    return make


def _tags(*names):
    return resolve_tags(list(names))


def test_challenge_page_query_count_does_not_grow_with_ideas(
    app, client, query_counter, challenge_with_ideas
):
    challenge_with_ideas(5, "five")
    challenge_with_ideas(20, "twenty")

    five = count_queries(app, client, query_counter, "/challenges/five")
    twenty = count_queries(app, client, query_counter, "/challenges/twenty")

    assert five == twenty
    assert twenty <= MAX_QUERIES


@pytest.mark.parametrize("sort", ["votes", "newest", "discussed"])
def test_challenge_page_query_count_is_the_same_for_every_sort(
    app, client, query_counter, challenge_with_ideas, sort
):
    challenge_with_ideas(20, "twenty")

    default = count_queries(app, client, query_counter, "/challenges/twenty")
    sorted_ = count_queries(app, client, query_counter, f"/challenges/twenty?sort={sort}")

    assert sorted_ == default


def test_challenge_page_shows_what_was_counted(app, client, challenge_with_ideas):
    challenge_with_ideas(20, "twenty")

    with app.app_context():
        page = client.get("/challenges/twenty").get_data(as_text=True)

    assert page.count('class="idea-row"') == 20
    assert page.count("You voted for this idea.") == 10
    assert "topic-7" in page and "Firm" in page and "2 comments" in page


def test_visitor_challenge_page_query_count_does_not_grow_with_ideas(
    app, client, auth, query_counter, challenge_with_ideas
):
    challenge_with_ideas(5, "five")
    challenge_with_ideas(20, "twenty")
    auth.logout()

    five = count_queries(app, client, query_counter, "/challenges/five")
    twenty = count_queries(app, client, query_counter, "/challenges/twenty")

    assert five == twenty
    assert twenty <= MAX_QUERIES


@pytest.fixture
def idea_with_comments(make_challenge, make_idea, voter):
    """Make a published idea with `count` comments, each by a different person."""

    def make(count: int):
        challenge = make_challenge("open", tags=["city"])
        idea = make_idea(challenge, author=make_people(1)[0], tags=_tags("water", "parks"))
        for commenter in make_people(count):
            add_comment(commenter, idea, f"Comment by {commenter.display_name}, *agreed*.")
        cast_vote(voter, idea)
        db.session.commit()
        return idea.id

    return make


def test_idea_page_query_count_does_not_grow_with_comments(
    app, client, query_counter, idea_with_comments
):
    few = idea_with_comments(3)
    many = idea_with_comments(30)

    few_count = count_queries(app, client, query_counter, f"/ideas/{few}")
    many_count = count_queries(app, client, query_counter, f"/ideas/{many}")

    assert few_count == many_count
    assert many_count <= MAX_QUERIES


def test_idea_page_shows_what_was_counted(app, client, idea_with_comments):
    idea_id = idea_with_comments(30)

    with app.app_context():
        page = client.get(f"/ideas/{idea_id}").get_data(as_text=True)

    assert page.count('class="comment"') == 30
    assert "30 comments" in page
    assert "You voted for this idea." in page


@pytest.mark.parametrize(
    "filters", ["outcome=awaiting", "tag=shared", "outcome=awaiting&tag=shared"]
)
def test_filtered_challenge_page_query_count_does_not_grow_with_ideas(
    app, client, query_counter, challenge_with_ideas, filters
):
    challenge_with_ideas(5, "five")
    challenge_with_ideas(20, "twenty")

    five = count_queries(app, client, query_counter, f"/challenges/five?{filters}")
    twenty = count_queries(app, client, query_counter, f"/challenges/twenty?{filters}")
    unfiltered = count_queries(app, client, query_counter, "/challenges/twenty")

    assert five == twenty
    # The one query more counts the matching ideas, for the pages.
    assert twenty == unfiltered + 1 <= MAX_QUERIES


def test_limited_challenge_and_idea_pages_count_votes_left_in_one_query(
    app, client, query_counter, make_challenge, make_idea, voter
):
    pages = {}
    for limit in (None, 3):
        challenge = make_challenge("open", vote_limit=limit)
        idea = make_idea(challenge, author=make_people(1)[0])
        cast_vote(voter, idea)
        db.session.commit()
        pages[limit] = (f"/challenges/{challenge.slug}", f"/ideas/{idea.id}")

    for unlimited, limited in zip(pages[None], pages[3], strict=True):
        without = count_queries(app, client, query_counter, unlimited)
        with_limit = count_queries(app, client, query_counter, limited)
        assert with_limit == without + 1 <= MAX_QUERIES


def test_home_page_query_count_does_not_grow_with_answers(
    app, client, auth, query_counter, make_user, make_agency, make_challenge, make_idea
):
    from engage.ideas import decisions

    auth.logout()
    admin = make_user()
    agencies = [make_agency(members=[(admin, "admin")]) for _ in range(2)]

    def answer(count: int) -> int:
        for agency in agencies:
            challenge = make_challenge("open", agency=agency)
            for number in range(count):
                idea = make_idea(challenge, author=make_people(1)[0])
                decisions.decide_idea(admin, idea, "accept" if number % 2 else "decline", "Ok.")
                if number % 2:
                    decisions.move_idea_stage(admin, idea, "implemented", "Done.")
        db.session.commit()
        return count_queries(app, client, query_counter, "/")

    few = answer(2)
    many = answer(10)

    assert few == many <= MAX_QUERIES
