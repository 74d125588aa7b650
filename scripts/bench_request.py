#!/usr/bin/env python3
"""CPU per request of ``POST /api/v1/pings`` inside the server process: the fast lane against the full
framework stack, in the same process, interleaved (so both see the same machine).

    .venv/bin/python scripts/bench_request.py --rounds 6 --requests 300

No network and no load generator: each request is handed to the ASGI app as uvicorn would hand it
(scope, body, send), ``--concurrency`` at a time, and the process's own CPU time (``time.thread_time`` of the one
thread that runs the event loop: the app, the writer task and psycopg) is read around each block. The
writer still commits every request to a scratch database (durable, as in production), so a figure is
the whole server-side cost of a request except uvicorn's HTTP parsing. Each round runs a block of each
variant; the best round per variant is reported, the way timeit reports, with the ratio of the two.

Variants: ``lane`` (the app as served), ``stack`` (the same app from below the lane: routing,
dependencies and every middleware layer), for batches of ``--batch`` pings and for single pings, and
``GET /healthz`` through the stack as the framework's own floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import bench_ingest as bi  # noqa: E402
from benchkit import scratch_database  # noqa: E402

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
APP: list[Any] = [None]


def scope(method: str, path: str, token: str | None, size: int) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    headers.append((b"content-length", str(size).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
        "app": None,  # set to the app below (Starlette sets it; the stack below the lane needs it)
    }


async def call(app: Asgi, sc: dict[str, Any], body: bytes) -> int:
    sent = False
    status = 0
    answer = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            answer.extend(message.get("body", b""))

    await app(dict(sc, state={}, app=APP[0]), receive, send)
    if status == 200 and sc["method"] == "POST" and b'"rejected":[]' not in answer:
        raise SystemExit(f"pings refused: {bytes(answer[:300])!r}")
    return status


def find_lane(app: Any) -> Any:
    """The lane main.DispatchApp puts in front of the framework (its ``app`` is everything else)."""
    return app._ping_lane


async def run(url: str, officers: list[bi.Officer], a: argparse.Namespace) -> dict[str, Any]:
    from jogo_dispatch.main import create_app
    from jogo_dispatch.settings import Settings

    app = create_app(Settings(database_url=url, log_level="WARNING", osmand_port=None))
    results: dict[str, dict[str, float]] = {}
    APP[0] = app
    async with app.router.lifespan_context(app):
        lane = find_lane(app)
        served: Asgi = app
        stack: Asgi = lane.app  # everything below the lane

        t0 = time.time() - 3600  # each officer's own pings follow on 10 ms apart (bench_ingest's timeline)

        def body(n: int, officer: bi.Officer) -> bytes:
            import orjson

            items = bi.ping_dicts(officer, n, t0, t0)
            return orjson.dumps(items if n > 1 else items[0])

        async def block(name: str, app_: Asgi, n: int | None) -> None:
            bodies = []
            for k in range(a.requests):
                o = officers[k % len(officers)]
                if n is None:
                    bodies.append((scope("GET", "/healthz", None, 0), b""))
                else:
                    b = body(n, o)
                    bodies.append((scope("POST", "/api/v1/pings", o.token, len(b)), b))

            async def worker(mine: list[tuple[dict[str, Any], bytes]]) -> None:
                for sc, b in mine:
                    status = await call(app_, sc, b)
                    if status != 200:
                        raise SystemExit(f"{name}: HTTP {status}")

            started = time.thread_time()
            # --concurrency requests in flight, as from that many connections: the writer groups their
            # commits as it does in the server.
            await asyncio.gather(*(worker(bodies[c :: a.concurrency]) for c in range(a.concurrency)))
            cpu_us = (time.thread_time() - started) * 1e6 / a.requests
            best = results.setdefault(name, {"us_per_request": float("inf")})
            best["us_per_request"] = min(best["us_per_request"], cpu_us)
            if n:
                best["us_per_ping"] = best["us_per_request"] / n

        # warm-up: every officer's token known, the caches filled, the first commit made
        for k in range(len(officers)):
            o = officers[k]
            b = body(1, o)
            await call(stack, scope("POST", "/api/v1/pings", o.token, len(b)), b)
        for _ in range(a.rounds):
            if "batch" in a.variants:
                await block(f"lane, {a.batch} per request", served, a.batch)
                if "lane-only" not in a.variants:
                    await block(f"stack, {a.batch} per request", stack, a.batch)
            if "single" in a.variants:
                await block("lane, single", served, 1)
                if "lane-only" not in a.variants:
                    await block("stack, single", stack, 1)
            if "floor" in a.variants:
                await block("GET /healthz (stack floor)", stack, None)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=300, help="requests per block")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    ap.add_argument("--officers", type=int, default=200)
    ap.add_argument(
        "--variants",
        default="batch,single,floor",
        help="subset of batch,single,floor; lane-only: no stack blocks (for a profiler)",
    )
    ap.add_argument("--json", default=None, help="write the figures here too")
    a = ap.parse_args()
    with scratch_database("request") as url:
        officers = bi.seed(url, a.officers)
        bi.ensure_today_partitions(url, datetime.now(UTC) - timedelta(hours=2))
        results = asyncio.run(run(url, officers, a))
    print(f"CPU µs per request in the server process (best of {a.rounds} rounds of {a.requests}):")
    for name, r in results.items():
        per_ping = f"  = {r['us_per_ping']:.2f} µs per ping" if "us_per_ping" in r else ""
        print(f"  {name:34s} {r['us_per_request']:9.1f} µs{per_ping}")
    for kind in (f"{a.batch} per request", "single"):
        if f"lane, {kind}" not in results:
            continue
        if f"stack, {kind}" not in results:
            continue
        lane, stack = results[f"lane, {kind}"], results[f"stack, {kind}"]
        print(f"  ratio lane / stack, {kind}: {lane['us_per_request'] / stack['us_per_request']:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
