"""``Idempotency-Key`` on POST: a phone that retries a report or an SOS after a lost response gets the
first response again, and nothing is created twice.

Keys are scoped by the caller (the user; an anonymous caller by its address and user agent), method and
path. A key whose first request is still running answers 409 with ``Retry-After``; a first request that
failed with a 5xx frees the key for a retry. A claim is a lease: when its request can no longer finish (the
process was killed, the database went away before the answer was stored) the claim expires after
``CLAIM_LEASE_S`` and the next retry runs. A request whose work commits through the request's session
(``SessionDep``) stores its answer in that same transaction (``IdempotentRoute``, between rendering the
answer and the commit), so a crash after the commit still replays the answer instead of running again;
other requests store it right after they answered. Logins (``/api/v1/auth/``) never use keys: a replayed
answer there would be somebody's access token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import orjson
from fastapi.routing import APIRoute
from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jogo_dispatch.platform.body_limit import send_json
from jogo_dispatch.platform.db import Base, created_at_column


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[Any] = mapped_column(JSONB)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


MAX_KEY = 200
KEEP_HOURS = 24
# Longer than any request may take (a photo uploaded over a slow phone link included), short enough that a
# phone retrying after a crash is served within minutes instead of 409 for a day.
CLAIM_LEASE_S = 120
NEVER = ("/api/v1/auth/",)

_CLAIM = text(
    "INSERT INTO idempotency_keys (key_hash, method, path) VALUES (:k, :m, :p) "
    "ON CONFLICT (key_hash) DO UPDATE SET created_at = now() "
    "WHERE idempotency_keys.completed_at IS NULL "
    f"AND idempotency_keys.created_at < now() - interval '{CLAIM_LEASE_S} seconds' "
    "RETURNING key_hash"
)
_FETCH = text("SELECT status_code, headers, body, completed_at FROM idempotency_keys WHERE key_hash = :k")
_STORE = text(
    "UPDATE idempotency_keys SET status_code = :s, headers = CAST(:h AS jsonb), body = :b, "
    "completed_at = now() WHERE key_hash = :k"
)
_RELEASE = text("DELETE FROM idempotency_keys WHERE key_hash = :k")
PURGE = text(f"DELETE FROM idempotency_keys WHERE created_at < now() - interval '{KEEP_HOURS} hours'")


# Where the middleware leaves the claimed key, and the session dependency its session, for the route.
KEY_STATE = "idempotency_key"
SESSION_STATE = "db_session"


def _stored(status: int, headers: list[tuple[str, str]], body: bytes, digest: str) -> dict[str, Any]:
    return {"k": digest, "s": status, "h": orjson.dumps(headers).decode(), "b": body}


def _storing(
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def run(request: Request) -> Response:
        response = await handler(request)
        digest = request.scope.get("state", {}).get(KEY_STATE)
        session: AsyncSession | None = request.scope.get("state", {}).get(SESSION_STATE)
        body = getattr(response, "body", None)
        if digest and session is not None and isinstance(body, bytes) and response.status_code < 500:
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
            await session.execute(_STORE, _stored(response.status_code, headers, body, digest))
        return response

    return run


class IdempotentRoute(APIRoute):
    """The route class of every router: a POST stores its answer for its ``Idempotency-Key`` in the
    transaction of its work (the rendered answer exists before the request's session commits, since
    ``SessionDep`` has function scope)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return _storing(super().get_route_handler())


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return v  # type: ignore[no-any-return]
    return None


async def _caller(runtime: Any, scope: Scope) -> bytes:
    """Scope keys by the user, not the token: a phone that logs in again and retries with its queued
    key must still get the first response. Anonymous callers by address and user agent: two strangers
    who pick the same key never see each other's answer."""
    authorization = _header(scope, b"authorization")
    if not authorization:
        client = scope.get("client")
        host = (client[0] if client else "").encode()
        agent = hashlib.sha256(_header(scope, b"user-agent") or b"").hexdigest().encode()
        return b"anonymous:" + host + b":" + agent
    raw = authorization.decode("latin-1")
    token = raw[7:] if raw.lower().startswith("bearer ") else None
    if token:
        try:
            principal = await runtime.auth.principal(token)
            return f"user:{principal.user_id}:{principal.device_id or ''}".encode()
        except Exception:  # noqa: BLE001 - the request itself will answer 401
            pass
    return hashlib.sha256(authorization).hexdigest().encode()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = (
            _header(scope, b"idempotency-key")
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        app = scope.get("app")
        runtime = getattr(app.state, "runtime", None) if app is not None else None
        if key is None or runtime is None or scope["path"].startswith(NEVER):
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= MAX_KEY:
            await send_json(
                send,
                400,
                {
                    "error": {
                        "code": "bad_idempotency_key",
                        "message": f"Idempotency-Key must be 1..{MAX_KEY} characters",
                    }
                },
            )
            return
        who = await _caller(runtime, scope)
        digest = hashlib.sha256(
            b"\0".join([who, scope["method"].encode(), scope["path"].encode(), key])
        ).hexdigest()
        engine: AsyncEngine = runtime.engine
        async with engine.begin() as conn:
            claimed = (
                await conn.execute(_CLAIM, {"k": digest, "m": scope["method"], "p": scope["path"]})
            ).first()
            row = None if claimed else (await conn.execute(_FETCH, {"k": digest})).first()
        if row is not None:
            if row.completed_at is None:
                await send_json(
                    send,
                    409,
                    {
                        "error": {
                            "code": "request_in_progress",
                            "message": "a request with this Idempotency-Key is still running",
                        }
                    },
                    headers=[(b"retry-after", b"5")],
                )
                return
            headers = [(k.encode(), v.encode()) for k, v in row.headers] + [(b"idempotent-replayed", b"true")]
            await send({"type": "http.response.start", "status": row.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": row.body or b""})
            return
        scope.setdefault("state", {})[KEY_STATE] = digest
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": bytearray()}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
                ]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await self.finish(engine, digest, captured)

    async def finish(self, engine: AsyncEngine, digest: str, captured: dict[str, Any]) -> None:
        """Store the answer as sent (with every layer's headers), or free the key after a 5xx."""
        async with engine.begin() as conn:
            if captured["status"] >= 500:
                await conn.execute(_RELEASE, {"k": digest})
            else:
                stored = _stored(captured["status"], captured["headers"], bytes(captured["body"]), digest)
                await conn.execute(_STORE, stored)
