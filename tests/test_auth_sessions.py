"""Server-side sessions: cookies that stop working when their session ends (sign-out,
idle or absolute expiry, password change or reset, suspension), and the fresh sign-in
that sensitive staff actions need.

The clock is moved by moving a session's timestamps in the database. No app context is
held while requests run (see test_auth_views.py), so each request loads its own person.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask_login.utils import decode_cookie
from sqlalchemy import func, select

from engage.agencies.models import Agency, Membership
from engage.auth.models import User, UserSession
from engage.db import now_utc
from engage.extensions import db
from engage.tokens.models import ApiToken

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much better passphrase"
SIGN_IN, SIGN_OUT, CONFIRM = "/account/sign-in", "/account/sign-out", "/account/confirm"
PROFILE, CHANGE_PASSWORD, RESET = "/account/", "/account/password", "/account/reset"
INTEGRATIONS = "/agencies/city/integrations"
NEW_TOKEN = "/agencies/city/integrations/tokens"
DOMAIN = "engage.test"


@dataclass(frozen=True)
class Person:
    id: int
    email: str


@pytest.fixture
def person(app):
    """An account, made in a short app context."""
    with app.app_context():
        user = User(email="ada@example.org", display_name="Ada", email_verified_at=now_utc())
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return Person(user.id, user.email)


@pytest.fixture
def agency_admin(app, person):
    """`person`, admin of the agency "city"."""
    with app.app_context():
        agency = Agency(name="City", slug="city")
        db.session.add(agency)
        db.session.add(Membership(agency=agency, user_id=person.id, role="admin"))
        db.session.commit()
    return person


def sign_in(client, person, **extra):
    return client.post(SIGN_IN, data={"email": person.email, "password": PASSWORD, **extra})


def is_signed_in(client) -> bool:
    response = client.get(PROFILE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def browser(app, *cookies):
    """A new browser holding only copies of `cookies`."""
    new = app.test_client()
    for cookie in cookies:
        new.set_cookie(cookie.key, cookie.value, domain=DOMAIN)
    return new


def session_cookie(client):
    return client.get_cookie("session", domain=DOMAIN)


def remember_cookie(client):
    return client.get_cookie("remember_token", domain=DOMAIN)


def rows(app) -> list[UserSession]:
    with app.app_context():
        found = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
        db.session.expunge_all()
        return found


def move_back(app, *, session_id=None, **deltas: timedelta) -> None:
    """Move timestamps of one session (or all) into the past, as if time had passed."""
    with app.app_context():
        query = select(UserSession)
        if session_id is not None:
            query = query.where(UserSession.id == session_id)
        for row in db.session.scalars(query):
            for name, delta in deltas.items():
                setattr(row, name, getattr(row, name) - delta)
        db.session.commit()


def age_all(app, delta: timedelta) -> None:
    """Let `delta` pass for every session without a request."""
    move_back(app, created_at=delta, last_seen_at=delta, expires_at=delta)


def token_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ApiToken.id)))


# --- cookies carry a random token, the database only its hash ------------------------


def test_sign_in_stores_a_session_with_only_the_hash_of_the_cookie_token(app, client, person):
    sign_in(client, person)

    with client.session_transaction() as browser_session:
        token = browser_session["_user_id"]
    [row] = rows(app)
    assert row.user_id == person.id
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43  # 32 random bytes


def test_remember_cookie_carries_the_same_token(app, client, person):
    sign_in(client, person, remember="y")

    with client.session_transaction() as browser_session, app.app_context():
        assert decode_cookie(remember_cookie(client).value) == browser_session["_user_id"]


def test_every_sign_in_gets_its_own_session(app, person):
    sign_in(app.test_client(), person)
    sign_in(app.test_client(), person)

    assert len({row.token_hash for row in rows(app)}) == 2


def test_session_cookie_with_an_unknown_token_is_not_signed_in(client, person):
    with client.session_transaction() as browser_session:
        browser_session["_user_id"] = "x" * 43

    assert not is_signed_in(client)


def test_session_cookie_of_the_old_id_and_version_form_is_not_signed_in(client, person):
    with client.session_transaction() as browser_session:
        browser_session["_user_id"] = f"{person.id}:1"

    assert not is_signed_in(client)


def test_signed_in_page_loads_the_person_with_one_query(app, client, person, query_counter):
    sign_in(client, person)

    with app.app_context(), query_counter() as counter:
        assert client.get(CHANGE_PASSWORD).status_code == 200
    loads = [s for s in counter.statements if re.search(r"\b(users|user_sessions)\b", s)]
    assert len(loads) == 1
    assert "JOIN users" in loads[0]


# --- signing out ends the session everywhere -----------------------------------------


def test_sign_out_deletes_the_session(app, client, person):
    sign_in(client, person)

    client.post(SIGN_OUT)

    assert rows(app) == []


def test_copied_session_cookie_stops_working_after_sign_out(app, client, person):
    sign_in(client, person)
    copy = browser(app, session_cookie(client))
    assert is_signed_in(copy)

    client.post(SIGN_OUT)

    assert not is_signed_in(copy)


def test_copied_remember_cookie_stops_working_after_sign_out(app, client, person):
    sign_in(client, person, remember="y")
    copy = browser(app, remember_cookie(client))
    assert is_signed_in(browser(app, remember_cookie(client)))

    client.post(SIGN_OUT)

    assert not is_signed_in(copy)


def test_signing_out_one_browser_keeps_the_others(app, person):
    here, there = app.test_client(), app.test_client()
    sign_in(here, person)
    sign_in(there, person)

    here.post(SIGN_OUT)

    assert is_signed_in(there)


# --- idle and absolute limits --------------------------------------------------------


def test_browser_session_ends_after_its_idle_minutes(app, client, person):
    sign_in(client, person)

    move_back(app, last_seen_at=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))

    assert not is_signed_in(client)


def test_browser_session_used_within_its_idle_minutes_goes_on(app, client, person):
    sign_in(client, person)

    move_back(app, last_seen_at=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 5))

    assert is_signed_in(client)


def test_browser_session_ends_at_its_absolute_limit_however_busy(app, client, person):
    sign_in(client, person)
    [row] = rows(app)
    assert row.expires_at - row.created_at == timedelta(hours=app.config["SESSION_MAX_HOURS"])

    move_back(app, created_at=timedelta(hours=app.config["SESSION_MAX_HOURS"]))
    move_back(app, expires_at=timedelta(hours=app.config["SESSION_MAX_HOURS"]))

    assert not is_signed_in(client)


def test_remembered_session_outlives_the_idle_minutes_of_a_browser_session(app, client, person):
    sign_in(client, person, remember="y")

    age_all(app, timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))

    assert is_signed_in(browser(app, remember_cookie(client)))


def test_remembered_session_ends_after_its_idle_days(app, client, person):
    sign_in(client, person, remember="y")

    age_all(app, timedelta(days=app.config["REMEMBER_IDLE_DAYS"], minutes=1))

    assert not is_signed_in(browser(app, remember_cookie(client)))


def test_remembered_session_ends_after_remember_days_however_busy(app, client, person):
    sign_in(client, person, remember="y")
    cookie = remember_cookie(client)

    move_back(app, created_at=timedelta(days=app.config["REMEMBER_DAYS"]))
    move_back(app, expires_at=timedelta(days=app.config["REMEMBER_DAYS"]))

    assert not is_signed_in(browser(app, cookie))


def test_remember_me_lasts_remember_days_on_server_and_in_the_browser(app, client, person):
    sign_in(client, person, remember="y")

    [row] = rows(app)
    days = timedelta(days=app.config["REMEMBER_DAYS"])
    assert row.remember
    assert row.expires_at - row.created_at == days
    cookie_life = remember_cookie(client).expires.replace(tzinfo=None) - now_utc().replace(
        tzinfo=None
    )
    assert days - timedelta(hours=1) < cookie_life <= days


def test_use_is_not_recorded_again_within_a_minute(app, client, person):
    sign_in(client, person)
    move_back(app, last_seen_at=timedelta(seconds=30))
    [before] = rows(app)

    client.get(PROFILE)

    assert rows(app)[0].last_seen_at == before.last_seen_at


def test_use_is_recorded_once_a_minute_has_passed(app, client, person):
    sign_in(client, person)
    move_back(app, last_seen_at=timedelta(minutes=5))
    [before] = rows(app)

    client.get(PROFILE)

    assert rows(app)[0].last_seen_at > before.last_seen_at + timedelta(minutes=4)


def test_sign_in_deletes_the_persons_ended_sessions_and_keeps_live_ones(app, person):
    sign_in(app.test_client(), person)
    sign_in(app.test_client(), person, remember="y")
    [ended, live] = rows(app)
    move_back(
        app,
        session_id=ended.id,
        last_seen_at=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1),
    )

    sign_in(app.test_client(), person)

    assert [row.id for row in rows(app)][:1] == [live.id]
    assert ended.id not in [row.id for row in rows(app)]
    assert len(rows(app)) == 2


# --- password change and reset, suspension -------------------------------------------


def change_password(client):
    return client.post(
        CHANGE_PASSWORD,
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )


def test_password_change_keeps_this_session(app, person):
    changer = app.test_client()
    sign_in(changer, person)

    assert change_password(changer).status_code == 302

    assert is_signed_in(changer)


def test_password_change_ends_the_other_sessions_of_both_kinds(app, person):
    changer, other, remembered = app.test_client(), app.test_client(), app.test_client()
    sign_in(changer, person)
    sign_in(other, person)
    sign_in(remembered, person, remember="y")
    remember_copy = browser(app, remember_cookie(remembered))

    change_password(changer)

    assert not is_signed_in(other)
    assert not is_signed_in(remember_copy)
    assert len(rows(app)) == 1


def test_password_reset_ends_every_session(app, person, mailbox):
    signed_in, remembered = app.test_client(), app.test_client()
    sign_in(signed_in, person)
    sign_in(remembered, person, remember="y")
    remember_copy = browser(app, remember_cookie(remembered))
    resetter = app.test_client()
    resetter.post(RESET, data={"email": person.email})
    link = re.search(r"https?://[^/\s]+(/account/reset/\S+)", mailbox[-1].get_content()).group(1)

    resetter.post(link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert not is_signed_in(signed_in)
    assert not is_signed_in(remember_copy)
    assert rows(app) == []


@pytest.fixture
def site_admin(app):
    with app.app_context():
        admin = User(
            email="root@example.org",
            display_name="Root",
            email_verified_at=now_utc(),
            is_admin=True,
        )
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.commit()
        return Person(admin.id, admin.email)


def test_suspension_ends_every_session_of_the_account(app, person, site_admin):
    signed_in, remembered = app.test_client(), app.test_client()
    sign_in(signed_in, person)
    sign_in(remembered, person, remember="y")
    remember_copy = browser(app, remember_cookie(remembered))
    admin = app.test_client()
    sign_in(admin, site_admin)

    response = admin.post(f"/admin/users/{person.id}/suspend")

    assert response.status_code == 302
    assert not is_signed_in(signed_in)
    assert not is_signed_in(remember_copy)
    assert [row.user_id for row in rows(app)] == [site_admin.id]


def test_restoring_an_account_does_not_revive_its_sessions(app, client, person, site_admin):
    sign_in(client, person)
    admin = app.test_client()
    sign_in(admin, site_admin)
    admin.post(f"/admin/users/{person.id}/suspend")

    admin.post(f"/admin/users/{person.id}/restore")

    assert not is_signed_in(client)


# --- fresh sign-in for sensitive staff actions ---------------------------------------


def create_token(client):
    return client.post(
        NEW_TOKEN,
        data={"name": "Backlog sync", "scopes": ["ideas:read"]},
        headers={"Referer": f"http://{DOMAIN}{INTEGRATIONS}"},
    )


def confirm(client, password=PASSWORD, next=INTEGRATIONS):
    return client.post(CONFIRM, data={"password": password, "next": next})


def test_session_restored_from_remember_cookie_is_sent_to_confirm(app, client, agency_admin):
    sign_in(client, agency_admin, remember="y")
    restored = browser(app, remember_cookie(client))

    response = create_token(restored)

    assert response.status_code == 302
    assert response.headers["Location"] == f"{CONFIRM}?next={INTEGRATIONS}"
    assert token_count(app) == 0


def test_confirming_the_password_lets_the_action_through(app, client, agency_admin):
    sign_in(client, agency_admin, remember="y")
    restored = browser(app, remember_cookie(client))
    create_token(restored)

    response = confirm(restored)

    assert response.status_code == 302
    assert response.headers["Location"] == INTEGRATIONS
    assert create_token(restored).status_code == 201
    assert token_count(app) == 1


def test_stale_sign_in_is_sent_to_confirm(app, client, agency_admin):
    sign_in(client, agency_admin)

    move_back(app, created_at=timedelta(minutes=app.config["FRESH_SIGN_IN_MINUTES"] + 1))

    response = create_token(client)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(CONFIRM)
    assert token_count(app) == 0


def test_recent_sign_in_needs_no_confirmation(app, client, agency_admin):
    sign_in(client, agency_admin)

    move_back(app, created_at=timedelta(minutes=app.config["FRESH_SIGN_IN_MINUTES"] - 1))

    assert create_token(client).status_code == 201


def test_pages_behind_a_fresh_sign_in_stay_readable_when_stale(app, client, agency_admin):
    sign_in(client, agency_admin, remember="y")
    restored = browser(app, remember_cookie(client))

    assert restored.get("/agencies/city/team").status_code == 200


def test_confirm_with_a_wrong_password_is_refused_next_to_the_field(app, client, agency_admin):
    sign_in(client, agency_admin, remember="y")
    restored = browser(app, remember_cookie(client))

    response = confirm(restored, password="not the password")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<p class="field-error" id="password-error">' in page
    assert "That password is not correct." in page
    assert create_token(restored).status_code == 302
    assert token_count(app) == 0


def test_confirming_gives_the_session_a_new_token(app, client, agency_admin):
    sign_in(client, agency_admin, remember="y")
    restored = browser(app, remember_cookie(client))
    old_copy = browser(app, remember_cookie(client))

    confirm(restored)

    assert is_signed_in(restored)
    assert not is_signed_in(old_copy)


def test_confirm_ignores_a_next_target_off_this_site(client, agency_admin):
    sign_in(client, agency_admin)

    response = confirm(client, next="//evil.example")

    assert response.headers["Location"] == PROFILE


def test_confirm_page_keeps_the_next_target_and_labels_its_field(client, agency_admin):
    sign_in(client, agency_admin)

    page = client.get(CONFIRM, query_string={"next": INTEGRATIONS}).get_data(as_text=True)

    assert "<h1>Confirm your password</h1>" in page
    assert '<label for="password">Password</label>' in page
    assert f'name="next" type="hidden" value="{INTEGRATIONS}"' in page


def test_confirm_page_needs_sign_in(client):
    response = client.get(CONFIRM)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(SIGN_IN)


def test_site_admin_needs_a_fresh_sign_in_to_suspend(app, client, person, site_admin):
    sign_in(client, site_admin, remember="y")
    restored = browser(app, remember_cookie(client))

    response = restored.post(f"/admin/users/{person.id}/suspend")

    assert response.headers["Location"].startswith(CONFIRM)
    with app.app_context():
        assert db.session.get(User, person.id).suspended_at is None


SENSITIVE_ACTIONS = [
    "/agencies/city/team",  # invite a member
    "/agencies/city/team/1/role",
    "/agencies/city/team/1/remove",
    "/agencies/city/integrations/tokens",
    "/agencies/city/integrations/tokens/1/revoke",
    "/agencies/city/integrations/webhooks",
    "/agencies/city/integrations/webhooks/1/remove",
    "/admin/",  # create an agency
    "/admin/users/1/suspend",
    "/admin/users/1/restore",
]


@pytest.mark.parametrize("path", SENSITIVE_ACTIONS)
def test_sensitive_staff_action_needs_a_fresh_sign_in(app, client, agency_admin, path):
    with app.app_context():
        db.session.get(User, agency_admin.id).is_admin = True
        db.session.commit()
    sign_in(client, agency_admin, remember="y")
    restored = browser(app, remember_cookie(client))

    response = restored.post(path, data={})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(CONFIRM)
