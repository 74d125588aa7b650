from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import GEOG_OF_LATLON, Base, created_at_column

# How an incident came in: a citizen's report or SOS, an officer's panic, or taken at the desk (a 110 call,
# the radio, someone at the counter, an officer on view, anything else).
INCIDENT_SOURCES = ("report", "sos", "officer_sos", "phone", "radio", "walk_in", "officer", "other")
DESK_SOURCES = ("phone", "radio", "walk_in", "officer", "other")
ACTIVE_OFFER_SQL = "status IN ('pending','accepted')"


class Incident(Base):
    """Something the command centre handles: made from verified reports, a citizen SOS or an officer SOS."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new','verified','dispatched','en_route','on_scene','resolved','cancelled')",
            name="status",
        ),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority"),
        CheckConstraint(
            "source IN ('report','sos','officer_sos','phone','radio','walk_in','officer','other')",
            name="source",
        ),
        Index("ix_incidents_geog", "geog", postgresql_using="gist"),
        Index("ix_incidents_status_received_at", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # A catalogue code, or "sos" / "officer_sos" (not reportable categories, hence no foreign key).
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    source: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    address: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    geog: Mapped[object] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False), Computed(GEOG_OF_LATLON, persisted=True)
    )
    h3_r9: Mapped[int] = mapped_column(BigInteger, index=True)
    h3_r7: Mapped[int] = mapped_column(BigInteger, index=True)
    # Police sector (Polsek) whose jurisdiction holds the incident; filled by the agencies domain.
    sector: Mapped[str | None] = mapped_column(String(100), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # CAD timestamps.
    received_at: Mapped[datetime] = created_at_column()
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    en_route_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_scene_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = created_at_column()
    # How many units it needs (its response plan, a backup request); ``officer_id`` is its first unit.
    units_needed: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    # Bumped by every ORM update: an edit names the version it saw and gets 409 when it changed since.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class IncidentNote(Base):
    """A narrative note on an incident, by a dispatcher, an officer on it or an agency it was forwarded to."""

    __tablename__ = "incident_notes"
    __table_args__ = (Index("ix_incident_notes_incident_id", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_role: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class Offer(Base):
    """An incident offered to one officer, who accepts, declines or lets it expire."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending','accepted','declined','expired','cancelled','completed')", name="status"
        ),
        # Two dispatchers racing for one officer: the database lets exactly one win; an officer is on an
        # incident at most once.
        Index(
            "uq_offers_active_incident_officer",
            "incident_id",
            "officer_id",
            unique=True,
            postgresql_where=text(ACTIVE_OFFER_SQL),
        ),
        Index("uq_offers_active_officer", "officer_id", unique=True, postgresql_where=text(ACTIVE_OFFER_SQL)),
        Index("ix_offers_pending_expires_at", "expires_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempt: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    distance_m: Mapped[float | None] = mapped_column(Float)
    eta_s: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The unit's own CAD times once accepted (dispatched = created_at, acknowledged = responded_at).
    en_route_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_scene_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Officer safety: the welfare check pending since ``welfare_sent_at`` (answered at ``welfare_ok_at``,
    # missed at ``welfare_missed_at``); ``late_alerted_at``: dispatchers told it is not en route yet.
    welfare_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    welfare_ok_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    welfare_missed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
