"""The Alembic migrations build exactly the schema the models describe, and go back down."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from engage import create_app
from engage.db import is_search_table
from engage.extensions import db


def schema_differences(app) -> list:
    """What autogenerate would write, with the options the app gives Alembic."""
    configure_args = app.extensions["migrate"].configure_args
    options = {
        key: configure_args[key]
        for key in ("compare_type", "render_as_batch", "render_item", "include_name")
    }
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, db.metadata)


def head_revision(app) -> str:
    with app.app_context():
        directory = app.extensions["migrate"].directory
        config = app.extensions["migrate"].migrate.get_config(directory)
        return ScriptDirectory.from_config(config).get_current_head()


def current_revision(app) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def table_names(app) -> set[str]:
    """The database's tables, less the search engine's (not models: engage.db says why)."""
    with app.app_context():
        return {name for name in inspect(db.engine).get_table_names() if not is_search_table(name)}


@pytest.fixture
def scratch_app(tmp_path):
    """An app on its own empty SQLite file, for migrating up and down freely."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "scratch.sqlite"),
            "CACHE_TYPE": "NullCache",
            "CACHE_NO_NULL_WARNING": True,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_app_compares_column_types_when_autogenerating(app):
    configure_args = app.extensions["migrate"].configure_args

    assert configure_args["compare_type"] is True
    assert configure_args["render_as_batch"] is True


def test_migrated_database_matches_the_models(app):
    assert schema_differences(app) == []


def test_migrated_database_is_at_the_head_revision(app):
    assert current_revision(app) == head_revision(app)


def test_migrations_have_a_single_head(app):
    with app.app_context():
        directory = app.extensions["migrate"].directory
        config = app.extensions["migrate"].migrate.get_config(directory)
        heads = ScriptDirectory.from_config(config).get_heads()

    assert len(heads) == 1


def test_upgrade_builds_every_model_table(scratch_app):
    with scratch_app.app_context():
        upgrade()

    assert table_names(scratch_app) == set(db.metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_removes_every_table(scratch_app):
    with scratch_app.app_context():
        upgrade()
        downgrade(revision="base")

    assert table_names(scratch_app) <= {"alembic_version"}
    assert current_revision(scratch_app) is None


def test_upgrade_after_full_downgrade_matches_the_models_again(scratch_app):
    with scratch_app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()

    assert current_revision(scratch_app) == head_revision(scratch_app)
    assert schema_differences(scratch_app) == []


def test_each_migration_steps_down_and_up_again(scratch_app):
    with scratch_app.app_context():
        directory = scratch_app.extensions["migrate"].directory
        config = scratch_app.extensions["migrate"].migrate.get_config(directory)
        revisions = [
            script.revision for script in ScriptDirectory.from_config(config).walk_revisions()
        ]
        upgrade()
        for revision in revisions:  # newest first
            downgrade(revision="-1")
            upgrade(revision=revision)
            downgrade(revision="-1")

    assert table_names(scratch_app) <= {"alembic_version"}


def test_rebuilding_a_table_keeps_the_rows_that_point_to_it(scratch_app):
    """SQLite alters a table by copying and dropping it: with foreign keys on, the DROP
    would delete the votes of every idea (ON DELETE CASCADE). Migrations turn them off."""
    from datetime import timedelta

    from engage.agencies.models import Agency
    from engage.auth.models import User
    from engage.challenges.models import Challenge
    from engage.db import now_utc
    from engage.ideas.models import Idea, Vote

    now = now_utc()
    with scratch_app.app_context():
        upgrade(revision="0006_integrity")  # 0007 rebuilds the ideas table on SQLite
        person = User(email="person@example.org", display_name="Person", password_hash="x")
        challenge = Challenge(
            agency=Agency(name="City", slug="city"),
            title="Trees",
            slug="trees",
            summary="Where?",
            opens_at=now - timedelta(days=1),
            submissions_close_at=now + timedelta(days=1),
            voting_closes_at=now + timedelta(days=2),
        )
        idea = Idea(
            challenge=challenge,
            author=person,
            title="Oaks",
            body="Oaks.",
            moderation_state="published",
            published_at=now,
        )
        db.session.add(idea)
        db.session.flush()
        db.session.add(Vote(voter_id=person.id, idea_id=idea.id, challenge_id=challenge.id))
        db.session.commit()
        db.session.remove()

        upgrade()

        assert db.session.scalar(select(func.count(Vote.id))) == 1
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1  # on again afterwards


def _comment_rows(*columns: str) -> list[tuple]:
    rows = db.session.execute(text(f"SELECT {', '.join(columns)} FROM comments ORDER BY id"))
    return [tuple(row) for row in rows]


def test_comment_state_migration_converts_hidden_comments_both_ways(make_user, make_idea):
    """0008 turns is_hidden into moderation_state and back, keeping each reason; on the
    test database itself, so that it runs on PostgreSQL as on SQLite."""
    from engage.ideas import services as ideas
    from engage.ideas import states

    idea = make_idea()
    hidden = ideas.add_comment(make_user(), idea, "Rude words.")
    states.apply_comment_transition(hidden, "hide", "Rude.")
    ideas.add_comment(make_user(), idea, "Fine words.")
    db.session.commit()
    db.session.close()
    try:
        downgrade(revision="0007_state_constraints")
        old = [
            (bool(is_hidden), reason)
            for is_hidden, reason in _comment_rows("is_hidden", "hidden_reason")
        ]
        db.session.close()
    finally:
        upgrade()

    assert old == [(True, "Rude."), (False, None)]
    assert _comment_rows("moderation_state", "moderation_reason") == [
        ("hidden", "Rude."),
        ("visible", None),
    ]
