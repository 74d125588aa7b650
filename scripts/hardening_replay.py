"""Replay the second hardening round's findings against a running server and print each with its result.

    .venv/bin/python scripts/hardening_replay.py --base-url http://127.0.0.1:8000 \
        [--admin-user admin --admin-password jogo-demo]

Sets up what it needs through the API (an officer with a phone, a dispatcher, citizens), then runs every
case: one line each, ``PASS``/``FAIL`` with what was expected and what came back; exit status 1 if any
fails. Cases are small functions registered with ``@case``; add new ones the same way. The per-address
login limit case runs last (it spends this address's failed-login budget for the window).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets


@dataclass
class Ctx:
    base: str
    api: httpx.AsyncClient
    admin: dict[str, str]
    dispatcher: dict[str, str] = field(default_factory=dict)
    officer: dict[str, str] = field(default_factory=dict)
    officer_id: int = 0
    device: str = ""

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://").replace("https://", "wss://")


Case = Callable[[Ctx], Awaitable[tuple[str, str, bool]]]  # (expected, got, passed)
CASES: list[tuple[str, Case]] = []


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES.append((name, fn))
        return fn

    return register


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(api: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await api.post("/api/v1/auth/token", data={"username": username, "password": password})
    r.raise_for_status()
    return bearer(r.json()["access_token"])


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def setup(ctx: Ctx) -> None:
    tag = secrets.token_hex(3)
    password = "replay-" + secrets.token_hex(6)
    r = await ctx.api.post(
        "/api/v1/users",
        headers=ctx.admin,
        json={"username": f"replay-disp-{tag}", "password": password, "role": "dispatcher"},
    )
    r.raise_for_status()
    ctx.dispatcher = await login(ctx.api, f"replay-disp-{tag}", password)
    ctx.device = f"replay-phone-{tag}"
    r = await ctx.api.post(
        "/api/v1/officers",
        headers=ctx.admin,
        json={
            "badge": f"RP-{tag}",
            "name": "Bripda Replay",
            "unit_type": "motorbike",
            "password": password,
            "device_id": ctx.device,
        },
    )
    r.raise_for_status()
    ctx.officer_id = r.json()["id"]
    ctx.officer = await login(ctx.api, f"RP-{tag}", password)


def ping(at: datetime, **extra: Any) -> dict[str, Any]:
    return {"lat": -7.9666, "lon": 112.6326, "recorded_at": at.isoformat(), **extra}


@case("pings: NaN/Infinity strings refused per item, good ping kept")
async def nan_pings(ctx: Ctx) -> tuple[str, str, bool]:
    t = now()
    batch = [ping(t - timedelta(seconds=3), altitude_m="NaN"), ping(t - timedelta(seconds=2), speed_mps="Infinity"),
             ping(t - timedelta(seconds=1))]  # fmt: skip
    r = await ctx.api.post("/api/v1/pings", headers=ctx.officer, json=batch)
    got = f"{r.status_code} {r.json().get('accepted') if r.status_code == 200 else r.text[:80]}"
    return "200, accepted 1", got, r.status_code == 200 and r.json()["accepted"] == 1


@case("pings: year 1 / 9999 with an offset is a per-item rejection, not 500")
async def extreme_times(ctx: Ctx) -> tuple[str, str, bool]:
    batch = [ping(now()) | {"recorded_at": "0001-01-01T00:00:00+05:00"},
             ping(now()) | {"recorded_at": "9999-12-31T23:59:59-05:00"}, ping(now())]  # fmt: skip
    r = await ctx.api.post("/api/v1/pings", headers=ctx.officer, json=batch)
    ok = r.status_code == 200 and len(r.json()["rejected"]) == 2
    return "200, 2 rejected", f"{r.status_code} {r.text[:80]}", ok


@case("stream: a binary frame answers binary_frame, a year-9999 ping does not cost the batch its ack")
async def stream_frames(ctx: Ctx) -> tuple[str, str, bool]:
    token = ctx.officer["Authorization"].split()[1]
    async with websockets.connect(f"{ctx.ws}/api/v1/officers/stream?token={token}") as ws:
        await ws.send(b"\x00binary")
        await ws.send(orjson.dumps({"type": "pings", "seq": 7, "pings": [
            ping(now()) | {"recorded_at": "9999-12-31T23:59:59-05:00"},
            ping(now() + timedelta(seconds=1))]}).decode())  # fmt: skip
        seen: dict[str, Any] = {}
        deadline = time.monotonic() + 5
        while ("ack" not in seen or "error" not in seen) and time.monotonic() < deadline:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            seen.setdefault(msg["type"], msg)
    err = seen.get("error", {}).get("error", {}).get("code")
    ack = seen.get("ack", {})
    ok = err == "binary_frame" and ack.get("seq") == 7 and len(ack.get("rejected", [])) == 1
    return "error binary_frame; ack seq 7 with 1 rejected", f"error {err}; ack {ack}", ok


@case("stream: {type: auth, token: 123} closes 4401, no crash")
async def odd_auth(ctx: Ctx) -> tuple[str, str, bool]:
    async with websockets.connect(f"{ctx.ws}/api/v1/officers/stream") as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": 123}).decode())
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
    return "close 4401", f"close {code}", code == 4401


@case("osmand: 500 alarm=sos fixes in one request make one distress alert")
async def alarm_flood(ctx: Ctx) -> tuple[str, str, bool]:
    t = int(time.time())
    flood = [{"id": ctx.device, "lat": -7.97 + i * 1e-6, "lon": 112.63, "timestamp": t - 600 + i, "alarm": "sos"}
             for i in range(500)]  # fmt: skip
    r = await ctx.api.post("/osmand", json=flood)
    alerts = (await ctx.api.get("/api/v1/alerts", headers=ctx.dispatcher)).json()
    alerts = alerts["items"] if isinstance(alerts, dict) else alerts
    mine = [a for a in alerts if a.get("officer_id") == ctx.officer_id and a["kind"] == "officer_distress"]
    return (
        "200, 1 open alert",
        f"{r.status_code}, {len(mine)} open alerts",
        r.status_code == 200 and len(mine) == 1,
    )


@case("osmand: more fixes than JOGO_MAX_BATCH is 413")
async def osmand_cap(ctx: Ctx) -> tuple[str, str, bool]:
    t = int(time.time())
    big = [{"id": ctx.device, "lat": -7.97, "lon": 112.63, "timestamp": t - i} for i in range(20_001)]
    r = await ctx.api.post("/osmand", json=big)
    return "413", str(r.status_code), r.status_code == 413


@case("idempotency: a login is never replayed to the next caller with the same key")
async def login_replay(ctx: Ctx) -> tuple[str, str, bool]:
    key = "replay-" + secrets.token_hex(4)
    tag = secrets.token_hex(3)
    tokens = []
    for n in (1, 2):
        await ctx.api.post("/api/v1/users", headers=ctx.admin,
                           json={"username": f"replay-u{n}-{tag}", "password": "replay-pw-1", "role": "dispatcher"})  # fmt: skip
        r = await ctx.api.post("/api/v1/auth/token", headers={"Idempotency-Key": key},
                               data={"username": f"replay-u{n}-{tag}", "password": "replay-pw-1"})  # fmt: skip
        tokens.append(r.json().get("access_token"))
    me = (await ctx.api.get("/api/v1/me", headers=bearer(tokens[1] or ""))).json()
    ok = tokens[0] != tokens[1] and me.get("username") == f"replay-u2-{tag}"
    return "two different tokens, the second is user 2's", f"me = {me.get('username')}", ok


@case("headers: every answer says X-Content-Type-Options: nosniff")
async def nosniff(ctx: Ctx) -> tuple[str, str, bool]:
    got = [
        (await ctx.api.get(p)).headers.get("x-content-type-options") for p in ("/healthz", "/map", "/nope")
    ]
    return "nosniff x3", str(got), got == ["nosniff"] * 3


@case("revocation: POST /auth/revoke closes the caller's open stream socket")
async def revocation(ctx: Ctx) -> tuple[str, str, bool]:
    token = ctx.officer["Authorization"].split()[1]
    async with websockets.connect(f"{ctx.ws}/api/v1/officers/stream?token={token}") as ws:
        await asyncio.wait_for(ws.recv(), 5)  # hello
        await ctx.api.post("/api/v1/auth/revoke", headers=ctx.officer)
        started = time.monotonic()
        code = None
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 3)
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            pass
    took = time.monotonic() - started
    return "close 4401 within 1 s", f"close {code} after {took:.2f} s", code == 4401 and took <= 1.0


@case("serve: --workers 2 with the in-memory bus is refused (local check)")
async def workers_memory(ctx: Ctx) -> tuple[str, str, bool]:
    exe = Path(sys.executable).with_name("jogo-dispatch")
    env = {
        **os.environ,
        "JOGO_PUBSUB": "memory",
        "JOGO_DATABASE_URL": os.environ.get("JOGO_DATABASE_URL", "postgresql://x@127.0.0.1:1/x"),
    }
    proc = await asyncio.create_subprocess_exec(
        str(exe), "serve", "--workers", "2", "--port", "1", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    returncode = await asyncio.wait_for(proc.wait(), 60)
    return "exit 2", f"exit {returncode}", returncode == 2


@case("X-Forwarded-For from an untrusted client does not reset the per-address login limit (last)")
async def forwarded_for(ctx: Ctx) -> tuple[str, str, bool]:
    codes = []
    for i in range(60):
        r = await ctx.api.post("/api/v1/auth/token", headers={"X-Forwarded-For": f"10.9.{i // 250}.{i % 250 + 1}"},
                               data={"username": f"nobody-{secrets.token_hex(4)}", "password": "guess"})  # fmt: skip
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    return "429 before 60 guesses", f"{codes[-1]} after {len(codes)}", codes[-1] == 429


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--admin-password", default="jogo-demo")
    args = parser.parse_args()
    async with httpx.AsyncClient(base_url=args.base_url, timeout=30) as api:
        ctx = Ctx(args.base_url, api, await login(api, args.admin_user, args.admin_password))
        await setup(ctx)
        failed = 0
        for name, fn in CASES:
            try:
                expected, got, passed = await fn(ctx)
            except Exception as exc:  # noqa: BLE001 - a crashed case is a failed case, the rest still run
                expected, got, passed = "no exception", f"{type(exc).__name__}: {exc}", False
            failed += not passed
            print(
                f"{'PASS' if passed else 'FAIL'}  {name}\n      expected: {expected}\n      got:      {got}"
            )
    print(f"{len(CASES) - failed}/{len(CASES)} cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
