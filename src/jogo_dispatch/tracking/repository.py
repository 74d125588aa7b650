from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.tracking.models import Device, Officer

_OFFICER_COLUMNS = """
o.id, o.badge, o.name, o.unit_type, o.status, o.sector,
ST_Y(p.geog::geometry) AS lat, ST_X(p.geog::geometry) AS lon, p.recorded_at, p.accuracy_m, p.speed_mps,
p.heading_deg, p.battery_pct, greatest(p.recorded_at, p.seen_at) AS seen_at
"""


async def officers_with_positions(
    session: AsyncSession, officer_id: int | None = None, q: str | None = None
) -> list[Row[Any]]:
    """Every officer with the latest fix; ``q``: only those whose badge or name contains it (any case)."""
    where = "WHERE o.id = :oid" if officer_id is not None else ""
    if q:
        where = "WHERE (o.badge ILIKE :q ESCAPE '\\' OR o.name ILIKE :q ESCAPE '\\')"
    escaped = None if not q else "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await session.execute(
        text(
            f"SELECT {_OFFICER_COLUMNS} FROM officers o LEFT JOIN officer_positions p ON p.officer_id = o.id "
            f"{where} ORDER BY lower(o.badge) = lower(:exact) DESC, o.id"
        ),
        {"oid": officer_id, "q": escaped, "exact": q or ""},
    )
    return list(rows)


async def positions_in_bbox(session: AsyncSession, w: float, s: float, e: float, n: float) -> list[Row[Any]]:
    """The box in degrees (lines of longitude and latitude): as a geography its edges would be great
    circles, and a box with 180 degrees of longitude has none ("antipodal edge", a 500)."""
    rows = await session.execute(
        text(
            f"SELECT {_OFFICER_COLUMNS} FROM officer_positions p JOIN officers o ON o.id = p.officer_id "
            "WHERE p.geog::geometry && ST_MakeEnvelope(:w, :s, :e, :n, 4326) ORDER BY o.id"
        ),
        {"w": w, "s": s, "e": e, "n": n},
    )
    return list(rows)


async def track(
    session: AsyncSession, officer_id: int, since: datetime, until: datetime, limit: int
) -> list[Row[Any]]:
    rows = await session.execute(
        text(
            "SELECT recorded_at, ST_Y(geog::geometry) AS lat, ST_X(geog::geometry) AS lon, accuracy_m, speed_mps, "
            "heading_deg, altitude_m, battery_pct, source, approximate FROM pings "
            "WHERE officer_id = :oid AND recorded_at >= :since AND recorded_at < :until "
            "ORDER BY recorded_at LIMIT :limit"
        ),
        {"oid": officer_id, "since": since, "until": until, "limit": limit},
    )
    return list(rows)


async def officer(session: AsyncSession, officer_id: int) -> Officer | None:
    return await session.get(Officer, officer_id)


async def officer_by_badge(session: AsyncSession, badge: str) -> Officer | None:
    return await session.scalar(select(Officer).where(Officer.badge == badge))


async def devices_of(session: AsyncSession, officer_id: int) -> list[Device]:
    return list(
        await session.scalars(select(Device).where(Device.officer_id == officer_id).order_by(Device.id))
    )


async def device(session: AsyncSession, device_id: int) -> Device | None:
    return await session.get(Device, device_id)


async def active_device_by_identifier(session: AsyncSession, identifier: str) -> Device | None:
    return await session.scalar(
        select(Device).where(Device.identifier == identifier, Device.revoked_at.is_(None))
    )
