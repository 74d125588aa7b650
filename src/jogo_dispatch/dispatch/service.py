"""Incidents: creation, lifecycle transitions (each audited), closing (which frees the officer), merge and
split, duplicate linking, officer SOS, the timeline and KPIs. Offers live in dispatch.offers.
Flushes, never commits; whatever is announced goes out after commit (dispatch events are coalesced per
object, so listeners never see a state that was only intermediate within one unit of work)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies.service import sector_for
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.lifecycle import (
    ASSIGNED,
    FINAL,
    OFFICER_PROGRESS,
    TIMESTAMP_OF,
    IncidentStatus,
    OfferStatus,
    check_offer_transition,
    check_transition,
)
from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.errors import Conflict, Forbidden, InvalidInput, NotFound
from jogo_dispatch.geo.cells import cells_for_point
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.live.hub import SnapshotPart
from jogo_dispatch.platform import audit
from jogo_dispatch.platform import time_window as timerange
from jogo_dispatch.platform.db import after_commit, session_scope, utcnow
from jogo_dispatch.platform.events import Event, EventBus, IncidentChanged, OfferChanged, OfficerMessage
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports.models import Category, SosCall
from jogo_dispatch.responders import service as responders
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking import service as tracking

log = structlog.get_logger(__name__)

MAX_STATS_SPAN = timedelta(days=366)


# --- views -------------------------------------------------------------------------------------------


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


# --- announcing (after commit only) --------------------------------------------------------------------


def _announce(session: AsyncSession, bus: EventBus, key: int, event: IncidentChanged | OfferChanged) -> None:
    """Publish ``event`` after commit; a later announcement of the same object in this unit of work
    replaces the earlier one, so listeners never see an intermediate state."""
    pending: dict[tuple[str, int], Event] = session.info.setdefault("announce", {})
    slot = (event.TYPE, key)
    if slot not in pending:

        def publish() -> None:
            bus.publish(pending.pop(slot))

        after_commit(session, publish)
    pending[slot] = event


async def announce_incident(
    session: AsyncSession, bus: EventBus, i: Incident, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Publish the incident's state as of commit (``extra`` keys ride along, e.g. an SOS's nearest)."""
    await session.flush()
    view = {**await incident_view(session, i), **(extra or {})}
    _announce(session, bus, i.id, IncidentChanged(incident=view))
    return view


def announce_offer(session: AsyncSession, bus: EventBus, o: Offer) -> None:
    _announce(session, bus, o.id, OfferChanged(offer=offer_dict(o)))


def message_officer(session: AsyncSession, bus: EventBus, officer_id: int, message: dict[str, Any]) -> None:
    """Delivered after commit to the officer's open stream sockets, in whichever process holds them."""
    after_commit(session, lambda: bus.publish(OfficerMessage(officer_id=officer_id, message=message)))


def withdraw_message(session: AsyncSession, bus: EventBus, offer: Offer) -> None:
    """Tell the officer an offer is off (expired, withdrawn, the incident closed)."""
    message = {
        "type": "offer_withdrawn",
        "offer_id": offer.id,
        "status": offer.status,
        "incident_id": offer.incident_id,
    }
    message_officer(session, bus, offer.officer_id, message)


# --- incidents -----------------------------------------------------------------------------------------


async def get_incident(session: AsyncSession, incident_id: int) -> Incident:
    incident = await repo.incident(session, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    return incident


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
    settings: Settings | None = None,
) -> Incident:
    """A ``new`` incident, audited and announced; ``settings`` name the region whose police sectors place it
    (without them, as in fixtures that make an incident directly, it has no sector)."""
    now = now or utcnow()
    r9, r7 = cells_for_point(lat, lon)
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
        sector=await incident_sector(session, settings, lat, lon) if settings else None,
        reporter_id=reporter_id,
        data=data or {},
        received_at=now,
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
        data={"source": source, "category": category, "priority": priority},
        at=now,
    )
    await announce_incident(session, bus, incident)
    return incident


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
    """``POST /incidents/{id}/status``: the assigned officer reports progress (en_route, on_scene,
    resolved); a dispatcher may also verify and cancel. ``dispatched`` only comes from an accepted offer."""
    now = utcnow()
    incident = await locked_incident(session, incident_id)
    if actor.role == "officer":
        if actor.officer_id is None or incident.officer_id != actor.officer_id:
            raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
        if to not in OFFICER_PROGRESS:
            raise Forbidden("officers report en_route, on_scene and resolved", code="not_allowed_for_officer")
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


async def _release(
    session: AsyncSession,
    bus: EventBus,
    incident: Incident,
    actor_id: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    """The incident is closed: a pending offer is withdrawn; an accepted one is completed (resolved) or
    cancelled, and the officer who held it is available again (unless they went off duty meanwhile)."""
    offer = await repo.active_offer_for_incident(session, incident.id)
    if offer is None:
        return
    offer = await repo.lock_offer(session, offer.id)
    assert offer is not None
    was_pending = offer.status == OfferStatus.PENDING
    resolved = incident.status == IncidentStatus.RESOLVED
    to = OfferStatus.COMPLETED if resolved and not was_pending else OfferStatus.CANCELLED
    await set_offer_status(session, bus, offer, to, actor_id, reason or f"incident {incident.status}", now)
    if was_pending:
        withdraw_message(session, bus, offer)
        return
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


# --- merge / split ---------------------------------------------------------------------------------------


async def merge(
    session: AsyncSession,
    bus: EventBus,
    keep_id: int,
    other_id: int,
    actor_id: int | None,
    reason: str | None = None,
) -> Incident:
    """Fold ``other`` into ``keep``: its reports and SOS calls move over, the more urgent priority wins,
    and ``other`` is cancelled with ``merged_into_id``. ``other`` must not hold an officer or offer."""
    if keep_id == other_id:
        raise InvalidInput("an incident cannot be merged with itself", code="same_incident")
    now = utcnow()
    locked = {i.id: i for i in await repo.lock_incidents(session, [keep_id, other_id])}
    for wanted in (keep_id, other_id):
        if wanted not in locked:
            raise NotFound(f"incident {wanted} not found", code="incident_not_found")
    keep, other = locked[keep_id], locked[other_id]
    for i in (keep, other):
        if i.status in FINAL:
            raise Conflict(
                f"incident {i.id} is {i.status}",
                code="invalid_transition",
                details={"incident_id": i.id, "status": i.status},
            )
    if await repo.active_offer_for_incident(session, other.id) is not None or other.status in ASSIGNED:
        raise Conflict(
            f"incident {other.id} has an officer or a pending offer: merge it the other way round",
            code="incident_assigned",
            details={"incident_id": other.id},
        )
    moved = await repo.reports_of_incident(session, other.id)
    for report in moved:
        report.incident_id = keep.id
    for call in await session.scalars(select(SosCall).where(SosCall.incident_id == other.id)):
        call.incident_id = keep.id
    if other.priority < keep.priority:
        keep.priority = other.priority
    if keep.status == IncidentStatus.NEW and other.status != IncidentStatus.NEW:
        await transition(
            session,
            bus,
            keep,
            IncidentStatus.VERIFIED.value,
            actor_id=actor_id,
            reason=f"merged with verified incident #{other.id}",
            now=now,
        )
    other.merged_into_id = keep.id
    await transition(
        session,
        bus,
        other,
        IncidentStatus.CANCELLED.value,
        actor_id=actor_id,
        reason=reason or f"merged into #{keep.id}",
        data={"merged_into_id": keep.id},
        now=now,
    )
    keep.updated_at = now
    audit.record(
        session,
        "incident",
        keep.id,
        "merged",
        from_state=keep.status,
        to_state=keep.status,
        actor_id=actor_id,
        reason=reason,
        data={"other_incident_id": other.id, "report_ids": [r.id for r in moved]},
        at=now,
    )
    await announce_incident(session, bus, keep)
    return keep


async def split(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    incident_id: int,
    report_ids: list[int],
    actor_id: int | None,
    reason: str | None = None,
) -> Incident:
    """Move some reports of an incident to a new incident (they were about something else)."""
    now = utcnow()
    incident = await locked_incident(session, incident_id)
    if incident.status in FINAL:
        raise Conflict(
            f"incident {incident.id} is {incident.status}",
            code="invalid_transition",
            details={"status": incident.status},
        )
    reports = {r.id: r for r in await repo.reports_of_incident(session, incident.id)}
    wanted = sorted(set(report_ids))
    strangers = [rid for rid in wanted if rid not in reports]
    if strangers:
        raise InvalidInput(
            "these reports are not linked to the incident",
            code="report_not_in_incident",
            details={"report_ids": strangers},
        )
    remaining = [
        r for rid, r in reports.items() if rid not in wanted and r.status in repo.LIVE_REPORT_STATUSES
    ]
    if incident.source == "report" and not remaining:
        raise InvalidInput("at least one report must stay with the incident", code="would_empty_incident")
    first = reports[wanted[0]]
    created = await create_incident(
        session,
        bus,
        category=first.category,
        priority=await category_priority(session, first.category),
        source="report",
        lat=first.lat,
        lon=first.lon,
        description=first.description,
        address=first.address,
        reporter_id=first.citizen_id,
        actor_id=actor_id,
        reason=reason or f"split from #{incident.id}",
        data={"split_from": incident.id},
        now=now,
        settings=settings,
    )
    for rid in wanted:
        reports[rid].incident_id = created.id
    if incident.status != IncidentStatus.NEW:
        await transition(
            session,
            bus,
            created,
            IncidentStatus.VERIFIED.value,
            actor_id=actor_id,
            reason=f"split from verified incident #{incident.id}",
            now=now,
        )
    incident.updated_at = now
    audit.record(
        session,
        "incident",
        incident.id,
        "split",
        from_state=incident.status,
        to_state=incident.status,
        actor_id=actor_id,
        reason=reason,
        data={"new_incident_id": created.id, "report_ids": wanted},
        at=now,
    )
    await announce_incident(session, bus, incident)
    await announce_incident(session, bus, created)
    return created


# --- officer SOS -------------------------------------------------------------------------------------------


async def officer_sos(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    officer_id: int,
    badge: str,
    lat: float,
    lon: float,
) -> Incident:
    """A priority-1 incident at the officer in distress; pressing again moves the open one."""
    now = utcnow()
    open_one = await session.scalar(
        select(Incident)
        .where(
            Incident.source == "officer_sos",
            Incident.status.not_in([s.value for s in FINAL]),
            Incident.data["officer_id"].as_integer() == officer_id,
        )
        .with_for_update()
        .limit(1)
    )
    if open_one is not None:
        move_incident(open_one, lat, lon, now)
        audit.record(
            session,
            "incident",
            open_one.id,
            "moved",
            from_state=open_one.status,
            to_state=open_one.status,
            reason="officer pressed SOS again",
            data={"lat": lat, "lon": lon},
            at=now,
        )
        await announce_incident(session, bus, open_one)
        return open_one
    return await create_incident(
        session,
        bus,
        category="officer_sos",
        priority=1,
        source="officer_sos",
        lat=lat,
        lon=lon,
        description=f"Officer {badge} pressed SOS",
        data={"officer_id": officer_id, "badge": badge},
        reason="officer distress",
        now=now,
        settings=settings,
    )


def officer_distress_hook(rt: Runtime) -> Callable[[Any, Any], Any]:
    async def on_officer_distress(dev: Any, fix: Any) -> None:
        lat, lon = fix.lat, fix.lon
        if lat is None or lon is None:
            last = rt.index.get(dev.officer_id)
            if last is None:
                log.warning(
                    "officer SOS without any position: no incident created", officer_id=dev.officer_id
                )
                return
            lat, lon = last.lat, last.lon
        async for session in session_scope(rt.sessions):
            await officer_sos(session, rt.bus, rt.settings, dev.officer_id, dev.badge, lat, lon)

    return on_officer_distress


# --- nearest, batch, KPIs ----------------------------------------------------------------------------------


async def nearest_for(
    session: AsyncSession, index: ResponderIndex, settings: Settings, lat: float, lon: float, k: int
) -> dict[str, Any]:
    found = responders.search(index, settings, lat, lon, k, None, None)
    names = await responders.officer_names(session, [c.officer_id for c in found.candidates])
    return {
        "items": [responders.candidate_dict(c, names) for c in found.candidates],
        "shortfall_reason": found.shortfall_reason,
    }


async def stats(session: AsyncSession, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    since, until = timerange.window(
        since, until, default=timedelta(days=7), max_span=MAX_STATS_SPAN, what="a statistics window"
    )
    return {"since": since.isoformat(), "until": until.isoformat(), **await repo.stats(session, since, until)}


async def timeline(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    await get_incident(session, incident_id)
    offers = [o.id for o in await repo.offers_of_incident(session, incident_id)]
    reports = [r.id for r in await repo.reports_of_incident(session, incident_id)]
    rows = [
        *await audit.entries(session, "incident", [incident_id]),
        *await audit.entries(session, "offer", offers),
        *await audit.entries(session, "report", reports),
    ]
    rows.sort(key=lambda e: (e.at, e.id))
    return [audit.AuditEntryOut.model_validate(e).model_dump(mode="json") for e in rows]


async def snapshot_incidents(session: AsyncSession) -> SnapshotPart:
    """What the live map shows on connect: every open incident."""
    return SnapshotPart(await incident_views(session, await repo.open_incidents(session)))
