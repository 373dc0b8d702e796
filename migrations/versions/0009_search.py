"""Full-text search over ideas (title, body, tags) and challenges (title, summary, body),
in the database's own engine, kept current by the database itself on every write.

SQLite: FTS5 tables idea_search and challenge_search (their rowid is the row's id),
tokenizer unicode61 with remove_diacritics 2, so that "velo" finds "vélo"; triggers on
ideas, idea_tags and challenges copy each change in.
PostgreSQL: a tsvector column search_vector with a GIN index on each table, 'english'
configuration (the content has no language column): a STORED generated column on
challenges; on ideas, whose tags live in another table, a trigger computes it (on ideas
and on idea_tags).

None of this is in the models: engage.db.include_in_autogenerate keeps it out of
autogenerate's comparisons. A later batch migration that rebuilds ideas, idea_tags or
challenges on SQLite drops their triggers: it must create them again (see TRIGGERS).

Revision ID: 0009_search
Revises: 0008_comment_state
Create Date: 2026-12-02 03:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_search"
down_revision = "0008_comment_state"
branch_labels = None
depends_on = None

SQLITE_TAGS = (
    "(SELECT coalesce(group_concat(tags.name, ', '), '') FROM idea_tags "
    "JOIN tags ON tags.id = idea_tags.tag_id WHERE idea_tags.idea_id = {idea})"
)

SQLITE_TABLES = [
    "CREATE VIRTUAL TABLE idea_search USING fts5("
    "title, body, tags, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE challenge_search USING fts5("
    "title, summary, body, tokenize = 'unicode61 remove_diacritics 2')",
]

SQLITE_TRIGGERS = {
    "ideas_search_insert": f"""
        CREATE TRIGGER ideas_search_insert AFTER INSERT ON ideas BEGIN
            INSERT INTO idea_search (rowid, title, body, tags)
            VALUES (new.id, new.title, new.body, {SQLITE_TAGS.format(idea="new.id")});
        END""",
    "ideas_search_update": """
        CREATE TRIGGER ideas_search_update AFTER UPDATE OF title, body ON ideas BEGIN
            UPDATE idea_search SET title = new.title, body = new.body WHERE rowid = new.id;
        END""",
    "ideas_search_delete": """
        CREATE TRIGGER ideas_search_delete AFTER DELETE ON ideas BEGIN
            DELETE FROM idea_search WHERE rowid = old.id;
        END""",
    "idea_tags_search_insert": f"""
        CREATE TRIGGER idea_tags_search_insert AFTER INSERT ON idea_tags BEGIN
            UPDATE idea_search SET tags = {SQLITE_TAGS.format(idea="new.idea_id")}
            WHERE rowid = new.idea_id;
        END""",
    "idea_tags_search_delete": f"""
        CREATE TRIGGER idea_tags_search_delete AFTER DELETE ON idea_tags BEGIN
            UPDATE idea_search SET tags = {SQLITE_TAGS.format(idea="old.idea_id")}
            WHERE rowid = old.idea_id;
        END""",
    "challenges_search_insert": """
        CREATE TRIGGER challenges_search_insert AFTER INSERT ON challenges BEGIN
            INSERT INTO challenge_search (rowid, title, summary, body)
            VALUES (new.id, new.title, new.summary, new.body);
        END""",
    "challenges_search_update": """
        CREATE TRIGGER challenges_search_update AFTER UPDATE OF title, summary, body
        ON challenges BEGIN
            UPDATE challenge_search SET title = new.title, summary = new.summary,
                body = new.body
            WHERE rowid = new.id;
        END""",
    "challenges_search_delete": """
        CREATE TRIGGER challenges_search_delete AFTER DELETE ON challenges BEGIN
            DELETE FROM challenge_search WHERE rowid = old.id;
        END""",
}
TRIGGERS = SQLITE_TRIGGERS  # the names to create again after rebuilding a table

SQLITE_BACKFILL = [
    "INSERT INTO idea_search (rowid, title, body, tags) "
    f"SELECT id, title, body, {SQLITE_TAGS.format(idea='ideas.id')} FROM ideas",
    "INSERT INTO challenge_search (rowid, title, summary, body) "
    "SELECT id, title, summary, body FROM challenges",
]

# Title weighs most (A), then tags or summary (B), then the body (C).
PG_UP = [
    """
    ALTER TABLE challenges ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')
    ) STORED""",
    "CREATE INDEX ix_challenges_search_vector ON challenges USING gin (search_vector)",
    "ALTER TABLE ideas ADD COLUMN search_vector tsvector",
    """
    CREATE FUNCTION idea_search_vector(idea integer, title text, body text)
    RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, coalesce((
                SELECT string_agg(tags.name, ', ') FROM idea_tags
                JOIN tags ON tags.id = idea_tags.tag_id WHERE idea_tags.idea_id = idea
            ), '')), 'B')
            || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')
    $$""",
    """
    CREATE FUNCTION ideas_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := idea_search_vector(NEW.id, NEW.title, NEW.body);
        RETURN NEW;
    END
    $$""",
    """
    CREATE TRIGGER ideas_search_refresh BEFORE INSERT OR UPDATE OF title, body ON ideas
    FOR EACH ROW EXECUTE FUNCTION ideas_search_refresh()""",
    """
    CREATE FUNCTION idea_tags_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        changed integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.idea_id ELSE NEW.idea_id END;
    BEGIN
        UPDATE ideas SET search_vector = idea_search_vector(id, title, body)
        WHERE id = changed;
        RETURN NULL;
    END
    $$""",
    """
    CREATE TRIGGER idea_tags_search_refresh AFTER INSERT OR DELETE ON idea_tags
    FOR EACH ROW EXECUTE FUNCTION idea_tags_search_refresh()""",
    "UPDATE ideas SET search_vector = idea_search_vector(id, title, body)",
    "CREATE INDEX ix_ideas_search_vector ON ideas USING gin (search_vector)",
]

PG_DOWN = [
    "DROP TRIGGER idea_tags_search_refresh ON idea_tags",
    "DROP FUNCTION idea_tags_search_refresh()",
    "DROP TRIGGER ideas_search_refresh ON ideas",
    "DROP FUNCTION ideas_search_refresh()",
    "DROP INDEX ix_ideas_search_vector",
    "ALTER TABLE ideas DROP COLUMN search_vector",
    "DROP FUNCTION idea_search_vector(integer, text, text)",
    "DROP INDEX ix_challenges_search_vector",
    "ALTER TABLE challenges DROP COLUMN search_vector",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in [*SQLITE_TABLES, *SQLITE_TRIGGERS.values(), *SQLITE_BACKFILL]:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in PG_UP:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in reversed(SQLITE_TRIGGERS):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE challenge_search")
        op.execute("DROP TABLE idea_search")
    elif dialect == "postgresql":
        for statement in PG_DOWN:
            op.execute(statement)
