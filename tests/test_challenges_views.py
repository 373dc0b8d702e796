"""Public challenge pages: home, the filtered list, a challenge with its ideas."""

import re
from datetime import timedelta

import pytest

from engage.db import now_utc
from engage.extensions import db
from engage.ideas.services import add_comment

CARD_TITLE = re.compile(r'<h3 class="card-title"><a href="[^"]*">([^<]*)</a></h3>')
IDEA_TITLE = re.compile(r'<h3 class="idea-title"><a href="[^"]*">([^<]*)</a></h3>')
CURRENT_STEP = re.compile(r'<li aria-current="step"[^>]*>\s*<span>([^<]*)</span>')


def card_titles(response) -> list[str]:
    return CARD_TITLE.findall(response.get_data(as_text=True))


def idea_titles(response) -> list[str]:
    return IDEA_TITLE.findall(response.get_data(as_text=True))


@pytest.fixture
def one_of_each_phase(make_challenge):
    """A challenge in every phase, made in an order that is none of the expected ones."""
    for phase in ("closed", "draft", "review", "upcoming", "voting", "open"):
        make_challenge(phase, title=f"{phase.title()} challenge")


@pytest.fixture
def author(make_user):
    return make_user()


@pytest.fixture
def many_ideas(make_challenge, make_idea, author):
    """A challenge with 25 published ideas, "Idea 01" the oldest (and lowest id)."""
    challenge = make_challenge("open", slug="many")
    for number in range(1, 26):
        make_idea(challenge, author=author, title=f"Idea {number:02d}")
    return challenge


# Home --------------------------------------------------------------------------------------


def test_home_lists_open_then_voting_upcoming_review_closed(client, one_of_each_phase):
    response = client.get("/")

    assert response.status_code == 200
    assert card_titles(response) == [
        "Open challenge",
        "Voting challenge",
        "Upcoming challenge",
        "Review challenge",
        "Closed challenge",
    ]


def test_home_shows_open_and_voting_challenges_under_open_now(client, one_of_each_phase):
    page = client.get("/").get_data(as_text=True)

    open_now, _, others = page.partition('id="others-title"')
    assert "Open challenge" in open_now and "Voting challenge" in open_now
    assert "Upcoming challenge" in others and "Closed challenge" in others


def test_home_never_lists_draft_challenges(client, one_of_each_phase):
    response = client.get("/")

    assert "Draft challenge" not in response.get_data(as_text=True)


def test_home_says_so_when_no_challenge_is_open(client, make_challenge):
    make_challenge("closed", title="Old question")

    page = client.get("/").get_data(as_text=True)

    assert "No challenge is open right now." in page
    assert "Old question" in page


# Challenge list and filters ----------------------------------------------------------------


def test_challenge_list_orders_by_phase_and_hides_drafts(client, one_of_each_phase):
    response = client.get("/challenges")

    assert response.status_code == 200
    assert card_titles(response) == [
        "Open challenge",
        "Voting challenge",
        "Upcoming challenge",
        "Review challenge",
        "Closed challenge",
    ]


def test_challenge_list_filters_by_agency_slug(client, make_agency, make_challenge):
    parks = make_agency("parks", name="Parks Department")
    roads = make_agency("roads", name="Roads Department")
    make_challenge("open", agency=parks, title="Greener parks")
    make_challenge("closed", agency=parks, title="Park benches")
    make_challenge("open", agency=roads, title="Safer crossings")

    response = client.get("/challenges?agency=parks")

    assert response.status_code == 200
    assert card_titles(response) == ["Greener parks", "Park benches"]


@pytest.mark.parametrize("phase", ["upcoming", "open", "voting", "review", "closed"])
def test_challenge_list_filters_by_phase(client, one_of_each_phase, phase):
    response = client.get(f"/challenges?phase={phase}")

    assert response.status_code == 200
    assert card_titles(response) == [f"{phase.title()} challenge"]


def test_challenge_list_filters_by_tag(client, make_challenge):
    make_challenge("open", title="Cleaner rivers", tags=["water", "nature"])
    make_challenge("voting", title="Water fountains", tags=["water"])
    make_challenge("open", title="Bike lanes", tags=["mobility"])

    response = client.get("/challenges?tag=water")

    assert response.status_code == 200
    assert card_titles(response) == ["Cleaner rivers", "Water fountains"]


def test_challenge_list_tag_filter_ignores_case(client, make_challenge):
    make_challenge("open", title="Cleaner rivers", tags=["water"])

    response = client.get("/challenges?tag=WATER")

    assert card_titles(response) == ["Cleaner rivers"]


def test_challenge_list_never_lists_drafts_even_when_asked_for(client, one_of_each_phase):
    response = client.get("/challenges?phase=draft")

    assert response.status_code == 200
    assert "Draft challenge" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "phase=bogus",
        "phase=",
        "phase=OPEN",
        "phase=draft",
        "phase[]=open",
        "phase=x&phase=open",
    ],
)
def test_challenge_list_unknown_phase_shows_every_phase(client, one_of_each_phase, query):
    response = client.get(f"/challenges?{query}")

    assert response.status_code == 200
    assert len(card_titles(response)) == 5


@pytest.mark.parametrize(
    "query",
    [
        "agency=no-such-agency",
        "tag=no-such-tag",
        "agency=" + "a" * 5000,
        "tag=" + "t" * 5000,
        "agency=%27%3B%20DROP%20TABLE%20agencies%3B--",
        "tag=%25",
        "tag=_",
        "agency=%C2%B2",
        "tag=%F0%9F%8C%B3",
        "tag=%E2%80%AE",
    ],
)
def test_challenge_list_unknown_filter_values_answer_empty_list(client, one_of_each_phase, query):
    response = client.get(f"/challenges?{query}")

    assert response.status_code == 200
    assert card_titles(response) == []
    assert "No challenge matches these filters." in response.get_data(as_text=True)


def test_challenge_list_offers_only_agencies_and_tags_in_use(client, make_agency, make_challenge):
    make_challenge("open", agency=make_agency("parks", name="Parks"), tags=["trees"])
    make_challenge("draft", agency=make_agency("secret", name="Secret Office"))
    make_agency("idle", name="Idle Agency")

    page = client.get("/challenges").get_data(as_text=True)

    assert '<option value="parks"' in page and '<option value="trees"' in page
    assert "Secret Office" not in page and "Idle Agency" not in page


# Challenge page ----------------------------------------------------------------------------


def test_challenge_page_shows_title_agency_and_summary(client, make_agency, make_challenge):
    agency = make_agency("parks", name="Parks Department")
    make_challenge(
        "open",
        agency=agency,
        slug="trees",
        title="More trees",
        summary="Where should we plant 1,000 trees?",
    )

    response = client.get("/challenges/trees")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>More trees</h1>" in page
    assert "Where should we plant 1,000 trees?" in page
    assert "Parks Department" in page


def test_challenge_page_renders_body_from_markdown(client, make_challenge):
    make_challenge(
        "open",
        slug="trees",
        body="We want **shade** on every street.\n\n- parks\n- schools\n\n"
        "Read [the plan](https://example.org/plan).",
    )

    page = client.get("/challenges/trees").get_data(as_text=True)

    assert "<strong>shade</strong>" in page
    assert "<li>parks</li>" in page
    assert '<a href="https://example.org/plan" rel="nofollow ugc noopener">the plan</a>' in page
    assert "**shade**" not in page


@pytest.mark.parametrize(
    ("phase", "step"),
    [
        ("open", "Ideas welcome from"),
        ("voting", "Ideas until, then voting only"),
        ("review", "Voting closes, then the agency reviews"),
    ],
)
def test_challenge_page_marks_current_phase_in_timeline(client, make_challenge, phase, step):
    make_challenge(phase, slug="trees")

    page = client.get("/challenges/trees").get_data(as_text=True)

    assert CURRENT_STEP.findall(page) == [step]


@pytest.mark.parametrize("phase", ["upcoming", "open", "voting", "review", "closed"])
def test_challenge_page_marks_at_most_one_timeline_step(client, make_challenge, phase):
    make_challenge(phase, slug="trees")

    page = client.get("/challenges/trees").get_data(as_text=True)

    assert page.count('aria-current="step"') <= 1


def test_challenge_page_shows_first_20_ideas_and_page_count(client, many_ideas):
    response = client.get("/challenges/many")

    titles = idea_titles(response)
    assert response.status_code == 200
    assert titles == [f"Idea {n:02d}" for n in range(25, 5, -1)]
    assert "Page 1 of 2" in response.get_data(as_text=True)


def test_challenge_page_second_page_shows_the_rest(client, many_ideas):
    response = client.get("/challenges/many?page=2")

    assert idea_titles(response) == [f"Idea {n:02d}" for n in range(5, 0, -1)]
    assert "Page 2 of 2" in response.get_data(as_text=True)


def test_challenge_page_links_to_next_page_keeping_the_sort(client, many_ideas):
    page = client.get("/challenges/many?sort=newest").get_data(as_text=True)

    assert 'rel="next" href="/challenges/many?sort=newest&amp;page=2#ideas"' in page
    assert 'rel="prev"' not in page


def test_challenge_page_has_no_pagination_with_one_page(client, make_challenge, make_idea):
    challenge = make_challenge("open", slug="few")
    make_idea(challenge, title="Only idea")

    page = client.get("/challenges/few").get_data(as_text=True)

    assert 'class="pagination"' not in page


@pytest.mark.parametrize(
    ("raw", "expected_page"),
    [
        ("-1", 1),
        ("0", 1),
        ("abc", 1),
        ("", 1),
        ("1.5", 1),
        ("0x2", 1),
        ("²", 1),
        ("٢", 1),
        ("+2", 1),
        (" 2", 1),
        ("3", 2),
        ("99999999999999999999", 2),
        ("2147483648", 2),
    ],
)
def test_challenge_page_bad_page_number_gives_a_safe_page(client, many_ideas, raw, expected_page):
    response = client.get("/challenges/many", query_string={"page": raw})

    assert response.status_code == 200
    first = 25 if expected_page == 1 else 5
    assert idea_titles(response)[0] == f"Idea {first:02d}"
    assert f"Page {expected_page} of 2" in response.get_data(as_text=True)


def test_challenge_page_lists_only_published_ideas(client, make_challenge, make_idea, author):
    challenge = make_challenge("open", slug="trees")
    public = make_idea(challenge, author=author, title="Public idea")
    for state in ("pending", "rejected", "changes_requested", "hidden", "withdrawn", "merged"):
        make_idea(
            challenge, author=author, title=f"The {state} idea", state=state, merged_into=public
        )

    assert idea_titles(client.get("/challenges/trees")) == ["Public idea"]


@pytest.fixture
def ranked_ideas(make_challenge, make_idea, make_user, make_vote, author):
    """Four ideas whose vote, date and comment orders all differ from each other."""
    challenge = make_challenge("open", slug="ranked")
    now = now_utc()
    ideas = {
        name: make_idea(
            challenge, author=author, title=name, published_at=now - timedelta(days=days)
        )
        for name, days in [("Alpha", 3), ("Bravo", 1), ("Charlie", 4), ("Delta", 2)]
    }
    voters = [make_user() for _ in range(3)]
    for name, votes in [("Alpha", 2), ("Bravo", 0), ("Charlie", 3), ("Delta", 1)]:
        for voter in voters[:votes]:
            make_vote(voter, ideas[name])
    for name, comments in [("Alpha", 1), ("Bravo", 2), ("Charlie", 0), ("Delta", 3)]:
        for number in range(comments):
            add_comment(author, ideas[name], f"Comment {number}")
    db.session.commit()
    return challenge


def test_challenge_page_sorts_ideas_by_votes_by_default(client, ranked_ideas):
    response = client.get("/challenges/ranked")

    assert idea_titles(response) == ["Charlie", "Alpha", "Delta", "Bravo"]


def test_challenge_page_sorts_ideas_by_votes(client, ranked_ideas):
    response = client.get("/challenges/ranked?sort=votes")

    assert idea_titles(response) == ["Charlie", "Alpha", "Delta", "Bravo"]


def test_challenge_page_sorts_ideas_by_newest(client, ranked_ideas):
    response = client.get("/challenges/ranked?sort=newest")

    assert idea_titles(response) == ["Bravo", "Delta", "Alpha", "Charlie"]


def test_challenge_page_sorts_ideas_by_most_discussed(client, ranked_ideas):
    response = client.get("/challenges/ranked?sort=discussed")

    assert idea_titles(response) == ["Delta", "Bravo", "Alpha", "Charlie"]


def test_challenge_page_marks_the_chosen_sort(client, ranked_ideas):
    page = client.get("/challenges/ranked?sort=newest").get_data(as_text=True)

    assert re.findall(r'sort=(\w+)#ideas"\s*aria-current="true"', page) == ["newest"]


@pytest.mark.parametrize(
    "sort",
    [
        "bogus",
        "",
        "VOTES",
        "id desc",
        "vote_count;--",
        "__class__",
        "ſort",
        "votes\u200b",
    ],
)
def test_challenge_page_unknown_sort_key_uses_vote_order(client, ranked_ideas, sort):
    response = client.get("/challenges/ranked", query_string={"sort": sort})

    assert response.status_code == 200
    assert idea_titles(response) == ["Charlie", "Alpha", "Delta", "Bravo"]


def test_challenge_page_ties_in_votes_show_newest_idea_first(
    client, make_challenge, make_idea, author
):
    challenge = make_challenge("open", slug="ties")
    for name in ("First", "Second", "Third"):
        make_idea(challenge, author=author, title=name)

    assert idea_titles(client.get("/challenges/ties")) == ["Third", "Second", "First"]


# Who may see a challenge -------------------------------------------------------------------


def test_draft_challenge_is_not_found_for_visitors(client, make_challenge):
    make_challenge("draft", slug="secret-plan", title="Secret plan")

    response = client.get("/challenges/secret-plan")

    assert response.status_code == 404
    assert "Secret plan" not in response.get_data(as_text=True)


def test_draft_challenge_is_not_found_for_citizens(client, auth, make_user, make_challenge):
    make_user("citizen@example.org")
    make_challenge("draft", slug="secret-plan")
    auth.login("citizen@example.org")

    assert client.get("/challenges/secret-plan").status_code == 404


def test_draft_challenge_is_shown_to_its_agency_staff(
    client, auth, make_user, make_agency, make_challenge
):
    staff = make_user("staff@example.org")
    agency = make_agency(members=[(staff, "moderator")])
    make_challenge("draft", agency=agency, slug="secret-plan", title="Secret plan")
    auth.login("staff@example.org")

    response = client.get("/challenges/secret-plan")

    assert response.status_code == 200
    assert "Secret plan" in response.get_data(as_text=True)


def test_draft_challenge_is_not_found_for_another_agencys_staff(
    client, auth, make_user, make_agency, make_challenge
):
    outsider = make_user("outsider@example.org")
    make_agency(members=[(outsider, "admin")])
    make_challenge("draft", slug="secret-plan")
    auth.login("outsider@example.org")

    assert client.get("/challenges/secret-plan").status_code == 404


@pytest.mark.parametrize(
    "slug",
    [
        "no-such-challenge",
        "%C2%B2",
        "..%2F..%2Fetc%2Fpasswd",
        "a" * 300,
        "%3Cscript%3E",
    ],
)
def test_unknown_challenge_slug_gives_the_404_page(client, slug):
    response = client.get(f"/challenges/{slug}")

    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert '<main id="main"' in page
    assert "<h1>Page not found</h1>" in page
    assert "Traceback" not in page
    assert "<script>" not in page.lower()
