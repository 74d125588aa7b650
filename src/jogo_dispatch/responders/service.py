"""Nearest-responder search: the in-memory H3 ResponderIndex kept current from the event bus, and a
PostGIS KNN query answering the same question as a cross-check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.geo.eta import eta_seconds
from jogo_dispatch.geo.index import Candidate, NearestResult, Responder, ResponderIndex, brute_force_nearest
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus, OfficerPresence, OfficerStatusChanged, PositionsMoved
from jogo_dispatch.responders.schemas import CandidateOut, ResponderOut
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking import reach

log = structlog.get_logger(__name__)


def make_index(settings: Settings) -> ResponderIndex:
    """The H3 index of each officer's latest fix (its place and time: the age dispatch shows and ranks
    by), with the officers the presence monitor last called stale (``ResponderIndex.stale``): a heartbeat
    keeps such an officer dispatchable at the last position after the fix itself is older than the
    index's cut (JOGO_OFFLINE_AFTER_S), until the monitor calls it offline."""
    return ResponderIndex(speeds_mps=settings.speeds_mps, detour_factor=settings.detour_factor)


async def rebuild(index: ResponderIndex, session: AsyncSession) -> int:
    rows = await session.execute(
        text(
            "SELECT o.id, ST_Y(p.geog::geometry), ST_X(p.geog::geometry), o.status, o.unit_type, p.recorded_at, "
            "o.online AND p.seen_at > p.recorded_at FROM officer_positions p JOIN officers o ON o.id = p.officer_id"
        )
    )
    n = 0
    for officer_id, lat, lon, status, unit_type, fixed, on_heartbeats in rows:
        index.update(officer_id, lat, lon, status, unit_type, fixed)
        if on_heartbeats:
            index.stale.add(officer_id)
        n += 1
    return n


def keep_current(index: ResponderIndex, bus: EventBus) -> None:
    """Positions, status and presence changes arrive as bus events, also those of other processes."""

    def on_positions(event: PositionsMoved) -> None:
        for p in event.positions:
            fixed = p["recorded_at"]
            fixed = datetime.fromisoformat(fixed) if isinstance(fixed, str) else fixed
            current = index.get(p["officer_id"])
            if current is not None and current.last_seen > fixed:
                continue
            index.update(p["officer_id"], p["lat"], p["lon"], p["status"], p["unit_type"], fixed)
            # A new fix (the same one again is a heartbeat's refresh): the monitor says when it is old.
            if current is None or current.last_seen < fixed:
                index.stale.discard(p["officer_id"])

    def on_presence(event: OfficerPresence) -> None:
        if event.presence == "stale":
            index.stale.add(event.officer_id)
        else:
            index.stale.discard(event.officer_id)

    bus.on(PositionsMoved, on_positions)
    bus.on(OfficerStatusChanged, lambda e: index.set_status(e.officer_id, e.status))
    bus.on(OfficerPresence, on_presence)


def available(index: ResponderIndex, settings: Settings) -> list[Responder]:
    """Every available officer that can be dispatched now: a fix younger than the offline cut, or an
    older one the phone's heartbeats keep (``ResponderIndex.stale``)."""
    seen_after = online_since(settings)
    kept = {r.officer_id for r in index.kept_by_heartbeat(seen_after)}
    return [
        r
        for r in index.responders()
        if r.status == "available" and (r.last_seen >= seen_after or r.officer_id in kept)
    ]


def online_since(settings: Settings) -> datetime:
    """Officers whose last fix is older than this are offline, unless their phone reported since (a
    heartbeat: ``ResponderIndex.stale``, ``officer_positions.seen_at``)."""
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
    """The k nearest dispatchable officers; each candidate's ``last_seen`` is the time of its fix."""
    validate_query(lat, lon, k, max_distance_m)
    seen_after = online_since(settings)
    unit_types = [unit_type] if unit_type else None
    found = index.nearest(
        lat,
        lon,
        k,
        unit_types=unit_types,
        statuses=statuses,
        max_distance_m=max_distance_m,
        seen_after=seen_after,
    )
    kept = index.kept_by_heartbeat(seen_after)
    if not kept:
        return found
    # Few officers live on heartbeats alone: rank them exactly beside the index's answer.
    more = brute_force_nearest(
        kept,
        lat,
        lon,
        k,
        unit_types=unit_types,
        statuses=statuses,
        max_distance_m=max_distance_m,
        speeds_mps=settings.speeds_mps,
        detour_factor=settings.detour_factor,
    ).candidates
    merged = sorted([*found.candidates, *more], key=lambda c: (c.distance_m, c.officer_id))[:k]
    return NearestResult(merged, None if len(merged) == k else found.shortfall_reason)


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
      AND greatest(p.recorded_at, p.seen_at) > :seen_after
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


async def responder_views(
    session: AsyncSession, settings: Settings, found: Sequence[Candidate]
) -> list[ResponderOut]:
    """The candidates with their names, the age of their positions and how each is reached."""
    ids = [c.officer_id for c in found]
    names = await officer_names(session, ids)
    sources = await reach.latest_sources(session, ids, online_since(settings))
    return [
        ResponderOut(
            **CandidateOut.of(c, names, settings.stale_after_s).model_dump(),
            can_offer=reach.takes_offers(sources.get(c.officer_id)),
            channel=sources.get(c.officer_id),
        )
        for c in found
    ]


def candidate_dict(c: Candidate, names: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """A candidate as JSON (``CandidateOut``), for answers and alert data built as dicts."""
    return CandidateOut.of(c, names).model_dump(mode="json")
