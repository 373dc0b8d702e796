"""Account pages through the test client: register, verify, sign in and out, reset,
profile, language, and what an unverified account is told.

Accounts are created by the `account` fixture below, which keeps no app context pushed:
a request made while the test holds one shares its `flask.g`, where Flask-Login caches
the signed-in person, so one client's sign-in would leak into every later request.
"""

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select

from engage.auth.models import User
from engage.db import now_utc
from engage.extensions import db
from engage.ideas.models import Comment, Vote

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much better passphrase"
REGISTER, SIGN_IN, SIGN_OUT = "/account/register", "/account/sign-in", "/account/sign-out"
PROFILE, CHANGE_PASSWORD, RESET = "/account/", "/account/password", "/account/reset"
LANGUAGE = "/account/language"

CHECK_EMAIL = "Check your e-mail"
BAD_CREDENTIALS = "That e-mail address and password do not match an account."
LINK_USED = "This link is invalid or has already been used."
LINK_EXPIRED = "This link has expired. Please ask for a new one."
NOT_VERIFIED = "Confirm your e-mail address to take part."


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str = PASSWORD


@pytest.fixture
def account(app):
    """Create an account in a short app context and return its id and address."""
    numbers = iter(range(1, 1000))

    def make(email=None, *, verified=True, password=PASSWORD, **fields) -> Account:
        number = next(numbers)
        fields.setdefault("display_name", f"Member {number}")
        if fields.get("account_type") == "business":
            fields.setdefault("organisation_name", f"Firm {number}")
        with app.app_context():
            user = User(
                email=email or f"member{number}@example.org",
                email_verified_at=now_utc() if verified else None,
                **fields,
            )
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return Account(user.id, user.email, password)

    return make


def stored_user(app, email: str) -> User | None:
    """The account stored for `email`, detached with its columns loaded."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def sign_in(client, person: Account, password=None, **extra):
    data = {"email": person.email, "password": password or person.password, **extra}
    return client.post(SIGN_IN, data=data)


def is_signed_in(client) -> bool:
    """Ask the account page: 200 when signed in, a redirect to sign-in when not."""
    response = client.get(PROFILE)
    if response.status_code == 302:
        assert response.headers["Location"].startswith(SIGN_IN)
        return False
    assert response.status_code == 200
    return True


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


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(response, field_id: str) -> str:
    """The error shown next to a field, tied to it by id (empty when there is none)."""
    match = re.search(
        rf'<p class="field-error" id="{field_id}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    if match is None:
        return ""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def link_in(message, route: str) -> str:
    """The path of the `/account/<route>/...` link in an e-mail's body."""
    match = re.search(rf"https?://[^/\s]+(/account/{route}/\S+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def remember_cookie(client):
    return client.get_cookie("remember_token", domain="engage.test")


def browser_with_cookie(app, cookie):
    """A new browser that only holds `cookie` (a remember-me cookie, say)."""
    browser = app.test_client()
    browser.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return browser


# --- registration ---------------------------------------------------------------------


def test_register_page_offers_citizen_and_business(client):
    response = client.get(REGISTER)
    assert response.status_code == 200
    page = text_of(response)
    assert 'value="citizen"' in page and 'value="business"' in page


def test_register_as_citizen_stores_unverified_account(app, client):
    response = client.post(REGISTER, data=registration())
    assert response.status_code == 200
    assert CHECK_EMAIL in text_of(response)
    user = stored_user(app, "ada@example.org")
    assert user.account_type == "citizen"
    assert user.display_name == "Ada Lovelace"
    assert user.organisation_name is None
    assert not user.is_verified
    assert not user.is_admin
    assert user.check_password(PASSWORD)


def test_register_as_business_stores_organisation_name(app, client):
    data = registration(account_type="business", organisation_name="Lovelace Engines Ltd")
    response = client.post(REGISTER, data=data)
    assert response.status_code == 200
    user = stored_user(app, "ada@example.org")
    assert user.account_type == "business"
    assert user.organisation_name == "Lovelace Engines Ltd"


def test_register_as_business_without_organisation_is_refused_next_to_the_field(app, client):
    response = client.post(REGISTER, data=registration(account_type="business"))
    assert response.status_code == 422
    assert field_error(response, "organisation_name") == (
        "A business account needs the organisation's name."
    )
    assert user_count(app) == 0


def test_register_citizen_ignores_organisation_name(app, client):
    client.post(REGISTER, data=registration(organisation_name="Not a business"))
    assert stored_user(app, "ada@example.org").organisation_name is None


def test_register_refuses_password_shorter_than_ten_characters(app, client):
    short = "nine char"
    response = client.post(REGISTER, data=registration(password=short, password_confirm=short))
    assert response.status_code == 422
    assert field_error(response, "password") == "Use between 10 and 200 characters."
    assert user_count(app) == 0


def test_register_accepts_password_of_exactly_ten_characters(app, client):
    ten = "ten chars!"
    response = client.post(REGISTER, data=registration(password=ten, password_confirm=ten))
    assert response.status_code == 200
    assert stored_user(app, "ada@example.org").check_password(ten)


def test_register_refuses_mismatched_password_confirmation(app, client):
    response = client.post(REGISTER, data=registration(password_confirm=PASSWORD + "?"))
    assert response.status_code == 422
    assert field_error(response, "password_confirm") == "The two passwords are not the same."
    assert user_count(app) == 0


def test_register_refuses_invalid_email_address(app, client):
    response = client.post(REGISTER, data=registration(email="not-an-address"))
    assert response.status_code == 422
    assert field_error(response, "email") == (
        "Enter a valid e-mail address, like name@example.org."
    )
    assert user_count(app) == 0


def test_register_stores_email_lower_case(app, client):
    client.post(REGISTER, data=registration(email="Ada.Lovelace@Example.ORG"))
    assert stored_user(app, "ada.lovelace@example.org") is not None
    assert user_count(app) == 1


def test_register_sends_verification_email(client, mailbox):
    client.post(REGISTER, data=registration())
    assert len(mailbox) == 1
    message = mailbox[0]
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Confirm your e-mail address for Engage"
    assert link_in(message, "verify")


def test_verification_link_verifies_account(app, client, mailbox):
    client.post(REGISTER, data=registration())
    response = client.get(link_in(mailbox[0], "verify"))
    assert response.status_code == 302
    assert response.headers["Location"] == SIGN_IN
    assert stored_user(app, "ada@example.org").is_verified
    assert "your e-mail address is confirmed" in text_of(client.get(SIGN_IN))


def test_verification_link_works_once(app, client, mailbox):
    client.post(REGISTER, data=registration())
    link = link_in(mailbox[0], "verify")
    client.get(link)
    verified_at = stored_user(app, "ada@example.org").email_verified_at
    response = client.get(link)
    assert response.status_code == 400
    assert LINK_USED in text_of(response)
    assert stored_user(app, "ada@example.org").email_verified_at == verified_at


def test_verification_link_expires(app, client, mailbox):
    client.post(REGISTER, data=registration())
    app.config["VERIFY_TOKEN_MAX_AGE"] = -1
    response = client.get(link_in(mailbox[0], "verify"))
    assert response.status_code == 400
    assert LINK_EXPIRED in text_of(response)
    assert not stored_user(app, "ada@example.org").is_verified


def test_tampered_verification_link_is_refused_with_clear_message(app, client, mailbox):
    client.post(REGISTER, data=registration())
    prefix, token = link_in(mailbox[0], "verify").rsplit("/", 1)
    tampered = ("B" if token[0] == "A" else "A") + token[1:]
    response = client.get(f"{prefix}/{tampered}")
    assert response.status_code == 400
    assert "This link does not work" in text_of(response)
    assert LINK_USED in text_of(response)
    assert not stored_user(app, "ada@example.org").is_verified


def test_register_with_existing_address_answers_as_for_a_new_one(app, client, account):
    account("taken@example.org", display_name="Owner")
    new = client.post(REGISTER, data=registration(email="fresh@example.org"))
    taken = client.post(REGISTER, data=registration(email="taken@example.org"))
    assert taken.status_code == new.status_code == 200
    assert taken.get_data() == new.get_data()


def test_register_with_existing_address_stores_nothing_new(app, client, account):
    account("taken@example.org", display_name="Owner")
    intruder = "intruder's password"
    client.post(
        REGISTER,
        data=registration(
            email="Taken@Example.org",
            display_name="Intruder",
            password=intruder,
            password_confirm=intruder,
        ),
    )
    assert user_count(app) == 1
    owner = stored_user(app, "taken@example.org")
    assert owner.display_name == "Owner"
    assert owner.check_password(PASSWORD)
    assert not owner.check_password(intruder)


def test_register_with_existing_address_mails_its_owner_instead(client, account, mailbox):
    account("taken@example.org")
    client.post(REGISTER, data=registration(email="taken@example.org"))
    assert len(mailbox) == 1
    assert mailbox[0]["To"] == "taken@example.org"
    assert mailbox[0]["Subject"] == "Someone tried to register with your address on Engage"
    assert "/account/verify/" not in mailbox[0].get_content()


def test_signed_in_person_is_sent_home_from_register(client, account):
    sign_in(client, account())
    response = client.get(REGISTER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- sign in and out ------------------------------------------------------------------


def test_sign_in_signs_in_and_goes_home(client, account):
    response = sign_in(client, account())
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_signed_in(client)


def test_sign_in_ignores_case_of_email_address(client, account):
    account("mixed@example.org")
    response = client.post(SIGN_IN, data={"email": "MIXED@Example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert is_signed_in(client)


def test_sign_in_with_wrong_password_is_refused(client, account):
    person = account()
    response = sign_in(client, person, password="not the password")
    assert BAD_CREDENTIALS in text_of(response)
    assert not is_signed_in(client)


def test_sign_in_unknown_address_and_wrong_password_answer_alike(app, account):
    account("known@example.org")
    unknown = app.test_client().post(
        SIGN_IN, data={"email": "nobody@example.org", "password": "not the password"}
    )
    wrong = app.test_client().post(
        SIGN_IN, data={"email": "known@example.org", "password": "not the password"}
    )
    assert unknown.status_code == wrong.status_code
    assert BAD_CREDENTIALS in text_of(unknown)
    assert unknown.get_data(as_text=True).replace(
        "nobody@example.org", "ADDRESS"
    ) == wrong.get_data(as_text=True).replace("known@example.org", "ADDRESS")


def test_unverified_account_can_sign_in(client, account):
    sign_in(client, account(verified=False))
    assert is_signed_in(client)


def test_suspended_account_cannot_sign_in(client, account):
    person = account(suspended_at=now_utc())
    response = sign_in(client, person)
    assert response.status_code == 403
    assert "This account is suspended." in text_of(response)
    assert not is_signed_in(client)


def test_suspended_account_with_wrong_password_gets_the_usual_answer(client, account):
    person = account(suspended_at=now_utc())
    response = sign_in(client, person, password="not the password")
    assert BAD_CREDENTIALS in text_of(response)
    assert "suspended" not in text_of(response)


def test_suspending_an_account_ends_its_session(app, client, account):
    person = account()
    sign_in(client, person)
    with app.app_context():
        db.session.get(User, person.id).suspended_at = now_utc()
        db.session.commit()
    assert not is_signed_in(client)


def test_sign_out_signs_out(client, account):
    sign_in(client, account())
    response = client.post(SIGN_OUT)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert not is_signed_in(client)


def test_sign_out_by_get_is_not_allowed(client, account):
    sign_in(client, account())
    assert client.get(SIGN_OUT).status_code == 405
    assert is_signed_in(client)


def test_remember_me_sets_remember_cookie(client, account):
    sign_in(client, account(), remember="y")
    assert remember_cookie(client) is not None


def test_sign_in_without_remember_me_sets_no_remember_cookie(client, account):
    sign_in(client, account())
    assert remember_cookie(client) is None


def test_remember_cookie_signs_in_a_new_browser_session(app, client, account):
    sign_in(client, account(), remember="y")
    assert is_signed_in(browser_with_cookie(app, remember_cookie(client)))


def test_sign_in_page_keeps_the_next_target(client):
    response = client.get(SIGN_IN, query_string={"next": "/challenges"})
    assert 'name="next" type="hidden" value="/challenges"' in text_of(response)


def test_sign_in_returns_to_the_page_that_asked_for_it(client, account):
    person = account()
    asked = client.get(PROFILE)
    assert asked.status_code == 302
    location = urlsplit(asked.headers["Location"])
    assert (location.path, parse_qs(location.query)) == (SIGN_IN, {"next": [PROFILE]})
    response = sign_in(client, person, next=PROFILE)
    assert response.headers["Location"] == PROFILE


def test_sign_in_follows_next_path_on_this_site(client, account):
    response = sign_in(client, account(), next="/challenges")
    assert response.status_code == 302
    assert response.headers["Location"] == "/challenges"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example/x",
        "javascript:alert(1)",
    ],
)
def test_sign_in_ignores_next_target_off_this_site(client, account, target):
    response = sign_in(client, account(), next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_signed_in_visit_to_sign_in_ignores_next_target_off_this_site(client, account):
    sign_in(client, account())
    response = client.get(SIGN_IN, query_string={"next": "//evil.example"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- password reset -------------------------------------------------------------------


def test_reset_request_answers_alike_for_known_and_unknown_address(app, account, mailbox):
    account("known@example.org")
    known = app.test_client().post(RESET, data={"email": "known@example.org"})
    unknown = app.test_client().post(RESET, data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert CHECK_EMAIL in text_of(known)
    assert known.get_data() == unknown.get_data()
    assert [(message["To"], message["Subject"]) for message in mailbox] == [
        ("known@example.org", "Choose a new password for Engage"),
        ("nobody@example.org", "Password reset requested on Engage"),
    ]


def test_reset_link_sets_new_password(app, client, account, mailbox):
    person = account()
    client.post(RESET, data={"email": person.email})
    link = link_in(mailbox[0], "reset")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == SIGN_IN
    user = stored_user(app, person.email)
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)


def test_reset_link_refuses_short_password(app, client, account, mailbox):
    person = account()
    client.post(RESET, data={"email": person.email})
    response = client.post(
        link_in(mailbox[0], "reset"),
        data={"password": "too short", "password_confirm": "too short"},
    )
    assert response.status_code == 422
    assert field_error(response, "password") == "Use between 10 and 200 characters."
    assert stored_user(app, person.email).check_password(PASSWORD)


def test_reset_link_works_once(app, client, account, mailbox):
    person = account()
    client.post(RESET, data={"email": person.email})
    link = link_in(mailbox[0], "reset")
    client.post(link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    again = "yet another passphrase"
    response = client.post(link, data={"password": again, "password_confirm": again})
    assert response.status_code == 400
    assert LINK_USED in text_of(response)
    assert stored_user(app, person.email).check_password(NEW_PASSWORD)


def test_reset_link_expires(app, client, account, mailbox):
    person = account()
    client.post(RESET, data={"email": person.email})
    app.config["RESET_TOKEN_MAX_AGE"] = -1
    response = client.post(
        link_in(mailbox[0], "reset"),
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert LINK_EXPIRED in text_of(response)
    assert stored_user(app, person.email).check_password(PASSWORD)


def test_reset_link_confirms_unverified_address(app, client, account, mailbox):
    person = account(verified=False)
    client.post(RESET, data={"email": person.email})
    client.post(
        link_in(mailbox[0], "reset"),
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert stored_user(app, person.email).is_verified


def test_reset_signs_out_other_sessions(app, account, mailbox):
    person = account()
    elsewhere, here = app.test_client(), app.test_client()
    sign_in(elsewhere, person)
    here.post(RESET, data={"email": person.email})
    here.post(
        link_in(mailbox[0], "reset"),
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert not is_signed_in(elsewhere)


def test_reset_invalidates_remember_cookies(app, account, mailbox):
    person = account()
    elsewhere, here = app.test_client(), app.test_client()
    sign_in(elsewhere, person, remember="y")
    cookie = remember_cookie(elsewhere)
    here.post(RESET, data={"email": person.email})
    here.post(
        link_in(mailbox[0], "reset"),
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert not is_signed_in(browser_with_cookie(app, cookie))


# --- change password ------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD):
    return client.post(
        CHANGE_PASSWORD,
        data={"current_password": current, "password": new, "password_confirm": new},
    )


def test_change_password_sets_new_password(app, client, account):
    person = account()
    sign_in(client, person)
    response = change_password(client)
    assert response.status_code == 302
    assert response.headers["Location"] == PROFILE
    assert stored_user(app, person.email).check_password(NEW_PASSWORD)


def test_change_password_refuses_wrong_current_password(app, client, account):
    person = account()
    sign_in(client, person)
    response = change_password(client, current="not the password")
    assert response.status_code == 422
    assert field_error(response, "current_password") == "Your current password is not correct."
    assert stored_user(app, person.email).check_password(PASSWORD)


def test_change_password_signs_out_other_sessions_and_keeps_this_one(app, account):
    person = account()
    changer, other = app.test_client(), app.test_client()
    sign_in(changer, person)
    sign_in(other, person)
    assert is_signed_in(other)
    change_password(changer)
    assert is_signed_in(changer)
    assert not is_signed_in(other)


def test_change_password_invalidates_remember_cookies(app, account):
    person = account()
    changer, other = app.test_client(), app.test_client()
    sign_in(other, person, remember="y")
    cookie = remember_cookie(other)
    sign_in(changer, person)
    change_password(changer)
    assert not is_signed_in(browser_with_cookie(app, cookie))


def test_change_password_requires_sign_in(client):
    response = change_password(client)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SIGN_IN)


# --- profile --------------------------------------------------------------------------


def profile_data(**overrides) -> dict:
    return {"display_name": "New Name", "locale": "", "organisation_name": "", **overrides}


def test_profile_requires_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SIGN_IN)


def test_profile_changes_display_name(app, client, account):
    person = account(display_name="Old Name")
    sign_in(client, person)
    response = client.post(PROFILE, data=profile_data(display_name="  New Name "))
    assert response.status_code == 302
    assert response.headers["Location"] == PROFILE
    assert stored_user(app, person.email).display_name == "New Name"


def test_profile_changes_language(app, client, account):
    person = account(locale="en")
    sign_in(client, person)
    client.post(PROFILE, data=profile_data(locale="es"))
    assert stored_user(app, person.email).locale == "es"


def test_profile_unknown_language_is_refused_next_to_the_field(app, client, account):
    person = account(display_name="Old Name", locale="en")
    sign_in(client, person)
    response = client.post(PROFILE, data=profile_data(locale="xx"))
    assert response.status_code == 422
    assert field_error(response, "locale")
    user = stored_user(app, person.email)
    assert (user.locale, user.display_name) == ("en", "Old Name")


def test_profile_business_changes_organisation_name(app, client, account):
    person = account(account_type="business", organisation_name="Old Firm")
    sign_in(client, person)
    client.post(PROFILE, data=profile_data(organisation_name="New Firm"))
    assert stored_user(app, person.email).organisation_name == "New Firm"


def test_profile_business_cannot_remove_organisation_name(app, client, account):
    person = account(account_type="business", organisation_name="Old Firm")
    sign_in(client, person)
    response = client.post(PROFILE, data=profile_data(organisation_name="  "))
    assert response.status_code == 422
    assert field_error(response, "organisation_name") == (
        "A business account needs the organisation's name."
    )
    assert stored_user(app, person.email).organisation_name == "Old Firm"


def test_profile_citizen_cannot_set_organisation_name(app, client, account):
    person = account()
    sign_in(client, person)
    client.post(PROFILE, data=profile_data(organisation_name="Sneaky Ltd"))
    assert stored_user(app, person.email).organisation_name is None


# --- language -------------------------------------------------------------------------


def french(app, text: str) -> str | None:
    """`text` in French, or None while no French catalogue is compiled."""
    with app.test_request_context(), force_locale("fr"):
        translated = gettext(text)
    return translated if translated != text else None


def test_language_link_renders_pages_in_french(app, client):
    response = client.get(f"{LANGUAGE}/fr", query_string={"next": "/challenges"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/challenges"
    page = client.get("/challenges").get_data(as_text=True)
    assert '<html lang="fr">' in page
    skip_link = french(app, "Skip to main content")
    if skip_link is not None:  # once translations/fr is compiled
        assert str(escape(skip_link)) in page


def test_language_link_to_unknown_locale_is_not_found_and_changes_nothing(client):
    client.get(f"{LANGUAGE}/es")
    response = client.get(f"{LANGUAGE}/xx", query_string={"next": "/challenges"})
    assert response.status_code == 404
    with client.session_transaction() as session:
        assert session["locale"] == "es"


def test_language_link_ignores_next_target_off_this_site(client):
    response = client.get(f"{LANGUAGE}/fr", query_string={"next": "//evil.example"})
    assert response.headers["Location"] == "/"


def test_language_link_is_for_this_session_and_keeps_account_language(app, client, account):
    person = account(locale="en")
    sign_in(client, person)
    client.get(f"{LANGUAGE}/fr")
    assert '<html lang="fr">' in client.get(PROFILE).get_data(as_text=True)
    assert stored_user(app, person.email).locale == "en"


def test_sign_in_switches_to_the_account_language(client, account):
    person = account(locale="es")
    client.get(f"{LANGUAGE}/fr")
    sign_in(client, person)
    assert '<html lang="es">' in client.get(PROFILE).get_data(as_text=True)


def test_saving_profile_language_takes_over_from_language_link(client, account):
    sign_in(client, account(locale="en"))
    client.get(f"{LANGUAGE}/fr")
    client.post(PROFILE, data=profile_data(locale="es"))
    assert '<html lang="es">' in client.get(PROFILE).get_data(as_text=True)


# --- unverified accounts --------------------------------------------------------------
# One person per test, so the app context these factories keep pushed does no harm.


def test_unverified_account_can_browse_and_is_told_why_it_cannot_submit(
    client, auth, make_user, make_challenge
):
    user = make_user(verified=False)
    challenge = make_challenge("open")
    auth.login(user.email)
    response = client.get(f"/challenges/{challenge.slug}")
    assert response.status_code == 200
    page = text_of(response)
    assert NOT_VERIFIED in page
    assert f"/challenges/{challenge.slug}/ideas/new" not in page


def test_unverified_account_gets_the_reason_on_the_submit_page(
    client, auth, make_user, make_challenge
):
    user = make_user(verified=False)
    challenge = make_challenge("open")
    auth.login(user.email)
    response = client.get(f"/challenges/{challenge.slug}/ideas/new")
    assert response.status_code == 403
    assert NOT_VERIFIED in text_of(response)


def test_unverified_account_vote_is_refused_with_the_reason(client, auth, make_user, make_idea):
    user = make_user(verified=False)
    idea = make_idea()
    auth.login(user.email)
    page = text_of(client.get(f"/ideas/{idea.id}"))
    assert f"/ideas/{idea.id}/vote" not in page
    response = client.post(f"/ideas/{idea.id}/vote")
    assert response.status_code == 403
    assert NOT_VERIFIED in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_unverified_account_comment_is_refused_with_the_reason(client, auth, make_user, make_idea):
    user = make_user(verified=False)
    idea = make_idea()
    auth.login(user.email)
    page = text_of(client.get(f"/ideas/{idea.id}"))
    assert NOT_VERIFIED in page
    assert f"/ideas/{idea.id}/comments" not in page
    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Me too!"})
    assert response.status_code == 403
    assert NOT_VERIFIED in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_profile_tells_unverified_account_to_confirm(client, account):
    sign_in(client, account(verified=False))
    page = text_of(client.get(PROFILE))
    assert "Your e-mail address is not confirmed yet." in page
    assert "/account/verify/resend" in page


def test_resend_verification_mails_a_working_link(app, client, account, mailbox):
    person = account(verified=False)
    sign_in(client, person)
    response = client.post("/account/verify/resend", data={"next": PROFILE})
    assert response.headers["Location"] == PROFILE
    assert [message["To"] for message in mailbox] == [person.email]
    response = client.get(link_in(mailbox[0], "verify"))
    assert response.headers["Location"] == "/"
    assert stored_user(app, person.email).is_verified


def test_verified_account_is_not_told_to_confirm(client, account):
    sign_in(client, account())
    assert "/account/verify/resend" not in text_of(client.get(PROFILE))


# --- CSRF -----------------------------------------------------------------------------


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_register_without_csrf_token_is_refused_and_stores_nothing(csrf_app, client):
    response = client.post(REGISTER, data=registration())
    assert response.status_code == 400
    assert "This form has expired" in text_of(response)
    assert user_count(csrf_app) == 0


def test_register_with_csrf_token_is_accepted(csrf_app, client):
    token = csrf_token(client, REGISTER)
    response = client.post(REGISTER, data=registration(csrf_token=token))
    assert response.status_code == 200
    assert user_count(csrf_app) == 1


def test_sign_in_without_csrf_token_is_refused(csrf_app, client, account):
    response = sign_in(client, account())
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_sign_in_with_csrf_token_signs_in(csrf_app, client, account):
    response = sign_in(client, account(), csrf_token=csrf_token(client, SIGN_IN))
    assert response.status_code == 302
    assert is_signed_in(client)
