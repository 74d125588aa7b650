"""The live feed through real servers, including two server processes sharing events via PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import websockets

from tests.conftest import free_port


async def next_of(ws, kind: str, timeout: float = 5.0, where=lambda m: True) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = orjson.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if msg["type"] == kind and where(msg):
            return msg


def token_of(headers: dict) -> str:
    return headers["Authorization"].split()[1]


async def test_snapshot_then_live_positions_status_and_viewport(live_server, actors):
    dispatcher = token_of(await actors.user("dispatcher"))
    oid, officer = await actors.officer()
    far, far_officer = await actors.officer()
    t0 = datetime.now(UTC) - timedelta(seconds=100)

    async def ping(http, headers, lat, lon, dt):
        r = await http.post(
            "/api/v1/pings",
            headers=headers,
            json={"lat": lat, "lon": lon, "recorded_at": (t0 + timedelta(seconds=dt)).isoformat()},
        )
        assert r.json()["accepted"] == 1, r.text

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await ping(http, officer, -7.97, 112.63, 0)
        async with websockets.connect(f"{live_server.ws}/api/v1/live?token={dispatcher}") as ws:
            snap = await next_of(ws, "snapshot")
            assert "server_time" in snap
            [me] = [o for o in snap["officers"] if o["id"] == oid]
            assert (me["lat"], me["lon"], me["status"], me["online"]) == (-7.97, 112.63, "available", True)
            await ping(http, officer, -7.975, 112.635, 60)
            msg = await next_of(ws, "positions")
            assert msg["positions"][0]["officer_id"] == oid and msg["positions"][0]["lat"] == -7.975
            r = await http.put("/api/v1/me/status", headers=officer, json={"status": "busy"})
            assert r.status_code == 200, r.text
            st = await next_of(ws, "status")
            assert (st["officer_id"], st["status"], st["previous"]) == (oid, "busy", "available")
            # a viewport over Surabaya: Malang positions stop, Surabaya ones arrive
            await ws.send(orjson.dumps({"type": "viewport", "bbox": [112.6, -7.4, 112.8, -7.2]}).decode())
            await asyncio.sleep(0.2)
            await ping(http, officer, -7.976, 112.636, 90)
            await ping(http, far_officer, -7.3, 112.7, 90)
            msg = await next_of(ws, "positions")
            assert [p["officer_id"] for p in msg["positions"]] == [far]
            await ws.send(orjson.dumps({"type": "viewport", "bbox": [1, 2]}).decode())
            err = await next_of(ws, "error")
            assert err["error"]["code"] == "bad_bbox"


async def test_live_needs_a_dispatcher_or_agency(live_server, actors):
    officer = token_of((await actors.officer())[1])
    async with websockets.connect(f"{live_server.ws}/api/v1/live?token={officer}") as ws:
        assert orjson.loads(await ws.recv())["error"]["code"] == "wrong_role"
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4403
    # an agency login needs its agency (tests/forwards/test_agency_visibility.py: the agency's feed)
    agency = token_of(await actors.user("agency"))
    async with websockets.connect(f"{live_server.ws}/api/v1/live") as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": agency}).decode())
        assert (await next_of(ws, "error"))["error"]["code"] == "not_agency_member"


async def test_an_ended_sos_reaches_the_live_feed(live_server, actors):
    dispatcher = token_of(await actors.user("dispatcher"))
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        signed = await http.post(
            "/api/v1/citizens", json={"phone": "0812 5555 0101", "name": "Bu Ani", "password": "rahasia-1"}
        )
        assert signed.status_code == 201, signed.text
        token = await http.post(
            "/api/v1/auth/token", data={"username": "0812 5555 0101", "password": "rahasia-1"}
        )
        caller = {"Authorization": f"Bearer {token.json()['access_token']}"}
        started = (await http.post("/api/v1/sos", headers=caller, json={"lat": -7.97, "lon": 112.63})).json()
        async with websockets.connect(f"{live_server.ws}/api/v1/live?token={dispatcher}") as ws:
            await next_of(ws, "snapshot")
            r = await http.post(f"/api/v1/sos/{started['sos_id']}/end", headers=caller)
            assert r.status_code == 200, r.text
            msg = await next_of(ws, "sos_ended")
    assert {k: msg[k] for k in ("sos_id", "incident_id", "incident_status", "by_role", "reason")} == {
        "sos_id": started["sos_id"],
        "incident_id": started["incident_id"],
        "incident_status": "new",
        "by_role": "citizen",
        "reason": None,
    }
    assert (msg["lat"], msg["lon"], msg["ended_by"]) == (-7.97, 112.63, signed.json()["id"])


def _serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOGO_DATABASE_URL": database_url,
        "JOGO_PUBSUB": "postgres",
        "JOGO_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "JOGO_OSMAND_PORT": "",
        "JOGO_LOG_LEVEL": "WARNING",
        "JOGO_PRESENCE_SWEEP_S": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "jogo_dispatch.cli", "serve", "--port", str(port)], env=env
    )


async def _ready(url: str, proc) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(300):
            assert proc.poll() is None, "server process died"
            try:
                if (await c.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server not ready")


async def test_two_server_processes_share_the_live_feed(database_url, actors):
    dispatcher = token_of(await actors.user("dispatcher"))
    oid, officer = await actors.officer()
    pa, pb = free_port(), free_port()
    a, b = _serve(database_url, pa), _serve(database_url, pb)
    try:
        await asyncio.gather(_ready(f"http://127.0.0.1:{pa}", a), _ready(f"http://127.0.0.1:{pb}", b))
        async with websockets.connect(f"ws://127.0.0.1:{pb}/api/v1/live?token={dispatcher}") as ws:
            await next_of(ws, "snapshot")
            async with httpx.AsyncClient() as http:
                r = await http.post(
                    f"http://127.0.0.1:{pa}/api/v1/pings",
                    headers=officer,
                    json={"lat": -7.9812, "lon": 112.6204, "recorded_at": datetime.now(UTC).isoformat()},
                )
                assert r.json()["accepted"] == 1
                msg = await next_of(
                    ws,
                    "positions",
                    timeout=10,
                    where=lambda m: any(p["officer_id"] == oid for p in m["positions"]),
                )
                assert [p["lat"] for p in msg["positions"] if p["officer_id"] == oid] == [-7.9812]
                await http.put(
                    f"http://127.0.0.1:{pa}/api/v1/me/status", headers=officer, json={"status": "busy"}
                )
                st = await next_of(ws, "status", timeout=10)
                assert st["officer_id"] == oid and st["status"] == "busy"
    finally:
        for p in (a, b):
            p.terminate()
        for p in (a, b):
            p.wait(15)
