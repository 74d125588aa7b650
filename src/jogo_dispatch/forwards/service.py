"""Forwarding incidents to agencies: who gets one, its state, the agency's answer, and agency logins.

A dispatcher forwards an incident to the agencies named, or to the routing decision's targets (responsible,
always-notify, and hospitals when someone may be hurt). There is one forward per incident and agency:
forwarding again to an agency that has one is idempotent (the existing forward is returned unchanged; a
``failed`` one is queued for delivery again).

States: ``pending`` (its webhook is not delivered yet) -> ``sent`` -> ``acknowledged`` -> ``closed``;
``pending`` -> ``failed`` after the last webhook attempt; an agency may acknowledge or close from any state
before ``closed``. Inbox-only agencies start at ``sent``: the inbox is the delivery. Every change is audited
(entity ``forward``); webhooks are sent by ``agencies.delivery``. Flushes, never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.accounts.models import User
from jogo_dispatch.agencies import service as agencies
from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.agencies.routing import RoutingDecision
from jogo_dispatch.dispatch import repository as incidents_repo
from jogo_dispatch.dispatch.lifecycle import FINAL
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.models import AgencyUser, Forward, ForwardNote
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import EventBus, ForwardChanged
from jogo_dispatch.platform.security import Passwords, Principal
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings

# Which states each state may move to (closed is final).
_NEXT: dict[str, frozenset[str]] = {
    "pending": frozenset({"sent", "failed", "acknowledged", "closed"}),
    "sent": frozenset({"acknowledged", "closed"}),
    "failed": frozenset({"pending", "acknowledged", "closed"}),
    "acknowledged": frozenset({"closed"}),
    "closed": frozenset(),
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in _NEXT.get(from_status, frozenset())


def check_move(from_status: str, to_status: str) -> None:
    if not can_move(from_status, to_status):
        raise Conflict(
            f"a forward cannot go from {from_status!r} to {to_status!r}",
            code="invalid_transition",
            details={"from": from_status, "to": to_status, "allowed": sorted(_NEXT.get(from_status, ()))},
        )


def backoff_s(settings: Settings, attempts: int) -> float:
    """Wait after the ``attempts``-th failed webhook attempt: base, 2 x base, 4 x base, ... up to the max."""
    wait = settings.forward_backoff_base_s * 2 ** max(0, attempts - 1)
    return float(min(settings.forward_backoff_max_s, wait))


# -- views ---------------------------------------------------------------------------------------------------


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def forward_dict(f: Forward, agency: Agency | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f.id,
        "incident_id": f.incident_id,
        "agency_id": f.agency_id,
        "role": f.role,
        "delivery": f.delivery,
        "status": f.status,
        "attempts": f.attempts,
        "failure_count": f.failure_count,
        "last_error": f.last_error,
        "next_attempt_at": _iso(f.next_attempt_at) if f.status == "pending" else None,
        "sent_at": _iso(f.sent_at),
        "acknowledged_at": _iso(f.acknowledged_at),
        "acknowledged_by": f.acknowledged_by,
        "closed_at": _iso(f.closed_at),
        "closed_by": f.closed_by,
        "ack_alerted_at": _iso(f.ack_alerted_at),
        "note": f.note,
        "created_by": f.created_by,
        "created_at": _iso(f.created_at),
        "updated_at": _iso(f.updated_at),
    }
    if agency is not None:
        out["agency"] = {
            "id": agency.id,
            "code": agency.code,
            "name": agency.name,
            "kind": agency.kind,
            "region": agency.region,
        }
    return out


def note_dict(n: ForwardNote) -> dict[str, Any]:
    return {
        "id": n.id,
        "forward_id": n.forward_id,
        "author_id": n.author_id,
        "text": n.text,
        "created_at": _iso(n.created_at),
    }


def incident_summary(i: Incident) -> dict[str, Any]:
    """What an agency sees of an incident (no reporter identity)."""
    return {
        "id": i.id,
        "category": i.category,
        "priority": i.priority,
        "status": i.status,
        "source": i.source,
        "description": i.description,
        "address": i.address,
        "lat": i.lat,
        "lon": i.lon,
        "sector": i.sector,
        "received_at": _iso(i.received_at),
        "verified_at": _iso(i.verified_at),
        "updated_at": _iso(i.updated_at),
    }


def _event(f: Forward, agency_code: str | None) -> dict[str, Any]:
    return {
        "id": f.id,
        "incident_id": f.incident_id,
        "agency_id": f.agency_id,
        "agency_code": agency_code,
        "status": f.status,
        "failure_count": f.failure_count,
    }


def announce(session: AsyncSession, bus: EventBus, f: Forward, agency_code: str | None = None) -> None:
    """A ``forward`` event after commit (no notes or errors: agencies watch the live feed too)."""
    payload = _event(f, agency_code)
    after_commit(session, lambda: bus.publish(ForwardChanged(forward=payload)))


def record_change(
    session: AsyncSession,
    f: Forward,
    action: str,
    from_state: str | None,
    actor_id: int | None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Audit a change of ``f`` (its state now is the ``to_state``)."""
    audit.record(
        session,
        "forward",
        f.id,
        action,
        from_state=from_state,
        to_state=f.status,
        actor_id=actor_id,
        reason=reason,
        data={"incident_id": f.incident_id, "agency_id": f.agency_id, **(data or {})},
        at=at,
    )


# -- forwarding ----------------------------------------------------------------------------------------------


async def _routed(
    session: AsyncSession, settings: Settings, incident: Incident, injured: bool
) -> RoutingDecision:
    try:
        return await agencies.route_for(
            session, settings, incident.category, incident.lat, incident.lon, injured=injured
        )
    except AppError as exc:
        if exc.code != "unknown_category":
            raise
    # SOS and categories a pack does not know go where "other" goes (the sector's police).
    return await agencies.route_for(session, settings, "other", incident.lat, incident.lon, injured=injured)


async def _targets(
    session: AsyncSession,
    settings: Settings,
    incident: Incident,
    agency_ids: list[int] | None,
    injured: bool | None,
) -> tuple[list[tuple[Agency, str]], list[str]]:
    """(agency, role) pairs to forward to, and why."""
    if agency_ids:
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
        return [(found[i], "manual") for i in wanted], ["agencies chosen by the dispatcher"]
    if injured is None:
        injured = bool(incident.data.get("injured")) or await repo.injured_reported(session, incident.id)
    decision = await _routed(session, settings, incident, injured)
    reasons = list(decision.reasons)
    if decision.category != incident.category:
        reasons.insert(0, f"{incident.category} has no routing of its own: routed as {decision.category}")
    roles: dict[int, str] = {}
    for role, targets in (
        ("responsible", decision.responsible),
        ("always_notify", decision.always_notify),
        ("hospital", decision.hospitals),
    ):
        for t in targets:
            if t.agency.id is not None:
                roles.setdefault(t.agency.id, role)
    found = {a.id: a for a in await repo.agencies_by_ids(session, list(roles))}
    return [(found[i], role) for i, role in roles.items() if i in found], reasons


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
) -> dict[str, Any]:
    """Forward an incident to the agencies named or, without any, to its routing targets. Returns every
    forward of those agencies (new and existing), which were ``created``, which were ``requeued`` (a failed
    forward is sent again) and the routing ``reasons``."""
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
        if f.id not in created_ids and f.status == "failed":
            locked = await repo.forward(session, f.id, lock=True)
            if locked is not None and locked.status == "failed":
                await _requeue(session, bus, locked, actor_id, "forwarded again", now, codes.get(f.agency_id))
                requeued.append(f.id)
    await session.flush()
    return {
        "incident_id": incident.id,
        "forwards": [
            forward_dict(f, a) for f, a in await repo.forwards_of_incident(session, incident.id, list(codes))
        ],
        "created": sorted(created_ids),
        "requeued": requeued,
        "reasons": reasons,
    }


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


async def of_incident(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    """Every forward of an incident, with its agency, notes and audit trail."""
    if await incidents_repo.incident(session, incident_id) is None:
        raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
    rows = await repo.forwards_of_incident(session, incident_id)
    ids = [f.id for f, _ in rows]
    by_forward: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for n in await repo.notes(session, ids):
        by_forward[n.forward_id].append(note_dict(n))
    history: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for e in await audit.entries(session, "forward", ids):
        history[e.entity_id].append(audit.entry_dict(e))
    return [{**forward_dict(f, a), "notes": by_forward[f.id], "history": history[f.id]} for f, a in rows]


# -- the agency's side ---------------------------------------------------------------------------------------


async def agency_of(session: AsyncSession, who: Principal) -> int:
    """The agency an ``agency`` login acts for (403 when the login is not linked to one)."""
    agency_id = await repo.agency_of_user(session, who.user_id)
    if agency_id is None:
        raise Forbidden(
            "this login is not linked to an agency (POST /api/v1/agencies/{id}/users)",
            code="not_agency_member",
        )
    return agency_id


async def _own(session: AsyncSession, who: Principal, forward_id: int, *, lock: bool) -> Forward:
    """A forward of the caller's agency; another agency's forward does not exist for them (404)."""
    agency_id = await agency_of(session, who)
    f = await repo.forward(session, forward_id, lock=lock)
    if f is None or f.agency_id != agency_id:
        raise NotFound(f"forward {forward_id} not found", code="forward_not_found")
    return f


INBOX_FILTERS: dict[str, tuple[str, ...] | None] = {
    "open": repo.OPEN_STATUSES,
    "unacknowledged": repo.UNACKNOWLEDGED,
    "all": None,
    **{s: (s,) for s in ("pending", "sent", "failed", "acknowledged", "closed")},
}


async def inbox(session: AsyncSession, who: Principal, status: str, limit: int) -> dict[str, Any]:
    agency_id = await agency_of(session, who)
    rows = await repo.inbox(session, agency_id, INBOX_FILTERS[status], limit)
    return {
        "agency_id": agency_id,
        "items": [{**forward_dict(f), "incident": incident_summary(i)} for f, i in rows],
    }


async def agency_view(session: AsyncSession, who: Principal, forward_id: int) -> dict[str, Any]:
    f = await _own(session, who, forward_id, lock=False)
    incident = await incidents_repo.incident(session, f.incident_id)
    assert incident is not None
    return {
        **forward_dict(f),
        "incident": incident_summary(incident),
        "notes": [note_dict(n) for n in await repo.notes(session, [f.id])],
    }


async def acknowledge(session: AsyncSession, bus: EventBus, who: Principal, forward_id: int) -> Forward:
    """The agency has seen it. Acknowledging again changes nothing; a closed forward answers 409."""
    f = await _own(session, who, forward_id, lock=True)
    if f.status == "acknowledged":
        return f
    check_move(f.status, "acknowledged")
    now, previous = utcnow(), f.status
    f.status, f.acknowledged_at, f.acknowledged_by, f.updated_at = "acknowledged", now, who.user_id, now
    record_change(session, f, "acknowledged", previous, who.user_id, at=now)
    await session.flush()
    announce(session, bus, f)
    return f


async def close(
    session: AsyncSession, bus: EventBus, who: Principal, forward_id: int, note: str | None
) -> Forward:
    """The agency is done with it (closing again changes nothing)."""
    f = await _own(session, who, forward_id, lock=True)
    if f.status == "closed":
        return f
    check_move(f.status, "closed")
    now, previous = utcnow(), f.status
    f.status, f.closed_at, f.closed_by, f.updated_at = "closed", now, who.user_id, now
    if note:
        session.add(ForwardNote(forward_id=f.id, author_id=who.user_id, text=note, created_at=now))
    record_change(session, f, "closed", previous, who.user_id, note, at=now)
    await session.flush()
    announce(session, bus, f)
    return f


async def add_note(session: AsyncSession, who: Principal, forward_id: int, text: str) -> ForwardNote:
    f = await _own(session, who, forward_id, lock=False)
    if f.status == "closed":
        raise Conflict(f"forward {forward_id} is closed", code="forward_closed")
    note = ForwardNote(forward_id=f.id, author_id=who.user_id, text=text, created_at=utcnow())
    session.add(note)
    await session.flush()
    audit.record(
        session,
        "forward",
        f.id,
        "note",
        from_state=f.status,
        to_state=f.status,
        actor_id=who.user_id,
        data={"incident_id": f.incident_id, "agency_id": f.agency_id, "note_id": note.id},
    )
    return note


# -- agencies (admin) ----------------------------------------------------------------------------------------


async def create_agency_user(
    session: AsyncSession,
    passwords: Passwords,
    agency_id: int,
    *,
    username: str,
    password: str,
    full_name: str | None,
    actor_id: int | None,
) -> tuple[User, Agency]:
    agency = await repo.agency(session, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} not found", code="agency_not_found")
    user = await accounts.create_user(
        session, passwords, username=username, password=password, role="agency", full_name=full_name
    )
    session.add(AgencyUser(user_id=user.id, agency_id=agency.id))
    await session.flush()
    audit.record(
        session,
        "agency",
        agency.id,
        "user_added",
        actor_id=actor_id,
        data={"user_id": user.id, "username": username},
    )
    return user, agency


async def agency_users(session: AsyncSession, agency_id: int) -> list[User]:
    if await repo.agency(session, agency_id) is None:
        raise NotFound(f"agency {agency_id} not found", code="agency_not_found")
    return await repo.users_of_agency(session, agency_id)


async def set_delivery(
    session: AsyncSession, agency_id: int, delivery: str, webhook_url: str | None, actor_id: int | None
) -> Agency:
    """How an agency receives new forwards. (Seeding its region pack again resets it to the pack's.)"""
    agency = await repo.agency(session, agency_id, lock=True)
    if agency is None:
        raise NotFound(f"agency {agency_id} not found", code="agency_not_found")
    if delivery != "inbox" and not webhook_url:
        raise InvalidInput(f"delivery {delivery} needs a webhook_url", code="webhook_url_required")
    before = {"delivery": agency.delivery, "webhook_url": agency.webhook_url}
    agency.delivery, agency.webhook_url = delivery, webhook_url
    await session.flush()
    audit.record(
        session,
        "agency",
        agency.id,
        "delivery",
        from_state=before["delivery"],
        to_state=delivery,
        actor_id=actor_id,
        data={"before": before, "after": {"delivery": delivery, "webhook_url": webhook_url}},
    )
    return agency


def after_forwarding(session: AsyncSession, rt: Runtime) -> None:
    """New pending forwards: wake this process's delivery worker once they are committed."""
    after_commit(session, lambda: rt.forward_wakeup.set())
