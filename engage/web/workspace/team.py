"""Workspace pages for the agency's team: members, roles and invitations."""

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engage.agencies import queries, services
from engage.agencies.models import Invitation, Membership
from engage.agencies.permissions import can_manage_agency
from engage.auth.guards import fresh_sign_in_required
from engage.db import now_utc
from engage.errors import DomainError
from engage.extensions import db
from engage.forms import ActionForm, render_form
from engage.web.workspace.base import (
    MEMBER_ID,
    agency_for_admin,
    agency_for_staff,
    apply_change,
    bp,
    owned,
    require_admin,
)
from engage.web.workspace.forms import InviteForm, RoleForm


@bp.route("/agencies/<slug>/team", methods=["GET", "POST"])
@login_required
@fresh_sign_in_required
def team(slug: str):
    agency = agency_for_staff(slug)
    form = InviteForm()
    if form.is_submitted():
        require_admin(agency)
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
    return render_form(
        "workspace/team.html",
        form,
        error,
        agency=agency,
        members=queries.team_members(agency.id),
        invitations=queries.open_invitations(agency.id),
        role_form=RoleForm(),
        can_manage=can_manage_agency(current_user, agency),
    )


@bp.route(f"/agencies/<slug>/team/{MEMBER_ID}/role", methods=["POST"])
@login_required
@fresh_sign_in_required
def change_role(slug: str, member_id: int):
    agency = agency_for_admin(slug)
    membership = owned(agency, Membership, member_id)
    form = RoleForm()
    if not form.validate():
        abort(400)
    return apply_change(
        lambda: services.change_role(current_user, membership, form.role.data),
        _("The role is changed."),
        url_for("workspace.team", slug=agency.slug),
    )


@bp.route(f"/agencies/<slug>/team/{MEMBER_ID}/remove", methods=["POST"])
@login_required
@fresh_sign_in_required
def remove_member(slug: str, member_id: int):
    agency = agency_for_admin(slug)
    membership = owned(agency, Membership, member_id)
    if not ActionForm().validate():
        abort(400)
    return apply_change(
        lambda: services.remove_member(current_user, membership),
        _("The member is removed from the team."),
        url_for("workspace.team", slug=agency.slug),
    )


@bp.route(
    "/agencies/<slug>/invitations/<int(max=2147483647):invitation_id>/revoke", methods=["POST"]
)
@login_required
def revoke_invitation(slug: str, invitation_id: int):
    agency = agency_for_admin(slug)
    invitation = owned(agency, Invitation, invitation_id)
    if not ActionForm().validate():
        abort(400)
    return apply_change(
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
