"""Full-text search over published ideas (title, body, tags) and published challenges
(title, summary, body), in the database's own engine: SQLite FTS5 or PostgreSQL's
tsvector, both kept current by the database on write (migration 0009_search)."""

import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import text

from engage.extensions import db
from engage.ideas import states

QUERY_MAX = 200
TERMS_MAX = 12
# Where the engine marks a match; private-use characters that people do not type, and
# the snippet is escaped around them before they become <mark> (see highlighted()).
START, STOP = "\ue000", "\ue001"
_WORD = re.compile(r"\w+")
# PostgreSQL's configuration: the content has no language column, so the site's default.
PG_CONFIG = "english"
PG_HEADLINE = f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2"
PG_TITLE = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"


@dataclass(frozen=True)
class IdeaHit:
    id: int
    title: Markup
    snippet: Markup
    tags: Markup
    vote_count: int
    comment_count: int
    challenge_slug: str
    challenge_title: str


@dataclass(frozen=True)
class ChallengeHit:
    slug: str
    title: Markup
    snippet: Markup


def search_terms(query: str) -> list[str]:
    """The words of what someone typed, without any of the engines' syntax: quotes,
    operators (`-`, `*`, `NEAR`, `:`…) and parentheses are dropped, and each word will
    be matched as a word. At most QUERY_MAX characters and TERMS_MAX words are read."""
    return _WORD.findall(query[:QUERY_MAX])[:TERMS_MAX]


def highlighted(marked: str | None) -> Markup:
    """Escape a text the engine marked with START/STOP, then make the marks <mark>.

    The only markup that can come out is <mark> and </mark>, balanced, whatever the
    stored text holds."""
    out, is_open = [], False
    for part in re.split(f"([{START}{STOP}])", marked or ""):
        if part == START:
            if not is_open:
                out.append(Markup("<mark>"))
                is_open = True
        elif part == STOP:
            if is_open:
                out.append(Markup("</mark>"))
                is_open = False
        else:
            out.append(escape(part))
    if is_open:
        out.append(Markup("</mark>"))
    return Markup("").join(out)


def _fts5_query(terms: list[str]) -> str:
    # Every term quoted: FTS5 reads it as a string, never as an operator.
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _pg_params(terms: list[str]) -> dict:
    return {
        "config": PG_CONFIG,
        "terms": " ".join(terms),
        "options": PG_HEADLINE,
        "title_options": PG_TITLE,
    }


def _fts5_params(terms: list[str], weights: str) -> dict:
    return {"query": _fts5_query(terms), "weights": weights, "start": START, "stop": STOP}


def search_ideas(
    terms: list[str], *, challenge_id: int | None, limit: int, offset: int
) -> list[IdeaHit]:
    """Published ideas of published challenges matching every term, most relevant
    first (title, then tags, then body), with highlighted title, snippet and tags.
    One query."""
    if not terms:
        return []
    params = {
        "published": states.PUBLISHED,
        "challenge": challenge_id,
        "limit": limit,
        "offset": offset,
    }
    in_challenge = "AND ideas.challenge_id = :challenge" if challenge_id is not None else ""
    if db.session.get_bind().dialect.name == "postgresql":
        sql = f"""
            SELECT hits.id, ts_headline(:config, hits.title, hits.query, :title_options),
                ts_headline(:config, hits.body, hits.query, :options),
                ts_headline(:config, hits.tags, hits.query, :title_options),
                hits.vote_count, hits.comment_count, hits.slug, hits.challenge_title
            FROM (
                SELECT ideas.id, ideas.title, ideas.body, ideas.vote_count,
                    ideas.comment_count, challenges.slug,
                    challenges.title AS challenge_title, query.query,
                    coalesce((SELECT string_agg(tags.name, ', ' ORDER BY tags.name)
                        FROM idea_tags JOIN tags ON tags.id = idea_tags.tag_id
                        WHERE idea_tags.idea_id = ideas.id), '') AS tags,
                    ts_rank_cd(ideas.search_vector, query.query) AS rank
                FROM ideas
                JOIN challenges ON challenges.id = ideas.challenge_id,
                    plainto_tsquery(CAST(:config AS regconfig), :terms) AS query
                WHERE ideas.search_vector @@ query.query
                    AND ideas.moderation_state = :published
                    AND challenges.published_at IS NOT NULL {in_challenge}
                ORDER BY rank DESC, ideas.id DESC
                LIMIT :limit OFFSET :offset
            ) AS hits
            ORDER BY hits.rank DESC, hits.id DESC"""
        params |= _pg_params(terms)
    else:
        sql = f"""
            SELECT ideas.id,
                highlight(idea_search, 0, :start, :stop),
                snippet(idea_search, 1, :start, :stop, '…', 24),
                highlight(idea_search, 2, :start, :stop),
                ideas.vote_count, ideas.comment_count, challenges.slug, challenges.title
            FROM idea_search
            JOIN ideas ON ideas.id = idea_search.rowid
            JOIN challenges ON challenges.id = ideas.challenge_id
            WHERE idea_search MATCH :query AND idea_search.rank MATCH :weights
                AND ideas.moderation_state = :published
                AND challenges.published_at IS NOT NULL {in_challenge}
            ORDER BY idea_search.rank
            LIMIT :limit OFFSET :offset"""
        # FTS5 sorts by its own rank column: snippets are made for the page's rows only.
        params |= _fts5_params(terms, "bm25(10.0, 1.0, 5.0)")  # title, body, tags
    return [
        IdeaHit(
            id=row[0],
            title=highlighted(row[1]),
            snippet=highlighted(row[2]),
            tags=highlighted(row[3]),
            vote_count=row[4],
            comment_count=row[5],
            challenge_slug=row[6],
            challenge_title=row[7],
        )
        for row in db.session.execute(text(sql), params)
    ]


def search_challenges(terms: list[str], *, limit: int) -> list[ChallengeHit]:
    """Published challenges matching every term, most relevant first. One query."""
    if not terms:
        return []
    params = {"limit": limit}
    if db.session.get_bind().dialect.name == "postgresql":
        sql = """
            SELECT hits.slug, ts_headline(:config, hits.title, hits.query, :title_options),
                ts_headline(:config, hits.summary || ' ' || hits.body, hits.query, :options)
            FROM (
                SELECT challenges.id, challenges.slug, challenges.title, challenges.summary,
                    challenges.body, query.query,
                    ts_rank_cd(challenges.search_vector, query.query) AS rank
                FROM challenges, plainto_tsquery(CAST(:config AS regconfig), :terms) AS query
                WHERE challenges.search_vector @@ query.query
                    AND challenges.published_at IS NOT NULL
                ORDER BY rank DESC, challenges.id DESC
                LIMIT :limit
            ) AS hits
            ORDER BY hits.rank DESC, hits.id DESC"""
        params |= _pg_params(terms)
    else:
        sql = """
            SELECT challenges.slug, highlight(challenge_search, 0, :start, :stop),
                snippet(challenge_search, -1, :start, :stop, '…', 24)
            FROM challenge_search
            JOIN challenges ON challenges.id = challenge_search.rowid
            WHERE challenge_search MATCH :query AND challenge_search.rank MATCH :weights
                AND challenges.published_at IS NOT NULL
            ORDER BY challenge_search.rank
            LIMIT :limit"""
        params |= _fts5_params(terms, "bm25(10.0, 5.0, 1.0)")  # title, summary, body
    return [
        ChallengeHit(slug=row[0], title=highlighted(row[1]), snippet=highlighted(row[2]))
        for row in db.session.execute(text(sql), params)
    ]
