"""The officer stream socket and the second OsmAnd port, through a real server."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import psycopg
import pytest
import websockets

from jogo_dispatch.platform.events import OfficerMessage, OfficerPresence
from jogo_dispatch.tracking import presence


async def recv_type(ws, kind: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = orjson.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if msg["type"] == kind:
            return msg


def pings(t0: datetime, n: int, start: int = 0) -> list[dict]:
    return [
        {"lat": -7.97 + i * 1e-5, "lon": 112.63, "recorded_at": (t0 + timedelta(seconds=i)).isoformat()}
        for i in range(start, start + n)
    ]


async def count(database_url: str, oid: int) -> int:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        return (
            await (await conn.execute("SELECT count(*) FROM pings WHERE officer_id=%s", (oid,))).fetchone()
        )[0]


async def test_stream_acks_after_commit_and_resend_makes_no_duplicates(live_server, actors, database_url):
    oid, headers = await actors.officer()
    token = headers["Authorization"].split()[1]
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream?token={token}") as ws:
        hello = await recv_type(ws, "hello")
        assert hello["officer_id"] == oid and "server_time" in hello
        await ws.send(orjson.dumps({"type": "pings", "seq": 1, "pings": pings(t0, 10)}).decode())
        await ws.send(orjson.dumps({"type": "ping", "seq": 2, "ping": pings(t0, 1, start=10)[0]}).decode())
        acks = {m["seq"]: m for m in [await recv_type(ws, "ack"), await recv_type(ws, "ack")]}
        assert acks[1]["accepted"] == 10 and acks[2]["accepted"] == 1
        assert await count(database_url, oid) == 11  # acknowledged means stored
    # reconnect with the auth message instead of the query token, and resend seq 1 (its ack "was lost")
    async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream") as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        await recv_type(ws, "hello")
        await ws.send(orjson.dumps({"type": "pings", "seq": 1, "pings": pings(t0, 10)}).decode())
        ack = await recv_type(ws, "ack")
        assert ack["seq"] == 1 and ack["accepted"] == 0
        assert {r["reason"] for r in ack["rejected"]} == {"duplicate"}
        await ws.send(b"not json".decode())
        err = await recv_type(ws, "error")
        assert err["error"]["code"] == "invalid_json"
        await ws.send(orjson.dumps({"type": "dance", "seq": 9}).decode())
        err = await recv_type(ws, "error")
        assert err["seq"] == 9 and err["error"]["code"] == "unknown_type"
    assert await count(database_url, oid) == 11


async def test_stream_delivers_officer_messages_from_the_bus(live_server, actors):
    oid, headers = await actors.officer()
    token = headers["Authorization"].split()[1]
    async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream?token={token}") as ws:
        await recv_type(ws, "hello")
        rt = live_server.app.state.runtime
        # The server's loop runs in another thread: publish there, as its own code would.
        rt.loop.call_soon_threadsafe(
            lambda: rt.bus.publish(OfficerMessage(officer_id=oid, message={"type": "offer", "offer_id": 5}))
        )
        offer = await recv_type(ws, "offer")
        assert offer["offer_id"] == 5 and offer["server_time"]


async def test_stream_rejects_bad_tokens_and_wrong_roles(live_server, actors):
    async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream?token=bogus") as ws:
        err = orjson.loads(await ws.recv())
        assert err["type"] == "error" and err["error"]["code"] == "invalid_token"
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4401
    dispatcher = (await actors.user("dispatcher"))["Authorization"].split()[1]
    async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream?token={dispatcher}") as ws:
        err = orjson.loads(await ws.recv())
        assert err["error"]["code"] == "wrong_role"
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4403


async def test_presence_sweep_records_online_and_offline(app, client, actors, database_url):
    oid, headers = await actors.officer()
    seen = []
    app.state.runtime.bus.on(OfficerPresence, lambda e: seen.append(e.payload()))
    await client.post(
        "/api/v1/pings",
        headers=headers,
        json={"lat": -7.97, "lon": 112.63, "recorded_at": datetime.now(UTC).isoformat()},
    )
    assert (oid, True) in await presence.sweep(app.state.runtime)
    assert await presence.sweep(app.state.runtime) == []  # no change, no event
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("UPDATE officer_positions SET recorded_at = now() - interval '1 hour'")
    assert (oid, False) in await presence.sweep(app.state.runtime)
    assert [d["online"] for d in seen if d["officer_id"] == oid] == [True, False]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        kinds = await (
            await conn.execute("SELECT kind FROM officer_events WHERE officer_id=%s ORDER BY id", (oid,))
        ).fetchall()
    assert [k for (k,) in kinds] == ["online", "offline"]


async def test_second_port_serves_osmand_on_root(settings, actors, client, database_url):
    from jogo_dispatch.main import create_app
    from tests.conftest import free_port

    oid, _ = await actors.officer(device_id="port-5055")
    port = free_port()
    other = create_app(settings.model_copy(update={"osmand_port": port}))
    async with other.router.lifespan_context(other):
        for _ in range(100):
            try:
                async with httpx.AsyncClient() as c:
                    r = await c.post(
                        f"http://127.0.0.1:{port}/?id=port-5055&lat=-7.97&lon=112.63"
                        f"&timestamp={int(time.time())}"
                    )
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
        assert r.status_code == 200 and r.content == b""
    assert await count(database_url, oid) == 1


async def test_binary_frames_odd_auth_and_unrepresentable_times_never_crash_the_socket(
    live_server, actors, database_url
):
    """A binary frame or {"type": "auth", "token": 123} crashed the handler; a ping at year 9999 with an
    offset cost the whole message its ack. Now: a clear close or error, and the good pings are acked."""
    oid, headers = await actors.officer()
    token = headers["Authorization"].split()[1]
    for first in (b"\x00\x01binary", orjson.dumps({"type": "auth", "token": 123}).decode()):
        async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream") as ws:
            await ws.send(first)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # an error message, then the close
                    await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream?token={token}") as ws:
        await recv_type(ws, "hello")
        await ws.send(b"\x00binary")
        assert (await recv_type(ws, "error"))["error"]["code"] == "binary_frame"
        bad = {"lat": -7.97, "lon": 112.63, "recorded_at": "9999-12-31T23:59:59-05:00"}
        await ws.send(orjson.dumps({"type": "pings", "seq": 3, "pings": [bad, *pings(t0, 2)]}).decode())
        ack = await recv_type(ws, "ack")
        assert ack["seq"] == 3 and ack["accepted"] == 2
        assert [r["index"] for r in ack["rejected"]] == [0]
    assert await count(database_url, oid) == 2


async def test_live_feed_answers_a_binary_frame_with_an_error(live_server, actors):
    headers = await actors.user("dispatcher")
    token = headers["Authorization"].split()[1]
    async with websockets.connect(f"{live_server.ws}/api/v1/live?token={token}") as ws:
        await ws.send(b"\x00binary")
        assert (await recv_type(ws, "error"))["error"]["code"] == "binary_frame"
        await ws.send(orjson.dumps({"type": "dance"}).decode())  # the socket still reads and answers
        assert (await recv_type(ws, "error"))["error"]["code"]


async def closed_with(ws, within: float = 2.0) -> int | None:
    """Read until the server closes; the close code (None if it is still open after ``within``)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), within)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None


async def test_revocation_closes_the_open_sockets_of_those_credentials(live_server, actors):
    """POST /auth/revoke and revoking a device closed nothing that was already open."""
    admin = await actors.user("admin")
    dispatcher = await actors.user("dispatcher")
    oid, officer = await actors.officer()
    async with httpx.AsyncClient(base_url=live_server.url) as api:
        device = await api.post(
            f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "hp-rv"}
        )
        assert device.status_code == 201, device.text
        device_token, device_id = device.json()["token"], device.json()["id"]
        ws_url = live_server.ws
        live = await websockets.connect(f"{ws_url}/api/v1/live?token={token_of(dispatcher)}")
        by_login = await websockets.connect(f"{ws_url}/api/v1/officers/stream?token={token_of(officer)}")
        by_device = await websockets.connect(f"{ws_url}/api/v1/officers/stream?token={device_token}")
        try:
            await recv_type(by_login, "hello")
            await recv_type(by_device, "hello")
            r = await api.delete(f"/api/v1/officers/{oid}/devices/{device_id}", headers=admin)
            assert r.status_code == 200
            assert await closed_with(by_device) == 4401
            assert await closed_with(by_login, within=0.5) is None  # the officer's login is not revoked
            assert (await api.post("/api/v1/auth/revoke", headers=officer)).status_code == 204
            assert await closed_with(by_login) == 4401
            assert await closed_with(live, within=0.5) is None  # only the revoking user's sockets
            assert (await api.post("/api/v1/auth/revoke", headers=dispatcher)).status_code == 204
            assert await closed_with(live) == 4401
        finally:
            for ws in (live, by_login, by_device):
                await ws.close()


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1]
