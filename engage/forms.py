"""Form pieces shared by every feature."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class ActionForm(FlaskForm):
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
    from flask import flash, render_template

    from engage.extensions import db

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
    from wtforms.fields.choices import SelectChoice

    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]
