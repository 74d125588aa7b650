"""Queries of the Open311 domain: the only place with its SQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.forwards.models import Forward
from jogo_dispatch.open311.models import ApiKey, Open311Request
from jogo_dispatch.reports.models import Category, Report

ROLE_ORDER = {"responsible": 0, "manual": 1, "always_notify": 2, "hospital": 3}


async def api_key_by_hash(session: AsyncSession, digest: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))


async def api_keys(session: AsyncSession) -> list[ApiKey]:
    return list(await session.scalars(select(ApiKey).order_by(ApiKey.id)))


def _requests() -> Any:
    return (
        select(
            Report,
            Open311Request,
            Incident.status.label("incident_status"),
            Incident.updated_at.label("incident_updated_at"),
            Category.name_id,
            Category.name_en,
        )
        .outerjoin(Open311Request, Open311Request.report_id == Report.id)
        .outerjoin(Incident, Incident.id == Report.incident_id)
        .outerjoin(Category, Category.code == Report.category)
    )


def closed_condition() -> Any:
    return or_(Report.status.in_(("rejected", "false")), Incident.status.in_(("resolved", "cancelled")))


async def requests_by_ids(session: AsyncSession, ids: Collection[int]) -> list[Row[Any]]:
    return list(await session.execute(_requests().where(Report.id.in_(list(ids))).order_by(Report.id)))


async def requests(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    codes: list[str] | None,
    closed: bool | None,
    limit: int,
) -> list[Row[Any]]:
    q = _requests().where(Report.created_at >= start, Report.created_at <= end)
    if codes:
        q = q.where(Report.category.in_(codes))
    if closed is True:
        q = q.where(closed_condition())
    elif closed is False:
        q = q.where(
            and_(
                Report.status.not_in(("rejected", "false")),
                or_(Incident.status.is_(None), Incident.status.not_in(("resolved", "cancelled"))),
            )
        )
    return list(await session.execute(q.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)))


async def forwarded_agencies(session: AsyncSession, incident_ids: Collection[int]) -> dict[int, list[str]]:
    """Names of the agencies each incident was forwarded to, responsible ones first."""
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(Forward.incident_id, Forward.role, Agency.name)
        .join(Agency, Agency.id == Forward.agency_id)
        .where(Forward.incident_id.in_(list(incident_ids)))
        .order_by(Forward.incident_id, Forward.id)
    )
    out: dict[int, list[tuple[int, str]]] = {}
    for incident_id, role, name in rows:
        out.setdefault(incident_id, []).append((ROLE_ORDER.get(role, 9), name))
    return {k: [name for _, name in sorted(v, key=lambda t: t[0])] for k, v in out.items()}
