"""The database itself refuses rows that break the state invariants or point nowhere, on
SQLite as on PostgreSQL, whoever writes them (here: plain SQL, past every service)."""

import pytest
from sqlalchemy import CheckConstraint, delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from engage.db import now_utc
from engage.extensions import db
from engage.ideas import services as ideas
from engage.ideas import states
from engage.ideas.models import Comment, Idea, Vote
from engage.webhooks.models import OutboxEvent, Webhook, WebhookDelivery


def _refused(statement, constraint: str) -> None:
    """Run `statement` in a savepoint; the database must refuse it, naming `constraint`."""
    with pytest.raises(IntegrityError) as raised, db.session.begin_nested():
        db.session.execute(statement)
    assert constraint in str(raised.value.orig)


def _set(idea: Idea, **values):
    return update(Idea.__table__).where(Idea.__table__.c.id == idea.id).values(**values)


@pytest.fixture
def decided(make_idea):
    """Make a published idea with the given decision, through the decision table."""

    def make(decision: str) -> Idea:
        idea = make_idea()
        action = {"shortlisted": "shortlist", "accepted": "accept", "declined": "decline"}
        if decision != states.NO_DECISION:
            states.apply_decision(idea, action[decision], "Our answer.")
        db.session.commit()
        return idea

    return make


# --- merged ⇔ target ---------------------------------------------------------------------


def test_merged_idea_without_a_target_is_refused(make_idea):
    idea = make_idea()

    _refused(_set(idea, moderation_state="merged"), "ck_ideas_merged_has_target")


@pytest.mark.parametrize("state", ["pending", "published", "hidden", "withdrawn"])
def test_idea_that_is_not_merged_cannot_point_to_a_target(make_idea, state):
    idea = make_idea(state=state)
    other = make_idea(idea.challenge)

    _refused(_set(idea, merged_into_id=other.id), "ck_ideas_merged_has_target")


def test_merged_idea_cannot_lose_its_target(make_idea):
    idea = make_idea(state="merged")

    _refused(_set(idea, merged_into_id=None), "ck_ideas_merged_has_target")


# --- accepted ⇔ stage --------------------------------------------------------------------


def test_accepted_idea_without_a_stage_is_refused(decided):
    idea = decided("accepted")

    _refused(_set(idea, pipeline_stage=None), "ck_ideas_accepted_has_stage")


@pytest.mark.parametrize("decision", ["none", "shortlisted", "declined"])
def test_idea_that_is_not_accepted_cannot_have_a_stage(decided, decision):
    idea = decided(decision)

    _refused(_set(idea, pipeline_stage="backlog"), "ck_ideas_accepted_has_stage")


# --- reasons, responses, dates -----------------------------------------------------------


@pytest.mark.parametrize("state", ["rejected", "changes_requested", "hidden"])
def test_refused_or_hidden_idea_without_a_reason_is_refused(make_idea, state):
    idea = make_idea(state=state)

    _refused(_set(idea, moderation_reason=None), "ck_ideas_reason_required")


@pytest.mark.parametrize("state", ["published", "hidden"])
def test_public_idea_without_a_publication_date_is_refused(make_idea, state):
    idea = make_idea(state=state)

    _refused(_set(idea, published_at=None), "ck_ideas_published_has_date")


@pytest.mark.parametrize("column", ["decision_response", "decided_at"])
@pytest.mark.parametrize("decision", ["shortlisted", "accepted", "declined"])
def test_decision_without_a_response_and_date_is_refused(decided, decision, column):
    idea = decided(decision)

    _refused(_set(idea, **{column: None}), "ck_ideas_decided_has_response")


def _set_comment(comment: Comment, **values):
    table = Comment.__table__
    return update(table).where(table.c.id == comment.id).values(**values)


def test_hidden_comment_without_a_reason_is_refused(make_user, make_idea):
    comment = ideas.add_comment(make_user(), make_idea(), "Rude words.")
    states.apply_comment_transition(comment, "hide", "Rude.")
    db.session.commit()

    _refused(_set_comment(comment, moderation_reason=None), "ck_comments_hidden_has_reason")


def test_visible_comment_cannot_become_hidden_without_a_reason(make_user, make_idea):
    comment = ideas.add_comment(make_user(), make_idea(), "Rude words.")
    db.session.commit()

    _refused(_set_comment(comment, moderation_state="hidden"), "ck_comments_hidden_has_reason")


@pytest.mark.parametrize("state", ["pending", "published", "HIDDEN", ""])
def test_comment_in_an_unknown_state_is_refused(make_user, make_idea, state):
    comment = ideas.add_comment(make_user(), make_idea(), "Fine words.")
    db.session.commit()

    _refused(
        _set_comment(comment, moderation_state=state, moderation_reason="A reason."),
        "ck_comments_moderation_state",
    )


def test_rows_the_lifecycles_make_are_accepted(make_user, make_idea, decided):
    for state in states.MODERATION_STATES:
        make_idea(state=state)
    for decision in states.DECISIONS:
        decided(decision)
    hidden = ideas.add_comment(make_user(), make_idea(), "Rude words.")
    states.apply_comment_transition(hidden, "hide", "Rude.")
    ideas.add_comment(make_user(), make_idea(), "Fine words.")
    db.session.commit()

    assert db.session.scalar(select(func.count(Idea.id))) > len(states.MODERATION_STATES)
    stored = db.session.scalars(select(Comment.moderation_state).order_by(Comment.id)).all()
    assert stored == ["hidden", "visible"]


# --- foreign keys, on SQLite too -----------------------------------------------------------


def test_vote_for_an_idea_that_does_not_exist_is_refused(make_user, make_idea):
    idea = make_idea()
    voter = make_user()
    row = {"idea_id": idea.id + 1000, "voter_id": voter.id, "challenge_id": idea.challenge_id}

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(Vote.__table__).values(created_at=now_utc(), **row))


def test_challenge_with_ideas_cannot_be_deleted_in_the_database(make_idea):
    idea = make_idea()
    table = idea.challenge.__table__

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(delete(table).where(table.c.id == idea.challenge_id))


def test_deleting_an_idea_deletes_its_votes(make_user, make_idea, make_vote):
    idea = make_idea()
    make_vote(make_user(), idea)

    db.session.execute(delete(Idea.__table__).where(Idea.__table__.c.id == idea.id))
    db.session.commit()

    assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_deleting_a_webhook_deletes_its_deliveries(make_agency):
    agency = make_agency()
    webhook = Webhook(agency_id=agency.id, url="https://example.org/hook", secret="s" * 64)
    event = OutboxEvent(agency_id=agency.id, event_type="idea.updated", payload="{}")
    db.session.add_all([webhook, event])
    db.session.flush()
    db.session.add(WebhookDelivery(webhook_id=webhook.id, event_id=event.id))
    db.session.commit()

    db.session.execute(delete(Webhook.__table__).where(Webhook.__table__.c.id == webhook.id))
    db.session.commit()

    assert db.session.scalar(select(func.count(WebhookDelivery.id))) == 0


# --- the migrated schema declares what the models declare ---------------------------------
# Alembic's autogenerate (test_migrations.py) compares neither CHECK constraints nor ON
# DELETE, so these two compare them here.


def test_migrated_database_has_the_check_constraints_of_the_models(app_context):
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert found == declared, table.name


def test_migrated_foreign_keys_delete_as_the_models_say(app_context):
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        declared = {
            (tuple(fk.column_keys), fk.referred_table.name, fk.ondelete)
            for fk in table.foreign_key_constraints
        }
        found = {
            (
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                fk.get("options", {}).get("ondelete"),
            )
            for fk in inspector.get_foreign_keys(table.name)
        }
        assert found == declared, table.name
