"""Who may use the moderation workspace: every endpoint tried by people who may not, with
nothing changed in the database, and by the staff who may."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engage.agencies.models import Agency, Membership
from engage.audit import ModerationAction
from engage.extensions import db
from engage.ideas import services as ideas
from engage.ideas.models import Comment, Idea
from engage.moderation import services
from engage.moderation.models import Flag, RiskFlag

# Each endpoint with a request that would change something if it were allowed.
ENDPOINTS = {
    "index": lambda w: ("GET", "/moderation", None),
    "queue": lambda w: ("GET", "/agencies/city/moderation", None),
    "bulk": lambda w: (
        "POST",
        "/agencies/city/moderation/bulk",
        {"idea_ids": [str(w.pending.id)], "action": "publish"},
    ),
    "target": lambda w: ("POST", "/agencies/city/moderation/target", {"hours": "1"}),
    "idea": lambda w: ("GET", f"/moderation/ideas/{w.pending.id}", None),
    "decide": lambda w: (
        "POST",
        f"/moderation/ideas/{w.pending.id}/decide",
        {"action": "publish", "reason": ""},
    ),
    "merge": lambda w: (
        "POST",
        f"/moderation/ideas/{w.duplicate.id}/merge",
        {"target_id": str(w.reported.id), "reason": "Same idea."},
    ),
    "dismiss_flags": lambda w: (
        "POST",
        f"/moderation/ideas/{w.reported.id}/dismiss-flags",
        {"reason": "Unfounded."},
    ),
    "uphold_flags": lambda w: (
        "POST",
        f"/moderation/ideas/{w.reported.id}/uphold-flags",
        {"reason": "Spam."},
    ),
    "set_risk": lambda w: (
        "POST",
        f"/moderation/ideas/{w.reported.id}/risks",
        {"kind": "legal", "note": "Copyright."},
    ),
    "clear_risk": lambda w: ("POST", f"/moderation/ideas/{w.reported.id}/risks/privacy/clear", {}),
    "decide_comment": lambda w: (
        "POST",
        f"/moderation/comments/{w.comment.id}/decide",
        {"action": "hide", "reason": "Rude."},
    ),
}
VIEWS = ["index", "queue", "idea"]
CHANGES = [name for name in ENDPOINTS if name not in VIEWS]
# Reporting is for everyone signed in; it has its own tests in test_moderation_views.py.
NOT_STAFF_ONLY = {"moderation.flag_idea", "moderation.flag_comment"}

PEOPLE = {
    "citizen": "citizen@example.org",
    "staff of another agency": "outsider@example.org",
    "signed out": None,
}


@pytest.fixture
def world(make_user, make_agency, make_challenge, make_idea, make_vote):
    """Agency `city` with one item of each kind waiting, and people around it."""
    moderator = make_user("moderator@example.org", display_name="Morgan Moderator")
    agency = make_agency("city", members=[(moderator, "moderator")])
    challenge = make_challenge("open", agency=agency, moderation_mode="pre")
    pending = make_idea(challenge, state="pending", title="Benches by the river")
    reported = make_idea(challenge, title="Plant fruit trees")
    duplicate = make_idea(challenge, title="More fruit trees")
    make_vote(make_user(), duplicate)
    comment = ideas.add_comment(make_user(), reported, "Cheap watches!")
    db.session.commit()
    services.flag_content(make_user(), reported, "off_topic")
    services.flag_content(make_user(), comment, "spam")
    services.set_risk_flag(moderator, reported, "privacy", "Names a neighbour.")
    db.session.commit()
    make_user("citizen@example.org")
    outsider = make_user("outsider@example.org")
    elsewhere = make_agency("elsewhere", members=[(outsider, "moderator")])
    return SimpleNamespace(
        moderator=moderator,
        agency=agency,
        challenge=challenge,
        pending=pending,
        reported=reported,
        duplicate=duplicate,
        comment=comment,
        elsewhere=elsewhere,
    )


def _snapshot() -> dict:
    """Everything moderation can change, read straight from the database."""
    db.session.expire_all()

    def rows(*columns, order_by):
        return [tuple(row) for row in db.session.execute(select(*columns).order_by(order_by))]

    return {
        "ideas": rows(
            Idea.id,
            Idea.moderation_state,
            Idea.moderation_reason,
            Idea.merged_into_id,
            Idea.vote_count,
            Idea.open_flag_count,
            Idea.queued_at,
            order_by=Idea.id,
        ),
        "comments": rows(
            Comment.id,
            Comment.moderation_state,
            Comment.moderation_reason,
            Comment.open_flag_count,
            Comment.queued_at,
            order_by=Comment.id,
        ),
        "flags": rows(Flag.id, Flag.reason, Flag.resolved_at, order_by=Flag.id),
        "risk_flags": rows(RiskFlag.idea_id, RiskFlag.kind, RiskFlag.note, order_by=RiskFlag.id),
        "moderation_actions": rows(
            ModerationAction.id, ModerationAction.action, order_by=ModerationAction.id
        ),
        "agencies": rows(Agency.id, Agency.moderation_target_hours, order_by=Agency.id),
    }


def _send(client, world, endpoint: str):
    method, url, data = ENDPOINTS[endpoint](world)
    if method == "GET":
        return client.get(url)
    return client.post(url, data=data)


def _sign_in(auth, email):
    if email is not None:
        response = auth.login(email)
        assert response.status_code == 302


MATRIX = [
    pytest.param(person, endpoint, id=f"{person}-{endpoint}")
    for person in PEOPLE
    for endpoint in ENDPOINTS
    # Staff of another agency have a workspace of their own: see the test below.
    if (person, endpoint) != ("staff of another agency", "index")
]


@pytest.mark.parametrize(("person", "endpoint"), MATRIX)
def test_endpoint_is_refused_and_changes_nothing(client, auth, world, mailbox, person, endpoint):
    _sign_in(auth, PEOPLE[person])
    before = _snapshot()

    response = _send(client, world, endpoint)

    if PEOPLE[person] is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in")
    else:
        assert response.status_code in (403, 404)
    assert _snapshot() == before
    assert mailbox == []


def test_staff_of_another_agency_get_their_own_workspace(client, auth, world):
    _sign_in(auth, "outsider@example.org")

    response = client.get("/moderation")

    assert response.status_code == 302
    assert response.headers["Location"] == "/agencies/elsewhere/moderation"
    page = client.get("/agencies/elsewhere/moderation").get_data(as_text=True)
    assert "Nothing is waiting." in page
    assert "Benches by the river" not in page and "Cheap watches" not in page


def test_staff_of_another_agency_cannot_see_its_ideas_on_the_public_pages_as_staff(
    client, auth, world
):
    _sign_in(auth, "outsider@example.org")

    assert client.get(f"/ideas/{world.pending.id}").status_code == 404


def test_every_moderation_endpoint_is_in_the_matrix(app):
    staff_only = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("moderation.")
    } - NOT_STAFF_ONLY
    tried = {f"moderation.{name}" for name in ENDPOINTS}
    renamed = {
        "moderation.dismiss_flags": "moderation.dismiss_idea_flags",
        "moderation.uphold_flags": "moderation.uphold_idea_flags",
        "moderation.target": "moderation.set_target",
    }
    assert {renamed.get(name, name) for name in tried} == staff_only


@pytest.mark.parametrize("endpoint", CHANGES)
def test_moderator_of_the_agency_can_use_every_endpoint_but_the_target(
    client, auth, world, endpoint
):
    _sign_in(auth, "moderator@example.org")
    before = _snapshot()

    response = _send(client, world, endpoint)

    if endpoint == "target":
        assert response.status_code == 403
        assert _snapshot() == before
    else:
        assert response.status_code == 302
        assert _snapshot() != before


@pytest.mark.parametrize("endpoint", VIEWS)
def test_moderator_of_the_agency_can_open_every_page(client, auth, world, endpoint):
    _sign_in(auth, "moderator@example.org")

    response = _send(client, world, endpoint)

    expected = 302 if endpoint == "index" else 200
    assert response.status_code == expected


@pytest.mark.parametrize("endpoint", CHANGES)
def test_site_admin_can_act_on_any_agency(client, auth, world, make_user, endpoint):
    make_user("admin@example.org", is_admin=True)
    _sign_in(auth, "admin@example.org")
    before = _snapshot()

    response = _send(client, world, endpoint)

    assert response.status_code == 302
    assert _snapshot() != before


@pytest.mark.parametrize("endpoint", VIEWS)
def test_site_admin_can_open_every_page(client, auth, world, make_user, endpoint):
    make_user("admin@example.org", is_admin=True)
    _sign_in(auth, "admin@example.org")

    assert _send(client, world, endpoint).status_code == 200


@pytest.mark.parametrize("endpoint", CHANGES)
def test_agency_admin_can_moderate(client, auth, world, make_user, endpoint):
    admin = make_user("agency-admin@example.org")
    db.session.add(Membership(agency_id=world.agency.id, user_id=admin.id, role="admin"))
    db.session.commit()
    _sign_in(auth, "agency-admin@example.org")
    before = _snapshot()

    response = _send(client, world, endpoint)

    assert response.status_code == 302
    assert _snapshot() != before


def test_moderator_cannot_change_the_moderation_target(client, auth, world):
    _sign_in(auth, "moderator@example.org")

    response = client.post("/agencies/city/moderation/target", data={"hours": "12"})

    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Agency, world.agency.id).moderation_target_hours == 48


def test_admin_of_another_agency_cannot_change_the_target(client, auth, world, make_user):
    other_admin = make_user("other-admin@example.org")
    db.session.add(Membership(agency_id=world.elsewhere.id, user_id=other_admin.id, role="admin"))
    db.session.commit()
    _sign_in(auth, "other-admin@example.org")

    response = client.post("/agencies/city/moderation/target", data={"hours": "12"})

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Agency, world.agency.id).moderation_target_hours == 48


@pytest.mark.parametrize(
    "url",
    [
        "/agencies/no-such-agency/moderation",
        "/moderation/ideas/999999",
        "/moderation/ideas/99999999999",
    ],
)
def test_unknown_items_answer_404_to_staff(client, auth, world, url):
    _sign_in(auth, "moderator@example.org")

    assert client.get(url).status_code == 404


def test_unknown_comment_answers_404_to_staff(client, auth, world):
    _sign_in(auth, "moderator@example.org")

    response = client.post(
        "/moderation/comments/999999/decide", data={"action": "hide", "reason": "Rude."}
    )

    assert response.status_code == 404


def test_citizen_sees_no_moderation_link(client, auth, world):
    _sign_in(auth, "citizen@example.org")

    page = client.get("/challenges").get_data(as_text=True)

    assert 'href="/moderation"' not in page


def test_moderator_sees_the_moderation_link(client, auth, world):
    _sign_in(auth, "moderator@example.org")

    page = client.get("/challenges").get_data(as_text=True)

    assert 'href="/moderation"' in page
