"""KPIs over a time window and an incident's audited timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.schemas import StatsOut, TimelineOut
from jogo_dispatch.dispatch.service import get_incident
from jogo_dispatch.platform import audit
from jogo_dispatch.platform import time_window as timerange

MAX_STATS_SPAN = timedelta(days=366)


async def stats(session: AsyncSession, since: datetime | None, until: datetime | None) -> StatsOut:
    since, until = timerange.window(
        since, until, default=timedelta(days=7), max_span=MAX_STATS_SPAN, what="a statistics window"
    )
    return StatsOut.model_validate(
        {"since": since, "until": until, **await repo.stats(session, since, until)}
    )


async def timeline(session: AsyncSession, incident_id: int, *, agency: bool = False) -> TimelineOut:
    """For an agency: the incident's own changes only, without who made them or their data (offers and
    reports name officers and reporters)."""
    await get_incident(session, incident_id)
    if agency:
        entries = await audit.entries(session, "incident", [incident_id])
        return TimelineOut(
            incident_id=incident_id,
            items=[
                audit.AuditEntryOut.model_validate(e).model_copy(update={"actor_id": None, "data": {}})
                for e in entries
            ],
        )
    offers = [o.id for o in await repo.offers_of_incident(session, incident_id)]
    reports = [r.id for r in await repo.reports_of_incident(session, incident_id)]
    rows = [
        *await audit.entries(session, "incident", [incident_id]),
        *await audit.entries(session, "offer", offers),
        *await audit.entries(session, "report", reports),
    ]
    rows.sort(key=lambda e: (e.at, e.id))
    return TimelineOut(incident_id=incident_id, items=[audit.AuditEntryOut.model_validate(e) for e in rows])
