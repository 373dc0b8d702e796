"""Account services called directly: the rules hold whoever calls them (view, CLI, test)."""

import itertools
import time

import pytest
from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from engage.auth import services
from engage.auth.models import User, UserSession
from engage.auth.sessions import start_session
from engage.db import now_utc
from engage.errors import NotPermitted, ValidationFailed
from engage.extensions import db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much better passphrase"


@pytest.fixture(autouse=True)
def app_context(app):
    with app.app_context():
        yield


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def session_count(user) -> int:
    return db.session.scalar(
        select(func.count(UserSession.id)).where(UserSession.user_id == user.id)
    )


def register(**overrides):
    fields = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada", **overrides}
    return services.register_user(**fields)


def token_issued_ago(seconds: int, purpose: str, payload: dict) -> str:
    """A token signed like make_token's, but `seconds` in the past."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    serializer = URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=purpose, signer=PastSigner
    )
    return serializer.dumps(payload)


def fastest(action, runs: int = 3) -> float:
    """The shortest of `runs` timings of `action()`: noise only ever adds time."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


# --- registration ---------------------------------------------------------------------


def test_register_user_creates_unverified_citizen():
    user = register(display_name="  Ada  ")
    db.session.commit()
    assert user.account_type == "citizen"
    assert user.display_name == "Ada"
    assert not user.is_verified
    assert not user.is_admin
    assert user.session_version == 1
    assert user.check_password(PASSWORD)
    assert user.password_hash != PASSWORD


def test_register_user_stores_email_lower_case():
    user = register(email=" Ada@Example.ORG ")
    assert user.email == "ada@example.org"


def test_register_user_keeps_the_given_locale():
    assert register(locale="fr").locale == "fr"


def test_register_business_keeps_organisation_name():
    user = register(account_type="business", organisation_name="  Engines Ltd ")
    assert (user.account_type, user.organisation_name) == ("business", "Engines Ltd")
    assert user.public_name == "Engines Ltd"


def test_register_business_without_organisation_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        register(account_type="business", organisation_name="   ")
    assert refused.value.field == "organisation_name"
    assert user_count() == 0


def test_register_unknown_account_type_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        register(account_type="agency")
    assert refused.value.field == "account_type"
    assert user_count() == 0


def test_register_citizen_drops_organisation_name():
    assert register(organisation_name="Not a business").organisation_name is None


def test_register_existing_address_creates_nothing_and_returns_none(make_user):
    owner = make_user("taken@example.org", display_name="Owner")
    assert register(email="TAKEN@example.org", display_name="Intruder") is None
    db.session.commit()
    assert user_count() == 1
    assert owner.display_name == "Owner"


def test_register_existing_address_mails_owner_after_commit(make_user, mailbox):
    make_user("taken@example.org")
    register(email="taken@example.org")
    assert mailbox == []
    db.session.commit()
    assert [(m["To"], m["Subject"]) for m in mailbox] == [
        ("taken@example.org", "Someone tried to register with your address on Engage"),
    ]


def test_register_existing_address_takes_as_long_as_a_new_one(app, make_user):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # the production cost the timing hides
    make_user("taken@example.org")
    numbers = itertools.count()
    new = fastest(lambda: register(email=f"new{next(numbers)}@example.org"))
    existing = fastest(lambda: register(email="taken@example.org"))
    assert existing > new / 2


def test_register_user_mails_verification_link_after_commit(mailbox):
    user = register()
    assert mailbox == []
    db.session.commit()
    assert [m["To"] for m in mailbox] == [user.email]
    assert "/account/verify/" in mailbox[0].get_content()


# --- verification ---------------------------------------------------------------------


def test_verify_email_marks_account_verified(make_user):
    user = make_user(verified=False)
    assert services.verify_email(services.make_token(user, services.VERIFY)) is user
    assert user.is_verified


def test_verify_token_works_once(make_user):
    user = make_user(verified=False)
    token = services.make_token(user, services.VERIFY)
    services.verify_email(token)
    with pytest.raises(ValidationFailed, match="already been used"):
        services.verify_email(token)


def test_verify_token_expires(make_user):
    user = make_user(verified=False)
    max_age = current_app.config["VERIFY_TOKEN_MAX_AGE"]
    token = token_issued_ago(max_age + 60, services.VERIFY, {"u": user.id, "e": user.email})
    with pytest.raises(ValidationFailed, match="expired"):
        services.verify_email(token)
    assert not user.is_verified


def test_verify_token_within_its_age_works(make_user):
    user = make_user(verified=False)
    max_age = current_app.config["VERIFY_TOKEN_MAX_AGE"]
    token = token_issued_ago(max_age - 60, services.VERIFY, {"u": user.id, "e": user.email})
    services.verify_email(token)
    assert user.is_verified


def test_verify_token_for_another_address_is_refused(make_user):
    user = make_user("old@example.org", verified=False)
    token = services.make_token(user, services.VERIFY)
    user.email = "new@example.org"
    with pytest.raises(ValidationFailed, match="already been used"):
        services.verify_email(token)


def test_tampered_verify_token_is_refused(make_user):
    user = make_user(verified=False)
    token = services.make_token(user, services.VERIFY)
    with pytest.raises(ValidationFailed, match="invalid"):
        services.verify_email(("B" if token[0] == "A" else "A") + token[1:])
    assert not user.is_verified


def test_verify_token_signed_with_another_secret_is_refused(make_user):
    user = make_user(verified=False)
    forged = URLSafeTimedSerializer("not the secret key", salt=services.VERIFY).dumps(
        {"u": user.id, "e": user.email}
    )
    with pytest.raises(ValidationFailed, match="invalid"):
        services.verify_email(forged)


def test_verify_token_for_missing_account_is_refused():
    token = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=services.VERIFY).dumps(
        {"u": 999999, "e": "x@y.org"}
    )
    with pytest.raises(ValidationFailed, match="invalid"):
        services.verify_email(token)


def test_reset_token_cannot_verify_and_verify_token_cannot_reset(make_user):
    user = make_user(verified=False)
    with pytest.raises(ValidationFailed):
        services.verify_email(services.make_token(user, services.RESET))
    with pytest.raises(ValidationFailed):
        services.reset_password(services.make_token(user, services.VERIFY), NEW_PASSWORD)
    assert not user.is_verified
    assert user.check_password(PASSWORD)


def test_send_verification_skips_verified_account(make_user, mailbox):
    services.send_verification(make_user(verified=True))
    db.session.commit()
    assert mailbox == []


# --- sign-in --------------------------------------------------------------------------


def test_authenticate_returns_account_for_right_password(make_user):
    user = make_user("ada@example.org")
    assert services.authenticate("ada@example.org", PASSWORD) is user


def test_authenticate_ignores_case_and_spaces_of_address(make_user):
    user = make_user("ada@example.org")
    assert services.authenticate("  ADA@example.org ", PASSWORD) is user


def test_authenticate_wrong_password_returns_none(make_user):
    make_user("ada@example.org")
    assert services.authenticate("ada@example.org", "not the password") is None


def test_authenticate_unknown_address_returns_none():
    assert services.authenticate("nobody@example.org", PASSWORD) is None


def test_authenticate_unknown_address_takes_as_long_as_a_wrong_password(app, make_user):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # the production cost the timing hides
    make_user("ada@example.org")
    wrong = fastest(lambda: services.authenticate("ada@example.org", "not the password"))
    unknown = fastest(lambda: services.authenticate("nobody@example.org", "not the password"))
    assert unknown > wrong / 2


def test_authenticate_suspended_account_is_not_permitted(make_user):
    make_user("ada@example.org", suspended_at=now_utc())
    with pytest.raises(NotPermitted, match="suspended"):
        services.authenticate("ada@example.org", PASSWORD)


def test_authenticate_suspended_account_with_wrong_password_returns_none(make_user):
    make_user("ada@example.org", suspended_at=now_utc())
    assert services.authenticate("ada@example.org", "not the password") is None


# --- password reset and change --------------------------------------------------------


def test_request_password_reset_mails_a_link_to_a_known_address(make_user, mailbox):
    make_user("known@example.org")
    services.request_password_reset("KNOWN@example.org")
    db.session.commit()
    assert [m["To"] for m in mailbox] == ["known@example.org"]
    assert "/account/reset/" in mailbox[0].get_content()


def test_request_password_reset_tells_an_unknown_address_it_has_no_account(mailbox):
    services.request_password_reset("Nobody@example.org", locale="en")
    db.session.commit()
    assert [m["To"] for m in mailbox] == ["nobody@example.org"]
    assert "/account/reset/" not in mailbox[0].get_content()
    assert "/account/register" in mailbox[0].get_content()


def test_reset_password_sets_password_and_ends_every_session(make_user):
    user = make_user()
    start_session(user, remember=True)
    start_session(user, remember=False)
    services.reset_password(services.make_token(user, services.RESET), NEW_PASSWORD)
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    assert user.session_version == 2
    assert session_count(user) == 0


def test_reset_token_works_once(make_user):
    user = make_user()
    token = services.make_token(user, services.RESET)
    services.reset_password(token, NEW_PASSWORD)
    with pytest.raises(ValidationFailed, match="already been used"):
        services.reset_password(token, "yet another passphrase")
    assert user.check_password(NEW_PASSWORD)


def test_reset_token_expires(make_user):
    user = make_user()
    max_age = current_app.config["RESET_TOKEN_MAX_AGE"]
    payload = {"u": user.id, "v": user.session_version, "g": user.reset_generation}
    token = token_issued_ago(max_age + 60, services.RESET, payload)
    with pytest.raises(ValidationFailed, match="expired"):
        services.reset_password(token, NEW_PASSWORD)
    assert user.check_password(PASSWORD)


def test_reset_token_stops_working_after_password_change(make_user):
    user = make_user()
    token = services.make_token(user, services.RESET)
    services.change_password(user, PASSWORD, NEW_PASSWORD)
    with pytest.raises(ValidationFailed):
        services.reset_password(token, "yet another passphrase")


def test_reset_password_confirms_unverified_address(make_user):
    user = make_user(verified=False)
    services.reset_password(services.make_token(user, services.RESET), NEW_PASSWORD)
    assert user.is_verified


def test_change_password_refuses_wrong_current_password(make_user):
    user = make_user()
    with pytest.raises(ValidationFailed) as refused:
        services.change_password(user, "not the password", NEW_PASSWORD)
    assert refused.value.field == "current_password"
    assert user.check_password(PASSWORD)
    assert user.session_version == 1


def test_change_password_sets_password_and_ends_other_sessions(make_user):
    user = make_user()
    here = start_session(user, remember=False)
    start_session(user, remember=True)
    services.change_password(user, PASSWORD, NEW_PASSWORD, keep=here)
    assert user.check_password(NEW_PASSWORD)
    assert user.session_version == 2
    assert db.session.scalars(select(UserSession.id)).all() == [here.id]


# --- profile --------------------------------------------------------------------------


def test_update_profile_changes_name_and_language(make_user):
    user = make_user(locale="en")
    services.update_profile(user, display_name="  New Name ", locale="fr")
    assert (user.display_name, user.locale) == ("New Name", "fr")


def test_update_profile_empty_language_follows_the_browser(make_user):
    user = make_user(locale="en")
    services.update_profile(user, display_name="Name", locale="")
    assert user.locale is None


def test_update_profile_refuses_unknown_language(make_user):
    user = make_user(display_name="Old Name", locale="en")
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(user, display_name="New Name", locale="xx")
    assert refused.value.field == "locale"
    assert (user.display_name, user.locale) == ("Old Name", "en")


def test_update_profile_changes_business_organisation(make_user):
    user = make_user(account_type="business", organisation_name="Old Firm")
    services.update_profile(user, display_name="Bo", locale=None, organisation_name="New Firm")
    assert user.organisation_name == "New Firm"


def test_update_profile_refuses_business_without_organisation(make_user):
    user = make_user(account_type="business", organisation_name="Old Firm")
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(user, display_name="Bo", locale=None, organisation_name=" ")
    assert refused.value.field == "organisation_name"
    assert user.organisation_name == "Old Firm"


def test_update_profile_ignores_organisation_for_citizen(make_user):
    user = make_user()
    services.update_profile(user, display_name="Ci", locale=None, organisation_name="Sneaky")
    assert user.organisation_name is None


# --- site admins ----------------------------------------------------------------------


def test_create_site_admin_creates_verified_admin():
    user, created = services.create_site_admin("Boss@Example.org", NEW_PASSWORD)
    db.session.commit()
    assert created
    assert (user.email, user.is_admin, user.is_verified) == ("boss@example.org", True, True)
    assert user.check_password(NEW_PASSWORD)


def test_create_site_admin_promotes_existing_account_keeping_its_password(make_user):
    existing = make_user("boss@example.org")
    user, created = services.create_site_admin("boss@example.org", NEW_PASSWORD)
    assert user is existing
    assert not created
    assert user.is_admin
    assert user.check_password(PASSWORD)


def test_create_site_admin_refuses_invalid_address():
    with pytest.raises(ValidationFailed) as refused:
        services.create_site_admin("not an address", NEW_PASSWORD)
    assert refused.value.field == "email"
    assert user_count() == 0
