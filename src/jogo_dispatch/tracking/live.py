"""What tracking puts on the live feed: stored positions as ``positions`` events, and the officers of a
fresh snapshot (with what the hub needs to filter them by viewport, status and unit type)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.live.hub import LiveHub, SnapshotPart
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus, PositionsMoved, Track, View
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking.service import list_officers
from jogo_dispatch.tracking.writer import PingWriter, PositionUpdate


def position_view(u: PositionUpdate, settings: Settings, now: datetime) -> View:
    """A stored position as the live map gets it. The phone has just reported (a fix, or a heartbeat that
    refreshed presence at this fix's place), so it is online, or stale when the fix is old."""
    age = max(0.0, (now - u.recorded_at).total_seconds())
    return {
        "officer_id": u.officer_id,
        "lat": u.lat,
        "lon": u.lon,
        "recorded_at": u.recorded_at.isoformat(),
        "speed_mps": u.speed_mps,
        "heading_deg": u.heading_deg,
        "accuracy_m": u.accuracy_m,
        "battery_pct": u.battery_pct,
        "status": u.status,
        "unit_type": u.unit_type,
        "online": True,
        "presence": "stale" if age > settings.stale_after_s else "online",
        "position_age_s": round(age, 1),
    }


def publish_positions(writer: PingWriter, bus: EventBus, settings: Settings) -> None:
    """Every commit of the ping writer becomes one ``positions`` event."""

    def publish(moved: Sequence[PositionUpdate]) -> None:
        now = utcnow()
        bus.publish(PositionsMoved(positions=[position_view(u, settings, now) for u in moved]))

    writer.add_after_commit(publish)


def provide_snapshot(hub: LiveHub, settings: Settings) -> None:
    async def officers(session: AsyncSession) -> SnapshotPart:
        items = [o.model_dump(mode="json") for o in await list_officers(session, settings)]
        tracks = [
            Track(
                o["id"],
                o.get("lat"),
                o.get("lon"),
                {"status": o.get("status"), "unit_type": o.get("unit_type")},
                o,
            )
            for o in items
        ]
        return SnapshotPart(items, tracks)

    hub.snapshot_providers["officers"] = officers
