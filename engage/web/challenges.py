"""Public pages: home (with what became of ideas), the challenge list with filters, a
challenge and its ideas with theirs."""

import math

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_login import current_user

from engage.challenges import queries, states
from engage.db import now_utc
from engage.http import cached_for_visitors, choice_arg, page_arg
from engage.ideas import queries as idea_queries
from engage.ideas.permissions import can_view_challenge
from engage.ideas.services import voted_idea_ids, votes_left

bp = Blueprint("challenges", __name__)


RECENT_OUTCOMES = 5


@bp.route("/")
@cached_for_visitors
def home():
    now = g.setdefault("now", now_utc())
    challenges = queries.public_challenges(now)
    active = [c for c in challenges if c.phase(now) in (states.OPEN, states.VOTING)]
    others = [c for c in challenges if c not in active][:6]
    return render_template(
        "challenges/home.html",
        active=active,
        others=others,
        recent_answers=idea_queries.recent_answers(RECENT_OUTCOMES),
        implemented=idea_queries.recently_implemented(RECENT_OUTCOMES),
        outcomes_by_agency=idea_queries.outcomes_by_agency(),
    )


@bp.route("/challenges")
@cached_for_visitors
def index():
    now = g.setdefault("now", now_utc())
    filters = {
        "agency": request.args.get("agency", "")[:80],
        "phase": choice_arg("phase", queries.PHASE_ORDER, ""),
        "tag": request.args.get("tag", "")[:40].lower(),
    }
    agencies, tags = queries.filter_choices()
    return render_template(
        "challenges/index.html",
        challenges=queries.public_challenges(now, **filters),
        filters=filters,
        agencies=agencies,
        tags=tags,
        phases=[p for p in states.PHASES if p in queries.PHASE_ORDER],
    )


@bp.route("/challenges/<slug>")
@cached_for_visitors
def show(slug: str):
    now = g.setdefault("now", now_utc())
    challenge = queries.challenge_by_slug(slug)
    if challenge is None or not can_view_challenge(current_user, challenge, now):
        abort(404)
    per_page = current_app.config["IDEAS_PER_PAGE"]
    filters = {
        "outcome": choice_arg("outcome", idea_queries.OUTCOMES, ""),
        "tag": request.args.get("tag", "")[:40].strip().lower(),
    }
    matching = idea_queries.count_published_ideas(challenge, **filters)
    pages = max(1, math.ceil(matching / per_page))
    sort = choice_arg("sort", idea_queries.IDEA_SORTS, "votes")
    page = page_arg(last=pages)
    ideas = idea_queries.published_ideas_page(challenge, sort, page, per_page, **filters)
    return render_template(
        "challenges/show.html",
        challenge=challenge,
        phase=challenge.phase(now),
        ideas=ideas,
        voted=voted_idea_ids(current_user, [idea.id for idea in ideas]),
        votes=votes_left(current_user, challenge, now),
        sort=sort,
        sorts=idea_queries.IDEA_SORTS,
        filters=filters,
        outcomes=idea_queries.OUTCOMES,
        matching=matching,
        page=page,
        pages=pages,
    )
