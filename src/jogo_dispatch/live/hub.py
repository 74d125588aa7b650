"""The dispatchers' live feed: fan-out of bus events to websocket clients, with back-pressure.

Each client has a bounded outbox. Positions are coalesced per officer (only the latest is kept, and an
officer's position goes to a client at most once per ``coalesce_s``); other events are queued in
order, and a client whose queue overflows is disconnected with a reason. Publishing never awaits, so a
slow client can slow neither ingest nor the other clients.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge

from jogo_dispatch.platform.events import Event, EventBus

LIVE_CLIENTS = Gauge("jogo_live_clients", "connected live-map websockets")
LIVE_DROPPED = Counter("jogo_live_disconnects_total", "live clients disconnected for falling behind")

PRIVATE_EVENTS = frozenset({"officer_message", "credentials_changed"})


def server_time() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(slots=True)
class Viewport:
    w: float = -180.0
    s: float = -90.0
    e: float = 180.0
    n: float = 90.0

    def contains(self, lat: float | None, lon: float | None) -> bool:
        if lat is None or lon is None:
            return True
        return self.s <= lat <= self.n and self.w <= lon <= self.e


@dataclass(eq=False)
class LiveClient:
    coalesce_s: float
    max_queue: int
    viewport: Viewport = field(default_factory=Viewport)
    statuses: frozenset[str] | None = None
    unit_types: frozenset[str] | None = None
    positions: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_sent: dict[int, float] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed_reason: str | None = None

    def overflowed(self) -> bool:
        return len(self.events) > self.max_queue

    def offer_event(self, message: dict[str, Any]) -> None:
        if self.closed_reason:
            return
        self.events.append(message)
        if self.overflowed():
            self.closed_reason = "too_slow: outbox overflow, reconnect to get a fresh snapshot"
            LIVE_DROPPED.inc()
        self.wake.set()

    def offer_position(self, pos: dict[str, Any]) -> None:
        if self.closed_reason:
            return
        self.positions[pos["officer_id"]] = pos  # keep only the latest per officer
        self.wake.set()

    def take(self, now: float) -> tuple[list[dict[str, Any]], float | None]:
        """Messages ready now, and when the next deferred position falls due (None = nothing waits)."""
        out: list[dict[str, Any]] = []
        while self.events:
            out.append(self.events.popleft())
        due: list[dict[str, Any]] = []
        next_due: float | None = None
        for officer_id in list(self.positions):
            ready_at = self.last_sent.get(officer_id, 0.0) + self.coalesce_s
            if ready_at <= now:
                due.append(self.positions.pop(officer_id))
                self.last_sent[officer_id] = now
            elif next_due is None or ready_at < next_due:
                next_due = ready_at
        if due:
            out.append({"type": "positions", "server_time": server_time(), "positions": due})
        return out, next_due


class LiveHub:
    def __init__(self, bus: EventBus, coalesce_s: float = 0.5, max_queue: int = 2000) -> None:
        self.coalesce_s = coalesce_s
        self.max_queue = max_queue
        self.clients: set[LiveClient] = set()
        # What the hub knows of each officer, for viewport and status/unit filters.
        self.officers: dict[int, dict[str, Any]] = {}
        self.snapshot_providers: dict[str, Callable[[], Any]] = {}
        bus.subscribe(self.on_event)

    def connect(self) -> LiveClient:
        client = LiveClient(self.coalesce_s, self.max_queue)
        self.clients.add(client)
        LIVE_CLIENTS.set(len(self.clients))
        return client

    def disconnect(self, client: LiveClient) -> None:
        self.clients.discard(client)
        LIVE_CLIENTS.set(len(self.clients))

    def remember(self, officers: list[dict[str, Any]]) -> None:
        for o in officers:
            self.officers[o["id"]] = {
                "status": o.get("status"),
                "unit_type": o.get("unit_type"),
                "lat": o.get("lat"),
                "lon": o.get("lon"),
            }

    def _officer_visible(
        self, client: LiveClient, officer_id: int, lat: float | None, lon: float | None
    ) -> bool:
        info = self.officers.get(officer_id, {})
        if client.statuses is not None and info.get("status") not in client.statuses:
            return False
        if client.unit_types is not None and info.get("unit_type") not in client.unit_types:
            return False
        return client.viewport.contains(lat, lon)

    def on_event(self, event: Event) -> None:
        if event.type in PRIVATE_EVENTS:
            return
        if event.type == "positions":
            self._fan_positions(event.data["positions"])
            return
        data = event.data
        if event.type == "status":
            self.officers.setdefault(data["officer_id"], {})["status"] = data["status"]
        if not self.clients:
            return
        message = {"type": event.type, "server_time": event.at.isoformat(), **data}
        lat, lon = _coordinates(data)
        officer_id = data.get("officer_id")
        for client in self.clients:
            if officer_id is not None and event.type in ("status", "presence"):
                info = self.officers.get(officer_id, {})
                if not client.viewport.contains(info.get("lat"), info.get("lon")):
                    continue
            elif not client.viewport.contains(lat, lon):
                continue
            client.offer_event(message)

    def replay_viewport(self, client: LiveClient) -> None:
        """After a viewport change, the client gets the latest position of everyone now in view."""
        for officer_id, info in self.officers.items():
            pos = info.get("position")
            if pos is not None and self._officer_visible(client, officer_id, pos["lat"], pos["lon"]):
                client.offer_position(pos)

    def _fan_positions(self, positions: list[dict[str, Any]]) -> None:
        for pos in positions:
            info = self.officers.setdefault(pos["officer_id"], {})
            info["lat"], info["lon"], info["position"] = pos["lat"], pos["lon"], pos
        for client in self.clients:
            for pos in positions:
                if self._officer_visible(client, pos["officer_id"], pos["lat"], pos["lon"]):
                    client.offer_position(pos)


def _coordinates(data: dict[str, Any]) -> tuple[float | None, float | None]:
    for key in ("incident", "alert", "report", "offer"):
        inner = data.get(key)
        if isinstance(inner, dict) and "lat" in inner:
            return inner.get("lat"), inner.get("lon")
    return data.get("lat"), data.get("lon")


async def pump(client: LiveClient, send: Callable[[dict[str, Any]], Any], batch_s: float = 0.02) -> str:
    """Deliver the client's outbox until it must be closed; returns the reason. After a wake-up it
    lingers ``batch_s`` so that positions arriving together leave in one message (fewer sends per
    client at the price of a few milliseconds); other events (alerts, incidents) leave at once."""
    while True:
        if client.closed_reason:
            return client.closed_reason
        if batch_s and not client.events:
            await asyncio.sleep(batch_s)
        messages, next_due = client.take(time.monotonic())
        for m in messages:
            await send(m)
        client.wake.clear()
        timeout = None if next_due is None else max(0.0, next_due - time.monotonic())
        if client.events or (timeout == 0.0):
            continue
        try:
            await asyncio.wait_for(client.wake.wait(), timeout)
        except TimeoutError:
            pass
