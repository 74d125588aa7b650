"""Database faults: PostgreSQL crashes and restarts under load while the service keeps running.

The service must say so on ``/readyz`` (503 ``not_ready``) while the database is gone, answer every
request during the outage at once with a 503 JSON error (never a hang, never a 500), come back by
itself once PostgreSQL is back, and lose none of the pings it acknowledged.

The database is a project-managed cluster of its own (``EmbeddedPostgres``), because the test stops
and crashes it; the app runs in a real uvicorn server so that the phones' websocket is exercised too.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
import websockets

from jogo_dispatch.devtools.embedded import EmbeddedPostgres, ensure_postgis, find_pg_bindir
from jogo_dispatch.settings import Settings, to_sqlalchemy_url
from tests.conftest import start_uvicorn

Key = tuple[int, datetime]

HTTP_PHONES = 4
WS_PHONES = 2
# No request may take longer than this, outage or not (the writer's own bound is 30 s; a dead
# database must be reported well before that).
MAX_ANSWER_S = 5.0
OUTAGE_CODES = {"store_unavailable", "store_failed", "database_unavailable"}


# --------------------------------------------------------------------------- database and server


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedPostgres]:
    from jogo_dispatch.platform.migrations import upgrade_head

    ensure_postgis(find_pg_bindir())
    # Not pytest's tmp_path: as root the server runs as an unprivileged user that must reach it.
    root = Path(tempfile.mkdtemp(prefix="jogo-db-faults-"))
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg", log=lambda _: None)
    try:
        pg.start()
        upgrade_head(pg.url)
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


def pg_ctl(pg: EmbeddedPostgres, *args: str) -> None:
    """Run pg_ctl on the cluster as its owner (PostgreSQL refuses root), like embedded.py does."""
    owner = pwd.getpwuid(pg.data_dir.stat().st_uid)
    as_owner = os.geteuid() == 0 and owner.pw_uid != 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = owner.pw_dir if as_owner else env.get("HOME", "/")
    subprocess.run(
        [str(pg.bindir / "pg_ctl"), "-D", str(pg.data_dir), *args], cwd=pg.cluster_dir, env=env,
        stdin=subprocess.DEVNULL, capture_output=True, check=True, timeout=60,
        user=owner.pw_uid if as_owner else None, group=owner.pw_gid if as_owner else None,
        extra_groups=os.getgrouplist(owner.pw_name, owner.pw_gid) if as_owner else None,
    )  # fmt: skip


async def seed(url: str) -> list[tuple[int, str]]:
    """Simulated officers (id, device token); also creates the demo dispatcher login."""
    from jogo_dispatch.devtools.demo import seed_demo
    from jogo_dispatch.platform.db import make_engine, make_sessionmaker
    from jogo_dispatch.platform.security import Passwords

    engine = make_engine(to_sqlalchemy_url(url), 2)
    try:
        async with make_sessionmaker(engine)() as session:
            fleet = await seed_demo(session, Passwords(fast=True), HTTP_PHONES + WS_PHONES)
            await session.commit()
    finally:
        await engine.dispose()
    return [(o.officer_id, o.token) for o in fleet]


@dataclass
class Server:
    url: str
    ws: str


@pytest.fixture(scope="module")
def server(cluster: EmbeddedPostgres) -> Iterator[Server]:
    from jogo_dispatch.main import create_app

    settings = Settings(
        env="test",
        database_url=cluster.url,
        secret_key="db-faults-secret-key-long-enough-0123456789",
        log_json=False,
        log_level="CRITICAL",
        osmand_port=None,
        presence_sweep_s=0.5,
        _env_file=None,  # type: ignore[call-arg]
    )
    uv, thread, port = start_uvicorn(create_app(settings))
    yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")
    uv.should_exit = True
    thread.join(15)


# --------------------------------------------------------------------------- phones


@dataclass
class Ledger:
    """What the phones saw: acknowledged pings, outage error codes, and anything unacceptable."""

    acked: set[Key] = field(default_factory=set)
    codes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    slowest_s: float = 0.0

    def answered(self, started: float) -> None:
        elapsed = time.monotonic() - started
        self.slowest_s = max(self.slowest_s, elapsed)
        if elapsed > MAX_ANSWER_S:
            self.problems.append(f"an answer took {elapsed:.1f}s")

    def settle(self, officer_id: int, pings: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> None:
        reasons = {r["index"]: r["reason"] for r in rejected}
        for i, p in enumerate(pings):
            reason = reasons.get(i)
            if reason in (None, "duplicate"):  # a resent ping that was stored counts as acknowledged
                self.acked.add((officer_id, datetime.fromisoformat(p["recorded_at"])))
            else:
                self.problems.append(f"ping rejected: {reason}")


class Track:
    """One officer's plausible walk (about 1 m/s), a fix every 100 ms of recorded time."""

    def __init__(self, officer_index: int) -> None:
        self.t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        self.lat0 = -7.97 + officer_index * 0.01
        self.n = 0

    def next(self) -> dict[str, Any]:
        self.n += 1
        return {
            "lat": round(self.lat0 + self.n * 1e-6, 7),
            "lon": 112.63,
            "accuracy_m": 5.0,
            "recorded_at": (self.t0 + timedelta(milliseconds=100 * self.n)).isoformat(),
        }


async def http_phone(
    base: str, index: int, officer_id: int, token: str, ledger: Ledger, stop: asyncio.Event
) -> None:
    track, pending = Track(index), []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=MAX_ANSWER_S * 2) as client:
        while not stop.is_set() or pending:
            body = pending if stop.is_set() else [*pending, track.next()]
            started = time.monotonic()
            try:
                r = await client.post("/api/v1/pings", json=body, headers=headers)
            except httpx.HTTPError as exc:
                ledger.problems.append(f"POST /api/v1/pings: {type(exc).__name__}")
                pending = body
                continue
            ledger.answered(started)
            if r.status_code == 200:
                ledger.settle(officer_id, body, r.json()["rejected"])
                pending = []
            else:
                pending = body
                note_error(ledger, r)
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.02)


def note_error(ledger: Ledger, r: httpx.Response) -> None:
    try:
        code = r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = f"not the error shape: {r.text[:100]!r}"
    if r.status_code == 503 and code in OUTAGE_CODES:
        ledger.codes[code] += 1
    else:
        ledger.problems.append(f"{r.request.method} {r.request.url.path}: {r.status_code} {code}")


async def ws_phone(
    base_ws: str, index: int, officer_id: int, token: str, ledger: Ledger, stop: asyncio.Event
) -> None:
    """Sends one message per fix; a message answered with an error is resent with the next one."""
    track, seq = Track(100 + index), 0
    in_flight: dict[int, tuple[float, list[dict[str, Any]]]] = {}
    resend: list[dict[str, Any]] = []
    async with websockets.connect(f"{base_ws}/api/v1/officers/stream?token={token}") as ws:

        async def read() -> None:
            async for raw in ws:
                msg = orjson.loads(raw)
                sent = in_flight.pop(msg.get("seq"), None) if msg["type"] in ("ack", "error") else None
                if sent is None:
                    continue
                ledger.answered(sent[0])
                if msg["type"] == "ack":
                    ledger.settle(officer_id, sent[1], msg["rejected"])
                elif msg["error"]["code"] in OUTAGE_CODES:
                    ledger.codes[msg["error"]["code"]] += 1
                    resend.extend(sent[1])
                else:
                    ledger.problems.append(f"stream error {msg['error']}")

        reader = asyncio.create_task(read())
        try:
            while not stop.is_set() or resend or in_flight:
                if reader.done():
                    ledger.problems.append("the officer stream closed during the outage")
                    return
                oldest = min((t for t, _ in in_flight.values()), default=time.monotonic())
                if time.monotonic() - oldest > MAX_ANSWER_S * 2:
                    ledger.problems.append("a stream message was never answered")
                    return
                pings = [*resend, *([] if stop.is_set() else [track.next()])]
                resend.clear()
                if pings:
                    seq += 1
                    in_flight[seq] = (time.monotonic(), pings)
                    await ws.send(orjson.dumps({"type": "pings", "seq": seq, "pings": pings}).decode())
                await asyncio.sleep(0.05)
        finally:
            reader.cancel()


@dataclass
class Fleet:
    ledger: Ledger
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]]

    async def progress(self, more: int, within_s: float) -> None:
        """Wait until ``more`` pings beyond the current count have been acknowledged."""
        target = len(self.ledger.acked) + more
        deadline = time.monotonic() + within_s
        while len(self.ledger.acked) < target:
            assert time.monotonic() < deadline, (
                f"ingest stalled at {len(self.ledger.acked)} acks; errors {dict(self.ledger.codes)}, "
                f"problems {self.ledger.problems[:5]}"
            )
            assert not any(t.done() for t in self.tasks), [t.exception() for t in self.tasks if t.done()]
            await asyncio.sleep(0.05)


@pytest.fixture
async def fleet(server: Server, cluster: EmbeddedPostgres) -> AsyncIterator[Fleet]:
    officers = await seed(cluster.url)
    ledger, stop = Ledger(), asyncio.Event()
    tasks = [
        asyncio.create_task(http_phone(server.url, i, oid, tok, ledger, stop))
        for i, (oid, tok) in enumerate(officers[:HTTP_PHONES])
    ]
    tasks += [
        asyncio.create_task(ws_phone(server.ws, i, oid, tok, ledger, stop))
        for i, (oid, tok) in enumerate(officers[HTTP_PHONES:])
    ]
    yield Fleet(ledger, stop, tasks)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --------------------------------------------------------------------------- the test


async def readyz(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    r = await client.get("/readyz", timeout=MAX_ANSWER_S)
    return r.status_code, r.json()


async def wait_ready(client: httpx.AsyncClient, within_s: float) -> float:
    started = time.monotonic()
    while (status := await readyz(client))[0] != 200:
        assert time.monotonic() - started < within_s, f"not ready {within_s}s after the restart: {status}"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_postgres_crash_and_restart_under_load(
    cluster: EmbeddedPostgres, server: Server, fleet: Fleet
) -> None:
    ledger = fleet.ledger
    async with httpx.AsyncClient(base_url=server.url) as client:
        await fleet.progress(60, within_s=15)
        port = cluster.port
        r = await client.post("/api/v1/auth/token", data={"username": "dispatcher", "password": "jogo-demo"})
        dispatcher = {"Authorization": f"Bearer {r.json()['access_token']}"}

        # 1. Crash: PostgreSQL dies without a shutdown checkpoint, under load.
        await asyncio.to_thread(pg_ctl, cluster, "stop", "-m", "immediate", "-w")
        await asyncio.sleep(1.5)  # past the token caches, the writer's idle check and its first retries
        status, body = await readyz(client)
        assert status == 503 and body["status"] == "not_ready", body
        assert body["checks"]["database"] != "ok" and body["checks"]["writer"] == "reconnecting", body
        assert (await client.get("/healthz")).status_code == 200  # alive: no reason to restart the app
        started = time.monotonic()
        r = await client.get("/api/v1/officers", headers=dispatcher, timeout=MAX_ANSWER_S)
        assert time.monotonic() - started < 2
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        assert r.headers["retry-after"] == "1"
        outage_errors = sum(ledger.codes.values())
        await asyncio.sleep(1.5)
        assert sum(ledger.codes.values()) > outage_errors, "the phones got no answers during the outage"

        # ...and it comes back (crash recovery) on the same port; the app reconnects by itself.
        await asyncio.to_thread(cluster.start)
        assert cluster.port == port
        await wait_ready(client, within_s=15)
        r = await client.get("/api/v1/officers", headers=dispatcher)
        assert r.status_code == 200, r.text
        await fleet.progress(60, within_s=15)

        # 2. A fast restart under load (connections terminated by the server, which comes straight back).
        await asyncio.to_thread(
            pg_ctl, cluster, "restart", "-m", "fast", "-w", "-t", "60", "-l", str(cluster.log_file)
        )
        await wait_ready(client, within_s=15)
        await fleet.progress(60, within_s=15)

        # Every phone resends what was not acknowledged, then stops.
        fleet.stop.set()
        done, _ = await asyncio.wait(fleet.tasks, timeout=15)
        assert len(done) == len(fleet.tasks), "the phones could not deliver their last pings"
        for task in done:
            task.result()

    assert not ledger.problems, ledger.problems[:20]
    assert ledger.codes, "no request saw the outage"
    assert set(ledger.codes) <= OUTAGE_CODES
    assert ledger.slowest_s < MAX_ANSWER_S

    async with await psycopg.AsyncConnection.connect(cluster.url) as conn:
        rows = await (
            await conn.execute("SELECT officer_id, recorded_at, count(*) FROM pings GROUP BY 1, 2")
        ).fetchall()
    stored = {(oid, ts): n for oid, ts, n in rows}
    lost = ledger.acked - stored.keys()
    assert not lost, f"{len(lost)} acknowledged pings are missing, e.g. {sorted(lost)[:3]}"
    assert all(n == 1 for n in stored.values())
    assert len(ledger.acked) >= 180
