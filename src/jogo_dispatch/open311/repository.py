"""Queries of the Open311 domain: the only place with its SQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.forwards.models import Forward
from jogo_dispatch.open311.models import ApiKey, Open311Request, Open311Update
from jogo_dispatch.platform.audit import AuditEntry
from jogo_dispatch.reports.models import Category, Report

ROLE_ORDER = {"responsible": 0, "manual": 1, "plan": 2, "always_notify": 3, "hospital": 4}


async def api_key_by_hash(session: AsyncSession, digest: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))


async def api_keys(session: AsyncSession) -> list[ApiKey]:
    return list(await session.scalars(select(ApiKey).order_by(ApiKey.id)))


async def lock_filing(session: AsyncSession, token: str) -> None:
    """Serialise the filings of one request (its fingerprint or client id, a hex digest or any text) until
    the transaction ends: two retries racing each other file it once."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(token, 311))))


async def retried_request(
    session: AsyncSession, key_id: int, fingerprint: str, client_id: str | None, since: datetime
) -> Open311Request | None:
    """The request a POST repeats: with a client id, the one of the same client id with this key (the
    client's word is final); without one, the same fingerprint since ``since``."""
    same = (
        Open311Request.client_request_id == client_id
        if client_id is not None
        else and_(Open311Request.fingerprint == fingerprint, Open311Request.created_at >= since)
    )
    return await session.scalar(
        select(Open311Request)
        .where(Open311Request.api_key_id == key_id, same)
        .order_by(Open311Request.report_id)
        .limit(1)
    )


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


# --- updates (FixMyStreet's extension) ---------------------------------------------------------------------

REVIEW_ACTIONS = ("verified", "rejected", "false", "received")


async def status_entries(
    session: AsyncSession, start: datetime, end: datetime, key_id: int | None, limit: int
) -> list[Row[Any]]:
    """(audit entry, report id) of the status changes of Open311 requests between ``start`` and ``end``: the
    report's review, and its incident's lifecycle steps since the report was filed (an incident's
    ``verified`` is the report's own review, told once)."""
    mine = (
        Open311Request.api_key_id == key_id if key_id is not None else Open311Request.report_id.is_not(None)
    )
    of_report = and_(
        AuditEntry.entity_type == "report",
        AuditEntry.entity_id == Report.id,
        AuditEntry.action.in_(REVIEW_ACTIONS),
    )
    of_incident = and_(
        AuditEntry.entity_type == "incident",
        AuditEntry.entity_id == Report.incident_id,
        AuditEntry.action == "transition",
        AuditEntry.to_state != "verified",
        AuditEntry.at >= Report.created_at,
    )
    q = (
        select(AuditEntry, Report.id.label("report_id"))
        .join(Report, or_(of_report, of_incident))
        .join(Open311Request, Open311Request.report_id == Report.id)
        .where(mine, AuditEntry.at >= start, AuditEntry.at <= end)
        .order_by(AuditEntry.at, AuditEntry.id)
        .limit(limit)
    )
    return list(await session.execute(q))


async def public_notes(
    session: AsyncSession, start: datetime, end: datetime, key_id: int | None, limit: int
) -> list[Open311Update]:
    q = select(Open311Update).where(
        Open311Update.kind == "public_note",
        Open311Update.created_at >= start,
        Open311Update.created_at <= end,
    )
    if key_id is not None:
        q = q.join(Open311Request, Open311Request.report_id == Open311Update.report_id).where(
            Open311Request.api_key_id == key_id
        )
    return list(await session.scalars(q.order_by(Open311Update.created_at, Open311Update.id).limit(limit)))


async def request_of_key(
    session: AsyncSession, report_id: int, key_id: int
) -> tuple[Report, Open311Request] | None:
    row = (
        await session.execute(
            select(Report, Open311Request)
            .join(Open311Request, Open311Request.report_id == Report.id)
            .where(Report.id == report_id, Open311Request.api_key_id == key_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def request_with_incident(session: AsyncSession, report_id: int) -> tuple[Report, str | None] | None:
    """An Open311 request's report and its incident's status."""
    row = (
        await session.execute(
            select(Report, Incident.status)
            .join(Open311Request, Open311Request.report_id == Report.id)
            .outerjoin(Incident, Incident.id == Report.incident_id)
            .where(Report.id == report_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def update_by_client_id(session: AsyncSession, key_id: int, client_id: str) -> Open311Update | None:
    return await session.scalar(
        select(Open311Update).where(
            Open311Update.api_key_id == key_id, Open311Update.client_update_id == client_id
        )
    )


async def unplaced(session: AsyncSession, limit: int) -> list[Row[Any]]:
    """Requests filed with an address only, oldest first."""
    return list(
        await session.execute(
            select(Report, Open311Request)
            .join(Open311Request, Open311Request.report_id == Report.id)
            .where(Open311Request.location_pending.is_(True))
            .order_by(Report.created_at, Report.id)
            .limit(limit)
        )
    )


async def lock_request(session: AsyncSession, report_id: int) -> tuple[Report, Open311Request] | None:
    row = (
        await session.execute(
            select(Report, Open311Request)
            .join(Open311Request, Open311Request.report_id == Report.id)
            .where(Report.id == report_id)
            .with_for_update(of=Report)
        )
    ).first()
    return (row[0], row[1]) if row else None
