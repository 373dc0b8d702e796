"""POST /api/v1/ideas/{id}/pipeline: an agency system moves accepted ideas along the
pipeline; the move is shown on the public page and e-mailed to the author; illegal moves
and bad bodies are refused and change nothing; Idempotency-Key makes retries safe."""

import html
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from engage.audit import ModerationAction
from engage.extensions import db
from engage.ideas.decisions import decide_idea, move_idea_stage
from engage.ideas.models import Idea, PipelineEvent
from engage.tokens.services import create_token
from engage.webhooks.models import OutboxEvent


@pytest.fixture
def world(app, make_user, make_agency, make_challenge, make_idea):
    app.config["API_SETTLE_SECONDS"] = 0
    admin = make_user("alex@example.org")
    agency = make_agency("city", name="City of Example", members=[(admin, "admin")])
    other_admin = make_user("olga@example.org")
    other = make_agency("county", members=[(other_admin, "admin")])
    challenge = make_challenge("open", agency=agency)
    author = make_user("ada@example.org", display_name="Ada Author")
    idea = make_idea(challenge, author=author, title="Fruit trees")
    decide_idea(admin, idea, "accept", "We will plant them.")
    token, value = create_token(None, agency, "Backlog", ["ideas:read", "pipeline:write"])
    db.session.commit()
    return SimpleNamespace(
        admin=admin,
        agency=agency,
        other=other,
        other_admin=other_admin,
        challenge=challenge,
        author=author,
        idea=idea,
        token=token,
        headers={"Authorization": f"Bearer {value}"},
        make_idea=make_idea,
        make_challenge=make_challenge,
    )


def move(client, world, body, idea=None, key=None, headers=None):
    idea_id = (idea or world.idea).id
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        f"/api/v1/ideas/{idea_id}/pipeline",
        json=body,
        headers={**world.headers, **extra, **(headers or {})},
    )


def snapshot(idea) -> tuple:
    """What a refused request must leave as it was."""
    db.session.expire_all()
    stored = db.session.get(Idea, idea.id)
    events = db.session.execute(
        select(PipelineEvent.stage, PipelineEvent.note, PipelineEvent.external_ref)
        .where(PipelineEvent.idea_id == idea.id)
        .order_by(PipelineEvent.id)
    ).all()
    outbox = db.session.scalar(select(func.count()).select_from(OutboxEvent))
    audit = db.session.scalar(select(func.count()).select_from(ModerationAction))
    return (stored.pipeline_stage, stored.external_ref, stored.updated_at, events, outbox, audit)


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert [p["name"] for p in body["invalid_params"]] == [field]
    return body


def stages(idea) -> list[str]:
    db.session.expire_all()
    return db.session.scalars(
        select(PipelineEvent.stage)
        .where(PipelineEvent.idea_id == idea.id)
        .order_by(PipelineEvent.id)
    ).all()


# Moves


def test_move_answers_200_with_the_idea_and_its_history(client, world):
    response = move(
        client, world, {"stage": "concept", "note": "Costed by *parks*", "external_ref": "PARK-12"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert (body["id"], body["pipeline_stage"], body["external_ref"]) == (
        world.idea.id,
        "concept",
        "PARK-12",
    )
    assert [(s["stage"], s["note"], s["external_ref"]) for s in body["pipeline_history"]] == [
        ("backlog", "We will plant them.", None),
        ("concept", "Costed by *parks*", "PARK-12"),
    ]


def test_move_is_stored_with_an_audit_record_without_actor(client, world):
    move(client, world, {"stage": "concept", "note": "Costed"})
    db.session.expire_all()
    assert db.session.get(Idea, world.idea.id).pipeline_stage == "concept"
    assert stages(world.idea) == ["backlog", "concept"]
    record = db.session.scalars(
        select(ModerationAction).where(ModerationAction.action == "stage")
    ).one()
    assert (record.actor_id, record.from_state, record.to_state, record.reason) == (
        None,
        "backlog",
        "concept",
        "Costed",
    )


def test_move_shows_on_the_public_idea_page(client, world):
    move(client, world, {"stage": "development", "note": "Planting in **March**"})
    page = client.get(f"/ideas/{world.idea.id}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Current stage: Development" in " ".join(
        text.replace("<strong>", "").replace("</strong>", "").split()
    )
    assert "Planting in <strong>March</strong>" in text


def test_move_emails_the_author(client, world, mailbox):
    move(client, world, {"stage": "concept", "note": "Costed by parks"})
    (message,) = mailbox
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Your idea “Fruit trees” moved to: Concept"
    assert "Costed by parks" in message.get_content()


def test_move_writes_a_pipeline_changed_event(client, world):
    move(client, world, {"stage": "concept"})
    (event,) = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.event_type == "idea.pipeline_changed")
    ).all()
    assert event.agency_id == world.agency.id


def test_note_and_external_ref_are_optional(client, world):
    response = move(client, world, {"stage": "concept"})
    assert response.status_code == 200
    assert response.get_json()["pipeline_history"][-1]["note"] == ""
    assert response.get_json()["external_ref"] is None


def test_external_ref_is_kept_when_a_later_move_has_none(client, world):
    move(client, world, {"stage": "concept", "external_ref": "PARK-12"})
    response = move(client, world, {"stage": "validation"})
    assert response.get_json()["external_ref"] == "PARK-12"


@pytest.mark.parametrize("start", ["backlog", "concept", "development", "deployment"])
def test_any_unfinished_stage_can_be_discontinued(client, world, start):
    if start != "backlog":
        move_idea_stage(world.admin, world.idea, start)
        db.session.commit()
    assert move(client, world, {"stage": "discontinued"}).status_code == 200


def test_stages_may_be_skipped_forward(client, world):
    assert move(client, world, {"stage": "implemented"}).status_code == 200
    assert stages(world.idea) == ["backlog", "implemented"]


# Refused moves


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("backlog", "backlog"),
        ("validation", "validation"),
        ("implemented", "discontinued"),
        ("discontinued", "discontinued"),
    ],
)
def test_illegal_move_is_409_and_changes_nothing(client, world, mailbox, start, target):
    if start != "backlog":
        move_idea_stage(world.admin, world.idea, start)
        db.session.commit()
    mailbox.clear()
    before = snapshot(world.idea)
    assert_problem(move(client, world, {"stage": target}), 409, "stage")
    assert snapshot(world.idea) == before
    assert mailbox == []


BACK_MOVES = [
    ("concept", "backlog"),
    ("validation", "concept"),
    ("implemented", "deployment"),
    ("discontinued", "concept"),
]


@pytest.mark.parametrize(("start", "target"), BACK_MOVES)
def test_moving_back_without_a_note_is_422_naming_the_note(client, world, mailbox, start, target):
    move_idea_stage(world.admin, world.idea, start)
    db.session.commit()
    mailbox.clear()
    before = snapshot(world.idea)
    assert_problem(move(client, world, {"stage": target}), 422, "note")
    assert snapshot(world.idea) == before
    assert mailbox == []


@pytest.mark.parametrize(("start", "target"), BACK_MOVES)
def test_moving_back_with_a_note_is_accepted(client, world, start, target):
    # ISO 56002's process is iterative: a concept can go back to validation.
    move_idea_stage(world.admin, world.idea, start)
    db.session.commit()

    response = move(client, world, {"stage": target, "note": "The pilot needs another round."})

    assert response.status_code == 200
    assert response.get_json()["pipeline_stage"] == target
    assert response.get_json()["pipeline_history"][-1]["note"] == "The pilot needs another round."


@pytest.mark.parametrize("decision", [None, "shortlist", "decline"])
def test_idea_not_accepted_cannot_move_409(client, world, decision):
    idea = world.make_idea(world.challenge)
    if decision:
        decide_idea(world.admin, idea, decision, "Thanks.")
        db.session.commit()
    before = snapshot(idea)
    assert_problem(move(client, world, {"stage": "concept"}, idea=idea), 409, "stage")
    assert snapshot(idea) == before


def test_idea_not_accepted_is_said_to_be_outside_the_pipeline(client, world):
    idea = world.make_idea(world.challenge)
    body = assert_problem(move(client, world, {"stage": "concept"}, idea=idea), 409, "stage")
    assert body["detail"] == (
        "This idea is not in the pipeline (only accepted ideas are), so it cannot move to Concept."
    )


@pytest.mark.parametrize("stage", ["done", "Concept", "", "back log"])
def test_unknown_stage_is_422_naming_stage(client, world, stage):
    before = snapshot(world.idea)
    assert_problem(move(client, world, {"stage": stage}), 422, "stage")
    assert snapshot(world.idea) == before


@pytest.mark.parametrize("data", ['{"stage": "concept"', '["concept"]', '"concept"', ""])
def test_body_that_is_not_a_json_object_is_400(client, world, data):
    before = snapshot(world.idea)
    response = client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        data=data,
        headers={**world.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400)
    assert snapshot(world.idea) == before


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("stage=concept", "application/x-www-form-urlencoded"),
        ('{"stage": "concept"}', "text/plain"),
    ],
)
def test_body_not_sent_as_json_is_415(client, world, data, content_type):
    before = snapshot(world.idea)
    response = client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        data=data,
        headers={**world.headers, "Content-Type": content_type},
    )
    assert_problem(response, 415)
    assert snapshot(world.idea) == before


def test_texts_are_normalized_before_they_are_stored(client, world):
    response = move(
        client,
        world,
        {
            "stage": " con\u200bcept\n",
            "note": "Cafe\u0301\r\nnext",
            "external_ref": "PARK\u202e-12 ",
        },
    )
    assert response.status_code == 200
    assert stages(world.idea) == ["backlog", "concept"]
    event = response.get_json()["pipeline_history"][-1]
    assert (event["note"], event["external_ref"]) == ("Caf\u00e9\nnext", "PARK-12")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "concept", "priority": "high"}, "priority"),
        ({"stage": "concept", "note": "x", "actor": "me"}, "actor"),
        ({"note": "no stage"}, "stage"),
        ({"stage": None}, "stage"),
        ({"stage": 3}, "stage"),
        ({"stage": "concept", "note": 5}, "note"),
        ({"stage": "concept", "external_ref": ["A-1"]}, "external_ref"),
        ({"stage": "concept", "note": "x" * 2001}, "note"),
        ({"stage": "concept", "external_ref": "R" * 121}, "external_ref"),
    ],
)
def test_invalid_field_is_422_naming_it(client, world, body, field):
    before = snapshot(world.idea)
    assert_problem(move(client, world, body), 422, field)
    assert snapshot(world.idea) == before


def test_another_agencys_idea_is_404_and_unchanged(client, world):
    theirs_challenge = world.make_challenge("open", agency=world.other)
    theirs = world.make_idea(theirs_challenge)
    decide_idea(world.other_admin, theirs, "accept", "Yes.")
    db.session.commit()
    before = snapshot(theirs)
    assert_problem(move(client, world, {"stage": "concept"}, idea=theirs), 404)
    assert snapshot(theirs) == before


def test_missing_idea_is_404(client, world):
    response = client.post(
        "/api/v1/ideas/2147483647/pipeline", json={"stage": "concept"}, headers=world.headers
    )
    assert_problem(response, 404)


def test_token_without_pipeline_write_gets_403_and_nothing_changes(client, world):
    _, value = create_token(None, world.agency, "Reader", ["ideas:read"])
    db.session.commit()
    before = snapshot(world.idea)
    response = client.post(
        f"/api/v1/ideas/{world.idea.id}/pipeline",
        json={"stage": "concept"},
        headers={"Authorization": f"Bearer {value}"},
    )
    body = assert_problem(response, 403)
    assert "pipeline:write" in body["detail"]
    assert snapshot(world.idea) == before


def test_move_without_token_is_401(client, world):
    before = snapshot(world.idea)
    response = client.post(f"/api/v1/ideas/{world.idea.id}/pipeline", json={"stage": "concept"})
    assert_problem(response, 401)
    assert snapshot(world.idea) == before


# Idempotency


def test_retry_with_same_key_and_body_replays_the_stored_response(client, world, mailbox):
    body = {"stage": "concept", "note": "Costed"}
    first = move(client, world, body, key="move-1")
    second = move(client, world, body, key="move-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_data() == first.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert stages(world.idea) == ["backlog", "concept"]
    assert len(mailbox) == 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event_type == "idea.pipeline_changed")
        )
        == 1
    )


def test_replay_answers_as_first_time_even_after_later_moves(client, world):
    body = {"stage": "concept"}
    first = move(client, world, body, key="move-1")
    move(client, world, {"stage": "validation"}, key="move-2")
    replay = move(client, world, body, key="move-1")
    assert replay.status_code == 200
    assert replay.get_json() == first.get_json()
    assert stages(world.idea) == ["backlog", "concept", "validation"]


def test_same_key_with_another_body_is_422_and_changes_nothing(client, world):
    move(client, world, {"stage": "concept"}, key="move-1")
    before = snapshot(world.idea)
    response = move(client, world, {"stage": "validation"}, key="move-1")
    assert_problem(response, 422, "Idempotency-Key")
    assert snapshot(world.idea) == before


def test_same_key_and_body_for_another_idea_is_422(client, world):
    other = world.make_idea(world.challenge)
    decide_idea(world.admin, other, "accept", "Yes.")
    db.session.commit()
    move(client, world, {"stage": "concept"}, key="move-1")
    before = snapshot(other)
    assert_problem(
        move(client, world, {"stage": "concept"}, idea=other, key="move-1"), 422, "Idempotency-Key"
    )
    assert snapshot(other) == before


def test_keys_belong_to_one_token(client, world):
    _, value = create_token(None, world.agency, "Other system", ["pipeline:write"])
    db.session.commit()
    move(client, world, {"stage": "concept"}, key="move-1")
    response = move(
        client,
        world,
        {"stage": "validation"},
        key="move-1",
        headers={"Authorization": f"Bearer {value}"},
    )
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers
    assert stages(world.idea) == ["backlog", "concept", "validation"]


def test_refused_request_is_not_stored_under_its_key(client, world):
    assert_problem(move(client, world, {"stage": "backlog"}, key="move-1"), 409)
    response = move(client, world, {"stage": "concept"}, key="move-1")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_idempotency_key_of_wrong_length_is_400(client, world, key):
    before = snapshot(world.idea)
    assert_problem(move(client, world, {"stage": "concept"}, key=key), 400, "Idempotency-Key")
    assert snapshot(world.idea) == before


def test_without_key_a_repeated_move_is_refused_as_illegal(client, world):
    assert move(client, world, {"stage": "concept"}).status_code == 200
    assert_problem(move(client, world, {"stage": "concept"}), 409, "stage")
    assert stages(world.idea) == ["backlog", "concept"]
