"""Site admin pages: create agencies with their first admin, suspend and restore accounts,
see the e-mails and webhook deliveries given up on (and send such an e-mail again).

Everyone but site admins gets 404.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engage import mail
from engage.agencies import queries as agency_queries
from engage.agencies import services
from engage.agencies.permissions import is_site_admin
from engage.auth.guards import fresh_sign_in_required
from engage.auth.models import User
from engage.auth.queries import users_by_email_prefix
from engage.errors import DomainError
from engage.extensions import db
from engage.forms import ActionForm, render_form
from engage.web.workspace.forms import AgencyForm
from engage.webhooks import services as webhook_services

bp = Blueprint("site_admin", __name__, url_prefix="/admin")
USERS_SHOWN = 50


@bp.before_request
@login_required
def require_site_admin():
    if not is_site_admin(current_user):
        abort(404)


@bp.route("/", methods=["GET", "POST"])
@fresh_sign_in_required
def agencies():
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency = services.create_agency(
                current_user,
                name=form.name.data,
                slug=form.slug.data,
                description=form.description.data or "",
                website=form.website.data,
                first_admin_email=form.first_admin_email.data,
            )
        except DomainError as error:
            return _agencies_page(form, error)
        db.session.commit()
        flash(
            _("The agency %(name)s is created and its first admin is invited.", name=agency.name),
            "success",
        )
        return redirect(url_for("site_admin.agencies"))
    return _agencies_page(form)


def _agencies_page(form, error=None):
    return render_form(
        "admin/agencies.html", form, error, agencies=agency_queries.agencies_with_team_sizes()
    )


@bp.route("/users")
def users():
    query_text = request.args.get("q", "").strip()[:254].lower()
    people = []
    if query_text:
        people = users_by_email_prefix(query_text, USERS_SHOWN)
    return render_template("admin/users.html", people=people, query_text=query_text)


@bp.route("/users/<int(max=2147483647):user_id>/<any(suspend, restore):action>", methods=["POST"])
@fresh_sign_in_required
def user_action(user_id: int, action: str):
    person = db.get_or_404(User, user_id)
    if not ActionForm().validate():
        abort(400)
    service = services.suspend_user if action == "suspend" else services.restore_user
    try:
        service(current_user, person)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(
            _("The account is suspended.")
            if action == "suspend"
            else _("The account is restored."),
            "success",
        )
    return redirect(url_for("site_admin.users", q=person.email))


@bp.route("/dead-letters")
def dead_letters():
    return render_template(
        "admin/dead_letters.html",
        emails=mail.dead_letters(),
        deliveries=webhook_services.given_up_deliveries(),
    )


@bp.route("/dead-letters/emails/<int(max=2147483647):email_id>/retry", methods=["POST"])
def retry_email(email_id: int):
    row = db.get_or_404(mail.OutboxEmail, email_id)
    if not ActionForm().validate():
        abort(400)
    try:
        mail.retry_email(row)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The e-mail will be sent again shortly."), "success")
    return redirect(url_for("site_admin.dead_letters"))
