"""Cross-process relay of bus events through PostgreSQL LISTEN/NOTIFY.

Every process publishes its events on one channel and delivers the others' events locally, so a ping
stored by one API process reaches a dispatcher whose websocket is held by another. NOTIFY is
transactional and limited to 8000 bytes a payload: position batches are split to fit.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime
from typing import Any

import orjson
import psycopg
import structlog
from prometheus_client import Counter

from jogo_dispatch.platform.events import Event, EventBus
from jogo_dispatch.platform.events import decode as decode_event

log = structlog.get_logger(__name__)
CHANNEL = "jogo_events"
MAX_PAYLOAD = 7800
RELAY_DROPPED = Counter("jogo_relay_dropped_total", "events not relayed to other processes", ["reason"])


def encode(origin: str, event: Event) -> list[str]:
    """One event as NOTIFY payloads (several when a position batch is too big for one)."""

    payload = orjson.dumps(
        {"o": origin, "t": event.TYPE, "at": event.at.isoformat(), "d": event.payload()}
    ).decode()
    if len(payload) <= MAX_PAYLOAD:
        return [payload]
    halves = event.halves()
    if halves is None:
        RELAY_DROPPED.labels("too_big").inc()
        return []
    return [*encode(origin, halves[0]), *encode(origin, halves[1])]


def decode(payload: str) -> tuple[str, Event]:
    raw = orjson.loads(payload)
    return raw["o"], decode_event(raw["t"], raw["d"], datetime.fromisoformat(raw["at"]))


class PostgresRelay:
    def __init__(self, conninfo: str, bus: EventBus, queue_max: int = 10_000) -> None:
        self.origin = uuid.uuid4().hex[:12]
        self._conninfo = conninfo
        self._bus = bus
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_max)
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._bus.add_outbound(self._outbound)
        self._tasks = [
            asyncio.create_task(self._listen(), name="relay-listen"),
            asyncio.create_task(self._send(), name="relay-send"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), 10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _outbound(self, event: Event) -> None:
        for payload in encode(self.origin, event):
            try:
                self._queue.put_nowait(payload)
            except asyncio.QueueFull:
                RELAY_DROPPED.labels("queue_full").inc()

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    delay = 0.2
                    async for note in conn.notifies():
                        origin, event = decode(note.payload)
                        if origin != self.origin:
                            self._bus.deliver(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect and keep listening
                self.listening.clear()
                log.warning("event relay listener lost its connection", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _send(self) -> None:
        conn: psycopg.AsyncConnection[Any] | None = None
        while True:
            payload = await self._queue.get()
            batch = [payload]
            while not self._queue.empty() and len(batch) < 200:
                batch.append(self._queue.get_nowait())
            try:
                if conn is None or conn.closed:
                    conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with conn.transaction():
                    for p in batch:
                        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, p))
            except Exception as exc:  # noqa: BLE001 - these events are lost to other processes only
                RELAY_DROPPED.labels("send_failed").inc(len(batch))
                log.warning("event relay send failed", error=str(exc))
                conn = None
                await asyncio.sleep(0.5)
