"""API keys of Open311 clients, what a client sent with each request beyond the report itself, and the
updates of FixMyStreet's extension that are not status changes (a citizen's update, a dispatcher's public
note)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import Base, created_at_column


class ApiKey(Base):
    """Only a SHA-256 of the key is stored; the key itself is shown once, when it is made."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, to tell keys apart in listings.
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Open311Request(Base):
    """A report filed through Open311: the contact details, device, media URL and attributes the client sent
    (the report row keeps the rest)."""

    __tablename__ = "open311_requests"
    __table_args__ = (
        Index("ix_open311_requests_api_key_id_fingerprint", "api_key_id", "fingerprint"),
        Index("ix_open311_requests_api_key_id_client_request_id", "api_key_id", "client_request_id"),
        Index(
            "ix_open311_requests_location_pending",
            "report_id",
            postgresql_where=text("location_pending"),
        ),
    )

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    jurisdiction_id: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(128))
    media_url: Mapped[str | None] = mapped_column(String(1000))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = created_at_column()
    address_id: Mapped[str | None] = mapped_column(String(100))
    # Filed with an address (or address_id) and no lat/long: the report stands at the region's centre until a
    # dispatcher places it on the map.
    location_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # What a retry of the same request looks like (key, service, person, text, place), and the client's own
    # id of it when it sent one in an attribute: a retried POST gets the first service_request_id back.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    client_request_id: Mapped[str | None] = mapped_column(String(200))


UPDATE_KINDS = ("citizen", "public_note")


class Open311Update(Base):
    """An update of a service request that is not one of our status changes (those are read from the audit
    log): a citizen's update POSTed by a client (also a note on the incident), or a dispatcher's public note
    for the clients."""

    __tablename__ = "open311_updates"
    __table_args__ = (
        CheckConstraint("kind IN ('citizen','public_note')", name="kind"),
        Index("ix_open311_updates_report_id", "report_id", "id"),
        Index("ix_open311_updates_created_at", "created_at"),
        Index(
            "uq_open311_updates_api_key_id_client_update_id",
            "api_key_id",
            "client_update_id",
            unique=True,
            postgresql_where=text("client_update_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    # The client's id of the update (FixMyStreet's comment id): a retried POST gets the same update back.
    client_update_id: Mapped[str | None] = mapped_column(String(100))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(String(1000))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    # When the client says it happened (its updated_datetime); created_at is when it reached us.
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    incident_note_id: Mapped[int | None] = mapped_column(ForeignKey("incident_notes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
