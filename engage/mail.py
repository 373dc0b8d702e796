"""The one way e-mail leaves Engage: an outbox table, then SMTP (or the log).

Services call `send_to_user`, which writes the message to the outbox in the caller's
transaction, so a rollback sends nothing and a commit loses nothing. `flask worker`
sends what is waiting, each message in a transaction of its own, so one that fails never
blocks, repeats or hides the others: a message that cannot be built or that the server
refuses for good becomes a dead letter at once (listed for site admins), one that meets
a passing failure is tried again with back-off and becomes a dead letter after
MAX_ATTEMPTS. With MAIL_SEND_AFTER_COMMIT (the default outside production) the request
also sends its own messages right after commit, so development needs no worker; whatever
fails there waits for the worker.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from blinker import Namespace
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text, event, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engage.db import UTCDateTime, lock, now_utc
from engage.errors import InvalidTransition
from engage.extensions import db
from engage.text import clean_line

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent with `message=` for every e-mail handed to a transport (tests listen to it).
email_sent = _signals.signal("email-sent")

_QUEUE_KEY = "engage_mail_queue"
MAX_ATTEMPTS = 10
BATCH = 100
SUBJECT_MAX = ERROR_MAX = 300


class OutboxEmail(db.Model):
    """A message waiting to leave (sent_at empty) or the record that it left."""

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Set when the message is given up on (it cannot be built, or every attempt failed):
    # a dead letter, listed for the site admins with its last error.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} sent={self.sent_at is not None}>"

    def message(self) -> EmailMessage:
        """The message to send. Raises (ValueError, mostly) when it cannot be built, such
        as for an address holding a line break."""
        message = EmailMessage()
        # Cleaned again: rows written before subjects were cleaned on the way in.
        message["Subject"] = clean_line(self.subject)
        message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
        message["To"] = self.recipient
        message.set_content(self.body)
        return message


def send_to_user(user, template: str, **context) -> None:
    """Queue the e-mail `templates/email/<template>.txt` for `user`, in their language.

    The template's first line is the subject, made one header-safe line. The message
    leaves after commit.
    """
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(f"email/{template}.txt", user=user, **context)
    subject, _, body = text.strip().partition("\n")
    row = OutboxEmail(
        recipient=user.email, subject=clean_line(subject)[:SUBJECT_MAX], body=body.strip() + "\n"
    )
    db.session.add(row)
    if current_app.config["MAIL_SEND_AFTER_COMMIT"]:
        try:
            message = row.message()
        except Exception:  # the worker records why, as a dead letter
            return
        db.session.info.setdefault(_QUEUE_KEY, []).append((row, message))


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


def describe(error: Exception) -> str:
    """What went wrong, for the log and the dead-letter list: the kind of error and the
    SMTP reply code, never the server's text (it may quote the address) or the body."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code = next(iter(error.recipients.values()))[0]
    return f"{type(error).__name__} {code}" if code else type(error).__name__


def is_refused_for_good(error: Exception) -> bool:
    """Whether the server refused this one message for good (a 5xx reply about its
    recipient or content, or an address it cannot carry). Failures of the server or of
    our settings (unreachable, busy, login or sender refused) concern every message:
    those are tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return isinstance(error, (smtplib.SMTPNotSupportedError, UnicodeError))


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
        except Exception as error:  # never fail the request that committed
            # The message stays in the outbox: the worker will try again.
            log.error("E-mail delivery failed: %s", describe(error))
            continue
        _mark_sent(inspect(row).identity[0])


def _is_due(now: datetime):
    return (
        OutboxEmail.sent_at.is_(None),
        OutboxEmail.failed_at.is_(None),
        OutboxEmail.next_attempt_at <= now,
    )


def deliver_waiting(now: datetime | None = None) -> tuple[int, int]:
    """Send the outbox's due messages (the worker's job), committing after each one.

    Returns (sent, failed).
    """
    now = now or now_utc()
    due = db.session.scalars(
        select(OutboxEmail.id).where(*_is_due(now)).order_by(OutboxEmail.id).limit(BATCH)
    ).all()
    db.session.commit()
    sent = failed = 0
    for email_id in due:
        outcome = _send_one(email_id, now)
        sent += outcome is True
        failed += outcome is False
    return sent, failed


def _send_one(email_id: int, now: datetime) -> bool | None:
    """Try one message in a transaction of its own: True sent, False failed, None when
    another worker has sent it or is sending it."""
    row = db.session.scalar(
        select(OutboxEmail)
        .where(OutboxEmail.id == email_id, *_is_due(now))
        .with_for_update(skip_locked=True)
    )
    if row is None:
        db.session.commit()
        return None
    row.attempts += 1
    try:
        message = row.message()
    except Exception as error:  # this message's own fault: the rest go on
        _give_up(row, now, f"cannot be built: {describe(error)}")
    else:
        try:
            deliver(message)
        except Exception as error:  # recorded, tried again or given up on
            if is_refused_for_good(error):
                _give_up(row, now, describe(error))
            else:
                _try_later(row, now, describe(error))
        else:
            row.sent_at = now
    sent = row.sent_at is not None
    db.session.commit()
    return sent


def _try_later(row: OutboxEmail, now: datetime, reason: str) -> None:
    if row.attempts >= MAX_ATTEMPTS:
        _give_up(row, now, reason)
        return
    row.last_error = reason[:ERROR_MAX]
    row.next_attempt_at = now + timedelta(minutes=2**row.attempts)
    log.warning("E-mail %s failed (attempt %s): %s", row.id, row.attempts, reason)


def _give_up(row: OutboxEmail, now: datetime, reason: str) -> None:
    row.failed_at, row.last_error = now, reason[:ERROR_MAX]
    log.error("E-mail %s given up after %s attempt(s): %s", row.id, row.attempts, reason)


def dead_letters(limit: int = 100) -> list[OutboxEmail]:
    """The e-mails given up on, the latest first."""
    return db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.failed_at.is_not(None))
        .order_by(OutboxEmail.failed_at.desc(), OutboxEmail.id.desc())
        .limit(limit)
    ).all()


def retry_email(row: OutboxEmail, now: datetime | None = None) -> None:
    """Give a dead letter a new series of attempts, starting now (a site admin's call,
    once the cause is fixed). Raises InvalidTransition unless it was given up on."""
    lock(row)
    if row.failed_at is None:
        raise InvalidTransition(_l("This e-mail was not given up on, so it cannot be sent again."))
    row.failed_at, row.attempts, row.next_attempt_at = None, 0, now or now_utc()
    db.session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint leaves the rest queued: its own rows lose their identity
    # and _send_queued skips them.
    if previous_transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
