"""Forwards of incidents to agencies, the notes on them, and which agency an agency login speaks for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
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

FORWARD_STATUSES = ("pending", "sent", "failed", "acknowledged", "in_progress", "closed")
# How an agency closes a forward. The first three mean the work is done; the last two hand it back to the
# command centre (someone else must do it).
FORWARD_OUTCOMES = ("resolved", "no_action_needed", "not_found", "not_responsible", "referred")
DONE_OUTCOMES = frozenset({"resolved", "no_action_needed", "not_found"})
SLA_MAX_MINUTES = 7 * 24 * 60
FORWARD_ROLES = ("responsible", "always_notify", "hospital", "plan", "manual")


class AgencyUser(Base):
    """An ``agency`` login and the one agency it acts for (its inbox, its acknowledgements)."""

    __tablename__ = "agency_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class Forward(Base):
    """One incident handed to one agency. ``status`` follows the delivery and the agency's answer:
    pending (webhook not delivered yet) -> sent -> acknowledged -> in_progress -> closed; pending -> failed
    after the last webhook attempt. Inbox-only agencies start at sent."""

    __tablename__ = "forwards"
    __table_args__ = (
        UniqueConstraint("incident_id", "agency_id", name="uq_forwards_incident_agency"),
        CheckConstraint(
            "status IN ('pending','sent','failed','acknowledged','in_progress','closed')", name="status"
        ),
        CheckConstraint(
            "outcome IN ('resolved','no_action_needed','not_found','not_responsible','referred')",
            name="outcome",
        ),
        CheckConstraint("role IN ('responsible','always_notify','hospital','plan','manual')", name="role"),
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
    # The agency is on it (on the way, working).
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(24))
    # The dispatcher chose to give the agency the caller's phone (kept as it was then); never otherwise.
    include_caller_phone: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    caller_phone: Mapped[str | None] = mapped_column(String(40))
    # Set when dispatchers were alerted that the agency has not acknowledged in time (alerted once).
    ack_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class ForwardNote(Base):
    __tablename__ = "forward_notes"
    __table_args__ = (CheckConstraint("photo_type IN ('jpeg','png')", name="photo_type"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    forward_id: Mapped[int] = mapped_column(ForeignKey("forwards.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    # An optional photo, stored as report photos are (data_dir/photos/<sha256>.<ext>).
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_type: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = created_at_column()


class AgencySla(Base):
    """How soon an agency must acknowledge a forward (without a row: ``forward_ack_timeout_s``)."""

    __tablename__ = "agency_slas"
    __table_args__ = (CheckConstraint(f"ack_minutes BETWEEN 1 AND {SLA_MAX_MINUTES}", name="ack_minutes"),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    ack_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = created_at_column()
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
