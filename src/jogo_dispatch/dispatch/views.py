"""What dispatchers, officers and the live map see of incidents and offers, and the nearest available
officers to a point."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.live.hub import SnapshotPart
from jogo_dispatch.responders import service as responders
from jogo_dispatch.settings import Settings


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def incident_dict(i: Incident, report_count: int) -> dict[str, Any]:
    """The shape of the ``incident`` event, of the live map's snapshot and of list items."""
    return {
        "id": i.id,
        "category": i.category,
        "priority": i.priority,
        "status": i.status,
        "lat": i.lat,
        "lon": i.lon,
        "description": i.description,
        "address": i.address,
        "created_at": _iso(i.received_at),
        "report_count": report_count,
        "sector": i.sector,
        "source": i.source,
        "officer_id": i.officer_id,
        "merged_into_id": i.merged_into_id,
    }


def incident_detail(i: Incident, report_count: int) -> dict[str, Any]:
    return {
        **incident_dict(i, report_count),
        "h3_r9": i.h3_r9,
        "h3_r7": i.h3_r7,
        "reporter_id": i.reporter_id,
        "data": i.data,
        "received_at": _iso(i.received_at),
        "verified_at": _iso(i.verified_at),
        "dispatched_at": _iso(i.dispatched_at),
        "acknowledged_at": _iso(i.acknowledged_at),
        "en_route_at": _iso(i.en_route_at),
        "on_scene_at": _iso(i.on_scene_at),
        "cleared_at": _iso(i.cleared_at),
        "updated_at": _iso(i.updated_at),
    }


def offer_dict(o: Offer) -> dict[str, Any]:
    """The shape of the ``offer`` event."""
    return {
        "id": o.id,
        "incident_id": o.incident_id,
        "officer_id": o.officer_id,
        "status": o.status,
        "attempt": o.attempt,
        "expires_at": _iso(o.expires_at),
        "created_at": _iso(o.created_at),
        "responded_at": _iso(o.responded_at),
        "distance_m": None if o.distance_m is None else round(o.distance_m, 1),
        "eta_s": None if o.eta_s is None else round(o.eta_s, 1),
    }


async def incident_view(session: AsyncSession, i: Incident) -> dict[str, Any]:
    counts = await repo.report_counts(session, [i.id])
    return incident_dict(i, counts.get(i.id, 0))


async def incident_views(session: AsyncSession, incidents: list[Incident]) -> list[dict[str, Any]]:
    counts = await repo.report_counts(session, [i.id for i in incidents])
    return [incident_dict(i, counts.get(i.id, 0)) for i in incidents]


async def nearest_for(
    session: AsyncSession, index: ResponderIndex, settings: Settings, lat: float, lon: float, k: int
) -> dict[str, Any]:
    found = responders.search(index, settings, lat, lon, k, None, None)
    names = await responders.officer_names(session, [c.officer_id for c in found.candidates])
    return {
        "items": [responders.candidate_dict(c, names) for c in found.candidates],
        "shortfall_reason": found.shortfall_reason,
    }


async def snapshot_incidents(session: AsyncSession) -> SnapshotPart:
    """What the live map shows on connect: every open incident."""
    return SnapshotPart(await incident_views(session, await repo.open_incidents(session)))
