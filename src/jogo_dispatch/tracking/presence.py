"""Presence: online; stale once the last fix is older than ``stale_after_s`` (still dispatched); offline
once the phone reported nothing at all for ``offline_after_s``. A report is a fix, or a heartbeat or
approximate fix (``officer_positions.seen_at``): those keep the officer dispatchable at the last known
position. The monitor flips the stored flag (``officers.online``: online or stale) in one statement (safe
with several server processes: a row flips once), records an officer_event for each change and
publishes it. Going stale is recorded too (``presence_changed_at`` later than the moment the fix went
stale says it was); going back from stale to online is the next fix itself (its ``positions`` event says
``presence: online``)."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import text

from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import OfficerPresence
from jogo_dispatch.runtime import Runtime

log = structlog.get_logger(__name__)

_FLIP = text("""
WITH state AS (
    SELECT o.id, p.recorded_at, p.battery_pct,
           CASE WHEN greatest(p.recorded_at, p.seen_at) > now() - make_interval(secs => :offline) THEN
                CASE WHEN p.recorded_at > now() - make_interval(secs => :stale) THEN 'online' ELSE 'stale' END
           ELSE 'offline' END AS presence
    FROM officers o LEFT JOIN officer_positions p ON p.officer_id = o.id
), flipped AS (
    UPDATE officers o SET online = s.presence <> 'offline', presence_changed_at = now()
    FROM state s
    WHERE s.id = o.id
      AND (o.online IS DISTINCT FROM (s.presence <> 'offline')
           OR (s.presence = 'stale' AND o.online
               AND coalesce(o.presence_changed_at < s.recorded_at + make_interval(secs => :stale), true)))
    RETURNING o.id, s.presence, s.recorded_at, s.battery_pct
), logged AS (
    INSERT INTO officer_events (officer_id, kind, data)
    SELECT id, presence, jsonb_build_object('last_fix', recorded_at, 'battery_pct', battery_pct)
    FROM flipped
)
SELECT id, presence, recorded_at FROM flipped
""")


async def sweep(rt: Runtime) -> list[tuple[int, bool]]:
    """Officers whose presence changed, and whether each is dispatchable now."""
    settings = rt.settings
    async with rt.sessions() as session:
        rows = (
            await session.execute(
                _FLIP, {"offline": settings.offline_after_s, "stale": settings.stale_after_s}
            )
        ).all()
        await session.commit()
    now = utcnow()
    for officer_id, presence, recorded_at in rows:
        rt.bus.publish(
            OfficerPresence(
                officer_id=officer_id,
                online=presence != "offline",
                presence=presence,
                position_age_s=round((now - recorded_at).total_seconds(), 1) if recorded_at else None,
                last_fix=recorded_at.isoformat() if recorded_at else None,
            )
        )
    return [(r[0], r[1] != "offline") for r in rows]


async def presence_loop(rt: Runtime, every_s: float = 2.0) -> None:
    while True:
        try:
            await sweep(rt)
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("presence sweep failed")
        await asyncio.sleep(every_s)
