"""The ranked idea list of a challenge in the agency workspace, its filters and pages, and
its CSV download (complete when streamed, and safe to open in a spreadsheet)."""

import csv
import html
import io
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select

from engage.challenges.tags import resolve_tags
from engage.db import now_utc
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Idea
from engage.moderation.services import set_risk_flag
from engage.web.workspace.queries import RANKING_PAGE

RANKING = "/agencies/city/challenges/greener/ideas"
CSV = "/agencies/city/challenges/greener/ideas.csv"
ROW = re.compile(r'<th scope="row"><a href="/agencies/city/ideas/(\d+)/decision">([^<]*)</a>')
HEADER = [
    "rank",
    "id",
    "title",
    "author",
    "author_type",
    "votes",
    "comments",
    "decision",
    "pipeline_stage",
    "risk_flags",
    "tags",
    "url",
    "created_at",
]


def titles(response) -> list[str]:
    assert response.status_code == 200
    return [html.unescape(title) for _, title in ROW.findall(response.get_data(as_text=True))]


def ranks(response) -> list[int]:
    body = response.get_data(as_text=True)
    return [int(n) for n in re.findall(r'<tr>\s*<td>(\d+)</td>\s*<th scope="row">', body)]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def world(make_user, make_agency, make_challenge, make_idea, make_vote):
    """Agency `city`, challenge `greener` with four published ideas ranked by votes:

    Fruit trees (3 votes, accepted, parks), Rain gardens (2, shortlisted, parks),
    Bike lanes (1, business author, safety risk, traffic), Repair café (0).
    """
    admin = make_user("alex@example.org")
    agency = make_agency("city", members=[(admin, "admin")])
    challenge = make_challenge("open", agency=agency, slug="greener", title="Greener city")
    citizen = make_user(display_name="Chris Citizen")
    business = make_user(account_type="business", organisation_name="Example Works")
    voters = [make_user() for _ in range(3)]
    fruit = make_idea(challenge, author=citizen, title="Fruit trees", tags=resolve_tags(["parks"]))
    bikes = make_idea(
        challenge, author=business, title="Bike lanes", tags=resolve_tags(["traffic"])
    )
    rain = make_idea(
        challenge, author=citizen, title="Rain gardens", tags=resolve_tags(["parks", "water"])
    )
    repair = make_idea(challenge, author=citizen, title="Repair café")
    make_idea(challenge, author=citizen, title="Waiting idea", state="pending")
    make_idea(challenge, author=citizen, title="Hidden idea", state="hidden")
    make_idea(make_challenge("open", agency=agency), title="Idea of another challenge")
    for idea, count in ((fruit, 3), (rain, 2), (bikes, 1)):
        for voter in voters[:count]:
            make_vote(voter, idea)
    states.apply_decision(fruit, "accept", "We will plant them.")
    states.apply_decision(rain, "shortlist", "We are costing it.")
    set_risk_flag(admin, bikes, "safety", "Crossing at the school.")
    db.session.commit()
    return SimpleNamespace(
        admin=admin,
        agency=agency,
        challenge=challenge,
        fruit=fruit,
        bikes=bikes,
        rain=rain,
        repair=repair,
        citizen=citizen,
    )


@pytest.fixture
def as_admin(auth, world):
    assert auth.login("alex@example.org").status_code == 302


def add_published_ideas(challenge, author, count: int, *, votes=lambda n: 0) -> None:
    """Many published ideas at once (counters set directly: no vote rows needed here)."""
    now = now_utc()
    db.session.execute(
        insert(Idea),
        [
            {
                "challenge_id": challenge.id,
                "author_id": author.id,
                "title": f"Bulk idea {n:04d}",
                "body": "Text.",
                "excerpt": "Text.",
                "moderation_state": states.PUBLISHED,
                "published_at": now,
                "vote_count": votes(n),
            }
            for n in range(1, count + 1)
        ],
    )
    db.session.commit()


# --- ranking -----------------------------------------------------------------------------


def test_ranking_lists_published_ideas_most_votes_first(client, as_admin):
    response = client.get(RANKING)

    assert titles(response) == ["Fruit trees", "Rain gardens", "Bike lanes", "Repair café"]
    assert ranks(response) == [1, 2, 3, 4]
    assert "4 ideas" in response.get_data(as_text=True)


def test_ranking_leaves_out_unpublished_ideas_and_other_challenges(client, as_admin):
    shown = titles(client.get(RANKING))

    assert "Waiting idea" not in shown
    assert "Hidden idea" not in shown
    assert "Idea of another challenge" not in shown


def test_ranking_puts_the_newest_first_among_equal_votes(client, as_admin, world, make_idea):
    make_idea(world.challenge, author=world.citizen, title="Later idea")

    assert titles(client.get(RANKING))[-2:] == ["Later idea", "Repair café"]


def test_ranking_shows_decision_stage_and_risks(client, as_admin):
    body = html.unescape(client.get(RANKING).get_data(as_text=True))

    assert "Accepted · Backlog" in body
    assert "Shortlisted" in body
    assert '<span class="tag">Safety</span>' in body
    assert "Example Works" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("decision=accepted", ["Fruit trees"]),
        ("decision=shortlisted", ["Rain gardens"]),
        ("decision=none", ["Bike lanes", "Repair café"]),
        ("decision=declined", []),
        ("risk=safety", ["Bike lanes"]),
        ("risk=privacy", []),
        ("tag=parks", ["Fruit trees", "Rain gardens"]),
        ("tag=PARKS", ["Fruit trees", "Rain gardens"]),
        ("tag=water", ["Rain gardens"]),
        ("tag=unknown", []),
        ("author_type=business", ["Bike lanes"]),
        ("author_type=citizen", ["Fruit trees", "Rain gardens", "Repair café"]),
        ("tag=parks&decision=shortlisted", ["Rain gardens"]),
        (
            "decision=&risk=&tag=&author_type=",
            ["Fruit trees", "Rain gardens", "Bike lanes", "Repair café"],
        ),
    ],
)
def test_each_filter_narrows_the_ranking(client, as_admin, query, expected):
    assert titles(client.get(f"{RANKING}?{query}")) == expected


def test_empty_result_says_so(client, as_admin):
    body = client.get(f"{RANKING}?decision=declined").get_data(as_text=True)

    assert "No published idea matches." in body
    assert "0 ideas" in body


@pytest.mark.parametrize(
    "query",
    [
        "decision=maybe",
        "risk=fire",
        "author_type=robot",
        "tag=" + "x" * 300,
        "decision[]=accepted",
        "page=abc",
        "page=-3",
        "page=0",
        "page=99999999999999999999",
        "risk=%F0%9F%94%A5",
    ],
)
def test_unknown_filter_values_show_the_whole_ranking(client, as_admin, query):
    response = client.get(f"{RANKING}?{query}")

    assert titles(response) == ["Fruit trees", "Rain gardens", "Bike lanes", "Repair café"]


def test_links_to_each_ideas_decision_page(client, as_admin, world):
    body = client.get(RANKING).get_data(as_text=True)

    assert f'href="/agencies/city/ideas/{world.fruit.id}/decision"' in body


def test_ranking_of_an_unknown_challenge_is_not_found(client, as_admin):
    assert client.get("/agencies/city/challenges/nope/ideas").status_code == 404


def test_ranking_of_another_agencys_challenge_is_not_found(
    client, as_admin, make_challenge, make_agency
):
    make_challenge("open", agency=make_agency("harbour"), slug="theirs")

    assert client.get("/agencies/city/challenges/theirs/ideas").status_code == 404
    assert client.get("/agencies/harbour/challenges/theirs/ideas").status_code == 404


# --- pages -------------------------------------------------------------------------------


@pytest.fixture
def many(world):
    """RANKING_PAGE + 5 more ideas in the challenge, with distinct vote counts."""
    add_published_ideas(world.challenge, world.citizen, RANKING_PAGE + 1, votes=lambda n: 100 + n)
    return world


def test_ranking_is_paged(client, as_admin, many):
    first = client.get(RANKING)
    second = client.get(f"{RANKING}?page=2")

    assert len(titles(first)) == RANKING_PAGE
    assert titles(first)[0] == f"Bulk idea {RANKING_PAGE + 1:04d}"
    assert titles(second) == [
        "Bulk idea 0001",
        "Fruit trees",
        "Rain gardens",
        "Bike lanes",
        "Repair café",
    ]
    assert ranks(second)[0] == RANKING_PAGE + 1
    assert 'rel="next" href="/agencies/city/challenges/greener/ideas?page=2' in (
        first.get_data(as_text=True).replace("&amp;", "&")
    )
    assert "Page 2 of 2" in second.get_data(as_text=True)


def test_page_links_keep_the_filters(client, as_admin, many):
    body = client.get(f"{RANKING}?author_type=citizen").get_data(as_text=True)

    next_link = re.search(r'rel="next" href="([^"]+)"', body).group(1)
    assert "author_type=citizen" in html.unescape(next_link)
    assert "page=2" in next_link


def test_a_page_past_the_end_shows_the_last_page(client, as_admin, many):
    assert titles(client.get(f"{RANKING}?page=7"))[-1] == "Repair café"


def test_ranking_page_queries_do_not_grow_with_the_ideas(
    client, as_admin, world, query_counter, make_user
):
    with query_counter() as few:
        client.get(RANKING)
    others = [make_user(account_type="business") for _ in range(3)]
    for author in others:
        add_published_ideas(world.challenge, author, 15)

    with query_counter() as more:
        assert len(titles(client.get(RANKING))) == 49

    assert more.count == few.count


# --- CSV ---------------------------------------------------------------------------------


def test_csv_is_an_attachment(client, as_admin):
    response = client.get(CSV)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="greener-ideas.csv"'


def test_csv_starts_with_the_header(client, as_admin):
    assert csv_rows(client.get(CSV))[0] == HEADER


def test_csv_rows_follow_the_ranking(client, as_admin, world):
    rows = csv_rows(client.get(CSV))[1:]

    assert [row[2] for row in rows] == ["Fruit trees", "Rain gardens", "Bike lanes", "Repair café"]
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    assert [row[5] for row in rows] == ["3", "2", "1", "0"]


def test_csv_row_holds_the_ideas_details(client, as_admin, world):
    rows = {row[2]: dict(zip(HEADER, row, strict=True)) for row in csv_rows(client.get(CSV))[1:]}

    fruit = rows["Fruit trees"]
    assert fruit["id"] == str(world.fruit.id)
    assert fruit["author"] == "Chris Citizen"
    assert fruit["author_type"] == "citizen"
    assert (fruit["decision"], fruit["pipeline_stage"]) == ("accepted", "backlog")
    assert fruit["tags"] == "parks"
    assert fruit["url"] == f"http://engage.test/ideas/{world.fruit.id}"
    assert fruit["created_at"].startswith(str(now_utc().year))
    bikes = rows["Bike lanes"]
    assert (bikes["author"], bikes["author_type"]) == ("Example Works", "business")
    assert bikes["risk_flags"] == "safety"
    assert rows["Rain gardens"]["tags"] == "parks, water"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("decision=accepted", ["Fruit trees"]),
        ("risk=safety", ["Bike lanes"]),
        ("tag=parks", ["Fruit trees", "Rain gardens"]),
        ("author_type=business", ["Bike lanes"]),
        ("decision=maybe", ["Fruit trees", "Rain gardens", "Bike lanes", "Repair café"]),
    ],
)
def test_csv_applies_the_filters(client, as_admin, query, expected):
    rows = csv_rows(client.get(f"{CSV}?{query}"))

    assert rows[0] == HEADER
    assert [row[2] for row in rows[1:]] == expected


def test_ranking_links_to_the_csv_with_its_filters(client, as_admin):
    body = client.get(f"{RANKING}?tag=parks").get_data(as_text=True)

    link = html.unescape(re.search(r'href="([^"]*ideas\.csv[^"]*)"', body).group(1))
    assert link.startswith(CSV)
    assert "tag=parks" in link


DANGEROUS = ['=HYPERLINK("http://evil")', "+1", "-1", "@SUM(A1)"]


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(client, as_admin, world, make_idea):
    for title in DANGEROUS:
        make_idea(world.challenge, author=world.citizen, title=title)

    titles_in_csv = {row[2] for row in csv_rows(client.get(CSV))[1:]}

    assert {"'" + title for title in DANGEROUS} <= titles_in_csv
    assert not titles_in_csv & set(DANGEROUS)


def test_csv_escapes_a_dangerous_author_name(client, as_admin, world, make_idea, make_user):
    author = make_user(account_type="business", organisation_name="=cmd|'/c calc'!A1")
    make_idea(world.challenge, author=author, title="Harmless title")

    rows = {row[2]: row for row in csv_rows(client.get(CSV))[1:]}

    assert rows["Harmless title"][3] == "'=cmd|'/c calc'!A1"


def test_streamed_csv_of_many_ideas_is_complete(client, as_admin, world):
    add_published_ideas(world.challenge, world.citizen, 1200, votes=lambda n: 10 + n)

    response = client.get(CSV)

    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert len(rows) == 1 + 1200 + 4
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, 1205)]
    assert rows[1][2] == "Bulk idea 1200"
    assert rows[1200][2] == "Bulk idea 0001"
    stored_ids = set(
        db.session.scalars(
            select(Idea.id).where(
                Idea.challenge_id == world.challenge.id, Idea.moderation_state == states.PUBLISHED
            )
        )
    )
    assert {int(row[1]) for row in rows[1:]} == stored_ids


def test_streamed_csv_is_sent_in_pieces(client, as_admin, world):
    add_published_ideas(world.challenge, world.citizen, 30)

    response = client.get(CSV)

    assert response.is_streamed
    assert "Content-Length" not in response.headers
    assert len(list(response.iter_encoded())) > 1
