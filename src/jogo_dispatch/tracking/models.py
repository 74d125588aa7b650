from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import Base, created_at_column

UNIT_TYPES = ("car", "motorbike", "foot")
DUTY_STATUSES = ("available", "busy", "off_duty")


class Officer(Base):
    __tablename__ = "officers"
    __table_args__ = (
        CheckConstraint("unit_type IN ('car','motorbike','foot')", name="unit_type"),
        CheckConstraint("status IN ('available','busy','off_duty')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    badge: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="available", server_default="available")
    sector: Mapped[str | None] = mapped_column(String(100))
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    presence_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint("owntracks_key IS NULL OR length(owntracks_key) = 32", name="owntracks_key_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(128), unique=True)
    # sha256 of the long-lived bearer token the phone uses; the token itself is shown once.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # OwnTracks payload encryption: the libsodium secret-box key (the app's passphrase, padded or cut
    # to 32 bytes as the app does). Never returned; reads say only whether one is set.
    owntracks_key: Mapped[bytes | None] = mapped_column(LargeBinary)

    @property
    def owntracks_key_set(self) -> bool:
        return self.owntracks_key is not None


class Ping(Base):
    """GPS history; partitioned by day on recorded_at (partitions are managed in tracking.partitions)."""

    __tablename__ = "pings"
    __table_args__ = (
        PrimaryKeyConstraint("officer_id", "recorded_at"),
        {"postgresql_partition_by": "RANGE (recorded_at)"},
    )

    officer_id: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    geog: Mapped[object] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    device_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), default="api")
    # Protocol extras kept verbatim (OsmAnd hdop, charge, alarm; OwnTracks tid, conn, ...).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # NULL: a fix that may move the latest position. Otherwise why it may not: "invalid" (the phone
    # said valid=false) or "last_known" (no fix: a heartbeat or a cell/Wi-Fi-only message, stored at
    # the officer's last known position). Kept for history only, never for dispatch.
    approximate: Mapped[str | None] = mapped_column(String(16))


class OfficerPosition(Base):
    """The latest fix of each officer: what searches and the live map read."""

    __tablename__ = "officer_positions"
    __table_args__ = (
        Index("ix_officer_positions_geog", "geog", postgresql_using="gist"),
        Index("ix_officer_positions_recorded_at", "recorded_at"),
    )

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True)
    geog: Mapped[object] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    # The phone's time of its latest report of any kind (heartbeats and approximate fixes too) when
    # later than recorded_at: presence is the later of the two, the position stays the fix's.
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
