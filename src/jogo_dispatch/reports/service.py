"""Citizens' reports: filing one (the row, its photo), what the citizen and the dispatchers see of it, and
the review that closes it. Turning reports into incidents (verify, reject, duplicates) is dispatch's
intake (dispatch.intake), which calls the functions here. Flushes, never commits; announcements go out
after commit.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.errors import Conflict, InvalidInput, NotFound
from jogo_dispatch.geo.cells import cells_for_point
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import after_commit
from jogo_dispatch.platform.events import EventBus, ReportReceived
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import photos
from jogo_dispatch.reports import repository as repo
from jogo_dispatch.reports.models import Category, Report
from jogo_dispatch.reports.schemas import ReportDetailOut, ReportEventOut, ReportIn, ReportOut
from jogo_dispatch.settings import Settings


def clip(value: str | None, n: int) -> str | None:
    return value[:n] if value else None


# --- views -------------------------------------------------------------------------------------------------


def announce_report(session: AsyncSession, bus: EventBus, r: Report) -> None:
    payload = ReportEventOut.model_validate(r).model_dump(mode="json")
    after_commit(session, lambda: bus.publish(ReportReceived(report=payload)))


# --- filing -----------------------------------------------------------------------------------------------


async def new_report(
    session: AsyncSession,
    citizen: Principal,
    data: ReportIn,
    *,
    photo: photos.Photo | None,
    device_id: str | None,
    user_agent: str | None,
    client_ip: str | None,
    now: datetime,
) -> Report:
    """The report row, ``received`` and audited (dispatch.intake links it to an incident)."""
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
        device_id=clip(device_id, 128),
        user_agent=clip(user_agent, 300),
        client_ip=clip(client_ip, 64),
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
    return report


async def store_photo(settings: Settings, photo: photos.Photo) -> None:
    # Written before commit: a rollback leaves an unreferenced file (content-addressed, harmless), while
    # writing after commit could leave a report whose photo never arrived.
    await asyncio.to_thread(photos.store, photo, settings.data_dir / "photos")


# --- reading -----------------------------------------------------------------------------------------------


async def my_reports(session: AsyncSession, citizen_id: int, limit: int = 200) -> list[ReportOut]:
    return [
        ReportOut.of(row.Report, row.incident_status)
        for row in await repo.reports_of_citizen(session, citizen_id, limit)
    ]


async def list_reports(session: AsyncSession, status: str | None, limit: int) -> list[ReportDetailOut]:
    return [
        ReportDetailOut.of_report(
            row.Report,
            row.incident_status,
            row.reporter_phone,
            row.priority,
            media_url=row.media_url,
            location_pending=bool(row.location_pending),
        )
        for row in await repo.queue(session, status, limit)
    ]


async def get_report(session: AsyncSession, report_id: int, viewer: Principal) -> Report:
    """A report as its author or a watcher may see it: an agency only the reports of an incident forwarded
    to it; anyone else gets a 404."""
    report = await repo.report(session, report_id)
    if (
        report is None
        or (viewer.role == "citizen" and report.citizen_id != viewer.user_id)
        or (
            viewer.role == "agency"
            and not await repo.incident_forwarded_to_login(session, report.incident_id, viewer.user_id)
        )
    ):
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    return report


async def report_view(session: AsyncSession, report: Report, viewer: Principal) -> ReportOut:
    """The report as ``viewer`` may see it: its author as in ``/reports/mine``, dispatchers everything, an
    agency what its author sees (never the reporter's account, phone, address, device or place)."""
    incident_status = await repo.incident_status(session, report.incident_id)
    if viewer.role in ("citizen", "agency"):
        return ReportOut.of(report, incident_status)
    reporter = await session.get(User, report.citizen_id) if report.citizen_id else None
    category = await session.get(Category, report.category)
    media_url, location_pending = await repo.open311_extra(session, report.id)
    return ReportDetailOut.of_report(
        report,
        incident_status,
        reporter.phone if reporter else None,
        category.default_priority if category else None,
        media_url=media_url,
        location_pending=location_pending,
    )


def photo_file(settings: Settings, report: Report) -> tuple[Path, str]:
    if report.photo_sha256 is None or report.photo_type is None:
        raise NotFound(f"report {report.id} has no photo", code="no_photo")
    path = photos.path_of(settings.data_dir / "photos", report.photo_sha256, report.photo_type)
    if not path.is_file():
        raise NotFound(f"the photo of report {report.id} is missing from storage", code="photo_missing")
    return path, photos.MEDIA_TYPES[report.photo_type]


# --- review ------------------------------------------------------------------------------------------------


def ensure_pending(report: Report) -> None:
    if report.status != "received":
        raise Conflict(
            f"report {report.id} is already {report.status}",
            code="report_not_pending",
            details={"status": report.status},
        )


def review(
    session: AsyncSession,
    report: Report,
    to: str,
    actor_id: int | None,
    reason: str | None,
    note: str | None,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Close the review of a report (``verified``, ``rejected`` or ``false``), audited."""
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
