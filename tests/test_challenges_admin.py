"""An agency admin runs challenges from the workspace: create (a draft), preview, edit,
dates in their own time zone, publish, close and delete — through the real routes."""

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from engage.challenges.models import Challenge, Tag
from engage.db import now_utc
from engage.extensions import db

NEW = "/agencies/city/challenges/new"
WORKSPACE = "/agencies/city/workspace"
PARIS = ZoneInfo("Europe/Paris")


def _local(value: datetime) -> str:
    """A time as typed in a datetime-local field."""
    return value.strftime("%Y-%m-%dT%H:%M")


def challenge_form(**overrides) -> dict:
    now = now_utc()
    data = {
        "title": "Quieter streets",
        "summary": "How can our streets be quieter at night?",
        "body": "We want **less noise** and:\n\n- more trees\n- slower cars",
        "tags": "Noise, streets",
        "opens_at": _local(now + timedelta(days=1)),
        "submissions_close_at": _local(now + timedelta(days=20)),
        "voting_closes_at": _local(now + timedelta(days=30)),
        "moderation_mode": "post",
        "vote_limit": "",
        "allow_business": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(response, field_id: str) -> str:
    match = re.search(
        rf'<p class="field-error" id="{field_id}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    if match is None:
        return ""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def stored(slug: str) -> Challenge | None:
    db.session.expire_all()
    return db.session.scalar(select(Challenge).where(Challenge.slug == slug))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def flashes(client) -> str:
    return page(client.get(WORKSPACE))


@pytest.fixture
def admin(make_user, make_agency, make_challenge, make_idea):
    # Every factory is set up before any row is made, so all share one session.
    return make_user("alex@example.org", display_name="Alex Agency")


@pytest.fixture
def agency(make_agency, admin, make_user):
    moderator = make_user("morgan@example.org")
    return make_agency(
        "city", name="City of Example", members=[(admin, "admin"), (moderator, "moderator")]
    )


@pytest.fixture
def as_admin(auth, agency):
    assert auth.login("alex@example.org").status_code == 302


@pytest.fixture
def draft(as_admin, client):
    response = client.post(NEW, data=challenge_form())
    assert response.status_code == 302
    return stored("quieter-streets")


# --- create ------------------------------------------------------------------------------


def test_new_challenge_page_opens_for_the_agency_admin(client, as_admin):
    response = client.get(NEW)

    assert response.status_code == 200
    text = page(response)
    assert "New challenge" in text
    assert "Timeline (your time zone: UTC)" in text


def test_create_stores_a_draft_and_returns_to_the_workspace(client, as_admin, agency):
    response = client.post(NEW, data=challenge_form())

    assert response.status_code == 302
    assert response.headers["Location"] == WORKSPACE
    challenge = stored("quieter-streets")
    assert challenge.agency_id == agency.id
    assert challenge.published_at is None
    assert challenge.phase() == "draft"
    assert challenge.title == "Quieter streets"
    assert challenge.summary == "How can our streets be quieter at night?"
    assert challenge.body.startswith("We want **less noise**")
    assert [tag.name for tag in challenge.tags] == ["noise", "streets"]


def test_created_draft_is_listed_in_the_workspace_with_preview_and_publish(client, draft):
    text = page(client.get(WORKSPACE))

    assert "Quieter streets" in text
    assert "Draft" in text
    assert f'href="/challenges/{draft.slug}">Preview' in text
    assert f'action="/agencies/city/challenges/{draft.slug}/publish"' in text
    assert "The challenge is saved." in text


def test_draft_is_not_found_by_visitors(client, draft, auth):
    auth.logout()

    assert client.get(f"/challenges/{draft.slug}").status_code == 404


def test_draft_is_absent_from_home_and_the_challenge_list(client, draft, auth):
    auth.logout()

    assert "Quieter streets" not in page(client.get("/"))
    assert "Quieter streets" not in page(client.get("/challenges"))


def test_draft_is_not_found_by_a_signed_in_citizen(client, draft, auth, make_user):
    make_user("citizen@example.org")
    auth.logout()
    auth.login("citizen@example.org")

    assert client.get(f"/challenges/{draft.slug}").status_code == 404


@pytest.mark.parametrize("email", ["alex@example.org", "morgan@example.org"])
def test_draft_is_shown_to_the_agency_staff_as_a_preview(client, draft, auth, email):
    auth.logout()
    auth.login(email)

    response = client.get(f"/challenges/{draft.slug}")

    assert response.status_code == 200
    text = page(response)
    assert "Quieter streets" in text
    assert "<strong>less noise</strong>" in text
    assert "Draft" in text


# --- preview -----------------------------------------------------------------------------


def test_preview_renders_the_markdown_and_stores_nothing(client, as_admin):
    response = client.post(NEW, data=challenge_form(preview="1", tags="brand-new-tag"))

    assert response.status_code == 200
    text = page(response)
    assert '<section class="preview"' in text
    assert "<strong>less noise</strong>" in text
    assert "<li>more trees</li>" in text
    assert count(Challenge) == 0
    assert count(Tag) == 0


def test_preview_sanitizes_the_markdown(client, as_admin):
    body = "Hello <script>alert(1)</script> [x](javascript:alert(1))"

    response = client.post(NEW, data=challenge_form(preview="1", body=body))

    raw = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw
    assert 'href="javascript:' not in raw


def test_preview_while_editing_changes_nothing(client, draft):
    response = client.post(
        f"/agencies/city/challenges/{draft.slug}/edit",
        data=challenge_form(preview="1", title="Something else", body="*new* body"),
    )

    assert response.status_code == 200
    assert "<em>new</em> body" in page(response)
    assert stored("quieter-streets").title == "Quieter streets"
    assert "new" not in stored("quieter-streets").body


# --- edit --------------------------------------------------------------------------------


def test_edit_page_shows_the_stored_values(client, draft):
    response = client.get(f"/agencies/city/challenges/{draft.slug}/edit")

    assert response.status_code == 200
    text = page(response)
    assert 'value="Quieter streets"' in text
    assert 'value="noise, streets"' in text
    assert f'value="{_local(draft.opens_at)}"' in text


def test_edit_changes_the_challenge_and_keeps_its_address(client, draft):
    response = client.post(
        f"/agencies/city/challenges/{draft.slug}/edit",
        data=challenge_form(title="Calmer streets", summary="New summary.", tags="calm"),
    )

    assert response.status_code == 302
    challenge = stored("quieter-streets")
    assert challenge.id == draft.id
    assert challenge.title == "Calmer streets"
    assert challenge.summary == "New summary."
    assert [tag.name for tag in challenge.tags] == ["calm"]
    assert count(Challenge) == 1


def test_edit_of_another_agencys_challenge_is_not_found(
    client, as_admin, make_challenge, make_agency
):
    other = make_challenge("draft", agency=make_agency("harbour"), slug="their-draft")

    response = client.post(
        "/agencies/city/challenges/their-draft/edit", data=challenge_form(title="Taken over")
    )

    assert response.status_code == 404
    assert stored("their-draft").title == other.title


# --- dates -------------------------------------------------------------------------------


def _days(n: int) -> str:
    return _local(now_utc() + timedelta(days=n))


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        pytest.param(
            {"opens_at": _days(5), "submissions_close_at": _days(4)},
            "submissions_close_at",
            "Ideas must close after the challenge opens.",
            id="ideas-close-before-opening",
        ),
        pytest.param(
            {"opens_at": _days(5), "submissions_close_at": _days(5)},
            "submissions_close_at",
            "Ideas must close after the challenge opens.",
            id="ideas-close-as-it-opens",
        ),
        pytest.param(
            {"submissions_close_at": _days(20), "voting_closes_at": _days(19)},
            "voting_closes_at",
            "Voting cannot close before ideas close.",
            id="voting-closes-before-ideas",
        ),
        pytest.param(
            {"opens_at": ""},
            "opens_at",
            "Enter a date and time, like 2027-03-31 17:00.",
            id="missing-date",
        ),
        pytest.param(
            {"voting_closes_at": "31/03/2027 17:00"},
            "voting_closes_at",
            "Enter a date and time, like 2027-03-31 17:00.",
            id="malformed-date",
        ),
    ],
)
def test_bad_timeline_is_refused_next_to_the_field(client, as_admin, dates, field, message):
    response = client.post(NEW, data=challenge_form(**dates))

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert count(Challenge) == 0
    assert count(Tag) == 0


def test_voting_may_close_when_ideas_close(client, as_admin):
    response = client.post(
        NEW, data=challenge_form(submissions_close_at=_days(20), voting_closes_at=_days(20))
    )

    assert response.status_code == 302
    challenge = stored("quieter-streets")
    assert challenge.submissions_close_at == challenge.voting_closes_at


def test_bad_timeline_on_edit_changes_nothing(client, draft):
    before = (draft.opens_at, draft.submissions_close_at, draft.voting_closes_at)

    response = client.post(
        f"/agencies/city/challenges/{draft.slug}/edit",
        data=challenge_form(title="Changed", opens_at=_days(25)),
    )

    assert response.status_code == 422
    assert "Ideas must close after the challenge opens." in field_error(
        response, "submissions_close_at"
    )
    challenge = stored("quieter-streets")
    assert challenge.title == "Quieter streets"
    assert (
        challenge.opens_at,
        challenge.submissions_close_at,
        challenge.voting_closes_at,
    ) == before


YEAR = now_utc().year + 2
PARIS_DATES = {  # typed in Paris → stored in UTC (winter +1 h, summer +2 h)
    "opens_at": (f"{YEAR}-01-15T09:00", datetime(YEAR, 1, 15, 8, 0, tzinfo=UTC)),
    "submissions_close_at": (f"{YEAR}-03-31T17:00", datetime(YEAR, 3, 31, 15, 0, tzinfo=UTC)),
    "voting_closes_at": (f"{YEAR}-07-01T00:30", datetime(YEAR, 6, 30, 22, 30, tzinfo=UTC)),
}


@pytest.fixture
def parisian(make_user, agency):
    from engage.agencies.models import Membership

    user = make_user("paris@example.org", timezone="Europe/Paris")
    db.session.add(Membership(agency_id=agency.id, user_id=user.id, role="admin"))
    db.session.commit()
    return user


def _paris_form() -> dict:
    return challenge_form(**{name: typed for name, (typed, _) in PARIS_DATES.items()})


def test_dates_typed_in_the_admins_time_zone_are_stored_in_utc(client, auth, parisian):
    auth.login("paris@example.org")

    response = client.post(NEW, data=_paris_form())

    assert response.status_code == 302
    challenge = stored("quieter-streets")
    for name, (_, utc) in PARIS_DATES.items():
        assert getattr(challenge, name) == utc, name


def test_form_names_the_admins_time_zone(client, auth, parisian):
    auth.login("paris@example.org")

    assert "Timeline (your time zone: Europe/Paris)" in page(client.get(NEW))


def test_dates_are_shown_back_in_the_admins_time_zone(client, auth, parisian):
    auth.login("paris@example.org")
    client.post(NEW, data=_paris_form())

    text = page(client.get("/agencies/city/challenges/quieter-streets/edit"))

    for name, (typed, _) in PARIS_DATES.items():
        assert re.search(rf'id="{name}"[^>]*value="{typed}"', text), name


def test_dates_entered_in_paris_are_shown_in_utc_to_an_admin_without_time_zone(
    client, auth, parisian
):
    auth.login("paris@example.org")
    client.post(NEW, data=_paris_form())
    auth.logout()
    auth.login("alex@example.org")

    text = page(client.get("/agencies/city/challenges/quieter-streets/edit"))

    assert f'value="{YEAR}-03-31T15:00"' in text


def test_public_timeline_is_shown_in_the_viewers_time_zone_and_language(
    app, client, auth, parisian, draft
):
    challenge = stored("quieter-streets")
    parisian.locale = "fr"
    db.session.commit()
    auth.logout()
    auth.login("paris@example.org")

    text = page(client.get(f"/challenges/{challenge.slug}"))

    with app.test_request_context(), force_locale("fr"):
        assert gettext("Timeline") in text
    for moment in (challenge.opens_at, challenge.voting_closes_at):
        shown = format_datetime(moment, "medium", tzinfo=PARIS, locale="fr")
        assert shown in text


# --- publish, close, delete --------------------------------------------------------------


def _act(client, slug: str, action: str):
    return client.post(f"/agencies/city/challenges/{slug}/{action}")


def test_publish_makes_the_draft_public(client, draft, auth):
    response = _act(client, draft.slug, "publish")

    assert response.status_code == 302
    assert response.headers["Location"] == WORKSPACE
    assert stored(draft.slug).published_at is not None
    assert "The challenge is published." in flashes(client)
    auth.logout()
    assert client.get(f"/challenges/{draft.slug}").status_code == 200
    assert "Quieter streets" in page(client.get("/challenges"))
    assert "Quieter streets" in page(client.get("/"))


def test_publish_twice_is_refused_with_a_message(client, draft):
    _act(client, draft.slug, "publish")
    published_at = stored(draft.slug).published_at

    response = _act(client, draft.slug, "publish")

    assert response.status_code == 302
    assert "This challenge is already published." in flashes(client)
    assert stored(draft.slug).published_at == published_at


def test_close_ends_a_published_challenge_now(client, as_admin, make_challenge, agency):
    challenge = make_challenge("open", agency=agency, slug="running")

    response = _act(client, "running", "close")

    assert response.status_code == 302
    assert stored("running").closed_at is not None
    assert stored("running").phase() == "closed"
    assert "The challenge is closed." in flashes(client)
    assert client.get(f"/challenges/{challenge.slug}").status_code == 200


def test_closing_a_draft_is_refused(client, draft):
    _act(client, draft.slug, "close")

    assert "A draft cannot be closed; delete it instead." in flashes(client)
    assert stored(draft.slug).closed_at is None


def test_closing_twice_is_refused(client, as_admin, make_challenge, agency):
    make_challenge("closed", agency=agency, slug="over")
    closed_at = stored("over").closed_at

    _act(client, "over", "close")

    assert "This challenge is already closed." in flashes(client)
    assert stored("over").closed_at == closed_at


@pytest.mark.parametrize("phase", ["draft", "open", "closed"])
def test_delete_removes_a_challenge_without_ideas(client, as_admin, make_challenge, agency, phase):
    make_challenge(phase, agency=agency, slug="empty", tags=["noise"])

    response = _act(client, "empty", "delete")

    assert response.status_code == 302
    assert stored("empty") is None
    assert "The challenge is deleted." in flashes(client)


@pytest.mark.parametrize(
    "state",
    ["published", "pending", "rejected", "changes_requested", "hidden", "withdrawn", "merged"],
)
def test_delete_is_refused_when_the_challenge_has_ideas(
    client, as_admin, make_challenge, make_idea, agency, state
):
    challenge = make_challenge("open", agency=agency, slug="busy")
    make_idea(challenge, state=state)

    response = _act(client, "busy", "delete")

    assert response.status_code == 302
    assert stored("busy") is not None
    assert "A challenge with ideas cannot be deleted. Close it instead." in flashes(client)


@pytest.mark.parametrize("state", ["published", "pending", "rejected", "withdrawn"])
def test_delete_button_is_not_offered_for_a_challenge_with_ideas(
    client, as_admin, make_challenge, make_idea, agency, state
):
    make_idea(make_challenge("open", agency=agency, slug="busy"), state=state)

    body = client.get(WORKSPACE).get_data(as_text=True)

    assert 'action="/agencies/city/challenges/busy/close"' in body
    assert 'action="/agencies/city/challenges/busy/delete"' not in body


def test_delete_button_is_offered_for_an_empty_challenge(client, as_admin, make_challenge, agency):
    make_challenge("open", agency=agency, slug="empty")

    body = client.get(WORKSPACE).get_data(as_text=True)

    assert 'action="/agencies/city/challenges/empty/delete"' in body


# --- slug and options --------------------------------------------------------------------


def test_slug_is_made_unique(client, as_admin, make_challenge, make_agency):
    make_challenge("open", agency=make_agency("harbour"), slug="quieter-streets")

    client.post(NEW, data=challenge_form())
    client.post(NEW, data=challenge_form())

    slugs = set(db.session.scalars(select(Challenge.slug)))
    assert slugs == {"quieter-streets", "quieter-streets-2", "quieter-streets-3"}


def test_slug_is_made_from_the_title_in_plain_letters(client, as_admin):
    client.post(NEW, data=challenge_form(title="Vélo & ville : où rouler ?"))

    assert stored("velo-ville-ou-rouler") is not None


def test_options_are_stored(client, as_admin):
    client.post(
        NEW, data=challenge_form(moderation_mode="pre", vote_limit="3", allow_business=None)
    )

    challenge = stored("quieter-streets")
    assert challenge.moderation_mode == "pre"
    assert challenge.is_pre_moderated
    assert challenge.vote_limit == 3
    assert challenge.allow_business is False


def test_options_default_to_post_moderation_no_limit_and_businesses(client, as_admin):
    client.post(NEW, data=challenge_form())

    challenge = stored("quieter-streets")
    assert challenge.moderation_mode == "post"
    assert challenge.vote_limit is None
    assert challenge.allow_business is True


def test_options_can_be_changed_on_edit(client, draft):
    client.post(
        f"/agencies/city/challenges/{draft.slug}/edit",
        data=challenge_form(moderation_mode="pre", vote_limit="7", allow_business=None),
    )

    challenge = stored(draft.slug)
    assert (challenge.moderation_mode, challenge.vote_limit, challenge.allow_business) == (
        "pre",
        7,
        False,
    )


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("0", "vote_limit", "Choose a number between 1 and 1000, or leave it empty."),
        ("-2", "vote_limit", "Choose a number between 1 and 1000, or leave it empty."),
        ("many", "vote_limit", "Not a valid integer value."),
    ],
)
def test_bad_vote_limit_is_refused_next_to_the_field(client, as_admin, value, field, message):
    response = client.post(NEW, data=challenge_form(vote_limit=value))

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert count(Challenge) == 0


def test_unknown_moderation_mode_is_refused(client, as_admin):
    response = client.post(NEW, data=challenge_form(moderation_mode="never"))

    assert response.status_code == 422
    assert count(Challenge) == 0
