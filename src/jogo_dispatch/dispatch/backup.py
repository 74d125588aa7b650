"""More units for an incident: an officer on it asks for backup, or an officer in distress (panic) gets the
nearest available units at once. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.alerts.service import raise_alert
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.announce import announce_incident
from jogo_dispatch.dispatch.lifecycle import FINAL, IncidentStatus
from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.dispatch.offers import offer_nearest
from jogo_dispatch.dispatch.service import locked_incident, record_action, transition
from jogo_dispatch.errors import Conflict, NotFound
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.settings import Settings

PANIC_UNITS = 2


async def more_units(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    incident: Incident,
    units: int,
    *,
    actor_id: int | None,
    exclude: frozenset[int] = frozenset(),
) -> list[Offer]:
    """The incident (locked) needs ``units`` more: each goes as an offer to the nearest available officer
    not on it (nor in ``exclude``). Returns the offers made (fewer when nobody is left)."""
    now = utcnow()
    if incident.status == IncidentStatus.NEW:
        await transition(session, bus, incident, IncidentStatus.VERIFIED.value, actor_id=actor_id, now=now)
    incident.units_needed += units
    made: list[Offer] = []
    for _ in range(units):
        offer, _why = await offer_nearest(
            session, bus, index, settings, incident, attempt=1, actor_id=actor_id, now=now, exclude=exclude
        )
        if offer is None:
            break
        made.append(offer)
    await announce_incident(session, bus, incident)
    return made


async def request_backup(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    who: Principal,
    incident_id: int,
    units: int,
    reason: str | None,
) -> tuple[Incident, list[Offer]]:
    """``POST /incidents/{id}/backup``: an officer on the incident (or a dispatcher) asks for ``units``
    more; the nearest available get offers, the dispatchers an alert; audited."""
    incident = await locked_incident(session, incident_id)
    if who.role == "officer" and not await repo.officer_on(session, incident.id, who.officer_id):
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    if incident.status in FINAL:
        raise Conflict(
            f"incident {incident_id} is {incident.status}",
            code="incident_closed",
            details={"status": incident.status},
        )
    requester = frozenset({who.officer_id}) if who.officer_id is not None else frozenset()
    offers = await more_units(
        session, bus, index, settings, incident, units, actor_id=who.user_id, exclude=requester
    )
    record_action(
        session,
        incident,
        "backup_requested",
        actor_id=who.user_id,
        reason=reason,
        data={"units": units, "offered": [o.officer_id for o in offers], "by_officer": who.officer_id},
        at=utcnow(),
    )
    await raise_alert(
        session,
        bus,
        "backup_requested",
        f"Backup requested on incident #{incident.id} ({incident.category}): {units} unit(s), "
        f"{len(offers)} offered" + (f" - {reason}" if reason else ""),
        incident_id=incident.id,
        lat=incident.lat,
        lon=incident.lon,
        data={"units": units, "offered": len(offers), "officer_id": who.officer_id},
    )
    return incident, offers
