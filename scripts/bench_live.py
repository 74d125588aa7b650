#!/usr/bin/env python
"""Ping-to-live-map latency: from the officer's POST to the position arriving on dispatcher websockets.

One run: a fresh database, the server as a separate process, N officers posting one ping per second each
(single-ping requests, as phones do), M dispatcher websocket clients. Measured twice in the same run,
so the ratio is honest: ingest alone (no websocket clients, the baseline), then with the clients.
Latency = arrival time on the websocket - the ping's recorded_at (set at send time, same clock).

    .venv/bin/python scripts/bench_live.py --officers 840 --clients 50 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from benchkit import pct, profile, scratch_database, served  # noqa: E402

from jogo_dispatch.devtools.demo import seed_demo  # noqa: E402
from jogo_dispatch.devtools.sim.officers import make_walkers  # noqa: E402
from jogo_dispatch.platform.db import make_engine, make_sessionmaker  # noqa: E402
from jogo_dispatch.platform.security import Passwords  # noqa: E402

GOAL_P99_MS = 50  # ping -> dispatcher screen, 840 officers x 1 Hz + 50 sockets (issue 21)


async def seed(url: str, officers: int):
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"), 2)
    async with make_sessionmaker(engine)() as s:
        fleet = await seed_demo(s, Passwords(), officers)
        await s.commit()
    await engine.dispose()
    return fleet


async def login(base: str) -> str:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/v1/auth/token", data={"username": "dispatcher", "password": "jogo-demo"})
        return r.json()["access_token"]


def _listen_proc(ws_url: str, token: str, clients: int, measured: int, seconds: float, q) -> None:
    """The dispatcher clients, in their own process so the load generator does not compete with them.
    Every client reads every frame; ``measured`` of them also decode it and time each position."""

    async def run() -> dict:
        latencies: list[float] = []
        received = 0
        deadline = time.monotonic() + seconds

        async def listener(measure: bool) -> None:
            nonlocal received
            async with websockets.connect(f"{ws_url}/api/v1/live?token={token}", max_size=None) as ws:
                while time.monotonic() < deadline:
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 1.0)
                    except TimeoutError:
                        continue
                    if not measure:
                        if '"heartbeat"' in raw[:40]:
                            await ws.send('{"type":"pong"}')
                        continue
                    now = time.time()
                    msg = orjson.loads(raw)
                    if msg["type"] == "positions":
                        for p in msg["positions"]:
                            latencies.append(now - datetime.fromisoformat(p["recorded_at"]).timestamp())
                            received += 1
                    elif msg["type"] == "heartbeat":
                        await ws.send('{"type":"pong"}')

        await asyncio.gather(*(listener(i < measured) for i in range(clients)), return_exceptions=True)
        return {"latencies": latencies, "received": received}

    q.put(asyncio.run(run()))


async def drive(base: str, fleet, seconds: float, ws_url: str | None, clients: int, token: str) -> dict:
    import multiprocessing as mp

    q = mp.Queue()
    proc = None
    if ws_url:
        proc = mp.Process(target=_listen_proc, args=(ws_url, token, clients, min(5, clients), seconds + 3, q))
        proc.start()
        await asyncio.sleep(2.0)
    walkers = make_walkers(fleet)
    sent = ok = 0
    ack_ms: list[float] = []
    host, port = base.removeprefix("http://").split(":")
    queue: asyncio.Queue = asyncio.Queue()

    async def connection() -> None:
        # A bare keep-alive HTTP/1.1 client: httpx would cost more CPU than the server per request.
        nonlocal sent, ok
        reader, writer = await asyncio.open_connection(host, int(port))
        while True:
            wk = await queue.get()
            if wk is None:
                break
            body = orjson.dumps(
                {
                    "lat": round(wk.lat, 6),
                    "lon": round(wk.lon, 6),
                    "recorded_at": datetime.now(UTC).isoformat(),
                }
            )
            t = time.perf_counter()
            writer.write(
                b"POST /api/v1/pings HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer "
                + wk.officer.token.encode()
                + b"\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            payload = await reader.readexactly(length)
            ack_ms.append((time.perf_counter() - t) * 1000)
            sent += 1
            ok += status == 200 and b'"accepted":1' in payload
        writer.close()

    conns = [asyncio.create_task(connection()) for _ in range(32)]
    started = time.monotonic()
    k = 0  # pings started so far: officer k % n, paced at n per second in 10 ms steps
    n = len(walkers)
    while (elapsed := time.monotonic() - started) < seconds:
        for _ in range(int(elapsed * n) - k):
            wk = walkers[k % n]
            wk.step(1.0)
            queue.put_nowait(wk)
            k += 1
        await asyncio.sleep(0.01)
    for _ in conns:
        queue.put_nowait(None)
    await asyncio.gather(*conns)
    elapsed = time.monotonic() - started
    latencies: list[float] = []
    received = 0
    if proc is not None:
        got = await asyncio.get_running_loop().run_in_executor(None, q.get)
        proc.join()
        latencies, received = got["latencies"], got["received"]
    return {
        "sent": sent,
        "accepted": ok,
        "seconds": round(elapsed, 1),
        "pings_per_s": round(ok / elapsed, 1),
        "ack_p50_ms": round(pct(ack_ms, 50), 1),
        "ack_p99_ms": round(pct(ack_ms, 99), 1),
        "ws_messages": received,
        "latency_p50_ms": round(pct(latencies, 50) * 1000, 1),
        "latency_p99_ms": round(pct(latencies, 99) * 1000, 1),
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--officers", type=int, default=840)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--port", type=int, default=None, help="server port (default: a free one)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks/results/live.json"))
    ap.add_argument("--py-spy", default=None, help="py-spy binary: profile the server with the clients")
    ap.add_argument("--profile", default="/tmp/bench-live.folded", help="where --py-spy writes its stacks")
    args = ap.parse_args()
    with scratch_database("live") as url:
        print(f"[bench_live] seeding {args.officers} officers", flush=True)
        fleet = await seed(url, args.officers)
        with served(url, args.port) as base:
            ws = base.replace("http://", "ws://")
            token = await login(base)
            print(
                f"[bench_live] baseline: {args.officers} officers x 1 ping/s, no websocket clients",
                flush=True,
            )
            baseline = await drive(base, fleet, args.seconds, None, 0, token)
            print(f"[bench_live] with {args.clients} dispatcher websockets", flush=True)
            spy = profile(args.py_spy, base.pid, max(1.0, args.seconds - 2), Path(args.profile))
            loaded = await drive(base, fleet, args.seconds, ws, args.clients, token)
            if spy is not None:
                spy.wait()
    result = {
        "benchmark": "ping_to_websocket",
        "officers": args.officers,
        "clients": args.clients,
        "baseline": baseline,
        "with_clients": loaded,
        "ingest_ratio": round(loaded["pings_per_s"] / max(1e-9, baseline["pings_per_s"]), 3),
        "goal": {"latency_p99_ms": GOAL_P99_MS, "ingest_ratio": 1.0},
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version()},
        "at": datetime.now(UTC).isoformat(),
    }
    print(f"\n{'':24}{'baseline':>12}{'+ ' + str(args.clients) + ' ws':>12}")
    for key in ("pings_per_s", "ack_p50_ms", "ack_p99_ms", "latency_p50_ms", "latency_p99_ms", "ws_messages"):
        print(f"{key:24}{baseline[key]!s:>12}{loaded[key]!s:>12}")
    print(f"ingest with clients / baseline: {result['ingest_ratio']}")
    ok = loaded["latency_p99_ms"] <= GOAL_P99_MS
    print(f"goal p99 <= {GOAL_P99_MS} ms: {'met' if ok else 'NOT met'} ({loaded['latency_p99_ms']} ms)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"written {args.json}")


if __name__ == "__main__":
    asyncio.run(main())
