"""Challenge dates far from today are refused with a form error, whatever the admin's time
zone: moving them in or out of it could leave the years a date can hold."""

import html
import re

import pytest
from sqlalchemy import func, select

from engage.challenges.models import Challenge
from engage.extensions import db

NEW = "/agencies/city/challenges/new"


@pytest.fixture
def kiritimati_admin(client, auth, make_user, make_agency):
    """An agency admin in UTC+14, signed in."""
    admin = make_user("kiri@example.org", timezone="Pacific/Kiritimati")
    make_agency("city", members=[(admin, "admin")])
    auth.login("kiri@example.org")
    return admin


def challenge_form(**dates) -> dict:
    return {
        "title": "Quieter streets",
        "summary": "How can our streets be quieter at night?",
        "opens_at": "2030-01-01T09:00",
        "submissions_close_at": "2030-02-01T09:00",
        "voting_closes_at": "2030-03-01T09:00",
        "moderation_mode": "post",
        **dates,
    }


def field_error(response, field_id: str) -> str:
    match = re.search(
        rf'<p class="field-error" id="{field_id}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def challenges() -> int:
    return db.session.scalar(select(func.count()).select_from(Challenge))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("voting_closes_at", "9999-12-31T23:59"),
        ("opens_at", "0001-01-01T00:00"),
        ("submissions_close_at", "2101-01-01T00:00"),
        ("opens_at", "1999-12-31T23:59"),
    ],
)
def test_date_outside_the_years_2000_to_2100_is_a_form_error(
    client, kiritimati_admin, field, value
):
    response = client.post(NEW, data=challenge_form(**{field: value}))
    assert response.status_code == 422
    assert "between the years 2000 and 2100" in field_error(response, field)
    assert challenges() == 0


def test_dates_within_the_range_are_saved_in_utc_plus_14(client, kiritimati_admin):
    response = client.post(NEW, data=challenge_form(voting_closes_at="2100-12-31T23:59"))
    assert response.status_code == 302
    assert challenges() == 1
    assert client.get(response.location).status_code == 200
