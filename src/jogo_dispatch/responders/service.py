"""Nearest-responder search: the in-memory H3 ResponderIndex kept current from the event bus, and a
PostGIS KNN query answering the same question as a cross-check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.geo.eta import eta_seconds
from jogo_dispatch.geo.index import Candidate, NearestResult, ResponderIndex
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus, OfficerStatusChanged, PositionsMoved
from jogo_dispatch.responders.schemas import CandidateOut
from jogo_dispatch.settings import Settings

log = structlog.get_logger(__name__)


def make_index(settings: Settings) -> ResponderIndex:
    return ResponderIndex(speeds_mps=settings.speeds_mps, detour_factor=settings.detour_factor)


async def rebuild(index: ResponderIndex, session: AsyncSession) -> int:
    rows = await session.execute(
        text(
            "SELECT o.id, ST_Y(p.geog::geometry), ST_X(p.geog::geometry), o.status, o.unit_type, p.recorded_at "
            "FROM officer_positions p JOIN officers o ON o.id = p.officer_id"
        )
    )
    n = 0
    for officer_id, lat, lon, status, unit_type, seen in rows:
        index.update(officer_id, lat, lon, status, unit_type, seen)
        n += 1
    return n


def keep_current(index: ResponderIndex, bus: EventBus) -> None:
    """Positions and status changes arrive as bus events, also those stored by other processes."""

    def on_positions(event: PositionsMoved) -> None:
        for p in event.positions:
            seen = p["recorded_at"]
            seen = datetime.fromisoformat(seen) if isinstance(seen, str) else seen
            current = index.get(p["officer_id"])
            if current is not None and current.last_seen > seen:
                continue
            index.update(p["officer_id"], p["lat"], p["lon"], p["status"], p["unit_type"], seen)

    bus.on(PositionsMoved, on_positions)
    bus.on(OfficerStatusChanged, lambda e: index.set_status(e.officer_id, e.status))


def online_since(settings: Settings) -> datetime:
    """Officers whose last fix is older than this are offline."""
    return utcnow() - timedelta(seconds=settings.online_after_s)


def search(
    index: ResponderIndex,
    settings: Settings,
    lat: float,
    lon: float,
    k: int,
    unit_type: str | None,
    max_distance_m: float | None,
    statuses: frozenset[str] = frozenset({"available"}),
) -> NearestResult:
    validate_query(lat, lon, k, max_distance_m)
    return index.nearest(
        lat,
        lon,
        k,
        unit_types=[unit_type] if unit_type else None,
        statuses=statuses,
        max_distance_m=max_distance_m,
        seen_after=online_since(settings),
    )


def validate_query(lat: float, lon: float, k: int, max_distance_m: float | None) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("lat must be in [-90, 90] and lon in [-180, 180]", code="bad_coordinates")
    if not 1 <= k <= 100:
        raise InvalidInput("k must be between 1 and 100", code="bad_k")
    if max_distance_m is not None and not 0 < max_distance_m <= 20_000_000:
        raise InvalidInput("max_distance_m must be positive", code="bad_distance")


# The query point is written inline (not joined from a CTE) so the planner can order the GiST index
# scan by ``<->`` against a constant: that is what makes it a KNN index scan.
_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"
_KNN = text(f"""
WITH cand AS (
    SELECT o.id, o.status, o.unit_type, p.geog, p.recorded_at
    FROM officer_positions p JOIN officers o ON o.id = p.officer_id
    WHERE o.status = ANY(:statuses)
      AND (CAST(:unit AS text) IS NULL OR o.unit_type = :unit)
      AND p.recorded_at > :seen_after
      AND (CAST(:maxd AS float8) IS NULL OR ST_DWithin(p.geog, {_POINT}, :maxd, true))
    ORDER BY p.geog <-> {_POINT}
    LIMIT :pool
)
SELECT c.id, ST_Y(c.geog::geometry) AS lat, ST_X(c.geog::geometry) AS lon, c.status, c.unit_type, c.recorded_at,
       ST_Distance(c.geog, {_POINT}, true) AS distance_m
FROM cand c
ORDER BY distance_m, c.id
LIMIT :k
""")


async def search_postgis(
    session: AsyncSession,
    settings: Settings,
    lat: float,
    lon: float,
    k: int,
    unit_type: str | None,
    max_distance_m: float | None,
    statuses: frozenset[str] = frozenset({"available"}),
) -> list[Candidate]:
    """KNN (``<->``, sphere) picks a generous pool via the GiST index; the pool is then ranked by the
    exact spheroid distance, so near-ties agree with the index's WGS84 geodesics."""
    validate_query(lat, lon, k, max_distance_m)
    rows = await session.execute(
        _KNN,
        {
            "lat": lat,
            "lon": lon,
            "statuses": list(statuses),
            "unit": unit_type,
            "maxd": max_distance_m,
            "seen_after": online_since(settings),
            "pool": k * 4 + 16,
            "k": k,
        },
    )
    return [
        Candidate(
            r.id,
            r.lat,
            r.lon,
            r.status,
            r.unit_type,
            r.recorded_at,
            r.distance_m,
            eta_seconds(r.distance_m, r.unit_type, settings.speeds_mps, settings.detour_factor),
        )
        for r in rows
    ]


async def officer_names(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = await session.execute(
        text("SELECT id, badge, name FROM officers WHERE id = ANY(:ids)"), {"ids": ids}
    )
    return {r.id: (r.badge, r.name) for r in rows}


def candidate_dict(c: Candidate, names: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """A candidate as JSON (``CandidateOut``), for answers and alert data built as dicts."""
    return CandidateOut.of(c, names).model_dump(mode="json")
