"""The fast lane of ``POST /api/v1/pings``: a phone's ordinary batch answered without the framework.

Measured on the 2-core bench machine, the web framework's own work per request (FastAPI's telemetry and
body-limit layers, routing over every route, dependency solving, the exception layers, four middleware
layers each wrapping ``send``) cost about 400 µs of CPU; a batch of 100 pings costs less than that to
decode, screen and write. This pure ASGI app sits in front of all of it (``main.DispatchApp`` hands it
every request for the path) and answers the one common case itself:

- the request is ``POST /api/v1/pings`` with no ``Idempotency-Key`` (a keyed request needs the stored
  answer, which the app's idempotency layer keeps);
- its bearer token is known from memory alone (``Authenticator.known``: a device token, or a JWT whose
  user was checked a moment ago) and names an officer;
- its body is within the app's body limit and the fast decoder reads it exactly as ``PingIn`` does
  (``tracking.wire.fast_columns``).

Anything else goes on to the app with the body handed on as it came, and is answered there exactly as
before (401, 413, ``invalid_json``, per-item ``invalid: ...``). The answer is the route's own: the same
JSON, ``content-type``, ``content-length`` and ``x-content-type-options`` headers, the same error body for
a failure while storing, counted in the same request metrics. ``jogo_ping_fast_lane_total`` says how many
requests took the lane and why others did not.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import orjson
import structlog
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jogo_dispatch.errors import AppError
from jogo_dispatch.platform.headers import HEADERS as SECURITY_HEADERS
from jogo_dispatch.platform.health import LATENCY, REQUESTS
from jogo_dispatch.tracking.wire import fast_columns

log = structlog.get_logger(__name__)

PATH = "/api/v1/pings"
LANE = Counter(
    "jogo_ping_fast_lane_total",
    "POST /api/v1/pings requests answered by the fast lane (answered) or handed to the app, and why",
    ["outcome"],
)
_ANSWERED = LANE.labels("answered")
# Handed on: the reasons, each a label (a rise in one says which kind of client misses the lane).
_PASSED = {
    reason: LANE.labels(reason)
    for reason in ("no_runtime", "idempotency_key", "caller", "body_size", "general_decode")
}
_LATENCY = LATENCY.labels(PATH)
_JSON_HEADERS = [(b"content-type", b"application/json"), *SECURITY_HEADERS]


def _replaying(chunks: list[bytes], more: bool, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """``receive`` as the app would have seen it: what was read already, then the rest of the body."""
    pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": more}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


class PingFastLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rt = getattr(scope["app"].state, "runtime", None)
        if rt is None:
            await self._pass("no_runtime", scope, receive, send)
            return
        authorization = declared = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                declared = value
            elif name == b"idempotency-key":
                await self._pass("idempotency_key", scope, receive, send)
                return
        principal = None
        if authorization is not None and authorization[:7].lower() == b"bearer ":
            principal = rt.auth.known(authorization[7:].decode("latin-1"))
        if principal is None or principal.role != "officer" or principal.officer_id is None:
            await self._pass("caller", scope, receive, send)
            return
        limit: int = rt.settings.max_body_bytes
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._pass("body_size", scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > limit:  # the app's body limit answers it, as it would have
                await self._pass("body_size", scope, _replaying(chunks, more, receive), send)
                return
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        cols = fast_columns(body, rt.settings.max_batch)
        if cols is None:
            await self._pass("general_decode", scope, _replaying([body], False, receive), send)
            return
        _ANSWERED.inc()
        status = 200
        headers: list[tuple[bytes, bytes]] = []
        try:
            result = await rt.ingest.submit_columns(
                cols, officer_id=principal.officer_id, source="api", device_id=principal.device_id
            )
            payload = orjson.dumps(
                {
                    "accepted": result.accepted,
                    "rejected": [{"index": i, "reason": r} for i, r in result.rejected],
                }
            )
        except AppError as exc:  # as the app's handler renders it
            status = exc.status_code
            headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()]
            payload = orjson.dumps(exc.body())
        except Exception as exc:  # noqa: BLE001 - the app's last-resort handler's answer
            log.exception("unhandled error", error=repr(exc))
            status = 500
            payload = orjson.dumps({"error": {"code": "internal_error", "message": "internal error"}})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    *_JSON_HEADERS,
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        REQUESTS.labels("POST", PATH, str(status)).inc()
        _LATENCY.observe(time.perf_counter() - started)

    async def _pass(self, reason: str, scope: Scope, receive: Receive, send: Send) -> None:
        _PASSED[reason].inc()
        await self.app(scope, receive, send)
