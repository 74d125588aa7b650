#!/usr/bin/env python3
"""Ingest benchmark: the durable COPY ceiling, the writer alone, and POST /api/v1/pings over HTTP.

One run against a fresh, migrated scratch database (``jogo_bench_*``, dropped at the end) with the demo
officers seeded. Phases, each bounded (``--warmup`` + ``--duration`` seconds):

  copy      binary COPY (psycopg 3, pre-encoded rows) straight into ``pings``, one commit per
            ``--copy-batch`` rows: the ceiling for durable ingest on this machine.
  writer    the server's PingWriter driven in-process (no HTTP, no parsing, no filters): what the
            group-commit SQL path costs on its own (rows encoded a column at a time, as the server's
            batch path does, when the writer has encode_columns; PingRow objects otherwise).
  batched   POST /api/v1/pings with arrays of ``--batch-size`` pings from ``--batch-conns`` keep-alive
            connections, against ``jogo-dispatch serve`` running as a separate process.
  stream    the officer websocket (/api/v1/officers/stream), ``--batch-size`` pings per message on
            ``--batch-conns`` sockets, 4 messages in flight each; a ping counts when its ack (after commit)
            arrives.
  single    POST /api/v1/pings with one ping per request from ``--single-conns`` connections; p50/p99.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams (uvloop when present),
with request bytes serialised by orjson ahead of sending; ``--client-procs`` spreads the connections over
several processes. CPU seconds of the server, the database backends, the clients and everything else are
read from /proc for the measured window, so one can see who used the two cores.

    .venv/bin/python scripts/bench_ingest.py                      # all phases, 1 worker
    .venv/bin/python scripts/bench_ingest.py --workers 2 --client-procs 2
    .venv/bin/python scripts/bench_ingest.py --phases batched,single --py-spy /tmp/pyspy/bin/py-spy

See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GOAL_BATCHED_PINGS_S = 20_000
GOAL_BATCHED_FRACTION_OF_COPY = 0.25
GOAL_SINGLE_RPS_PER_WORKER = 2_000
GOAL_BATCHED_FRACTION_OF_COPY_ISSUE_21 = 0.40
GOAL_SERVER_US_PER_PING = 8.0
WS_IN_FLIGHT = 4  # unacknowledged messages per officer socket

# Pings land around Malang; each officer drifts north-east at ~1.5 m/s of recorded time, so no implied
# speed ever trips the too_fast filter, whatever the gaps between phases.
MALANG = (-7.98, 112.63)
DRIFT_DEG_PER_S = 1e-5
STEP_S = 0.01  # recorded_at spacing of one officer's consecutive pings
COPY_OFFICER_BASE = 10_000_000  # synthetic officer ids for the COPY phase (pings has no FK)
COPY_OFFICERS = 1000

CLK_TCK = os.sysconf("SC_CLK_TCK")
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
STAGE_COLUMNS = (
    "officer_id, recorded_at, received_at, geog, accuracy_m, speed_mps, heading_deg, "
    "altitude_m, battery_pct, device_id, source"
)


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- CPU
def proc_cpu_s(pid: int) -> float | None:
    """utime + stime of one process, seconds (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (parts + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy / CLK_TCK, (busy + idle + iowait) / CLK_TCK


@dataclass
class CpuSnap:
    at: float
    server: dict[int, float]
    pg_own: dict[int, float]
    pg_shared: dict[int, float]
    busy: float
    total: float


class CpuProbe:
    """Samples CPU seconds of the server process tree, this database's backends, and PostgreSQL's
    shared background processes (WAL writer, checkpointer, ...)."""

    def __init__(self, admin_url: str, dbname: str) -> None:
        import psycopg

        self._conn = psycopg.connect(admin_url, autocommit=True)
        self._db = dbname
        self.server_pid: int | None = None

    def close(self) -> None:
        self._conn.close()

    def snap(self) -> CpuSnap:
        rows = self._conn.execute(
            "SELECT pid, datname, backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        ).fetchall()
        own = [pid for pid, db, kind in rows if db == self._db and kind == "client backend"]
        shared = [pid for pid, db, kind in rows if kind != "client backend" and db in (None, self._db)]
        server = descendants(self.server_pid) if self.server_pid else []
        busy, total = machine_busy_s()

        def measure(pids: list[int]) -> dict[int, float]:
            return {p: c for p in pids if (c := proc_cpu_s(p)) is not None}

        return CpuSnap(time.time(), measure(server), measure(own), measure(shared), busy, total)


def cpu_split(a: CpuSnap, b: CpuSnap, client_s: float) -> dict[str, float]:
    """CPU seconds per party between two snapshots, and 'other' (anything else on the machine)."""

    def delta(x: dict[int, float], y: dict[int, float]) -> float:
        return sum(max(0.0, y[p] - x.get(p, 0.0)) for p in y)

    wall = b.at - a.at
    server, pg_own = delta(a.server, b.server), delta(a.pg_own, b.pg_own)
    pg_shared = delta(a.pg_shared, b.pg_shared)
    busy = b.busy - a.busy
    other = max(0.0, busy - server - pg_own - pg_shared - client_s)
    return {
        "wall_s": round(wall, 3),
        "server_cpu_s": round(server, 3),
        "postgres_backends_cpu_s": round(pg_own, 3),
        "postgres_background_cpu_s": round(pg_shared, 3),
        "client_cpu_s": round(client_s, 3),
        "other_cpu_s": round(other, 3),
        "machine_busy_cpu_s": round(busy, 3),
        "machine_capacity_cpu_s": round(b.total - a.total, 3),
    }


# ---------------------------------------------------------------------------------------- timeline
@dataclass
class Officer:
    officer_id: int
    token: str
    lat0: float
    lon0: float
    next_i: int = 0  # pings sent in the current phase


def position(o: Officer, t: float, t0: float) -> tuple[float, float]:
    d = (t - t0) * DRIFT_DEG_PER_S
    return round(o.lat0 + d, 7), round(o.lon0 + d, 7)


def ping_dicts(o: Officer, n: int, base: float, t0: float) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        t = base + o.next_i * STEP_S
        o.next_i += 1
        lat, lon = position(o, t, t0)
        out.append(
            {
                "lat": lat,
                "lon": lon,
                "recorded_at": datetime.fromtimestamp(t, UTC),
                "accuracy_m": 6.0,
                "speed_mps": 1.5,
                "heading_deg": 45.0,
                "altitude_m": 450.0,
                "battery_pct": 80.0,
            }
        )
    return out


# ------------------------------------------------------------------------------------- HTTP client
@dataclass
class ConnResult:
    requests: int = 0
    pings_sent: int = 0
    accepted: int = 0
    window_requests: int = 0
    window_pings_sent: int = 0
    window_accepted: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if m is None:
        raise RuntimeError(f"response without content-length: {head[:200]!r}")
    return status, await reader.readexactly(int(m.group(1)))


async def _http_conn(
    host: str,
    port: int,
    officers: list[Officer],
    per_request: int,
    base: float,
    t0: float,
    warm_end: float,
    deadline: float,
    res: ConnResult,
) -> None:
    import orjson

    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    prefixes = {
        o.officer_id: (
            f"POST /api/v1/pings HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {o.token}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()
        for o in officers
    }
    queue: list[bytes] = []
    k = 0

    def refill(count: int) -> None:
        nonlocal k
        for _ in range(count):
            if per_request == 0:  # the floor: the cheapest route through the same server stack
                queue.append(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
                continue
            o = officers[k % len(officers)]
            k += 1
            pings = ping_dicts(o, per_request, base, t0)
            body = orjson.dumps(pings if per_request > 1 else pings[0])
            queue.append(prefixes[o.officer_id] + str(len(body)).encode() + b"\r\n\r\n" + body)
        queue.reverse()  # pop() from the end keeps each officer's pings in recorded order

    refill(64)
    try:
        while time.time() < deadline:
            if not queue:
                refill(64)
            req = queue.pop()
            started = time.perf_counter()
            writer.write(req)
            status, body = await _read_response(reader)
            latency = time.perf_counter() - started
            done_at = time.time()
            res.requests += 1
            res.pings_sent += per_request
            res.statuses[status] += 1
            accepted = 0
            if status == 200 and per_request == 0:
                pass
            elif status == 200:
                out = orjson.loads(body)
                accepted = out["accepted"]
                for r in out["rejected"]:
                    res.reasons[r["reason"].split(":", 1)[0]] += 1
            elif len(res.errors) < 5:
                res.errors.append(f"{status}: {body[:200]!r}")
            res.accepted += accepted
            if warm_end <= done_at <= deadline:
                res.window_requests += 1
                res.window_pings_sent += per_request
                res.window_accepted += accepted
                res.latencies.append(latency)
    except Exception as exc:  # noqa: BLE001 - reported, never hidden
        res.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _ws_conn(
    host: str,
    port: int,
    officers: list[Officer],
    per_request: int,
    base: float,
    t0: float,
    warm_end: float,
    deadline: float,
    res: ConnResult,
) -> None:
    """One officer socket (/api/v1/officers/stream) per officer group: messages of ``per_request`` pings,
    up to WS_IN_FLIGHT unacknowledged at once; a ping counts when its ack (sent after commit) arrives."""
    import orjson
    import websockets

    o = officers[0]
    sent_at: dict[int, tuple[float, int]] = {}
    seq = 0
    try:
        async with websockets.connect(
            f"ws://{host}:{port}/api/v1/officers/stream?token={o.token}", max_size=2**24, compression=None
        ) as ws:
            await ws.recv()  # hello

            async def send() -> None:
                nonlocal seq
                seq += 1
                pings = ping_dicts(o, per_request, base, t0)
                sent_at[seq] = (time.perf_counter(), per_request)
                await ws.send(orjson.dumps({"type": "pings", "seq": seq, "pings": pings}).decode())

            for _ in range(WS_IN_FLIGHT):
                await send()
            while sent_at:
                msg = orjson.loads(await ws.recv())
                if msg.get("type") == "error":
                    if len(res.errors) < 5:
                        res.errors.append(str(msg)[:200])
                    sent_at.pop(msg.get("seq"), None)
                    res.statuses[400] += 1
                    continue
                if msg.get("type") != "ack":
                    continue
                started, n = sent_at.pop(msg["seq"])
                latency = time.perf_counter() - started
                done_at = time.time()
                res.requests += 1
                res.pings_sent += n
                res.statuses[200] += 1
                res.accepted += msg["accepted"]
                for r in msg["rejected"]:
                    res.reasons[r["reason"].split(":", 1)[0]] += 1
                if warm_end <= done_at <= deadline:
                    res.window_requests += 1
                    res.window_pings_sent += n
                    res.window_accepted += msg["accepted"]
                    res.latencies.append(latency)
                if time.time() < deadline:
                    await send()
    except Exception as exc:  # noqa: BLE001 - reported, never hidden
        res.errors.append(f"{type(exc).__name__}: {exc}")


def _client_proc(
    conn_specs: list[list[Officer]],
    host: str,
    port: int,
    per_request: int,
    base: float,
    t0: float,
    start_at: float,
    warm_end: float,
    deadline: float,
    pipe: Any,
    websocket: bool = False,
) -> None:
    """One load-generator process: several keep-alive connections (or officer sockets) on one event loop."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    cpu: dict[str, float] = {}

    async def main() -> list[ConnResult]:
        loop = asyncio.get_running_loop()
        loop.call_later(
            max(0.0, warm_end - time.time()), lambda: cpu.setdefault("a", proc_cpu_s(os.getpid()) or 0.0)
        )
        await asyncio.sleep(max(0.0, start_at - time.time()))
        results = [ConnResult() for _ in conn_specs]
        conn = _ws_conn if websocket else _http_conn
        await asyncio.gather(
            *(
                conn(host, port, officers, per_request, base, t0, warm_end, deadline, r)
                for officers, r in zip(conn_specs, results, strict=True)
            )
        )
        return results

    results = asyncio.run(main())
    cpu_b = proc_cpu_s(os.getpid()) or 0.0
    max_i = {o.officer_id: o.next_i for officers in conn_specs for o in officers}
    pipe.send((results, cpu_b - cpu.get("a", cpu_b), max_i))
    pipe.close()


# -------------------------------------------------------------------------------------- server side
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Scrape = dict[float, dict[str, float]]  # worker (pid) -> metrics


def parse_metrics(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            out[name] = float(value)
    return out


def _socket_owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Which process holds the server side of our connection (127.0.0.1:server_port <- client_port)."""
    want = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    inode = None
    with contextlib.suppress(OSError), open("/proc/net/tcp") as f:
        for line in f:
            parts = line.split()
            if (parts[1], parts[2]) == want:
                inode = parts[9]
                break
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
    return None


def scrape_workers(server: Server, budget_s: float = 6.0) -> Scrape:
    """/metrics of every worker process (prometheus_client counts per process). A scrape reaches whichever
    worker accepts the connection, and the workers' process_start_time_seconds can be equal, so each
    answer is attributed to the worker holding the server side of the connection (/proc/net/tcp and
    /proc/<pid>/fd). Scrapes run on several connections at once, in rounds, until every worker answered
    or the budget is spent (then the figures cover the workers seen: workers_seen)."""
    from concurrent.futures import ThreadPoolExecutor

    port = int(server.base.rsplit(":", 1)[1])
    pids = descendants(server.proc.pid)

    def one(_: int) -> tuple[float, dict[str, float]]:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                data += chunk
            head, _sep, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            length = int(m.group(1)) if m else 0
            while len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            owner = _socket_owner(port, sock.getsockname()[1], pids)
        metrics = parse_metrics(body.decode())
        return float(owner) if owner is not None else metrics.get("process_start_time_seconds", 0.0), metrics

    seen: Scrape = {}
    deadline = time.monotonic() + budget_s
    parallel = 1 if server.workers == 1 else 4 * server.workers
    with ThreadPoolExecutor(parallel) as pool:
        while True:
            for key, m in pool.map(one, range(parallel)):
                seen.setdefault(key, m)
            if len(seen) >= server.workers or time.monotonic() >= deadline:
                return seen
            time.sleep(0.05)


def metrics_delta(before: Scrape, after: Scrape) -> dict[str, Any]:
    keys = (
        "jogo_writer_batch_rows_sum",
        "jogo_writer_batch_rows_count",
        "jogo_writer_commit_seconds_sum",
        "jogo_writer_commit_seconds_count",
        "jogo_pings_stored_total",
        "process_cpu_seconds_total",
    )
    total = dict.fromkeys(keys, 0.0)
    both = [start for start in after if start in before]  # a worker missed before the phase cannot count
    for start in both:
        for k in keys:
            total[k] += after[start].get(k, 0.0) - before[start].get(k, 0.0)
    commits = total["jogo_writer_batch_rows_count"]
    return {
        "workers_seen": len(both),
        "commits": int(commits),
        "avg_batch_rows": _avg(total["jogo_writer_batch_rows_sum"], commits, 1),
        "avg_commit_ms": _avg(1000 * total["jogo_writer_commit_seconds_sum"], commits, 2),
        "pings_stored": int(total["jogo_pings_stored_total"]),
        "process_cpu_s": round(total["process_cpu_seconds_total"], 2),
    }


class Server:
    def __init__(self, url: str, port: int, workers: int, writer_connections: int, log_path: Path) -> None:
        # No second OsmAnd listener: it would compete for port 5055 with other servers on this machine.
        env = {**os.environ, "JOGO_DATABASE_URL": url, "JOGO_LOG_LEVEL": "WARNING", "JOGO_OSMAND_PORT": "off"}
        env["JOGO_WRITER_CONNECTIONS"] = str(writer_connections)
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.base = f"http://127.0.0.1:{port}"
        self.workers = workers
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jogo_dispatch.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = log_path

    def wait_ready(self, timeout_s: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text()[-3000:]
                raise SystemExit(f"server exited ({self.proc.returncode}):\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    # With several workers, give each one the chance to finish its start-up.
                    if self.workers > 1:
                        scrape_workers(self, budget_s=10.0)
                    return
            time.sleep(0.3)
        tail = self.log_path.read_text()[-3000:]
        raise SystemExit(f"server not ready after {timeout_s:.0f}s:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# ------------------------------------------------------------------------------------------ phases
@dataclass
class Ctx:
    args: argparse.Namespace
    admin_url: str
    url: str
    dbname: str
    officers: list[Officer]
    t0: float  # epoch seconds: where the officers' drift starts
    next_base: float  # epoch seconds: where the next phase's recorded_at sequences start
    probe: CpuProbe
    server: Server | None = None


def db_exec(url: str, *statements: str) -> list[Any]:
    import psycopg

    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        for s in statements:
            cur = conn.execute(s)
            out.append(cur.fetchall() if cur.description else None)
    return out


def reset_pings(ctx: Ctx) -> None:
    """Start every phase from an empty pings table and a fresh checkpoint (less noise between phases)."""
    db_exec(ctx.url, "TRUNCATE pings", "CHECKPOINT")


def wait_quiet(ctx: Ctx) -> float:
    """Wait (at most --wait-quiet s) until the machine is nearly idle, so other people's test runs on the
    same two cores disturb the figures less. Returns the busy cores seen last (reported per phase)."""
    limit = time.monotonic() + ctx.args.wait_quiet
    while True:
        b0, _ = machine_busy_s()
        time.sleep(0.5)
        b1, _ = machine_busy_s()
        busy = (b1 - b0) / 0.5
        if busy < ctx.args.quiet_below or time.monotonic() >= limit:
            if busy >= ctx.args.quiet_below:
                log(
                    f"machine still busy ({busy:.2f} cores) after {ctx.args.wait_quiet:.0f} s; "
                    "measuring anyway"
                )
            return round(busy, 2)
        time.sleep(0.5)


def count_pings(ctx: Ctx) -> int:
    return int(db_exec(ctx.url, "SELECT count(*) FROM pings")[0][0][0])


def _copy_dtype() -> Any:
    import numpy as np

    f8 = [("n", ">i4"), ("v", ">f8")]
    return np.dtype(
        [
            ("nfields", ">i2"),
            ("officer_id", [("n", ">i4"), ("v", ">i8")]),
            ("recorded_at", [("n", ">i4"), ("v", ">i8")]),
            ("received_at", [("n", ">i4"), ("v", ">i8")]),
            # geography's binary input is (E)WKB: little-endian point with SRID 4326
            (
                "geog",
                [("n", ">i4"), ("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")],
            ),
            ("accuracy_m", f8),
            ("speed_mps", f8),
            ("heading_deg", f8),
            ("altitude_m", f8),
            ("battery_pct", f8),
            ("device_id", [("n", ">i4"), ("v", ">i8")]),
            ("source", [("n", ">i4"), ("v", "S3")]),
        ]
    )


def phase_copy(ctx: Ctx) -> dict[str, Any]:
    """Binary COPY of pre-encoded rows into pings, one transaction per batch, --copy-streams connections."""
    import numpy as np
    import psycopg

    a = ctx.args
    dtype = _copy_dtype()
    signature = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
    now_us = int((datetime.now(UTC) - PG_EPOCH).total_seconds() * 1e6)
    template = np.zeros(a.copy_batch, dtype=dtype)
    template["nfields"] = 11
    for col in (
        "officer_id",
        "recorded_at",
        "received_at",
        "accuracy_m",
        "speed_mps",
        "heading_deg",
        "altitude_m",
        "battery_pct",
        "device_id",
    ):
        template[col]["n"] = 8
    template["geog"]["n"] = 25
    template["geog"]["order"] = 1
    template["geog"]["type"] = 0x20000001  # point with SRID
    template["geog"]["srid"] = 4326
    template["received_at"]["v"] = now_us
    for col, v in (
        ("accuracy_m", 6.0),
        ("speed_mps", 1.5),
        ("heading_deg", 45.0),
        ("altitude_m", 450.0),
        ("battery_pct", 80.0),
    ):
        template[col]["v"] = v
    template["device_id"]["v"] = 1
    template["source"]["n"] = 3
    template["source"]["v"] = b"api"
    # The COPY rows use synthetic officers and a time range of their own, inside today's partitions.
    copy_base_us = now_us - int(3600e6)
    slots = np.arange(a.copy_batch, dtype=np.int64)
    start_at = time.time() + 0.3
    warm_end = start_at + a.warmup
    deadline = warm_end + a.duration
    lock = threading.Lock()
    stats: dict[str, Any] = {
        "rows": 0,
        "window_rows": 0,
        "window_batches": 0,
        "latencies": [],
        "backend_pids": [],
    }
    counter = [0]

    def payload() -> bytes:
        with lock:
            k0 = counter[0]
            counter[0] += a.copy_batch
        k = k0 + slots
        rows = template.copy()
        rows["officer_id"]["v"] = COPY_OFFICER_BASE + k % COPY_OFFICERS
        rows["recorded_at"]["v"] = copy_base_us + (k // COPY_OFFICERS) * 1000
        rows["geog"]["x"] = MALANG[1] + (k % COPY_OFFICERS) * 1e-4
        rows["geog"]["y"] = MALANG[0] + (k // COPY_OFFICERS) * 1e-7
        return signature + rows.tobytes() + b"\xff\xff"

    copy_sql = f"COPY pings ({STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)"

    def stream() -> None:
        with psycopg.connect(ctx.url) as conn:
            with lock:
                stats["backend_pids"].append(conn.info.backend_pid)
            while time.time() < start_at:
                time.sleep(0.005)
            while time.time() < deadline:
                data = payload()
                t = time.perf_counter()
                with conn.cursor() as cur, cur.copy(copy_sql) as cp:
                    cp.write(data)
                conn.commit()
                latency = time.perf_counter() - t
                done = time.time()
                with lock:
                    stats["rows"] += a.copy_batch
                    if warm_end <= done <= deadline:
                        stats["window_rows"] += a.copy_batch
                        stats["window_batches"] += 1
                        stats["latencies"].append(latency)

    threads = [threading.Thread(target=stream, daemon=True) for _ in range(a.copy_streams)]
    for t in threads:
        t.start()
    client_a, snap_a = _sleep_and_snap(ctx, warm_end)
    client_b, snap_b = _sleep_and_snap(ctx, deadline)
    for t in threads:
        t.join(timeout=60)
    stored = count_pings(ctx)
    lat = sorted(stats["latencies"])
    return {
        "rows_per_s": round(stats["window_rows"] / a.duration),
        "batch_rows": a.copy_batch,
        "streams": a.copy_streams,
        "window_s": a.duration,
        "rows_committed": stats["rows"],
        "rows_in_table": stored,
        "consistent": stored == stats["rows"],
        "commit_p50_ms": _ms(pct(lat, 50)),
        "commit_p99_ms": _ms(pct(lat, 99)),
        "cpu": cpu_split(snap_a, snap_b, client_b - client_a),
    }


def _sleep_and_snap(ctx: Ctx, at: float) -> tuple[float, CpuSnap]:
    time.sleep(max(0.0, at - time.time()))
    return proc_cpu_s(os.getpid()) or 0.0, ctx.probe.snap()


def phase_writer(ctx: Ctx) -> dict[str, Any]:
    """The server's PingWriter in this process: --batch-conns submitters of --batch-size rows each."""
    from prometheus_client import REGISTRY

    from jogo_dispatch.tracking.writer import PingRow, PingWriter

    a = ctx.args
    base, t0 = ctx.next_base, ctx.t0
    for o in ctx.officers:
        o.next_i = 0
    groups = [ctx.officers[i :: a.batch_conns] for i in range(a.batch_conns)]
    start_at = time.time() + 0.3
    warm_end = start_at + a.warmup
    deadline = warm_end + a.duration
    res: dict[str, Any] = {"rows": 0, "accepted": 0, "window_rows": 0, "window_accepted": 0, "latencies": []}
    snaps: dict[str, tuple[float, CpuSnap]] = {}

    def metric(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    import numpy as np

    from jogo_dispatch.tracking import writer as writer_module

    # The server's own hot path when the writer has it: a request's rows encoded a column at a time.
    encode_columns = getattr(writer_module, "encode_columns", None)
    unix_epoch, one_us = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)

    async def submitter(writer: PingWriter, officers: list[Officer]) -> None:
        k = 0
        while time.time() < deadline:
            o = officers[k % len(officers)]
            k += 1
            now = datetime.now(UTC)
            pings = ping_dicts(o, a.batch_size, base, t0)
            rows: Any
            if encode_columns is not None:
                t_us = np.array([(p["recorded_at"] - unix_epoch) // one_us for p in pings], dtype=np.int64)
                cols = [
                    np.array([p[f] for p in pings], dtype=np.float64)
                    for f in (
                        "lat",
                        "lon",
                        "accuracy_m",
                        "speed_mps",
                        "heading_deg",
                        "altitude_m",
                        "battery_pct",
                    )
                ]
                rows = encode_columns(
                    o.officer_id, t_us, now, cols[0], cols[1], cols[2:], None, "api", fresh=True
                )
            else:
                rows = [
                    PingRow(
                        o.officer_id,
                        p["recorded_at"],
                        now,
                        p["lat"],
                        p["lon"],
                        p["accuracy_m"],
                        p["speed_mps"],
                        p["heading_deg"],
                        p["altitude_m"],
                        p["battery_pct"],
                        None,
                        "api",
                    )
                    for p in pings
                ]
            t = time.perf_counter()
            stored = await (
                writer.submit_encoded(rows) if encode_columns is not None else writer.submit(rows)
            )
            latency = time.perf_counter() - t
            done = time.time()
            n = sum(stored)
            res["rows"] += len(pings)
            res["accepted"] += n
            if warm_end <= done <= deadline:
                res["window_rows"] += len(pings)
                res["window_accepted"] += n
                res["latencies"].append(latency)

    async def snap_at(name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        snaps[name] = (proc_cpu_s(os.getpid()) or 0.0, await asyncio.to_thread(ctx.probe.snap))

    async def main() -> dict[str, float]:
        writer = PingWriter(ctx.url, max_batch=5000, connections=ctx.args.writer_connections)
        await writer.start()
        try:
            before = {
                k: metric(k)
                for k in (
                    "jogo_writer_batch_rows_sum",
                    "jogo_writer_batch_rows_count",
                    "jogo_writer_commit_seconds_sum",
                )
            }
            await asyncio.sleep(max(0.0, start_at - time.time()))
            await asyncio.gather(
                snap_at("a", warm_end), snap_at("b", deadline), *(submitter(writer, g) for g in groups)
            )
            return {k: metric(k) - v for k, v in before.items()}
        finally:
            await writer.stop()

    delta = _run_async(main())
    _advance(ctx, {o.officer_id: o.next_i for o in ctx.officers})
    stored = count_pings(ctx)
    commits = delta["jogo_writer_batch_rows_count"]
    lat = sorted(res["latencies"])
    (ca, sa), (cb, sb) = snaps["a"], snaps["b"]
    split = cpu_split(sa, sb, 0.0)
    # the writer runs inside this process: its CPU is the "server" share here
    split["server_cpu_s"] = round(cb - ca, 3)
    split["other_cpu_s"] = round(max(0.0, split["other_cpu_s"] - (cb - ca)), 3)
    return {
        "pings_per_s": round(res["window_accepted"] / a.duration),
        "submitters": a.batch_conns,
        "rows_per_submit": a.batch_size,
        "window_s": a.duration,
        "accepted": res["accepted"],
        "rejected_duplicates": res["rows"] - res["accepted"],
        "rows_in_table": stored,
        "consistent": stored == res["accepted"],
        "submit_p50_ms": _ms(pct(lat, 50)),
        "submit_p99_ms": _ms(pct(lat, 99)),
        "avg_batch_rows": _avg(delta["jogo_writer_batch_rows_sum"], commits, 1),
        "avg_commit_ms": _avg(1000 * delta["jogo_writer_commit_seconds_sum"], commits, 2),
        "commits": int(commits),
        "cpu": split,
    }


def _avg(total: float, count: float, digits: int) -> float | None:
    return round(total / count, digits) if count else None


def _run_async(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _advance(ctx: Ctx, max_i: dict[int, int]) -> None:
    """Move the next phase's recorded_at past everything sent so far (duplicates are never intended)."""
    used = max(max_i.values(), default=0)
    ctx.next_base += used * STEP_S + 1.0
    limit = time.time() + 60  # stay well inside the server's future tolerance (120 s)
    if ctx.next_base > limit:
        raise SystemExit("recorded_at timeline ran into the future; lower --duration or raise --officers")


def phase_http(ctx: Ctx, name: str, per_request: int, conns: int, websocket: bool = False) -> dict[str, Any]:
    a = ctx.args
    assert ctx.server is not None
    if len(ctx.officers) < conns:
        raise SystemExit(f"need at least {conns} officers for {conns} connections")
    for o in ctx.officers:
        o.next_i = 0
    groups = [ctx.officers[i::conns] for i in range(conns)]
    procs_n = max(1, min(a.client_procs, conns))
    per_proc = [groups[i::procs_n] for i in range(procs_n)]
    port = int(ctx.server.base.rsplit(":", 1)[1])
    metrics_before = scrape_workers(ctx.server)
    start_at = time.time() + 0.5
    warm_end = start_at + a.warmup
    deadline = warm_end + a.duration
    mpc = mp.get_context("fork")
    procs, pipes = [], []
    for specs in per_proc:
        parent, child = mpc.Pipe(duplex=False)
        p = mpc.Process(
            target=_client_proc,
            daemon=True,
            args=(
                specs,
                "127.0.0.1",
                port,
                per_request,
                ctx.next_base,
                ctx.t0,
                start_at,
                warm_end,
                deadline,
                child,
                websocket,
            ),
        )
        p.start()
        child.close()
        procs.append(p)
        pipes.append(parent)
    profiler = start_profiler(ctx, name, start_at)
    _, snap_a = _sleep_and_snap(ctx, warm_end)
    _, snap_b = _sleep_and_snap(ctx, deadline)
    results: list[ConnResult] = []
    client_cpu = 0.0
    max_i: dict[int, int] = {}
    for p, pipe in zip(procs, pipes, strict=True):
        if not pipe.poll(60):
            raise SystemExit(f"client process {p.pid} did not report")
        r, cpu, mi = pipe.recv()
        results.extend(r)
        client_cpu += cpu
        max_i.update(mi)
        p.join(timeout=10)
    if profiler:
        profiler.wait(timeout=60)
    _advance(ctx, max_i)
    metrics_after = scrape_workers(ctx.server)
    stored = count_pings(ctx)

    total = ConnResult()
    for r in results:
        for f in (
            "requests",
            "pings_sent",
            "accepted",
            "window_requests",
            "window_pings_sent",
            "window_accepted",
        ):
            setattr(total, f, getattr(total, f) + getattr(r, f))
        total.latencies.extend(r.latencies)
        total.statuses.update(r.statuses)
        total.reasons.update(r.reasons)
        total.errors.extend(r.errors)
    lat = sorted(total.latencies)
    server_view = metrics_delta(metrics_before, metrics_after)
    return {
        "requests_per_s": round(total.window_requests / a.duration),
        "pings_per_s": round(total.window_accepted / a.duration),
        "pings_per_request": per_request,
        "connections": conns,
        "client_procs": procs_n,
        "window_s": a.duration,
        "latency_p50_ms": _ms(pct(lat, 50)),
        "latency_p90_ms": _ms(pct(lat, 90)),
        "latency_p99_ms": _ms(pct(lat, 99)),
        "latency_max_ms": _ms(lat[-1] if lat else None),
        "requests": total.requests,
        "pings_sent": total.pings_sent,
        "accepted": total.accepted,
        "rejected": total.pings_sent - total.accepted,
        "rejected_reasons": dict(total.reasons),
        "http_statuses": {str(k): v for k, v in sorted(total.statuses.items())},
        "errors": total.errors[:10],
        "rows_in_table": stored,
        "consistent": stored == total.accepted,
        "server_metrics": server_view,
        "cpu": cpu_split(snap_a, snap_b, client_cpu),
    }


def measure_idle(ctx: Ctx, seconds: float = 3.0) -> dict[str, float]:
    """CPU the server burns with no requests (background loops): a fixed cost per second that the
    per-ping figures include."""
    time.sleep(1.0)
    a = ctx.probe.snap()
    time.sleep(seconds)
    b = ctx.probe.snap()
    split = cpu_split(a, b, 0.0)
    return {
        "server_cores": round(split["server_cpu_s"] / split["wall_s"], 3),
        "postgres_backends_cores": round(split["postgres_backends_cpu_s"] / split["wall_s"], 3),
        "seconds": seconds,
    }


def start_profiler(ctx: Ctx, name: str, start_at: float) -> subprocess.Popen[bytes] | None:
    a = ctx.args
    if not a.py_spy or ctx.server is None:
        return None
    out_dir = Path(a.profile_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        a.py_spy,
        "record",
        "--pid",
        str(ctx.server.proc.pid),
        "--duration",
        str(int(a.duration)),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(out_dir / f"{name}.folded"),
        "--nonblocking",
    ]
    if a.workers > 1:
        cmd.append("--subprocesses")
    time.sleep(max(0.0, start_at + a.warmup - time.time()))
    log(f"py-spy recording {name} -> {out_dir / (name + '.folded')}")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pct(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 2)


# ---------------------------------------------------------------------------------------- set-up
def create_database(admin_url: str, dbname: str) -> str:
    db_exec(admin_url, f'CREATE DATABASE "{dbname}"')
    return admin_url.rsplit("/", 1)[0] + f"/{dbname}"


def drop_database(admin_url: str, dbname: str) -> None:
    db_exec(admin_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def seed(url: str, count: int) -> list[Officer]:
    from jogo_dispatch.devtools.demo import seed_demo
    from jogo_dispatch.platform.db import make_engine, make_sessionmaker
    from jogo_dispatch.platform.security import Passwords
    from jogo_dispatch.settings import to_sqlalchemy_url

    async def run() -> list[Any]:
        engine = make_engine(to_sqlalchemy_url(url), 2)
        try:
            async with make_sessionmaker(engine)() as session:
                fleet: list[Any] = await seed_demo(session, Passwords(), count)
                await session.commit()
                return fleet
        finally:
            await engine.dispose()

    fleet = asyncio.run(run())
    rng = random.Random(11)
    return [
        Officer(
            o.officer_id, o.token, MALANG[0] + rng.uniform(-0.05, 0.05), MALANG[1] + rng.uniform(-0.05, 0.05)
        )
        for o in fleet
    ]


def ensure_today_partitions(url: str, start: datetime) -> None:
    import psycopg

    from jogo_dispatch.tracking import partitions

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            days = partitions.days_between(
                partitions.day_of(start) - timedelta(days=1),
                partitions.day_of(datetime.now(UTC)) + timedelta(days=1),
            )
            await partitions.ensure_partitions(conn, days)
            await conn.commit()

    asyncio.run(run())


def machine_facts(url: str) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    cpu_model = None
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_gb = None
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        mem_gb = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    rows = db_exec(
        url,
        "SELECT version()",
        "SELECT postgis_full_version()",
        "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('fsync', "
        "'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', "
        "'max_wal_size', 'wal_level', "
        "'checkpoint_timeout', 'commit_delay', 'wal_compression') ORDER BY name",
    )
    git = None
    with contextlib.suppress(Exception):
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout
        git = head.strip() + ("+dirty(src)" if dirty.strip() else "")
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "mem_gb": mem_gb,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": rows[0][0][0],
        "postgis": rows[1][0][0].split('"')[1] if '"' in rows[1][0][0] else rows[1][0][0],
        "postgres_settings": dict(rows[2]),
        "packages": {
            p: pkg(p)
            for p in (
                "fastapi",
                "starlette",
                "uvicorn",
                "uvloop",
                "httptools",
                "pydantic",
                "psycopg",
                "sqlalchemy",
                "orjson",
                "prometheus-client",
            )
        },
        "git": git,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------------------------------- report
def fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.1f}{unit}"
    return f"{int(v):,}{unit}"


def cpu_cols(c: dict[str, float]) -> str:
    w = c["wall_s"] or 1
    return (
        f"server {c['server_cpu_s'] / w:.2f} | pg {c['postgres_backends_cpu_s'] / w:.2f}"
        f"+{c['postgres_background_cpu_s'] / w:.2f} | client {c['client_cpu_s'] / w:.2f}"
        f" | other {c['other_cpu_s'] / w:.2f}"
    )


def report(result: dict[str, Any]) -> str:
    ph, m, c = result["phases"], result["machine"], result["config"]
    pg = m["postgres_settings"]
    lines = [
        "",
        f"jogo-dispatch ingest benchmark  {m['started_at']}  git {m['git']}",
        f"  {m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}, {m['postgresql'].split(' on ')[0]}, "
        f"PostGIS {m['postgis']}, fsync={pg.get('fsync')} synchronous_commit={pg.get('synchronous_commit')}",
        f"  server: {c['workers']} worker(s), {c.get('writer_connections', 1)} writer connection(s) each; "
        f"clients: {c['client_procs']} process(es); "
        f"window {c['duration']} s after {c['warmup']} s warm-up per phase; {c['officers']} officers",
        "",
    ]
    hdr = (
        f"  {'phase':<36}{'throughput':>18}{'p50 ms':>9}{'p99 ms':>9}{'rows/commit':>13}"
        "   CPU cores used (server | pg own+bg | client | other)"
    )
    lines += [hdr, "  " + "-" * (len(hdr) + 2)]

    def row(label: str, value: str, p50: Any, p99: Any, per_commit: Any, cpu: dict[str, float]) -> None:
        lines.append(
            f"  {label:<36}{value:>18}{fmt(p50):>9}{fmt(p99):>9}{fmt(per_commit):>13}   {cpu_cols(cpu)}"
        )

    if "copy" in ph:
        p = ph["copy"]
        row(
            "1. raw COPY ceiling (binary)",
            fmt(p["rows_per_s"], " rows/s"),
            p["commit_p50_ms"],
            p["commit_p99_ms"],
            p["batch_rows"],
            p["cpu"],
        )
    if "writer" in ph:
        p = ph["writer"]
        row(
            "   PingWriter in-process (no HTTP)",
            fmt(p["pings_per_s"], " pings/s"),
            p["submit_p50_ms"],
            p["submit_p99_ms"],
            p["avg_batch_rows"],
            p["cpu"],
        )
    http_rows = (
        (
            "batched",
            f"2. HTTP batched ({c['batch_size']}/req, {c['batch_conns']} conns)",
            "pings_per_s",
            " pings/s",
        ),
        (
            "stream",
            f"   websocket stream ({c['batch_size']}/msg, {c['batch_conns']} sockets)",
            "pings_per_s",
            " pings/s",
        ),
        ("single", f"3. HTTP single ({c['single_conns']} conns)", "requests_per_s", " req/s"),
        ("floor", f"   GET /healthz floor ({c['single_conns']} conns)", "requests_per_s", " req/s"),
    )
    for key, label, unit_key, unit in http_rows:
        if key in ph:
            p = ph[key]
            row(
                label,
                fmt(p[unit_key], unit),
                p["latency_p50_ms"],
                p["latency_p99_ms"],
                p["server_metrics"]["avg_batch_rows"],
                p["cpu"],
            )
    lines.append("")
    for key in ("copy", "writer", "batched", "stream", "single"):
        if key not in ph:
            continue
        p = ph[key]
        extra = ""
        if key in ("batched", "stream", "single"):
            sm = p["server_metrics"]
            reasons = f" {p['rejected_reasons']}" if p["rejected_reasons"] else ""
            extra = (
                f"; rejected {p['rejected']:,}{reasons}; HTTP {p['http_statuses']}"
                f"; server /metrics ({sm['workers_seen']} of {c['workers']} workers): "
                f"{sm['commits']:,} commits, avg {sm['avg_commit_ms']} ms"
            )
            if p["errors"]:
                extra += f"; errors: {p['errors'][:3]}"
        same = "= acknowledged" if p["consistent"] else "MISMATCH with acknowledged"
        lines.append(f"  {key}: rows in pings {p['rows_in_table']:,} ({same}){extra}")
    noisy = [
        k
        for k in ("copy", "writer", "batched", "stream", "single", "floor")
        if k in ph and ph[k]["cpu"]["other_cpu_s"] / (ph[k]["cpu"]["wall_s"] or 1) > 0.25
    ]
    if noisy:
        lines.append(
            f"  WARNING: other processes used > 0.25 cores during {', '.join(noisy)}: "
            "those figures are disturbed (see 'other'); the CPU µs per ping below are the steadier "
            "comparison."
        )
    if "server_idle" in result:
        i = result["server_idle"]
        lines.append(
            f"  server idle (no requests): {i['server_cores']:.3f} cores server, "
            f"{i['postgres_backends_cores']:.3f} cores postgres backends"
        )
    eff = result.get("cpu_per_ping_us", {})
    if eff:
        lines.append(
            "  CPU µs per ping (floor: per request) (server / postgres backends): "
            + "; ".join(f"{k} {v['server']:.0f} / {v['postgres']:.0f}" for k, v in eff.items())
        )
    lines.append("")
    if result["ratios"]:
        lines.append("  ratios: " + "; ".join(f"{k} = {v}" for k, v in result["ratios"].items()))
        lines.append("")
    lines.append("  goals:")
    for g in result["goals"]:
        lines.append(f"    [{'MET' if g['met'] else 'NOT MET':>7}] {g['goal']}: {g['actual']}")
    lines.append("")
    return "\n".join(lines)


def evaluate(result: dict[str, Any], workers: int) -> None:
    ph = result["phases"]
    ratios: dict[str, Any] = {}
    goals = []
    copy_rate = ph.get("copy", {}).get("rows_per_s")
    if "batched" in ph:
        b = ph["batched"]["pings_per_s"]
        if copy_rate:
            ratios["batched / COPY ceiling"] = round(b / copy_rate, 3)
        if "writer" in ph and ph["writer"]["pings_per_s"]:
            ratios["batched / writer in-process"] = round(b / ph["writer"]["pings_per_s"], 3)
        by_abs = b >= GOAL_BATCHED_PINGS_S
        by_rel = bool(copy_rate) and b >= GOAL_BATCHED_FRACTION_OF_COPY * copy_rate
        goals.append(
            {
                "goal": f"batched durable ingest >= {GOAL_BATCHED_PINGS_S:,} pings/s "
                "(or >= 1/4 of the COPY ceiling"
                + (f" = {GOAL_BATCHED_FRACTION_OF_COPY * copy_rate:,.0f}" if copy_rate else "")
                + ")",
                "actual": f"{b:,} pings/s" + (f" = {b / copy_rate:.1%} of COPY" if copy_rate else ""),
                "met": by_abs or by_rel,
                "met_absolute": by_abs,
                "met_relative": by_rel,
            }
        )
    if "writer" in ph and copy_rate:
        ratios["writer in-process / COPY ceiling"] = round(ph["writer"]["pings_per_s"] / copy_rate, 3)
    if "stream" in ph and copy_rate:
        ratios["websocket stream / COPY ceiling"] = round(ph["stream"]["pings_per_s"] / copy_rate, 3)
    if "stream" in ph and "batched" in ph and ph["batched"]["pings_per_s"]:
        ratios["websocket stream / batched"] = round(
            ph["stream"]["pings_per_s"] / ph["batched"]["pings_per_s"], 3
        )
    if "batched" in ph and copy_rate:
        b = ph["batched"]["pings_per_s"]
        goals.append(
            {
                "goal": f"batched HTTP >= {GOAL_BATCHED_FRACTION_OF_COPY_ISSUE_21:.0%} of the COPY ceiling "
                "in the same run (issue 21)",
                "actual": f"{b / copy_rate:.1%}",
                "met": b >= GOAL_BATCHED_FRACTION_OF_COPY_ISSUE_21 * copy_rate,
            }
        )
    if "single" in ph:
        s = ph["single"]["requests_per_s"]
        per_worker = s / workers
        goals.append(
            {
                "goal": f"single pings >= {GOAL_SINGLE_RPS_PER_WORKER:,} requests/s per worker "
                f"({workers} worker(s))",
                "actual": f"{s:,} req/s = {per_worker:,.0f} per worker, p50 {ph['single']['latency_p50_ms']} ms, "
                f"p99 {ph['single']['latency_p99_ms']} ms",
                "met": per_worker >= GOAL_SINGLE_RPS_PER_WORKER,
            }
        )
        if "batched" in ph and ph["batched"]["pings_per_s"]:
            ratios["single req/s / batched pings/s"] = round(s / ph["batched"]["pings_per_s"], 3)
    eff = {}
    for key in ("copy", "writer", "batched", "stream", "single", "floor"):
        if key in ph:
            p, c = ph[key], ph[key]["cpu"]
            n = (p.get("rows_per_s") or p.get("pings_per_s") or p.get("requests_per_s") or 0) * p["window_s"]
            if n:
                eff[key] = {
                    "server": 1e6 * c["server_cpu_s"] / n,
                    "postgres": 1e6 * c["postgres_backends_cpu_s"] / n,
                }
    if "batched" in eff:
        us = eff["batched"]["server"]
        goals.append(
            {
                "goal": f"server CPU <= {GOAL_SERVER_US_PER_PING:g} µs per ping in batches (issue 21)",
                "actual": f"{us:.1f} µs server, {eff['batched']['postgres']:.1f} µs PostgreSQL backends",
                "met": us <= GOAL_SERVER_US_PER_PING,
            }
        )
    result["ratios"], result["goals"], result["cpu_per_ping_us"] = ratios, goals, eff


# ------------------------------------------------------------------------------------------ main
def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--admin-url",
        default=os.environ.get("JOGO_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL URL allowed to CREATE/DROP DATABASE (127.0.0.1 only)",
    )
    ap.add_argument(
        "--phases",
        default="copy,writer,batched,stream,single",
        help="comma-separated subset of copy,writer,batched,stream,single,floor (stream = the officer "
        "websocket, --batch-size pings per message on --batch-conns sockets; floor = GET /healthz, "
        "the HTTP stack's own per-request ceiling; not run by default)",
    )
    ap.add_argument(
        "--workers", type=int, default=1, help="server worker processes (jogo-dispatch serve --workers)"
    )
    ap.add_argument("--client-procs", type=int, default=1, help="load-generator processes")
    ap.add_argument(
        "--writer-connections",
        type=int,
        default=2,
        help="connections group-committing pings, in the writer phase and the server (JOGO_WRITER_CONNECTIONS)",
    )
    ap.add_argument(
        "--officers", type=int, default=840, help="demo officers seeded (each has a device token)"
    )
    ap.add_argument("--duration", type=float, default=8.0, help="measured seconds per phase")
    ap.add_argument("--warmup", type=float, default=1.5, help="unmeasured seconds before each window")
    ap.add_argument("--batch-size", type=int, default=100, help="pings per batched request")
    ap.add_argument("--batch-conns", type=int, default=16, help="connections for the batched phase")
    ap.add_argument("--single-conns", type=int, default=32, help="connections for the single-ping phase")
    ap.add_argument(
        "--copy-batch", type=int, default=5000, help="rows per COPY transaction (JOGO_WRITER_MAX_BATCH)"
    )
    ap.add_argument("--copy-streams", type=int, default=1, help="concurrent COPY connections")
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=20.0,
        help="before each phase, wait up to this many seconds for the machine to be idle",
    )
    ap.add_argument("--quiet-below", type=float, default=0.3, help="'idle' means fewer busy cores than this")
    ap.add_argument(
        "--json", default=str(ROOT / "benchmarks" / "results" / "ingest.json"), help="results file"
    )
    ap.add_argument("--keep-db", action="store_true", help="do not drop the scratch database")
    ap.add_argument(
        "--py-spy",
        default=None,
        help="py-spy binary: profile the server during the HTTP phases (figures are then slightly lower)",
    )
    ap.add_argument(
        "--profile-dir",
        default=str(ROOT / "benchmarks" / "results" / "profiles"),
        help="where --py-spy writes collapsed stacks (<phase>.folded)",
    )
    a = ap.parse_args()
    a.phases = [p.strip() for p in a.phases.split(",") if p.strip()]
    unknown = set(a.phases) - {"copy", "writer", "batched", "stream", "single", "floor"}
    if unknown:
        ap.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if a.duration > 20 or a.duration <= 0:
        ap.error("--duration must be in (0, 20] seconds")
    if "@127.0.0.1" not in a.admin_url and "@localhost" not in a.admin_url:
        ap.error("--admin-url must point at 127.0.0.1")
    if a.py_spy and not shutil.which(a.py_spy) and not Path(a.py_spy).exists():
        ap.error(f"py-spy not found: {a.py_spy}")
    return a


def main() -> int:
    a = parse_args()
    os.chdir(ROOT)
    from jogo_dispatch.platform.migrations import upgrade_head

    dbname = f"jogo_bench_{datetime.now(UTC):%Y%m%d%H%M%S}_{os.getpid()}"
    log(f"scratch database {dbname}")
    url = create_database(a.admin_url, dbname)
    ctx: Ctx | None = None
    result: dict[str, Any] = {}
    try:
        upgrade_head(url)
        log(f"seeding {a.officers} demo officers")
        officers = seed(url, a.officers)
        now = time.time()
        t0 = now - 1800  # the recorded_at timeline starts 30 min ago and moves forward phase by phase
        ensure_today_partitions(url, datetime.fromtimestamp(now - 3700, UTC))
        ctx = Ctx(a, a.admin_url, url, dbname, officers, t0, t0, CpuProbe(a.admin_url, dbname))
        result = {
            "machine": machine_facts(url),
            "config": {
                k: getattr(a, k)
                for k in (
                    "workers",
                    "client_procs",
                    "writer_connections",
                    "officers",
                    "duration",
                    "warmup",
                    "batch_size",
                    "batch_conns",
                    "single_conns",
                    "copy_batch",
                    "copy_streams",
                    "phases",
                )
            },
            "phases": {},
        }
        result["config"]["profiled"] = bool(a.py_spy)
        if "copy" in a.phases:
            reset_pings(ctx)
            busy = wait_quiet(ctx)
            log("phase 1: raw binary COPY into pings")
            result["phases"]["copy"] = phase_copy(ctx)
            result["phases"]["copy"]["busy_cores_before"] = busy
        if "writer" in a.phases:
            reset_pings(ctx)
            busy = wait_quiet(ctx)
            log("phase 1b: PingWriter in-process")
            result["phases"]["writer"] = phase_writer(ctx)
            result["phases"]["writer"]["busy_cores_before"] = busy
        if {"batched", "stream", "single", "floor"} & set(a.phases):
            log_path = Path(tempfile.gettempdir()) / f"{dbname}-server.log"
            ctx.server = Server(url, free_port(), a.workers, a.writer_connections, log_path)
            ctx.probe.server_pid = ctx.server.proc.pid
            ctx.server.wait_ready()
            result["server_idle"] = measure_idle(ctx)
            http_phases = (
                ("batched", a.batch_size, a.batch_conns),
                ("stream", a.batch_size, a.batch_conns),
                ("single", 1, a.single_conns),
                ("floor", 0, a.single_conns),
            )
            for key, per_request, conns in http_phases:
                if key in a.phases:
                    reset_pings(ctx)
                    busy = wait_quiet(ctx)
                    log(
                        f"phase: HTTP {key} ({per_request} ping(s)/request, {conns} connections)"
                        if per_request
                        else f"phase: HTTP floor (GET /healthz, {conns} connections)"
                    )
                    result["phases"][key] = phase_http(ctx, key, per_request, conns, key == "stream")
                    result["phases"][key]["busy_cores_before"] = busy
        evaluate(result, a.workers)
    finally:
        if ctx is not None and ctx.server is not None:
            ctx.server.stop()
            tail = ctx.server.log_path.read_text(errors="replace").strip()
            if tail:
                log("server output (tail):\n" + tail[-2000:])
            ctx.server.log_path.unlink(missing_ok=True)
        if ctx is not None:
            ctx.probe.close()
        if a.keep_db:
            log(f"kept database {url}")
        else:
            drop_database(a.admin_url, dbname)
            log(f"dropped {dbname}")
    print(report(result))
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"  results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
