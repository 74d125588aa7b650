"""The incident desk: calls taken by a call-taker (a 110 call, the radio, someone at the counter) or started
by an officer on view, narrative notes, edits that must not overwrite what the editor has not seen, and
giving an incident to an officer directly (by radio, for officers whose tracker app takes no offers).
Flushes, never commits; whatever is announced goes out after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch import views
from jogo_dispatch.dispatch.announce import (
    announce_incident,
    announce_offer,
    message_officer,
    withdraw_message,
)
from jogo_dispatch.dispatch.lifecycle import FINAL, IncidentStatus, OfferStatus
from jogo_dispatch.dispatch.models import Incident, IncidentNote, Offer
from jogo_dispatch.dispatch.offers import distance_to
from jogo_dispatch.dispatch.schemas import (
    AssignIn,
    IncidentCreatedOut,
    IncidentCreateIn,
    IncidentPatchIn,
    NoteOut,
)
from jogo_dispatch.dispatch.service import (
    category_priority,
    create_incident,
    incident_sector,
    locked_incident,
    move_incident,
    record_action,
    set_offer_status,
    transition,
    unit_progress,
    visible_incident,
)
from jogo_dispatch.errors import Conflict, Forbidden, InvalidInput, NotFound
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import EventBus, IncidentNoted
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import repository as reports_repo
from jogo_dispatch.reports.models import Category
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking import service as tracking

WAITING = (IncidentStatus.NEW.value, IncidentStatus.VERIFIED.value)
LINK_CANDIDATES = 5


async def _category(session: AsyncSession, code: str) -> Category:
    category = await session.get(Category, code)
    if category is None or not category.active:
        raise InvalidInput(
            f"unknown category {code!r}", code="unknown_category", details={"see": "GET /api/v1/categories"}
        )
    return category


# --- call-taking and on-view ---------------------------------------------------------------------------------


async def take_call(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    who: Principal,
    data: IncidentCreateIn,
) -> IncidentCreatedOut:
    """A ``verified`` incident from a call, with the nearest responders and the open incidents of its
    category nearby (to link instead). An officer's own incident (on view) is theirs at once, on scene."""
    now = utcnow()
    category = await _category(session, data.category)
    source = data.source
    if who.role == "officer":
        if who.officer_id is None:
            raise Forbidden("this login is not linked to an officer", code="not_an_officer")
        source = "officer"
    caller = {k: v for k, v in (("name", data.caller_name), ("phone", data.caller_phone)) if v}
    incident = await create_incident(
        session,
        bus,
        settings,
        category=category.code,
        priority=data.priority or category.default_priority,
        source=source,
        lat=data.lat,
        lon=data.lon,
        description=data.narrative or "",
        address=data.address,
        actor_id=who.user_id,
        data={"caller": caller} if caller else {},
        reason=audit.Reason("taken_at_desk", "taken at the desk ({source})", source=source)
        if who.role != "officer"
        else audit.Reason("on_view", "on view"),
        now=now,
    )
    await transition(
        session,
        bus,
        incident,
        IncidentStatus.VERIFIED.value,
        actor_id=who.user_id,
        reason=audit.Reason("taken", "taken"),
        now=now,
    )
    if who.role == "officer" and who.officer_id is not None:
        await assign_directly(
            session,
            bus,
            index,
            settings,
            incident,
            who.officer_id,
            who.user_id,
            "on view",
            now,
            on_scene=True,
        )
    candidates = await views.open_incidents_near(
        session,
        settings,
        incident.category,
        incident.lat,
        incident.lon,
        now,
        excluding=incident.id,
        limit=LINK_CANDIDATES,
    )
    detail = await views.incident_detail(session, index, settings, incident)
    return IncidentCreatedOut.model_validate(
        {
            **detail.model_dump(exclude_unset=True),
            "link_candidates": candidates,
        }
    )


# --- giving an incident to an officer directly ----------------------------------------------------------------


async def assign_directly(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    incident: Incident,
    officer_id: int,
    actor_id: int | None,
    reason: str,
    now: datetime,
    *,
    on_scene: bool = False,
) -> Offer:
    """``officer_id`` becomes a unit on the incident (locked by the caller) without an offer to answer: an
    accepted offer is recorded (its CAD times and release work as for any other; an offer made to this
    officer is accepted on their behalf), pending offers to others beyond what the incident needs are
    withdrawn, the officer becomes busy and hears of it on the phone. The first unit dispatches the
    incident; a further one is added to it."""
    if incident.status in FINAL:
        raise Conflict(
            f"incident {incident.id} is {incident.status}",
            code="invalid_transition",
            details={"status": incident.status},
        )
    active = await repo.active_offers_for_incident(session, incident.id)
    mine = next((o for o in active if o.officer_id == officer_id), None)
    if mine is not None and mine.status == OfferStatus.ACCEPTED:
        raise Conflict(
            f"officer {officer_id} is on incident {incident.id} already",
            code="already_assigned",
            details={"offer_id": mine.id, "officer_id": officer_id},
        )
    officer = await repo.lock_officer(session, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id} not found", code="officer_not_found")
    if officer.status != "available":
        raise Conflict(
            f"officer {officer_id} is {officer.status}",
            code="officer_unavailable",
            details={"status": officer.status},
        )
    elsewhere = await repo.active_offer_for_officer(session, officer_id)
    if elsewhere is not None and elsewhere.incident_id != incident.id:
        raise Conflict(
            f"officer {officer_id} holds incident {elsewhere.incident_id}",
            code="officer_busy",
            details={"incident_id": elsewhere.incident_id, "offer_id": elsewhere.id},
        )
    first = incident.status in WAITING
    if mine is not None:
        offer = mine
        await set_offer_status(session, bus, offer, OfferStatus.ACCEPTED, actor_id, reason, now)
    else:
        distance_m, eta_s = distance_to(index, settings, incident, officer_id)
        offer = Offer(
            incident_id=incident.id,
            officer_id=officer_id,
            status=OfferStatus.ACCEPTED.value,
            attempt=1,
            distance_m=distance_m,
            eta_s=eta_s,
            created_by=actor_id or None,
            created_at=now,
            expires_at=now,
            responded_at=now,
        )
        session.add(offer)
        await session.flush()
        audit.record(
            session,
            "offer",
            offer.id,
            "assigned",
            to_state=offer.status,
            actor_id=actor_id,
            reason=reason,
            data={"incident_id": incident.id, "officer_id": officer_id, "distance_m": distance_m},
            at=now,
        )
        announce_offer(session, bus, offer)
        active.append(offer)
    # Pending offers to others beyond what the incident needs are off (newest first).
    spare = len(active) - max(incident.units_needed, sum(o.status == OfferStatus.ACCEPTED for o in active))
    for other in sorted((o for o in active if o.status == OfferStatus.PENDING), key=lambda o: -o.id)[
        : max(0, spare)
    ]:
        await set_offer_status(session, bus, other, OfferStatus.CANCELLED, actor_id, reason, now)
        withdraw_message(session, bus, other)
    if first:
        incident.officer_id = officer_id
        incident.dispatched_at = now
        data = {"offer_id": offer.id, "officer_id": officer_id}
        await transition(
            session,
            bus,
            incident,
            IncidentStatus.DISPATCHED.value,
            actor_id=actor_id,
            reason=reason,
            data=data,
            now=now,
        )
    else:
        incident.units_needed = max(
            incident.units_needed, sum(o.status == OfferStatus.ACCEPTED for o in active)
        )
        record_action(
            session,
            incident,
            "unit_added",
            actor_id=actor_id,
            reason=reason,
            data={"offer_id": offer.id, "officer_id": officer_id},
            at=now,
        )
        await announce_incident(session, bus, incident)
    await tracking.set_status(session, bus, officer_id, "busy")
    if on_scene:
        for step in (IncidentStatus.EN_ROUTE.value, IncidentStatus.ON_SCENE.value):
            await unit_progress(session, bus, incident, offer, step, actor_id, reason, now)
    view = (await views.incident_view(session, incident)).model_dump(mode="json")
    message_officer(
        session, bus, officer_id, {"type": "incident_assigned", "reason": reason, "incident": view}
    )
    return offer


async def assign(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    who: Principal,
    incident_id: int,
    data: AssignIn,
) -> Offer:
    """``POST /incidents/{id}/assign``: by radio, to an officer who may have no phone app."""
    incident = await locked_incident(session, incident_id)
    if incident.status == IncidentStatus.NEW.value:
        await transition(session, bus, incident, IncidentStatus.VERIFIED.value, actor_id=who.user_id)
    return await assign_directly(
        session,
        bus,
        index,
        settings,
        incident,
        data.officer_id,
        who.user_id,
        data.reason or "assigned by radio",
        utcnow(),
    )


# --- notes ------------------------------------------------------------------------------------------------------


async def add_note(
    session: AsyncSession, bus: EventBus, who: Principal, incident_id: int, text: str
) -> IncidentNote:
    """A note by a dispatcher, an officer on the incident, or an agency it was forwarded to (to anyone
    else the incident does not exist); listed with the incident, audited on its timeline, and shown live
    to the command centre and the agencies it was forwarded to."""
    incident = await visible_incident(session, who, incident_id)
    if who.role == "officer" and not await repo.officer_on(session, incident.id, who.officer_id):
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    if who.role == "citizen":
        raise Forbidden("citizens add to an incident through reports", code="wrong_role")
    user = await session.get(User, who.user_id)
    note = IncidentNote(
        incident_id=incident.id,
        author_id=who.user_id or None,
        author_role=who.role,
        author_name=(user.full_name or user.username) if user else None,
        text=text,
        created_at=utcnow(),
    )
    session.add(note)
    await session.flush()
    audit.record(
        session,
        "incident",
        incident.id,
        "note",
        from_state=incident.status,
        to_state=incident.status,
        actor_id=who.user_id or None,
        reason=text[:1000],
        data={"note_id": note.id, "author_role": who.role},
        at=note.created_at,
    )
    agencies = await reports_repo.agencies_forwarded(session, incident.id)
    payload = NoteOut.model_validate(note).model_dump(mode="json")
    after_commit(session, lambda: bus.publish(IncidentNoted(note=payload, agency_ids=agencies)))
    return note


# --- edits -------------------------------------------------------------------------------------------------------

EDITABLE = ("category", "priority", "address", "description")


async def edit(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    who: Principal,
    incident_id: int,
    patch: IncidentPatchIn,
) -> Incident:
    """``PATCH /incidents/{id}``: 409 ``stale_incident`` (with the incident as it is now) when it changed
    since the version the editor saw; otherwise the given fields change, audited field by field."""
    incident = await locked_incident(session, incident_id)
    if patch.version != incident.version:
        current = (await views.incident_view(session, incident)).model_dump(mode="json")
        raise Conflict(
            f"incident {incident_id} changed since version {patch.version} (now {incident.version})",
            code="stale_incident",
            details={"version": incident.version, "incident": current},
        )
    if incident.status in FINAL:
        raise Conflict(
            f"incident {incident_id} is {incident.status}",
            code="incident_closed",
            details={"status": incident.status},
        )
    given = patch.model_dump(exclude_unset=True)
    changes: dict[str, list[Any]] = {}
    if "category" in given and patch.category is not None and patch.category != incident.category:
        await _category(session, patch.category)
        if "priority" not in given:  # a new category brings its priority unless one is given
            given["priority"] = await category_priority(session, patch.category)
    now = utcnow()
    for name in EDITABLE:
        if name in given and given[name] is not None and given[name] != getattr(incident, name):
            changes[name] = [getattr(incident, name), given[name]]
            setattr(incident, name, given[name])
    if (
        patch.lat is not None
        and patch.lon is not None
        and (patch.lat, patch.lon) != (incident.lat, incident.lon)
    ):
        changes["location"] = [[incident.lat, incident.lon], [patch.lat, patch.lon]]
        move_incident(incident, patch.lat, patch.lon, now)
        sector = await incident_sector(session, settings, patch.lat, patch.lon)
        if sector != incident.sector:
            changes["sector"] = [incident.sector, sector]
            incident.sector = sector
    if not changes:
        return incident
    incident.updated_at = now
    audit.record(
        session,
        "incident",
        incident.id,
        "edited",
        from_state=incident.status,
        to_state=incident.status,
        actor_id=who.user_id or None,
        reason=patch.reason,
        data={"changes": changes, "version": patch.version},
        at=now,
    )
    await announce_incident(session, bus, incident)
    return incident
