"""Officer-safety and queue timers. A unit on scene for longer than its welfare interval gets a check on the
phone ("Aman?" / "Safe?", one tap); no answer within the grace period is a ``welfare_check_missed``
alert. A unit dispatched but not en route in time, and a report waiting too long for verification, are
alerts too. Each fires once, is audited on its incident's timeline, and is seen live; every process may
sweep (each claim is one conditional UPDATE)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.alerts.service import raise_alert
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.announce import announce_incident, announce_offer, message_officer
from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.dispatch.service import record_action
from jogo_dispatch.errors import Conflict, NotFound
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import session_scope, utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings

log = structlog.get_logger(__name__)


def welfare_interval_s(settings: Settings, incident: Incident) -> float:
    """The incident's response plan may set its own interval."""
    plan = (incident.data or {}).get("plan") or {}
    own = plan.get("welfare_interval_s")
    return float(own) if own else settings.welfare_interval_s


def welfare_due_at(settings: Settings, incident: Incident, unit: Offer) -> datetime | None:
    """When the unit's next welfare check goes out (None: not on scene, or cleared)."""
    if unit.on_scene_at is None or unit.cleared_at is not None or unit.status != "accepted":
        return None
    since = max(t for t in (unit.on_scene_at, unit.welfare_ok_at, unit.welfare_missed_at) if t is not None)
    return since + timedelta(seconds=welfare_interval_s(settings, incident))


async def _claim(
    session: AsyncSession, offer_id: int, column: str, condition: Any, now: datetime
) -> Offer | None:
    """Set ``column`` on the unit if ``condition`` still holds: one winner among the sweepers."""
    claimed = await session.scalar(
        update(Offer)
        .where(Offer.id == offer_id, condition)
        .values({column: now})
        .returning(Offer)
        .execution_options(populate_existing=True)
    )
    return claimed


async def send_welfare_checks(session: AsyncSession, bus: EventBus, settings: Settings, now: datetime) -> int:
    rows = await session.execute(
        select(Offer, Incident)
        .join(Incident, Incident.id == Offer.incident_id)
        .where(
            Offer.status == "accepted",
            Offer.on_scene_at.is_not(None),
            Offer.cleared_at.is_(None),
            or_(
                Offer.welfare_sent_at.is_(None),
                Offer.welfare_sent_at <= func.greatest(Offer.welfare_ok_at, Offer.welfare_missed_at),
            ),
        )
    )
    sent = 0
    for unit, incident in rows.all():
        due = welfare_due_at(settings, incident, unit)
        if due is None or due > now:
            continue
        pending = or_(
            Offer.welfare_sent_at.is_(None),
            Offer.welfare_sent_at <= func.greatest(Offer.welfare_ok_at, Offer.welfare_missed_at),
        )
        claimed = await _claim(session, unit.id, "welfare_sent_at", pending, now)
        if claimed is None:
            continue
        deadline = now + timedelta(seconds=settings.welfare_grace_s)
        message_officer(
            session,
            bus,
            unit.officer_id,
            {
                "type": "welfare_check",
                "offer_id": unit.id,
                "incident_id": incident.id,
                "deadline": deadline.isoformat(),
                "text": {"id": "Aman?", "en": "Safe?"},
            },
        )
        record_action(
            session,
            incident,
            "welfare_check",
            data={"offer_id": unit.id, "officer_id": unit.officer_id, "deadline": deadline.isoformat()},
            at=now,
        )
        announce_offer(session, bus, claimed)
        sent += 1
    return sent


async def flag_missed_checks(session: AsyncSession, bus: EventBus, settings: Settings, now: datetime) -> int:
    grace = now - timedelta(seconds=settings.welfare_grace_s)
    unanswered = and_(
        Offer.status == "accepted",
        Offer.welfare_sent_at.is_not(None),
        Offer.welfare_sent_at <= grace,
        or_(Offer.welfare_ok_at.is_(None), Offer.welfare_ok_at < Offer.welfare_sent_at),
        or_(Offer.welfare_missed_at.is_(None), Offer.welfare_missed_at < Offer.welfare_sent_at),
    )
    return await _flag_units(
        session,
        bus,
        unanswered,
        "welfare_missed_at",
        "welfare_check_missed",
        lambda u: f"No answer to the welfare check of officer #{u.officer_id} on incident #{u.incident_id}",
        now,
    )


async def _flag_units(
    session: AsyncSession,
    bus: EventBus,
    condition: Any,
    column: str,
    kind: str,
    message: Callable[[Offer], str],
    now: datetime,
) -> int:
    """Each unit matching ``condition`` is claimed (``column`` set) once: an alert of ``kind`` to the
    dispatchers and an entry on its incident's timeline."""
    flagged = 0
    for unit_id in list(await session.scalars(select(Offer.id).where(condition))):
        unit = await _claim(session, unit_id, column, condition, now)
        if unit is None:
            continue
        incident = await repo.incident(session, unit.incident_id)
        assert incident is not None
        data = {"offer_id": unit.id, "officer_id": unit.officer_id}
        await raise_alert(
            session,
            bus,
            kind,
            message(unit),
            officer_id=unit.officer_id,
            incident_id=incident.id,
            lat=incident.lat,
            lon=incident.lon,
            data=data,
        )
        record_action(session, incident, kind, data=data, at=now)
        announce_offer(session, bus, unit)
        flagged += 1
    return flagged


async def flag_late_units(session: AsyncSession, bus: EventBus, settings: Settings, now: datetime) -> int:
    late = and_(
        Offer.status == "accepted",
        Offer.en_route_at.is_(None),
        Offer.on_scene_at.is_(None),
        Offer.late_alerted_at.is_(None),
        Offer.responded_at <= now - timedelta(seconds=settings.en_route_within_s),
    )
    minutes = settings.en_route_within_s / 60
    return await _flag_units(
        session,
        bus,
        late,
        "late_alerted_at",
        "unit_not_en_route",
        lambda u: (
            f"Officer #{u.officer_id} is not en route to incident #{u.incident_id} {minutes:g} min after accepting"
        ),
        now,
    )


_WAITING_REPORTS = text("""
SELECT r.id, r.category, r.lat, r.lon, r.created_at FROM reports r
WHERE r.status = 'received' AND r.created_at <= :before
  AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.kind = 'report_unverified' AND a.data->>'report_id' = r.id::text)
ORDER BY r.created_at LIMIT 100
FOR UPDATE OF r SKIP LOCKED
""")


async def flag_waiting_reports(
    session: AsyncSession, bus: EventBus, settings: Settings, now: datetime
) -> int:
    rows = (
        await session.execute(_WAITING_REPORTS, {"before": now - timedelta(seconds=settings.verify_within_s)})
    ).all()
    for r in rows:
        waited = (now - r.created_at).total_seconds()
        await raise_alert(
            session,
            bus,
            "report_unverified",
            f"Report #{r.id} ({r.category}) has waited {waited / 60:.0f} min for verification",
            lat=r.lat,
            lon=r.lon,
            data={"report_id": r.id, "waited_s": round(waited)},
        )
        audit.record(
            session,
            "report",
            r.id,
            "unverified_alert",
            reason=audit.Reason("unverified_waited", "waited {seconds} s", seconds=round(waited)),
            at=now,
        )
    return len(rows)


async def sweep(rt: Runtime) -> dict[str, int]:
    """One round of every timer, each in its own unit of work."""
    done: dict[str, int] = {}
    for name, step in (
        ("welfare_checks", send_welfare_checks),
        ("welfare_missed", flag_missed_checks),
        ("late_units", flag_late_units),
        ("waiting_reports", flag_waiting_reports),
    ):
        async for session in session_scope(rt.sessions):
            done[name] = await step(session, rt.bus, rt.settings, utcnow())
    return done


async def timer_loop(rt: Runtime, every_s: float) -> None:
    while True:
        try:
            await sweep(rt)
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("timer sweep failed")
        await asyncio.sleep(every_s)


async def answer_welfare(
    session: AsyncSession, bus: EventBus, offer_id: int, officer_id: int | None, safe: bool
) -> Offer:
    """The officer answers the check: safe (the interval starts again), or not (an alert, at once)."""
    unit = await repo.lock_offer(session, offer_id)
    if unit is None or unit.officer_id != officer_id:
        raise NotFound(f"offer {offer_id} not found", code="offer_not_found")
    if unit.status != "accepted":
        raise Conflict(
            f"offer {offer_id} is {unit.status}", code="offer_not_active", details={"status": unit.status}
        )
    now = utcnow()
    incident = await repo.incident(session, unit.incident_id)
    assert incident is not None
    unit.welfare_ok_at = now
    record_action(
        session,
        incident,
        "welfare_ok" if safe else "welfare_help",
        actor_id=None,
        data={"offer_id": unit.id, "officer_id": unit.officer_id, "safe": safe},
        at=now,
    )
    if not safe:
        await raise_alert(
            session,
            bus,
            "officer_needs_help",
            f"Officer #{unit.officer_id} answered the welfare check: not safe (incident #{incident.id})",
            officer_id=unit.officer_id,
            incident_id=incident.id,
            lat=incident.lat,
            lon=incident.lon,
            data={"offer_id": unit.id},
        )
    announce_offer(session, bus, unit)
    await announce_incident(session, bus, incident)
    return unit
