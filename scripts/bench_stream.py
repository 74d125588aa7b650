#!/usr/bin/env python
"""Websocket stream vs HTTP batches, in one run: pings/s through ``/api/v1/officers/stream`` (many sockets,
100 pings per message, acknowledged after commit) beside ``POST /api/v1/pings`` with the same batches.

    .venv/bin/python scripts/bench_stream.py --sockets 16 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from benchkit import scratch_database, served  # noqa: E402
from scale_run import seed  # noqa: E402


def batch(officer: int, start: float, n: int) -> list[dict]:
    return [
        {"lat": -7.98 + (officer % 100) * 1e-4 + i * 1e-7, "lon": 112.63, "recorded_at": start + i * 0.01}
        for i in range(n)
    ]


async def ws_phase(base_ws: str, tokens: list[str], per_msg: int, seconds: float) -> dict:
    acked = 0
    lat: list[float] = []

    async def phone(i: int) -> None:
        nonlocal acked
        t_rec = time.time() - 7200.0
        async with websockets.connect(f"{base_ws}/api/v1/officers/stream?token={tokens[i]}") as ws:
            await ws.recv()  # hello
            seq, inflight, sent_at = 0, 4, {}
            deadline = time.monotonic() + seconds

            async def send() -> None:
                nonlocal seq, t_rec
                seq += 1
                sent_at[seq] = time.perf_counter()
                await ws.send(
                    orjson.dumps({"type": "pings", "seq": seq, "pings": batch(i, t_rec, per_msg)}).decode()
                )
                t_rec += per_msg * 0.01

            for _ in range(inflight):
                await send()
            while sent_at:
                msg = orjson.loads(await ws.recv())
                if msg.get("type") != "ack":
                    continue
                lat.append((time.perf_counter() - sent_at.pop(msg["seq"])) * 1000)
                acked += msg["accepted"]
                if time.monotonic() < deadline:
                    await send()

    t0 = time.monotonic()
    await asyncio.gather(*(phone(i) for i in range(len(tokens))))
    el = time.monotonic() - t0
    lat.sort()
    return {
        "pings_per_s": round(acked / el),
        "ack_p50_ms": round(lat[len(lat) // 2], 1),
        "ack_p99_ms": round(lat[int(len(lat) * 0.99) - 1], 1),
    }


async def http_phase(host: str, port: int, tokens: list[str], per_msg: int, seconds: float) -> dict:
    acked = 0
    lat: list[float] = []

    async def phone(i: int) -> None:
        nonlocal acked
        t_rec = time.time() - 3600.0
        reader, writer = await asyncio.open_connection(host, port)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            body = orjson.dumps(batch(i, t_rec, per_msg))
            t_rec += per_msg * 0.01
            t = time.perf_counter()
            writer.write(
                b"POST /api/v1/pings HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer "
                + tokens[i].encode()
                + b"\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answer = await reader.readexactly(length)
            lat.append((time.perf_counter() - t) * 1000)
            acked += orjson.loads(answer)["accepted"]
        writer.close()

    t0 = time.monotonic()
    await asyncio.gather(*(phone(i) for i in range(len(tokens))))
    el = time.monotonic() - t0
    lat.sort()
    return {
        "pings_per_s": round(acked / el),
        "ack_p50_ms": round(lat[len(lat) // 2], 1),
        "ack_p99_ms": round(lat[int(len(lat) * 0.99) - 1], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sockets", type=int, default=16)
    ap.add_argument("--per-message", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--port", type=int, default=None, help="server port (default: a free one)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks/results/stream.json"))
    args = ap.parse_args()
    with scratch_database("stream") as url:
        tokens = seed(url, args.sockets * 2)
        with served(url, args.port) as base:
            port = int(base.rsplit(":", 1)[1])
            http = asyncio.run(
                http_phase("127.0.0.1", port, tokens[: args.sockets], args.per_message, args.seconds)
            )
            ws = asyncio.run(
                ws_phase(
                    base.replace("http://", "ws://"), tokens[args.sockets :], args.per_message, args.seconds
                )
            )
    ratio = ws["pings_per_s"] / max(1, http["pings_per_s"])
    print(f"{'':12}{'pings/s':>10}{'ack p50 ms':>12}{'ack p99 ms':>12}")
    for label, r in (("HTTP batch", http), ("websocket", ws)):
        print(f"{label:12}{r['pings_per_s']:>10,}{r['ack_p50_ms']:>12}{r['ack_p99_ms']:>12}")
    print(f"websocket / HTTP = {ratio:.2f} (goal >= 1.0: {'met' if ratio >= 1.0 else 'NOT met'})")
    Path(args.json).write_text(
        json.dumps(
            {
                "benchmark": "stream_vs_http",
                "sockets": args.sockets,
                "per_message": args.per_message,
                "http": http,
                "websocket": ws,
                "ratio": round(ratio, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
