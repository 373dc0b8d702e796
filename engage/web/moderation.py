"""The moderation workspace: the queue, an idea's file with its history, and reporting.

Staff of another agency and everyone else get 404 for what they may not see.
"""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from engage.agencies import queries as agency_queries
from engage.agencies.models import Agency
from engage.agencies.permissions import agency_roles, is_admin_of
from engage.db import now_utc
from engage.errors import DomainError, ValidationFailed
from engage.extensions import db
from engage.forms import render_form
from engage.http import choice_arg, safe_next
from engage.ideas import queries as idea_queries
from engage.ideas import states
from engage.ideas.models import Comment, Idea
from engage.ideas.permissions import can_view_idea
from engage.moderation import queries, services
from engage.moderation.forms import (
    ACTION_LABELS,
    FLAG_REASON_LABELS,
    RISK_LABELS,
    BulkForm,
    DecisionForm,
    DismissForm,
    FlagForm,
    MergeForm,
    RiskForm,
    TargetForm,
)
from engage.moderation.permissions import (
    can_flag,
    can_moderate_agency,
    can_moderate_comment,
    can_moderate_idea,
    can_set_moderation_target,
)
from engage.permissions import require
from engage.quotas import report_quota

bp = Blueprint("moderation", __name__)

IDEA_ID = "<int(max=2147483647):idea_id>"
COMMENT_ID = "<int(max=2147483647):comment_id>"


def _now():
    return g.setdefault("now", now_utc())


def _agency_for_staff(slug: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    if agency is None or not can_moderate_agency(current_user, agency):
        abort(404)
    return agency


def _idea_for_staff(idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id)
    if idea is None or not can_moderate_idea(current_user, idea):
        abort(404)
    return idea


def _comment_for_staff(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or not can_moderate_comment(current_user, comment):
        abort(404)
    return comment


def _back_to(idea: Idea) -> str:
    default = url_for("moderation.idea", idea_id=idea.id)
    return safe_next(request.form.get("next"), default)


@bp.route("/moderation")
@login_required
def index():
    agencies = agency_queries.agencies_by_name(
        None if current_user.is_admin else list(agency_roles(current_user))
    )
    if not agencies:
        abort(404)
    if len(agencies) == 1:
        return redirect(url_for("moderation.queue", slug=agencies[0].slug))
    return render_template("moderation/index.html", agencies=agencies)


@bp.route("/agencies/<slug>/moderation")
@login_required
def queue(slug: str):
    agency = _agency_for_staff(slug)
    challenges = queries.agency_challenges(agency.id)
    challenge_id = request.args.get("challenge", "")
    challenge_id = int(challenge_id) if challenge_id in {str(c.id) for c in challenges} else None
    kind = choice_arg("kind", queries.QUEUE_KINDS, "")
    rows = queries.moderation_queue(agency.id, challenge_id=challenge_id, kind=kind)
    target_form = TargetForm(hours=agency.moderation_target_hours)
    return render_template(
        "moderation/queue.html",
        agency=agency,
        rows=rows,
        challenges=challenges,
        challenge_id=challenge_id,
        kind=kind,
        counts=queries.queue_counts(agency.id),
        bulk_form=BulkForm(),
        target_form=target_form,
        can_set_target=is_admin_of(current_user, agency.id),
        flag_labels=FLAG_REASON_LABELS,
        risk_labels=RISK_LABELS,
    )


@bp.route("/agencies/<slug>/moderation/bulk", methods=["POST"])
@login_required
def bulk(slug: str):
    agency = _agency_for_staff(slug)
    form = BulkForm()
    ids = [
        int(v)
        for v in request.form.getlist("idea_ids")
        if v.isascii() and v.isdigit() and len(v) < 10
    ]
    back = url_for("moderation.queue", slug=agency.slug)
    if not form.validate():
        flash(_("Choose a decision for the selected ideas."), "error")
        return redirect(back)
    if not ids:
        flash(_("Select at least one idea."), "error")
        return redirect(back)
    try:
        done, skipped = services.bulk_moderate(
            current_user, agency, ids, form.action.data, form.reason.data
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(back)
    db.session.commit()
    flash(ngettext("%(num)d idea decided.", "%(num)d ideas decided.", done), "success")
    if skipped:
        flash(
            ngettext(
                "%(num)d idea was skipped: it was already decided.",
                "%(num)d ideas were skipped: they were already decided.",
                skipped,
            ),
            "info",
        )
    return redirect(back)


@bp.route("/agencies/<slug>/moderation/target", methods=["POST"])
@login_required
def set_target(slug: str):
    agency = _agency_for_staff(slug)
    require(can_set_moderation_target(current_user, agency))
    form = TargetForm()
    if form.validate():
        services.set_moderation_target(current_user, agency, form.hours.data)
        db.session.commit()
        flash(_("The moderation target is saved."), "success")
    else:
        flash(_("Choose between 1 and 720 hours."), "error")
    return redirect(url_for("moderation.queue", slug=agency.slug))


def _idea_file(idea: Idea, **forms) -> dict:
    comments = idea_queries.comments_on(idea.id)
    similar_row = queries.QueueRow("idea", idea, idea, idea.queued_at or idea.created_at)
    queries.attach_similar([similar_row])
    return {
        "idea": idea,
        "agency": idea.challenge.agency,
        "comments": comments,
        **_open_flags(idea, comments),
        "history": queries.idea_history(idea.id),
        "similar": similar_row.similar,
        "decisions": [
            a
            for a in services.IDEA_DECISIONS
            if idea.moderation_state in states.TRANSITIONS[a].sources
        ],
        "can_merge": idea.moderation_state in states.TRANSITIONS["merge"].sources,
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "dismiss_form": forms.get("dismiss_form") or DismissForm(),
        "risk_form": forms.get("risk_form") or RiskForm(),
        "action_labels": ACTION_LABELS,
        "flag_labels": FLAG_REASON_LABELS,
        "risk_labels": RISK_LABELS,
    }


def _open_flags(idea: Idea, comments) -> dict:
    """The idea's open reports, and each comment's, from one query."""
    flags = queries.open_flags_for(idea_id=idea.id, comment_ids=[c.id for c in comments])
    comment_flags: dict[int, list] = {}
    for flag in flags:
        if flag.comment_id:
            comment_flags.setdefault(flag.comment_id, []).append(flag)
    return {"flags": [f for f in flags if f.idea_id], "comment_flags": comment_flags}


@bp.route(f"/moderation/ideas/{IDEA_ID}")
@login_required
def idea(idea_id: int):
    return render_template("moderation/idea.html", **_idea_file(_idea_for_staff(idea_id)))


def _decide(idea: Idea, form, call, template_form_name: str, success: str):
    """Validate, call the service, commit; or re-render the idea's file with errors."""
    if form.validate_on_submit():
        try:
            call()
        except DomainError as error:
            return render_form(
                "moderation/idea.html",
                form,
                error,
                **_idea_file(idea, **{template_form_name: form}),
            )
        db.session.commit()
        flash(success, "success")
        return redirect(_back_to(idea))
    forms = {template_form_name: form}
    return render_form("moderation/idea.html", form, **_idea_file(idea, **forms))


@bp.route(f"/moderation/ideas/{IDEA_ID}/decide", methods=["POST"])
@login_required
def decide(idea_id: int):
    idea = _idea_for_staff(idea_id)
    form = DecisionForm()
    action = request.form.get("action", "")
    return _decide(
        idea,
        form,
        lambda: services.moderate_idea(current_user, idea, action, form.reason.data),
        "decision_form",
        _("Decision saved: %(action)s.", action=ACTION_LABELS.get(action, action)),
    )


@bp.route(f"/moderation/ideas/{IDEA_ID}/merge", methods=["POST"])
@login_required
def merge(idea_id: int):
    idea = _idea_for_staff(idea_id)
    form = MergeForm()

    def call():
        target = db.session.get(Idea, form.target_id.data)
        if target is None:
            raise ValidationFailed(_("There is no idea with this number."), "target_id")
        services.merge_idea(current_user, idea, target, form.reason.data)

    return _decide(idea, form, call, "merge_form", _("The ideas are merged."))


@bp.route(f"/moderation/ideas/{IDEA_ID}/dismiss-flags", methods=["POST"])
@login_required
def dismiss_idea_flags(idea_id: int):
    idea = _idea_for_staff(idea_id)
    form = DismissForm()
    return _decide(
        idea,
        form,
        lambda: services.dismiss_flags(current_user, idea, form.reason.data),
        "dismiss_form",
        _("The reports are dismissed."),
    )


@bp.route(f"/moderation/ideas/{IDEA_ID}/uphold-flags", methods=["POST"])
@login_required
def uphold_idea_flags(idea_id: int):
    idea = _idea_for_staff(idea_id)
    form = DismissForm()
    return _decide(
        idea,
        form,
        lambda: services.uphold_flags(current_user, idea, form.reason.data),
        "dismiss_form",
        _("The reports are upheld; the idea stays hidden."),
    )


@bp.route(f"/moderation/ideas/{IDEA_ID}/risks", methods=["POST"])
@login_required
def set_risk(idea_id: int):
    idea = _idea_for_staff(idea_id)
    form = RiskForm()
    return _decide(
        idea,
        form,
        lambda: services.set_risk_flag(current_user, idea, form.kind.data, form.note.data),
        "risk_form",
        _("The risk is marked."),
    )


@bp.route(f"/moderation/ideas/{IDEA_ID}/risks/<kind>/clear", methods=["POST"])
@login_required
def clear_risk(idea_id: int, kind: str):
    idea = _idea_for_staff(idea_id)
    form = DecisionForm()
    return _decide(
        idea,
        form,
        lambda: services.clear_risk_flag(current_user, idea, kind),
        "decision_form",
        _("The risk is cleared."),
    )


@bp.route(f"/moderation/comments/{COMMENT_ID}/decide", methods=["POST"])
@login_required
def decide_comment(comment_id: int):
    comment = _comment_for_staff(comment_id)
    action = request.form.get("action", "")
    form = DismissForm() if action in ("dismiss_flags", "uphold_flags") else DecisionForm()
    back = safe_next(request.form.get("next"), url_for("moderation.idea", idea_id=comment.idea_id))
    if not form.validate_on_submit():
        flash(_("A reason is required for this decision."), "error")
        return redirect(back)
    try:
        if action == "dismiss_flags":
            services.dismiss_flags(current_user, comment, form.reason.data)
        elif action == "uphold_flags":
            services.uphold_flags(current_user, comment, form.reason.data)
        else:
            services.moderate_comment(current_user, comment, action, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(back)
    db.session.commit()
    flash(_("Decision on the comment saved."), "success")
    return redirect(back)


def _flag_page(item, idea: Idea):
    if not can_view_idea(current_user, idea, _now()):
        abort(404)
    require(can_flag(current_user, item))
    form = FlagForm()
    if form.validate_on_submit():
        try:
            services.flag_content(current_user, item, form.reason.data, form.details.data)
        except DomainError as error:
            return render_form("moderation/flag.html", form, error, item=item, idea=idea)
        db.session.commit()
        flash(_("Thank you. A moderator will look at your report."), "success")
        if not can_view_idea(current_user, idea, _now()):  # the report hid it
            return redirect(url_for("challenges.show", slug=idea.challenge.slug))
        return redirect(url_for("ideas.show", idea_id=idea.id))
    return render_form("moderation/flag.html", form, item=item, idea=idea)


@bp.route(f"/ideas/{IDEA_ID}/flag", methods=["GET", "POST"])
@login_required
@report_quota
def flag_idea(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    return _flag_page(idea, idea)


@bp.route(f"/comments/{COMMENT_ID}/flag", methods=["GET", "POST"])
@login_required
@report_quota
def flag_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    return _flag_page(comment, comment.idea)
