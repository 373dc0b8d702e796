"""Who may use the agency workspace and the site admin pages: every endpoint tried by each
kind of person who may not — with nothing changed in the database and no e-mail sent —
and by those who may, to prove each request below really would change something."""

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engage.agencies.models import Agency, Invitation, Membership
from engage.audit import ModerationAction
from engage.auth.models import User
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Idea, PipelineEvent
from engage.mail import OutboxEmail


def _challenge_form(title: str) -> dict:
    return {
        "title": title,
        "summary": "Summary.",
        "body": "Body.",
        "tags": "",
        "opens_at": "2031-01-01T09:00",
        "submissions_close_at": "2031-02-01T09:00",
        "voting_closes_at": "2031-03-01T09:00",
        "moderation_mode": "post",
        "vote_limit": "",
        "allow_business": "y",
    }


# Each endpoint with a request that would change something if it were allowed.
ENDPOINTS = {
    "dashboard": lambda w: ("GET", "/agencies/city/workspace", None),
    "new_challenge_page": lambda w: ("GET", "/agencies/city/challenges/new", None),
    "new_challenge": lambda w: (
        "POST",
        "/agencies/city/challenges/new",
        _challenge_form("Taken over"),
    ),
    "edit_challenge_page": lambda w: ("GET", "/agencies/city/challenges/draft/edit", None),
    "edit_challenge": lambda w: (
        "POST",
        "/agencies/city/challenges/draft/edit",
        _challenge_form("Renamed"),
    ),
    "publish": lambda w: ("POST", "/agencies/city/challenges/draft/publish", {}),
    "close": lambda w: ("POST", "/agencies/city/challenges/running/close", {}),
    "delete": lambda w: ("POST", "/agencies/city/challenges/draft/delete", {}),
    "ranking": lambda w: ("GET", "/agencies/city/challenges/running/ideas", None),
    "ranking_csv": lambda w: ("GET", "/agencies/city/challenges/running/ideas.csv", None),
    "decision_page": lambda w: ("GET", f"/agencies/city/ideas/{w.idea.id}/decision", None),
    "decision": lambda w: (
        "POST",
        f"/agencies/city/ideas/{w.idea.id}/decision",
        {"action": "accept", "response": "Yes."},
    ),
    "move_stage": lambda w: (
        "POST",
        f"/agencies/city/ideas/{w.accepted.id}/stage",
        {"stage": "concept", "note": "On.", "external_ref": "X-1"},
    ),
    "team": lambda w: ("GET", "/agencies/city/team", None),
    "invite": lambda w: (
        "POST",
        "/agencies/city/team",
        {"email": "new@example.org", "role": "admin"},
    ),
    "change_role": lambda w: (
        "POST",
        f"/agencies/city/team/{w.moderator_membership}/role",
        {"role": "admin"},
    ),
    "remove_member": lambda w: (
        "POST",
        f"/agencies/city/team/{w.moderator_membership}/remove",
        {},
    ),
    "revoke_invitation": lambda w: (
        "POST",
        f"/agencies/city/invitations/{w.invitation}/revoke",
        {},
    ),
    "admin_agencies": lambda w: ("GET", "/admin/", None),
    "admin_create_agency": lambda w: (
        "POST",
        "/admin/",
        {
            "name": "Port",
            "slug": "port",
            "description": "",
            "website": "",
            "first_admin_email": "port@example.org",
        },
    ),
    "admin_users": lambda w: ("GET", "/admin/users?q=c", None),
    "admin_suspend": lambda w: ("POST", f"/admin/users/{w.citizen.id}/suspend", {}),
    "admin_restore": lambda w: ("POST", f"/admin/users/{w.suspended.id}/restore", {}),
    "admin_dead_letters": lambda w: ("GET", "/admin/dead-letters", None),
    "admin_retry_email": lambda w: (
        "POST",
        f"/admin/dead-letters/emails/{w.dead_email}/retry",
        {},
    ),
}
# The Flask endpoint each entry exercises.
ROUTES = {
    "dashboard": "workspace.dashboard",
    "new_challenge_page": "workspace.new_challenge",
    "new_challenge": "workspace.new_challenge",
    "edit_challenge_page": "workspace.edit_challenge",
    "edit_challenge": "workspace.edit_challenge",
    "publish": "workspace.challenge_action",
    "close": "workspace.challenge_action",
    "delete": "workspace.challenge_action",
    "ranking": "workspace.ranking",
    "ranking_csv": "workspace.ranking_csv",
    "decision_page": "workspace.decision",
    "decision": "workspace.decision",
    "move_stage": "workspace.move_stage",
    "team": "workspace.team",
    "invite": "workspace.team",
    "change_role": "workspace.change_role",
    "remove_member": "workspace.remove_member",
    "revoke_invitation": "workspace.revoke_invitation",
    "admin_agencies": "site_admin.agencies",
    "admin_create_agency": "site_admin.agencies",
    "admin_users": "site_admin.users",
    "admin_suspend": "site_admin.user_action",
    "admin_restore": "site_admin.user_action",
    "admin_dead_letters": "site_admin.dead_letters",
    "admin_retry_email": "site_admin.retry_email",
}
# Not staff-only: the invitation link is for whoever it was sent to (test_workspace_team).
# The integrations pages (API tokens, webhooks) belong to the export API and its own tests.
OTHER_ENDPOINTS = {
    "workspace.invitation",
    "workspace.integrations",
    "workspace.create_token",
    "workspace.revoke_token",
    "workspace.create_webhook",
    "workspace.remove_webhook",
}

ADMIN_PAGES = [name for name in ENDPOINTS if name.startswith("admin_")]
WORKSPACE = [name for name in ENDPOINTS if name not in ADMIN_PAGES]
# What a moderator of the agency may open; everything else in the workspace needs an admin.
STAFF_VIEWS = ["dashboard", "ranking", "ranking_csv", "decision_page", "team"]
ADMIN_ONLY = [name for name in WORKSPACE if name not in STAFF_VIEWS]
FORM_PAGES = ["new_challenge_page", "edit_challenge_page"]
CHANGES = [name for name in ADMIN_ONLY if name not in FORM_PAGES]
SITE_ADMIN_CHANGES = ["admin_create_agency", "admin_suspend", "admin_restore", "admin_retry_email"]

PEOPLE = {
    "citizen": "citizen@example.org",
    "admin of another agency": "harbour@example.org",
    "moderator of the agency": "morgan@example.org",
    "signed out": None,
}


@pytest.fixture
def world(make_user, make_agency, make_challenge, make_idea):
    """Agency `city` (admin Alex, moderator Morgan) with a draft, a running challenge, an
    idea waiting for a decision, an accepted one, an open invitation; and people around."""
    alex = make_user("alex@example.org")
    morgan = make_user("morgan@example.org")
    agency = make_agency("city", members=[(alex, "admin"), (morgan, "moderator")])
    make_agency("harbour", members=[(make_user("harbour@example.org"), "admin")])
    citizen = make_user("citizen@example.org")
    suspended = make_user("cora@example.org", suspended_at=now_utc())
    make_challenge("draft", agency=agency, slug="draft", title="Draft challenge")
    running = make_challenge("open", agency=agency, slug="running", title="Running")
    idea = make_idea(running, author=citizen, title="Waiting for a decision")
    accepted = make_idea(running, author=citizen, title="Accepted idea")
    states.apply_decision(accepted, "accept", "Yes.")
    invitation = Invitation(
        agency=agency, email="invited@example.org", role="moderator", invited_by_id=alex.id
    )
    db.session.add(invitation)
    dead_email = OutboxEmail(
        recipient="citizen@example.org", subject="Hello", body="Hi.", failed_at=now_utc()
    )
    db.session.add(dead_email)
    db.session.commit()
    moderator_membership = db.session.scalar(
        select(Membership.id).where(Membership.user_id == morgan.id)
    )
    return SimpleNamespace(
        agency=agency,
        idea=idea,
        accepted=accepted,
        citizen=citizen,
        suspended=suspended,
        invitation=invitation.id,
        moderator_membership=moderator_membership,
        dead_email=dead_email.id,
        make_user=make_user,
    )


def _snapshot() -> dict:
    """Everything the workspace and site admin pages can change, read from the database."""
    db.session.expire_all()

    def rows(*columns, order_by):
        return [tuple(row) for row in db.session.execute(select(*columns).order_by(order_by))]

    return {
        "agencies": rows(Agency.id, Agency.slug, Agency.name, order_by=Agency.id),
        "memberships": rows(
            Membership.id, Membership.user_id, Membership.role, order_by=Membership.id
        ),
        "invitations": rows(
            Invitation.id,
            Invitation.email,
            Invitation.accepted_at,
            Invitation.revoked_at,
            order_by=Invitation.id,
        ),
        "challenges": rows(
            Challenge.id,
            Challenge.slug,
            Challenge.title,
            Challenge.published_at,
            Challenge.closed_at,
            Challenge.opens_at,
            order_by=Challenge.id,
        ),
        "ideas": rows(
            Idea.id,
            Idea.decision,
            Idea.decision_response,
            Idea.pipeline_stage,
            Idea.external_ref,
            order_by=Idea.id,
        ),
        "pipeline_events": rows(PipelineEvent.id, PipelineEvent.stage, order_by=PipelineEvent.id),
        "moderation_actions": rows(
            ModerationAction.id, ModerationAction.action, order_by=ModerationAction.id
        ),
        "outbox_emails": rows(
            OutboxEmail.id, OutboxEmail.failed_at, OutboxEmail.attempts, order_by=OutboxEmail.id
        ),
        "users": rows(
            User.id, User.suspended_at, User.session_version, User.is_admin, order_by=User.id
        ),
    }


def _send(client, world, endpoint: str):
    method, url, data = ENDPOINTS[endpoint](world)
    if method == "GET":
        return client.get(url)
    return client.post(url, data=data)


def _sign_in(auth, email):
    if email is not None:
        assert auth.login(email).status_code == 302


def _expected_refusal(person: str, endpoint: str) -> int:
    if person == "signed out":
        return 302
    if person == "moderator of the agency" and endpoint in ADMIN_ONLY:
        return 403
    return 404  # what someone may not see is not there for them


MATRIX = [
    pytest.param(person, endpoint, id=f"{person}-{endpoint}")
    for person in PEOPLE
    for endpoint in ENDPOINTS
    if not (person == "moderator of the agency" and endpoint in STAFF_VIEWS)
]


@pytest.mark.parametrize(("person", "endpoint"), MATRIX)
def test_endpoint_is_refused_and_changes_nothing(client, auth, world, mailbox, person, endpoint):
    _sign_in(auth, PEOPLE[person])
    before = _snapshot()

    response = _send(client, world, endpoint)

    assert response.status_code == _expected_refusal(person, endpoint)
    if PEOPLE[person] is None:
        assert response.headers["Location"].startswith("/account/sign-in")
    assert _snapshot() == before
    assert mailbox == []


@pytest.mark.parametrize("endpoint", ADMIN_PAGES)
def test_agency_admin_cannot_reach_the_site_admin_pages(client, auth, world, mailbox, endpoint):
    _sign_in(auth, "alex@example.org")
    before = _snapshot()

    assert _send(client, world, endpoint).status_code == 404
    assert _snapshot() == before
    assert mailbox == []


def test_every_workspace_and_site_admin_endpoint_is_in_the_matrix(app):
    endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("workspace.", "site_admin."))
    }

    assert set(ROUTES) == set(ENDPOINTS)
    assert endpoints - OTHER_ENDPOINTS == set(ROUTES.values())


@pytest.mark.parametrize("endpoint", STAFF_VIEWS)
def test_moderator_of_the_agency_can_open_the_workspace_pages(client, auth, world, endpoint):
    _sign_in(auth, "morgan@example.org")
    before = _snapshot()

    assert _send(client, world, endpoint).status_code == 200
    assert _snapshot() == before


def test_moderator_is_shown_no_buttons_that_change_anything(client, auth, world):
    _sign_in(auth, "morgan@example.org")

    pages = "".join(
        client.get(url).get_data(as_text=True)
        for url in (
            "/agencies/city/workspace",
            "/agencies/city/team",
            f"/agencies/city/ideas/{world.idea.id}/decision",
            f"/agencies/city/ideas/{world.accepted.id}/decision",
        )
    )

    assert "/agencies/city/challenges/new" not in pages
    assert "/publish" not in pages and "/delete" not in pages and "/edit" not in pages
    assert "/role" not in pages and "/remove" not in pages and "/revoke" not in pages
    assert "Send invitation" not in pages
    assert "Publish the decision" not in pages and "Move to this stage" not in pages


@pytest.mark.parametrize("endpoint", CHANGES)
def test_agency_admin_can_use_every_endpoint(client, auth, world, mailbox, endpoint):
    _sign_in(auth, "alex@example.org")
    before = _snapshot()

    response = _send(client, world, endpoint)

    assert response.status_code == 302
    assert _snapshot() != before


@pytest.mark.parametrize("endpoint", STAFF_VIEWS + FORM_PAGES)
def test_agency_admin_can_open_every_page(client, auth, world, endpoint):
    _sign_in(auth, "alex@example.org")

    assert _send(client, world, endpoint).status_code == 200


@pytest.mark.parametrize("endpoint", CHANGES + SITE_ADMIN_CHANGES)
def test_site_admin_can_use_every_endpoint(client, auth, world, endpoint):
    world.make_user("root@example.org", is_admin=True)
    _sign_in(auth, "root@example.org")
    before = _snapshot()

    response = _send(client, world, endpoint)

    assert response.status_code == 302
    assert _snapshot() != before


@pytest.mark.parametrize(
    "endpoint", [name for name in ENDPOINTS if name not in CHANGES + SITE_ADMIN_CHANGES]
)
def test_site_admin_can_open_every_page(client, auth, world, endpoint):
    world.make_user("root@example.org", is_admin=True)
    _sign_in(auth, "root@example.org")

    assert _send(client, world, endpoint).status_code == 200


def test_staff_of_another_agency_keep_their_own_workspace(client, auth, world):
    _sign_in(auth, "harbour@example.org")

    assert client.get("/agencies/harbour/workspace").status_code == 200
    assert client.get("/agencies/harbour/team").status_code == 200


def test_unknown_agency_answers_404_to_a_site_admin(client, auth, world):
    world.make_user("root@example.org", is_admin=True)
    _sign_in(auth, "root@example.org")

    assert client.get("/agencies/nowhere/workspace").status_code == 404
    assert (
        client.post("/agencies/nowhere/challenges/new", data=_challenge_form("X")).status_code
        == 404
    )


def test_ideas_of_another_agency_are_not_reached_through_ones_own(client, auth, world, mailbox):
    """The harbour's admin uses their own agency's address with the city's idea."""
    _sign_in(auth, "harbour@example.org")
    before = _snapshot()

    responses = [
        client.get(f"/agencies/harbour/ideas/{world.idea.id}/decision"),
        client.post(
            f"/agencies/harbour/ideas/{world.idea.id}/decision",
            data={"action": "accept", "response": "Mine now."},
        ),
        client.post(
            f"/agencies/harbour/ideas/{world.accepted.id}/stage", data={"stage": "concept"}
        ),
        client.post(f"/agencies/harbour/team/{world.moderator_membership}/remove"),
        client.post(f"/agencies/harbour/invitations/{world.invitation}/revoke"),
        client.post("/agencies/harbour/challenges/draft/publish"),
    ]

    assert [r.status_code for r in responses] == [404] * len(responses)
    assert _snapshot() == before
    assert mailbox == []


def test_suspended_staff_lose_the_workspace(client, auth, world):
    _sign_in(auth, "alex@example.org")
    alex = db.session.scalar(select(User).where(User.email == "alex@example.org"))
    alex.suspended_at = now_utc()
    db.session.commit()
    before = _snapshot()

    response = client.post("/agencies/city/challenges/draft/publish")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")
    assert _snapshot() == before


# --- CSRF --------------------------------------------------------------------------------


def _csrf_sign_in(client, email: str) -> None:
    page = client.get("/account/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/account/sign-in",
        data={"email": email, "password": "correct horse battery", "csrf_token": token},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("endpoint", CHANGES + SITE_ADMIN_CHANGES)
def test_change_without_csrf_token_is_refused(csrf_app, client, world, mailbox, endpoint):
    world.make_user("root@example.org", is_admin=True)
    _csrf_sign_in(client, "root@example.org")
    before = _snapshot()

    response = _send(client, world, endpoint)

    assert response.status_code == 400
    assert _snapshot() == before
    assert mailbox == []


def test_every_form_of_the_workspace_carries_a_csrf_token(csrf_app, client, world):
    world.make_user("root@example.org", is_admin=True)
    _csrf_sign_in(client, "root@example.org")
    urls = [
        "/agencies/city/workspace",
        "/agencies/city/challenges/new",
        "/agencies/city/challenges/draft/edit",
        "/agencies/city/team",
        f"/agencies/city/ideas/{world.idea.id}/decision",
        f"/agencies/city/ideas/{world.accepted.id}/decision",
        "/admin/",
        "/admin/users?q=c",
    ]

    forms = [
        form
        for url in urls
        for form in re.findall(
            r'<form method="post".*?</form>', client.get(url).get_data(as_text=True), re.S
        )
    ]

    assert len(forms) > 10
    assert all('name="csrf_token"' in form for form in forms)


def test_workspace_button_works_with_the_token_of_its_page(csrf_app, client, world):
    _csrf_sign_in(client, "alex@example.org")
    page = client.get("/agencies/city/workspace").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="/agencies/city/challenges/draft/publish"'
        r".*?</form>",
        page,
        re.S,
    ).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)

    response = client.post("/agencies/city/challenges/draft/publish", data={"csrf_token": token})

    assert response.status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(select(Challenge.published_at).where(Challenge.slug == "draft"))
        is not None
    )
