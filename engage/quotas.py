"""Per-account quotas on what people create: ideas, comments, votes and reports.

Each quota is a flask-limiter limit (IDEA_QUOTA, COMMENT_QUOTA, VOTE_QUOTA, REPORT_QUOTA)
counted per signed-in account, whatever its address, on POSTs only. Over a quota the
request gets 429 with Retry-After and a message saying what to wait for and how long;
the view never runs, so nothing is stored. Put the decorator under @login_required:
visitors are sent to sign in before a quota sees them.
"""

import math
import time
from datetime import timedelta

from flask import current_app, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user

from engage.extensions import limiter


def account_key() -> str:
    """Quotas count per account, so that changing address does not reset them."""
    return f"account:{current_user.id}"


def wait_text(seconds: float) -> str:
    """How long to wait, in the person's language, never shorter than the real wait:
    whole minutes up to an hour, whole hours beyond."""
    minutes = max(math.ceil(seconds / 60), 1)
    if minutes > 60:
        minutes = math.ceil(minutes / 60) * 60
    return format_timedelta(timedelta(minutes=minutes), granularity="minute", threshold=1)


def breached_wait() -> str:
    """How long until the limit this request just broke lets the person in again, as
    text for its message (flask-limiter notes the limit before it asks for the message)."""
    breached = limiter.current_limit
    return wait_text(breached.window.reset_time - time.time() if breached else 60)


def _quota(setting: str, scope: str, message, exempt_when=None):
    return limiter.shared_limit(
        lambda: current_app.config[setting],
        scope=f"quota-{scope}",
        key_func=account_key,
        methods=["POST"],
        error_message=lambda: message(breached_wait()),
        exempt_when=exempt_when,
    )


# Every POST counts, refused ones included: counting before the view runs is what stops a
# burst of simultaneous requests. A preview stores nothing, so it is free.
idea_quota = _quota(
    "IDEA_QUOTA",
    "ideas",
    lambda wait: _(
        "You have submitted many ideas in a short time. Please wait %(wait)s before you "
        "submit another one.",
        wait=wait,
    ),
    exempt_when=lambda: "preview" in request.form,
)
comment_quota = _quota(
    "COMMENT_QUOTA",
    "comments",
    lambda wait: _(
        "You have posted many comments in a short time. Please wait %(wait)s before you "
        "post another one.",
        wait=wait,
    ),
)
# Casting and withdrawing share one budget: flipping a vote back and forth is voting.
vote_quota = _quota(
    "VOTE_QUOTA",
    "votes",
    lambda wait: _(
        "You have voted many times in a short time. Please wait %(wait)s before you vote again.",
        wait=wait,
    ),
)
report_quota = _quota(
    "REPORT_QUOTA",
    "reports",
    lambda wait: _(
        "You have sent many reports in a short time. Please wait %(wait)s before you send "
        "another one.",
        wait=wait,
    ),
)
