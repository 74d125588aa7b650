"""The audit trail every domain writes to: one row per state change of an incident, offer, report,
forward, strike or appeal, with actor, time, reason and free-form data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch.models import AuditEntry
from jogo_dispatch.platform.db import utcnow


def record(
    session: AsyncSession,
    entity_type: str,
    entity_id: int,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    actor_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit row to the unit of work (written with its next flush, committed with it)."""
    entry = AuditEntry(
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        # Device-token logins have no user row (user id 0): such actions are recorded as the system's.
        actor_id=actor_id or None,
        reason=reason,
        data=data or {},
        at=at or utcnow(),
    )
    session.add(entry)
    return entry


async def entries(session: AsyncSession, entity_type: str, entity_ids: list[int]) -> list[AuditEntry]:
    if not entity_ids:
        return []
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id.in_(entity_ids))
            .order_by(AuditEntry.id)
        )
    )


def entry_dict(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "action": e.action,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "actor_id": e.actor_id,
        "reason": e.reason,
        "data": e.data,
        "at": e.at.isoformat() if e.at else None,
    }
