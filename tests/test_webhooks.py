"""Webhooks: agency admins register https endpoints (private addresses refused at save and
at send), events go to the outbox in the same transaction as the change, and the worker
delivers them at least once to a real receiver, signed, with back-off, without following
redirects, within time and size caps, and shows them in the delivery log."""

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from engage.db import now_utc
from engage.extensions import db
from engage.ideas.decisions import decide_idea, move_idea_stage
from engage.ideas.models import Idea
from engage.ideas.serializers import emit_idea_event
from engage.moderation.services import moderate_idea
from engage.webhooks.models import OutboxEvent, Webhook, WebhookDelivery
from engage.webhooks.services import MAX_ATTEMPTS, deliver_due, register_webhook

IDEA_KEYS = {
    "id",
    "url",
    "challenge",
    "title",
    "body_markdown",
    "body_html",
    "tags",
    "author",
    "vote_count",
    "comment_count",
    "moderation_state",
    "decision",
    "decision_response",
    "pipeline_stage",
    "external_ref",
    "risk_flags",
    "created_at",
    "published_at",
    "decided_at",
    "updated_at",
}
PUBLIC_URL = "https://93.184.215.14/hooks/engage"  # a global address: no DNS needed


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records each request and answers by a script:
    a status code, "redirect", "slow" (never answers) or "endless" (a body without end)."""

    def __init__(self):
        self.requests = []
        self.script = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    SimpleNamespace(path=self.path, headers=self.headers, body=body)
                )
                action = receiver.script.pop(0) if receiver.script else 200
                try:
                    receiver.answer(self, action)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker hung up, as it should

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def answer(self, handler, action) -> None:
        if action == "slow":
            self.release.wait(10)
            return
        if action == "redirect":
            handler.send_response(302)
            handler.send_header("Location", self.url("/elsewhere"))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if action == "endless":
            handler.send_response(200)
            handler.end_headers()
            chunk = b"x" * 65536
            while not self.release.is_set():
                handler.wfile.write(chunk)
            return
        handler.send_response(action)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver(app):
    app.config["WEBHOOK_ALLOW_LOCAL"] = True
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def world(app, make_user, make_agency, make_challenge, make_idea):
    app.config["API_SETTLE_SECONDS"] = 0
    admin = make_user("alex@example.org")
    moderator = make_user("morgan@example.org")
    other_admin = make_user("olga@example.org")
    make_user("cyd@example.org")
    agency = make_agency("city", members=[(admin, "admin"), (moderator, "moderator")])
    other = make_agency("county", members=[(other_admin, "admin")])
    challenge = make_challenge("open", agency=agency)
    author = make_user("ada@example.org")
    idea = make_idea(challenge, author=author, title="Fruit trees")
    return SimpleNamespace(
        admin=admin,
        moderator=moderator,
        other_admin=other_admin,
        agency=agency,
        other=other,
        challenge=challenge,
        author=author,
        idea=idea,
        make_idea=make_idea,
        make_challenge=make_challenge,
    )


def hook(world, url, agency=None) -> Webhook:
    webhook = register_webhook(
        world.admin if agency is None else world.other_admin, agency or world.agency, url
    )
    db.session.commit()
    return webhook


def accept(world, idea=None):
    decide_idea(world.admin, idea or world.idea, "accept", "We will plant them.")
    db.session.commit()


def events() -> list[tuple]:
    db.session.expire_all()
    return [
        (e.event_type, json.loads(e.payload)["data"]["id"])
        for e in db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
    ]


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def webhook_rows() -> list[tuple]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(select(Webhook.__table__))]


def verify(secret: str, request) -> bool:
    """What a receiver does: recompute HMAC-SHA256 over "<timestamp>.<body>"."""
    fields = dict(part.split("=", 1) for part in request.headers["X-Engage-Signature"].split(","))
    mac = hmac.new(secret.encode(), fields["t"].encode() + b"." + request.body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), fields["v1"])


# Registering


def test_admin_registers_https_webhook_and_gets_a_secret(client, auth, world):
    auth.login("alex@example.org")
    response = client.post("/agencies/city/integrations/webhooks", data={"url": PUBLIC_URL})
    assert response.status_code == 302
    assert response.location.endswith("/agencies/city/integrations")
    (webhook,) = db.session.scalars(select(Webhook)).all()
    assert (webhook.url, webhook.agency_id) == (PUBLIC_URL, world.agency.id)
    assert re.fullmatch(r"[0-9a-f]{64}", webhook.secret)
    page = client.get("/agencies/city/integrations").get_data(as_text=True)
    assert PUBLIC_URL in page and webhook.secret in page


def test_each_webhook_gets_its_own_secret(world):
    first, second = hook(world, PUBLIC_URL), hook(world, PUBLIC_URL + "/2")
    assert first.secret != second.secret


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",
        "https://10.0.0.1/hook",
        "https://192.168.1.20/hook",
        "https://172.16.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/hook",
        "https://127.0.0.1:8443/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fc00::1]/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
        "https://2130706433/hook",
        "https://100.64.0.1/hook",
        "https://user:secret@93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
        "https:///hook",
        "https://93.184.215.14:99999/hook",
        "not a url",
        "https://" + "a" * 500 + ".example/",
        "",
    ],
)
def test_unsafe_or_malformed_url_is_refused_at_save(client, auth, world, url):
    auth.login("alex@example.org")
    response = client.post("/agencies/city/integrations/webhooks", data={"url": url})
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert webhook_rows() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "https://10.0.0.1/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/",
    ],
)
def test_local_url_is_accepted_when_the_setting_allows_it(app, client, auth, world, url):
    app.config["WEBHOOK_ALLOW_LOCAL"] = True
    auth.login("alex@example.org")
    response = client.post("/agencies/city/integrations/webhooks", data={"url": url})
    assert response.status_code == 302
    assert [row.url for row in db.session.scalars(select(Webhook))] == [url]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("morgan@example.org", 403),
        ("olga@example.org", 404),
        ("cyd@example.org", 404),
    ],
)
def test_only_the_agencys_admins_register_webhooks(client, auth, world, who, status):
    auth.login(who)
    response = client.post("/agencies/city/integrations/webhooks", data={"url": PUBLIC_URL})
    assert response.status_code == status
    assert webhook_rows() == []


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("morgan@example.org", 403),
        ("olga@example.org", 404),
        ("cyd@example.org", 404),
    ],
)
def test_only_the_agencys_admins_remove_webhooks(client, auth, world, who, status):
    webhook = hook(world, PUBLIC_URL)
    before = webhook_rows()
    auth.login(who)
    response = client.post(f"/agencies/city/integrations/webhooks/{webhook.id}/remove")
    assert response.status_code == status
    assert webhook_rows() == before


def test_signed_out_visitor_cannot_register_webhooks(client, world):
    response = client.post("/agencies/city/integrations/webhooks", data={"url": PUBLIC_URL})
    assert response.status_code == 302
    assert "/account/sign-in" in response.location
    assert webhook_rows() == []


def test_admin_cannot_remove_another_agencys_webhook_through_own_workspace(client, auth, world):
    webhook = hook(world, PUBLIC_URL)
    before = webhook_rows()
    auth.login("olga@example.org")
    response = client.post(f"/agencies/county/integrations/webhooks/{webhook.id}/remove")
    assert response.status_code == 404
    assert webhook_rows() == before


def test_other_agencys_webhooks_and_secrets_are_not_shown(client, auth, world):
    webhook = hook(world, PUBLIC_URL)
    auth.login("olga@example.org")
    page = client.get("/agencies/county/integrations").get_data(as_text=True)
    assert PUBLIC_URL not in page and webhook.secret not in page


def test_admin_removes_a_webhook(client, auth, world):
    webhook = hook(world, PUBLIC_URL)
    auth.login("alex@example.org")
    response = client.post(f"/agencies/city/integrations/webhooks/{webhook.id}/remove")
    assert response.status_code == 302
    assert webhook_rows() == []


def test_removed_webhook_gets_no_more_deliveries(client, auth, world, receiver, runner):
    webhook = hook(world, receiver.url())
    receiver.script = [500]
    accept(world)
    deliver_due()
    auth.login("alex@example.org")
    client.post(f"/agencies/city/integrations/webhooks/{webhook.id}/remove")
    move_idea_stage(world.admin, world.idea, "concept")
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert deliver_due(now_utc() + timedelta(hours=1)) == (0, 0)
    assert len(receiver.requests) == 1


# The outbox


def test_accepting_writes_idea_accepted_event_in_the_same_commit(client, auth, world):
    auth.login("alex@example.org")
    response = client.post(
        f"/agencies/city/ideas/{world.idea.id}/decision",
        data={"action": "accept", "response": "Yes."},
    )
    assert response.status_code == 302
    assert events() == [("idea.accepted", world.idea.id)]
    event = db.session.scalars(select(OutboxEvent)).one()
    assert event.agency_id == world.agency.id
    assert event.fanned_out_at is None


@pytest.mark.parametrize("action", ["shortlist", "decline"])
def test_other_decisions_write_idea_updated(world, action):
    decide_idea(world.admin, world.idea, action, "Thanks.")
    db.session.commit()
    assert events() == [("idea.updated", world.idea.id)]


def test_stage_move_writes_idea_pipeline_changed(client, auth, world):
    accept(world)
    auth.login("alex@example.org")
    response = client.post(
        f"/agencies/city/ideas/{world.idea.id}/stage", data={"stage": "concept", "note": "Costed"}
    )
    assert response.status_code == 302
    assert events() == [("idea.accepted", world.idea.id), ("idea.pipeline_changed", world.idea.id)]


def test_hiding_a_decided_idea_writes_idea_updated(client, auth, world):
    accept(world)
    auth.login("morgan@example.org")
    response = client.post(
        f"/moderation/ideas/{world.idea.id}/decide", data={"action": "hide", "reason": "Off topic"}
    )
    assert response.status_code == 302
    assert events()[-1] == ("idea.updated", world.idea.id)
    payload = json.loads(
        db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc())).first().payload
    )
    assert payload["data"]["moderation_state"] == "hidden"


def test_moderating_an_undecided_idea_writes_no_event(world):
    moderate_idea(world.moderator, world.idea, "hide", "Off topic")
    db.session.commit()
    assert events() == []


def test_rolled_back_decision_leaves_no_event(world):
    decide_idea(world.admin, world.idea, "accept", "Yes.")
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 1
    db.session.rollback()
    assert events() == []
    assert db.session.get(Idea, world.idea.id).decision == "none"


def test_rolled_back_stage_move_leaves_no_event(world):
    accept(world)
    move_idea_stage(world.admin, world.idea, "concept")
    db.session.rollback()
    assert events() == [("idea.accepted", world.idea.id)]
    assert db.session.get(Idea, world.idea.id).pipeline_stage == "backlog"


def test_refused_decision_writes_no_event(client, auth, world):
    auth.login("alex@example.org")
    response = client.post(
        f"/agencies/city/ideas/{world.idea.id}/decision",
        data={"action": "accept", "response": "x" * 5001},
    )
    assert response.status_code == 422
    assert events() == []


def test_event_payload_is_the_api_idea_without_personal_data(world):
    accept(world)
    payload = json.loads(db.session.scalars(select(OutboxEvent)).one().payload)
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["type"] == "idea.accepted"
    assert re.fullmatch(r"[0-9a-f-]{36}", payload["id"])
    assert payload["created_at"].endswith("Z")
    assert set(payload["data"]) == IDEA_KEYS
    assert (payload["data"]["decision"], payload["data"]["pipeline_stage"]) == (
        "accepted",
        "backlog",
    )
    assert "@" not in json.dumps(payload)


# Delivery


def test_worker_delivers_signed_event_to_a_real_receiver(app, world, receiver, runner):
    webhook = hook(world, receiver.url())
    accept(world)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    (request,) = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Host"] == f"127.0.0.1:{receiver.server.server_port}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Engage-Event"] == "idea.accepted"
    assert verify(webhook.secret, request)
    timestamp = int(request.headers["X-Engage-Timestamp"])
    assert request.headers["X-Engage-Signature"].startswith(f"t={timestamp},v1=")
    assert abs(time.time() - timestamp) < 60
    body = json.loads(request.body)
    assert (body["type"], body["data"]["id"]) == ("idea.accepted", world.idea.id)
    (delivery,) = deliveries()
    assert delivery.delivered_at is not None
    assert (delivery.attempts, delivery.last_status) == (1, 200)
    assert request.headers["X-Engage-Delivery"] == str(delivery.id)


def test_signature_fails_with_another_secret_or_body(world, receiver):
    webhook = hook(world, receiver.url())
    accept(world)
    deliver_due()
    (request,) = receiver.requests
    assert not verify(webhook.secret[::-1], request)
    request.body = request.body.replace(b"accepted", b"declined")
    assert not verify(webhook.secret, request)


def test_delivered_event_is_not_sent_again(world, receiver, runner):
    hook(world, receiver.url())
    accept(world)
    runner.invoke(args=["worker", "--once"])
    runner.invoke(args=["worker", "--once"])
    assert deliver_due(now_utc() + timedelta(days=1)) == (0, 0)
    assert len(receiver.requests) == 1


def test_events_reach_every_webhook_of_their_agency_only(world, receiver):
    hook(world, receiver.url("/first"))
    hook(world, receiver.url("/second"))
    hook(world, receiver.url("/county"), agency=world.other)
    accept(world)
    assert deliver_due() == (2, 0)
    assert sorted(r.path for r in receiver.requests) == ["/first", "/second"]


def test_events_are_delivered_in_the_order_they_happened(world, receiver):
    hook(world, receiver.url())
    accept(world)
    move_idea_stage(world.admin, world.idea, "concept")
    move_idea_stage(world.admin, world.idea, "validation")
    db.session.commit()
    deliver_due()
    assert [
        (json.loads(r.body)["type"], json.loads(r.body)["data"]["pipeline_stage"])
        for r in receiver.requests
    ] == [
        ("idea.accepted", "backlog"),
        ("idea.pipeline_changed", "concept"),
        ("idea.pipeline_changed", "validation"),
    ]


def test_receiver_failing_twice_gets_the_event_once_it_recovers(world, receiver):
    webhook = hook(world, receiver.url())
    accept(world)
    receiver.script = [500, 500]
    start = now_utc()
    assert deliver_due(start) == (0, 1)
    assert deliver_due(start + timedelta(seconds=29)) == (0, 0)  # not due yet
    assert deliver_due(start + timedelta(seconds=30)) == (0, 1)
    assert deliver_due(start + timedelta(seconds=90)) == (1, 0)
    assert deliver_due(start + timedelta(days=1)) == (0, 0)
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1  # the same event each time
    assert len({r.headers["X-Engage-Delivery"] for r in receiver.requests}) == 1
    assert all(verify(webhook.secret, r) for r in receiver.requests)
    (delivery,) = deliveries()
    assert (delivery.attempts, delivery.last_status, delivery.last_error) == (3, 200, None)
    assert delivery.delivered_at == start + timedelta(seconds=90)


def test_back_off_doubles_after_each_failure(world, receiver):
    hook(world, receiver.url())
    accept(world)
    receiver.script = [500] * 5
    now = now_utc()
    pauses = []
    for _ in range(5):
        assert deliver_due(now) == (0, 1)
        (delivery,) = deliveries()
        pauses.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at
    assert pauses == [30, 60, 120, 240, 480]
    assert deliveries()[0].last_status == 500


def test_worker_gives_up_after_the_last_attempt(world, receiver):
    hook(world, receiver.url())
    accept(world)
    receiver.script = [503] * MAX_ATTEMPTS
    now = now_utc()
    for _ in range(MAX_ATTEMPTS):
        deliver_due(now)
        now = deliveries()[0].next_attempt_at
    assert deliver_due(now + timedelta(days=30)) == (0, 0)
    assert len(receiver.requests) == MAX_ATTEMPTS
    (delivery,) = deliveries()
    assert (delivery.attempts, delivery.delivered_at) == (MAX_ATTEMPTS, None)


def test_back_off_is_capped_at_six_hours(world, receiver):
    hook(world, receiver.url())
    accept(world)
    receiver.script = [500] * 11
    now = now_utc()
    for _ in range(11):
        deliver_due(now)
        delivery = deliveries()[0]
        pause = delivery.next_attempt_at - now
        now = delivery.next_attempt_at
    assert pause == timedelta(hours=6)


def test_redirect_is_not_followed_and_counts_as_failure(world, receiver):
    hook(world, receiver.url())
    accept(world)
    receiver.script = ["redirect"]
    assert deliver_due() == (0, 1)
    assert [r.path for r in receiver.requests] == ["/hook"]
    (delivery,) = deliveries()
    assert (delivery.last_status, delivery.delivered_at) == (302, None)


def test_slow_receiver_is_cut_by_the_timeout(app, world, receiver):
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    hook(world, receiver.url())
    accept(world)
    receiver.script = ["slow"]
    started = time.monotonic()
    assert deliver_due() == (0, 1)
    assert time.monotonic() - started < 3
    (delivery,) = deliveries()
    assert (delivery.last_status, delivery.last_error) == (None, "TimeoutError")


def test_endless_response_body_is_not_read_to_its_end(app, world, receiver):
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    hook(world, receiver.url())
    accept(world)
    receiver.script = ["endless"]
    started = time.monotonic()
    assert deliver_due() == (1, 0)
    assert time.monotonic() - started < 3


def test_unreachable_receiver_counts_as_failure(world, receiver):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook(world, f"http://127.0.0.1:{port}/hook")
    accept(world)
    assert deliver_due() == (0, 1)
    (delivery,) = deliveries()
    assert (delivery.last_status, delivery.last_error) == (None, "ConnectionRefusedError")


def test_private_url_is_refused_at_send_when_the_setting_is_off(app, world, receiver):
    hook(world, receiver.url())  # saved while local addresses were allowed
    accept(world)
    app.config["WEBHOOK_ALLOW_LOCAL"] = False
    assert deliver_due() == (0, 1)
    assert receiver.requests == []
    (delivery,) = deliveries()
    assert delivery.last_error.startswith("refused:")
    assert delivery.delivered_at is None


def test_worker_with_nothing_due_does_nothing(world, receiver, runner):
    hook(world, receiver.url())
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert receiver.requests == [] and deliveries() == []


# The delivery log


def test_delivery_log_shows_delivered_and_failed_events(client, auth, world, receiver):
    hook(world, receiver.url("/ok"))
    hook(world, receiver.url("/failing"))
    accept(world)
    receiver.script = [200, 500]
    deliver_due()
    auth.login("alex@example.org")
    page = client.get("/agencies/city/integrations")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>(idea\.[a-z_]+) .*?</tr>", text, re.S)
    assert rows == ["idea.accepted", "idea.accepted"]
    assert receiver.url("/ok") in text and receiver.url("/failing") in text
    assert "Delivered (200)" in text
    assert "Failed: 500" in text


def test_delivery_log_shows_refusal_reason(app, client, auth, world, receiver):
    hook(world, receiver.url())
    accept(world)
    app.config["WEBHOOK_ALLOW_LOCAL"] = False
    deliver_due()
    auth.login("alex@example.org")
    text = client.get("/agencies/city/integrations").get_data(as_text=True)
    assert "Failed: refused:" in text


def test_delivery_log_is_empty_before_any_event(client, auth, world):
    hook(world, PUBLIC_URL)
    auth.login("alex@example.org")
    assert "No delivery yet." in client.get("/agencies/city/integrations").get_data(as_text=True)


def test_delivery_log_does_not_show_another_agencys_deliveries(client, auth, world, receiver):
    hook(world, receiver.url("/city-hook"))
    accept(world)
    deliver_due()
    auth.login("olga@example.org")
    text = client.get("/agencies/county/integrations").get_data(as_text=True)
    assert "/city-hook" not in text
    assert "No delivery yet." in text


def test_emit_outside_a_commit_is_never_delivered(world, receiver):
    hook(world, receiver.url())
    emit_idea_event("idea.updated", world.idea)
    db.session.rollback()
    assert deliver_due() == (0, 0)
    assert receiver.requests == []
