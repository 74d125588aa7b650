"""``/api/v1/officers/stream``: the officer's phone socket.

Envelope, both ways: JSON objects with a ``type``. The phone sends
``{"type": "pings", "seq": n, "pings": [ping, ...]}`` (or ``"ping": {...}``), and gets
``{"type": "ack", "seq": n, "accepted": k, "rejected": [...]}`` only after those pings are committed;
resending an unacknowledged message after a reconnect creates no duplicates (they come back as
``duplicate`` rejections, and are acknowledged). The server pushes ``{"type": "offer", ...}`` and other
officer messages over the same socket; ``{"type": "error", "seq": n?, "error": {...}}`` reports a bad
message without closing the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from jogo_dispatch.errors import AppError, InvalidInput, PayloadTooLarge
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import BINARY_FRAME, receive_text, websocket_principal, ws_close_code
from jogo_dispatch.platform.sockets import REVOKED_CLOSE_CODE, REVOKED_REASON
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.tracking.channels import OfficerConnection, now_iso
from jogo_dispatch.tracking.wire import Decoded, decode_message, general_items

log = structlog.get_logger(__name__)
router = APIRouter(route_class=IdempotentRoute, tags=["tracking"])

MAX_IN_FLIGHT = 16


async def _pings(
    rt: Runtime, officer_id: int, device_id: int | None, seq: Any, cols: Decoded, conn: OfficerConnection
) -> None:
    result = await rt.ingest.submit_columns(cols, officer_id=officer_id, source="ws", device_id=device_id)
    conn.push(
        {
            "type": "ack",
            "seq": seq,
            "accepted": result.accepted,
            "rejected": [{"index": i, "reason": r} for i, r in result.rejected],
        }
    )


async def _handle_pings(
    rt: Runtime, officer_id: int, device_id: int | None, seq: Any, cols: Decoded, conn: OfficerConnection
) -> None:
    """A ``pings`` message read by the fast decoder (tracking.wire): the same answers as :func:`_handle`."""
    try:
        await _pings(rt, officer_id, device_id, seq, cols, conn)
    except AppError as exc:
        log.info("fix rejected", reason=exc.code, source="ws", officer_id=officer_id, device_id=device_id)
        conn.push({"type": "error", "seq": seq, **exc.body()})


async def _handle(
    rt: Runtime, officer_id: int, device_id: int | None, msg: Any, conn: OfficerConnection
) -> None:
    seq = msg.get("seq") if isinstance(msg, dict) else None
    try:
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise InvalidInput("message must be a JSON object with a type", code="bad_message")
        kind = msg["type"]
        if kind in ("pings", "ping"):
            items = msg.get("pings", msg.get("ping"))
            items = items if isinstance(items, list) else [items]
            if len(items) > rt.settings.max_batch:
                raise PayloadTooLarge(f"at most {rt.settings.max_batch} pings per message")
            await _pings(rt, officer_id, device_id, seq, general_items(items), conn)
        elif kind == "pong":
            pass
        else:
            handler = rt.hooks.officer_socket.get(kind)
            if handler is None:
                raise InvalidInput(f"unknown message type {kind!r}", code="unknown_type")
            reply = await handler(rt, officer_id, msg)
            if reply is not None:
                conn.push({**reply, "seq": seq})
    except AppError as exc:
        if isinstance(msg, dict) and msg.get("type") in ("pings", "ping"):
            # The whole message is refused (too many pings, ...): one line for it, as for a refused fix.
            log.info("fix rejected", reason=exc.code, source="ws", officer_id=officer_id, device_id=device_id)
        conn.push({"type": "error", "seq": seq, **exc.body()})


@router.websocket("/api/v1/officers/stream")
async def officer_stream(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.runtime
    await ws.accept()
    try:
        principal = await websocket_principal(ws, rt.auth, "officer")
    except AppError as exc:
        await ws.send_text(orjson.dumps({"type": "error", "server_time": now_iso(), **exc.body()}).decode())
        await ws.close(code=ws_close_code(exc), reason=exc.code)
        return
    officer_id = principal.officer_id
    if officer_id is None:
        await ws.close(code=4403, reason="not_an_officer")
        return
    conn = OfficerConnection(ws)
    channels = rt.officer_channels
    channels.add(officer_id, conn)
    sender = asyncio.create_task(conn.sender())
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()
    conn.push({"type": "hello", "officer_id": officer_id})

    async def run(msg: Any) -> None:
        try:
            await _handle(rt, officer_id, principal.device_id, msg, conn)
        finally:
            in_flight.release()

    async def run_pings(seq: Any, cols: Decoded) -> None:
        try:
            await _handle_pings(rt, officer_id, principal.device_id, seq, cols, conn)
        finally:
            in_flight.release()

    async def close_when_revoked(revoked: asyncio.Event) -> None:
        await revoked.wait()
        with contextlib.suppress(Exception):
            await ws.close(code=REVOKED_CLOSE_CODE, reason=REVOKED_REASON)

    revoked = rt.sockets.opened(principal)
    closer = asyncio.create_task(close_when_revoked(revoked))
    try:
        while True:
            raw = await receive_text(ws)
            if raw is None:
                conn.push({"type": "error", "error": BINARY_FRAME})
                continue
            fast = decode_message(raw, rt.settings.max_batch)
            if fast is not None:
                await in_flight.acquire()
                task = asyncio.create_task(run_pings(fast[0].seq, fast[1]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                continue
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                conn.push({"type": "error", "error": {"code": "invalid_json", "message": "not JSON"}})
                continue
            await in_flight.acquire()
            task = asyncio.create_task(run(msg))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    except (WebSocketDisconnect, RuntimeError):  # RuntimeError: receiving after our own close
        pass
    finally:
        closer.cancel()
        rt.sockets.closed(revoked)
        channels.remove(officer_id, conn)
        # Pings already handed to the writer are committed even if the phone is gone; it will resend
        # what it did not see acknowledged, and duplicates are refused.
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        sender.cancel()
