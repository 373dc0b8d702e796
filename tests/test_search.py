"""Search: the site-wide box and the /search page, on the database's own engine (SQLite
FTS5 or PostgreSQL tsvector), kept current by the database on every write."""

import html as html_lib
import re

import pytest
from sqlalchemy import select

from engage.extensions import db


def _text(markup: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _idea_ids(response) -> list[int]:
    """The ideas listed in the results, in order."""
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    section = page.split('id="idea-results-title"', 1)[-1] if "idea-results-title" in page else ""
    return [int(n) for n in re.findall(r'<h3><a href="/ideas/(\d+)"', section)]


def _challenge_slugs(response) -> list[str]:
    page = response.get_data(as_text=True)
    if "challenge-results-title" not in page:
        return []
    section = page.split('id="challenge-results-title"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<h3><a href="/challenges/([^"]+)"', section)


def _is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


# The demo data ------------------------------------------------------------------------


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    from engage.ideas.models import Idea

    with app.app_context():
        idea = db.session.scalar(
            select(Idea).where(Idea.title == "Protected bike lanes on Main Street")
        )
        return idea.id, idea.challenge.slug


def test_demo_word_in_one_body_lists_that_idea_first_site_wide(client, demo):
    idea_id, _ = demo

    assert _idea_ids(client.get("/search?q=kerb"))[:1] == [idea_id]


def test_demo_word_in_one_body_lists_that_idea_first_within_its_challenge(client, demo):
    idea_id, slug = demo

    assert _idea_ids(client.get(f"/search?q=kerb&challenge={slug}"))[:1] == [idea_id]


def test_demo_word_is_found_only_in_the_idea_that_has_it(client, demo):
    idea_id, _ = demo

    assert _idea_ids(client.get("/search?q=kerb")) == [idea_id]


# What is listed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", ["pending", "hidden", "merged", "withdrawn", "rejected", "changes_requested"]
)
def test_ideas_that_are_not_published_never_appear(client, make_idea, state):
    make_idea(title="Public marigolds", body="Marigolds everywhere.")
    make_idea(title="Secret marigolds", body="Marigolds nobody may see.", state=state)

    page = client.get("/search?q=marigolds").get_data(as_text=True)

    assert "Public" in page
    assert "Secret" not in page
    assert "nobody may see" not in page


def test_draft_challenges_and_their_text_never_appear(client, make_challenge):
    make_challenge("draft", slug="secret", title="Secret aqueduct", summary="Aqueduct plans.")
    make_challenge("open", slug="public", title="Public aqueduct", summary="Aqueduct works.")

    response = client.get("/search?q=aqueduct")

    assert _challenge_slugs(response) == ["public"]
    assert "Secret" not in response.get_data(as_text=True)


def test_challenges_match_on_title_summary_and_body(client, make_challenge):
    make_challenge(slug="by-title", title="Lanterns for the quay")
    make_challenge(slug="by-summary", summary="Where should lanterns go?")
    make_challenge(slug="by-body", body="We will buy *lanterns*.")
    make_challenge(slug="other", title="Benches")

    slugs = _challenge_slugs(client.get("/search?q=lanterns"))

    assert sorted(slugs) == ["by-body", "by-summary", "by-title"]
    assert slugs[0] == "by-title"  # the title weighs most


def test_ideas_match_on_title_body_and_tags(client, make_idea):
    from engage.challenges.tags import resolve_tags

    by_title = make_idea(title="Hedgehog bridges")
    by_body = make_idea(body="Small holes in fences let the hedgehog pass.")
    by_tag = make_idea(title="Garden corridors")
    make_idea(title="Benches")
    by_tag.tags = resolve_tags(["hedgehog", "wildlife"])
    db.session.commit()

    ids = _idea_ids(client.get("/search?q=hedgehog"))

    assert sorted(ids) == sorted([by_title.id, by_body.id, by_tag.id])
    assert ids[0] == by_title.id  # title before tags before body
    assert ids[-1] == by_body.id


def test_every_word_must_match(client, make_idea):
    both = make_idea(title="Blue benches", body="Painted blue.")
    make_idea(title="Red benches", body="Painted red.")

    assert _idea_ids(client.get("/search?q=benches+blue")) == [both.id]


def test_within_a_challenge_lists_only_its_ideas_and_no_challenges(
    client, make_challenge, make_idea
):
    here = make_challenge(slug="here", title="Fountains here")
    there = make_challenge(slug="there", title="Fountains there")
    inside = make_idea(here, title="Fountain repairs")
    make_idea(there, title="Fountain repairs too")

    response = client.get("/search?q=fountain&challenge=here")

    assert _idea_ids(response) == [inside.id]
    assert _challenge_slugs(response) == []
    assert 'name="challenge" value="here"' in response.get_data(as_text=True)


@pytest.mark.parametrize("slug", ["nope", "draft-one"])
def test_within_an_unknown_or_draft_challenge_is_not_found(client, make_challenge, slug):
    make_challenge("draft", slug="draft-one")

    assert client.get(f"/search?q=x&challenge={slug}").status_code == 404


# Kept current on write ----------------------------------------------------------------


def test_an_edit_is_searchable_at_once(client, make_idea):
    from engage.ideas.services import edit_idea

    idea = make_idea(title="Bins", body="More bins.", state="pending")
    edit_idea(idea.author, idea, title="Bins", body="Bins with lids against gulls.", tags="")
    db.session.commit()
    from engage.ideas import states

    states.apply_transition(idea, "publish")
    db.session.commit()

    assert _idea_ids(client.get("/search?q=gulls")) == [idea.id]
    assert _idea_ids(client.get("/search?q=more")) == []


def test_removed_tags_are_no_longer_found(client, make_idea):
    from engage.ideas.services import edit_idea

    idea = make_idea(title="Swings", state="pending")
    edit_idea(idea.author, idea, title="Swings", body=idea.body, tags="playground, toddlers")
    db.session.commit()
    from engage.ideas import states

    states.apply_transition(idea, "publish")
    db.session.commit()
    assert _idea_ids(client.get("/search?q=toddlers")) == [idea.id]

    idea.tags = []
    db.session.commit()

    assert _idea_ids(client.get("/search?q=toddlers")) == []


def test_a_hidden_idea_leaves_the_results(client, make_idea):
    from engage.ideas import states

    idea = make_idea(title="Kiosk by the pier")
    assert _idea_ids(client.get("/search?q=kiosk")) == [idea.id]

    states.apply_transition(idea, "hide", "Off topic.")
    db.session.commit()

    assert _idea_ids(client.get("/search?q=kiosk")) == []


def test_a_challenge_edit_is_searchable_at_once(client, make_challenge):
    challenge = make_challenge(slug="edited", summary="Old words.")
    challenge.summary = "Skateparks for teenagers."
    db.session.commit()

    assert _challenge_slugs(client.get("/search?q=skateparks")) == ["edited"]
    assert _challenge_slugs(client.get("/search?q=old+words")) == []


def test_a_deleted_idea_leaves_the_index(client, make_idea):
    idea = make_idea(title="Gazebo")
    db.session.delete(idea)
    db.session.commit()

    assert _idea_ids(client.get("/search?q=gazebo")) == []


# Language ------------------------------------------------------------------------------


def test_accents_are_ignored_on_sqlite(client, make_idea):
    idea = make_idea(title="Pistes de vélo", body="Un café à côté de la crèche.")
    if not _is_sqlite():
        pytest.skip("PostgreSQL's 'english' configuration keeps accents (no unaccent)")

    assert _idea_ids(client.get("/search?q=velo")) == [idea.id]
    assert _idea_ids(client.get("/search?q=CRECHE+cafe")) == [idea.id]
    assert _idea_ids(client.get("/search?q=v%C3%A9lo")) == [idea.id]


def test_accented_words_match_themselves_on_every_engine(client, make_idea):
    idea = make_idea(title="Pistes de vélo", body="Carril para la bicicleta en el puerto.")

    assert _idea_ids(client.get("/search?q=v%C3%A9lo")) == [idea.id]
    assert _idea_ids(client.get("/search?q=bicicleta")) == [idea.id]


def test_english_words_match_their_other_forms_on_postgresql(client, make_idea):
    idea = make_idea(title="Planting trees", body="Plant more.")
    if _is_sqlite():
        pytest.skip("SQLite's unicode61 tokenizer does not stem")

    assert _idea_ids(client.get("/search?q=tree")) == [idea.id]


# Display -------------------------------------------------------------------------------


def test_matched_words_are_marked_and_user_html_is_escaped(client, make_idea):
    make_idea(
        title="<script>alert(1)</script> lamps",
        body="Use <b>lamps</b> & <img src=x onerror=alert(1)> lamps.",
    )

    page = client.get("/search?q=lamps").get_data(as_text=True)
    results = page.split('id="idea-results-title"', 1)[1].split("</h2>", 1)[1]

    assert "<script>" not in results
    assert "<img" not in results
    assert "<b>" not in results
    assert "&lt;script&gt;" in results
    assert "<mark>lamps</mark>" in results
    assert set(re.findall(r"<(/?\w+)", results.split("</ol>", 1)[0])) <= {
        "h3",
        "/h3",
        "a",
        "/a",
        "p",
        "/p",
        "li",
        "/li",
        "mark",
        "/mark",
        "ol",
    }


def test_highlighting_never_leaves_a_mark_open():
    from engage.ideas.search import START, STOP, highlighted

    assert highlighted(f"{START}a{START}b{STOP}{STOP}c{START}<d>") == (
        "<mark>ab</mark>c<mark>&lt;d&gt;</mark>"
    )


def test_the_query_stays_in_both_boxes(client, make_idea):
    make_idea(title="Ferry")

    page = client.get("/search?q=ferry+%22times%22").get_data(as_text=True)

    assert 'id="search-q" name="q" value="ferry &#34;times&#34;"' in page
    assert re.search(
        r'id="site-search-q" name="q" maxlength="200"\s+value="ferry &#34;times&#34;"', page
    )


def test_every_public_page_has_the_search_box(client, make_challenge):
    make_challenge(slug="c")

    for path in ["/", "/challenges", "/challenges/c", "/account/sign-in"]:
        page = client.get(path).get_data(as_text=True)
        assert 'action="/search" role="search"' in page, path
        assert '<label for="site-search-q"' in page, path


@pytest.mark.parametrize("query", ["", "   ", "%20%09"])
def test_an_empty_query_shows_a_hint_and_searches_nothing(app, client, query_counter, query):
    with app.app_context(), query_counter() as counter:
        response = client.get(f"/search?q={query}")

    assert response.status_code == 200
    assert "Type one or more words" in response.get_data(as_text=True)
    assert not any("idea_search" in s or "search_vector" in s for s in counter.statements)


HOSTILE = [
    '"',
    '"unbalanced',
    "a*",
    "*",
    "NEAR(a b)",
    "a NEAR b",
    "-a",
    "a -b",
    "(a",
    "a)",
    "title:a",
    "{title body}:a",
    "a AND OR NOT",
    "^a",
    "a + b",
    "'; DROP TABLE ideas; --",
    "!(a & b) | c <-> d",
    "a:*",
    "\\",
    "%",
    "_",
    "é" * 500,
    "word " * 400,
    "x" * 5000,
    "🙂 🙃",
    "\u200b\u202e",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_answer_normally(client, make_idea, query):
    make_idea(title="Ordinary idea")

    response = client.get("/search", query_string={"q": query, "page": "2"})

    assert response.status_code == 200, query


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999", "51"])
def test_odd_page_numbers_answer_normally(client, make_idea, page):
    make_idea(title="Ordinary idea")

    assert client.get(f"/search?q=ordinary&page={page}").status_code == 200


def test_results_are_paged(app, client, make_challenge, make_idea):
    app.config["IDEAS_PER_PAGE"] = 2
    challenge = make_challenge()
    made = {make_idea(challenge, title=f"Pond {n}").id for n in range(5)}

    first = client.get("/search?q=pond")
    pages = [_idea_ids(first), _idea_ids(client.get("/search?q=pond&page=2"))]
    pages.append(_idea_ids(client.get("/search?q=pond&page=3")))

    assert [len(p) for p in pages] == [2, 2, 1]
    assert set().union(*pages) == made
    assert 'href="/search?page=2&amp;q=pond"' in first.get_data(as_text=True)


def test_a_page_of_results_takes_the_same_number_of_queries(
    app, client, query_counter, make_challenge, make_idea
):
    challenge = make_challenge(title="Statues")
    make_idea(challenge, title="Statues 0")
    client.get("/search?q=statues")  # warm up

    def count() -> int:
        with app.app_context(), query_counter() as counter:
            assert client.get("/search?q=statues").status_code == 200
        return counter.count

    few = count()
    for n in range(1, 15):
        make_idea(challenge, title=f"Statues {n}")

    assert count() == few


def test_no_email_address_is_shown(client, make_user, make_idea):
    author = make_user("secret.author@example.org")
    make_idea(author=author, title="Fences")

    assert "secret.author" not in client.get("/search?q=fences").get_data(as_text=True)


def test_the_challenge_page_searches_within_its_challenge(client, make_challenge, make_idea):
    here = make_challenge(slug="here")
    inside = make_idea(here, title="Murals on the underpass")
    make_idea(title="Murals elsewhere")

    page = client.get("/challenges/here").get_data(as_text=True)
    form = page.split('aria-label="Search the ideas of this challenge"', 1)[1].split("</form>")[0]
    assert 'name="challenge" value="here"' in form
    assert 'name="q"' in form

    assert _idea_ids(client.get("/search", query_string={"q": "murals", "challenge": "here"})) == [
        inside.id
    ]
