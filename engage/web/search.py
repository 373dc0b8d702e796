"""The search page: published ideas and challenges matching what someone typed, site-wide
or within one challenge (the `challenge` argument, which the challenge page's form sends)."""

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_login import current_user

from engage.challenges.queries import challenge_by_slug
from engage.db import now_utc
from engage.http import page_arg
from engage.ideas import search
from engage.ideas.permissions import can_view_challenge

bp = Blueprint("search", __name__)

# Relevance falls fast: deeper pages are not worth an ever larger OFFSET.
MAX_PAGES = 50
CHALLENGES_SHOWN = 5


@bp.route("/search")
def results():
    now = g.setdefault("now", now_utc())
    query = " ".join(request.args.get("q", "")[: search.QUERY_MAX].split())
    challenge = None
    slug = request.args.get("challenge", "")[:80]
    if slug:
        challenge = challenge_by_slug(slug)
        if challenge is None or not can_view_challenge(current_user, challenge, now):
            abort(404)
    terms = search.search_terms(query)
    per_page = current_app.config["IDEAS_PER_PAGE"]
    page = page_arg(last=MAX_PAGES)
    # One more than a page tells whether there is a next one, without counting.
    ideas = search.search_ideas(
        terms,
        challenge_id=challenge.id if challenge else None,
        limit=per_page + 1,
        offset=(page - 1) * per_page,
    )
    challenges = (
        search.search_challenges(terms, limit=CHALLENGES_SHOWN)
        if challenge is None and page == 1
        else []
    )
    return render_template(
        "search/results.html",
        query=query,
        searched=bool(terms),
        challenge=challenge,
        ideas=ideas[:per_page],
        challenges=challenges,
        page=page,
        has_next=len(ideas) > per_page and page < MAX_PAGES,
    )
