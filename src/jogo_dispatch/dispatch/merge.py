"""Merging two incidents that turn out to be one, and splitting reports off an incident they do not belong
to. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.announce import (
    announce_incident,
)
from jogo_dispatch.dispatch.lifecycle import (
    ASSIGNED,
    FINAL,
    IncidentStatus,
)
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.dispatch.service import (
    incident_from_report,
    locked_incident,
    record_action,
    transition,
)
from jogo_dispatch.errors import Conflict, InvalidInput, NotFound
from jogo_dispatch.platform.audit import Reason
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.reports.models import SosCall
from jogo_dispatch.settings import Settings


async def merge(
    session: AsyncSession,
    bus: EventBus,
    keep_id: int,
    other_id: int,
    actor_id: int | None,
    reason: str | None = None,
) -> Incident:
    """Fold ``other`` into ``keep``: its reports and SOS calls move over, the more urgent priority wins,
    and ``other`` is cancelled with ``merged_into_id``. ``other`` must not hold an officer or offer."""
    if keep_id == other_id:
        raise InvalidInput("an incident cannot be merged with itself", code="same_incident")
    now = utcnow()
    locked = {i.id: i for i in await repo.lock_incidents(session, [keep_id, other_id])}
    for wanted in (keep_id, other_id):
        if wanted not in locked:
            raise NotFound(f"incident {wanted} not found", code="incident_not_found")
    keep, other = locked[keep_id], locked[other_id]
    for i in (keep, other):
        if i.status in FINAL:
            raise Conflict(
                f"incident {i.id} is {i.status}",
                code="invalid_transition",
                details={"incident_id": i.id, "status": i.status},
            )
    if await repo.active_offers_for_incident(session, other.id) or other.status in ASSIGNED:
        raise Conflict(
            f"incident {other.id} has an officer or a pending offer: merge it the other way round",
            code="incident_assigned",
            details={"incident_id": other.id},
        )
    moved = await repo.reports_of_incident(session, other.id)
    for report in moved:
        report.incident_id = keep.id
    for call in await session.scalars(select(SosCall).where(SosCall.incident_id == other.id)):
        call.incident_id = keep.id
    if other.priority < keep.priority:
        keep.priority = other.priority
    if keep.status == IncidentStatus.NEW and other.status != IncidentStatus.NEW:
        await transition(
            session,
            bus,
            keep,
            IncidentStatus.VERIFIED.value,
            actor_id=actor_id,
            reason=Reason(
                "merged_with", "merged with verified incident #{incident_id}", incident_id=other.id
            ),
            now=now,
        )
    other.merged_into_id = keep.id
    await transition(
        session,
        bus,
        other,
        IncidentStatus.CANCELLED.value,
        actor_id=actor_id,
        reason=reason or f"merged into #{keep.id}",
        data={"merged_into_id": keep.id},
        now=now,
    )
    keep.updated_at = now
    record_action(
        session,
        keep,
        "merged",
        actor_id=actor_id,
        reason=reason,
        data={"other_incident_id": other.id, "report_ids": [r.id for r in moved]},
        at=now,
    )
    await announce_incident(session, bus, keep)
    return keep


async def split(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    incident_id: int,
    report_ids: list[int],
    actor_id: int | None,
    reason: str | None = None,
) -> Incident:
    """Move some reports of an incident to a new incident (they were about something else)."""
    now = utcnow()
    incident = await locked_incident(session, incident_id)
    if incident.status in FINAL:
        raise Conflict(
            f"incident {incident.id} is {incident.status}",
            code="invalid_transition",
            details={"status": incident.status},
        )
    reports = {r.id: r for r in await repo.reports_of_incident(session, incident.id)}
    wanted = sorted(set(report_ids))
    strangers = [rid for rid in wanted if rid not in reports]
    if strangers:
        raise InvalidInput(
            "these reports are not linked to the incident",
            code="report_not_in_incident",
            details={"report_ids": strangers},
        )
    remaining = [
        r for rid, r in reports.items() if rid not in wanted and r.status in repo.LIVE_REPORT_STATUSES
    ]
    if incident.source == "report" and not remaining:
        raise InvalidInput("at least one report must stay with the incident", code="would_empty_incident")
    created = await incident_from_report(
        session,
        bus,
        settings,
        reports[wanted[0]],
        actor_id=actor_id,
        reason=reason or f"split from #{incident.id}",
        data={"split_from": incident.id},
        now=now,
    )
    for rid in wanted:
        reports[rid].incident_id = created.id
    if incident.status != IncidentStatus.NEW:
        await transition(
            session,
            bus,
            created,
            IncidentStatus.VERIFIED.value,
            actor_id=actor_id,
            reason=Reason(
                "split_from", "split from verified incident #{incident_id}", incident_id=incident.id
            ),
            now=now,
        )
    incident.updated_at = now
    record_action(
        session,
        incident,
        "split",
        actor_id=actor_id,
        reason=reason,
        data={"new_incident_id": created.id, "report_ids": wanted},
        at=now,
    )
    await announce_incident(session, bus, incident)
    await announce_incident(session, bus, created)
    return created
