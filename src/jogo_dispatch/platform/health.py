"""Operations endpoints: liveness, readiness, Prometheus metrics; and request metrics middleware."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jogo_dispatch.deps import RuntimeDep
from jogo_dispatch.errors import AppError
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.migrations import current_revision, head_revision

router = APIRouter(route_class=IdempotentRoute, tags=["operations"])

REQUESTS = Counter("jogo_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "jogo_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
# A load balancer's probe must get an answer even when the database hangs instead of refusing.
READY_CHECK_TIMEOUT_S = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(rt: RuntimeDep) -> Response:
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(READY_CHECK_TIMEOUT_S):
            async with rt.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                current = await current_revision(conn)
        head = head_revision()
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
    except TimeoutError:
        checks["database"] = f"no answer within {READY_CHECK_TIMEOUT_S:g}s"
    except AppError as exc:
        checks["database"] = f"unreachable: {exc.code}"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    # The writer is what acknowledges pings: not ready while it is reconnecting, even if a fresh
    # engine connection already works again.
    checks["writer"] = "ok" if rt.writer.healthy else "reconnecting"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead on the ingest hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            LATENCY.labels(path).observe(time.perf_counter() - started)
