"""An agency's team: invitations by signed e-mail link, roles, removal, the last admin rule;
and the site admin pages: creating agencies, suspending and restoring accounts."""

import html
import re
import time
from types import SimpleNamespace

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from engage.agencies.models import Agency, Invitation, Membership
from engage.agencies.services import INVITATION_MAX_AGE, INVITATION_SALT
from engage.auth.models import User
from engage.extensions import db

TEAM = "/agencies/city/team"
PASSWORD = "correct horse battery"
LINK_INVALID = "This invitation is invalid or has already been used."
LINK_EXPIRED = "This invitation has expired. Ask for a new one."
LAST_ADMIN = "The team needs at least one admin. Appoint another admin first."


def text_of(response) -> str:
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


def invitation_link(message) -> str:
    match = re.search(r"http://engage\.test(/invitations/\S+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def link_in(message, route: str) -> str:
    match = re.search(rf"http://engage\.test(/account/{route}/\S+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def memberships() -> list[tuple]:
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            select(Membership.agency_id, Membership.user_id, Membership.role).order_by(
                Membership.id
            )
        )
    ]


def invitations() -> list[tuple]:
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            select(
                Invitation.id,
                Invitation.email,
                Invitation.role,
                Invitation.accepted_at,
                Invitation.revoked_at,
            ).order_by(Invitation.id)
        )
    ]


def role_of(user) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Membership.role).where(Membership.user_id == user.id))


def membership_of(user) -> Membership:
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


@pytest.fixture
def world(make_user, make_agency, make_challenge, make_idea):
    # Every factory is set up before any row is made, so all share one session.
    admin = make_user("alex@example.org", display_name="Alex Agency")
    moderator = make_user("morgan@example.org", display_name="Morgan Moderator")
    agency = make_agency(
        "city", name="City of Example", members=[(admin, "admin"), (moderator, "moderator")]
    )
    return SimpleNamespace(
        admin=admin,
        moderator=moderator,
        agency=agency,
        make_user=make_user,
        make_agency=make_agency,
        make_challenge=make_challenge,
        make_idea=make_idea,
    )


@pytest.fixture
def as_admin(auth, world):
    assert auth.login("alex@example.org").status_code == 302


def invite(client, email="new.person@example.org", role="moderator"):
    return client.post(TEAM, data={"email": email, "role": role})


@pytest.fixture
def invited(client, as_admin, mailbox, auth):
    """Invite `email` as `role` as Alex, then sign out; returns the link's path."""

    def make(email="new.person@example.org", role="moderator") -> str:
        assert invite(client, email, role).status_code == 302
        auth.logout()
        return invitation_link(mailbox[-1])

    return make


# --- inviting ----------------------------------------------------------------------------


def test_team_page_lists_the_members(client, as_admin):
    body = text_of(client.get(TEAM))

    assert "Alex Agency" in body and "Morgan Moderator" in body
    assert "Send invitation" in body


def test_invite_stores_the_invitation_and_emails_a_signed_link(client, as_admin, world, mailbox):
    response = invite(client, "New.Person@Example.org", "moderator")

    assert response.status_code == 302
    assert response.headers["Location"] == TEAM
    [(invitation_id, email, role, accepted_at, revoked_at)] = invitations()
    assert (email, role, accepted_at, revoked_at) == (
        "new.person@example.org",
        "moderator",
        None,
        None,
    )
    assert db.session.get(Invitation, invitation_id).invited_by_id == world.admin.id
    [message] = mailbox
    assert message["To"] == "new.person@example.org"
    assert message["Subject"] == "You are invited to the team of City of Example on Engage"
    body = message.get_content()
    assert "Alex Agency invites you to join City of Example as moderator." in body
    assert "register with this e-mail address first" in body
    assert invitation_link(message).startswith("/invitations/")


def test_invitation_to_an_existing_account_does_not_ask_to_register(
    client, as_admin, world, mailbox
):
    world.make_user("known@example.org")

    invite(client, "known@example.org", "admin")

    body = mailbox[0].get_content()
    assert "as admin." in body
    assert "register" not in body


def test_open_invitation_is_listed_on_the_team_page(client, as_admin):
    invite(client, "new.person@example.org")

    body = text_of(client.get(TEAM))

    assert "The invitation is on its way." in body
    assert "Open invitations" in body
    assert "new.person@example.org · Moderator" in body


def test_inviting_a_member_is_refused_next_to_the_field(client, as_admin, mailbox):
    response = invite(client, "MORGAN@example.org", "admin")

    assert response.status_code == 422
    assert "This person is already in the team." in field_error(response, "email")
    assert invitations() == []
    assert mailbox == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"email": "not-an-address", "role": "moderator"},
            "email",
            "Enter a valid e-mail address, like name@example.org.",
        ),
        ({"email": "", "role": "moderator"}, "email", "Enter an e-mail address."),
        ({"email": "new@example.org", "role": "owner"}, "role", "Not a valid choice."),
    ],
)
def test_bad_invitation_is_refused_next_to_the_field(
    client, as_admin, mailbox, data, field, message
):
    response = client.post(TEAM, data=data)

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert invitations() == []
    assert mailbox == []


# --- accepting ---------------------------------------------------------------------------


def test_invitee_sees_what_they_are_invited_to(client, invited):
    link = invited()

    response = client.get(link)

    assert response.status_code == 200
    body = text_of(response)
    assert "Join the team of City of Example" in body
    assert "You are invited as moderator." in body
    assert f'href="/account/sign-in?next={link}"' in body


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_existing_account_with_the_invited_address_joins_with_the_role(
    client, auth, world, invited, role
):
    invitee = world.make_user("new.person@example.org")
    link = invited(role=role)
    auth.login("new.person@example.org")

    response = client.post(link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/agencies/city/workspace"
    assert role_of(invitee) == role
    [(_, _, _, accepted_at, revoked_at)] = invitations()
    assert accepted_at is not None and revoked_at is None
    body = text_of(client.get("/agencies/city/workspace"))
    assert "Welcome to the team of City of Example." in body


def test_sign_in_from_the_invitation_comes_back_to_it(client, world, invited):
    world.make_user("new.person@example.org")
    link = invited()

    response = client.post(
        "/account/sign-in",
        data={"email": "new.person@example.org", "password": PASSWORD, "next": link},
    )

    assert response.headers["Location"] == link


def test_signed_out_visitor_cannot_accept(client, invited):
    link = invited()
    before = (memberships(), invitations())

    response = client.post(link)

    assert response.status_code == 200
    assert "Sign in with the invited address to accept." in text_of(response)
    assert (memberships(), invitations()) == before


def test_a_different_signed_in_account_is_refused(client, auth, world, invited):
    world.make_user("new.person@example.org")
    world.make_user("someone.else@example.org")
    link = invited()
    before = memberships()
    auth.login("someone.else@example.org")

    response = client.post(link)

    assert response.status_code == 302
    assert response.headers["Location"] == link
    assert memberships() == before
    assert invitations()[0][3] is None
    assert "This invitation was sent to another e-mail address." in text_of(client.get(link))


def test_invitee_without_account_registers_verifies_then_accepts(client, auth, invited, mailbox):
    link = invited("newcomer@example.org", "moderator")

    client.post(
        "/account/register",
        data={
            "account_type": "citizen",
            "display_name": "Nina Newcomer",
            "organisation_name": "",
            "email": "newcomer@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert client.get(link_in(mailbox[-1], "verify")).status_code == 302
    auth.login("newcomer@example.org")
    response = client.post(link)

    assert response.status_code == 302
    newcomer = db.session.scalar(select(User).where(User.email == "newcomer@example.org"))
    assert newcomer.is_verified
    assert role_of(newcomer) == "moderator"
    assert client.get("/agencies/city/workspace").status_code == 200


def test_unverified_invitee_is_verified_by_accepting(client, auth, world, invited):
    invitee = world.make_user("new.person@example.org", verified=False)
    link = invited()
    auth.login("new.person@example.org")

    client.post(link)

    db.session.expire_all()
    assert db.session.get(User, invitee.id).is_verified
    assert role_of(invitee) == "moderator"


# --- links that do not work --------------------------------------------------------------


def _tampered(link: str) -> str:
    prefix, token = link.rsplit("/", 1)
    return f"{prefix}/{('B' if token[-1] == 'A' else 'A')}{token}"


def _expired(app, invitation_id: int, email: str) -> str:
    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - INVITATION_MAX_AGE - 60

    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=INVITATION_SALT, signer=LongAgo
    )
    return "/invitations/" + serializer.dumps({"i": invitation_id, "e": email})


def _forged(invitation_id: int, email: str) -> str:
    serializer = URLSafeTimedSerializer("another-secret-key", salt=INVITATION_SALT)
    return "/invitations/" + serializer.dumps({"i": invitation_id, "e": email})


def _signed_for_other(app, invitation_id: int) -> str:
    """A validly signed link whose address is not the invitation's."""
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=INVITATION_SALT)
    return "/invitations/" + serializer.dumps({"i": invitation_id, "e": "someone@example.org"})


def _revoke(client, auth, invitation_id):
    auth.login("alex@example.org")
    assert client.post(f"/agencies/city/invitations/{invitation_id}/revoke").status_code == 302
    auth.logout()


def _use(client, auth, link):
    auth.login("new.person@example.org")
    assert client.post(link).status_code == 302
    auth.logout()


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("tampered", LINK_INVALID),
        ("forged", LINK_INVALID),
        ("other address", LINK_INVALID),
        ("expired", LINK_EXPIRED),
        ("used", LINK_INVALID),
        ("revoked", LINK_INVALID),
    ],
)
def test_link_that_does_not_work_answers_400_and_changes_nothing(
    app, client, auth, world, invited, problem, message
):
    invitee = world.make_user("new.person@example.org")
    link = invited()
    invitation_id = invitations()[0][0]
    if problem == "used":
        _use(client, auth, link)
    elif problem == "revoked":
        _revoke(client, auth, invitation_id)
    bad = {
        "tampered": lambda: _tampered(link),
        "forged": lambda: _forged(invitation_id, "new.person@example.org"),
        "other address": lambda: _signed_for_other(app, invitation_id),
        "expired": lambda: _expired(app, invitation_id, "new.person@example.org"),
        "used": lambda: link,
        "revoked": lambda: link,
    }[problem]()
    before = (memberships(), invitations())
    auth.login("new.person@example.org")

    shown, sent = client.get(bad), client.post(bad)

    for response in (shown, sent):
        assert response.status_code == 400
        assert message in text_of(response)
    assert (memberships(), invitations()) == before
    assert role_of(invitee) == ("moderator" if problem == "used" else None)


@pytest.mark.parametrize("token", ["x", "a" * 300, "..", "eyJpIjoxfQ.abc.def"])
def test_garbage_link_answers_400(client, token):
    assert client.get(f"/invitations/{token}").status_code == 400


def test_revoking_an_invitation_says_so(client, as_admin):
    invite(client)
    invitation_id = invitations()[0][0]

    response = client.post(f"/agencies/city/invitations/{invitation_id}/revoke")

    assert response.status_code == 302
    assert invitations()[0][4] is not None
    body = text_of(client.get(TEAM))
    assert "The invitation is withdrawn." in body
    assert "Open invitations" not in body


def test_revoking_twice_is_refused_with_a_message(client, as_admin):
    invite(client)
    invitation_id = invitations()[0][0]
    client.post(f"/agencies/city/invitations/{invitation_id}/revoke")
    revoked_at = invitations()[0][4]

    client.post(f"/agencies/city/invitations/{invitation_id}/revoke")

    assert "This invitation is no longer open." in text_of(client.get(TEAM))
    assert invitations()[0][4] == revoked_at


# --- roles and removal -------------------------------------------------------------------


def _role(client, member: Membership, role: str):
    return client.post(f"{TEAM}/{member.id}/role", data={"role": role})


def _remove(client, member: Membership):
    return client.post(f"{TEAM}/{member.id}/remove")


def test_change_role_makes_a_moderator_admin(client, as_admin, world):
    response = _role(client, membership_of(world.moderator), "admin")

    assert response.status_code == 302
    assert response.headers["Location"] == TEAM
    assert role_of(world.moderator) == "admin"
    assert "The role is changed." in text_of(client.get(TEAM))


def test_new_admin_can_then_manage_the_team(client, as_admin, auth, world):
    _role(client, membership_of(world.moderator), "admin")
    auth.logout()
    auth.login("morgan@example.org")

    assert invite(client).status_code == 302


def test_admin_can_be_demoted_when_another_admin_remains(client, as_admin, world):
    _role(client, membership_of(world.moderator), "admin")

    _role(client, membership_of(world.admin), "moderator")

    assert role_of(world.admin) == "moderator"
    assert role_of(world.moderator) == "admin"


def test_last_admin_cannot_be_demoted(client, as_admin, world):
    before = memberships()

    response = _role(client, membership_of(world.admin), "moderator")

    assert response.status_code == 302
    assert LAST_ADMIN in text_of(client.get(TEAM))
    assert memberships() == before


def test_unknown_role_is_refused(client, as_admin, world):
    before = memberships()

    assert _role(client, membership_of(world.moderator), "owner").status_code == 400
    assert memberships() == before


def test_remove_member_takes_them_off_the_team(client, as_admin, auth, world):
    response = _remove(client, membership_of(world.moderator))

    assert response.status_code == 302
    assert role_of(world.moderator) is None
    assert "The member is removed from the team." in text_of(client.get(TEAM))
    auth.logout()
    auth.login("morgan@example.org")
    assert client.get("/agencies/city/workspace").status_code == 404


def test_last_admin_cannot_remove_themselves(client, as_admin, world):
    before = memberships()

    response = _remove(client, membership_of(world.admin))

    assert response.status_code == 302
    assert LAST_ADMIN in text_of(client.get(TEAM))
    assert memberships() == before


def test_admin_may_leave_when_another_admin_remains(client, as_admin, world):
    _role(client, membership_of(world.moderator), "admin")

    _remove(client, membership_of(world.admin))

    assert role_of(world.admin) is None
    assert client.get("/agencies/city/workspace").status_code == 404


def test_member_of_another_agency_is_not_found(client, as_admin, world):
    stranger = world.make_user()
    world.make_agency("harbour", members=[(stranger, "admin")])
    theirs = membership_of(stranger)
    before = memberships()

    assert _role(client, theirs, "moderator").status_code == 404
    assert _remove(client, theirs).status_code == 404
    assert memberships() == before


# --- site admin: agencies ----------------------------------------------------------------


@pytest.fixture
def as_site_admin(auth, world):
    world.make_user("root@example.org", display_name="Site Admin", is_admin=True)
    assert auth.login("root@example.org").status_code == 302


def agency_form(**overrides) -> dict:
    return {
        "name": "Harbour Authority",
        "slug": "",
        "description": "Runs the port.",
        "website": "https://harbour.example.org",
        "first_admin_email": "hana@example.org",
        **overrides,
    }


def test_site_admin_page_lists_the_agencies(client, as_site_admin):
    body = text_of(client.get("/admin/"))

    assert "City of Example" in body
    assert "Create agency" in body


def test_site_admin_creates_an_agency_and_invites_its_first_admin(client, as_site_admin, mailbox):
    response = client.post("/admin/", data=agency_form())

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    agency = db.session.scalar(select(Agency).where(Agency.slug == "harbour-authority"))
    assert (agency.name, agency.description, agency.website) == (
        "Harbour Authority",
        "Runs the port.",
        "https://harbour.example.org",
    )
    invitation = db.session.scalar(select(Invitation).where(Invitation.agency_id == agency.id))
    assert (invitation.email, invitation.role) == ("hana@example.org", "admin")
    [message] = mailbox
    assert message["To"] == "hana@example.org"
    assert "join Harbour Authority as admin" in message.get_content()
    assert "The agency Harbour Authority is created and its first admin is invited." in text_of(
        client.get("/admin/")
    )


def test_first_admin_accepts_and_runs_the_new_agency(client, auth, as_site_admin, world, mailbox):
    client.post("/admin/", data=agency_form(slug="harbour"))
    auth.logout()
    hana = world.make_user("hana@example.org")
    auth.login("hana@example.org")

    client.post(invitation_link(mailbox[0]))

    assert role_of(hana) == "admin"
    assert client.get("/agencies/harbour/challenges/new").status_code == 200


def test_agency_slug_may_be_given(client, as_site_admin):
    client.post("/admin/", data=agency_form(slug="Port of Example"))

    assert db.session.scalar(select(Agency.slug).where(Agency.name == "Harbour Authority")) == (
        "port-of-example"
    )


@pytest.mark.parametrize("overrides", [{"slug": "city"}, {"slug": "", "name": "City"}])
def test_duplicate_agency_address_is_refused_next_to_the_field(
    client, as_site_admin, mailbox, overrides
):
    before = db.session.scalar(select(func.count()).select_from(Agency))

    response = client.post("/admin/", data=agency_form(**overrides))

    assert response.status_code == 422
    assert "Another agency already uses this address." in field_error(response, "slug")
    assert db.session.scalar(select(func.count()).select_from(Agency)) == before
    assert invitations() == []
    assert mailbox == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"first_admin_email": "nobody"}, "first_admin_email"),
        ({"website": "not a url"}, "website"),
    ],
)
def test_bad_agency_form_is_refused_next_to_the_field(client, as_site_admin, overrides, field):
    response = client.post("/admin/", data=agency_form(**overrides))

    assert response.status_code == 422
    assert field_error(response, field)
    assert db.session.scalar(select(func.count()).select_from(Agency)) == 1


# --- site admin: accounts ----------------------------------------------------------------


@pytest.fixture
def citizen(world):
    """Chris, with a published idea in a challenge of the city."""
    chris = world.make_user("chris@example.org", display_name="Chris Citizen")
    challenge = world.make_challenge("open", agency=world.agency, slug="greener")
    idea = world.make_idea(challenge, author=chris, title="Fruit trees")
    return SimpleNamespace(user=chris, idea=idea)


def _suspended_at(user):
    db.session.expire_all()
    return db.session.get(User, user.id).suspended_at


def test_users_page_finds_accounts_by_address(client, as_site_admin, citizen):
    body = text_of(client.get("/admin/users?q=CHRIS@"))

    assert "chris@example.org" in body
    assert "Active" in body
    assert "alex@example.org" not in body


def test_site_admin_suspends_an_account(client, as_site_admin, citizen):
    response = client.post(f"/admin/users/{citizen.user.id}/suspend")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?q=chris@example.org"
    assert _suspended_at(citizen.user) is not None
    body = text_of(client.get("/admin/users?q=chris@example.org"))
    assert "The account is suspended." in body
    assert "Suspended since" in body


def test_suspended_person_cannot_sign_in(client, auth, as_site_admin, citizen):
    client.post(f"/admin/users/{citizen.user.id}/suspend")
    auth.logout()

    response = auth.login("chris@example.org")

    assert response.status_code == 403
    assert "This account is suspended." in text_of(response)
    assert client.get("/account/").status_code == 302


def test_suspension_ends_the_persons_existing_session(app, client, as_site_admin, citizen):
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": "chris@example.org", "password": PASSWORD})
    assert browser.get("/account/").status_code == 200

    client.post(f"/admin/users/{citizen.user.id}/suspend")

    response = browser.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")
    assert (
        browser.post(
            f"/ideas/{citizen.idea.id}/comments", data={"body": "Still here?"}
        ).status_code
        == 302
    )


def test_suspended_persons_ideas_stay_visible(client, auth, as_site_admin, citizen):
    client.post(f"/admin/users/{citizen.user.id}/suspend")
    auth.logout()

    idea_page = client.get(f"/ideas/{citizen.idea.id}")

    assert idea_page.status_code == 200
    assert "Fruit trees" in text_of(idea_page)
    assert "Chris Citizen" in text_of(idea_page)
    assert "Fruit trees" in text_of(client.get("/challenges/greener"))


def test_restored_person_can_sign_in_again(client, auth, as_site_admin, citizen):
    client.post(f"/admin/users/{citizen.user.id}/suspend")

    response = client.post(f"/admin/users/{citizen.user.id}/restore")

    assert response.status_code == 302
    assert _suspended_at(citizen.user) is None
    assert "The account is restored." in text_of(client.get("/admin/users?q=chris"))
    auth.logout()
    assert auth.login("chris@example.org").status_code == 302
    assert client.get("/account/").status_code == 200


def test_site_admin_cannot_suspend_themselves(client, as_site_admin):
    me = db.session.scalar(select(User).where(User.email == "root@example.org"))

    client.post(f"/admin/users/{me.id}/suspend")

    assert _suspended_at(me) is None
    assert "You cannot suspend your own account." in text_of(client.get("/admin/users?q=root"))
    assert client.get("/admin/").status_code == 200


def test_users_page_offers_no_suspend_button_for_oneself(client, as_site_admin):
    me = db.session.scalar(select(User).where(User.email == "root@example.org"))

    body = client.get("/admin/users?q=root").get_data(as_text=True)

    assert f"/admin/users/{me.id}/suspend" not in body


def test_suspending_twice_is_refused_with_a_message(client, as_site_admin, citizen):
    client.post(f"/admin/users/{citizen.user.id}/suspend")
    suspended_at = _suspended_at(citizen.user)

    client.post(f"/admin/users/{citizen.user.id}/suspend")

    assert "This account is already suspended." in text_of(client.get("/admin/users?q=chris"))
    assert _suspended_at(citizen.user) == suspended_at


def test_restoring_an_active_account_is_refused_with_a_message(client, as_site_admin, citizen):
    client.post(f"/admin/users/{citizen.user.id}/restore")

    assert "This account is not suspended." in text_of(client.get("/admin/users?q=chris"))
    assert _suspended_at(citizen.user) is None


def test_unknown_account_is_not_found(client, as_site_admin):
    assert client.post("/admin/users/999999/suspend").status_code == 404
