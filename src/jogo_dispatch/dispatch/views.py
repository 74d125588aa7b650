"""What dispatchers, officers and the live map see of incidents and offers, and the nearest available
officers to a point."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.lifecycle import IncidentStatus
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.dispatch.schemas import (
    AgencyIncidentOut,
    IncidentDetailOut,
    IncidentOut,
    Nearest,
    NoteOut,
    OfferOut,
    UnitOut,
)
from jogo_dispatch.geo.cells import disk_covering_m
from jogo_dispatch.geo.index import Candidate, ResponderIndex
from jogo_dispatch.live.hub import SnapshotPart
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.reports.schemas import ReportOut
from jogo_dispatch.responders import service as responders
from jogo_dispatch.settings import Settings


async def unit_fields(session: AsyncSession, incidents: list[Incident]) -> dict[int, dict[str, Any]]:
    """Per incident: its ``units`` and its ``shortfall`` (needed - on it now - offered now)."""
    ids = [i.id for i in incidents]
    units = await repo.units_of(session, ids)
    pending = await repo.pending_counts(session, ids)
    out: dict[int, dict[str, Any]] = {}
    for i in incidents:
        mine = [UnitOut.of(o) for o in units.get(i.id, [])]
        on_it = sum(1 for u in mine if u.state != "cleared")
        open_ = i.status not in (IncidentStatus.RESOLVED, IncidentStatus.CANCELLED)
        shortfall = max(0, i.units_needed - on_it - pending.get(i.id, 0)) if open_ else 0
        out[i.id] = {"units": mine, "shortfall": shortfall}
    return out


async def open_incidents_near(
    session: AsyncSession,
    settings: Settings,
    category: str,
    lat: float,
    lon: float,
    at: datetime,
    *,
    excluding: int | None,
    limit: int,
) -> list[IncidentOut]:
    """Open incidents of this category within the duplicate radius, received in the duplicate window
    before ``at``, nearest first (not ``excluding``): what a new call or report may be about."""
    cells = disk_covering_m(lat, lon, settings.duplicate_radius_m)
    since = at - timedelta(seconds=settings.duplicate_window_s)
    found = await repo.open_nearby(
        session, category, lat, lon, cells, settings.duplicate_radius_m, since, limit=limit + 1
    )
    others = await repo.incidents_by_ids(session, [i for i in found if i != excluding])
    others.sort(key=lambda i: found.index(i.id))
    return await incident_views(session, others[:limit])


async def incident_view(session: AsyncSession, i: Incident) -> IncidentOut:
    [view] = await incident_views(session, [i])
    return view


async def incident_views(session: AsyncSession, incidents: list[Incident]) -> list[IncidentOut]:
    counts = await repo.report_counts(session, [i.id for i in incidents])
    units = await unit_fields(session, incidents)
    return [IncidentOut.of(i, counts.get(i.id, 0), **units[i.id]) for i in incidents]


async def agency_views(session: AsyncSession, incidents: list[Incident]) -> list[AgencyIncidentOut]:
    """Incidents as an agency sees them (see ``AgencyIncidentOut``)."""
    photos = await repo.photo_reports(session, [i.id for i in incidents])
    return [
        AgencyIncidentOut.model_validate(
            {
                **{name: getattr(i, name) for name in AgencyIncidentOut.model_fields if name != "photos"},
                "photos": [f"/api/v1/reports/{r}/photo" for r in photos.get(i.id, [])],
            }
        )
        for i in incidents
    ]


async def incident_detail(
    session: AsyncSession, index: ResponderIndex, settings: Settings, i: Incident
) -> IncidentDetailOut:
    """The incident with its reports and offers; while it waits for an officer, the nearest ones too."""
    counts = await repo.report_counts(session, [i.id])
    more: dict[str, Any] = {
        **(await unit_fields(session, [i]))[i.id],
        "reports": [ReportOut.of(r) for r in await repo.reports_of_incident(session, i.id)],
        "offers": [OfferOut.model_validate(o) for o in await repo.offers_of_incident(session, i.id)],
        "notes": [NoteOut.model_validate(n) for n in await repo.notes(session, i.id)],
    }
    if i.status in (IncidentStatus.NEW, IncidentStatus.VERIFIED) or more["shortfall"] > 0:
        more["nearest"] = (
            await nearest_for(session, index, settings, i.lat, i.lon, settings.sos_nearest_k)
        ).items
    return IncidentDetailOut.of(i, counts.get(i.id, 0), **more)


# Responders are ranked by ETA: from a pool this many times ``k`` by distance (a motorbike a little
# further away may arrive before a car close by).
ETA_POOL = 3


async def nearest_for(
    session: AsyncSession, index: ResponderIndex, settings: Settings, lat: float, lon: float, k: int
) -> Nearest:
    """The ``k`` available officers with the shortest ETA, each marked whether it takes offers."""
    found = responders.search(index, settings, lat, lon, min(100, k * ETA_POOL), None, None)
    now = utcnow()

    def eta(c: Candidate) -> float:
        """A stale position may be out of date: its ETA grows with the age past JOGO_STALE_AFTER_S."""
        age = (now - c.last_seen).total_seconds()
        return c.eta_s + max(0.0, age - settings.stale_after_s) * settings.stale_eta_factor

    ranked = sorted(found.candidates, key=lambda c: (eta(c), c.distance_m))[:k]
    views = await responders.responder_views(session, settings, ranked)
    items = [v.model_copy(update={"eta_s": round(eta(c), 1)}) for v, c in zip(views, ranked, strict=True)]
    shortfall = found.shortfall_reason if len(ranked) < k else None
    return Nearest(items=items, shortfall_reason=shortfall)


async def snapshot_incidents(session: AsyncSession) -> SnapshotPart:
    """What the live map shows on connect: every open incident."""
    found = await incident_views(session, await repo.open_incidents(session))
    return SnapshotPart([v.model_dump(mode="json") for v in found])
