"""Citizens, their reports and SOS calls, and the dispatchers' verification queue.

A new report is linked at once to an open incident of its category nearby (``duplicate_radius_m``,
``duplicate_window_s``); otherwise it waits, ``received``, for a dispatcher. Verifying creates the
incident (or links it to one that has appeared meanwhile); rejecting closes the report, and a false
report is recorded as a ``false_report`` fact for the abuse rules. An SOS opens a priority-1 incident at
once. Flushes, never commits; announcements go out after commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.accounts.models import User
from jogo_dispatch.alerts.service import raise_alert
from jogo_dispatch.dispatch import repository as incidents_repo
from jogo_dispatch.dispatch import service as incidents
from jogo_dispatch.dispatch.lifecycle import FINAL, IncidentStatus
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.errors import Conflict, InvalidInput, NotFound
from jogo_dispatch.geo.cells import cells_for_point
from jogo_dispatch.geo.distance import geodesic_m
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import EventBus, ReportReceived
from jogo_dispatch.platform.security import Passwords, Principal
from jogo_dispatch.reports import photos
from jogo_dispatch.reports import repository as repo
from jogo_dispatch.reports.models import Category, Report, SosCall, SosPoint
from jogo_dispatch.reports.schemas import CitizenCreate, ReportIn, SosIn, SosLocationIn
from jogo_dispatch.settings import Settings

# Other domains' reactions to a review, run inside the same unit of work (strikes, reward points).
ReportHook = Callable[[AsyncSession, Report], Awaitable[None]]


def _clip(value: str | None, n: int) -> str | None:
    return value[:n] if value else None


# --- citizens ----------------------------------------------------------------------------------------------


async def register_citizen(session: AsyncSession, passwords: Passwords, data: CitizenCreate) -> User:
    """A citizen login; the username is the normalised phone number."""
    return await accounts.create_user(
        session,
        passwords,
        username=data.phone,
        password=data.password,
        role="citizen",
        full_name=data.name,
        phone=data.phone,
    )


# --- views -------------------------------------------------------------------------------------------------


def report_event(r: Report) -> dict[str, Any]:
    """The shape of the ``report`` event."""
    return {
        "id": r.id,
        "category": r.category,
        "status": r.status,
        "lat": r.lat,
        "lon": r.lon,
        "description": r.description,
        "created_at": r.created_at.isoformat(),
        "incident_id": r.incident_id,
    }


def report_dict(r: Report, incident_status: str | None = None) -> dict[str, Any]:
    """What the citizen sees of their own report."""
    return {
        **report_event(r),
        "address": r.address,
        "h3_r9": r.h3_r9,
        "h3_r7": r.h3_r7,
        "incident_status": incident_status,
        "has_photo": r.photo_sha256 is not None,
        "reviewed_at": r.reviewed_at.isoformat() if r.reviewed_at else None,
    }


def report_detail(
    r: Report, incident_status: str | None, reporter_phone: str | None, priority: int | None
) -> dict[str, Any]:
    """What a dispatcher sees: everything needed to judge and, for a hoax, to trace it."""
    return {
        **report_dict(r, incident_status),
        "priority": priority,
        "citizen_id": r.citizen_id,
        "reporter_phone": reporter_phone,
        "reporter_lat": r.reporter_lat,
        "reporter_lon": r.reporter_lon,
        "reporter_accuracy_m": r.reporter_accuracy_m,
        "reporter_distance_m": round(geodesic_m(r.lat, r.lon, r.reporter_lat, r.reporter_lon), 1),
        "device_id": r.device_id,
        "user_agent": r.user_agent,
        "client_ip": r.client_ip,
        "photo_sha256": r.photo_sha256,
        "photo_type": r.photo_type,
        "review_note": r.review_note,
        "reviewed_by": r.reviewed_by,
    }


def announce_report(session: AsyncSession, bus: EventBus, r: Report) -> None:
    payload = report_event(r)
    after_commit(session, lambda: bus.publish(ReportReceived(report=payload)))


# --- reports -----------------------------------------------------------------------------------------------


async def create_report(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    citizen: Principal,
    data: ReportIn,
    *,
    photo: photos.Photo | None,
    device_id: str | None,
    user_agent: str | None,
    client_ip: str | None,
) -> tuple[Report, Incident | None]:
    now = utcnow()
    if await repo.category(session, data.category) is None:
        raise InvalidInput(
            f"unknown category {data.category!r}",
            code="unknown_category",
            details={"categories": [c.code for c in await repo.categories(session)]},
        )
    r9, r7 = cells_for_point(data.lat, data.lon)
    report = Report(
        citizen_id=citizen.user_id,
        category=data.category,
        description=data.description,
        address=data.address,
        lat=data.lat,
        lon=data.lon,
        h3_r9=r9,
        h3_r7=r7,
        reporter_lat=data.reporter_lat,
        reporter_lon=data.reporter_lon,
        reporter_accuracy_m=data.reporter_accuracy_m,
        photo_sha256=photo.sha256 if photo else None,
        photo_type=photo.kind if photo else None,
        device_id=_clip(device_id, 128),
        user_agent=_clip(user_agent, 300),
        client_ip=_clip(client_ip, 64),
        status="received",
        created_at=now,
    )
    session.add(report)
    await session.flush()
    audit.record(
        session,
        "report",
        report.id,
        "created",
        to_state="received",
        actor_id=citizen.user_id,
        data={"category": data.category},
        at=now,
    )
    duplicate = await incidents.find_duplicate(session, settings, data.category, data.lat, data.lon, now)
    if duplicate is not None:
        await incidents.link_report(
            session, bus, report, duplicate, None, "duplicate: same category nearby", now
        )
    if photo is not None:
        # Written before commit: a rollback leaves an unreferenced file (content-addressed, harmless), while
        # writing after commit could leave a report whose photo never arrived.
        await asyncio.to_thread(photos.store, photo, settings.data_dir / "photos")
    announce_report(session, bus, report)
    return report, duplicate


async def my_reports(session: AsyncSession, citizen_id: int, limit: int = 200) -> list[dict[str, Any]]:
    return [
        report_dict(row.Report, row.incident_status)
        for row in await repo.reports_of_citizen(session, citizen_id, limit)
    ]


async def list_reports(session: AsyncSession, status: str | None, limit: int) -> list[dict[str, Any]]:
    return [
        report_detail(row.Report, row.incident_status, row.reporter_phone, row.priority)
        for row in await repo.queue(session, status, limit)
    ]


async def get_report(session: AsyncSession, report_id: int, viewer: Principal) -> Report:
    """A report as its author or a watcher may see it; anyone else gets a 404."""
    report = await repo.report(session, report_id)
    if report is None or (viewer.role == "citizen" and report.citizen_id != viewer.user_id):
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    return report


async def report_view(session: AsyncSession, report: Report) -> dict[str, Any]:
    incident = await incidents_repo.incident(session, report.incident_id) if report.incident_id else None
    reporter = await session.get(User, report.citizen_id) if report.citizen_id else None
    category = await session.get(Category, report.category)
    return report_detail(
        report,
        incident.status if incident else None,
        reporter.phone if reporter else None,
        category.default_priority if category else None,
    )


def photo_file(settings: Settings, report: Report) -> tuple[Path, str]:
    if report.photo_sha256 is None or report.photo_type is None:
        raise NotFound(f"report {report.id} has no photo", code="no_photo")
    path = photos.path_of(settings.data_dir / "photos", report.photo_sha256, report.photo_type)
    if not path.is_file():
        raise NotFound(f"the photo of report {report.id} is missing from storage", code="photo_missing")
    return path, photos.MEDIA_TYPES[report.photo_type]


async def _pending_report(
    session: AsyncSession, report_id: int, also_incident: int | None
) -> tuple[Report, dict[int, Incident]]:
    """The report, locked after its linked incident and ``also_incident`` (lock order: incidents by id,
    then the report, as merge and split do)."""
    seen = await repo.report(session, report_id)
    if seen is None:
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    linked_id = seen.incident_id
    wanted = {i for i in (linked_id, also_incident) if i is not None}
    locked = {i.id: i for i in await incidents_repo.lock_incidents(session, wanted)} if wanted else {}
    report = await repo.lock_report(session, report_id)
    assert report is not None
    if report.incident_id != linked_id:
        raise Conflict(
            "the report was moved to another incident meanwhile; try again", code="concurrent_change"
        )
    if report.status != "received":
        raise Conflict(
            f"report {report_id} is already {report.status}",
            code="report_not_pending",
            details={"status": report.status},
        )
    return report, locked


def _review(
    session: AsyncSession,
    report: Report,
    to: str,
    actor_id: int | None,
    reason: str | None,
    note: str | None,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    previous, report.status = report.status, to
    report.reviewed_at, report.reviewed_by, report.review_note = now, actor_id or None, note
    audit.record(
        session,
        "report",
        report.id,
        to,
        from_state=previous,
        to_state=to,
        actor_id=actor_id,
        reason=reason or note,
        data=data,
        at=now,
    )


async def verify(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    report_id: int,
    actor_id: int | None,
    incident_id: int | None = None,
    note: str | None = None,
    hooks: Sequence[ReportHook] = (),
) -> tuple[Report, Incident]:
    """The report is real. Its incident is, in order: the one the dispatcher names, the open one it is
    linked to, an open duplicate nearby, or a new one (verified at once). ``hooks`` (e.g. reward points)
    run in this unit of work."""
    now = utcnow()
    report, locked = await _pending_report(session, report_id, incident_id)
    linked = locked.get(report.incident_id) if report.incident_id is not None else None
    target: Incident | None = None
    if incident_id is not None:
        target = locked.get(incident_id)
        if target is None:
            raise NotFound(f"incident {incident_id} not found", code="incident_not_found")
        if target.status in FINAL:
            raise Conflict(
                f"incident {incident_id} is {target.status}",
                code="invalid_transition",
                details={"status": target.status},
            )
    elif linked is not None and linked.status not in FINAL:
        target = linked
    if target is None:
        target = await incidents.find_duplicate(
            session, settings, report.category, report.lat, report.lon, now
        )
    if target is None:
        target = await incidents.create_incident(
            session,
            bus,
            category=report.category,
            priority=await incidents.category_priority(session, report.category),
            source="report",
            lat=report.lat,
            lon=report.lon,
            description=report.description,
            address=report.address,
            reporter_id=report.citizen_id,
            actor_id=actor_id,
            reason=f"from report #{report.id}",
            data={"report_id": report.id},
            now=now,
        )
    if report.incident_id != target.id:
        await incidents.link_report(
            session, bus, report, target, actor_id, f"verified report #{report.id}", now
        )
        if linked is not None:
            await incidents.announce_incident(session, bus, linked)  # its report count dropped
    _review(session, report, "verified", actor_id, None, note, now, {"incident_id": target.id})
    if target.status == IncidentStatus.NEW:
        await incidents.transition(
            session,
            bus,
            target,
            IncidentStatus.VERIFIED.value,
            actor_id=actor_id,
            reason=f"report #{report.id} verified",
            now=now,
        )
    await incidents.announce_incident(session, bus, target)
    for hook in hooks:
        await hook(session, report)
    announce_report(session, bus, report)
    return report, target


async def reject(
    session: AsyncSession,
    bus: EventBus,
    report_id: int,
    actor_id: int | None,
    reason: str,
    note: str | None,
    hooks: Sequence[ReportHook] = (),
) -> Report:
    """Close a report: ``not_incident`` (genuine, nothing for us) or ``false`` (a false report, recorded as a
    ``false_report`` fact; the abuse rules hook in through ``hooks``, in this same unit of work)."""
    now = utcnow()
    report = await repo.lock_report(session, report_id)
    if report is None:
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    if report.status != "received":
        raise Conflict(
            f"report {report_id} is already {report.status}",
            code="report_not_pending",
            details={"status": report.status},
        )
    to = "false" if reason == "false" else "rejected"
    _review(session, report, to, actor_id, reason, note, now)
    if to == "false":
        audit.record(
            session,
            "citizen",
            report.citizen_id or 0,
            "false_report",
            actor_id=actor_id,
            reason=note,
            at=now,
            data={"report_id": report.id, "device_id": report.device_id, "client_ip": report.client_ip},
        )
    await session.flush()
    if report.incident_id is not None:
        linked = await incidents_repo.incident(session, report.incident_id)
        if linked is not None:
            await incidents.announce_incident(session, bus, linked)
    if to == "false":
        for hook in hooks:
            await hook(session, report)
    announce_report(session, bus, report)
    return report


# --- SOS ---------------------------------------------------------------------------------------------------


def _point(
    call: SosCall, lat: float, lon: float, accuracy_m: float | None, recorded_at: datetime, now: datetime
) -> SosPoint:
    return SosPoint(
        sos_id=call.id, lat=lat, lon=lon, accuracy_m=accuracy_m, recorded_at=recorded_at, received_at=now
    )


async def start_sos(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    citizen: Principal,
    data: SosIn,
    *,
    device_id: str | None,
    user_agent: str | None,
) -> tuple[dict[str, Any], bool]:
    """One press: a priority-1 incident at the caller, with the nearest available officers. Pressing again
    while the incident is open returns that SOS (and records the new position) instead of a second one."""
    now = utcnow()
    await repo.lock_citizen(session, citizen.user_id)
    call = await repo.open_sos_of_citizen(session, citizen.user_id)
    incident = await incidents.locked_incident(session, call.incident_id) if call is not None else None
    if incident is not None and incident.status in FINAL:  # closed while we waited for the lock
        call = incident = None
    created = call is None
    if call is None or incident is None:
        user = await session.get(User, citizen.user_id)
        who = (user.full_name or user.phone or user.username) if user else f"citizen {citizen.user_id}"
        incident = await incidents.create_incident(
            session,
            bus,
            category="sos",
            priority=1,
            source="sos",
            lat=data.lat,
            lon=data.lon,
            description=f"SOS from {who}",
            reporter_id=citizen.user_id,
            actor_id=citizen.user_id,
            data={"accuracy_m": data.accuracy_m},
            reason="citizen SOS",
            now=now,
        )
        call = SosCall(
            citizen_id=citizen.user_id,
            incident_id=incident.id,
            device_id=_clip(device_id, 128),
            user_agent=_clip(user_agent, 300),
            created_at=now,
            last_fix_at=now,
        )
        session.add(call)
        await session.flush()
    else:
        incidents.move_incident(incident, data.lat, data.lon, now)
        call.last_fix_at = now
    session.add(_point(call, data.lat, data.lon, data.accuracy_m, now, now))
    nearest = await incidents.nearest_for(
        session, index, settings, data.lat, data.lon, settings.sos_nearest_k
    )
    if created:
        incident.data = {
            **incident.data,
            "sos_id": call.id,
            "nearest_at_start": [
                {k: c[k] for k in ("officer_id", "distance_m", "eta_s")} for c in nearest["items"]
            ],
        }
        await raise_alert(
            session,
            bus,
            "citizen_sos",
            f"SOS: {incident.description}",
            incident_id=incident.id,
            lat=data.lat,
            lon=data.lon,
            data={"sos_id": call.id, "accuracy_m": data.accuracy_m, "nearest": nearest["items"]},
        )
    await incidents.announce_incident(session, bus, incident, extra={"nearest": nearest["items"]})
    return {
        "incident_id": incident.id,
        "sos_id": call.id,
        "status": incident.status,
        "created": created,
        "nearest": nearest["items"],
        "shortfall_reason": nearest["shortfall_reason"],
    }, created


async def sos_location(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    citizen: Principal,
    sos_id: int,
    data: SosLocationIn,
) -> dict[str, Any]:
    """The caller's phone keeps sending fixes: each is kept in the trail; the newest moves the incident."""
    now = utcnow()
    recorded_at = data.recorded_at.astimezone(UTC) if data.recorded_at else now
    if recorded_at > now + timedelta(seconds=settings.future_tolerance_s):
        raise InvalidInput("recorded_at is in the future", code="future")
    seen = await repo.sos_call(session, sos_id)
    if seen is None or seen.citizen_id != citizen.user_id:
        raise NotFound(f"SOS {sos_id} not found", code="sos_not_found")
    incident = await incidents.locked_incident(session, seen.incident_id)  # incident, then the call
    call = await repo.lock_sos_call(session, sos_id)
    assert call is not None
    if call.incident_id != incident.id:
        raise Conflict(
            "the SOS was merged into another incident meanwhile; try again", code="concurrent_change"
        )
    if incident.status in FINAL:
        raise Conflict(
            f"this SOS is over (incident {incident.status})",
            code="sos_closed",
            details={"incident_status": incident.status},
        )
    session.add(_point(call, data.lat, data.lon, data.accuracy_m, recorded_at, now))
    if call.last_fix_at is None or recorded_at >= call.last_fix_at:
        call.last_fix_at = recorded_at
        incidents.move_incident(incident, data.lat, data.lon, now)
        await incidents.announce_incident(session, bus, incident)
    await session.flush()
    return {
        "sos_id": call.id,
        "incident_id": incident.id,
        "status": incident.status,
        "lat": incident.lat,
        "lon": incident.lon,
        "points": await repo.trail_length(session, call.id),
    }


async def sos_view(session: AsyncSession, viewer: Principal, sos_id: int) -> dict[str, Any]:
    call = await repo.sos_call(session, sos_id)
    if call is None or (viewer.role == "citizen" and call.citizen_id != viewer.user_id):
        raise NotFound(f"SOS {sos_id} not found", code="sos_not_found")
    incident = await incidents_repo.incident(session, call.incident_id)
    return {
        "sos_id": call.id,
        "incident_id": call.incident_id,
        "status": incident.status if incident else None,
        "created_at": call.created_at.isoformat(),
        "trail": [
            {"lat": p.lat, "lon": p.lon, "accuracy_m": p.accuracy_m, "recorded_at": p.recorded_at.isoformat()}
            for p in await repo.trail(session, call.id)
        ],
    }
