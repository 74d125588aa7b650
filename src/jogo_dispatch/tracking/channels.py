"""The officer sockets open in this process, and how a message reaches one from any process."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

import orjson
from fastapi import WebSocket

from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus, OfficerMessage


def now_iso() -> str:
    return utcnow().isoformat()


class OfficerChannels:
    """Open officer sockets in this process; messages for an officer arrive as bus events
    (``officer_message``) so that any process can address an officer connected to another."""

    def __init__(self, bus: EventBus) -> None:
        self._sockets: dict[int, set[OfficerConnection]] = defaultdict(set)
        bus.on(OfficerMessage, self._on_message)

    def _on_message(self, event: OfficerMessage) -> None:
        for conn in list(self._sockets.get(event.officer_id, ())):
            conn.push(event.message)

    def add(self, officer_id: int, conn: OfficerConnection) -> None:
        self._sockets[officer_id].add(conn)

    def remove(self, officer_id: int, conn: OfficerConnection) -> None:
        self._sockets[officer_id].discard(conn)
        if not self._sockets[officer_id]:
            del self._sockets[officer_id]

    def connected(self, officer_id: int) -> bool:
        return officer_id in self._sockets


class OfficerConnection:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    def push(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.outbox.put_nowait({**message, "server_time": message.get("server_time") or now_iso()})

    async def sender(self) -> None:
        while True:
            msg = await self.outbox.get()
            await self.ws.send_text(orjson.dumps(msg).decode())
