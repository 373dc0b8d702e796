"""Agencies' webhook endpoints, the transactional outbox of events, and deliveries."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import UTCDateTime, now_utc
from engage.extensions import db

EVENT_TYPES = ("idea.accepted", "idea.updated", "idea.pipeline_changed")


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    # Needed in clear to sign each delivery; shown to the agency's admins only.
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Webhook {self.id} agency={self.agency_id}>"


class OutboxEvent(db.Model):
    """An event written in the same transaction as the change it describes."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_agency", "agency_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    def __repr__(self) -> str:
        return f"<OutboxEvent {self.id} {self.event_type}>"


class WebhookDelivery(db.Model):
    """One event for one webhook: retried with back-off until the receiver says 2xx."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_deliveries_due", "delivered_at", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    webhook = relationship("Webhook")
    event = relationship("OutboxEvent")

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} attempts={self.attempts}>"
