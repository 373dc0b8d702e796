"""Account pages. Every answer about an address reads the same whether it is known or not."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engage.auth import services, sessions
from engage.auth.forms import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from engage.auth.guards import (
    limit_attempts,
    limit_reset_emails,
    limit_sign_in_failures,
    mark_failed_sign_in,
)
from engage.auth.models import User
from engage.errors import NotPermitted, ValidationFailed
from engage.extensions import db
from engage.forms import ActionForm, render_form
from engage.http import safe_next
from engage.ideas.queries import ideas_by_author

bp = Blueprint("auth", __name__, url_prefix="/account")


def _sign_in(user: User, remember: bool) -> None:
    """Sign `user` in on this browser with a new server-side session (fresh: the password
    was just typed)."""
    sessions.start_session(user, remember=remember)
    login_user(user, remember=remember)


def _sign_out() -> None:
    """End this browser's session: its cookies stop working wherever they were copied."""
    if current_user.is_authenticated:
        sessions.end_session(current_user.signed_in_session)
    logout_user()


@bp.route("/register", methods=["GET", "POST"])
@limit_attempts
def register():
    if current_user.is_authenticated:
        return redirect(url_for("challenges.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            services.register_user(
                email=form.email.data,
                password=form.password.data,
                display_name=form.display_name.data,
                account_type=form.account_type.data,
                organisation_name=form.organisation_name.data,
                locale=_current_locale(),
            )
        except ValidationFailed as error:
            return render_form("auth/register.html", form, error)
        db.session.commit()
        return render_template("auth/check_email.html", reason="register")
    return render_form("auth/register.html", form)


def _current_locale() -> str | None:
    locale = get_locale()
    return str(locale) if locale and str(locale) in current_app.config["LANGUAGES"] else None


@bp.route("/verify/<token>")
def verify_email(token: str):
    try:
        user = services.verify_email(token)
    except ValidationFailed as error:
        db.session.rollback()
        return render_template("auth/link_problem.html", message=error.message), 400
    db.session.commit()
    flash(_("Thank you, your e-mail address is confirmed. You can now take part."), "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("challenges.home"))
    return redirect(url_for("auth.login"))


@bp.route("/verify/resend", methods=["POST"])
@login_required
def resend_verification():
    form = ActionForm()
    if form.validate():
        services.send_verification(current_user)
        db.session.commit()
        flash(_("We sent a new confirmation link to your e-mail address."), "success")
    return redirect(safe_next(form.next.data, url_for("auth.profile")))


@bp.route("/sign-in", methods=["GET", "POST"])
@limit_attempts
@limit_sign_in_failures
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated:
        return redirect(safe_next(form.next.data, url_for("challenges.home")))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except NotPermitted as error:
            flash(str(error.message), "error")
            return render_template("auth/login.html", form=form), error.status
        if user is None:
            mark_failed_sign_in()
            flash(_("That e-mail address and password do not match an account."), "error")
            return render_form("auth/login.html", form)
        session.pop("locale", None)  # the account's own language takes over
        _sign_in(user, remember=form.remember.data)
        db.session.commit()
        flash(_("You are signed in."), "success")
        return redirect(safe_next(form.next.data, url_for("challenges.home")))
    return render_form("auth/login.html", form)


@bp.route("/sign-out", methods=["POST"])
def logout():
    form = ActionForm()
    if form.validate() and current_user.is_authenticated:
        _sign_out()
        db.session.commit()
        flash(_("You are signed out."), "success")
    return redirect(url_for("challenges.home"))


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
@limit_attempts
@limit_sign_in_failures
def confirm():
    """Type the password again: the session becomes fresh for sensitive changes."""
    form = ConfirmPasswordForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not user.check_password(form.password.data):
            mark_failed_sign_in()
            error = ValidationFailed(_("That password is not correct."), "password")
            return render_form("auth/confirm.html", form, error)
        remember = user.signed_in_session.remember
        sessions.renew_session(user)  # a new token too, now that the session may do more
        login_user(user, remember=remember)
        db.session.commit()
        return redirect(safe_next(form.next.data, url_for("auth.profile")))
    return render_form("auth/confirm.html", form)


@bp.route("/reset", methods=["GET", "POST"])
@limit_attempts
@limit_reset_emails
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, locale=_current_locale())
        db.session.commit()
        return render_template("auth/check_email.html", reason="reset")
    return render_form("auth/reset_request.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ValidationFailed as error:
            if error.field:
                return render_form("auth/reset_password.html", form, error)
            db.session.rollback()
            return render_template("auth/link_problem.html", message=error.message), 400
        _sign_out()  # every session of the account has ended; this browser's too
        db.session.commit()
        flash(_("Your password has been changed. Please sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_form("auth/reset_password.html", form)


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
        form.timezone.data = current_user.timezone or ""
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user,
                display_name=form.display_name.data,
                locale=form.locale.data or None,
                organisation_name=form.organisation_name.data,
                timezone=form.timezone.data or None,
                email_on_decisions=form.email_on_decisions.data,
            )
        except ValidationFailed as error:
            return render_form(
                "auth/profile.html", form, error, ideas=ideas_by_author(current_user.id)
            )
        db.session.commit()
        session.pop("locale", None)  # the profile's language takes over at once
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_form("auth/profile.html", form, ideas=ideas_by_author(current_user.id))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limit_sign_in_failures
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.password.data,
                keep=current_user.signed_in_session,
            )
        except ValidationFailed as error:
            if error.field == "current_password":
                mark_failed_sign_in()
            return render_form("auth/change_password.html", form, error)
        db.session.commit()
        flash(_("Your password has been changed. Other devices have been signed out."), "success")
        return redirect(url_for("auth.profile"))
    return render_form("auth/change_password.html", form)


@bp.route("/language/<code>")
def set_language(code: str):
    """Show the site in another language for the rest of this session.

    A link rather than a form, so public pages carry no session-bound token and can be
    cached; the lasting choice for e-mails is the profile's language.
    """
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["locale"] = code
    return redirect(safe_next(request.args.get("next"), url_for("challenges.home")))
