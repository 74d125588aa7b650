"""How simulated phones talk to the server: the same four client paths real phones use.

* ``http``: the JSON API, uploading buffered fixes in batches (``POST /api/v1/pings``)
* ``ws``: the officer stream socket, one message per fix with a sequence number, resent until acked
* ``osmand``: Traccar Client's OsmAnd query string (speed in knots)
* ``traccar``: the same, at Traccar Client's default frequency (a fix every 300 s)
* ``owntracks``: OwnTracks HTTP mode (Basic auth, X-Limit-U/D headers, vel in km/h)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import orjson
import websockets

from jogo_dispatch.devtools.demo import SimOfficer

KNOTS_PER_MPS = 3600 / 1852


@dataclass
class Fix:
    lat: float
    lon: float
    at: datetime
    speed: float
    heading: float
    accuracy: float
    battery: float


@dataclass
class Counters:
    sent: int = 0
    acked: int = 0
    failed: int = 0
    by_protocol: dict[str, int] = field(default_factory=dict)

    def ok(self, protocol: str, n: int = 1) -> None:
        self.acked += n
        self.by_protocol[protocol] = self.by_protocol.get(protocol, 0) + n


class Phone:
    protocol = "http"

    def __init__(self, officer: SimOfficer, client: httpx.AsyncClient, counters: Counters) -> None:
        self.officer = officer
        self.client = client
        self.counters = counters

    async def send(self, fix: Fix) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class HttpBatchPhone(Phone):
    """Buffers fixes and uploads them in batches; keeps what was not acknowledged for the next try."""

    protocol = "http"
    batch = 3

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.buffer: list[dict[str, Any]] = []

    async def send(self, fix: Fix) -> None:
        self.buffer.append(
            {
                "lat": round(fix.lat, 6),
                "lon": round(fix.lon, 6),
                "recorded_at": fix.at.isoformat(),
                "speed_mps": round(fix.speed, 2),
                "heading_deg": fix.heading,
                "accuracy_m": fix.accuracy,
                "battery_pct": fix.battery,
            }
        )
        if len(self.buffer) < self.batch:
            return
        body, self.buffer = self.buffer, []
        self.counters.sent += len(body)
        try:
            r = await self.client.post(
                "/api/v1/pings",
                content=orjson.dumps(body),
                headers={"Authorization": f"Bearer {self.officer.token}", "Content-Type": "application/json"},
            )
            r.raise_for_status()
            self.counters.ok(self.protocol, len(body))
        except httpx.HTTPError:
            self.counters.failed += len(body)
            self.buffer = body + self.buffer  # retried with the next upload; duplicates are refused


class OsmAndPhone(Phone):
    protocol = "osmand"

    async def send(self, fix: Fix) -> None:
        params = {
            "id": self.officer.device,
            "lat": f"{fix.lat:.6f}",
            "lon": f"{fix.lon:.6f}",
            "timestamp": str(int(fix.at.timestamp())),
            "speed": f"{fix.speed * KNOTS_PER_MPS:.2f}",
            "bearing": f"{fix.heading:.0f}",
            "accuracy": f"{fix.accuracy:.1f}",
            "batt": f"{fix.battery:.0f}",
        }
        self.counters.sent += 1
        try:
            r = await self.client.post("/osmand", params=params)
            r.raise_for_status()
            self.counters.ok(self.protocol)
        except httpx.HTTPError:
            self.counters.failed += 1


class TraccarClientPhone(OsmAndPhone):
    """Traccar Client as installed, its default settings untouched: one fix every 300 s however often the
    simulation moves the officer. The server keeps such an officer dispatchable (stale between fixes,
    never offline); it reports its place only, so the dispatcher assigns it by radio."""

    protocol = "traccar"
    every_s = 300.0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.last_fix: datetime | None = None

    async def send(self, fix: Fix) -> None:
        if self.last_fix is not None and (fix.at - self.last_fix).total_seconds() < self.every_s:
            return
        self.last_fix = fix.at
        await super().send(fix)


class OwnTracksPhone(Phone):
    protocol = "owntracks"

    async def send(self, fix: Fix) -> None:
        o = self.officer
        body = {
            "_type": "location",
            "lat": round(fix.lat, 6),
            "lon": round(fix.lon, 6),
            "tst": int(fix.at.timestamp()),
            "acc": round(fix.accuracy),
            "vel": round(fix.speed * 3.6),
            "cog": round(fix.heading),
            "batt": round(fix.battery),
            "tid": o.badge[-2:],
            "t": "p",
        }
        auth = base64.b64encode(f"{o.badge}:{o.token}".encode()).decode()
        self.counters.sent += 1
        try:
            r = await self.client.post(
                "/owntracks",
                content=orjson.dumps(body),
                headers={
                    "Authorization": f"Basic {auth}",
                    "X-Limit-U": o.badge,
                    "X-Limit-D": o.device,
                    "Content-Type": "application/json",
                },
            )
            r.raise_for_status()
            self.counters.ok(self.protocol)
        except httpx.HTTPError:
            self.counters.failed += 1


class StreamPhone(Phone):
    """One websocket per phone; every fix carries a sequence number and is resent until acked."""

    protocol = "ws"

    def __init__(
        self,
        officer: SimOfficer,
        client: httpx.AsyncClient,
        counters: Counters,
        ws_url: str,
        on_message: Any = None,
    ) -> None:
        super().__init__(officer, client, counters)
        self.url = f"{ws_url}/api/v1/officers/stream?token={officer.token}"
        self.unacked: dict[int, dict[str, Any]] = {}
        self.seq = 0
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.on_message = on_message
        self.walker: Any = None  # set by the simulation: whom this phone moves

    async def _connect(self) -> None:
        self.ws = await websockets.connect(self.url, open_timeout=10)
        self.reader = asyncio.create_task(self._read(self.ws))
        for seq, msg in sorted(self.unacked.items()):
            await self.ws.send(orjson.dumps({"type": "ping", "seq": seq, "ping": msg}).decode())

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                msg = orjson.loads(raw)
                if msg.get("type") == "ack" and self.unacked.pop(msg.get("seq"), None) is not None:
                    self.counters.ok(self.protocol)
                elif msg.get("type") == "error" and msg.get("seq") in self.unacked:
                    # Refused for now (e.g. the database is restarting): resend it a little later.
                    asyncio.get_running_loop().call_later(1.0, self._resend, msg["seq"])
                elif self.on_message is not None:
                    await self.on_message(self, msg)

    def _resend(self, seq: int) -> None:
        ping = self.unacked.get(seq)
        if ping is not None and self.ws is not None:
            asyncio.ensure_future(self.send_json({"type": "ping", "seq": seq, "ping": ping}))

    async def send(self, fix: Fix) -> None:
        self.seq += 1
        ping = {
            "lat": round(fix.lat, 6),
            "lon": round(fix.lon, 6),
            "recorded_at": fix.at.isoformat(),
            "speed_mps": round(fix.speed, 2),
            "heading_deg": fix.heading,
            "accuracy_m": fix.accuracy,
            "battery_pct": fix.battery,
        }
        self.unacked[self.seq] = ping
        self.counters.sent += 1
        try:
            if self.ws is None or self.ws.state.name != "OPEN":
                await self._connect()
            else:
                await self.ws.send(orjson.dumps({"type": "ping", "seq": self.seq, "ping": ping}).decode())
        except (OSError, websockets.WebSocketException, TimeoutError):
            self.counters.failed += 1
            self.ws = None

    async def send_json(self, message: dict[str, Any]) -> None:
        if self.ws is not None:
            with contextlib.suppress(websockets.WebSocketException):
                await self.ws.send(orjson.dumps(message).decode())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


PROTOCOLS = {
    "http": HttpBatchPhone,
    "osmand": OsmAndPhone,
    "traccar": TraccarClientPhone,
    "owntracks": OwnTracksPhone,
    "ws": StreamPhone,
}
