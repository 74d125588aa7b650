"""Queries of the reports domain (catalogue, reports, SOS calls): the only place with its SQL.

A report or SOS call shows the status of its incident; the incidents table is dispatch's, read here by its
name only (reports never import dispatch)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, Row, String, column, func, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from jogo_dispatch.accounts.models import User
from jogo_dispatch.reports.models import Category, Report, SosCall, SosPoint

_incidents = table("incidents", column("id", BigInteger), column("status", String))
# Forwards and agency logins are the forwards domain's (which builds on reports and dispatch): by name too,
# declared once here for both (dispatch reads them as well).
FORWARDS = table(
    "forwards", column("id", BigInteger), column("incident_id", BigInteger), column("agency_id", BigInteger)
)
AGENCY_USERS = table("agency_users", column("user_id", BigInteger), column("agency_id", BigInteger))
# What an Open311 client sent with a report (open311 builds on reports): its media URL, and whether it came
# with an address only and waits for a dispatcher to place it on the map.
_open311 = table(
    "open311_requests",
    column("report_id", BigInteger),
    column("media_url", String),
    column("location_pending", Boolean),
)


def forwarded_to_login(
    incident_id: ColumnElement[Any] | QueryableAttribute[int] | int, user_id: int
) -> ColumnElement[bool]:
    """The incident was forwarded to the agency of this agency login (what bounds an agency's reads)."""
    return (
        select(FORWARDS.c.incident_id)
        .join(AGENCY_USERS, AGENCY_USERS.c.agency_id == FORWARDS.c.agency_id)
        .where(FORWARDS.c.incident_id == incident_id, AGENCY_USERS.c.user_id == user_id)
        .exists()
    )


async def report_counts_of_citizen(session: AsyncSession, citizen_id: int) -> dict[str, int]:
    """How many reports the citizen filed, by status."""
    rows = await session.execute(
        select(Report.status, func.count()).where(Report.citizen_id == citizen_id).group_by(Report.status)
    )
    return {str(status): int(n) for status, n in rows}


async def agencies_forwarded(session: AsyncSession, incident_id: int) -> list[int]:
    """The agencies the incident was forwarded to."""
    rows = await session.scalars(
        select(FORWARDS.c.agency_id).where(FORWARDS.c.incident_id == incident_id).distinct()
    )
    return sorted(int(a) for a in rows)


async def incident_forwarded_to_login(session: AsyncSession, incident_id: int | None, user_id: int) -> bool:
    if incident_id is None:
        return False
    return bool(await session.scalar(select(forwarded_to_login(incident_id, user_id))))


async def categories(session: AsyncSession) -> list[Category]:
    return list(
        await session.scalars(
            select(Category).where(Category.active).order_by(Category.sort_order, Category.code)
        )
    )


async def category(session: AsyncSession, code: str) -> Category | None:
    return await session.scalar(select(Category).where(Category.code == code, Category.active))


async def report(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def lock_report(session: AsyncSession, report_id: int) -> Report | None:
    return await session.scalar(
        select(Report)
        .where(Report.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def reports_of_citizen(session: AsyncSession, citizen_id: int, limit: int) -> list[Row[Any]]:
    """The citizen's reports, newest first, each with its incident's status."""
    return list(
        await session.execute(
            select(Report, _incidents.c.status.label("incident_status"))
            .outerjoin(_incidents, _incidents.c.id == Report.incident_id)
            .where(Report.citizen_id == citizen_id)
            .order_by(Report.id.desc())
            .limit(limit)
        )
    )


async def queue(session: AsyncSession, status: str | None, limit: int) -> list[Row[Any]]:
    """Reports for the dispatchers, with the reporter's phone and the incident's status; the verification
    queue (``received``) comes most urgent category first, then oldest first."""
    q = (
        select(
            Report,
            User.phone.label("reporter_phone"),
            _incidents.c.status.label("incident_status"),
            Category.default_priority.label("priority"),
            _open311.c.media_url,
            _open311.c.location_pending,
        )
        .outerjoin(User, User.id == Report.citizen_id)
        .outerjoin(_incidents, _incidents.c.id == Report.incident_id)
        .join(Category, Category.code == Report.category)
        .outerjoin(_open311, _open311.c.report_id == Report.id)
    )
    if status is not None:
        q = q.where(Report.status == status)
    q = (
        q.order_by(Category.default_priority, Report.created_at, Report.id)
        if status == "received"
        else q.order_by(Report.id.desc())
    )
    return list(await session.execute(q.limit(limit)))


async def lock_citizen(session: AsyncSession, user_id: int) -> None:
    """Serialises one citizen's SOS presses (two quick presses must not open two incidents)."""
    await session.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": user_id})


async def incident_status(session: AsyncSession, incident_id: int | None) -> str | None:
    """The status of the incident a report or SOS call belongs to (None: none, or it is gone)."""
    if incident_id is None:
        return None
    found = await session.scalar(select(_incidents.c.status).where(_incidents.c.id == incident_id))
    return None if found is None else str(found)


async def open311_extra(session: AsyncSession, report_id: int) -> tuple[str | None, bool]:
    """(media_url, location_pending) of a report filed through Open311; (None, False) for others."""
    row = (
        await session.execute(
            select(_open311.c.media_url, _open311.c.location_pending).where(_open311.c.report_id == report_id)
        )
    ).first()
    return (None, False) if row is None else (row[0], bool(row[1]))


async def sos_call(session: AsyncSession, sos_id: int) -> SosCall | None:
    return await session.get(SosCall, sos_id)


async def lock_sos_call(session: AsyncSession, sos_id: int) -> SosCall | None:
    return await session.scalar(
        select(SosCall)
        .where(SosCall.id == sos_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def trail(session: AsyncSession, sos_id: int, limit: int = 5000) -> list[SosPoint]:
    return list(
        await session.scalars(
            select(SosPoint)
            .where(SosPoint.sos_id == sos_id)
            .order_by(SosPoint.recorded_at, SosPoint.id)
            .limit(limit)
        )
    )


async def trail_length(session: AsyncSession, sos_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(SosPoint.sos_id == sos_id)) or 0)
