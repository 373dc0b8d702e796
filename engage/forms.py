"""Form pieces shared by every feature."""

from flask import flash, render_template
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from engage.errors import ValidationFailed
from engage.extensions import db
from engage.text import clean_line, clean_text, render_written


def _text_filter(clean):
    return lambda value: clean(value) if isinstance(value, str) else value


class Form(FlaskForm):
    """The base of every form: text people type comes in normalized (engage.text's
    clean_text for text areas, clean_line for other text fields; not passwords, not
    hidden fields), before any validator measures it."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            clean = None
            if issubclass(field_class, TextAreaField):
                clean = clean_text
            elif issubclass(field_class, StringField) and not issubclass(
                field_class, (PasswordField, HiddenField)
            ):
                clean = clean_line
            if clean is not None:
                options["filters"] = [
                    _text_filter(clean),
                    *unbound_field.kwargs.get("filters", ()),
                ]
            return super().bind_field(form, unbound_field, options)


class ActionForm(Form):
    """A button that changes something: CSRF token plus where to go afterwards."""

    next = HiddenField()


def apply_domain_error(form: FlaskForm, error) -> bool:
    """Attach a domain error to its field; return False if the form has no such field."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, error.message]
    return True


def render_form(template: str, form: FlaskForm, error=None, **context):
    """Render a form page: 422 when sent back with errors, else 200 (first show, preview).

    A domain error is attached to its field, or flashed when it belongs to none.
    Whatever the request changed is rolled back, so nothing is stored on error.
    """
    status = 200
    if form.is_submitted():
        db.session.rollback()
        if form.errors or error is not None:
            status = 422
    if error is not None and not apply_domain_error(form, error):
        flash(str(error.message), "error")
    return render_template(template, form=form, **context), status


def choices(pairs) -> list:
    """SelectField / RadioField choices from (value, label) pairs or a {value: label} dict."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


def markdown_preview(field):
    """The sanitized HTML of a Markdown field, for a preview. A text over the rendering
    limits gets the reason among the field's errors, and an empty preview."""
    try:
        return Markup(render_written(field.data or "", field.name))
    except ValidationFailed as error:
        field.errors = [*field.errors, error.message]
        return Markup("")
