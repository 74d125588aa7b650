"""Incident intake: a citizen's report becomes (part of) an incident.

A new report is linked at once to an open incident of its category nearby (``duplicate_radius_m``,
``duplicate_window_s``); otherwise it waits, ``received``, for a dispatcher. Verifying creates the
incident (or links it to one that has appeared meanwhile); rejecting closes the report, and a false
report is recorded as a ``false_report`` fact for the abuse rules. Flushes, never commits; announcements
go out after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.abuse.service import account_record
from jogo_dispatch.dispatch import announce, views
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch import service as incidents
from jogo_dispatch.dispatch.lifecycle import FINAL, IncidentStatus
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.dispatch.schemas import EvidenceOut, ReporterRecord
from jogo_dispatch.errors import Conflict, NotFound
from jogo_dispatch.geo.cells import disk_covering_m
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import photos
from jogo_dispatch.reports import repository as reports_repo
from jogo_dispatch.reports import service as reports
from jogo_dispatch.reports.models import Report
from jogo_dispatch.reports.schemas import ReportDetailOut, ReportIn
from jogo_dispatch.runtime import ReportHook
from jogo_dispatch.settings import Settings

# --- duplicates --------------------------------------------------------------------------------------------


async def find_duplicate(
    session: AsyncSession, settings: Settings, category: str, lat: float, lon: float, now: datetime
) -> Incident | None:
    """The open incident a report of ``category`` at (lat, lon) belongs to, locked; None if there is none."""
    cells = disk_covering_m(lat, lon, settings.duplicate_radius_m)
    since = now - timedelta(seconds=settings.duplicate_window_s)
    for _ in range(3):
        found = await repo.open_duplicate(
            session, category, lat, lon, cells, settings.duplicate_radius_m, since
        )
        if found is None:
            return None
        incident = await repo.lock_incident(session, found)
        # It may have closed or been merged while we waited for the lock: look again.
        if incident is not None and incident.status not in FINAL and incident.merged_into_id is None:
            return incident
    return None


async def link_report(
    session: AsyncSession,
    bus: EventBus,
    report: Report,
    incident: Incident,
    actor_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    report.incident_id = incident.id
    incident.updated_at = now
    incidents.record_action(
        session,
        incident,
        "report_linked",
        actor_id=actor_id,
        reason=reason,
        data={"report_id": report.id},
        at=now,
    )
    await announce.announce_incident(session, bus, incident)


# --- a new report ------------------------------------------------------------------------------------------


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
    """File a report; one of the same category near an open incident is linked to it at once (returned)."""
    now = utcnow()
    report = await reports.new_report(
        session,
        citizen,
        data,
        photo=photo,
        device_id=device_id,
        user_agent=user_agent,
        client_ip=client_ip,
        now=now,
    )
    duplicate = await find_duplicate(session, settings, data.category, data.lat, data.lon, now)
    if duplicate is not None:
        await link_report(session, bus, report, duplicate, None, "duplicate: same category nearby", now)
    if photo is not None:
        await reports.store_photo(settings, photo)
    reports.announce_report(session, bus, report)
    return report, duplicate


# --- review ------------------------------------------------------------------------------------------------


async def _pending_report(
    session: AsyncSession, report_id: int, also_incident: int | None
) -> tuple[Report, dict[int, Incident]]:
    """The report, locked after its linked incident and ``also_incident`` (lock order: incidents by id,
    then the report, as merge and split do)."""
    seen = await reports_repo.report(session, report_id)
    if seen is None:
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    linked_id = seen.incident_id
    wanted = {i for i in (linked_id, also_incident) if i is not None}
    locked = {i.id: i for i in await repo.lock_incidents(session, wanted)} if wanted else {}
    report = await reports_repo.lock_report(session, report_id)
    assert report is not None
    if report.incident_id != linked_id:
        raise Conflict(
            "the report was moved to another incident meanwhile; try again", code="concurrent_change"
        )
    reports.ensure_pending(report)
    return report, locked


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
    run in this unit of work. 409 ``location_pending`` for a report not placed on the map yet."""
    now = utcnow()
    report, locked = await _pending_report(session, report_id, incident_id)
    if (await reports_repo.open311_extra(session, report.id))[1]:
        # filed with an address only: it stands at the region's centre until a dispatcher places it
        raise Conflict(
            f"report {report.id} has an address only: place it on the map first",
            code="location_pending",
            details={"place": f"/api/v1/open311/requests/{report.id}/place"},
        )
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
        target = await find_duplicate(session, settings, report.category, report.lat, report.lon, now)
    if target is None:
        target = await incidents.incident_from_report(
            session,
            bus,
            settings,
            report,
            actor_id=actor_id,
            reason=audit.Reason("from_report", "from report #{report_id}", report_id=report.id),
            data={"report_id": report.id},
            now=now,
        )
    if report.incident_id != target.id:
        await link_report(session, bus, report, target, actor_id, f"verified report #{report.id}", now)
        if linked is not None:
            await announce.announce_incident(session, bus, linked)  # its report count dropped
    reports.review(session, report, "verified", actor_id, None, note, now, {"incident_id": target.id})
    if target.status == IncidentStatus.NEW:
        await incidents.transition(
            session,
            bus,
            target,
            IncidentStatus.VERIFIED.value,
            actor_id=actor_id,
            reason=audit.Reason("report_verified", "report #{report_id} verified", report_id=report.id),
            now=now,
        )
    await announce.announce_incident(session, bus, target)
    for hook in hooks:
        await hook(session, report)
    reports.announce_report(session, bus, report)
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
    report = await reports_repo.lock_report(session, report_id)
    if report is None:
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    reports.ensure_pending(report)
    to = "false" if reason == "false" else "rejected"
    reports.review(session, report, to, actor_id, reason, note, now)
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
        linked = await repo.incident(session, report.incident_id)
        if linked is not None:
            await announce.announce_incident(session, bus, linked)
    if to == "false":
        for hook in hooks:
            await hook(session, report)
    reports.announce_report(session, bus, report)
    return report


async def unmark_false(
    session: AsyncSession,
    bus: EventBus,
    report_id: int,
    actor_id: int | None,
    reason: str | None,
    hooks: Sequence[ReportHook] = (),
) -> Report:
    """Withdraw a false marking: the report goes back to the verification queue (``received``) and its
    strike is removed through ``hooks`` (the abuse rules), in this same unit of work; audited."""
    now = utcnow()
    report = await reports_repo.lock_report(session, report_id)
    if report is None:
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    if report.status != "false":
        raise Conflict(
            f"report {report_id} is {report.status}, not marked false",
            code="report_not_false",
            details={"status": report.status},
        )
    reports.review(session, report, "received", actor_id, reason or "false marking withdrawn", None, now)
    report.reviewed_at = None
    audit.record(
        session,
        "citizen",
        report.citizen_id or 0,
        "false_report_withdrawn",
        actor_id=actor_id,
        reason=reason,
        at=now,
        data={"report_id": report.id},
    )
    await session.flush()
    for hook in hooks:
        await hook(session, report)
    reports.announce_report(session, bus, report)
    return report


async def evidence(
    session: AsyncSession, settings: Settings, viewer: Principal, report_id: int
) -> EvidenceOut:
    """The report with what a dispatcher weighs before verifying it: its photo, where the phone was (in
    the report), the reporter's record and the open incidents it may duplicate."""
    report = await reports.get_report(session, report_id, viewer)
    view = await reports.report_view(session, report, viewer)
    assert isinstance(view, ReportDetailOut)
    record = None
    if report.citizen_id is not None:
        counts = await reports_repo.report_counts_of_citizen(session, report.citizen_id)
        account = await account_record(session, report.citizen_id)
        record = ReporterRecord(
            reports=sum(counts.values()),
            verified=counts.get("verified", 0),
            rejected=counts.get("rejected", 0),
            false_reports=account.false_reports,
            strike_count=account.strike_count,
            blocked=account.blocked,
        )
    duplicates = await views.open_incidents_near(
        session,
        settings,
        report.category,
        report.lat,
        report.lon,
        report.created_at,
        excluding=report.incident_id,
        limit=5,
    )
    return EvidenceOut(
        report=view,
        reporter=record,
        duplicates=duplicates,
        photo_url=f"/api/v1/reports/{report.id}/photo" if report.photo_sha256 else None,
    )
