"""Workspace pages for an agency's challenges: dashboard, create and edit, publish
and close, and the ranking of their ideas (with its CSV)."""

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engage.agencies.models import Agency
from engage.agencies.permissions import can_manage_agency
from engage.challenges import services as challenge_services
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.errors import DomainError
from engage.exports import csv_lines
from engage.extensions import db
from engage.forms import ActionForm, choices, markdown_preview, render_form
from engage.http import external_url, page_arg
from engage.moderation.forms import RISK_LABELS
from engage.web.workspace import queries
from engage.web.workspace.base import (
    agency_for_admin,
    agency_for_staff,
    apply_change,
    bp,
    challenge_of,
)
from engage.web.workspace.forms import ChallengeForm, RankingFilterForm


def _to_utc(local: datetime) -> datetime:
    """A time typed in the viewer's time zone, as an aware UTC datetime."""
    return local.replace(tzinfo=ZoneInfo(str(get_timezone()))).astimezone(UTC)


def _to_local(value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(str(get_timezone()))).replace(tzinfo=None)


@bp.route("/agencies/<slug>/workspace")
@login_required
def dashboard(slug: str):
    agency = agency_for_staff(slug)
    return render_template(
        "workspace/dashboard.html",
        agency=agency,
        challenges=queries.agency_challenges(agency.id),
        can_manage=can_manage_agency(current_user, agency),
        now=now_utc(),
    )


def _challenge_form_page(agency, form, challenge=None, error=None):
    preview = markdown_preview(form.body) if request.form.get("preview") else None
    return render_form(
        "workspace/challenge_form.html",
        form,
        error,
        agency=agency,
        challenge=challenge,
        preview=preview,
    )


def _save_challenge(agency: Agency, challenge: Challenge | None):
    form = ChallengeForm(obj=challenge)
    if challenge is not None and not form.is_submitted():
        for name in ("opens_at", "submissions_close_at", "voting_closes_at"):
            getattr(form, name).data = _to_local(getattr(challenge, name))
        form.tags.data = ", ".join(tag.name for tag in challenge.tags)
    if not form.validate_on_submit() or request.form.get("preview"):
        return _challenge_form_page(agency, form, challenge)
    try:
        challenge = challenge_services.save_challenge(
            current_user,
            agency,
            challenge,
            title=form.title.data,
            summary=form.summary.data,
            body=form.body.data or "",
            tags=form.tags.data,
            opens_at=_to_utc(form.opens_at.data),
            submissions_close_at=_to_utc(form.submissions_close_at.data),
            voting_closes_at=_to_utc(form.voting_closes_at.data),
            moderation_mode=form.moderation_mode.data,
            vote_limit=form.vote_limit.data,
            allow_business=form.allow_business.data,
        )
    except DomainError as error:
        return _challenge_form_page(agency, form, challenge, error)
    db.session.commit()
    flash(_("The challenge is saved."), "success")
    return redirect(url_for("workspace.dashboard", slug=agency.slug))


@bp.route("/agencies/<slug>/challenges/new", methods=["GET", "POST"])
@login_required
def new_challenge(slug: str):
    return _save_challenge(agency_for_admin(slug), None)


@bp.route("/agencies/<slug>/challenges/<challenge_slug>/edit", methods=["GET", "POST"])
@login_required
def edit_challenge(slug: str, challenge_slug: str):
    agency = agency_for_admin(slug)
    return _save_challenge(agency, challenge_of(agency, challenge_slug))


CHALLENGE_ACTIONS = {
    "publish": (challenge_services.publish_challenge, _l("The challenge is published.")),
    "close": (challenge_services.close_challenge, _l("The challenge is closed.")),
    "delete": (challenge_services.delete_challenge, _l("The challenge is deleted.")),
}


@bp.route(
    "/agencies/<slug>/challenges/<challenge_slug>/<any(publish, close, delete):action>",
    methods=["POST"],
)
@login_required
def challenge_action(slug: str, challenge_slug: str, action: str):
    agency = agency_for_admin(slug)
    challenge = challenge_of(agency, challenge_slug)
    if not ActionForm().validate():
        abort(400)
    service, message = CHALLENGE_ACTIONS[action]
    return apply_change(
        lambda: service(current_user, challenge),
        str(message),
        url_for("workspace.dashboard", slug=agency.slug),
    )


def _ranking_filters(form: RankingFilterForm) -> dict:
    form.risk.choices = choices([("", _("Any")), *RISK_LABELS.items()])
    valid = form.validate()
    return {
        "decision": form.decision.data if valid else "",
        "risk": form.risk.data if valid else "",
        "tag": (form.tag.data or "").strip() if valid else "",
        "author_type": form.author_type.data if valid else "",
    }


@bp.route("/agencies/<slug>/challenges/<challenge_slug>/ideas")
@login_required
def ranking(slug: str, challenge_slug: str):
    agency = agency_for_staff(slug)
    challenge = challenge_of(agency, challenge_slug)
    form = RankingFilterForm(request.args)
    filters = _ranking_filters(form)
    query = queries.ranked_ideas(challenge, **filters)
    total = queries.count(query)
    pages = max(1, math.ceil(total / queries.RANKING_PAGE))
    page = page_arg(last=pages)
    return render_template(
        "workspace/ranking.html",
        agency=agency,
        challenge=challenge,
        form=form,
        filters=filters,
        ideas=queries.ranked_page(query, page),
        total=total,
        page=page,
        pages=pages,
        first_rank=(page - 1) * queries.RANKING_PAGE + 1,
        risk_labels=RISK_LABELS,
        can_manage=can_manage_agency(current_user, agency),
    )


CSV_HEADER = [
    "rank",
    "id",
    "title",
    "author",
    "author_type",
    "votes",
    "comments",
    "decision",
    "pipeline_stage",
    "risk_flags",
    "tags",
    "url",
    "created_at",
]


@bp.route("/agencies/<slug>/challenges/<challenge_slug>/ideas.csv")
@login_required
def ranking_csv(slug: str, challenge_slug: str):
    agency = agency_for_staff(slug)
    challenge = challenge_of(agency, challenge_slug)
    query = queries.ranked_ideas(challenge, **_ranking_filters(RankingFilterForm(request.args)))

    def rows():
        for rank, idea in enumerate(queries.stream_ideas(query), start=1):
            yield [
                rank,
                idea.id,
                idea.title,
                idea.author.public_name,
                idea.author.account_type,
                idea.vote_count,
                idea.comment_count,
                idea.decision,
                idea.pipeline_stage or "",
                " ".join(r.kind for r in idea.risk_flags),
                ", ".join(t.name for t in idea.tags),
                external_url("ideas.show", idea_id=idea.id),
                idea.created_at.isoformat(),
            ]

    filename = f"{challenge.slug}-ideas.csv"
    return Response(
        stream_with_context(csv_lines(CSV_HEADER, rows())),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
