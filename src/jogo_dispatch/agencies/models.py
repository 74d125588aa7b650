"""Police sectors (jurisdiction polygons), agencies and routing rules."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geography, Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import Base, created_at_column


def _updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


class PoliceSector(Base):
    """A Polsek's jurisdiction."""

    __tablename__ = "police_sectors"
    __table_args__ = (
        UniqueConstraint("region", "code", name="uq_police_sectors_region_code"),
        CheckConstraint("ST_IsValid(geom)", name="valid_geom"),
        Index("ix_police_sectors_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    region: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # Code of the agency (kind police_unit) that polices this sector: its Polsek.
    police_agency: Mapped[str | None] = mapped_column(String(64))
    geom: Mapped[object] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    approximate: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    source_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = _updated_at()


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (
        UniqueConstraint("region", "code", name="uq_agencies_region_code"),
        CheckConstraint(
            "kind IN ('police_unit','government','hospital','utility','insurer','fire')", name="kind"
        ),
        CheckConstraint("delivery IN ('inbox','webhook','both')", name="delivery"),
        CheckConstraint("delivery = 'inbox' OR webhook_url IS NOT NULL", name="webhook_url"),
        Index("ix_agencies_geog", "geog", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    region: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    geog: Mapped[object | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300))
    delivery: Mapped[str] = mapped_column(String(8), default="inbox", server_default="inbox")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    approximate: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    source_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = _updated_at()


class RoutingRule(Base):
    """Send reports of ``category`` (inside ``sector_code`` only, or region-wide when null) to ``agency_code``
    in ``role``. ``@sector``: the sector's police agency; ``@nearest`` (hospital role): nearest hospitals."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        CheckConstraint("role IN ('responsible','always_notify','hospital')", name="role"),
        UniqueConstraint(
            "region",
            "category",
            "role",
            "agency_code",
            "sector_code",
            name="uq_routing_rules_key",
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_routing_rules_region_category", "region", "category"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    region: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    sector_code: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = _updated_at()
