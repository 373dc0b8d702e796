"""The agency workspace: challenges, ranked ideas and decisions, the team, invitations.

Pages of an agency answer 404 to anyone who is not on its staff (or a site admin);
changes need the agency's admin role.
"""

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
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
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.agencies import queries, services
from engage.agencies.forms import (
    ChallengeForm,
    DecisionForm,
    InviteForm,
    RankingFilterForm,
    RoleForm,
    StageForm,
    TokenForm,
    WebhookForm,
)
from engage.agencies.models import Agency, Invitation, Membership
from engage.agencies.permissions import can_decide_idea, can_manage_agency, can_view_workspace
from engage.auth.guards import fresh_sign_in_required
from engage.challenges import services as challenge_services
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.errors import DomainError, NotPermitted
from engage.exports import csv_lines
from engage.extensions import db
from engage.forms import ActionForm, choices, markdown_preview, render_form
from engage.http import external_url, page_arg
from engage.ideas import decisions, states
from engage.ideas.models import Idea
from engage.moderation.forms import RISK_LABELS

bp = Blueprint("workspace", __name__)

IDEA_ID = "<int(max=2147483647):idea_id>"
MEMBER_ID = "<int(max=2147483647):member_id>"


def _agency_for_staff(slug: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    if agency is None or not can_view_workspace(current_user, agency):
        abort(404)
    return agency


def _agency_for_admin(slug: str) -> Agency:
    agency = _agency_for_staff(slug)
    if not can_manage_agency(current_user, agency):
        abort(403, description=_("Only the agency's admins can do this."))
    return agency


def _challenge_of(agency: Agency, challenge_slug: str) -> Challenge:
    challenge = db.session.scalar(
        select(Challenge).where(Challenge.slug == challenge_slug, Challenge.agency_id == agency.id)
    )
    if challenge is None:
        abort(404)
    return challenge


def _to_utc(local: datetime) -> datetime:
    """A time typed in the viewer's time zone, as an aware UTC datetime."""
    return local.replace(tzinfo=ZoneInfo(str(get_timezone()))).astimezone(UTC)


def _to_local(value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(str(get_timezone()))).replace(tzinfo=None)


@bp.route("/agencies/<slug>/workspace")
@login_required
def dashboard(slug: str):
    agency = _agency_for_staff(slug)
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
    return _save_challenge(_agency_for_admin(slug), None)


@bp.route("/agencies/<slug>/challenges/<challenge_slug>/edit", methods=["GET", "POST"])
@login_required
def edit_challenge(slug: str, challenge_slug: str):
    agency = _agency_for_admin(slug)
    return _save_challenge(agency, _challenge_of(agency, challenge_slug))


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
    agency = _agency_for_admin(slug)
    challenge = _challenge_of(agency, challenge_slug)
    if not ActionForm().validate():
        abort(400)
    service, message = CHALLENGE_ACTIONS[action]
    return _apply(
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
    agency = _agency_for_staff(slug)
    challenge = _challenge_of(agency, challenge_slug)
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
    agency = _agency_for_staff(slug)
    challenge = _challenge_of(agency, challenge_slug)
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


def _idea_of(agency: Agency, idea_id: int) -> Idea:
    idea = db.session.scalar(
        select(Idea)
        .where(Idea.id == idea_id)
        .options(selectinload(Idea.challenge), selectinload(Idea.pipeline_events))
    )
    if idea is None or idea.challenge.agency_id != agency.id:
        abort(404)
    return idea


def _decision_page(agency, idea, decision_form=None, stage_form=None, error=None, form=None):
    stage_form = stage_form or StageForm()
    stage_form.stage.choices = choices(
        [(s, states.STAGE_LABELS[s]) for s in states.allowed_next_stages(idea)]
    )
    context = {
        "agency": agency,
        "idea": idea,
        "decision_form": decision_form or DecisionForm(),
        "stage_form": stage_form,
        "decisions_open": [
            a for a, t in states.DECISION_TRANSITIONS.items() if idea.decision in t.sources
        ],
        "can_manage": can_manage_agency(current_user, agency),
        "can_decide": can_decide_idea(current_user, idea),
    }
    return render_form(
        "workspace/decision.html", form or context["decision_form"], error, **context
    )


@bp.route(f"/agencies/<slug>/ideas/{IDEA_ID}/decision", methods=["GET", "POST"])
@login_required
def decision(slug: str, idea_id: int):
    agency = _agency_for_staff(slug)
    idea = _idea_of(agency, idea_id)
    form = DecisionForm()
    if not form.is_submitted():
        return _decision_page(agency, idea, form)
    verdict = can_decide_idea(current_user, idea)
    if not verdict:
        abort(403, description=verdict.reason)
    if form.validate():
        try:
            decisions.decide_idea(current_user, idea, form.action.data, form.response.data)
        except NotPermitted as error:
            abort(403, description=error.message)
        except DomainError as error:
            return _decision_page(agency, idea, form, error=error)
        db.session.commit()
        flash(_("The decision is published on the idea's page."), "success")
        return redirect(url_for("workspace.decision", slug=agency.slug, idea_id=idea.id))
    return _decision_page(agency, idea, form)


@bp.route(f"/agencies/<slug>/ideas/{IDEA_ID}/stage", methods=["POST"])
@login_required
def move_stage(slug: str, idea_id: int):
    agency = _agency_for_admin(slug)
    idea = _idea_of(agency, idea_id)
    form = StageForm()
    form.stage.choices = choices(states.STAGE_LABELS)
    if form.validate():
        try:
            decisions.move_idea_stage(
                current_user, idea, form.stage.data, form.note.data, form.external_ref.data
            )
        except DomainError as error:
            return _decision_page(agency, idea, stage_form=form, error=error, form=form)
        db.session.commit()
        flash(_("The new stage is shown on the idea's page."), "success")
        return redirect(url_for("workspace.decision", slug=agency.slug, idea_id=idea.id))
    return _decision_page(agency, idea, stage_form=form, form=form)


@bp.route("/agencies/<slug>/team", methods=["GET", "POST"])
@login_required
@fresh_sign_in_required
def team(slug: str):
    agency = _agency_for_staff(slug)
    form = InviteForm()
    if form.is_submitted() and not can_manage_agency(current_user, agency):
        abort(403, description=_("Only the agency's admins can do this."))
    if form.validate_on_submit():
        try:
            services.invite_member(current_user, agency, form.email.data, form.role.data)
        except DomainError as error:
            return _team_page(agency, form, error)
        db.session.commit()
        flash(_("The invitation is on its way."), "success")
        return redirect(url_for("workspace.team", slug=agency.slug))
    return _team_page(agency, form)


def _team_page(agency, form, error=None):
    members = db.session.scalars(
        select(Membership)
        .where(Membership.agency_id == agency.id)
        .options(selectinload(Membership.user))
        .order_by(Membership.role, Membership.id)
    ).all()
    invitations = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.agency_id == agency.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc())
    ).all()
    return render_form(
        "workspace/team.html",
        form,
        error,
        agency=agency,
        members=members,
        invitations=invitations,
        role_form=RoleForm(),
        can_manage=can_manage_agency(current_user, agency),
    )


def _apply(change, message: str, back: str):
    """Run a one-button change, commit it or flash why not, and go back."""
    try:
        change()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(back)


def _owned(agency: Agency, model, object_id: int):
    """The agency's row of `model`, or 404 (also for another agency's)."""
    row = db.session.get(model, object_id)
    if row is None or row.agency_id != agency.id:
        abort(404)
    return row


@bp.route(f"/agencies/<slug>/team/{MEMBER_ID}/role", methods=["POST"])
@login_required
@fresh_sign_in_required
def change_role(slug: str, member_id: int):
    agency = _agency_for_admin(slug)
    membership = _owned(agency, Membership, member_id)
    form = RoleForm()
    if not form.validate():
        abort(400)
    return _apply(
        lambda: services.change_role(current_user, membership, form.role.data),
        _("The role is changed."),
        url_for("workspace.team", slug=agency.slug),
    )


@bp.route(f"/agencies/<slug>/team/{MEMBER_ID}/remove", methods=["POST"])
@login_required
@fresh_sign_in_required
def remove_member(slug: str, member_id: int):
    agency = _agency_for_admin(slug)
    membership = _owned(agency, Membership, member_id)
    if not ActionForm().validate():
        abort(400)
    return _apply(
        lambda: services.remove_member(current_user, membership),
        _("The member is removed from the team."),
        url_for("workspace.team", slug=agency.slug),
    )


@bp.route(
    "/agencies/<slug>/invitations/<int(max=2147483647):invitation_id>/revoke", methods=["POST"]
)
@login_required
def revoke_invitation(slug: str, invitation_id: int):
    agency = _agency_for_admin(slug)
    invitation = _owned(agency, Invitation, invitation_id)
    if not ActionForm().validate():
        abort(400)
    return _apply(
        lambda: services.revoke_invitation(current_user, invitation),
        _("The invitation is withdrawn."),
        url_for("workspace.team", slug=agency.slug),
    )


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    try:
        invitation = services.load_invitation(token)
    except DomainError as error:
        return render_template("auth/link_problem.html", message=error.message), 400
    form = ActionForm()
    if current_user.is_authenticated and form.validate_on_submit():
        try:
            services.accept_invitation(current_user, invitation)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(url_for("workspace.invitation", token=token))
        db.session.commit()
        flash(_("Welcome to the team of %(agency)s.", agency=invitation.agency.name), "success")
        return redirect(url_for("workspace.dashboard", slug=invitation.agency.slug))
    g.setdefault("now", now_utc())
    return render_template("workspace/invitation.html", invitation=invitation, token=token)


def _integrations_page(
    agency, token_form=None, webhook_form=None, error=None, form=None, new_token=None
):
    from engage.api.models import ApiToken
    from engage.webhooks.models import Webhook
    from engage.webhooks.services import recent_deliveries

    token_form = token_form or TokenForm()
    webhook_form = webhook_form or WebhookForm()
    tokens = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.agency_id == agency.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    ).all()
    hooks = db.session.scalars(
        select(Webhook).where(Webhook.agency_id == agency.id).order_by(Webhook.id)
    ).all()
    return render_form(
        "workspace/integrations.html",
        form or token_form,
        error,
        agency=agency,
        tokens=tokens,
        webhooks=hooks,
        deliveries=recent_deliveries(agency.id),
        token_form=token_form,
        webhook_form=webhook_form,
        new_token=new_token,
    )


@bp.route("/agencies/<slug>/integrations")
@login_required
def integrations(slug: str):
    return _integrations_page(_agency_for_admin(slug))


@bp.route("/agencies/<slug>/integrations/tokens", methods=["POST"])
@login_required
@fresh_sign_in_required
def create_token(slug: str):
    from engage.api.services import create_token

    agency = _agency_for_admin(slug)
    form = TokenForm()
    if not form.validate():
        return _integrations_page(agency, token_form=form)
    days = form.expires_in_days.data
    try:
        token, value = create_token(
            current_user,
            agency,
            form.name.data,
            form.scopes.data,
            expires_in_days=int(days) if days else None,
        )
    except DomainError as error:
        return _integrations_page(agency, token_form=form, error=error)
    db.session.commit()
    flash(_("Copy the token now: it is shown only once."), "success")
    # Rendered, not redirected: the value must never be stored, not even in the session.
    response = _integrations_page(agency, new_token=(token, value))
    return response[0], 201


@bp.route(
    "/agencies/<slug>/integrations/tokens/<int(max=2147483647):token_id>/revoke", methods=["POST"]
)
@login_required
@fresh_sign_in_required
def revoke_token(slug: str, token_id: int):
    from engage.api.models import ApiToken
    from engage.api.services import revoke_token

    agency = _agency_for_admin(slug)
    token = _owned(agency, ApiToken, token_id)
    if not ActionForm().validate():
        abort(400)
    return _apply(
        lambda: revoke_token(current_user, token),
        _("The token is revoked."),
        url_for("workspace.integrations", slug=agency.slug),
    )


@bp.route("/agencies/<slug>/integrations/webhooks", methods=["POST"])
@login_required
@fresh_sign_in_required
def create_webhook(slug: str):
    from engage.webhooks.services import register_webhook

    agency = _agency_for_admin(slug)
    form = WebhookForm()
    if not form.validate():
        return _integrations_page(agency, webhook_form=form, form=form)
    try:
        register_webhook(current_user, agency, form.url.data)
    except DomainError as error:
        return _integrations_page(agency, webhook_form=form, error=error, form=form)
    db.session.commit()
    flash(
        _("The webhook is saved. Use its secret to check the signature of each event."), "success"
    )
    return redirect(url_for("workspace.integrations", slug=agency.slug))


@bp.route(
    "/agencies/<slug>/integrations/webhooks/<int(max=2147483647):webhook_id>/remove",
    methods=["POST"],
)
@login_required
@fresh_sign_in_required
def remove_webhook(slug: str, webhook_id: int):
    from engage.webhooks.models import Webhook
    from engage.webhooks.services import remove_webhook

    agency = _agency_for_admin(slug)
    webhook = _owned(agency, Webhook, webhook_id)
    if not ActionForm().validate():
        abort(400)
    return _apply(
        lambda: remove_webhook(current_user, webhook),
        _("The webhook is removed."),
        url_for("workspace.integrations", slug=agency.slug),
    )
