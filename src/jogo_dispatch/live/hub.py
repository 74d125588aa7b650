"""The dispatchers' live feed: fan-out of bus events to websocket clients, with back-pressure.

A command-centre client (dispatcher, admin) sees every event that is not private; a scoped client (an
agency login) has an ``audience`` and sees only the events naming it, never an officer's position, and a
snapshot from the scoped providers. Each client has a bounded outbox. Positions are coalesced per tracked key (only the latest is kept, and a
key's position goes to a client at most once per ``coalesce_s``); other events are queued in
order, and a client whose queue overflows is disconnected with a reason. Publishing never awaits, so a
slow client can slow neither ingest nor the other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import Event, EventBus, PositionsMoved, Track
from jogo_dispatch.platform.security import Principal

LIVE_CLIENTS = Gauge("jogo_live_clients", "connected live-map websockets")
LIVE_DROPPED = Counter("jogo_live_disconnects_total", "live clients disconnected for falling behind")


def server_time() -> str:
    return utcnow().isoformat()


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
    audience: str | None = None  # None: the command centre (everything); else only events naming it
    viewport: Viewport = field(default_factory=Viewport)
    # facet name -> allowed values (e.g. {"status": {"available"}}); a facet not named is not filtered
    filters: dict[str, frozenset[str]] = field(default_factory=dict)
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

    def offer_position(self, key: int, pos: dict[str, Any]) -> None:
        if self.closed_reason:
            return
        self.positions[key] = pos  # keep only the latest per tracked key
        self.wake.set()

    def take(self, now: float) -> tuple[list[dict[str, Any]], float | None]:
        """Messages ready now, and when the next deferred position falls due (None = nothing waits)."""
        out: list[dict[str, Any]] = []
        while self.events:
            out.append(self.events.popleft())
        due: list[dict[str, Any]] = []
        next_due: float | None = None
        for key in list(self.positions):
            ready_at = self.last_sent.get(key, 0.0) + self.coalesce_s
            if ready_at <= now:
                due.append(self.positions.pop(key))
                self.last_sent[key] = now
            elif next_due is None or ready_at < next_due:
                next_due = ready_at
        if due:
            out.append({"type": PositionsMoved.TYPE, "server_time": server_time(), "positions": due})
        return out, next_due


@dataclass(slots=True)
class SnapshotPart:
    """One domain's share of a fresh snapshot: the items a client gets, and the tracks among them the hub
    must know to filter later events (their last place and facets)."""

    items: list[Any]
    tracks: Sequence[Track] = ()


SnapshotProvider = Callable[[AsyncSession], Awaitable[SnapshotPart]]
ScopedSnapshotProvider = Callable[[AsyncSession, str], Awaitable[list[Any]]]
AudienceOf = Callable[[AsyncSession, Principal], Awaitable[str]]


@dataclass(slots=True)
class _Known:
    lat: float | None = None
    lon: float | None = None
    facets: dict[str, str | None] = field(default_factory=dict)
    item: dict[str, Any] | None = None  # the latest coalesced item, replayed on a viewport change


class LiveHub:
    """Knows events only through ``place``, ``subject``, ``facets`` and ``tracks``: no domain fields."""

    def __init__(self, bus: EventBus, coalesce_s: float = 0.5, max_queue: int = 2000) -> None:
        self.coalesce_s = coalesce_s
        self.max_queue = max_queue
        self.clients: set[LiveClient] = set()
        self.known: dict[int, _Known] = {}  # per tracked key: last place and facets, for filtering
        self.snapshot_providers: dict[str, SnapshotProvider] = {}
        # For scoped clients: their audience from their login (raises an AppError when they have none),
        # and their snapshot (items only: scoped clients get no positions to filter).
        self.audience_of: AudienceOf | None = None
        self.scoped_snapshot_providers: dict[str, ScopedSnapshotProvider] = {}
        bus.subscribe(self.on_event)

    def connect(self, audience: str | None = None) -> LiveClient:
        client = LiveClient(self.coalesce_s, self.max_queue, audience)
        self.clients.add(client)
        LIVE_CLIENTS.set(len(self.clients))
        return client

    def disconnect(self, client: LiveClient) -> None:
        self.clients.discard(client)
        LIVE_CLIENTS.set(len(self.clients))

    async def snapshot(self, session: AsyncSession, audience: str | None = None) -> dict[str, Any]:
        """``{name: items}`` from every provider; the tracks among them are remembered for filtering. A
        scoped client's snapshot comes from the scoped providers only."""
        out: dict[str, Any] = {}
        if audience is not None:
            for name, scoped in self.scoped_snapshot_providers.items():
                out[name] = await scoped(session, audience)
            return out
        for name, provider in self.snapshot_providers.items():
            part = await provider(session)
            out[name] = part.items
            for track in part.tracks:
                known = self.known.setdefault(track.key, _Known())
                known.lat, known.lon = track.lat, track.lon
                known.facets.update(track.facets)
        return out

    def _visible(self, client: LiveClient, key: int, lat: float | None, lon: float | None) -> bool:
        if client.audience is not None:  # tracks are the command centre's
            return False
        known = self.known.get(key)
        facets = known.facets if known is not None else {}
        for name, allowed in client.filters.items():
            if facets.get(name) not in allowed:
                return False
        return client.viewport.contains(lat, lon)

    def on_event(self, event: Event) -> None:
        if event.PRIVATE:
            return
        if isinstance(event, PositionsMoved):
            self._fan_tracks(list(event.tracks()))
            return
        subject = event.subject()
        known = None
        payload = event.payload()
        if subject is not None:
            known = self.known.setdefault(subject, _Known())
            known.facets.update(event.facets())
            if known.item is not None:
                # What a viewport change replays says the latest status and presence, not the last fix's.
                known.item = {**known.item, **{k: v for k, v in payload.items() if k in known.item}}
        if not self.clients:
            return
        message = {"type": event.TYPE, "server_time": event.at.isoformat(), **payload}
        lat, lon = (known.lat, known.lon) if known is not None else event.place()
        audience = event.audience()
        for client in self.clients:
            if client.audience is not None and client.audience not in audience:
                continue
            if client.viewport.contains(lat, lon):
                client.offer_event(message)

    def replay_viewport(self, client: LiveClient) -> None:
        """After a viewport change, the client gets the latest position of everything now in view."""
        for key, known in self.known.items():
            if known.item is not None and self._visible(client, key, known.lat, known.lon):
                client.offer_position(key, known.item)

    def _fan_tracks(self, tracks: list[Track]) -> None:
        for track in tracks:
            known = self.known.setdefault(track.key, _Known())
            known.lat, known.lon, known.item = track.lat, track.lon, track.item
            known.facets.update(track.facets)
        for client in self.clients:
            if client.audience is not None:
                continue
            for track in tracks:
                if self._visible(client, track.key, track.lat, track.lon):
                    client.offer_position(track.key, track.item)


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
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.wake.wait(), timeout)
