"""The worker isolates failures: each e-mail in its own transaction (a bad one becomes a
dead letter, the others go out once), header-safe subjects, webhook receivers served in
parallel within a total deadline each, e-mails that never wait for receivers, and the
site admins' list of what was given up on."""

import logging
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engage import mail
from engage.db import now_utc
from engage.extensions import db
from engage.ideas.decisions import decide_idea, move_idea_stage
from engage.webhooks.models import WebhookDelivery
from engage.webhooks.services import MAX_ATTEMPTS, deliver_due, register_webhook

SECRET_BODY = "Your one-time code is 424242."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and answers RCPT by a script:
    {address: "550 …"} refuses those recipients."""

    def __init__(self):
        self.envelopes = []
        self.refusals = {}
        self.received = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.received.set()
        return "250 Message accepted for delivery"

    def messages(self) -> list:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


@pytest.fixture
def smtp_server(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield inbox
    controller.stop()


@pytest.fixture
def worker_only(app):
    """E-mails leave only through the worker, as in production."""
    app.config["MAIL_SEND_AFTER_COMMIT"] = False


def queue(recipient: str, subject: str = "Hello", body: str = "Hi.\n") -> mail.OutboxEmail:
    row = mail.OutboxEmail(recipient=recipient, subject=subject, body=body)
    db.session.add(row)
    db.session.commit()
    return row


def stored(row: mail.OutboxEmail) -> mail.OutboxEmail:
    db.session.expire_all()
    return db.session.get(mail.OutboxEmail, row.id)


# E-mails


def test_message_that_cannot_be_built_does_not_hold_up_the_others(
    app_context, smtp_server, worker_only
):
    first = queue("ada@example.org")
    bad = queue("bob@example.org\nBcc: eve@example.org")
    last = queue("cyd@example.org")

    assert mail.deliver_waiting() == (2, 1)
    recipients = [e.rcpt_tos for e in smtp_server.envelopes]
    assert recipients == [["ada@example.org"], ["cyd@example.org"]]
    assert stored(first).sent_at and stored(last).sent_at
    assert stored(bad).failed_at is not None
    assert stored(bad).last_error.startswith("cannot be built")


def test_nothing_is_sent_twice_after_a_bad_message(app_context, smtp_server, worker_only):
    queue("ada@example.org")
    queue("bob@example.org\r\nBcc: eve@example.org")
    queue("cyd@example.org")
    mail.deliver_waiting()

    assert mail.deliver_waiting(now_utc() + timedelta(days=1)) == (0, 0)
    assert len(smtp_server.envelopes) == 2


def test_recipient_refused_for_good_is_a_dead_letter_at_once(
    app_context, smtp_server, worker_only
):
    smtp_server.refusals["gone@example.org"] = "550 No such user"
    refused = queue("gone@example.org")
    queue("ada@example.org")

    assert mail.deliver_waiting() == (1, 1)
    row = stored(refused)
    assert (row.attempts, row.last_error) == (1, "SMTPRecipientsRefused 550")
    assert row.failed_at is not None


def test_recipient_refused_for_now_is_tried_again_later(app_context, smtp_server, worker_only):
    smtp_server.refusals["busy@example.org"] = "451 Try again later"
    row = queue("busy@example.org")

    assert mail.deliver_waiting() == (0, 1)
    row = stored(row)
    assert (row.failed_at, row.last_error) == (None, "SMTPRecipientsRefused 451")
    assert row.next_attempt_at > now_utc()


def test_message_failing_every_attempt_becomes_a_dead_letter(app, app_context, worker_only):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nobody listens
    row = queue("ada@example.org")
    now = now_utc()
    for _ in range(mail.MAX_ATTEMPTS):
        assert stored(row).failed_at is None
        mail.deliver_waiting(now)
        now = stored(row).next_attempt_at if stored(row).failed_at is None else now

    row = stored(row)
    assert (row.attempts, row.last_error) == (mail.MAX_ATTEMPTS, "ConnectionRefusedError")
    assert row.failed_at is not None
    assert mail.deliver_waiting(now + timedelta(days=30)) == (0, 0)


def test_logs_of_failures_hold_neither_body_nor_address(
    app_context, smtp_server, worker_only, caplog
):
    smtp_server.refusals["gone@example.org"] = "550 No such user gone@example.org"
    queue("gone@example.org", body=SECRET_BODY)
    queue("x@example.org\nBcc: eve@example.org", body=SECRET_BODY)
    with caplog.at_level(logging.DEBUG, logger="engage"):
        mail.deliver_waiting()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("engage"))
    assert "given up" in ours
    for secret in (SECRET_BODY, "gone@example.org", "eve@example.org"):
        assert secret not in ours


def test_title_with_line_separators_gives_a_one_line_subject(
    app, client, auth, make_user, make_agency, make_challenge, make_idea, smtp_server
):
    moderator = make_user("morgan@example.org")
    agency = make_agency(members=[(moderator, "moderator")])
    idea = make_idea(make_challenge(agency=agency), title="Trees")
    # Stored before titles were cleaned on the way in: the e-mail must cope.
    idea.title = "Trees\u2028Bcc: eve@example.org\r\x0bmore\x85end"
    db.session.commit()

    auth.login("morgan@example.org")
    response = client.post(
        f"/moderation/ideas/{idea.id}/decide", data={"action": "hide", "reason": "Off topic"}
    )
    assert response.status_code == 302
    [message] = smtp_server.messages()
    assert message["Subject"] == "Your idea “Trees Bcc: eve@example.org more end” was hidden"
    assert message["Bcc"] is None
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [[idea.author.email]]


def test_subject_is_cleaned_again_when_the_message_is_built(app_context, smtp_server, worker_only):
    queue("ada@example.org", subject="Hello\r\nBcc: eve@example.org")
    assert mail.deliver_waiting() == (1, 0)
    [message] = smtp_server.messages()
    assert message["Subject"] == "Hello Bcc: eve@example.org"
    assert message["Bcc"] is None


# Dead letters for site admins


@pytest.fixture
def site_admin(make_user):
    return make_user("root@example.org", is_admin=True)


def dead_letter(subject="Choose a new password") -> mail.OutboxEmail:
    row = queue("ada@example.org", subject=subject)
    row.attempts, row.failed_at, row.last_error = 10, now_utc(), "SMTPRecipientsRefused 550"
    db.session.commit()
    return row


def test_site_admin_sees_dead_letters(client, auth, site_admin):
    dead_letter("Choose a new password")
    auth.login("root@example.org")
    page = client.get("/admin/dead-letters")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Choose a new password" in text and "SMTPRecipientsRefused 550" in text


def test_dead_letters_are_linked_from_the_site_admin_page(client, auth, site_admin):
    auth.login("root@example.org")
    assert 'href="/admin/dead-letters"' in client.get("/admin/").get_data(as_text=True)


def test_site_admin_sends_a_dead_letter_again(client, auth, site_admin, smtp_server, worker_only):
    row = dead_letter()
    auth.login("root@example.org")
    response = client.post(f"/admin/dead-letters/emails/{row.id}/retry")
    assert response.status_code == 302
    assert response.location.endswith("/admin/dead-letters")
    row = stored(row)
    assert (row.failed_at, row.attempts) == (None, 0)
    assert mail.deliver_waiting() == (1, 0)
    assert len(smtp_server.envelopes) == 1


def test_retrying_a_message_that_is_not_dead_changes_nothing(client, auth, site_admin):
    row = queue("ada@example.org")
    auth.login("root@example.org")
    response = client.post(f"/admin/dead-letters/emails/{row.id}/retry")
    assert response.status_code == 302
    assert stored(row).attempts == 0 and stored(row).failed_at is None


@pytest.mark.parametrize("who", ["ada@example.org", None])
def test_dead_letters_are_hidden_from_everyone_else(client, auth, make_user, who):
    row = dead_letter()
    make_user("ada@example.org")
    if who:
        auth.login(who)
    page = client.get("/admin/dead-letters")
    retry = client.post(f"/admin/dead-letters/emails/{row.id}/retry")
    assert page.status_code in (302, 404) and retry.status_code in (302, 404)
    if who:
        assert (page.status_code, retry.status_code) == (404, 404)
    assert stored(row).failed_at is not None


# Webhooks


class Receiver:
    """An HTTP endpoint on 127.0.0.1 answering every POST with `answer(handler)`."""

    def __init__(self, answer):
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(self.path)
                try:
                    answer(self)
                except OSError:
                    pass  # the worker hung up

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self.thread.start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def ok(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def ok_once(event: threading.Event, wait: float = 10):
    """An answer that waits for `event` (at most `wait` seconds), then says 200."""

    def answer(handler):
        event.wait(wait)
        ok(handler)

    return answer


@pytest.fixture
def receivers(app):
    app.config.update(WEBHOOK_ALLOW_LOCAL=True, WEBHOOK_TIMEOUT=5)
    made = []

    def make(answer):
        made.append(Receiver(answer))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def agency_world(app, make_user, make_agency, make_challenge, make_idea):
    admin = make_user("alex@example.org")
    agency = make_agency(members=[(admin, "admin")])
    idea = make_idea(make_challenge(agency=agency))
    return admin, agency, idea


def hook(world, url) -> None:
    admin, agency, _ = world
    register_webhook(admin, agency, url)
    db.session.commit()


def accept(world) -> None:
    admin, _, idea = world
    decide_idea(admin, idea, "accept", "Yes.")
    db.session.commit()


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def test_slow_receiver_does_not_hold_up_a_fast_one(agency_world, receivers):
    fast_called = threading.Event()
    slow = receivers(ok_once(fast_called))  # answers only once the fast one was called

    def fast_answer(handler):
        fast_called.set()
        ok(handler)

    fast = receivers(fast_answer)
    hook(agency_world, slow.url())  # the slow one comes first
    hook(agency_world, fast.url())
    accept(agency_world)

    assert deliver_due() == (2, 0)
    assert [d.last_status for d in deliveries()] == [200, 200]


def test_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(
    app, agency_world, receivers
):
    app.config["WEBHOOK_TIMEOUT"] = 0.5

    def trickle(handler):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):  # a header byte every 50 ms, for 10 s at most
            time.sleep(0.05)
            handler.wfile.write(b"X")
            handler.wfile.flush()

    receiver = receivers(trickle)
    hook(agency_world, receiver.url())
    accept(agency_world)

    assert deliver_due() == (0, 1)
    [delivery] = deliveries()
    assert (delivery.last_status, delivery.last_error) == (None, "TimeoutError")


def test_failing_receiver_keeps_its_later_events_for_the_next_round(agency_world, receivers):
    answers = iter([500, 200, 200])

    def scripted(handler):
        handler.send_response(next(answers))
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    receiver = receivers(scripted)
    hook(agency_world, receiver.url())
    admin, _, idea = agency_world
    accept(agency_world)
    move_idea_stage(admin, idea, "concept")
    move_idea_stage(admin, idea, "validation")
    db.session.commit()
    now = now_utc()

    assert deliver_due(now) == (0, 1)
    assert len(receiver.requests) == 1
    assert [d.attempts for d in deliveries()] == [1, 0, 0]
    assert deliver_due(now) == (2, 0)  # the first waits for its back-off
    assert [d.attempts for d in deliveries()] == [1, 1, 1]


def test_emails_do_not_wait_for_webhook_receivers(
    app, agency_world, receivers, smtp_server, worker_only, runner
):
    # The receiver answers only once the e-mail has arrived: were e-mails sent after the
    # webhooks, it would run out of time first.
    receiver = receivers(ok_once(smtp_server.received))
    hook(agency_world, receiver.url())
    accept(agency_world)
    queue("ada@example.org")

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(smtp_server.envelopes) >= 1
    [delivery] = deliveries()
    assert delivery.last_status == 200


def test_given_up_webhook_delivery_is_listed_for_site_admins(
    client, auth, site_admin, agency_world, receivers
):
    receiver = receivers(ok)
    hook(agency_world, receiver.url())
    accept(agency_world)
    deliver_due()
    [delivery] = deliveries()
    delivery.delivered_at, delivery.attempts, delivery.last_error = None, MAX_ATTEMPTS, "Timeout"
    db.session.commit()

    auth.login("root@example.org")
    text = client.get("/admin/dead-letters").get_data(as_text=True)
    assert receiver.url() in text and "idea.accepted" in text
