"""The one way e-mail leaves Engage.

Services queue messages with `send_to_user`; they go out only after the database
transaction commits (and are dropped on rollback), over SMTP when MAIL_SERVER is set,
otherwise written to the log so a developer can follow the links.
"""

import logging
import smtplib
from email.message import EmailMessage

from blinker import Namespace
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from engage.extensions import db

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent with `message=` for every e-mail handed to a transport (tests listen to it).
email_sent = _signals.signal("email-sent")

_QUEUE_KEY = "engage_mail_queue"


def send_to_user(user, template: str, **context) -> None:
    """Queue the e-mail `templates/email/<template>.txt` for `user`, in their language.

    The template's first line is the subject. The message leaves after commit.
    """
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(f"email/{template}.txt", user=user, **context)
    subject, _, body = text.strip().partition("\n")
    message = EmailMessage()
    message["Subject"] = subject.strip()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = user.email
    message.set_content(body.strip() + "\n")
    db.session.info.setdefault(_QUEUE_KEY, []).append(message)


def deliver(message: EmailMessage) -> None:
    """Hand one message to SMTP, or to the log when no MAIL_SERVER is configured."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        log.info(
            "E-mail (no MAIL_SERVER set, not sent)\nTo: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )
    else:
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        with smtp_class(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        ) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    email_sent.send(current_app._get_current_object(), message=message)


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    for message in session.info.pop(_QUEUE_KEY, []):
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException) as error:
            # The change is committed; losing a notification must not fail the request.
            log.error("E-mail delivery failed: %s", type(error).__name__)


@event.listens_for(Session, "after_rollback")
def _drop_queued(session: Session) -> None:
    session.info.pop(_QUEUE_KEY, None)
