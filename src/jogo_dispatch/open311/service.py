"""Open311 GeoReport v2 service requests read back: every report, filed through Open311 or in the app, as a
service request. Filing is ``open311.filing``; API keys ``open311.keys``; the catalogue ``open311.catalogue``.

* ``service_request_id`` is the report id (as a string); ``service_code`` the category code.
* Status: ``open`` while the report waits or its incident is open; ``closed`` when the report was rejected
  or its incident resolved or cancelled. ``agency_responsible``: the agencies the incident was forwarded to.
* Privacy: a request filed through Open311 is public as filed. For reports filed in the app, the listing
  shows the category, status and position, but not the citizen's text, address or photo.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import InvalidInput, NotFound
from jogo_dispatch.open311 import catalogue
from jogo_dispatch.open311 import repository as repo
from jogo_dispatch.open311.schemas import ServiceRequestOut
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.runtime import Runtime

MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
# ASCII digits only: int() and str.isdigit() also take "²" (and fail) or "١٢٣" (and read 123).
_REQUEST_ID = re.compile(r"[0-9]{1,18}")


def request_id(raw: str) -> int | None:
    """The report id a ``service_request_id`` names, or None when it is not one."""
    return int(raw) if _REQUEST_ID.fullmatch(raw) else None


def status_of(report_status: str, incident_status: str | None) -> tuple[Literal["open", "closed"], str]:
    """(open|closed, status_notes)."""
    if report_status == "rejected":
        return "closed", "Bukan kejadian untuk pusat komando. / Not an incident for the command centre."
    if report_status == "false":
        return "closed", "Ditutup. / Closed."
    if incident_status == "resolved":
        return "closed", "Selesai ditangani. / Resolved."
    if incident_status == "cancelled":
        return "closed", (
            "Dibatalkan atau digabung dengan laporan lain. / Cancelled or merged with another report."
        )
    if report_status == "received":
        return "open", "Menunggu verifikasi. / Awaiting verification."
    state = incident_status or "open"
    return "open", f"Terverifikasi; kejadian {state}. / Verified; incident {state}."


def _view(row: Any, lang: str, agencies_of: dict[int, list[str]], default_agency: str) -> ServiceRequestOut:
    r, o311 = row.Report, row.Open311Request
    status, notes = status_of(r.status, row.incident_status)
    name = (row.name_en if lang == "en" else row.name_id) or r.category
    public = o311 is not None
    return ServiceRequestOut(
        service_request_id=str(r.id),
        status=status,
        status_notes=notes,
        service_name=name,
        service_code=r.category,
        description=r.description if public else name,
        agency_responsible=", ".join(agencies_of.get(r.incident_id or 0, [])) or default_agency,
        requested_datetime=r.created_at,
        updated_datetime=max(
            t for t in (r.created_at, r.reviewed_at, row.incident_updated_at) if t is not None
        ),
        address=r.address if public else None,
        address_id=o311.address_id if public else None,
        lat=None if public and o311.location_pending else r.lat,
        long=None if public and o311.location_pending else r.lon,
        media_url=o311.media_url if public else None,
    )


def when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidInput(
            f"{name} must be a w3 date-time, e.g. 2026-01-01T00:00:00Z", code="bad_date"
        ) from None
    if t.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (Z or +07:00)", code="bad_date")
    try:
        return t.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise InvalidInput(f"{name} is out of range", code="bad_date") from None


def span(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """``start``..``end``: at most 90 days; without ``end`` 90 days from ``start`` (or now), without
    ``start`` 90 days before ``end``."""
    if start and end and start > end:
        raise InvalidInput("start_date is after end_date", code="bad_date")
    if start and end and end - start > MAX_SPAN:
        raise InvalidInput("start_date to end_date spans more than 90 days", code="bad_date")
    try:
        if end is None:
            end = start + MAX_SPAN if start else utcnow()
        return start or end - MAX_SPAN, end
    except OverflowError:  # within 90 days of year 1 or 9999
        raise InvalidInput("start_date or end_date is out of range", code="bad_date") from None


def _ids(raw: str) -> list[int]:
    out = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        found = request_id(part)
        if found is None:
            raise InvalidInput(f"service_request_id {part!r} is not a request id", code="bad_id")
        out.append(found)
    if not out or len(out) > MAX_RESULTS:
        raise InvalidInput("service_request_id: 1 to 1000 comma-separated ids", code="bad_id")
    return out


async def _views(session: AsyncSession, rt: Runtime, rows: list[Any], lang: str) -> list[ServiceRequestOut]:
    incidents = {r.Report.incident_id for r in rows if r.Report.incident_id}
    names = await repo.forwarded_agencies(session, incidents)
    return [_view(r, lang, names, rt.settings.open311_agency_name) for r in rows]


async def list_requests(
    session: AsyncSession, rt: Runtime, params: dict[str, str]
) -> list[ServiceRequestOut]:
    """``GET requests.json``: by ``service_request_id`` (the other filters are then ignored), else by
    ``service_code``, ``status`` and ``start_date``/``end_date`` (at most 90 days; default the last 90 days),
    newest first, at most 1000."""
    catalogue.check_jurisdiction(params.get("jurisdiction_id"))
    lang = "en" if params.get("lang") == "en" else "id"
    if params.get("service_request_id"):
        rows = await repo.requests_by_ids(session, _ids(params["service_request_id"]))
        return await _views(session, rt, rows, lang)
    start, end = span(when(params.get("start_date"), "start_date"), when(params.get("end_date"), "end_date"))
    statuses = {s.strip() for s in (params.get("status") or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise InvalidInput("status must be open, closed or both (comma-separated)", code="bad_status")
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    closed = None if len(statuses) != 1 else statuses == {"closed"}
    rows = await repo.requests(session, start, end, codes or None, closed, MAX_RESULTS)
    return await _views(session, rt, rows, lang)


async def get_request(
    session: AsyncSession, rt: Runtime, raw_id: str, params: dict[str, str]
) -> list[ServiceRequestOut]:
    catalogue.check_jurisdiction(params.get("jurisdiction_id"))
    wanted = request_id(raw_id)
    if wanted is None:
        raise NotFound(f"service_request_id {raw_id!r} not found", code="request_not_found")
    rows = await repo.requests_by_ids(session, [wanted])
    if not rows:
        raise NotFound(f"service_request_id {wanted} not found", code="request_not_found")
    return await _views(session, rt, rows, "en" if params.get("lang") == "en" else "id")
