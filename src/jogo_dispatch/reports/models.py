from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import GEOG_OF_LATLON, Base, created_at_column

REPORT_STATUSES = ("received", "verified", "rejected", "false")


class Category(Base):
    """The catalogue citizens pick from (seeded by migration 0003; region packs may add more)."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("default_priority BETWEEN 1 AND 5", name="default_priority"),
        CheckConstraint("reward_points BETWEEN 0 AND 1000", name="reward_points"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The audit log's handle on a category (the code stays the key).
    id: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    name_id: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    default_priority: Mapped[int] = mapped_column(SmallInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # Points for a verified report of this category; None: the settings' (JOGO_REWARD_POINTS*).
    reward_points: Mapped[int | None] = mapped_column(SmallInteger)


class Report(Base):
    """A citizen's report. Who sent it from where (position, device, user agent, address) is kept so that
    a hoax can be traced."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("status IN ('received','verified','rejected','false')", name="status"),
        Index("ix_reports_geog", "geog", postgresql_using="gist"),
        Index("ix_reports_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    geog: Mapped[object] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False), Computed(GEOG_OF_LATLON, persisted=True)
    )
    h3_r9: Mapped[int] = mapped_column(BigInteger, index=True)
    h3_r7: Mapped[int] = mapped_column(BigInteger, index=True)
    reporter_lat: Mapped[float] = mapped_column(Float)
    reporter_lon: Mapped[float] = mapped_column(Float)
    reporter_accuracy_m: Mapped[float | None] = mapped_column(Float)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_type: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(128))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="received", server_default="received")
    review_note: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SosCall(Base):
    """One press of the SOS button; the caller's phone keeps sending positions (``SosPoint``)."""

    __tablename__ = "sos_calls"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(128))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()
    last_fix_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Ended by the caller (or a dispatcher): the phone stops sending; the incident stays dispatch's to close.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    end_reason: Mapped[str | None] = mapped_column(String(500))


class SosPoint(Base):
    """The trail of an SOS caller."""

    __tablename__ = "sos_points"
    __table_args__ = (Index("ix_sos_points_sos_id_recorded_at", "sos_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sos_id: Mapped[int] = mapped_column(ForeignKey("sos_calls.id", ondelete="CASCADE"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    geog: Mapped[object] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False), Computed(GEOG_OF_LATLON, persisted=True)
    )
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = created_at_column()
