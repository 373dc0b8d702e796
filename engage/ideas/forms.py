"""Idea and comment forms: shape and CSRF only; rules live in ideas.services."""

import secrets

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from engage.forms import Form
from engage.ideas.models import BODY_MAX, COMMENT_MAX, LOCATION_MAX, TITLE_MAX


def _max(count: int):
    return Length(max=count, message=_l("Use at most %(max)d characters.", max=count))


def _submission_key_field():
    """A random key per shown form: sending the form twice creates one idea or comment."""
    return HiddenField(
        default=lambda: secrets.token_urlsafe(24),
        validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")],
    )


class IdeaForm(Form):
    title = StringField(
        _l("Title"),
        description=_l(
            "Say your idea in one sentence (at most %(max)d characters).", max=TITLE_MAX
        ),
        validators=[DataRequired(_l("Give your idea a title.")), _max(TITLE_MAX)],
        render_kw={"maxlength": TITLE_MAX},
    )
    body = TextAreaField(
        _l("Description"),
        description=_l(
            "What problem does it solve, and how? You can use Markdown: "
            "*emphasis*, **strong**, lists, [links](https://example.org)."
        ),
        validators=[DataRequired(_l("Describe your idea.")), _max(BODY_MAX)],
        render_kw={"rows": 12},
    )
    tags = StringField(
        _l("Tags"),
        description=_l("Up to 5 keywords, separated by commas."),
        validators=[Optional(), _max(250)],
    )
    location = StringField(
        _l("Location (optional)"),
        description=_l("A street, neighbourhood or place the idea is about."),
        validators=[Optional(), _max(LOCATION_MAX)],
    )
    submission_key = _submission_key_field()
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Submit idea"))


class CommentForm(Form):
    body = TextAreaField(
        _l("Your comment"),
        description=_l("You can use Markdown for emphasis, lists and links."),
        validators=[DataRequired(_l("Write a comment first.")), _max(COMMENT_MAX)],
        render_kw={"rows": 4},
    )
    submission_key = _submission_key_field()
