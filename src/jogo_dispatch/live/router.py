"""``WS /api/v1/live``: the dispatchers' and agencies' live feed (see live.hub for the rules)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Protocol

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jogo_dispatch.errors import AppError, Forbidden
from jogo_dispatch.live.hub import LiveClient, LiveHub, Viewport, pump, server_time
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import (
    BINARY_FRAME,
    Authenticates,
    Principal,
    receive_text,
    websocket_principal,
    ws_close_code,
)
from jogo_dispatch.platform.sockets import REVOKED_CLOSE_CODE, REVOKED_REASON, OpenSockets

router = APIRouter(route_class=IdempotentRoute, tags=["live"])


class LiveContext(Protocol):
    """What the live feed needs of the running server (live imports no domain)."""

    sessions: async_sessionmaker[AsyncSession]
    auth: Authenticates
    hub: LiveHub
    sockets: OpenSockets


HEARTBEAT_S = 15.0
SILENCE_LIMIT_S = 60.0


async def snapshot(ctx: LiveContext, audience: str | None) -> dict[str, Any]:
    async with ctx.sessions() as session:
        parts = await ctx.hub.snapshot(session, audience)
    return {
        "type": "snapshot",
        "server_time": server_time(),
        "officers": [],
        "incidents": [],
        "alerts": [],
        **parts,
    }


# Client filter names -> the facets the hub filters on.
FILTERS = {"statuses": "status", "unit_types": "unit_type"}


def apply_client_message(client: LiveClient, msg: Any) -> dict[str, Any] | None:
    """Viewport and filters; returns an error message for the client when the message is bad."""
    if not isinstance(msg, dict):
        return {"code": "bad_message", "message": "messages are JSON objects with a type"}
    kind = msg.get("type")
    if kind == "viewport":
        bbox = msg.get("bbox")
        try:
            w, s, e, n = (float(v) for v in bbox)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            return {"code": "bad_bbox", "message": "bbox must be [w, s, e, n]"}
        if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
            return {"code": "bad_bbox", "message": "bbox must satisfy -180<=w<=e<=180, -90<=s<=n<=90"}
        client.viewport = Viewport(w, s, e, n)
    elif kind == "filters":
        client.filters = {
            facet: frozenset(map(str, values))
            for name, facet in FILTERS.items()
            if isinstance(values := msg.get(name), list)
        }
    elif kind not in ("pong", "auth"):
        return {"code": "unknown_type", "message": f"unknown message type {kind!r}"}
    return None


async def _audience(ctx: LiveContext, principal: Principal) -> str | None:
    """None for the command centre; an agency login sees its own agency's share of the feed only."""
    if principal.role != "agency":
        return None
    if ctx.hub.audience_of is None:
        raise Forbidden("the live feed for agencies is not available", code="wrong_role")
    async with ctx.sessions() as session:
        return await ctx.hub.audience_of(session, principal)


@router.websocket("/api/v1/live")
async def live(ws: WebSocket) -> None:
    ctx: LiveContext = ws.app.state.runtime
    await ws.accept()
    try:
        principal = await websocket_principal(ws, ctx.auth, "dispatcher", "admin", "agency")
        audience = await _audience(ctx, principal)
    except AppError as exc:
        await ws.send_text(
            orjson.dumps({"type": "error", "server_time": server_time(), **exc.body()}).decode()
        )
        await ws.close(code=ws_close_code(exc), reason=exc.code)
        return
    hub = ctx.hub
    client = hub.connect(audience)  # before the snapshot: nothing that happens meanwhile is missed
    last_heard = time.monotonic()

    async def send(message: dict[str, Any]) -> None:
        await ws.send_text(orjson.dumps(message).decode())

    async def reader() -> str:
        nonlocal last_heard
        while True:
            raw = await receive_text(ws)
            last_heard = time.monotonic()
            if raw is None:
                client.offer_event({"type": "error", "server_time": server_time(), "error": BINARY_FRAME})
                continue
            try:
                msg = orjson.loads(raw)
                error = apply_client_message(client, msg)
            except orjson.JSONDecodeError:
                msg, error = None, {"code": "invalid_json", "message": "not JSON"}
            if error is None and isinstance(msg, dict) and msg.get("type") in ("viewport", "filters"):
                hub.replay_viewport(client)
            if error:
                client.offer_event({"type": "error", "server_time": server_time(), "error": error})

    async def heartbeat() -> str:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if time.monotonic() - last_heard > SILENCE_LIMIT_S:
                return "heartbeat_timeout"
            client.offer_event({"type": "heartbeat", "server_time": server_time()})

    async def revocation(revoked: asyncio.Event) -> str:
        await revoked.wait()
        return REVOKED_REASON

    tasks: list[asyncio.Task[str]] = []
    revoked = ctx.sockets.opened(principal)
    try:
        await send(await snapshot(ctx, audience))
        tasks = [
            asyncio.create_task(pump(client, send)),
            asyncio.create_task(reader()),
            asyncio.create_task(heartbeat()),
            asyncio.create_task(revocation(revoked)),
        ]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        reason = next(iter(done)).result()
        code = {REVOKED_REASON: REVOKED_CLOSE_CODE}.get(
            reason, 4408 if reason.startswith("too_slow") else 1001
        )
        with contextlib.suppress(Exception):
            await send({"type": "bye", "server_time": server_time(), "reason": reason})
            await ws.close(code=code, reason=reason[:100])
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        ctx.sockets.closed(revoked)
        hub.disconnect(client)
        for task in tasks:
            task.cancel()
