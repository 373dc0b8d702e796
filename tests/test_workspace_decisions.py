"""Deciding on ideas and moving accepted ones through the pipeline from the workspace:
the decision and stage forms, what the public idea page then shows, who is e-mailed and
what the audit trail records."""

import html
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engage.audit import ModerationAction
from engage.auth.models import User
from engage.db import now_utc
from engage.extensions import db
from engage.ideas import states
from engage.ideas.models import Idea, PipelineEvent

RESPONSE = "We will plant **twenty trees** this autumn."


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


def stored(idea: Idea) -> Idea:
    db.session.expire_all()
    return db.session.get(Idea, idea.id)


def snapshot(idea: Idea) -> tuple:
    idea = stored(idea)
    events = db.session.execute(
        select(PipelineEvent.stage, PipelineEvent.note, PipelineEvent.external_ref)
        .where(PipelineEvent.idea_id == idea.id)
        .order_by(PipelineEvent.id)
    ).all()
    audit = db.session.scalars(select(ModerationAction.id).order_by(ModerationAction.id)).all()
    return (
        idea.moderation_state,
        idea.decision,
        idea.decision_response,
        idea.decided_at,
        idea.pipeline_stage,
        idea.external_ref,
        events,
        audit,
    )


def audit_trail(idea: Idea) -> list[tuple]:
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            select(
                ModerationAction.action,
                ModerationAction.from_state,
                ModerationAction.to_state,
                ModerationAction.reason,
                ModerationAction.actor_id,
                ModerationAction.agency_id,
            )
            .where(ModerationAction.idea_id == idea.id)
            .order_by(ModerationAction.id)
        )
    ]


@pytest.fixture
def world(make_user, make_agency, make_challenge, make_idea, make_vote):
    admin = make_user("alex@example.org", display_name="Alex Agency")
    moderator = make_user("morgan@example.org")
    agency = make_agency(
        "city", name="City of Example", members=[(admin, "admin"), (moderator, "moderator")]
    )
    challenge = make_challenge("open", agency=agency, title="Greener city")
    author = make_user("ada@example.org", display_name="Ada Author")
    idea = make_idea(challenge, author=author, title="Fruit trees")
    return SimpleNamespace(
        admin=admin,
        moderator=moderator,
        agency=agency,
        challenge=challenge,
        author=author,
        idea=idea,
        make_user=make_user,
        make_idea=make_idea,
        make_vote=make_vote,
    )


@pytest.fixture
def as_admin(auth, world):
    assert auth.login("alex@example.org").status_code == 302


def decide(client, idea, action="accept", response=RESPONSE):
    return client.post(
        f"/agencies/city/ideas/{idea.id}/decision", data={"action": action, "response": response}
    )


def move(client, idea, stage, note="", external_ref=""):
    return client.post(
        f"/agencies/city/ideas/{idea.id}/stage",
        data={"stage": stage, "note": note, "external_ref": external_ref},
    )


def accepted(client, idea):
    assert decide(client, idea, "accept").status_code == 302
    return idea


# --- deciding ----------------------------------------------------------------------------


def test_decision_page_offers_the_three_decisions(client, as_admin, world):
    response = client.get(f"/agencies/city/ideas/{world.idea.id}/decision")

    assert response.status_code == 200
    body = text_of(response)
    assert "Fruit trees" in body
    for value in ("shortlist", "accept", "decline"):
        assert f'value="{value}"' in body
    assert "Publish the decision" in body


@pytest.mark.parametrize(
    ("action", "decision"),
    [
        ("shortlist", "shortlisted"),
        ("accept", "accepted"),
        ("decline", "declined"),
    ],
)
def test_decision_is_stored_with_its_response(client, as_admin, world, action, decision):
    response = decide(client, world.idea, action)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/agencies/city/ideas/{world.idea.id}/decision"
    idea = stored(world.idea)
    assert idea.decision == decision
    assert idea.decision_response == RESPONSE
    assert idea.decided_at is not None


def test_decision_says_it_is_published(client, as_admin, world):
    decide(client, world.idea, "shortlist")

    body = text_of(client.get(f"/agencies/city/ideas/{world.idea.id}/decision"))

    assert "The decision is published on the idea's page." in body


def test_accepting_puts_the_idea_in_the_backlog(client, as_admin, world):
    decide(client, world.idea, "accept")

    idea = stored(world.idea)
    assert idea.pipeline_stage == "backlog"
    assert [(e.stage, e.note) for e in idea.pipeline_events] == [("backlog", RESPONSE)]


def test_shortlisted_idea_can_then_be_accepted(client, as_admin, world):
    decide(client, world.idea, "shortlist", "We are costing it.")

    response = decide(client, world.idea, "accept")

    assert response.status_code == 302
    assert (stored(world.idea).decision, stored(world.idea).pipeline_stage) == (
        "accepted",
        "backlog",
    )


@pytest.mark.parametrize("response", ["", "   \n  "])
def test_decision_without_response_is_refused_next_to_the_field(
    client, as_admin, world, mailbox, response
):
    before = snapshot(world.idea)

    answer = decide(client, world.idea, "accept", response)

    assert answer.status_code == 422
    assert "Write the public response to this decision." in field_error(answer, "response")
    assert snapshot(world.idea) == before
    assert mailbox == []


def test_decision_without_a_choice_is_refused(client, as_admin, world):
    before = snapshot(world.idea)

    answer = client.post(
        f"/agencies/city/ideas/{world.idea.id}/decision", data={"response": RESPONSE}
    )

    assert answer.status_code == 422
    assert "Choose a decision." in field_error(answer, "action")
    assert snapshot(world.idea) == before


def test_unknown_decision_is_refused(client, as_admin, world):
    before = snapshot(world.idea)

    answer = decide(client, world.idea, "approve")

    assert answer.status_code == 422
    assert snapshot(world.idea) == before


def test_overlong_response_is_refused(client, as_admin, world):
    before = snapshot(world.idea)

    answer = decide(client, world.idea, "accept", "x" * 5001)

    assert answer.status_code == 422
    assert "Use at most 5000 characters." in field_error(answer, "response")
    assert snapshot(world.idea) == before


@pytest.mark.parametrize(
    ("first", "label", "second"),
    [("accept", "Accepted", "accept"), ("decline", "Declined", "decline")],
)
def test_taking_the_same_decision_again_is_refused_with_a_message(
    client, as_admin, world, mailbox, first, label, second
):
    decide(client, world.idea, first)
    before = snapshot(world.idea)
    mailbox.clear()

    answer = decide(client, world.idea, second, "Changed our minds.")

    assert answer.status_code == 422
    assert f"This idea is already {label}; that decision is not possible now." in text_of(answer)
    assert snapshot(world.idea) == before
    assert mailbox == []


def test_shortlisting_twice_is_refused(client, as_admin, world):
    decide(client, world.idea, "shortlist")

    answer = decide(client, world.idea, "shortlist", "Again.")

    assert answer.status_code == 422
    assert "This idea is already Shortlisted" in text_of(answer)


@pytest.mark.parametrize("state", ["pending", "rejected", "hidden", "withdrawn"])
def test_unpublished_idea_cannot_be_decided_on(client, as_admin, world, mailbox, state):
    idea = world.make_idea(world.challenge, state=state)
    before = snapshot(idea)

    answer = decide(client, idea, "accept")

    assert answer.status_code == 422
    assert "Only published ideas can be decided on." in text_of(answer)
    assert snapshot(idea) == before
    assert mailbox == []


def test_decision_form_is_not_offered_for_an_unpublished_idea(client, as_admin, world):
    idea = world.make_idea(world.challenge, state="pending")

    body = text_of(client.get(f"/agencies/city/ideas/{idea.id}/decision"))

    assert "Publish the decision" not in body


@pytest.mark.parametrize(
    ("first", "offered"),
    [
        ("shortlist", ["accept", "decline"]),
        ("accept", ["shortlist", "decline"]),
        ("decline", ["shortlist", "accept"]),
    ],
)
def test_a_decision_taken_can_be_changed_to_another(client, as_admin, world, first, offered):
    decide(client, world.idea, first)

    body = client.get(f"/agencies/city/ideas/{world.idea.id}/decision").get_data(as_text=True)

    assert re.findall(r'name="action"[^>]*value="(\w+)"', body) == offered
    assert "Change the decision" in body


def test_changing_a_decision_tells_people_and_keeps_the_earlier_response(
    client, as_admin, world, mailbox
):
    decide(client, world.idea, "accept", "We will build it.")
    mailbox.clear()

    answer = decide(client, world.idea, "decline", "The budget was withdrawn.")

    assert answer.status_code == 302
    assert db.session.get(Idea, world.idea.id).decision == "declined"
    assert mailbox  # the author at least hears of the change
    page = text_of(client.get(f"/ideas/{world.idea.id}"))
    assert "The budget was withdrawn." in page
    assert "We will build it." in page  # the earlier decision stays on the record


def test_shortlisted_idea_is_offered_accept_and_decline(client, as_admin, world):
    decide(client, world.idea, "shortlist")

    body = text_of(client.get(f"/agencies/city/ideas/{world.idea.id}/decision"))

    assert "Publish the decision" in body


def test_deciding_in_a_closed_challenge_is_refused_because_the_phase_says_so(
    client, as_admin, world, make_challenge, mailbox
):
    closed = make_challenge("closed", agency=world.agency)
    idea = world.make_idea(closed, title="Late idea")
    before = snapshot(idea)

    response = decide(client, idea)

    assert response.status_code == 403
    assert "This challenge is closed" in text_of(response)
    assert snapshot(idea) == before
    assert mailbox == []


def test_closed_challenge_shows_why_instead_of_the_decision_form(
    client, as_admin, world, make_challenge
):
    idea = world.make_idea(make_challenge("closed", agency=world.agency))

    body = text_of(client.get(f"/agencies/city/ideas/{idea.id}/decision"))

    assert "decisions on its ideas can no longer be taken" in body
    assert "Publish the decision" not in body


def test_accepted_idea_moves_on_after_its_challenge_closes(client, as_admin, world):
    accepted(client, world.idea)
    world.challenge.closed_at = now_utc()
    db.session.commit()

    response = move(client, world.idea, "concept", note="Designing it.")

    assert response.status_code == 302
    assert stored(world.idea).pipeline_stage == "concept"


def test_idea_of_another_agency_is_not_found(client, as_admin, world, make_agency, make_challenge):
    theirs = world.make_idea(make_challenge("open", agency=make_agency("harbour")))
    before = snapshot(theirs)

    assert client.get(f"/agencies/city/ideas/{theirs.id}/decision").status_code == 404
    assert decide(client, theirs).status_code == 404
    assert move(client, theirs, "concept").status_code == 404
    assert snapshot(theirs) == before


def test_unknown_idea_is_not_found(client, as_admin):
    assert client.get("/agencies/city/ideas/999999/decision").status_code == 404
    assert client.get("/agencies/city/ideas/99999999999/decision").status_code == 404


# --- the public idea page ----------------------------------------------------------------


def test_public_page_says_no_decision_yet(client, world):
    body = text_of(client.get(f"/ideas/{world.idea.id}"))

    assert "The agency has not decided on this idea yet." in body


def test_public_page_shows_the_decision_and_response(client, as_admin, world, auth):
    decide(client, world.idea, "shortlist")
    auth.logout()

    body = text_of(client.get(f"/ideas/{world.idea.id}"))

    assert "Decision of City of Example:" in body
    assert "Shortlisted" in body
    assert "We will plant <strong>twenty trees</strong> this autumn." in body
    assert "has not decided" not in body
    assert "Current stage:" not in body


def test_public_page_shows_the_pipeline_history(client, as_admin, world, auth):
    accepted(client, world.idea)
    move(client, world.idea, "concept", "Sites chosen with the parks team.")
    move(client, world.idea, "validation", "A first tree is planted.")
    auth.logout()

    body = text_of(client.get(f"/ideas/{world.idea.id}"))

    assert "Accepted" in body
    assert "Current stage: <strong>Validation</strong>" in body
    history = body.split('<ol class="pipeline">')[1].split("</ol>")[0]
    items = re.findall(r"<strong>(\w+)</strong>\s*<time datetime=\"([^\"]+)\">", history)
    assert [stage for stage, _ in items] == ["Backlog", "Concept", "Validation"]
    events = stored(world.idea).pipeline_events
    assert [date for _, date in items] == [e.created_at.isoformat() for e in events]
    assert history.index("Sites chosen with the parks team.") < history.index(
        "A first tree is planted."
    )
    assert "We will plant <strong>twenty trees</strong>" in history


def test_public_page_sanitizes_the_response(client, as_admin, world, auth):
    decide(client, world.idea, "decline", "No <script>alert(1)</script> thanks")
    auth.logout()

    raw = client.get(f"/ideas/{world.idea.id}").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in raw
    assert "thanks" in raw


def test_decision_page_shows_the_pipeline_to_staff(client, as_admin, world):
    accepted(client, world.idea)
    move(client, world.idea, "concept", "Sites chosen.")

    body = text_of(client.get(f"/agencies/city/ideas/{world.idea.id}/decision"))

    assert "Stage: Concept" in body
    assert "Sites chosen." in body


# --- moving through the pipeline ---------------------------------------------------------


def test_stage_form_offers_the_other_stages_and_discontinued(client, as_admin, world):
    accepted(client, world.idea)
    move(client, world.idea, "validation")

    body = client.get(f"/agencies/city/ideas/{world.idea.id}/decision").get_data(as_text=True)

    offered = re.findall(r'<option[^>]*value="(\w+)"', body.split('id="stage"')[1])
    assert offered == [
        "backlog",
        "concept",
        "development",
        "deployment",
        "implemented",
        "discontinued",
    ]


def test_stage_form_is_not_offered_before_acceptance(client, as_admin, world):
    body = client.get(f"/agencies/city/ideas/{world.idea.id}/decision").get_data(as_text=True)

    assert "Move to this stage" not in body


def test_moving_forward_stores_the_stage_note_and_reference(client, as_admin, world):
    accepted(client, world.idea)

    response = move(client, world.idea, "concept", "  Sites chosen.  ", " CITY-42 ")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/agencies/city/ideas/{world.idea.id}/decision"
    idea = stored(world.idea)
    assert idea.pipeline_stage == "concept"
    assert idea.external_ref == "CITY-42"
    last = idea.pipeline_events[-1]
    assert (last.stage, last.note, last.external_ref, last.actor_id) == (
        "concept",
        "Sites chosen.",
        "CITY-42",
        world.admin.id,
    )


def test_moving_says_the_stage_is_public(client, as_admin, world):
    accepted(client, world.idea)
    move(client, world.idea, "concept")

    body = text_of(client.get(f"/agencies/city/ideas/{world.idea.id}/decision"))

    assert "The new stage is shown on the idea's page." in body


def test_moving_to_the_stage_it_is_in_is_refused(client, as_admin, world, mailbox):
    accepted(client, world.idea)
    move(client, world.idea, "concept")
    before = snapshot(world.idea)
    mailbox.clear()

    response = move(client, world.idea, "concept", "Again.")

    assert response.status_code == 422
    assert "An idea in stage Concept cannot move to Concept." in text_of(response)
    assert snapshot(world.idea) == before
    assert mailbox == []


def test_moving_may_skip_stages(client, as_admin, world):
    accepted(client, world.idea)

    assert move(client, world.idea, "deployment").status_code == 302
    assert stored(world.idea).pipeline_stage == "deployment"


def test_moving_without_a_reference_keeps_the_earlier_one(client, as_admin, world):
    accepted(client, world.idea)
    move(client, world.idea, "concept", external_ref="CITY-42")

    move(client, world.idea, "validation")

    idea = stored(world.idea)
    assert idea.external_ref == "CITY-42"
    assert idea.pipeline_events[-1].external_ref is None


@pytest.mark.parametrize("stage", ["backlog", "concept", "development", "implemented"])
def test_discontinuing_works_from_any_stage_not_final(client, as_admin, world, stage):
    accepted(client, world.idea)
    if stage != "backlog":
        move(client, world.idea, stage)

    response = move(client, world.idea, "discontinued", "No budget this year.")

    if stage == "implemented":
        assert response.status_code == 422
        assert stored(world.idea).pipeline_stage == "implemented"
    else:
        assert response.status_code == 302
        assert stored(world.idea).pipeline_stage == "discontinued"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("concept", "backlog"),
        ("validation", "concept"),
        ("implemented", "deployment"),
        ("discontinued", "concept"),
    ],
)
def test_moving_back_without_a_note_is_refused_and_changes_nothing(
    client, as_admin, world, mailbox, current, target
):
    accepted(client, world.idea)
    move(client, world.idea, current)
    before = snapshot(world.idea)
    mailbox.clear()

    response = move(client, world.idea, target, "", "REF-1")

    assert response.status_code == 422
    target_label = states.STAGE_LABELS[target]
    assert f"Say in the public note why the idea goes back to {target_label}." in field_error(
        response, "note"
    )
    assert snapshot(world.idea) == before
    assert mailbox == []


@pytest.mark.parametrize(
    ("current", "target"),
    [("concept", "backlog"), ("implemented", "deployment"), ("discontinued", "concept")],
)
def test_moving_back_with_a_note_is_shown_on_the_idea_page(
    client, as_admin, world, current, target
):
    accepted(client, world.idea)
    move(client, world.idea, current)

    response = move(client, world.idea, target, "The pilot needs another round.")

    assert response.status_code == 302
    assert db.session.get(Idea, world.idea.id).pipeline_stage == target
    assert "The pilot needs another round." in text_of(client.get(f"/ideas/{world.idea.id}"))


def test_moving_an_idea_not_accepted_is_refused(client, as_admin, world):
    decide(client, world.idea, "shortlist")
    before = snapshot(world.idea)

    response = move(client, world.idea, "concept")

    assert response.status_code == 422
    assert "cannot move to Concept." in text_of(response)
    assert snapshot(world.idea) == before


@pytest.mark.parametrize(
    "data",
    [
        {"stage": "done"},
        {"stage": ""},
        {},
        {"stage": "concept", "external_ref": "x" * 121},
        {"stage": "concept", "note": "x" * 2001},
    ],
)
def test_bad_stage_form_is_refused(client, as_admin, world, data):
    accepted(client, world.idea)
    before = snapshot(world.idea)

    response = client.post(f"/agencies/city/ideas/{world.idea.id}/stage", data=data)

    assert response.status_code == 422
    assert snapshot(world.idea) == before


# --- e-mails -----------------------------------------------------------------------------


def opt_in(client, auth, email: str, display_name: str) -> None:
    """Ask for decision e-mails through the profile form, as a person would."""
    auth.login(email)
    response = client.post(
        "/account/",
        data={
            "display_name": display_name,
            "organisation_name": "",
            "locale": "",
            "timezone": "",
            "email_on_decisions": "y",
        },
    )
    assert response.status_code == 302
    auth.logout()


@pytest.fixture
def voters(world, client, auth):
    """Two voters for the idea: Vera asked for decision e-mails, Victor did not."""
    vera = world.make_user("vera@example.org", display_name="Vera Voter")
    victor = world.make_user("victor@example.org", display_name="Victor Voter")
    for voter in (vera, victor):
        world.make_vote(voter, world.idea)
    opt_in(client, auth, "vera@example.org", "Vera Voter")
    db.session.expire_all()
    assert db.session.get(User, vera.id).email_on_decisions is True
    assert db.session.get(User, victor.id).email_on_decisions is False
    return SimpleNamespace(vera=vera, victor=victor)


def test_decision_is_emailed_to_the_author(client, as_admin, world, mailbox):
    decide(client, world.idea, "accept")

    assert [m["To"] for m in mailbox] == ["ada@example.org"]
    message = mailbox[0]
    assert message["Subject"] == "Decision on “Fruit trees”: Accepted"
    body = message.get_content()
    assert "City of Example has decided on your idea “Fruit trees”: Accepted." in body
    assert RESPONSE in body
    assert f"http://engage.test/ideas/{world.idea.id}" in body


def test_decision_is_emailed_to_voters_who_opted_in_only(client, auth, world, voters, mailbox):
    auth.login("alex@example.org")

    decide(client, world.idea, "decline", "Not this year.")

    assert sorted(m["To"] for m in mailbox) == ["ada@example.org", "vera@example.org"]
    to_vera = next(m for m in mailbox if m["To"] == "vera@example.org")
    body = to_vera.get_content()
    assert "the idea “Fruit trees” you voted for: Declined" in body
    assert "Not this year." in body
    assert "http://engage.test/account/" in body


def test_every_decision_is_emailed(client, auth, world, voters, mailbox):
    auth.login("alex@example.org")

    decide(client, world.idea, "shortlist", "Costing it.")
    decide(client, world.idea, "accept", "Doing it.")

    assert [m["Subject"] for m in mailbox if m["To"] == "vera@example.org"] == [
        "Decision on “Fruit trees”: Shortlisted",
        "Decision on “Fruit trees”: Accepted",
    ]


def test_voters_who_opted_out_again_get_no_decision_email(client, auth, world, voters, mailbox):
    auth.login("vera@example.org")
    client.post(
        "/account/",
        data={"display_name": "Vera Voter", "organisation_name": "", "locale": "", "timezone": ""},
    )
    auth.logout()
    auth.login("alex@example.org")

    decide(client, world.idea, "accept")

    assert [m["To"] for m in mailbox] == ["ada@example.org"]


def test_suspended_voter_gets_no_decision_email(client, auth, world, voters, mailbox):
    db.session.get(User, voters.vera.id).suspended_at = now_utc()
    db.session.commit()
    auth.login("alex@example.org")

    decide(client, world.idea, "accept")

    assert [m["To"] for m in mailbox] == ["ada@example.org"]


def test_author_who_voted_and_opted_in_gets_one_email(client, auth, world, mailbox):
    world.make_vote(world.author, world.idea)
    opt_in(client, auth, "ada@example.org", "Ada Author")
    auth.login("alex@example.org")

    decide(client, world.idea, "accept")

    assert [m["To"] for m in mailbox] == ["ada@example.org"]
    assert "your idea" in mailbox[0].get_content()


def test_voter_of_another_idea_gets_no_email(client, auth, world, voters, mailbox):
    other = world.make_idea(world.challenge, title="Another idea")
    world.make_vote(voters.vera, other)
    auth.login("alex@example.org")

    decide(client, other, "accept")

    assert [m["To"] for m in mailbox if m["To"] != other.author.email] == ["vera@example.org"]
    mailbox.clear()
    decide(client, world.idea, "accept")
    assert sorted(m["To"] for m in mailbox) == ["ada@example.org", "vera@example.org"]


def test_stage_move_is_emailed_to_the_author(client, as_admin, world, mailbox):
    accepted(client, world.idea)
    mailbox.clear()

    move(client, world.idea, "concept", "Sites chosen with the parks team.")

    assert [m["To"] for m in mailbox] == ["ada@example.org"]
    assert mailbox[0]["Subject"] == "Your idea “Fruit trees” moved to: Concept"
    assert "Sites chosen with the parks team." in mailbox[0].get_content()


# --- audit trail -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "target"),
    [
        ("shortlist", "shortlisted"),
        ("accept", "accepted"),
        ("decline", "declined"),
    ],
)
def test_each_decision_is_written_to_the_audit_trail(client, as_admin, world, action, target):
    decide(client, world.idea, action)

    assert audit_trail(world.idea) == [
        (f"decide_{action}", "none", target, RESPONSE, world.admin.id, world.agency.id)
    ]


def test_each_stage_move_is_written_to_the_audit_trail(client, as_admin, world):
    decide(client, world.idea, "shortlist", "Costing it.")
    decide(client, world.idea, "accept")
    move(client, world.idea, "concept", "Sites chosen.")
    move(client, world.idea, "discontinued")

    assert audit_trail(world.idea) == [
        (
            "decide_shortlist",
            "none",
            "shortlisted",
            "Costing it.",
            world.admin.id,
            world.agency.id,
        ),
        ("decide_accept", "shortlisted", "accepted", RESPONSE, world.admin.id, world.agency.id),
        ("stage", "backlog", "concept", "Sites chosen.", world.admin.id, world.agency.id),
        ("stage", "concept", "discontinued", None, world.admin.id, world.agency.id),
    ]


def test_site_admin_decides_on_any_agencys_idea(client, auth, world):
    world.make_user("root@example.org", is_admin=True)
    auth.login("root@example.org")

    assert decide(client, world.idea, "accept").status_code == 302
    assert stored(world.idea).decision == "accepted"
    assert audit_trail(world.idea)[0][0] == "decide_accept"
