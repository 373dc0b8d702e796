"""Moderation forms: shape and CSRF only; rules live in moderation.services."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from engage.forms import Form, choices
from engage.moderation.services import FLAG_DETAILS_MAX, REASON_MAX, RISK_NOTE_MAX

# i18n: reasons people give when they report content
FLAG_REASON_LABELS = {
    "spam": _l("Spam or advertising"),
    "offensive": _l("Offensive or abusive"),
    "personal_data": _l("Reveals personal data"),
    "off_topic": _l("Off-topic"),
    "other": _l("Something else"),
}
RISK_LABELS = {
    "privacy": _l("Privacy"),
    "safety": _l("Safety"),
    "legal": _l("Legal"),
    "accessibility": _l("Accessibility"),
}
# i18n: names of moderation actions in the audit trail
ACTION_LABELS = {
    "publish": _l("Published"),
    "reject": _l("Rejected"),
    "request_changes": _l("Changes requested"),
    "hide": _l("Hidden"),
    "restore": _l("Restored"),
    "merge": _l("Merged into another idea"),
    "merge_into": _l("Received a merged idea"),
    "comment_hide": _l("Comment hidden"),
    "comment_restore": _l("Comment restored"),
    "auto_hide": _l("Hidden automatically after reports"),
    "dismiss_flags": _l("Reports dismissed"),
    "uphold_flags": _l("Reports upheld"),
    "risk_set": _l("Risk marked"),
    "risk_cleared": _l("Risk cleared"),
}


def _reason(label, required_message=None, id=None):
    # An idea's file shows several of these forms at once: each reason field gets its own
    # id so that its label and error summary point at it.
    validators = [
        Length(max=REASON_MAX, message=_l("Use at most %(max)d characters.", max=REASON_MAX))
    ]
    validators.insert(0, DataRequired(required_message) if required_message else Optional())
    return TextAreaField(label, validators=validators, render_kw={"rows": 3}, id=id)


class DecisionForm(Form):
    """One reason, several buttons (name="action"): the button pressed is the decision."""

    reason = _reason(_l("Reason or message to the author"))
    next = HiddenField()


class BulkForm(Form):
    action = SelectField(
        _l("Decision for the selected ideas"),
        choices=choices([("publish", _l("Publish")), ("reject", _l("Reject"))]),
    )
    reason = _reason(_l("Reason (required to reject)"), id="bulk-reason")


class MergeForm(Form):
    target_id = IntegerField(
        _l("Number of the idea to merge into"),
        description=_l(
            "A published idea of the same challenge, for example one of the "
            "similar ideas listed here."
        ),
        validators=[
            DataRequired(_l("Enter the number of the idea.")),
            NumberRange(min=1, max=2**31 - 1, message=_l("Enter a valid number.")),
        ],
    )
    reason = _reason(_l("Note (optional)"), id="merge-reason")


class DismissForm(Form):
    """Dismiss or uphold the open reports of an item: a decision with a reason."""

    reason = _reason(
        _l("Reason for your decision on the reports"),
        _l("A reason is required."),
        id="dismiss-reason",
    )
    next = HiddenField()


class RiskForm(Form):
    kind = SelectField(_l("Risk"), choices=choices(RISK_LABELS))
    note = TextAreaField(
        _l("Note"),
        validators=[
            DataRequired(_l("Describe the risk.")),
            Length(
                max=RISK_NOTE_MAX, message=_l("Use at most %(max)d characters.", max=RISK_NOTE_MAX)
            ),
        ],
        render_kw={"rows": 3},
    )


class TargetForm(Form):
    hours = IntegerField(
        _l("Moderation target in hours"),
        validators=[
            DataRequired(_l("Enter a number of hours.")),
            NumberRange(min=1, max=720, message=_l("Choose between 1 and 720 hours.")),
        ],
    )


class FlagForm(Form):
    reason = RadioField(
        _l("What is wrong?"),
        choices=choices(FLAG_REASON_LABELS),
        validators=[DataRequired(_l("Choose a reason."))],
    )
    details = TextAreaField(
        _l("Details"),
        description=_l("Required if you choose “Something else”."),
        validators=[
            Optional(),
            Length(
                max=FLAG_DETAILS_MAX,
                message=_l("Use at most %(max)d characters.", max=FLAG_DETAILS_MAX),
            ),
        ],
        render_kw={"rows": 3},
    )
