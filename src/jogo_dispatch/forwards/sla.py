"""How soon an agency must acknowledge a forward: its own SLA (``agency_slas``, set by an admin) or the
deployment's ``forward_ack_timeout_s``. The delivery worker alerts the dispatchers once about a forward left
unacknowledged past it (``forwards.delivery.alert_unacknowledged``). Flushes, never commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.errors import NotFound
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.models import AgencySla, Forward
from jogo_dispatch.forwards.schemas import SlaOut
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.settings import Settings


def default_minutes(settings: Settings) -> float:
    return settings.forward_ack_timeout_s / 60


class Slas:
    """The SLA minutes of a set of agencies, read once."""

    def __init__(self, settings: Settings, own: dict[int, int]) -> None:
        self.default = default_minutes(settings)
        self.own = own

    def minutes(self, agency_id: int) -> float:
        return float(self.own.get(agency_id, self.default))

    def due(self, f: Forward) -> datetime:
        """When ``f``'s acknowledgement falls due."""
        return f.created_at + timedelta(minutes=self.minutes(f.agency_id))


async def of(session: AsyncSession, settings: Settings, agency_ids: Collection[int]) -> Slas:
    return Slas(settings, await repo.sla_minutes(session, set(agency_ids)))


async def _agency(session: AsyncSession, agency_id: int, *, lock: bool = False) -> Agency:
    agency = await repo.agency(session, agency_id, lock=lock)
    if agency is None:
        raise NotFound(f"agency {agency_id} not found", code="agency_not_found")
    return agency


def _out(settings: Settings, agency: Agency, minutes: int | None) -> SlaOut:
    default = default_minutes(settings)
    return SlaOut(
        agency_id=agency.id,
        agency_code=agency.code,
        ack_minutes=minutes,
        default_ack_minutes=default,
        effective_ack_minutes=float(minutes) if minutes is not None else default,
    )


async def get(session: AsyncSession, settings: Settings, agency_id: int) -> SlaOut:
    agency = await _agency(session, agency_id)
    row = await repo.sla(session, agency_id)
    return _out(settings, agency, row.ack_minutes if row else None)


async def put(
    session: AsyncSession, settings: Settings, agency_id: int, ack_minutes: int | None, actor_id: int | None
) -> SlaOut:
    """Set (or, with None, drop) the agency's SLA; open forwards are judged by the new one at once. Audited
    (entity ``agency``, action ``sla``)."""
    agency = await _agency(session, agency_id, lock=True)
    row = await repo.sla(session, agency_id, lock=True)
    before = row.ack_minutes if row else None
    if ack_minutes is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(
            AgencySla(agency_id=agency_id, ack_minutes=ack_minutes, updated_at=utcnow(), updated_by=actor_id)
        )
    else:
        row.ack_minutes, row.updated_at, row.updated_by = ack_minutes, utcnow(), actor_id
    await session.flush()
    if before != ack_minutes:
        audit.record(
            session,
            "agency",
            agency.id,
            "sla",
            actor_id=actor_id,
            data={"before": {"ack_minutes": before}, "after": {"ack_minutes": ack_minutes}},
        )
    return _out(settings, agency, ack_minutes)
