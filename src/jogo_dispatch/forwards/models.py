"""Forwards of incidents to agencies, the notes on them, and which agency an agency login speaks for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import Base, created_at_column

FORWARD_STATUSES = ("pending", "sent", "failed", "acknowledged", "closed")
FORWARD_ROLES = ("responsible", "always_notify", "hospital", "manual")


class AgencyUser(Base):
    """An ``agency`` login and the one agency it acts for (its inbox, its acknowledgements)."""

    __tablename__ = "agency_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class Forward(Base):
    """One incident handed to one agency. ``status`` follows the delivery and the agency's answer:
    pending (webhook not delivered yet) -> sent -> acknowledged -> closed; pending -> failed after the last
    webhook attempt. Inbox-only agencies start at sent."""

    __tablename__ = "forwards"
    __table_args__ = (
        UniqueConstraint("incident_id", "agency_id", name="uq_forwards_incident_agency"),
        CheckConstraint("status IN ('pending','sent','failed','acknowledged','closed')", name="status"),
        CheckConstraint("role IN ('responsible','always_notify','hospital','manual')", name="role"),
        CheckConstraint("delivery IN ('inbox','webhook','both')", name="delivery"),
        Index("ix_forwards_agency_id", "agency_id", "id"),
        Index("ix_forwards_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index(
            "ix_forwards_unacknowledged",
            "created_at",
            postgresql_where=text(
                "acknowledged_at IS NULL AND ack_alerted_at IS NULL AND status IN ('pending','sent','failed')"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    # The agency's delivery method when the forward was made (changing it later does not redirect old ones).
    delivery: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failure_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when dispatchers were alerted that the agency has not acknowledged in time (alerted once).
    ack_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class ForwardNote(Base):
    __tablename__ = "forward_notes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    forward_id: Mapped[int] = mapped_column(ForeignKey("forwards.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
