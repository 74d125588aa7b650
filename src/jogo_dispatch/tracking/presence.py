"""Online/offline: an officer whose phone reported nothing for ``online_after_s`` is offline. A report
is a fix, or a heartbeat or approximate fix (``officer_positions.seen_at``): those keep the officer
online at the last known position. The monitor flips the stored flag in one statement (safe with
several server processes: a row flips once), records an officer_event for each change and publishes it."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import text

from jogo_dispatch.platform.events import OfficerPresence
from jogo_dispatch.runtime import Runtime

log = structlog.get_logger(__name__)

_FLIP = text("""
WITH state AS (
    SELECT o.id,
           coalesce(greatest(p.recorded_at, p.seen_at) > now() - make_interval(secs => :after), false) AS online,
           p.recorded_at, p.battery_pct
    FROM officers o LEFT JOIN officer_positions p ON p.officer_id = o.id
), flipped AS (
    UPDATE officers o SET online = s.online, presence_changed_at = now()
    FROM state s WHERE s.id = o.id AND o.online IS DISTINCT FROM s.online
    RETURNING o.id, o.online, s.recorded_at, s.battery_pct
), logged AS (
    INSERT INTO officer_events (officer_id, kind, data)
    SELECT id, CASE WHEN online THEN 'online' ELSE 'offline' END,
           jsonb_build_object('last_fix', recorded_at, 'battery_pct', battery_pct)
    FROM flipped
)
SELECT id, online, recorded_at FROM flipped
""")


async def sweep(rt: Runtime) -> list[tuple[int, bool]]:
    async with rt.sessions() as session:
        rows = (await session.execute(_FLIP, {"after": rt.settings.online_after_s})).all()
        await session.commit()
    for officer_id, online, recorded_at in rows:
        rt.bus.publish(
            OfficerPresence(
                officer_id=officer_id,
                online=online,
                last_fix=recorded_at.isoformat() if recorded_at else None,
            )
        )
    return [(r[0], r[1]) for r in rows]


async def presence_loop(rt: Runtime, every_s: float = 2.0) -> None:
    while True:
        try:
            await sweep(rt)
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("presence sweep failed")
        await asyncio.sleep(every_s)
