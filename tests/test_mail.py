"""E-mail: queued with the transaction, sent after commit over SMTP or to the log."""

import logging
import re
import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale, gettext
from sqlalchemy import select

from engage import mail
from engage.auth.models import User
from engage.db import now_utc
from engage.extensions import db

PASSWORD = "correct horse battery"
REGISTRATION = {
    "account_type": "citizen",
    "display_name": "Ada",
    "email": "ada@example.org",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on 127.0.0.1 that the app sends to."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield inbox
    controller.stop()


def stored_user(app, email):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_mail_leaves_only_after_commit(make_user, mailbox):
    user = make_user()
    mail.send_to_user(user, "verify_email", token="t0ken")
    db.session.flush()
    assert mailbox == []
    db.session.commit()
    assert [message["To"] for message in mailbox] == [user.email]


def test_mail_is_dropped_on_rollback(make_user, mailbox):
    user = make_user()
    mail.send_to_user(user, "verify_email", token="t0ken")
    db.session.rollback()
    db.session.commit()
    assert mailbox == []


def test_mail_subject_is_the_template_first_line(make_user, mailbox):
    user = make_user(display_name="Ada")
    mail.send_to_user(user, "verify_email", token="t0ken")
    db.session.commit()
    message = mailbox[0]
    assert message["Subject"] == "Confirm your e-mail address for Engage"
    assert message["From"] == "engage@localhost"
    assert message.get_content().startswith("Hello Ada,")
    assert "http://engage.test/account/verify/t0ken" in message.get_content()


def test_failed_registration_sends_no_mail(client, mailbox):
    response = client.post("/account/register", data={**REGISTRATION, "account_type": "business"})
    assert response.status_code == 422
    assert mailbox == []


def test_registration_email_is_delivered_over_smtp(app, client, smtp_server):
    response = client.post("/account/register", data=REGISTRATION)
    assert response.status_code == 200
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["ada@example.org"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Confirm your e-mail address for Engage"
    link = re.search(r"http://engage\.test(/account/verify/\S+)", message.get_content())
    assert client.get(link.group(1)).status_code == 302
    assert stored_user(app, "ada@example.org").is_verified


def test_smtp_failure_is_logged_and_does_not_fail_the_request(app, client, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nobody listens
    with caplog.at_level(logging.ERROR, logger="engage.mail"):
        response = client.post("/account/register", data=REGISTRATION)
    assert response.status_code == 200
    assert stored_user(app, "ada@example.org") is not None
    assert "E-mail delivery failed" in caplog.text
    assert "ada@example.org" not in caplog.text


def test_without_mail_server_mail_is_written_to_the_log(app, client, mailbox, caplog):
    assert app.config["MAIL_SERVER"] == ""
    with caplog.at_level(logging.INFO, logger="engage.mail"):
        client.post("/account/register", data=REGISTRATION)
    assert len(mailbox) == 1
    assert "no MAIL_SERVER set, not sent" in caplog.text
    assert "Subject: Confirm your e-mail address for Engage" in caplog.text
    assert "/account/verify/" in caplog.text


def french_catalogue_or_skip(app, text: str, **variables) -> str:
    """`text` in French, or skip the test while no French catalogue is compiled."""
    with app.test_request_context(), force_locale("fr"):
        translated = gettext(text, **variables)
    if translated == text % variables:
        pytest.skip(
            "no compiled French catalogue (translations/fr/LC_MESSAGES/messages.mo) "
            "to check the e-mail's language against"
        )
    return translated


def test_registration_keeps_the_language_it_was_made_in(app, client, mailbox):
    client.get("/account/language/fr")
    client.post("/account/register", data=REGISTRATION)
    assert stored_user(app, "ada@example.org").locale == "fr"
    subject = french_catalogue_or_skip(
        app, "Confirm your e-mail address for %(site)s", site="Engage"
    )
    assert mailbox[0]["Subject"] == subject


def test_mail_is_in_the_recipient_language_not_the_requester(app, client, make_user, mailbox):
    make_user("ada@example.org", locale="fr")
    client.post(
        "/account/reset", data={"email": "ada@example.org"}, headers={"Accept-Language": "en"}
    )
    subject = french_catalogue_or_skip(app, "Choose a new password for %(site)s", site="Engage")
    assert mailbox[0]["Subject"] == subject


def outbox_rows() -> list:
    return db.session.scalars(select(mail.OutboxEmail).order_by(mail.OutboxEmail.id)).all()


def test_mail_is_written_to_the_outbox_with_the_change_and_marked_sent(make_user, mailbox):
    user = make_user()
    mail.send_to_user(user, "verify_email", token="t0ken")
    db.session.commit()

    [row] = outbox_rows()
    assert (row.recipient, row.subject) == (user.email, "Confirm your e-mail address for Engage")
    assert row.sent_at is not None
    assert mail.deliver_waiting() == (0, 0)  # the worker does not send it again
    assert len(mailbox) == 1


def test_rolled_back_mail_leaves_no_outbox_row(make_user):
    user = make_user()
    mail.send_to_user(user, "verify_email", token="t0ken")
    db.session.rollback()

    assert outbox_rows() == []


def test_without_sending_after_commit_only_the_worker_sends(app, make_user, mailbox):
    app.config["MAIL_SEND_AFTER_COMMIT"] = False
    user = make_user()
    mail.send_to_user(user, "verify_email", token="t0ken")
    db.session.commit()
    assert mailbox == []

    assert mail.deliver_waiting() == (1, 0)
    assert [message["To"] for message in mailbox] == [user.email]
    assert outbox_rows()[0].sent_at is not None


def test_mail_that_failed_in_the_request_is_sent_by_the_worker(
    app, app_context, client, smtp_server
):
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nobody listens during the request
    client.post("/account/register", data=REGISTRATION)
    assert smtp_server.envelopes == []

    app.config["MAIL_PORT"] = working_port
    assert mail.deliver_waiting(now_utc() + timedelta(minutes=1)) == (1, 0)
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["ada@example.org"]


def test_worker_backs_off_while_smtp_is_down(app, make_user):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SEND_AFTER_COMMIT=False)
    mail.send_to_user(make_user(), "verify_email", token="t0ken")
    db.session.commit()

    assert mail.deliver_waiting() == (0, 1)
    [row] = outbox_rows()
    assert row.attempts == 1 and row.sent_at is None
    assert mail.deliver_waiting() == (0, 0)  # not due again yet
