"""Agency workspace and site admin forms: shape and CSRF only; rules live in services."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from engage.forms import Form, choices
from engage.ideas import states
from engage.ideas.decisions import EXTERNAL_REF_MAX, NOTE_MAX, RESPONSE_MAX


def _max(count: int):
    return Length(max=count, message=_l("Use at most %(max)d characters.", max=count))


FIRST_YEAR, LAST_YEAR = 2000, 2100


def _plausible_year(form, field) -> None:
    # Far from today, moving a time into or out of the viewer's time zone can leave the
    # years a datetime can hold (year 9999 at UTC+14): no challenge needs such dates.
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(
            _l(
                "Choose a date between the years %(first)d and %(last)d.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )


def _date(label, description=None):
    return DateTimeLocalField(
        label,
        description=description,
        format="%Y-%m-%dT%H:%M",
        validators=[
            DataRequired(_l("Enter a date and time, like 2027-03-31 17:00.")),
            _plausible_year,
        ],
    )


ROLE_CHOICES = choices([("moderator", _l("Moderator")), ("admin", _l("Admin"))])


class ChallengeForm(Form):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Give the challenge a title.")), _max(140)]
    )
    summary = TextAreaField(
        _l("Summary"),
        description=_l("One or two sentences shown in lists."),
        validators=[DataRequired(_l("Write a short summary.")), _max(500)],
        render_kw={"rows": 3},
    )
    body = TextAreaField(
        _l("Description"),
        description=_l("The full brief, in Markdown."),
        validators=[Optional(), _max(20_000)],
        render_kw={"rows": 12},
    )
    tags = StringField(
        _l("Tags"),
        description=_l("Up to 5 keywords, separated by commas."),
        validators=[Optional(), _max(250)],
    )
    opens_at = _date(_l("Opens for ideas"), _l("In your time zone."))
    submissions_close_at = _date(_l("Ideas close (voting continues)"))
    voting_closes_at = _date(_l("Voting closes"))
    moderation_mode = RadioField(
        _l("Moderation"),
        choices=choices(
            [
                ("post", _l("Publish ideas at once; moderators review afterwards")),
                ("pre", _l("Moderators review ideas before they are published")),
            ]
        ),
        default="post",
        validators=[DataRequired(_l("Choose how ideas are moderated."))],
    )
    vote_limit = IntegerField(
        _l("Votes per person (optional)"),
        description=_l("Leave empty for no limit."),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=1000,
                message=_l("Choose a number between 1 and 1000, or leave it empty."),
            ),
        ],
    )
    allow_business = BooleanField(_l("Businesses and organisations may take part"), default=True)
    submit = SubmitField(_l("Save"))


DECISION_ACTION_LABELS = {
    "shortlist": _l("Shortlist"),
    "accept": _l("Accept"),
    "decline": _l("Decline"),
}


class DecisionForm(Form):
    # The view offers only the decisions open from the idea's current one; any other
    # that is sent is refused by the decision table, with its own message.
    action = RadioField(
        _l("Decision"),
        choices=choices(DECISION_ACTION_LABELS),
        validate_choice=False,
        validators=[DataRequired(_l("Choose a decision."))],
    )
    response = TextAreaField(
        _l("Public response"),
        description=_l(
            "Shown on the idea's page and e-mailed to its author and to voters "
            "who asked for it. Markdown is allowed."
        ),
        validators=[
            DataRequired(_l("Write the public response to this decision.")),
            _max(RESPONSE_MAX),
        ],
        render_kw={"rows": 6},
    )


class StageForm(Form):
    stage = SelectField(_l("New stage"), choices=choices(states.STAGE_LABELS))
    note = TextAreaField(
        _l("Public note"),
        description=_l("Required when the idea goes back to an earlier stage."),
        validators=[Optional(), _max(NOTE_MAX)],
        render_kw={"rows": 3},
    )
    external_ref = StringField(
        _l("Reference in your own system (optional)"),
        description=_l("For example the ticket number in your backlog."),
        validators=[Optional(), _max(EXTERNAL_REF_MAX)],
    )


class InviteForm(Form):
    email = StringField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            _max(254),
            Email(_l("Enter a valid e-mail address, like name@example.org.")),
        ],
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class AgencyForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the agency's name.")), _max(120)]
    )
    slug = StringField(
        _l("Web address"),
        description=_l(
            "Lower-case words joined by hyphens, like city-of-example. Left empty, it is made "
            "from the name."
        ),
        validators=[Optional(), _max(80)],
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), _max(2000)], render_kw={"rows": 3}
    )
    website = StringField(
        _l("Website"),
        validators=[
            Optional(),
            _max(255),
            URL(message=_l("Enter a full address, like https://example.org.")),
        ],
    )
    first_admin_email = StringField(
        _l("E-mail of the first admin"),
        description=_l("They receive an invitation to run the agency's workspace."),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            _max(254),
            Email(_l("Enter a valid e-mail address, like name@example.org.")),
        ],
    )


class RankingFilterForm(Form):
    """GET filters of the ranked idea list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    decision = SelectField(
        _l("Decision"),
        choices=choices([("", _l("Any")), *states.DECISION_LABELS.items()]),
        validators=[Optional()],
    )
    risk = SelectField(_l("Risk"), validators=[Optional()])
    tag = StringField(_l("Tag"), validators=[Optional(), _max(40)])
    author_type = SelectField(
        _l("Author"),
        choices=choices(
            [("", _l("Anyone")), ("citizen", _l("Citizens")), ("business", _l("Businesses"))]
        ),
        validators=[Optional()],
    )


class TokenForm(Form):
    name = StringField(
        _l("Name"),
        description=_l("Which system uses it, e.g. “Backlog sync”."),
        validators=[DataRequired(_l("Give the token a name.")), _max(80)],
    )
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=choices(
            [
                ("ideas:read", _l("ideas:read — read the agency's ideas")),
                (
                    "pipeline:write",
                    _l("pipeline:write — move accepted ideas through the pipeline"),
                ),
            ]
        ),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Choose at least one scope."))],
    )
    expires_in_days = SelectField(
        _l("Expires"),
        description=_l("After this, the token stops working and a new one is needed."),
        choices=choices(
            [
                ("", _l("Never")),
                ("30", _l("In 30 days")),
                ("90", _l("In 90 days")),
                ("365", _l("In a year")),
            ]
        ),
        default="",
    )


class WebhookForm(Form):
    url = StringField(
        _l("Endpoint URL"),
        description=_l(
            "An https address of your system. Events: idea.accepted, idea.updated, "
            "idea.pipeline_changed."
        ),
        validators=[DataRequired(_l("Enter the address.")), _max(500)],
    )
