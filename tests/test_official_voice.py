"""Official voice: comments by the agency's own staff on its ideas carry an "official"
badge with the agency's name; staff of another agency and citizens get none."""

import html

import pytest

from engage.extensions import db
from engage.ideas.services import add_comment

BADGE = "Official response — Parks Department"


@pytest.fixture
def world(make_user, make_agency, make_challenge, make_idea):
    people = {
        name: make_user(f"{name}@example.org", display_name=name.title())
        for name in ("admin", "moderator", "outsider", "citizen")
    }
    agency = make_agency(
        name="Parks Department",
        members=[(people["admin"], "admin"), (people["moderator"], "moderator")],
    )
    make_agency(name="Harbour", members=[(people["outsider"], "admin")])
    idea = make_idea(make_challenge("open", agency=agency))
    return people, idea


def comment_page(client, idea) -> str:
    response = client.get(f"/ideas/{idea.id}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def comment_html(page: str, author: str) -> str:
    """The HTML of the comment whose author line names `author`."""
    end = page.index(f"{author} · <time")
    return page[page.rindex('<li class="comment', 0, end) : page.index("</li>", end)]


@pytest.mark.parametrize(
    "author, official",
    [("admin", True), ("moderator", True), ("outsider", False), ("citizen", False)],
)
def test_official_badge_only_for_staff_of_the_ideas_agency(client, world, author, official):
    people, idea = world
    add_comment(people[author], idea, f"Said by {author}.")
    db.session.commit()

    comment = comment_html(comment_page(client, idea), author.title())

    assert (BADGE in comment) is official
    assert ('class="comment official"' in comment) is official


def test_site_admins_who_are_not_members_do_not_speak_for_the_agency(client, world, make_user):
    people, idea = world
    site_admin = make_user(is_admin=True, display_name="Operator")
    add_comment(site_admin, idea, "A platform note.")
    db.session.commit()

    assert BADGE not in comment_page(client, idea)


def test_official_badges_cost_one_query_however_many_comments(app, client, world, query_counter):
    people, idea = world
    add_comment(people["admin"], idea, "First.")
    db.session.commit()
    with app.app_context(), query_counter() as few:
        assert client.get(f"/ideas/{idea.id}").status_code == 200
    for number in range(6):
        add_comment(people["admin" if number % 2 else "citizen"], idea, f"More {number}.")
    db.session.commit()

    with app.app_context(), query_counter() as many:
        page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)

    assert html.unescape(page).count(BADGE) == 4
    assert many.count == few.count
