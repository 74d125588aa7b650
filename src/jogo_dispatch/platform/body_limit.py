"""Small HTTP helpers: the request body limit of the whole app, bounded body reading and JSON parsing with
clear errors."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jogo_dispatch.errors import InvalidInput, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes", details={"limit": limit})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes", details={"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", code="invalid_json") from None


def too_large_body(limit: int) -> dict[str, Any]:
    return PayloadTooLarge(f"body larger than {limit} bytes", details={"limit": limit}).body()


class BodyLimitMiddleware:
    """Every request body is bounded before any handler runs: a declared ``Content-Length`` over the limit
    is answered 413 without reading, and a body that streams past it (chunked, or longer than it said) is
    answered 413 as soon as it crosses it. The body is read here and handed on as it came.

    ``limits`` raises the default for single paths (a report with its photo), ``patterns`` for paths with
    an id in them (regular expressions matched against the whole path: an agency's note with its photo);
    handlers may still read with a smaller limit of their own (``read_body``)."""

    def __init__(
        self,
        app: ASGIApp,
        default: int,
        limits: dict[str, int] | None = None,
        patterns: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.limits = limits or {}
        self.patterns = [(re.compile(p), n) for p, n in (patterns or {}).items()]

    def limit_of(self, path: str) -> int:
        if path in self.limits:
            return self.limits[path]
        return next((n for p, n in self.patterns if p.fullmatch(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, too_large_body(limit))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_json(send, 413, too_large_body(limit))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A JSON answer from pure ASGI middleware (before FastAPI's handlers)."""
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
