"""Queries of the reports domain (catalogue, reports, SOS calls): the only place with its SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.dispatch.lifecycle import FINAL
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.reports.models import Category, Report, SosCall, SosPoint

_FINAL = [s.value for s in FINAL]


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
            select(Report, Incident.status.label("incident_status"))
            .outerjoin(Incident, Incident.id == Report.incident_id)
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
            Incident.status.label("incident_status"),
            Category.default_priority.label("priority"),
        )
        .outerjoin(User, User.id == Report.citizen_id)
        .outerjoin(Incident, Incident.id == Report.incident_id)
        .join(Category, Category.code == Report.category)
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


async def open_sos_of_citizen(session: AsyncSession, citizen_id: int) -> SosCall | None:
    return await session.scalar(
        select(SosCall)
        .join(Incident, Incident.id == SosCall.incident_id)
        .where(SosCall.citizen_id == citizen_id, Incident.status.not_in(_FINAL))
        .order_by(SosCall.id.desc())
        .limit(1)
    )


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
