"""Incidents: creation, lifecycle transitions (each audited), and closing (which frees the officer). Views
live in dispatch.views, announcements in dispatch.announce; merge and split in dispatch.merge; intake
(reports, duplicates) in dispatch.intake; SOS in dispatch.sos; offers in dispatch.offers; KPIs and the
timeline in dispatch.stats. Flushes, never commits; whatever is announced goes out after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies.service import sector_for
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.announce import (
    announce_incident,
    announce_offer,
    message_officer,
    withdraw_message,
)
from jogo_dispatch.dispatch.lifecycle import (
    FINAL,
    OFFICER_PROGRESS,
    TIMESTAMP_OF,
    IncidentStatus,
    OfferStatus,
    check_offer_transition,
    check_transition,
)
from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.errors import Conflict, Forbidden, NotFound
from jogo_dispatch.geo.cells import cells_for_point
from jogo_dispatch.plans import service as plans
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports.models import Category, Report
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking import service as tracking


async def get_incident(session: AsyncSession, incident_id: int) -> Incident:
    incident = await repo.incident(session, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    return incident


async def visible_incident(session: AsyncSession, viewer: Principal, incident_id: int) -> Incident:
    """The incident, if the viewer may read it: an agency only what was forwarded to it (anything else is
    404, as if absent)."""
    incident = await get_incident(session, incident_id)
    if viewer.role == "agency" and not await repo.forwarded_to_login(session, incident_id, viewer.user_id):
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    return incident


def forwarded_to(viewer: Principal) -> int | None:
    """The agency login whose forwards bound what the viewer lists (None: everything)."""
    return viewer.user_id if viewer.role == "agency" else None


async def locked_incident(session: AsyncSession, incident_id: int) -> Incident:
    incident = await repo.lock_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    return incident


DEFAULT_PRIORITY = 4  # a category withdrawn from the catalogue keeps a middling priority


async def category_priority(session: AsyncSession, code: str) -> int:
    category = await session.get(Category, code)
    return category.default_priority if category else DEFAULT_PRIORITY


async def incident_sector(session: AsyncSession, settings: Settings, lat: float, lon: float) -> str | None:
    """The name of the Polsek whose jurisdiction covers the point, else of the nearest one; None when the
    deployment's region is not loaded."""
    hit = await sector_for(session, settings, lat, lon)
    return hit.sector.name if hit else None


async def create_incident(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    *,
    category: str,
    priority: int,
    source: str,
    lat: float,
    lon: float,
    description: str = "",
    address: str | None = None,
    reporter_id: int | None = None,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    received_at: datetime | None = None,
) -> Incident:
    """A ``new`` incident, audited and announced; ``settings`` name the region whose police sectors place it.
    Its response plan (the units it needs, its agencies) is applied: kept in ``data.plan``.
    ``received_at``: when what it is made of came in (a report's arrival), default now."""
    now = now or utcnow()
    r9, r7 = cells_for_point(lat, lon)
    hit = await sector_for(session, settings, lat, lon)
    plan = await plans.plan_for(session, category, priority, hit.sector.code if hit else None)
    data = dict(data or {})
    if plan is not None:
        data["plan"] = plan.model_dump()
    incident = Incident(
        category=category,
        priority=priority,
        status=IncidentStatus.NEW.value,
        source=source,
        description=description,
        address=address,
        lat=lat,
        lon=lon,
        h3_r9=r9,
        h3_r7=r7,
        sector=hit.sector.name if hit else None,
        units_needed=plan.units if plan is not None else 1,
        reporter_id=reporter_id,
        data=data,
        received_at=min(received_at or now, now),
        updated_at=now,
    )
    session.add(incident)
    await session.flush()
    audit.record(
        session,
        "incident",
        incident.id,
        "created",
        to_state=incident.status,
        actor_id=actor_id,
        reason=reason,
        data={
            "source": source,
            "category": category,
            "priority": priority,
            "plan": plan.name if plan is not None else None,
            "units_needed": incident.units_needed,
        },
        at=now,
    )
    await announce_incident(session, bus, incident)
    return incident


async def incident_from_report(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    report: Report,
    *,
    actor_id: int | None,
    reason: str,
    data: dict[str, Any],
    now: datetime,
) -> Incident:
    """A new incident where the report says, of its category's priority (verify, split)."""
    return await create_incident(
        session,
        bus,
        settings,
        category=report.category,
        priority=await category_priority(session, report.category),
        source="report",
        lat=report.lat,
        lon=report.lon,
        description=report.description,
        address=report.address,
        reporter_id=report.citizen_id,
        actor_id=actor_id,
        reason=reason,
        data=data,
        now=now,
        received_at=report.created_at,
    )


def record_action(
    session: AsyncSession,
    incident: Incident,
    action: str,
    *,
    actor_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime,
) -> None:
    """Audit something done to the incident that leaves its status as it is (a report linked, a merge)."""
    audit.record(
        session,
        "incident",
        incident.id,
        action,
        from_state=incident.status,
        to_state=incident.status,
        actor_id=actor_id,
        reason=reason,
        data=data,
        at=at,
    )


def move_incident(incident: Incident, lat: float, lon: float, now: datetime) -> None:
    incident.lat, incident.lon = lat, lon
    incident.h3_r9, incident.h3_r7 = cells_for_point(lat, lon)
    incident.updated_at = now


async def transition(
    session: AsyncSession,
    bus: EventBus,
    incident: Incident,
    to: str,
    *,
    actor_id: int | None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Incident:
    """One lifecycle step: checked (409 invalid_transition), stamped, audited, announced after commit."""
    now = now or utcnow()
    target = check_transition(incident.status, to)
    previous = incident.status
    incident.status = target.value
    setattr(incident, TIMESTAMP_OF[target], now)
    incident.updated_at = now
    audit.record(
        session,
        "incident",
        incident.id,
        "transition",
        from_state=previous,
        to_state=target.value,
        actor_id=actor_id,
        reason=reason,
        data=data,
        at=now,
    )
    await announce_incident(session, bus, incident)
    return incident


async def change_status(
    session: AsyncSession, bus: EventBus, actor: Principal, incident_id: int, to: str, reason: str | None
) -> Incident:
    """``POST /incidents/{id}/status``: an officer on the incident reports their unit's progress
    (en_route, on_scene, resolved: their unit clears, and the incident resolves with its last unit); a
    dispatcher moves the incident itself (verify, cancel, close). ``dispatched`` only comes from an
    accepted offer."""
    now = utcnow()
    incident = await locked_incident(session, incident_id)
    if actor.role == "officer":
        unit = await _unit_of(session, incident, actor.officer_id)
        if unit is None and await repo.officer_on(session, incident.id, actor.officer_id):
            check_transition(incident.status, to)  # their unit cleared: 409 as for the incident
        if unit is None:
            raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
        if to not in OFFICER_PROGRESS:
            raise Forbidden("officers report en_route, on_scene and resolved", code="not_allowed_for_officer")
        await unit_progress(session, bus, incident, unit, to, actor.user_id, reason, now)
        return incident
    if to == IncidentStatus.DISPATCHED:
        raise Conflict(
            "an incident is dispatched when an officer accepts an offer: use POST .../dispatch",
            code="invalid_transition",
            details={"from": incident.status, "to": to},
        )
    await transition(session, bus, incident, to, actor_id=actor.user_id, reason=reason, now=now)
    if incident.status in FINAL:
        await _release(session, bus, incident, actor.user_id, reason, now)
    return incident


async def _unit_of(session: AsyncSession, incident: Incident, officer_id: int | None) -> Offer | None:
    """The officer's unit (accepted offer) on the incident."""
    if officer_id is None:
        return None
    for offer in await repo.active_offers_for_incident(session, incident.id):
        if offer.officer_id == officer_id and offer.status == OfferStatus.ACCEPTED:
            return offer
    return None


# A unit's state, from its own CAD times, in the incident's words.
def unit_state(offer: Offer) -> str:
    if offer.on_scene_at is not None:
        return IncidentStatus.ON_SCENE.value
    if offer.en_route_at is not None:
        return IncidentStatus.EN_ROUTE.value
    return IncidentStatus.DISPATCHED.value


_ORDER = [IncidentStatus.DISPATCHED.value, IncidentStatus.EN_ROUTE.value, IncidentStatus.ON_SCENE.value]


async def unit_progress(
    session: AsyncSession,
    bus: EventBus,
    incident: Incident,
    unit: Offer,
    to: str,
    actor_id: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    """One unit moves on (dispatched -> en_route -> on_scene, or resolved: the unit clears). The incident
    is as far as its furthest unit; it resolves when its last unit clears with ``resolved``."""
    state = unit_state(unit)
    if to == IncidentStatus.RESOLVED:
        await clear_unit(session, bus, unit, actor_id, reason or "resolved", now)
        others = [
            o
            for o in await repo.active_offers_for_incident(session, incident.id)
            if o.status == OfferStatus.ACCEPTED and o.id != unit.id
        ]
        if others:
            record_action(
                session,
                incident,
                "unit_cleared",
                actor_id=actor_id,
                reason=reason,
                data={"offer_id": unit.id, "officer_id": unit.officer_id, "units_left": len(others)},
                at=now,
            )
            await announce_incident(session, bus, incident)
            return
        await transition(session, bus, incident, to, actor_id=actor_id, reason=reason, now=now)
        await _release(session, bus, incident, actor_id, reason, now)
        return
    check_transition(state, to)  # 409 invalid_transition, as for the incident
    setattr(unit, f"{to}_at", now)
    announce_offer(session, bus, unit)
    audit.record(
        session,
        "offer",
        unit.id,
        to,
        from_state=state,
        to_state=to,
        actor_id=actor_id,
        reason=reason,
        data={"incident_id": incident.id, "officer_id": unit.officer_id},
        at=now,
    )
    while incident.status in _ORDER and _ORDER.index(incident.status) < _ORDER.index(to):
        step = _ORDER[_ORDER.index(incident.status) + 1]
        await transition(session, bus, incident, step, actor_id=actor_id, reason=reason, now=now)
    await announce_incident(session, bus, incident)


async def clear_unit(
    session: AsyncSession, bus: EventBus, unit: Offer, actor_id: int | None, reason: str, now: datetime
) -> None:
    """The unit is done: its offer completed, the officer available again (unless they went off duty)."""
    unit.cleared_at = now
    await set_offer_status(session, bus, unit, OfferStatus.COMPLETED, actor_id, reason, now)
    officer = await repo.lock_officer(session, unit.officer_id)
    if officer is not None and officer.status == "busy":
        await tracking.set_status(session, bus, officer.id, "available")


async def _release(
    session: AsyncSession,
    bus: EventBus,
    incident: Incident,
    actor_id: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    """The incident is closed: pending offers are withdrawn; its units are completed (resolved) or
    cancelled, and their officers are available again (unless they went off duty meanwhile)."""
    resolved = incident.status == IncidentStatus.RESOLVED
    for found in await repo.active_offers_for_incident(session, incident.id):
        offer = await repo.lock_offer(session, found.id)
        assert offer is not None
        if offer.status == OfferStatus.PENDING:
            await set_offer_status(
                session,
                bus,
                offer,
                OfferStatus.CANCELLED,
                actor_id,
                reason or f"incident {incident.status}",
                now,
            )
            withdraw_message(session, bus, offer)
            continue
        offer.cleared_at = now
        to = OfferStatus.COMPLETED if resolved else OfferStatus.CANCELLED
        await set_offer_status(
            session, bus, offer, to, actor_id, reason or f"incident {incident.status}", now
        )
        officer = await repo.lock_officer(session, offer.officer_id)
        if officer is not None and officer.status == "busy":
            await tracking.set_status(session, bus, officer.id, "available")
        if incident.status == IncidentStatus.CANCELLED:
            message_officer(
                session,
                bus,
                offer.officer_id,
                {"type": "incident_cancelled", "incident_id": incident.id, "reason": reason},
            )


async def set_offer_status(
    session: AsyncSession,
    bus: EventBus,
    offer: Offer,
    to: OfferStatus,
    actor_id: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    check_offer_transition(offer.status, to.value)
    previous = offer.status
    offer.status = to.value
    if previous == OfferStatus.PENDING:
        offer.responded_at = now
    audit.record(
        session,
        "offer",
        offer.id,
        to.value,
        from_state=previous,
        to_state=to.value,
        actor_id=actor_id,
        reason=reason,
        data={"incident_id": offer.incident_id, "officer_id": offer.officer_id},
        at=now,
    )
    await session.flush()
    announce_offer(session, bus, offer)
