"""Webhooks: register endpoints, write events to the outbox with each change, and the
worker's delivery with exponential back-off (at least once, in order of creation).
"""

import http.client
import json
import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from engage.agencies.permissions import can_manage_agency
from engage.db import now_utc
from engage.errors import NotPermitted, ValidationFailed
from engage.extensions import db
from engage.webhooks import delivery
from engage.webhooks.models import OutboxEvent, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

URL_MAX = 500
MAX_ATTEMPTS = 12
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
BATCH = 50


def _require_admin(actor, agency) -> None:
    if not can_manage_agency(actor, agency):
        raise NotPermitted(_l("Only the agency's admins can manage webhooks."))


def register_webhook(actor, agency, url: str) -> Webhook:
    """Add an https endpoint that resolves to a public address; it gets a new secret."""
    _require_admin(actor, agency)
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
    from engage.agencies.models import Agency

    _require_admin(actor, db.session.get(Agency, webhook.agency_id))
    # Its pending deliveries go with it: SQLite does not enforce ON DELETE CASCADE.
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.flush()


def emit(event_type: str, idea) -> OutboxEvent:
    """Write an event about an idea in the current transaction (it leaves after commit)."""
    from engage.api.serializers import idea_json, rfc3339

    created_at = now_utc()
    payload = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created_at": rfc3339(created_at),
        "data": idea_json(idea),
    }
    event = OutboxEvent(
        agency_id=idea.challenge.agency_id,
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
    """Send the deliveries that are due. Returns (delivered, failed). Commits per delivery."""
    now = now or now_utc()
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
        .with_for_update(skip_locked=True)
    ).all()
    delivered = failed = 0
    for item in due:
        if _attempt(item, now):
            delivered += 1
        else:
            failed += 1
        db.session.commit()
    return delivered, failed


def _attempt(item: WebhookDelivery, now: datetime) -> bool:
    config = current_app.config
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
    try:
        target = delivery.resolve_target(
            item.webhook.url, allow_local=config["WEBHOOK_ALLOW_LOCAL"]
        )
        status = delivery.post(target, body, headers, timeout=config["WEBHOOK_TIMEOUT"])
        item.last_status, item.last_error = status, None
    except delivery.UnsafeTarget as error:
        item.last_status, item.last_error = None, f"refused: {error}"[:300]
    except (OSError, http.client.HTTPException) as error:
        item.last_status, item.last_error = None, type(error).__name__
    if item.last_status is not None and 200 <= item.last_status < 300:
        item.delivered_at = now
        return True
    item.next_attempt_at = now + backoff(item.attempts)
    log.warning(
        "Webhook delivery %s failed (attempt %s): %s",
        item.id,
        item.attempts,
        item.last_error or item.last_status,
    )
    return False


def run_worker(once: bool = False, interval: float = 2.0) -> None:
    """Deliver due webhooks and e-mails forever (or once), sleeping between rounds."""
    from engage.mail import deliver_waiting

    while True:
        delivered, failed = deliver_due()
        if delivered or failed:
            log.info("Webhooks: %s delivered, %s failed", delivered, failed)
        sent, not_sent = deliver_waiting()
        if sent or not_sent:
            log.info("E-mails: %s sent, %s failed", sent, not_sent)
        if once:
            return
        time.sleep(interval)


def recent_deliveries(agency_id: int, limit: int = 50):
    return db.session.scalars(
        select(WebhookDelivery)
        .join(Webhook)
        .where(Webhook.agency_id == agency_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    ).all()
