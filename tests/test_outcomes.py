"""Outcomes in every list: decision and stage badges on idea cards, the challenge page's
outcome and tag filters, and the home page's "What became of your ideas"."""

import html
import re

import pytest
from sqlalchemy import select

from engage.db import now_utc
from engage.demo import DECISIONS, load_demo_data
from engage.extensions import db
from engage.ideas import decisions, states
from engage.ideas.models import Idea

TITLE = re.compile(r'<h3 class="idea-title"><a href="/ideas/\d+">([^<]+)</a></h3>')


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def listed(response) -> list[str]:
    """The titles of the idea cards of a page, in order."""
    assert response.status_code == 200
    return [html.unescape(title) for title in TITLE.findall(response.get_data(as_text=True))]


def card_of(page: str, title: str) -> str:
    """The HTML of one idea card."""
    start = page.index(f">{title}<")
    return page[start : page.index("</li>", start)]


@pytest.fixture
def demo(app, app_context):
    assert load_demo_data()
    db.session.commit()


def test_demo_accepted_ideas_show_decision_and_stage_and_the_filter_lists_exactly_them(
    client, demo
):
    accepted = {title for title, action, _, _ in DECISIONS if action == "accept"}
    page = text_of(client.get("/challenges/greener-city"))

    for title, stage in [
        ("Water refill stations downtown", "Validation"),
        ("Car-free Sundays in the old town", "Backlog"),
        ("Tool library", "Concept"),
    ]:
        card = card_of(page, title)
        assert "Accepted" in card
        assert f"Stage: {stage}" in card
    assert set(listed(client.get("/challenges/greener-city?outcome=accepted"))) == accepted


def test_shortlisted_and_declined_cards_say_so_and_undecided_cards_have_no_badge(client, demo):
    page = text_of(client.get("/challenges/greener-city"))

    assert "Shortlisted" in card_of(page, "Compost collection for flats")
    assert "Declined" in card_of(page, "Wildflower verges")
    assert "badge" not in card_of(page, "Seed library")


def _decided_challenge(make_challenge, make_idea, make_user, make_agency):
    """A challenge with one idea in each outcome, titled after it."""
    admin = make_user()
    challenge = make_challenge("open", agency=make_agency(members=[(admin, "admin")]))
    ideas = {
        name: make_idea(challenge, title=name)
        for name in (
            "new",
            "shortlisted",
            "backlog",
            "development",
            "implemented",
            "discontinued",
            "declined",
        )
    }
    make_idea(challenge, title="hidden and accepted", state="hidden")
    decisions.decide_idea(admin, ideas["shortlisted"], "shortlist", "Looking at it.")
    decisions.decide_idea(admin, ideas["declined"], "decline", "No budget.")
    for name, stages in [
        ("backlog", []),
        ("development", ["concept", "development"]),
        ("implemented", ["deployment", "implemented"]),
        ("discontinued", ["discontinued"]),
    ]:
        decisions.decide_idea(admin, ideas[name], "accept", "Yes.")
        for stage in stages:
            decisions.move_idea_stage(admin, ideas[name], stage, f"Now {stage}.", None)
    db.session.commit()
    return challenge


@pytest.mark.parametrize(
    "outcome, expected",
    [
        ("awaiting", {"new", "shortlisted"}),
        ("accepted", {"backlog", "development", "implemented", "discontinued"}),
        ("in_progress", {"development"}),
        ("implemented", {"implemented"}),
        ("declined", {"declined"}),
    ],
)
def test_each_outcome_filter_lists_exactly_its_ideas(
    client, make_challenge, make_idea, make_user, make_agency, outcome, expected
):
    challenge = _decided_challenge(make_challenge, make_idea, make_user, make_agency)

    response = client.get(f"/challenges/{challenge.slug}?outcome={outcome}")

    assert set(listed(response)) == expected
    assert f"{len(expected)} idea" in text_of(response)


@pytest.mark.parametrize("query", ["outcome=nope", "outcome=", "tag=", "sort=nope&outcome=x"])
def test_unknown_filter_values_are_ignored(
    client, make_challenge, make_idea, make_user, make_agency, query
):
    challenge = _decided_challenge(make_challenge, make_idea, make_user, make_agency)

    response = client.get(f"/challenges/{challenge.slug}?{query}")

    assert len(listed(response)) == 7


def test_an_unknown_tag_lists_nothing_and_offers_all_ideas(client, make_challenge, make_idea):
    challenge = make_challenge("open")
    make_idea(challenge)

    response = client.get(f"/challenges/{challenge.slug}?tag=unheard-of")

    assert listed(response) == []
    assert "No idea matches these filters." in text_of(response)


def test_tags_on_cards_link_to_the_ideas_with_that_tag(client, make_challenge, make_idea):
    from engage.challenges.tags import resolve_tags

    challenge = make_challenge("open", slug="parks")
    make_idea(challenge, title="Benches", tags=resolve_tags(["seating", "parks"]))
    make_idea(challenge, title="Fountains", tags=resolve_tags(["water"]))
    db.session.commit()
    page = client.get("/challenges/parks").get_data(as_text=True)
    link = "/challenges/parks?tag=seating#ideas"
    assert f'href="{link}"' in page

    response = client.get(link)

    assert listed(response) == ["Benches"]
    assert 'name="tag" value="seating"' in response.get_data(as_text=True)


def test_outcome_and_tag_combine_with_sort_and_pages(
    app, client, make_challenge, make_idea, make_user, make_agency
):
    from engage.challenges.tags import resolve_tags

    app.config["IDEAS_PER_PAGE"] = 2
    admin = make_user()
    challenge = make_challenge("open", slug="many", agency=make_agency(members=[(admin, "admin")]))
    for number in range(5):
        idea = make_idea(challenge, title=f"Green {number}", tags=resolve_tags(["green"]))
        decisions.decide_idea(admin, idea, "accept", "Yes.")
    make_idea(challenge, title="Green but undecided", tags=resolve_tags(["green"]))
    make_idea(challenge, title="Accepted elsewhere")
    decisions.decide_idea(
        admin,
        db.session.scalar(select(Idea).where(Idea.title == "Accepted elsewhere")),
        "accept",
        "Yes.",
    )
    db.session.commit()

    first = client.get("/challenges/many?outcome=accepted&tag=green&sort=newest")
    second = client.get("/challenges/many?outcome=accepted&tag=green&sort=newest&page=2")
    third = client.get("/challenges/many?outcome=accepted&tag=green&sort=newest&page=3")

    assert listed(first) == ["Green 4", "Green 3"]
    assert listed(second) == ["Green 2", "Green 1"]
    assert listed(third) == ["Green 0"]
    assert "Page 3 of 3" in text_of(third)
    page = first.get_data(as_text=True)
    assert "page=2" in page and "outcome=accepted" in page and "tag=green" in page


def test_filter_form_works_without_javascript(client, make_challenge):
    challenge = make_challenge("open")

    page = client.get(f"/challenges/{challenge.slug}").get_data(as_text=True)

    assert re.search(r'<form method="get" action="/challenges/[^"]+#ideas"', page)
    assert '<label for="filter-outcome">' in page and 'name="outcome"' in page
    assert '<button type="submit">Filter</button>' in page


def test_my_ideas_show_their_outcome(
    client, auth, make_user, make_idea, make_challenge, make_agency
):
    author = make_user("author@example.org")
    admin = make_user()
    challenge = make_challenge("open", agency=make_agency(members=[(admin, "admin")]))
    idea = make_idea(challenge, author=author, title="Mine")
    decisions.decide_idea(admin, idea, "accept", "Yes.")
    db.session.commit()
    auth.login("author@example.org")

    page = text_of(client.get("/account/"))

    assert "Accepted" in page and "Stage: Backlog" in page


def test_home_shows_recent_answers_and_counts_per_agency(client, demo):
    page = text_of(client.get("/"))
    section = page[page.index("What became of your ideas") :]

    answers = section[section.index("Recent answers") : section.index("Implemented ideas")]
    # The five latest answers, newest first: the harbour's, then the city's last two.
    assert re.findall(r'<a href="/ideas/\d+">([^<]+)</a>', answers) == [
        "Public swimming at the old dock",
        "Floating litter traps",
        "Shore power for ferries",
        "Wildflower verges",
        "Tool library",
    ]
    # Shortlisted is not an answer yet.
    assert "Compost collection for flats" not in section
    rows = re.findall(
        r"<tr>\s*<th scope=\"row\"><a [^>]+>([^<]+)</a></th>\s*"
        r"<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>",
        section,
    )
    # (agency, answered, accepted, implemented)
    assert rows == [("City of Example", "4", "3", "0"), ("Harbour Authority", "3", "3", "0")]
    assert "<caption>Answers per agency</caption>" in section


def test_home_counts_only_public_ideas_and_lists_implemented_ones(
    client, make_challenge, make_idea, make_user, make_agency
):
    challenge = _decided_challenge(make_challenge, make_idea, make_user, make_agency)
    # Answers nobody may see yet: on a hidden idea, and in a draft challenge.
    for idea in (
        db.session.scalar(select(Idea).where(Idea.title == "hidden and accepted")),
        make_idea(make_challenge("draft", agency=challenge.agency), title="secret"),
    ):
        idea.moderation_state, idea.published_at = "published", idea.published_at or now_utc()
        states.apply_decision(idea, "accept", "Yes.")
        db.session.flush()
    db.session.scalar(
        select(Idea).where(Idea.title == "hidden and accepted")
    ).moderation_state = "hidden"
    db.session.commit()

    page = text_of(client.get("/"))
    section = page[page.index("What became of your ideas") :]

    assert "secret" not in section and "hidden and accepted" not in section
    implemented = section[section.index("Implemented ideas") : section.index("<table")]
    assert ">implemented<" in implemented
    assert ">development<" not in implemented
    # Answered: backlog, development, implemented, discontinued, declined.
    assert re.search(r"<td>5</td>\s*<td>4</td>\s*<td>1</td>", section)


def test_home_without_answers_has_no_outcome_section(client, make_challenge, make_idea):
    make_idea(make_challenge("open"))

    assert "What became of your ideas" not in text_of(client.get("/"))
