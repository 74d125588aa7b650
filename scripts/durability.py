#!/usr/bin/env python3
"""Durability check: kill the server with SIGKILL under load and prove no acknowledged ping is lost.

Run on purpose (not by CI). Everything stays on 127.0.0.1 and is bounded in time and count:

1. creates a scratch database ``jogo_durability_*`` on the local PostgreSQL, migrates it, seeds
   officers with device tokens;
2. starts ``jogo-dispatch serve`` as a subprocess and streams pings from many concurrent phones, half
   through ``POST /api/v1/pings`` (batches) and half through the ``/api/v1/officers/stream`` socket;
3. SIGKILLs the server ``--kills`` times at random moments of the load and restarts it at once; the
   phones keep everything that was not acknowledged and resend it (a ``duplicate`` rejection of a
   resent ping means it was already stored, so it counts as acknowledged);
4. stops sending, lets the phones deliver what they still hold, and checks in the database that every
   acknowledged ping is stored exactly once (count per (officer_id, recorded_at)).

Exit code 0 only when nothing acknowledged is lost and nothing is stored twice.

    .venv/bin/python scripts/durability.py
    .venv/bin/python scripts/durability.py --http-phones 40 --ws-phones 40 --duration 60 --kills 5 --seed 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import psycopg
import websockets

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
STEP = timedelta(milliseconds=10)  # recorded time between one phone's fixes
STEP_DEG = 1e-7  # ...and the distance (about 1 m/s: never "too_fast", whatever order they arrive in)
MAX_PENDING = 2000  # a phone stops taking fixes while it holds this many unacknowledged ones
READY_TIMEOUT_S = 60.0
WS_WINDOW = 16  # messages in flight per socket (the server handles 16 at a time)

Key = tuple[int, datetime]
T0 = time.monotonic()


def say(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


# --------------------------------------------------------------------------------------- bookkeeping


@dataclass
class Ledger:
    sent: set[Key] = field(default_factory=set)
    acked: set[Key] = field(default_factory=set)
    rejected: dict[str, int] = field(default_factory=dict)  # any reason but duplicate: a bug here
    duplicates_acked: int = 0  # resent pings answered "duplicate"
    failed_requests: int = 0  # connection errors and 503s, all retried
    last_ack: float = 0.0

    def settle(self, officer_id: int, pings: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> None:
        reasons = {r["index"]: r["reason"] for r in rejected}
        for i, ping in enumerate(pings):
            key = (officer_id, datetime.fromisoformat(ping["recorded_at"]))
            reason = reasons.get(i)
            if reason is None or reason == "duplicate":
                self.acked.add(key)
                self.duplicates_acked += reason == "duplicate"
            else:
                self.rejected[reason] = self.rejected.get(reason, 0) + 1
        self.last_ack = time.monotonic()


class Track:
    """One phone's fixes: a straight walk, every fix a new (officer, recorded_at)."""

    def __init__(self, officer_id: int, rng: random.Random, ledger: Ledger) -> None:
        self.officer_id = officer_id
        self.ledger = ledger
        self.t = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        self.lat = -7.97 + rng.uniform(-0.05, 0.05)
        self.lon = 112.63 + rng.uniform(-0.05, 0.05)

    def take(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            self.t += STEP
            self.lat += STEP_DEG
            out.append(
                {
                    "lat": round(self.lat, 7),
                    "lon": round(self.lon, 7),
                    "accuracy_m": 8.0,
                    "recorded_at": self.t.isoformat(),
                }
            )
            self.ledger.sent.add((self.officer_id, self.t))
        return out


# --------------------------------------------------------------------------------------------- phones


@dataclass
class Phone:
    officer_id: int
    token: str
    track: Track
    rng: random.Random
    ledger: Ledger
    rate: float  # new fixes per second
    holding: int = 0  # fixes taken but not yet acknowledged

    def new_fixes(self, elapsed_s: float) -> list[dict[str, Any]]:
        if self.holding >= MAX_PENDING:
            return []
        n = max(1, round(self.rate * elapsed_s * self.rng.uniform(0.5, 1.5)))
        return self.track.take(min(n, MAX_PENDING - self.holding))


async def http_phone(
    phone: Phone, client: httpx.AsyncClient, sending: asyncio.Event, done: asyncio.Event
) -> None:
    """Buffers fixes and uploads them in batches; what was not acknowledged goes out again next time."""
    pending: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {phone.token}"}
    last = time.monotonic()
    while True:
        now = time.monotonic()
        if sending.is_set():
            pending += phone.new_fixes(now - last)
        last = now
        if not pending:
            if not sending.is_set():
                return
            await asyncio.sleep(0.05)
            continue
        body = pending[:1000]
        phone.holding = len(pending)
        try:
            r = await client.post("/api/v1/pings", content=orjson.dumps(body), headers=headers)
        except httpx.HTTPError:
            r = None
        if r is not None and r.status_code == 200:
            phone.ledger.settle(phone.officer_id, body, r.json()["rejected"])
            pending = pending[len(body) :]
            phone.holding = len(pending)
            await asyncio.sleep(phone.rng.uniform(0.02, 0.1))
        else:
            phone.ledger.failed_requests += 1
            if done.is_set():
                return
            await asyncio.sleep(phone.rng.uniform(0.1, 0.3))


async def ws_phone(phone: Phone, base_ws: str, sending: asyncio.Event, done: asyncio.Event) -> None:
    """One socket; every message has a seq and its pings stay held until the ack. Pings of a message
    answered with an error, or left unanswered when the socket dropped, go out again in a new one."""
    url = f"{base_ws}/api/v1/officers/stream?token={phone.token}"
    held: dict[int, list[dict[str, Any]]] = {}  # seq -> pings sent on the current socket, not yet acked
    resend: list[dict[str, Any]] = []
    seq = 0
    last = time.monotonic()
    while not done.is_set():
        resend += [p for s in sorted(held) for p in held[s]]
        held.clear()
        if not sending.is_set() and not resend:
            return
        try:
            async with websockets.connect(url, open_timeout=5, close_timeout=1) as ws:
                reader = asyncio.create_task(_ws_read(ws, phone, held, resend))
                try:
                    while not reader.done():
                        now = time.monotonic()
                        if len(held) < WS_WINDOW:
                            fixes = resend + (phone.new_fixes(now - last) if sending.is_set() else [])
                            resend.clear()
                            if fixes:
                                seq += 1
                                held[seq] = fixes
                                msg = {"type": "pings", "seq": seq, "pings": fixes}
                                await ws.send(orjson.dumps(msg).decode())
                        last = now
                        phone.holding = len(resend) + sum(len(p) for p in held.values())
                        if not sending.is_set() and not phone.holding:
                            return
                        await asyncio.sleep(phone.rng.uniform(0.02, 0.08))
                    reader.result()
                finally:
                    reader.cancel()
        except (OSError, websockets.WebSocketException, TimeoutError):
            pass
        phone.ledger.failed_requests += 1
        await asyncio.sleep(phone.rng.uniform(0.1, 0.3))


async def _ws_read(
    ws: Any, phone: Phone, held: dict[int, list[dict[str, Any]]], resend: list[dict[str, Any]]
) -> None:
    async for raw in ws:
        msg = orjson.loads(raw)
        pings = held.pop(msg.get("seq"), None) if msg.get("type") in ("ack", "error") else None
        if pings is None:
            continue
        if msg["type"] == "ack":
            phone.ledger.settle(phone.officer_id, pings, msg.get("rejected", []))
        else:  # refused (e.g. store unavailable while the database is away): send them again
            phone.ledger.failed_requests += 1
            resend += pings


# --------------------------------------------------------------------------------------------- server


class Server:
    def __init__(self, url: str, port: int, log_path: Path) -> None:
        self.url = url
        self.port = port
        self.base = f"http://{HOST}:{port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "JOGO_DATABASE_URL": self.url,
            "JOGO_OSMAND_PORT": "off",
            "JOGO_LOG_LEVEL": "WARNING",
            "JOGO_PUBSUB": "memory",
        }
        with self.log_path.open("ab") as log:
            # Own session: the kill below reaches the server and nothing else.
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jogo_dispatch.cli",
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                ],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self) -> float:
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() - started < READY_TIMEOUT_S:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.base}/readyz")).status_code == 200:
                        return time.monotonic() - started
                await asyncio.sleep(0.05)
        raise RuntimeError(f"server not ready after {READY_TIMEOUT_S:.0f}s; see {self.log_path}")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Recovery:
    killed_at: float
    ready_s: float = 0.0  # restart to /readyz 200
    first_ack_s: float | None = None  # kill to the first acknowledgement after the restart


async def killer(
    server: Server,
    ledger: Ledger,
    kills: int,
    duration: float,
    rng: random.Random,
    recoveries: list[Recovery],
) -> None:
    """One kill at a random moment in each of ``kills`` equal slices of the load."""
    start = time.monotonic()
    for k in range(kills):
        slice_s = duration / kills
        at = start + k * slice_s + rng.uniform(0.25, 0.85) * slice_s
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        server.kill()
        rec = Recovery(killed_at=time.monotonic())
        say(f"kill {k + 1}/{kills}: SIGKILL (acked so far {len(ledger.acked)})")
        server.start()
        rec.ready_s = await server.wait_ready()
        recoveries.append(rec)
        say(f"kill {k + 1}/{kills}: restarted, ready after {rec.ready_s:.2f}s")


async def progress(ledger: Ledger, phones: list[Phone], stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 2.0)
        say(
            f"sent {len(ledger.sent)}  acked {len(ledger.acked)}  "
            f"held by phones {sum(p.holding for p in phones)}  retries {ledger.failed_requests}"
        )


# ---------------------------------------------------------------------------------------------- main


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def local_only(url: str) -> str:
    if urlsplit(url).hostname not in (HOST, "localhost"):
        raise SystemExit(f"refusing {url}: this script only runs against PostgreSQL on {HOST}")
    return url


async def seed(url: str, officers: int) -> list[tuple[int, str]]:
    from jogo_dispatch.devtools.demo import seed_demo
    from jogo_dispatch.platform.db import make_engine, make_sessionmaker
    from jogo_dispatch.platform.security import Passwords
    from jogo_dispatch.settings import to_sqlalchemy_url

    engine = make_engine(to_sqlalchemy_url(url), 2)
    try:
        async with make_sessionmaker(engine)() as session:
            fleet = await seed_demo(session, Passwords(fast=True), officers)
            await session.commit()
    finally:
        await engine.dispose()
    return [(o.officer_id, o.token) for o in fleet]


async def load(
    args: argparse.Namespace, server: Server, officers: list[tuple[int, str]], rng: random.Random
) -> tuple[Ledger, list[Recovery]]:
    ledger = Ledger()
    phones = [
        Phone(oid, tok, Track(oid, rng, ledger), random.Random(rng.random()), ledger, args.rate)
        for oid, tok in officers
    ]
    http_phones, ws_phones = phones[: args.http_phones], phones[args.http_phones :]
    sending, done, stop_progress = asyncio.Event(), asyncio.Event(), asyncio.Event()
    sending.set()
    recoveries: list[Recovery] = []
    limits = httpx.Limits(max_connections=len(http_phones), max_keepalive_connections=len(http_phones))
    async with httpx.AsyncClient(base_url=server.base, timeout=10, limits=limits) as client:
        tasks = [asyncio.create_task(http_phone(p, client, sending, done)) for p in http_phones]
        base_ws = f"ws://{HOST}:{server.port}"
        tasks += [asyncio.create_task(ws_phone(p, base_ws, sending, done)) for p in ws_phones]
        reporter = asyncio.create_task(progress(ledger, phones, stop_progress))
        say(
            f"load: {len(http_phones)} HTTP + {len(ws_phones)} websocket phones, "
            f"~{args.rate:g} fixes/s each, {args.duration:g}s, {args.kills} kills"
        )
        kill_task = asyncio.create_task(killer(server, ledger, args.kills, args.duration, rng, recoveries))
        watch = asyncio.create_task(_first_acks(ledger, recoveries, kill_task))
        await asyncio.sleep(args.duration)
        await kill_task  # a restart in progress finishes before the phones stop
        sending.clear()
        say("load over: phones deliver what they still hold")
        _, pending = await asyncio.wait(tasks, timeout=args.drain)
        if pending:
            say(f"{len(pending)} phones still held pings after {args.drain:g}s; giving up on those")
        done.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        watch.cancel()
        stop_progress.set()
        await reporter
    return ledger, recoveries


async def _first_acks(ledger: Ledger, recoveries: list[Recovery], kill_task: asyncio.Task[None]) -> None:
    while True:
        for rec in recoveries:
            if rec.first_ack_s is None and ledger.last_ack > rec.killed_at + rec.ready_s:
                rec.first_ack_s = ledger.last_ack - rec.killed_at
        await asyncio.sleep(0.02)


def verify(url: str, ledger: Ledger, officer_ids: list[int]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT officer_id, recorded_at, count(*) FROM pings WHERE officer_id = ANY(%s) GROUP BY 1, 2",
            (officer_ids,),
        ).fetchall()
    stored = {(oid, ts): n for oid, ts, n in rows}
    unacked = ledger.sent - ledger.acked
    return {
        "sent": len(ledger.sent),
        "acknowledged": len(ledger.acked),
        "stored": len(stored),
        "lost": len(ledger.acked - stored.keys()),
        "duplicates": sum(n - 1 for n in stored.values()),
        "unacknowledged": len(unacked),
        "unacknowledged_but_stored": len(unacked & stored.keys()),
        "stored_but_never_sent": len(stored.keys() - ledger.sent),
        "rejected_other": sum(ledger.rejected.values()),
    }


async def run(args: argparse.Namespace) -> int:
    from jogo_dispatch.platform.migrations import upgrade_head

    admin_url = local_only(args.admin_url)
    seed_value = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed_value)
    name = f"jogo_durability_{os.getpid()}_{int(time.time())}"
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    log_path = Path(tempfile.gettempdir()) / f"{name}.log"
    server = Server(url, args.port or free_port(), log_path)
    say(f"seed {seed_value}; scratch database {name}; server log {log_path}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    ok = False
    try:
        upgrade_head(url)
        officers = await seed(url, args.http_phones + args.ws_phones)
        say(f"migrated; {len(officers)} officers with device tokens")
        server.start()
        say(f"server up after {await server.wait_ready():.2f}s on {server.base}")
        ledger, recoveries = await load(args, server, officers, rng)
        server.stop()
        report = verify(url, ledger, [oid for oid, _ in officers])
        print()
        print("durability report")
        for key, value in report.items():
            print(f"  {key:28} {value}")
        print(f"  {'retried requests':28} {ledger.failed_requests}")
        print(f"  {'stored, ack lost, resent':28} {ledger.duplicates_acked}  (acknowledged as duplicate)")
        if ledger.rejected:
            print(f"  {'rejections':28} {ledger.rejected}")
        print(f"  {'kills':28} {len(recoveries)}")
        for i, rec in enumerate(recoveries, 1):
            first = f"{rec.first_ack_s:.2f}s" if rec.first_ack_s is not None else "none"
            print(f"    kill {i}: restart to ready {rec.ready_s:.2f}s, kill to first ack {first}")
        problems = [k for k in ("lost", "duplicates", "stored_but_never_sent", "rejected_other") if report[k]]
        if report["acknowledged"] == 0:
            problems.append("nothing acknowledged")
        if len(recoveries) < args.kills:
            problems.append("fewer kills than asked")
        ok = not problems
        print(f"\nresult: {'PASS' if ok else 'FAIL (' + ', '.join(problems) + ')'}")
        return 0 if ok else 1
    finally:
        server.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if ok:
            log_path.unlink(missing_ok=True)
        else:
            say(f"server log kept: {log_path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("JOGO_TEST_ADMIN_URL", ADMIN_URL),
        help="PostgreSQL on 127.0.0.1 where the scratch database is created",
    )
    parser.add_argument(
        "--http-phones", type=int, default=24, help="phones uploading through POST /api/v1/pings"
    )
    parser.add_argument("--ws-phones", type=int, default=24, help="phones streaming through the websocket")
    parser.add_argument("--rate", type=float, default=40.0, help="new fixes per second per phone")
    parser.add_argument("--duration", type=float, default=40.0, help="seconds of load (kills happen inside)")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs of the server during the load")
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds the phones get to deliver the rest"
    )
    parser.add_argument("--port", type=int, default=0, help="server port (0 = a free one)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (kill moments, phones)")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="hard limit for the whole run")
    args = parser.parse_args()
    if not (1 <= args.http_phones + args.ws_phones <= 500 and 0 <= args.kills <= 20 and args.duration <= 600):
        raise SystemExit("keep it bounded: 1-500 phones, 0-20 kills, at most 600 s of load")

    async def bounded() -> int:
        try:
            async with asyncio.timeout(args.max_seconds):
                return await run(args)
        except TimeoutError:
            say(f"gave up after --max-seconds {args.max_seconds:g}")
            return 2

    sys.exit(asyncio.run(bounded()))


if __name__ == "__main__":
    main()
