"""Workspace pages for the agency's answer to an idea: the decision and the pipeline."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engage.agencies.permissions import can_manage_agency
from engage.errors import DomainError
from engage.extensions import db
from engage.forms import choices, render_form
from engage.ideas import decisions, states
from engage.ideas.permissions import can_decide_idea
from engage.permissions import require
from engage.web.workspace.base import IDEA_ID, agency_for_admin, agency_for_staff, bp, idea_of
from engage.web.workspace.forms import DECISION_ACTION_LABELS, DecisionForm, StageForm


def _decision_form(idea, form=None) -> DecisionForm:
    """The decision form offering only the decisions the table allows from this one."""
    form = form or DecisionForm()
    form.action.choices = choices(
        [
            (action, label)
            for action, label in DECISION_ACTION_LABELS.items()
            if idea.decision in states.DECISION_TRANSITIONS[action].sources
        ]
    )
    return form


def _decision_page(agency, idea, decision_form=None, stage_form=None, error=None, form=None):
    stage_form = stage_form or StageForm()
    stage_form.stage.choices = choices(
        [(s, states.STAGE_LABELS[s]) for s in states.allowed_next_stages(idea)]
    )
    decision_form = _decision_form(idea, decision_form)
    context = {
        "agency": agency,
        "idea": idea,
        "decision_form": decision_form,
        "stage_form": stage_form,
        "decisions_open": bool(decision_form.action.choices),
        "can_manage": can_manage_agency(current_user, agency),
        "can_decide": can_decide_idea(current_user, idea),
    }
    return render_form(
        "workspace/decision.html", form or context["decision_form"], error, **context
    )


@bp.route(f"/agencies/<slug>/ideas/{IDEA_ID}/decision", methods=["GET", "POST"])
@login_required
def decision(slug: str, idea_id: int):
    agency = agency_for_staff(slug)
    idea = idea_of(agency, idea_id)
    form = _decision_form(idea)
    if not form.is_submitted():
        return _decision_page(agency, idea, form)
    require(can_decide_idea(current_user, idea))
    if form.validate():
        try:
            decisions.decide_idea(current_user, idea, form.action.data, form.response.data)
        except DomainError as error:
            return _decision_page(agency, idea, form, error=error)
        db.session.commit()
        flash(_("The decision is published on the idea's page."), "success")
        return redirect(url_for("workspace.decision", slug=agency.slug, idea_id=idea.id))
    return _decision_page(agency, idea, form)


@bp.route(f"/agencies/<slug>/ideas/{IDEA_ID}/stage", methods=["POST"])
@login_required
def move_stage(slug: str, idea_id: int):
    agency = agency_for_admin(slug)
    idea = idea_of(agency, idea_id)
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
