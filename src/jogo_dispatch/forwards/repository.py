"""Queries of forwards, their notes and agency logins: the only place with their SQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from jogo_dispatch.accounts.models import User
from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.forwards.models import AgencySla, AgencyUser, Forward, ForwardNote
from jogo_dispatch.open311.models import Open311Request
from jogo_dispatch.reports.models import Category, Report

OPEN_STATUSES = ("pending", "sent", "failed", "acknowledged", "in_progress")
UNACKNOWLEDGED = ("pending", "sent", "failed")
# An offer in these states is a police unit on the incident (offered, or accepted and not cleared).
UNIT_ON_IT = ("pending", "accepted")
SECOND: ColumnElement[Any] = literal_column("interval '1 second'")


# -- agencies and their logins -------------------------------------------------------------------------------


async def agency(session: AsyncSession, agency_id: int, *, lock: bool = False) -> Agency | None:
    q = select(Agency).where(Agency.id == agency_id).execution_options(populate_existing=True)
    return await session.scalar(q.with_for_update() if lock else q)


async def agencies_by_ids(session: AsyncSession, ids: Collection[int]) -> list[Agency]:
    if not ids:
        return []
    return list(await session.scalars(select(Agency).where(Agency.id.in_(list(ids)))))


async def agencies_by_codes(session: AsyncSession, region: str, codes: Collection[str]) -> list[Agency]:
    if not codes:
        return []
    return list(
        await session.scalars(select(Agency).where(Agency.region == region, Agency.code.in_(list(codes))))
    )


async def agency_of_user(session: AsyncSession, user_id: int) -> int | None:
    return await session.scalar(select(AgencyUser.agency_id).where(AgencyUser.user_id == user_id))


async def users_of_agency(session: AsyncSession, agency_id: int) -> list[User]:
    return list(
        await session.scalars(
            select(User)
            .join(AgencyUser, AgencyUser.user_id == User.id)
            .where(AgencyUser.agency_id == agency_id)
            .order_by(User.id)
        )
    )


# -- forwards ------------------------------------------------------------------------------------------------


async def insert_forwards(session: AsyncSession, rows: list[dict[str, Any]]) -> list[Forward]:
    """Insert the forwards that do not exist yet (one per incident and agency); returns the new ones. A
    concurrent request forwarding the same pair waits for this one and then inserts nothing."""
    if not rows:
        return []
    stmt = insert(Forward).values(rows).on_conflict_do_nothing(constraint="uq_forwards_incident_agency")
    ids = list(await session.scalars(stmt.returning(Forward.id)))
    if not ids:
        return []
    return list(await session.scalars(select(Forward).where(Forward.id.in_(ids)).order_by(Forward.id)))


async def forward(session: AsyncSession, forward_id: int, *, lock: bool = False) -> Forward | None:
    q = select(Forward).where(Forward.id == forward_id).execution_options(populate_existing=True)
    return await session.scalar(q.with_for_update() if lock else q)


async def forwards_of_incident(
    session: AsyncSession, incident_id: int, agency_ids: Collection[int] | None = None
) -> list[tuple[Forward, Agency]]:
    q = (
        select(Forward, Agency)
        .join(Agency, Agency.id == Forward.agency_id)
        .where(Forward.incident_id == incident_id)
        .order_by(Forward.id)
        .execution_options(populate_existing=True)
    )
    if agency_ids is not None:
        q = q.where(Forward.agency_id.in_(list(agency_ids)))
    return [(f, a) for f, a in await session.execute(q)]


async def inbox(
    session: AsyncSession, agency_id: int, statuses: Collection[str] | None, limit: int
) -> list[tuple[Forward, Incident]]:
    """An agency's forwards, newest first, each with its incident."""
    q = (
        select(Forward, Incident)
        .join(Incident, Incident.id == Forward.incident_id)
        .where(Forward.agency_id == agency_id)
        .order_by(Forward.id.desc())
        .limit(limit)
    )
    if statuses is not None:
        q = q.where(Forward.status.in_(list(statuses)))
    return [(f, i) for f, i in await session.execute(q)]


async def notes(session: AsyncSession, forward_ids: Collection[int]) -> list[tuple[ForwardNote, str | None]]:
    """The notes of these forwards, oldest first, each with its author's name."""
    if not forward_ids:
        return []
    q = (
        select(ForwardNote, func.coalesce(User.full_name, User.username))
        .outerjoin(User, User.id == ForwardNote.author_id)
        .where(ForwardNote.forward_id.in_(list(forward_ids)))
        .order_by(ForwardNote.id)
    )
    return [(n, name) for n, name in await session.execute(q)]


async def note(session: AsyncSession, note_id: int) -> ForwardNote | None:
    return await session.get(ForwardNote, note_id)


async def author_name(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return await session.scalar(
        select(func.coalesce(User.full_name, User.username)).where(User.id == user_id)
    )


# -- SLAs, the caller's phone, closing the loop ---------------------------------------------------------


async def sla(session: AsyncSession, agency_id: int, *, lock: bool = False) -> AgencySla | None:
    q = select(AgencySla).where(AgencySla.agency_id == agency_id).execution_options(populate_existing=True)
    return await session.scalar(q.with_for_update() if lock else q)


async def sla_minutes(session: AsyncSession, agency_ids: Collection[int]) -> dict[int, int]:
    """The agencies' own SLAs (acknowledge within N minutes); an agency without one is not in the answer."""
    if not agency_ids:
        return {}
    q = select(AgencySla.agency_id, AgencySla.ack_minutes).where(AgencySla.agency_id.in_(list(agency_ids)))
    return {a: m for a, m in await session.execute(q)}


async def reporter_phone(session: AsyncSession, incident: Incident) -> str | None:
    """The phone of the citizen behind the incident: its reporter, else the author of its first report."""
    if incident.reporter_id is not None:
        phone = await session.scalar(select(User.phone).where(User.id == incident.reporter_id))
        if phone:
            return phone
    return await session.scalar(
        select(User.phone)
        .join(Report, Report.citizen_id == User.id)
        .where(Report.incident_id == incident.id, User.phone.is_not(None))
        .order_by(Report.id)
        .limit(1)
    )


async def units_on(session: AsyncSession, incident_id: int) -> int:
    """Police units still on the incident (offers pending, or accepted and not cleared)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Offer)
            .where(Offer.incident_id == incident_id, Offer.status.in_(UNIT_ON_IT))
        )
        or 0
    )


async def injured_reported(session: AsyncSession, incident_id: int) -> bool:
    """Whether a report of the incident filed through Open311 answered the ``injured`` attribute with yes."""
    found = await session.scalar(
        select(Open311Request.report_id)
        .join(Report, Report.id == Open311Request.report_id)
        .where(Report.incident_id == incident_id, Open311Request.attributes["injured"].astext == "yes")
        .limit(1)
    )
    return found is not None


async def category(session: AsyncSession, code: str) -> Category | None:
    return await session.get(Category, code)


# -- delivery worker -----------------------------------------------------------------------------------------


async def claim_due(session: AsyncSession, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` forwards whose webhook attempt is due. Rows another process is claiming are
    skipped (SKIP LOCKED); the claimed ones are leased until ``lease_until``, so a process that dies while
    sending leaves them to be retried after the lease instead of never."""
    due = (
        select(Forward.id)
        .where(Forward.status == "pending", Forward.next_attempt_at <= now)
        .order_by(Forward.next_attempt_at, Forward.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Forward)
        .where(Forward.id.in_(due.scalar_subquery()))
        .values(
            attempts=Forward.attempts + 1, last_attempt_at=now, next_attempt_at=lease_until, updated_at=now
        )
        .returning(Forward.id)
    )
    return sorted(await session.scalars(stmt))


async def claim_unacknowledged(
    session: AsyncSession, now: datetime, default_s: float, limit: int
) -> list[tuple[Forward, int | None]]:
    """Forwards nobody acknowledged within their agency's SLA (its ``agency_slas`` minutes, else
    ``default_s``) and that have not been alerted yet, each with the agency's own SLA minutes, locked
    (SKIP LOCKED: a forward another process is alerting on, or an agency is acknowledging, waits a round)."""
    allowed_s = func.coalesce(AgencySla.ack_minutes * 60, default_s)
    q = (
        select(Forward, AgencySla.ack_minutes)
        .outerjoin(AgencySla, AgencySla.agency_id == Forward.agency_id)
        .where(
            Forward.acknowledged_at.is_(None),
            Forward.ack_alerted_at.is_(None),
            Forward.status.in_(UNACKNOWLEDGED),
            Forward.created_at + allowed_s * SECOND <= now,
        )
        .order_by(Forward.created_at, Forward.id)
        .limit(limit)
        .with_for_update(of=Forward, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return [(f, m) for f, m in await session.execute(q)]
