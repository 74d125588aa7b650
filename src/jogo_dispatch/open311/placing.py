"""Requests filed with an address only: they stand at the region's centre, flagged ``location_pending``,
until a dispatcher finds them (``GET /api/v1/open311/unplaced``, or ``location_pending`` in the report) and
places them on the map (``POST /api/v1/open311/requests/{id}/place``, audited)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import Conflict, NotFound
from jogo_dispatch.geo.cells import cells_for_point
from jogo_dispatch.open311 import repository as repo
from jogo_dispatch.open311.filing import PENDING_MARK
from jogo_dispatch.open311.schemas import PlaceIn, UnplacedOut
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import service as reports
from jogo_dispatch.reports.models import Report


async def unplaced(session: AsyncSession, limit: int = 200) -> list[UnplacedOut]:
    return [
        UnplacedOut(
            report_id=r.Report.id,
            service_code=r.Report.category,
            description=r.Report.description,
            address=r.Report.address,
            address_id=r.Open311Request.address_id,
            jurisdiction_id=r.Open311Request.jurisdiction_id,
            requested_datetime=r.Report.created_at,
        )
        for r in await repo.unplaced(session, limit)
    ]


async def place(session: AsyncSession, bus: EventBus, me: Principal, report_id: int, data: PlaceIn) -> Report:
    """Put an address-only request where it happened: the report moves there (and its H3 cells), loses
    its flag and the description's note; the incident, if it was already verified, is moved with
    ``PATCH /api/v1/incidents/{id}``."""
    found = await repo.lock_request(session, report_id)
    if found is None:
        raise NotFound(f"no Open311 request {report_id}", code="request_not_found")
    report, o311 = found
    if not o311.location_pending:
        raise Conflict(f"request {report_id} is already on the map", code="already_placed")
    before = {"lat": report.lat, "lon": report.lon}
    report.lat, report.lon = data.lat, data.lon
    report.reporter_lat, report.reporter_lon = data.lat, data.lon
    report.h3_r9, report.h3_r7 = cells_for_point(data.lat, data.lon)
    if data.address:
        report.address = data.address.strip()
    report.description = report.description.replace(PENDING_MARK, "")
    o311.location_pending = False
    audit.record(
        session,
        "report",
        report.id,
        "placed",
        from_state=report.status,
        to_state=report.status,
        actor_id=me.user_id,
        data={"from": before, "to": {"lat": data.lat, "lon": data.lon}},
        at=utcnow(),
    )
    await session.flush()
    reports.announce_report(session, bus, report)
    return report
