"""Offers: an incident offered to one officer at a time, accepted, declined or left to expire, then handed
to the next nearest. Flushes, never commits. Expiry sweeps live in dispatch.expiry, batch assignment in
dispatch.batch.

Concurrency: every path locks the incident first, then the offer, then the officer (dispatch.repository).
Paths that lock an officer while holding an incident they may not wait on use SKIP LOCKED. Partial unique
indexes allow one pending or accepted offer per incident and per officer, so a lost race is a 409.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.alerts.service import raise_alert
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.announce import (
    announce_incident,
    announce_offer,
    message_officer,
    withdraw_message,
)
from jogo_dispatch.dispatch.lifecycle import FINAL, IncidentStatus, OfferStatus, check_transition
from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.dispatch.schemas import IncidentOut, OfferOut, OfferWithIncident
from jogo_dispatch.dispatch.service import locked_incident, record_action, set_offer_status, transition
from jogo_dispatch.dispatch.views import incident_views, unit_fields
from jogo_dispatch.errors import Conflict, NotFound
from jogo_dispatch.geo.distance import geodesic_m
from jogo_dispatch.geo.eta import eta_seconds
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.responders import service as responders
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking import service as tracking
from jogo_dispatch.tracking.models import Officer

log = structlog.get_logger(__name__)

OFFER_CANDIDATES = 10  # nearest officers looked at first, beyond those already tried
MAX_CANDIDATES = 100  # the responder index answers at most this many


def _offer_message(offer: Offer, incident: Incident) -> dict[str, Any]:
    brief = IncidentOut.of(incident, 0, units=[], shortfall=0).model_dump(
        mode="json", exclude={"report_count", "units", "shortfall"}
    )
    return {
        "type": "offer",
        "offer_id": offer.id,
        **OfferOut.model_validate(offer).model_dump(mode="json"),
        "incident": brief,
    }


async def try_offer(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    incident: Incident,
    officer_id: int,
    *,
    attempt: int,
    distance_m: float | None,
    eta_s: float | None,
    actor_id: int | None,
    now: datetime,
    wait: bool,
) -> Offer | str:
    """Offer ``incident`` (locked by the caller) to one officer, or say why not. ``wait=False`` skips an
    officer whose row another transaction holds instead of waiting for it."""
    officer = await repo.lock_officer(session, officer_id, skip_locked=not wait)
    if officer is None:
        return "officer_not_found" if wait else "officer_locked"
    if officer.status != "available":
        return f"officer_{officer.status}"
    if await repo.active_offer_for_officer(session, officer_id) is not None:
        return "officer_has_offer"
    offer = Offer(
        incident_id=incident.id,
        officer_id=officer_id,
        status=OfferStatus.PENDING.value,
        attempt=attempt,
        distance_m=distance_m,
        eta_s=eta_s,
        created_by=actor_id or None,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.offer_timeout_s),
    )
    try:
        async with session.begin_nested():
            session.add(offer)
            await session.flush()
    except IntegrityError as exc:
        # Backstop of the partial unique indexes; the locks above make this rare.
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        return (
            "officer_on_incident"
            if constraint == "uq_offers_active_incident_officer"
            else "officer_has_offer"
        )
    audit.record(
        session,
        "offer",
        offer.id,
        "created",
        to_state=offer.status,
        actor_id=actor_id,
        data={
            "incident_id": incident.id,
            "officer_id": officer_id,
            "attempt": attempt,
            "distance_m": distance_m,
            "eta_s": eta_s,
        },
        at=now,
    )
    announce_offer(session, bus, offer)
    message_officer(session, bus, officer_id, _offer_message(offer, incident))
    return offer


def distance_to(
    index: ResponderIndex, settings: Settings, incident: Incident, officer_id: int
) -> tuple[float | None, float | None]:
    r = index.get(officer_id)
    if r is None:
        return None, None
    d = geodesic_m(incident.lat, incident.lon, r.lat, r.lon)
    return d, eta_seconds(d, r.unit_type, settings.speeds_mps, settings.detour_factor)


async def offer_nearest(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    incident: Incident,
    *,
    attempt: int,
    actor_id: int | None,
    now: datetime,
    exclude: frozenset[int] = frozenset(),
) -> tuple[Offer | None, str]:
    """Offer to the nearest available, online officer not yet offered this incident (nor in ``exclude``).
    The search widens (up to the index's limit of 100) while the nearest ones are all engaged elsewhere."""
    tried = await repo.officers_offered(session, incident.id) | exclude
    considered = set(tried)
    k = min(MAX_CANDIDATES, OFFER_CANDIDATES + len(tried))
    while True:
        found = responders.search(index, settings, incident.lat, incident.lon, k, None, None)
        fresh = [c for c in found.candidates if c.officer_id not in considered]
        engaged = await repo.officers_with_active_offers(session, [c.officer_id for c in fresh])
        for c in fresh:
            considered.add(c.officer_id)
            if c.officer_id in engaged:
                continue
            result = await try_offer(
                session,
                bus,
                settings,
                incident,
                c.officer_id,
                attempt=attempt,
                distance_m=c.distance_m,
                eta_s=c.eta_s,
                actor_id=actor_id,
                now=now,
                wait=False,
            )
            if isinstance(result, Offer):
                return result, ""
        if len(found.candidates) < k or k >= MAX_CANDIDATES:
            break
        k = min(MAX_CANDIDATES, k * 3)
    if len(considered) > 0:
        return None, "all_candidates_tried_or_engaged"
    return None, found.shortfall_reason or "none_available"


async def dispatch(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    incident_id: int,
    officer_id: int | None,
    actor_id: int | None,
) -> Offer:
    """Offer the incident to ``officer_id``, or to the nearest available officer. A ``new`` incident is
    verified by this (the dispatcher chose to send someone)."""
    now = utcnow()
    incident = await locked_incident(session, incident_id)
    if incident.status in FINAL:
        check_transition(incident.status, IncidentStatus.DISPATCHED.value)  # raises invalid_transition
    active = await repo.active_offers_for_incident(session, incident.id)
    mine = next((o for o in active if o.officer_id == officer_id), None)
    if mine is not None:
        raise Conflict(
            f"officer {officer_id} is on incident {incident_id} already",
            code="already_assigned",
            details={"offer_id": mine.id, "officer_id": officer_id, "status": mine.status},
        )
    # Sending one more unit than planned: the incident needs it now.
    incident.units_needed = max(incident.units_needed, len(active) + 1)
    if incident.status == IncidentStatus.NEW:
        await transition(
            session,
            bus,
            incident,
            IncidentStatus.VERIFIED.value,
            actor_id=actor_id,
            reason=audit.Reason("verified_by_dispatch", "verified by dispatch"),
            now=now,
        )
    if officer_id is not None:
        distance_m, eta_s = distance_to(index, settings, incident, officer_id)
        result = await try_offer(
            session,
            bus,
            settings,
            incident,
            officer_id,
            attempt=1,
            distance_m=distance_m,
            eta_s=eta_s,
            actor_id=actor_id,
            now=now,
            wait=True,
        )
        if result == "officer_not_found":
            raise NotFound(f"officer {officer_id} not found", code="officer_not_found")
        if result == "officer_on_incident":
            raise Conflict(
                f"officer {officer_id} is on incident {incident_id} already", code="already_assigned"
            )
        if not isinstance(result, Offer):
            raise Conflict(
                f"officer {officer_id} cannot take an offer now",
                code="officer_unavailable",
                details={"reason": result},
            )
        return result
    offer, why = await offer_nearest(
        session, bus, index, settings, incident, attempt=1, actor_id=actor_id, now=now
    )
    if offer is None:
        raise Conflict(
            "no available officer to offer this incident to", code="no_responder", details={"reason": why}
        )
    return offer


async def _own_offer(session: AsyncSession, offer_id: int, officer_id: int | None) -> tuple[Incident, Offer]:
    """The officer's own offer, locked with its incident (incident first). Someone else's is a 404."""
    found = await repo.offer(session, offer_id)
    if found is None or officer_id is None or found.officer_id != officer_id:
        raise NotFound(f"offer {offer_id} not found", code="offer_not_found")
    incident = await locked_incident(session, found.incident_id)
    offer = await repo.lock_offer(session, offer_id)
    assert offer is not None
    return incident, offer


def _must_be_pending(offer: Offer) -> None:
    if offer.status != OfferStatus.PENDING:
        raise Conflict(
            f"offer {offer.id} is {offer.status}", code="offer_not_pending", details={"status": offer.status}
        )


async def accept(
    session: AsyncSession, bus: EventBus, offer_id: int, officer_id: int | None, actor_id: int | None
) -> tuple[Offer, Incident]:
    """The officer takes the incident: the incident is dispatched (acknowledged now, dispatched when the
    offer was made) and the officer becomes busy. Past the deadline the offer cannot be accepted any more,
    even if no sweep has claimed it yet."""
    now = utcnow()
    incident, offer = await _own_offer(session, offer_id, officer_id)
    _must_be_pending(offer)
    if offer.expires_at <= now:
        raise Conflict(
            f"offer {offer.id} expired at {offer.expires_at.isoformat()}",
            code="offer_expired",
            details={"expires_at": offer.expires_at.isoformat()},
        )
    await set_offer_status(session, bus, offer, OfferStatus.ACCEPTED, actor_id, None, now)
    if incident.status == IncidentStatus.VERIFIED:  # the first unit
        incident.officer_id = offer.officer_id
        incident.dispatched_at = offer.created_at
        await transition(
            session,
            bus,
            incident,
            IncidentStatus.DISPATCHED.value,
            actor_id=actor_id,
            reason=audit.Reason("offer_accepted", "offer accepted"),
            data={"offer_id": offer.id, "officer_id": offer.officer_id},
            now=now,
        )
    else:  # one more unit on an incident that has one
        record_action(
            session,
            incident,
            "unit_added",
            actor_id=actor_id,
            reason=audit.Reason("offer_accepted", "offer accepted"),
            data={"offer_id": offer.id, "officer_id": offer.officer_id},
            at=now,
        )
        await announce_incident(session, bus, incident)
    await repo.lock_officer(session, offer.officer_id)
    await tracking.set_status(session, bus, offer.officer_id, "busy")
    return offer, incident


async def decline(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    offer_id: int,
    officer_id: int | None,
    actor_id: int | None,
    reason: str | None,
) -> tuple[Offer, Offer | None]:
    """Decline; the next nearest officer gets the offer. Also allowed just past the deadline: the outcome
    is the same as expiry, only sooner."""
    now = utcnow()
    incident, offer = await _own_offer(session, offer_id, officer_id)
    _must_be_pending(offer)
    await set_offer_status(session, bus, offer, OfferStatus.DECLINED, actor_id, reason, now)
    return offer, await advance(session, bus, index, settings, incident, offer, now)


async def cancel(
    session: AsyncSession, bus: EventBus, offer_id: int, actor_id: int | None, reason: str | None
) -> Offer:
    """A dispatcher withdraws a pending offer (to send someone else); nothing is offered automatically."""
    now = utcnow()
    found = await repo.offer(session, offer_id)
    if found is None:
        raise NotFound(f"offer {offer_id} not found", code="offer_not_found")
    await locked_incident(session, found.incident_id)
    offer = await repo.lock_offer(session, offer_id)
    assert offer is not None
    _must_be_pending(offer)
    await set_offer_status(session, bus, offer, OfferStatus.CANCELLED, actor_id, reason or "withdrawn", now)
    withdraw_message(session, bus, offer)
    return offer


async def advance(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    incident: Incident,
    previous: Offer,
    now: datetime,
) -> Offer | None:
    """After a decline or expiry: the next nearest officer not yet tried, or an alert to the dispatchers
    once the attempts are used up (or nobody is left)."""
    if incident.status in FINAL or (await unit_fields(session, [incident]))[incident.id]["shortfall"] <= 0:
        return None
    attempt = previous.attempt + 1
    offer: Offer | None = None
    why = "max_attempts"
    if attempt <= settings.offer_max_attempts:
        offer, why = await offer_nearest(
            session, bus, index, settings, incident, attempt=attempt, actor_id=None, now=now
        )
    if offer is None:
        await raise_alert(
            session,
            bus,
            "offer_exhausted",
            f"Incident #{incident.id} ({incident.category}) was offered {previous.attempt} time(s); "
            "nobody took it",
            incident_id=incident.id,
            lat=incident.lat,
            lon=incident.lon,
            data={"attempts": previous.attempt, "reason": why, "priority": incident.priority},
        )
        record_action(
            session,
            incident,
            "offer_exhausted",
            reason=why,
            data={"attempts": previous.attempt},
            at=now,
        )
    return offer


async def of_officer(session: AsyncSession, officer_id: int, statuses: list[str]) -> list[OfferWithIncident]:
    offers = await repo.offers_of_officer(session, officer_id, statuses)
    found = await incident_views(
        session, await repo.incidents_by_ids(session, {o.incident_id for o in offers})
    )
    views = {v.id: v for v in found}
    return [with_incident(o, views[o.incident_id]) for o in offers]


def with_incident(offer: Offer, incident: IncidentOut) -> OfferWithIncident:
    return OfferWithIncident.model_validate(
        {**OfferOut.model_validate(offer).model_dump(), "incident": incident}
    )


async def officer_user_id(session: AsyncSession, officer_id: int) -> int | None:
    return await session.scalar(select(Officer.user_id).where(Officer.id == officer_id))
