"""Workspace pages for the agency's systems: API tokens and webhooks."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engage.auth.guards import fresh_sign_in_required
from engage.errors import DomainError
from engage.extensions import db
from engage.forms import ActionForm, render_form
from engage.tokens import services as token_services
from engage.tokens.models import ApiToken
from engage.web.workspace.base import agency_for_admin, apply_change, bp, owned
from engage.web.workspace.forms import TokenForm, WebhookForm
from engage.webhooks import services as webhook_services
from engage.webhooks.models import Webhook


def _integrations_page(
    agency, token_form=None, webhook_form=None, error=None, form=None, new_token=None
):
    token_form = token_form or TokenForm()
    webhook_form = webhook_form or WebhookForm()
    return render_form(
        "workspace/integrations.html",
        form or token_form,
        error,
        agency=agency,
        tokens=token_services.agency_tokens(agency.id),
        webhooks=webhook_services.agency_webhooks(agency.id),
        deliveries=webhook_services.recent_deliveries(agency.id),
        token_form=token_form,
        webhook_form=webhook_form,
        new_token=new_token,
    )


@bp.route("/agencies/<slug>/integrations")
@login_required
def integrations(slug: str):
    return _integrations_page(agency_for_admin(slug))


@bp.route("/agencies/<slug>/integrations/tokens", methods=["POST"])
@login_required
@fresh_sign_in_required
def create_token(slug: str):
    agency = agency_for_admin(slug)
    form = TokenForm()
    if not form.validate():
        return _integrations_page(agency, token_form=form)
    days = form.expires_in_days.data
    try:
        token, value = token_services.create_token(
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
    agency = agency_for_admin(slug)
    token = owned(agency, ApiToken, token_id)
    if not ActionForm().validate():
        abort(400)
    return apply_change(
        lambda: token_services.revoke_token(current_user, token),
        _("The token is revoked."),
        url_for("workspace.integrations", slug=agency.slug),
    )


@bp.route("/agencies/<slug>/integrations/webhooks", methods=["POST"])
@login_required
@fresh_sign_in_required
def create_webhook(slug: str):
    agency = agency_for_admin(slug)
    form = WebhookForm()
    if not form.validate():
        return _integrations_page(agency, webhook_form=form, form=form)
    try:
        webhook_services.register_webhook(current_user, agency, form.url.data)
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
    agency = agency_for_admin(slug)
    webhook = owned(agency, Webhook, webhook_id)
    if not ActionForm().validate():
        abort(400)
    return apply_change(
        lambda: webhook_services.remove_webhook(current_user, webhook),
        _("The webhook is removed."),
        url_for("workspace.integrations", slug=agency.slug),
    )
