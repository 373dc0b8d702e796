"""Abuse of accounts: password guessing from many addresses (lockout per account), floods
of reset e-mails, common passwords, look-alike addresses, old reset links and racing
registrations.

Each test of a limit sets a real value on its own app (the suite's are very high).
"""

import html
import os
import re
import threading
from importlib.resources import files

import pytest
from sqlalchemy import func, select

from engage.auth import services
from engage.auth.models import User
from engage.db import now_utc
from engage.extensions import db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much better passphrase"
COMMON = "qwertyuiop"  # on the shipped list, and long enough for the length rule
SIGN_IN, REGISTER, RESET = "/account/sign-in", "/account/register", "/account/reset"
CHANGE_PASSWORD, CONFIRM, PROFILE = "/account/password", "/account/confirm", "/account/"
LOCKED = "Too many wrong passwords were tried for this account."
CAPPED = "We have already sent several messages to this address."
TOO_COMMON = "This password is one of the most common ones"

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs concurrent writers: SQLite serialises whole-database writes, so only "
    "PostgreSQL (TEST_DATABASE_URL) shows what two simultaneous registrations do",
)


@pytest.fixture
def person(app):
    """The account ada@example.org, made in a short app context."""
    with app.app_context():
        user = User(email="ada@example.org", display_name="Ada", email_verified_at=now_utc())
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    return "ada@example.org"


def browser_at(app, client_address: str):
    """A new browser whose requests come from `client_address`."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = client_address
    return browser


def sign_in(app, email, password=PASSWORD, client_address="192.0.2.1"):
    """Sign in from a new browser at `client_address`; returns the browser and answer."""
    browser = browser_at(app, client_address)
    return browser, browser.post(SIGN_IN, data={"email": email, "password": password})


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def without_numbers(response) -> str:
    """The page with its waits blanked: how long to wait depends on when counting began."""
    return re.sub(r"\d+ (second|minute|hour|day)s?", "a while", text_of(response))


def field_error(response, field_id: str) -> str:
    match = re.search(
        rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', text_of(response), re.S
    )
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def stored_user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def registration(**overrides) -> dict:
    data = {
        "account_type": "citizen",
        "display_name": "Ada Lovelace",
        "organisation_name": "",
        "email": "ada@example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    return {**data, **overrides}


def reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/account/reset/\S+)", message.get_content()).group(1)


# --- sign-in lockout per account -----------------------------------------------------


@pytest.fixture
def lockout(app):
    app.config["SIGN_IN_FAILURE_LIMIT"] = "3 per 15 minutes; 10 per day"
    return app


def fail_three_times(app, email, client_address="192.0.2.1"):
    for _ in range(3):
        _, response = sign_in(app, email, "not the password", client_address)
        assert response.status_code == 200


def test_locked_account_refuses_even_the_right_password(lockout, person):
    fail_three_times(lockout, person)

    browser, response = sign_in(lockout, person)

    assert response.status_code == 429
    assert LOCKED in text_of(response)
    assert browser.get(PROFILE).status_code == 302


def test_lockout_answers_with_retry_after_until_the_window_ends(lockout, person):
    fail_three_times(lockout, person)

    _, response = sign_in(lockout, person)

    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_lockout_holds_whatever_client_address_the_attempts_come_from(lockout, person):
    for number in range(3):
        sign_in(lockout, person, "not the password", client_address=f"198.51.100.{number}")

    _, response = sign_in(lockout, person, client_address="203.0.113.9")

    assert response.status_code == 429


def test_right_passwords_do_not_count_toward_the_lockout(lockout, person):
    for _ in range(5):
        _, response = sign_in(lockout, person)
        assert response.status_code == 302


def test_failures_below_the_limit_leave_signing_in_open(lockout, person):
    for _ in range(2):
        sign_in(lockout, person, "not the password")

    _, response = sign_in(lockout, person)

    assert response.status_code == 302


def test_lockout_of_one_address_leaves_the_others_open(lockout, person):
    fail_three_times(lockout, "someone.else@example.org")

    _, response = sign_in(lockout, person)

    assert response.status_code == 302


def test_unknown_address_is_locked_out_with_the_same_answer(lockout, person):
    fail_three_times(lockout, person)
    fail_three_times(lockout, "nobody@example.org")

    _, known = sign_in(lockout, person)
    _, unknown = sign_in(lockout, "nobody@example.org")

    assert known.status_code == unknown.status_code == 429
    assert without_numbers(known) == without_numbers(unknown)


def test_look_alike_addresses_count_as_one_for_the_lockout(lockout, person):
    for typed in ("ADA@example.org", "ａｄａ@example.org", " Ada@Example.ORG "):
        sign_in(lockout, typed, "not the password")

    _, response = sign_in(lockout, person)

    assert response.status_code == 429


def test_wrong_passwords_on_the_confirm_page_count_toward_the_lockout(lockout, person):
    browser, _ = sign_in(lockout, person)
    for _ in range(3):
        response = browser.post(CONFIRM, data={"password": "not the password"})
        assert response.status_code == 422

    _, response = sign_in(lockout, person)

    assert response.status_code == 429


def test_wrong_current_password_on_password_change_counts_toward_the_lockout(lockout, person):
    browser, _ = sign_in(lockout, person)
    wrong = {
        "current_password": "not the password",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    for _ in range(3):
        assert browser.post(CHANGE_PASSWORD, data=wrong).status_code == 422

    _, response = sign_in(lockout, person)

    assert response.status_code == 429


def test_per_client_address_limit_still_applies_beside_the_lockout(lockout, person):
    lockout.config["AUTH_RATE_LIMIT"] = "2 per minute"
    sign_in(lockout, person)
    sign_in(lockout, "someone.else@example.org")

    _, response = sign_in(lockout, "a.third@example.org")

    assert response.status_code == 429
    assert LOCKED not in text_of(response)


# --- reset e-mails per address -------------------------------------------------------


@pytest.fixture
def capped(app):
    app.config["RESET_EMAIL_LIMIT"] = "2 per hour; 5 per day"
    return app


def ask_reset(app, email, client_address="192.0.2.1"):
    return browser_at(app, client_address).post(RESET, data={"email": email})


def test_reset_emails_to_one_address_are_capped(capped, person, mailbox):
    for number in range(2):
        assert ask_reset(capped, person, f"198.51.100.{number}").status_code == 200

    response = ask_reset(capped, person, "203.0.113.9")

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert CAPPED in text_of(response)
    assert len(mailbox) == 2


def test_reset_cap_answers_alike_for_known_and_unknown_addresses(capped, person, mailbox):
    for email in (person, "nobody@example.org"):
        ask_reset(capped, email)
        ask_reset(capped, email)

    known = ask_reset(capped, person)
    unknown = ask_reset(capped, "nobody@example.org")

    assert known.status_code == unknown.status_code == 429
    assert without_numbers(known) == without_numbers(unknown)
    assert len(mailbox) == 4


def test_reset_cap_counts_look_alike_addresses_as_one(capped, person):
    ask_reset(capped, "ADA@example.org")
    ask_reset(capped, "ａｄａ@example.org")

    assert ask_reset(capped, person).status_code == 429


def test_reset_cap_of_one_address_leaves_the_others_open(capped, person):
    ask_reset(capped, "nobody@example.org")
    ask_reset(capped, "nobody@example.org")

    assert ask_reset(capped, person).status_code == 200


def test_unknown_address_is_mailed_a_note_pointing_to_registration(app, mailbox):
    ask_reset(app, "Nobody@Example.org")

    [message] = mailbox
    assert message["To"] == "nobody@example.org"
    assert message["Subject"] == "Password reset requested on Engage"
    assert "/account/register" in message.get_content()
    assert "/account/reset/" not in message.get_content()


# --- only the newest reset link works ------------------------------------------------


def test_older_reset_link_is_refused_once_a_newer_one_is_sent(app, client, person, mailbox):
    ask_reset(app, person)
    ask_reset(app, person)
    older, newer = (reset_link(message) for message in mailbox)

    response = client.post(
        older, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert "This link is invalid or has already been used." in text_of(response)
    assert stored_user(app, person).check_password(PASSWORD)


def test_newest_reset_link_works(app, client, person, mailbox):
    ask_reset(app, person)
    ask_reset(app, person)

    response = client.post(
        reset_link(mailbox[-1]), data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert stored_user(app, person).check_password(NEW_PASSWORD)


# --- common passwords ----------------------------------------------------------------


def test_registration_refuses_a_common_password_next_to_the_field(app, client):
    response = client.post(REGISTER, data=registration(password=COMMON, password_confirm=COMMON))

    assert response.status_code == 422
    assert field_error(response, "password").startswith(TOO_COMMON)
    assert user_count(app) == 0


def test_common_password_is_refused_whatever_its_case(app, client):
    shouted = COMMON.upper()

    response = client.post(REGISTER, data=registration(password=shouted, password_confirm=shouted))

    assert response.status_code == 422
    assert user_count(app) == 0


def test_registration_with_a_known_address_and_a_common_password_answers_alike(
    app, client, person
):
    common = registration(password=COMMON, password_confirm=COMMON)
    new = client.post(REGISTER, data={**common, "email": "fresh@example.org"})
    known = client.post(REGISTER, data=common)

    assert new.status_code == known.status_code == 422
    assert new.get_data(as_text=True).replace("fresh@example.org", "ADDRESS") == (
        known.get_data(as_text=True).replace(person, "ADDRESS")
    )


def test_password_reset_refuses_a_common_password_and_keeps_the_link(app, client, person, mailbox):
    ask_reset(app, person)
    link = reset_link(mailbox[0])

    response = client.post(link, data={"password": COMMON, "password_confirm": COMMON})

    assert response.status_code == 422
    assert field_error(response, "password").startswith(TOO_COMMON)
    assert stored_user(app, person).check_password(PASSWORD)
    assert (
        client.post(
            link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        ).status_code
        == 302
    )


def test_password_change_refuses_a_common_password(app, person):
    browser, _ = sign_in(app, person)

    response = browser.post(
        CHANGE_PASSWORD,
        data={"current_password": PASSWORD, "password": COMMON, "password_confirm": COMMON},
    )

    assert response.status_code == 422
    assert field_error(response, "password").startswith(TOO_COMMON)
    assert stored_user(app, person).check_password(PASSWORD)


def test_uncommon_password_is_accepted(app, client):
    response = client.post(REGISTER, data=registration())

    assert response.status_code == 200
    assert user_count(app) == 1


def test_shipped_list_holds_only_passwords_the_length_rule_accepts():
    text = files("engage").joinpath(services.COMMON_PASSWORDS).read_text(encoding="utf-8")
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]

    assert len(text.encode()) < 1024 * 1024
    assert COMMON in entries
    assert all(services.PASSWORD_MIN <= len(entry) <= services.PASSWORD_MAX for entry in entries)
    assert all(entry == entry.casefold().strip() for entry in entries)


# --- look-alike e-mail addresses -----------------------------------------------------


def test_normalize_email_folds_width_case_and_spaces():
    assert services.normalize_email("  ＡＤＡ@Ｅxample.ORG ") == "ada@example.org"
    assert services.normalize_email("STRAẞE@example.org") == "strasse@example.org"


def test_registration_stores_the_normalized_address(app, client):
    client.post(REGISTER, data=registration(email="ＡＤＡ＠Example.ORG"))

    assert stored_user(app, "ada@example.org") is not None
    assert user_count(app) == 1


def test_registration_with_a_look_alike_of_a_known_address_creates_nothing(
    app, client, person, mailbox
):
    response = client.post(REGISTER, data=registration(email="ＡＤＡ@example.org"))

    assert response.status_code == 200
    assert user_count(app) == 1
    assert [(m["To"], m["Subject"]) for m in mailbox] == [
        ("ada@example.org", "Someone tried to register with your address on Engage")
    ]


def test_sign_in_with_a_look_alike_address_finds_the_account(app, person):
    browser, response = sign_in(app, "ＡＤＡ@EXAMPLE.org")

    assert response.status_code == 302
    assert browser.get(PROFILE).status_code == 200


# --- racing registrations ------------------------------------------------------------


def _post_together(app, path: str, payloads: list[dict]) -> list:
    """POST each payload from its own browser and thread, all released at once."""
    barrier = threading.Barrier(len(payloads))
    responses: list = [None] * len(payloads)

    def worker(index, payload):
        browser = app.test_client()
        barrier.wait()
        responses[index] = browser.post(path, data=payload)

    threads = [
        threading.Thread(target=worker, args=(index, payload))
        for index, payload in enumerate(payloads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a registration hung"
    return responses


@postgresql_only
def test_racing_registrations_with_one_address_give_one_account_and_one_answer(app, mailbox):
    payloads = [registration(display_name=f"Racer {n}") for n in range(8)]

    responses = _post_together(app, REGISTER, payloads)

    assert {response.status_code for response in responses} == {200}
    assert len({response.get_data() for response in responses}) == 1
    assert user_count(app) == 1
    subjects = sorted(message["Subject"] for message in mailbox)
    assert subjects.count("Confirm your e-mail address for Engage") == 1
