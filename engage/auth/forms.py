"""Account forms: shape and CSRF only; rules live in auth.services."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from engage.auth.services import PASSWORD_MAX, PASSWORD_MIN, normalize_email
from engage.config import LANGUAGES
from engage.forms import Form

TIMEZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def _language_choices() -> list[SelectChoice]:
    # Each language is named in itself, so it needs no translation.
    return [SelectChoice(code, name) for code, name in LANGUAGES.items()]


def _email_field():
    return StringField(
        _l("E-mail address"),
        # Before validation, so a full-width "＠" or letters are checked as the plain ones.
        filters=[lambda value: normalize_email(value) if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
            Email(_l("Enter a valid e-mail address, like name@example.org.")),
        ],
        render_kw={"autocomplete": "email", "type": "email"},
    )


def _new_password_fields():
    password = PasswordField(
        _l("Password"),
        description=_l("At least %(count)d characters.", count=PASSWORD_MIN),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=_l(
                    "Use between %(min)d and %(max)d characters.",
                    min=PASSWORD_MIN,
                    max=PASSWORD_MAX,
                ),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


def _display_name_field():
    return StringField(
        _l("Display name"),
        description=_l("Shown next to your ideas and comments."),
        validators=[
            DataRequired(_l("Enter the name to show.")),
            Length(max=80, message=_l("Use at most %(max)d characters.", max=80)),
        ],
        render_kw={"autocomplete": "nickname"},
    )


def _organisation_field():
    return StringField(
        _l("Organisation name"),
        description=_l("Required for business accounts; shown instead of your name."),
        validators=[
            Optional(),
            Length(max=120, message=_l("Use at most %(max)d characters.", max=120)),
        ],
        render_kw={"autocomplete": "organization"},
    )


class RegisterForm(Form):
    account_type = RadioField(
        _l("I take part as"),
        choices=[
            SelectChoice("citizen", _l("A citizen")),
            SelectChoice("business", _l("A business or organisation")),
        ],
        default="citizen",
        validators=[DataRequired(_l("Choose citizen or business."))],
    )
    display_name = _display_name_field()
    organisation_name = _organisation_field()
    email = _email_field()
    password, password_confirm = _new_password_fields()


def _current_password_field():
    return PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=PASSWORD_MAX, message=_l("That password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class LoginForm(Form):
    email = _email_field()
    password = _current_password_field()
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class ConfirmPasswordForm(Form):
    password = _current_password_field()
    next = HiddenField()


class ResetRequestForm(Form):
    email = _email_field()


class ResetPasswordForm(Form):
    password, password_confirm = _new_password_fields()


class ProfileForm(Form):
    display_name = _display_name_field()
    organisation_name = _organisation_field()
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("Same as my browser")), *_language_choices()],
        validators=[Optional()],
    )
    timezone = SelectField(
        _l("Time zone"),
        description=_l("Dates and times are shown in this time zone."),
        choices=[
            SelectChoice("", "UTC"),
            *(SelectChoice(zone, zone.replace("_", " ")) for zone in TIMEZONES),
        ],
        validators=[Optional()],
    )
    email_on_decisions = BooleanField(
        _l("E-mail me when an idea I voted for gets a decision from the agency")
    )


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(_l("Enter your current password.")),
            Length(max=PASSWORD_MAX, message=_l("That password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = _new_password_fields()
