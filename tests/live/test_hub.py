"""The live hub's rules, without sockets: coalescing, viewport, filters, back-pressure."""

from __future__ import annotations

import asyncio

from jogo_dispatch.live.hub import LiveHub, SnapshotPart, Viewport, pump
from jogo_dispatch.platform.events import (
    AlertRaised,
    EventBus,
    OfficerMessage,
    OfficerStatusChanged,
    PositionsMoved,
    Track,
)


def remember(hub: LiveHub, officers: list[dict]) -> None:
    """What a fresh snapshot teaches the hub about these officers."""

    async def part(_session: object) -> SnapshotPart:
        facets = ("status", "unit_type")
        return SnapshotPart(
            officers, [Track(o["id"], None, None, {k: o[k] for k in facets}, o) for o in officers]
        )

    hub.snapshot_providers["officers"] = part
    asyncio.run(hub.snapshot(None))  # type: ignore[arg-type]


def pos(oid: int, lat: float = -7.97, lon: float = 112.63, t: int = 0) -> dict:
    return {"officer_id": oid, "lat": lat, "lon": lon, "recorded_at": str(t)}


def test_positions_are_coalesced_per_officer_within_the_interval():
    bus = EventBus()
    hub = LiveHub(bus, coalesce_s=0.5)
    c = hub.connect()
    bus.publish(PositionsMoved(positions=[pos(1, t=1), pos(2, t=1)]))
    out, nxt = c.take(now=100.0)
    assert [p["officer_id"] for p in out[0]["positions"]] == [1, 2] and nxt is None
    for t in range(2, 6):  # four more fixes of officer 1 inside the interval
        bus.publish(PositionsMoved(positions=[pos(1, t=t)]))
    out, nxt = c.take(now=100.2)
    assert out == [] and nxt == 100.5
    out, _ = c.take(now=100.5)
    assert [(p["officer_id"], p["recorded_at"]) for p in out[0]["positions"]] == [(1, "5")]  # only the latest


def test_viewport_and_filters():
    bus = EventBus()
    hub = LiveHub(bus, coalesce_s=0)
    remember(
        hub,
        [
            {"id": 1, "status": "available", "unit_type": "car"},
            {"id": 2, "status": "busy", "unit_type": "foot"},
        ],
    )
    c = hub.connect()
    c.viewport = Viewport(112.6, -8.0, 112.7, -7.9)
    bus.publish(PositionsMoved(positions=[pos(1), pos(2, lat=-7.3, lon=112.7)]))  # 2 is in Surabaya
    out, _ = c.take(1.0)
    assert [p["officer_id"] for p in out[0]["positions"]] == [1]
    c.filters = {"status": frozenset({"busy"})}
    bus.publish(PositionsMoved(positions=[pos(1, t=2), pos(2, lat=-7.3, lon=112.7, t=2)]))
    out, _ = c.take(2.0)
    assert out == []
    bus.publish(AlertRaised(alert={"id": 9, "kind": "x", "lat": -7.95, "lon": 112.65}))
    bus.publish(AlertRaised(alert={"id": 10, "kind": "x", "lat": -6.2, "lon": 106.8}))  # Jakarta: outside
    out, _ = c.take(3.0)
    assert [m["alert"]["id"] for m in out] == [9]
    assert all("server_time" in m and "type" in m for m in out)


def test_private_events_never_reach_the_live_feed():
    bus = EventBus()
    hub = LiveHub(bus)
    c = hub.connect()
    bus.publish(OfficerMessage(officer_id=1, message={"type": "offer"}))
    assert c.take(1.0)[0] == []


async def test_slow_client_is_cut_off_and_others_are_not_slowed():
    bus = EventBus()
    hub = LiveHub(bus, coalesce_s=0, max_queue=50)
    slow, fast = hub.connect(), hub.connect()
    received: list[dict] = []

    async def fast_send(m: dict) -> None:
        received.append(m)

    async def stuck_send(m: dict) -> None:
        await asyncio.sleep(3600)

    fast_task = asyncio.create_task(pump(fast, fast_send))
    slow_task = asyncio.create_task(pump(slow, stuck_send))
    for i in range(200):
        bus.publish(OfficerStatusChanged(officer_id=i, status="busy", previous="available"))  # never awaits
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert slow.closed_reason and slow.closed_reason.startswith("too_slow")
    assert len(slow.events) <= 51  # bounded: it stopped queueing once over the limit
    assert sum(1 for m in received if m["type"] == "status") == 200
    slow_task.cancel()
    fast_task.cancel()
    assert fast.closed_reason is None


def test_viewport_change_replays_latest_positions_now_in_view():
    bus = EventBus()
    hub = LiveHub(bus, coalesce_s=0)
    c = hub.connect()
    c.viewport = Viewport(112.6, -7.4, 112.8, -7.2)  # Surabaya
    bus.publish(PositionsMoved(positions=[pos(1, t=7)]))  # Malang: not sent
    assert c.take(1.0)[0] == []
    c.viewport = Viewport(112.6, -8.0, 112.7, -7.9)
    hub.replay_viewport(c)
    out, _ = c.take(2.0)
    assert [(p["officer_id"], p["recorded_at"]) for p in out[0]["positions"]] == [(1, "7")]
