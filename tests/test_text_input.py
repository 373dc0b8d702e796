"""Typed text is stored normalized (engage.forms.Form with engage.text): NFC everywhere;
in names and titles no bidi controls, zero-width characters or line breaks; in long texts
newlines kept and control characters gone — proved through the real forms."""

import importlib
import pkgutil
from datetime import timedelta

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select

import engage
from engage.agencies.models import Agency
from engage.auth.models import User
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.extensions import db
from engage.forms import Form
from engage.ideas.models import Comment, Idea
from engage.text import clean_line, clean_text
from engage.tokens.models import ApiToken

PASSWORD = "violet kettle harbour 42"

# One line as a hostile or careless typist sends it: a decomposed accent, bidi overrides
# and isolates, zero-width characters, every kind of line break, a tab, extra spaces.
DIRTY_LINE = (
    "  Cafe\u0301 \u202etxt.exe\u202c \u2066Ada\u2069 zero\u200bwidth\ufeff"
    " one\u2028two\u2029three\rfour\x0bfive\x85six\tseven\nend  "
)
CLEAN_LINE = "Café txt.exe Ada zerowidth one two three four five six seven end"

DIRTY_TEXT = "Cafe\u0301 first line\r\nsecond\rthird\n\nnext\x07para\x1bgraph\x85 done\x0b."
CLEAN_TEXT = "Café first line\nsecond\nthird\n\nnextparagraph done."


def stored(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(model).where(*where))


@pytest.fixture
def challenge(make_challenge):
    return make_challenge("open", slug="trees")


@pytest.fixture
def citizen(make_user, auth):
    person = make_user("citizen@example.org")
    auth.login("citizen@example.org")
    return person


@pytest.fixture
def agency_admin(make_user, make_agency, auth):
    person = make_user("alex@example.org")
    make_agency("city", name="City", members=[(person, "admin")])
    auth.login("alex@example.org")
    return person


def register(client, **fields):
    data = {
        "account_type": "citizen",
        "display_name": "Ada",
        "organisation_name": "",
        "email": "ada@example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        **fields,
    }
    return client.post("/account/register", data=data)


def submit_idea(client, **fields):
    data = {"title": "Plant trees", "body": "Along the river.", "tags": "", "location": ""}
    return client.post("/challenges/trees/ideas/new", data={**data, **fields})


def challenge_form(**fields) -> dict:
    now = now_utc()
    data = {
        "title": "Quieter streets",
        "summary": "How can our streets be quieter at night?",
        "body": "",
        "tags": "",
        "opens_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "submissions_close_at": (now + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
        "voting_closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "moderation_mode": "post",
        "vote_limit": "",
    }
    return {**data, **fields}


# Names and titles, through their forms ------------------------------------------------------


def test_display_name_is_stored_clean_at_registration(client, app_context):
    assert register(client, display_name=DIRTY_LINE).status_code == 200

    assert stored(User, User.email == "ada@example.org").display_name == CLEAN_LINE


def test_organisation_name_is_stored_clean_at_registration(client, app_context):
    response = register(client, account_type="business", organisation_name=DIRTY_LINE)

    assert response.status_code == 200
    assert stored(User, User.email == "ada@example.org").organisation_name == CLEAN_LINE


def test_display_and_organisation_names_are_stored_clean_from_the_profile(client, make_user, auth):
    make_user("firm@example.org", account_type="business")
    auth.login("firm@example.org")

    response = client.post(
        "/account/",
        data={"display_name": DIRTY_LINE, "organisation_name": DIRTY_LINE, "locale": ""},
    )

    assert response.status_code == 302
    person = stored(User, User.email == "firm@example.org")
    assert (person.display_name, person.organisation_name) == (CLEAN_LINE, CLEAN_LINE)


def test_idea_title_and_location_are_stored_clean(client, citizen, challenge):
    response = submit_idea(client, title=DIRTY_LINE, location=DIRTY_LINE)

    assert response.status_code == 302
    idea = stored(Idea)
    assert (idea.title, idea.location) == (CLEAN_LINE, CLEAN_LINE)


def test_idea_tags_are_stored_clean(client, citizen, challenge):
    response = submit_idea(client, tags="Cafe\u0301\u200b, \u202etrees\u202c\u2028, a\rb")

    assert response.status_code == 302
    assert sorted(tag.name for tag in stored(Idea).tags) == ["a b", "café", "trees"]


def test_edited_idea_title_is_stored_clean(client, citizen, challenge, make_idea):
    idea = make_idea(challenge, author=citizen, state="changes_requested")

    response = client.post(
        f"/ideas/{idea.id}/edit",
        data={"title": DIRTY_LINE, "body": "Along the river.", "tags": "", "location": ""},
    )

    assert response.status_code == 302
    assert stored(Idea).title == CLEAN_LINE


def test_challenge_title_and_tags_are_stored_clean(client, agency_admin):
    response = client.post(
        "/agencies/city/challenges/new",
        data=challenge_form(title=DIRTY_LINE, tags="\u2066Noise\u2069, stre\u200bets"),
    )

    assert response.status_code == 302
    challenge = stored(Challenge)
    assert challenge.title == CLEAN_LINE
    assert sorted(tag.name for tag in challenge.tags) == ["noise", "streets"]


def test_agency_name_is_stored_clean(client, make_user, auth):
    make_user("root@example.org", is_admin=True)
    auth.login("root@example.org")

    response = client.post(
        "/admin/",
        data={
            "name": DIRTY_LINE,
            "slug": "cafe",
            "description": "",
            "website": "",
            "first_admin_email": "boss@example.org",
        },
    )

    assert response.status_code == 302
    assert stored(Agency, Agency.slug == "cafe").name == CLEAN_LINE


def test_token_name_is_stored_clean(client, agency_admin):
    response = client.post(
        "/agencies/city/integrations/tokens",
        data={"name": "\u202eBacklog\u202c\u200b sync\u2028", "scopes": ["ideas:read"]},
    )

    assert response.status_code == 201
    assert stored(ApiToken).name == "Backlog sync"


def test_a_name_of_only_invisible_characters_counts_as_empty(client, app_context):
    response = register(client, display_name="\u200b\u202e\u2066 \u2028")

    assert response.status_code == 422
    assert "Enter the name to show." in response.get_data(as_text=True)
    assert stored(User) is None


# Long texts ----------------------------------------------------------------------------------


def test_idea_body_keeps_its_newlines_and_loses_control_characters(client, citizen, challenge):
    response = submit_idea(client, body=DIRTY_TEXT)

    assert response.status_code == 302
    assert stored(Idea).body == CLEAN_TEXT


def test_comment_keeps_its_newlines_and_loses_control_characters(
    client, citizen, challenge, make_idea
):
    idea = make_idea(challenge)

    response = client.post(f"/ideas/{idea.id}/comments", data={"body": DIRTY_TEXT})

    assert response.status_code == 302
    assert stored(Comment).body == CLEAN_TEXT


# Every form normalizes -------------------------------------------------------------------------


def _all_subclasses(cls) -> set:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_form_of_the_app_derives_from_the_normalizing_base():
    for module in pkgutil.walk_packages(engage.__path__, "engage."):
        importlib.import_module(module.name)
    forms = {cls for cls in _all_subclasses(FlaskForm) if cls.__module__.startswith("engage.")} - {
        Form
    }

    assert len(forms) > 20
    assert [cls for cls in forms if not issubclass(cls, Form)] == []


# clean_line and clean_text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  Ada  Lovelace ", "Ada Lovelace"),
        ("Cafe\u0301", "Café"),
        ("A\u030a", "Å"),
        ("\u202eevil\u202c", "evil"),
        ("\u2066iso\u2069\u2067late\u2068", "isolate"),
        ("\u200e\u200fmarks\u061c", "marks"),
        ("zero\u200bwidth\u200c\u200djoin\u2060er\ufeff", "zerowidthjoiner"),
        ("soft\u00adhyphen", "softhyphen"),
        ("one\u2028two\u2029three", "one two three"),
        ("a\rb\nc\r\nd", "a b c d"),
        ("a\x0bb\x0cc\x85d", "a b c d"),
        ("bell\x07 escape\x1b del\x7f", "bell escape del"),
        ("tab\tand\u00a0nbsp", "tab and nbsp"),
        ("\u200b\u202e \u2028", ""),
        ("日本語の名前", "日本語の名前"),
        ("مرحبا بالعالم", "مرحبا بالعالم"),
        ("emoji 🌳", "emoji 🌳"),
    ],
)
def test_clean_line(value, expected):
    assert clean_line(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  \n text \n  ", "text"),
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("para\n\npara", "para\n\npara"),
        ("- item\n  - nested\n\tcode", "- item\n  - nested\n\tcode"),
        ("Cafe\u0301", "Café"),
        ("bell\x07 escape\x1b del\x7f nel\x85 vt\x0b ff\x0c", "bell escape del nel vt ff"),
    ],
)
def test_clean_text(value, expected):
    assert clean_text(value) == expected


def test_clean_line_is_idempotent():
    assert clean_line(clean_line(DIRTY_LINE)) == clean_line(DIRTY_LINE)


def test_clean_text_is_idempotent():
    assert clean_text(clean_text(DIRTY_TEXT)) == clean_text(DIRTY_TEXT)
