"""Webhooks: register endpoints, write events to the outbox with each change, and the
worker's delivery with exponential back-off (at least once, in order of creation), to
several receivers at once, each within its own time budget.
"""

import json
import logging
import secrets
import time
import uuid
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.agencies.models import Agency
from engage.db import now_utc, rfc3339
from engage.errors import ValidationFailed
from engage.extensions import db
from engage.mail import deliver_waiting
from engage.webhooks import delivery
from engage.webhooks.models import OutboxEvent, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

URL_MAX = 500
MAX_ATTEMPTS = 12
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
BATCH = 50
# Receivers served at once; one webhook's events go out in order, on one thread.
PARALLEL_RECEIVERS = 8


def register_webhook(actor, agency, url: str) -> Webhook:
    """Add an https endpoint that resolves to a public address; it gets a new secret."""
    url = (url or "").strip()
    if not url or len(url) > URL_MAX:
        raise ValidationFailed(
            _l("Enter an https address of at most %(max)d characters.", max=URL_MAX), "url"
        )
    try:
        delivery.resolve_target(url, allow_local=current_app.config["WEBHOOK_ALLOW_LOCAL"])
    except delivery.UnsafeTarget:
        raise ValidationFailed(
            _l(
                "Use a public https address; private, loopback and "
                "link-local addresses are refused."
            ),
            "url",
        ) from None
    webhook = Webhook(agency_id=agency.id, url=url, secret=secrets.token_hex(32))
    db.session.add(webhook)
    db.session.flush()
    return webhook


def remove_webhook(actor, webhook: Webhook) -> None:
    """Remove the endpoint; its deliveries go with it (ON DELETE CASCADE)."""
    db.session.delete(webhook)
    db.session.flush()


def emit(agency_id: int, event_type: str, data: dict) -> OutboxEvent:
    """Write an agency's event with its data in the current transaction (it leaves
    after commit)."""
    created_at = now_utc()
    payload = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created_at": rfc3339(created_at),
        "data": data,
    }
    event = OutboxEvent(
        agency_id=agency_id,
        event_type=event_type,
        payload=json.dumps(payload, separators=(",", ":")),
        created_at=created_at,
    )
    db.session.add(event)
    return event


def fan_out(now: datetime) -> int:
    """Turn new outbox events into one delivery per active webhook of their agency."""
    events = db.session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.fanned_out_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(500)
        .with_for_update(skip_locked=True)
    ).all()
    for event in events:
        webhooks = db.session.scalars(
            select(Webhook).where(
                Webhook.agency_id == event.agency_id, Webhook.disabled_at.is_(None)
            )
        ).all()
        for webhook in webhooks:
            db.session.add(
                WebhookDelivery(webhook_id=webhook.id, event_id=event.id, next_attempt_at=now)
            )
        event.fanned_out_at = now
    db.session.commit()
    return len(events)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … doubling after each failure, at most 6 hours."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


def deliver_due(now: datetime | None = None) -> tuple[int, int]:
    """Send the deliveries that are due and record the answers. Returns (delivered, failed)."""
    now = now or now_utc()
    with ThreadPoolExecutor(PARALLEL_RECEIVERS, thread_name_prefix="webhook") as pool:
        return record_answers(send_due(pool, now), now)


@dataclass(frozen=True)
class _Request:
    delivery_id: int
    url: str
    body: bytes
    headers: dict


def send_due(pool: Executor, now: datetime) -> list[Future]:
    """Claim the due deliveries and start sending them in `pool`, one task per webhook
    (its events in order), so receivers are served in parallel. Returns the tasks, for
    record_answers.

    A claim counts the attempt and sets the next one as if this one failed, then commits:
    no other worker sends them meanwhile, and a worker that dies mid-way only delays them.
    The database is read and written here, on the caller's thread and session.
    """
    fan_out(now)
    due = db.session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.attempts < MAX_ATTEMPTS,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(BATCH)
        .options(selectinload(WebhookDelivery.webhook), selectinload(WebhookDelivery.event))
        .with_for_update(skip_locked=True)
    ).all()
    by_webhook: dict[int, list[_Request]] = {}
    for item in due:
        by_webhook.setdefault(item.webhook_id, []).append(_claim(item, now))
    db.session.commit()
    config = current_app.config
    return [
        pool.submit(
            _post_in_order, requests, config["WEBHOOK_ALLOW_LOCAL"], config["WEBHOOK_TIMEOUT"]
        )
        for requests in by_webhook.values()
    ]


def _claim(item: WebhookDelivery, now: datetime) -> _Request:
    body = item.event.payload.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Engage-Webhooks/1",
        "X-Engage-Event": item.event.event_type,
        "X-Engage-Delivery": str(item.id),
        "X-Engage-Timestamp": str(timestamp),
        "X-Engage-Signature": delivery.sign(item.webhook.secret, timestamp, body),
    }
    item.attempts += 1
    item.next_attempt_at = now + backoff(item.attempts)
    return _Request(item.id, item.webhook.url, body, headers)


def _post_in_order(requests: list[_Request], allow_local: bool, timeout: float) -> list:
    """Send one webhook's requests in order, in a pool thread (no database here).

    Returns (delivery id, (status, error)) for each request, None instead of the answer
    for those not sent: after a failure the rest wait for a later round, so a receiver
    that is down or slow costs one deadline per round, not one per event.
    """
    answers = []
    failing = False
    for request in requests:
        answer = None if failing else _post(request, allow_local, timeout)
        failing = failing or not _is_success(answer[0])
        answers.append((request.delivery_id, answer))
    return answers


def _post(request: _Request, allow_local: bool, timeout: float) -> tuple[int | None, str | None]:
    try:
        target = delivery.resolve_target(request.url, allow_local=allow_local)
        return delivery.post(target, request.body, request.headers, timeout), None
    except delivery.UnsafeTarget as error:
        return None, f"refused: {error}"[:300]
    except Exception as error:  # whatever happens with one receiver is its own: others go on
        return None, type(error).__name__


def _is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def record_answers(tasks: list[Future], now: datetime) -> tuple[int, int]:
    """Record the answers of send_due's tasks as they come, committing each one.
    Returns (delivered, failed).

    A claimed delivery that was not sent (its receiver failed before it in the round) is
    due again at once, its attempt not counted.
    """
    delivered = failed = 0
    for task in as_completed(tasks):
        for delivery_id, answer in task.result():
            item = db.session.get(WebhookDelivery, delivery_id)
            if item is None:
                continue  # its webhook was removed meanwhile
            if answer is None:
                item.attempts -= 1
                item.next_attempt_at = now
            elif _record(item, *answer, now=now):
                delivered += 1
            else:
                failed += 1
            db.session.commit()
    return delivered, failed


def _record(item: WebhookDelivery, status: int | None, error: str | None, *, now) -> bool:
    item.last_status, item.last_error = status, error
    if _is_success(status):
        item.delivered_at = now
        return True
    log.warning(
        "Webhook delivery %s failed (attempt %s): %s", item.id, item.attempts, error or status
    )
    if item.attempts >= MAX_ATTEMPTS:
        log.error("Webhook delivery %s given up after %s attempts", item.id, item.attempts)
    return False


def run_worker(once: bool = False, interval: float = 2.0) -> None:
    """Deliver due webhooks and e-mails forever (or once), sleeping between rounds.

    E-mails never wait for webhook receivers: they go out while the receivers answer.
    """

    with ThreadPoolExecutor(PARALLEL_RECEIVERS, thread_name_prefix="webhook") as pool:
        while True:
            now = now_utc()
            tasks = send_due(pool, now)
            sent, not_sent = deliver_waiting(now)
            delivered, failed = record_answers(tasks, now)
            if delivered or failed:
                log.info("Webhooks: %s delivered, %s failed", delivered, failed)
            if sent or not_sent:
                log.info("E-mails: %s sent, %s failed", sent, not_sent)
            if once:
                return
            time.sleep(interval)


def agency_webhooks(agency_id: int) -> list[Webhook]:
    return db.session.scalars(
        select(Webhook).where(Webhook.agency_id == agency_id).order_by(Webhook.id)
    ).all()


def recent_deliveries(agency_id: int, limit: int = 50):
    return db.session.scalars(
        select(WebhookDelivery)
        .join(Webhook)
        .where(Webhook.agency_id == agency_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    ).all()


def given_up_deliveries(limit: int = 100) -> list:
    """The deliveries given up on after MAX_ATTEMPTS, the latest first, as (delivery,
    agency name) pairs."""

    return db.session.execute(
        select(WebhookDelivery, Agency.name)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .join(Agency, Agency.id == Webhook.agency_id)
        .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.attempts >= MAX_ATTEMPTS)
        .order_by(WebhookDelivery.next_attempt_at.desc(), WebhookDelivery.id.desc())
        .options(selectinload(WebhookDelivery.webhook), selectinload(WebhookDelivery.event))
        .limit(limit)
    ).all()
