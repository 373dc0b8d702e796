"""The one way e-mail leaves Engage: an outbox table, then SMTP (or the log).

Services call `send_to_user`, which writes the message to the outbox in the caller's
transaction, so a rollback sends nothing and a commit loses nothing. `flask worker`
sends what is waiting, with back-off. With MAIL_SEND_AFTER_COMMIT (the default outside
production) the request also sends its own messages right after commit, so development
needs no worker; whatever fails there waits for the worker.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from blinker import Namespace
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import String, Text, event, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engage.db import UTCDateTime, now_utc
from engage.extensions import db

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent with `message=` for every e-mail handed to a transport (tests listen to it).
email_sent = _signals.signal("email-sent")

_QUEUE_KEY = "engage_mail_queue"
MAX_ATTEMPTS = 10
BATCH = 100


class OutboxEmail(db.Model):
    """A message waiting to leave (sent_at empty) or the record that it left."""

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Set when the message is given up on (it cannot be built, or every attempt failed):
    # a dead letter, listed for the site admins with its last error.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} sent={self.sent_at is not None}>"

    def message(self) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
        message["To"] = self.recipient
        message.set_content(self.body)
        return message


def send_to_user(user, template: str, **context) -> None:
    """Queue the e-mail `templates/email/<template>.txt` for `user`, in their language.

    The template's first line is the subject. The message leaves after commit.
    """
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(f"email/{template}.txt", user=user, **context)
    subject, _, body = text.strip().partition("\n")
    row = OutboxEmail(
        recipient=user.email, subject=subject.strip()[:300], body=body.strip() + "\n"
    )
    db.session.add(row)
    if current_app.config["MAIL_SEND_AFTER_COMMIT"]:
        db.session.info.setdefault(_QUEUE_KEY, []).append((row, row.message()))


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


def _mark_sent(email_id: int) -> None:
    # The session's transaction has just ended: record the sending on a connection of
    # its own, so the worker does not send the message again.
    with db.engine.begin() as connection:
        connection.execute(
            update(OutboxEmail.__table__)
            .where(OutboxEmail.__table__.c.id == email_id)
            .values(sent_at=now_utc())
        )


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the real commit is still to come
    for row, message in session.info.pop(_QUEUE_KEY, []):
        if inspect(row).identity is None:
            continue  # written inside a savepoint that was rolled back: never stored
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException) as error:
            # The message stays in the outbox: the worker will try again.
            log.error("E-mail delivery failed: %s", type(error).__name__)
            continue
        _mark_sent(inspect(row).identity[0])


def deliver_waiting(now: datetime | None = None) -> tuple[int, int]:
    """Send the outbox's due messages (the worker's job). Returns (sent, failed)."""
    now = now or now_utc()
    due = db.session.scalars(
        select(OutboxEmail)
        .where(
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.next_attempt_at <= now,
            OutboxEmail.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxEmail.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    sent = failed = 0
    for row in due:
        row.attempts += 1
        try:
            deliver(row.message())
        except (OSError, smtplib.SMTPException) as error:
            log.warning(
                "E-mail %s failed (attempt %s): %s", row.id, row.attempts, type(error).__name__
            )
            row.next_attempt_at = now + timedelta(minutes=2**row.attempts)
            failed += 1
        else:
            row.sent_at = now
            sent += 1
    db.session.commit()
    return sent, failed


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint leaves the rest queued: its own rows lose their identity
    # and _send_queued skips them.
    if previous_transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
