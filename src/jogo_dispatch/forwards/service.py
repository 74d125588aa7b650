"""Forwarding incidents to agencies: who gets one, and a dispatcher's view and retry of them.

A dispatcher forwards an incident to the agencies named, or to the routing decision's targets (responsible,
always-notify, and hospitals when someone may be hurt). There is one forward per incident and agency:
forwarding again to an agency that has one is idempotent (the existing forward is returned unchanged; a
``failed`` one is queued for delivery again).

A forward's states are in ``forwards.lifecycle``, the agency's side in ``forwards.inbox``, an agency's logins
and delivery settings in ``forwards.agency_admin``; webhooks are sent by ``forwards.delivery``. Every change
is audited (entity ``forward``). Flushes, never commits.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies import service as agencies
from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.agencies.routing import RoutingDecision
from jogo_dispatch.dispatch import repository as incidents_repo
from jogo_dispatch.dispatch.lifecycle import FINAL
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.errors import AppError, Conflict, InvalidInput, NotFound
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards import sla
from jogo_dispatch.forwards.lifecycle import announce, check_move, record_change
from jogo_dispatch.forwards.models import Forward
from jogo_dispatch.forwards.schemas import (
    AgencyBrief,
    ForwardDetail,
    ForwardingOut,
    ForwardWithAgency,
    NoteOut,
)
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.audit import AuditEntryOut
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings


def _with_agency(f: Forward, a: Agency) -> ForwardWithAgency:
    return ForwardWithAgency.of(f, agency=AgencyBrief.model_validate(a))


async def _routed(
    session: AsyncSession, settings: Settings, incident: Incident, injured: bool
) -> RoutingDecision:
    """The routing decision; a category the pack does not route goes where ``other`` goes (the sector's
    police), with that as its first reason."""
    try:
        return await agencies.route_for(
            session, settings, incident.category, incident.lat, incident.lon, injured=injured
        )
    except AppError as exc:
        if exc.code != "unknown_category":
            raise
    decision = await agencies.route_for(
        session, settings, "other", incident.lat, incident.lon, injured=injured
    )
    why = f"{incident.category} has no routing of its own: routed as other"
    return dataclasses.replace(decision, reasons=[why, *decision.reasons])


def _plan(incident: Incident) -> tuple[str, list[str]]:
    """The incident's response plan's name and the agencies it forwards to (``data.plan``)."""
    plan = incident.data.get("plan") if isinstance(incident.data, dict) else None
    if not isinstance(plan, dict) or not isinstance(plan.get("forward_to"), list):
        return "", []
    return str(plan.get("name") or ""), [c for c in plan["forward_to"] if isinstance(c, str)]


async def _decided(
    session: AsyncSession, settings: Settings, incident: Incident, injured: bool | None
) -> tuple[dict[int, str], list[str]]:
    """The routing decision's agencies with their roles (responsible, always_notify, hospital), then the
    response plan's ``forward_to`` agencies not already among them (role ``plan``), and the reasons."""
    if injured is None:
        injured = bool(incident.data.get("injured")) or await repo.injured_reported(session, incident.id)
    decision = await _routed(session, settings, incident, injured)
    reasons = list(decision.reasons)
    roles: dict[int, str] = {}
    for role, targets in (
        ("responsible", decision.responsible),
        ("always_notify", decision.always_notify),
        ("hospital", decision.hospitals),
    ):
        for t in targets:
            if t.agency.id is not None:
                roles.setdefault(t.agency.id, role)
    name, codes = _plan(incident)
    planned = await repo.agencies_by_codes(session, settings.region, codes)
    if planned:
        reasons.append(f"response plan {name}: {', '.join(a.code for a in planned)}")
    for a in planned:
        if a.active:
            roles.setdefault(a.id, "plan")
    return roles, reasons


async def _targets(
    session: AsyncSession,
    settings: Settings,
    incident: Incident,
    agency_ids: list[int] | None,
    injured: bool | None,
) -> tuple[list[tuple[Agency, str]], list[str]]:
    """(agency, role) pairs to forward to, and why. Agencies named by the dispatcher keep the role the
    routing decision or the response plan gives them (the map pre-fills both); the others are ``manual``."""
    if not agency_ids:
        roles, reasons = await _decided(session, settings, incident, injured)
        found = {a.id: a for a in await repo.agencies_by_ids(session, list(roles))}
        return [(found[i], role) for i, role in roles.items() if i in found], reasons
    wanted = list(dict.fromkeys(agency_ids))
    found = {a.id: a for a in await repo.agencies_by_ids(session, wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(
            f"unknown agencies: {', '.join(map(str, missing))}",
            code="agency_not_found",
            details={"agency_ids": missing},
        )
    inactive = [i for i in wanted if not found[i].active]
    if inactive:
        raise InvalidInput(
            "these agencies are inactive", code="agency_inactive", details={"agency_ids": inactive}
        )
    try:
        roles, _ = await _decided(session, settings, incident, injured)
    except AppError:  # no routing for this place: every agency named is the dispatcher's own choice
        roles = {}
    return [(found[i], roles.get(i, "manual")) for i in wanted], ["agencies chosen by the dispatcher"]


async def forward_incident(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    incident_id: int,
    *,
    agency_ids: list[int] | None,
    note: str | None,
    injured: bool | None,
    actor_id: int | None,
    include_caller_phone: bool = False,
) -> ForwardingOut:
    """Forward an incident to the agencies named or, without any, to its routing targets. Returns every
    forward of those agencies (new and existing), which were ``created``, which were ``requeued`` (a failed
    forward is sent again) and the routing ``reasons``. With ``include_caller_phone`` the agencies get the
    caller's phone (kept on the forward; an open forward that had none gets it too)."""
    now = utcnow()
    incident = await incidents_repo.incident(session, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    if incident.status in FINAL:
        raise Conflict(
            f"incident {incident_id} is {incident.status}",
            code="incident_closed",
            details={"status": incident.status},
        )
    targets, reasons = await _targets(session, settings, incident, agency_ids, injured)
    if not targets:
        raise InvalidInput(
            "no agency to forward to: name agency_ids", code="no_targets", details={"reasons": reasons}
        )
    phone = await caller_phone(session, incident) if include_caller_phone else None
    rows = [
        {
            "incident_id": incident.id,
            "agency_id": a.id,
            "role": role,
            "delivery": a.delivery,
            "status": "sent" if a.delivery == "inbox" else "pending",
            "next_attempt_at": None if a.delivery == "inbox" else now,
            "sent_at": now if a.delivery == "inbox" else None,
            "note": note,
            "include_caller_phone": include_caller_phone,
            "caller_phone": phone,
            "created_by": actor_id or None,
            "created_at": now,
            "updated_at": now,
        }
        for a, role in targets
    ]
    created = await repo.insert_forwards(session, rows)
    codes = {a.id: a.code for a, _ in targets}
    for f in created:
        record_change(
            session,
            f,
            "created",
            None,
            actor_id,
            note,
            {"role": f.role, "delivery": f.delivery, "agency_code": codes.get(f.agency_id)},
            now,
        )
        announce(session, bus, f, codes.get(f.agency_id))
    created_ids = {f.id for f in created}
    requeued: list[int] = []
    for f, _ in await repo.forwards_of_incident(session, incident.id, list(codes)):
        if f.id not in created_ids and include_caller_phone and not f.include_caller_phone:
            await _share_phone(session, bus, f, phone, actor_id, now, codes.get(f.agency_id))
        if f.id not in created_ids and f.status == "failed":
            locked = await repo.forward(session, f.id, lock=True)
            if locked is not None and locked.status == "failed":
                await _requeue(session, bus, locked, actor_id, "forwarded again", now, codes.get(f.agency_id))
                requeued.append(f.id)
    await session.flush()
    return ForwardingOut(
        incident_id=incident.id,
        forwards=[
            _with_agency(f, a) for f, a in await repo.forwards_of_incident(session, incident.id, list(codes))
        ],
        created=sorted(created_ids),
        requeued=requeued,
        reasons=reasons,
    )


async def caller_phone(session: AsyncSession, incident: Incident) -> str | None:
    """The phone to call back: a call-taken or SOS incident's caller, else the citizen who reported it."""
    caller = incident.data.get("caller") if isinstance(incident.data, dict) else None
    if isinstance(caller, dict) and isinstance(caller.get("phone"), str) and caller["phone"]:
        return str(caller["phone"])
    return await repo.reporter_phone(session, incident)


async def _share_phone(
    session: AsyncSession,
    bus: EventBus,
    f: Forward,
    phone: str | None,
    actor_id: int | None,
    now: datetime,
    agency_code: str | None,
) -> None:
    """A dispatcher forwarding again with the caller's phone gives it to an open forward that had none."""
    locked = await repo.forward(session, f.id, lock=True)
    if locked is None or locked.status == "closed" or locked.include_caller_phone:
        return
    locked.include_caller_phone, locked.caller_phone, locked.updated_at = True, phone, now
    record_change(session, locked, "caller_phone_shared", locked.status, actor_id, at=now)
    announce(session, bus, locked, agency_code)


async def _requeue(
    session: AsyncSession,
    bus: EventBus,
    f: Forward,
    actor_id: int | None,
    reason: str,
    now: datetime,
    agency_code: str | None = None,
) -> None:
    check_move(f.status, "pending")
    previous = f.status
    f.status, f.attempts, f.next_attempt_at, f.updated_at = "pending", 0, now, now
    record_change(session, f, "requeued", previous, actor_id, reason, at=now)
    announce(session, bus, f, agency_code)


async def retry(session: AsyncSession, bus: EventBus, forward_id: int, actor_id: int | None) -> Forward:
    """A dispatcher sends a failed forward's webhook again (attempts start over)."""
    f = await repo.forward(session, forward_id, lock=True)
    if f is None:
        raise NotFound(f"forward {forward_id} not found", code="forward_not_found")
    if f.status != "failed":
        raise Conflict(
            f"forward {forward_id} is {f.status}; only a failed one is retried",
            code="invalid_transition",
            details={"from": f.status, "to": "pending"},
        )
    await _requeue(session, bus, f, actor_id, "retried by a dispatcher", utcnow())
    await session.flush()
    return f


async def of_incident(session: AsyncSession, settings: Settings, incident_id: int) -> list[ForwardDetail]:
    """Every forward of an incident, with its agency, notes, audit trail and acknowledgement due time."""
    if await incidents_repo.incident(session, incident_id) is None:
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    rows = await repo.forwards_of_incident(session, incident_id)
    ids = [f.id for f, _ in rows]
    slas = await sla.of(session, settings, {f.agency_id for f, _ in rows})
    notes: dict[int, list[NoteOut]] = {i: [] for i in ids}
    for n, author in await repo.notes(session, ids):
        notes[n.forward_id].append(NoteOut.of(n, author))
    history: dict[int, list[AuditEntryOut]] = {i: [] for i in ids}
    for e in await audit.entries(session, "forward", ids):
        history[e.entity_id].append(AuditEntryOut.model_validate(e))
    return [
        ForwardDetail.of(
            f,
            agency=AgencyBrief.model_validate(a),
            notes=notes[f.id],
            history=history[f.id],
            ack_due_at=slas.due(f),
        )
        for f, a in rows
    ]


def after_forwarding(session: AsyncSession, rt: Runtime) -> None:
    """New pending forwards: wake this process's delivery worker once they are committed."""
    after_commit(session, lambda: rt.forward_wakeup.set())
