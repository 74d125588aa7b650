"""Offers reach the officer's phone socket, and the phone answers over the same socket (a real server)."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import websockets

from tests.reports.helpers import MALANG, citizen, offset, place, rows, verified_incident


async def next_of(ws, kind: str, within_s: float = 5.0) -> dict:
    deadline = time.monotonic() + within_s
    while True:
        msg = orjson.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if msg["type"] == kind:
            return msg


async def test_offer_over_the_stream_accept_and_progress_from_the_phone(live_server, actors, database_url):
    officer, officer_h = await actors.officer()
    token = officer_h["Authorization"].split()[1]
    dispatcher = await actors.user("dispatcher")
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        _, me = await citizen(http)
        await place(http, officer_h, *offset(*MALANG, 250.0, 0.0))  # the live server's index learns it
        incident = await verified_incident(http, me, dispatcher)
        async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream?token={token}") as ws:
            await next_of(ws, "hello")
            r = await http.post(f"/api/v1/incidents/{incident}/dispatch", headers=dispatcher)
            assert r.status_code == 201, r.text
            offer = await next_of(ws, "offer")
            got = (offer["offer_id"], offer["incident"]["id"], offer["officer_id"])
            assert got == (r.json()["id"], incident, officer)
            await ws.send(orjson.dumps({"type": "offer_accept", "seq": 7, "offer_id": 999999}).decode())
            err = await next_of(ws, "error")
            assert err["seq"] == 7 and err["error"]["code"] == "offer_not_found"
            await ws.send(orjson.dumps({"type": "offer_accept", "seq": 8, "offer_id": "x"}).decode())
            assert (await next_of(ws, "error"))["error"]["code"] == "bad_message"
            accept = {"type": "offer_accept", "seq": 9, "offer_id": offer["offer_id"]}
            await ws.send(orjson.dumps(accept).decode())
            accepted = await next_of(ws, "offer_accepted")
            assert accepted["seq"] == 9 and accepted["incident"]["status"] == "dispatched"
            # answered after commit: the stored state already says so
            stored = await rows(database_url, "SELECT status FROM officers WHERE id = %s", officer)
            assert stored == [("busy",)]
            await ws.send(
                orjson.dumps(
                    {"type": "incident_status", "seq": 10, "incident_id": incident, "status": "en_route"}
                ).decode()
            )
            moved = await next_of(ws, "incident")
            assert moved["seq"] == 10 and moved["incident"]["status"] == "en_route"
            await ws.send(
                orjson.dumps(
                    {"type": "incident_status", "seq": 11, "incident_id": incident, "status": "cancelled"}
                ).decode()
            )
            assert (await next_of(ws, "error"))["error"]["code"] == "bad_message"
    assert await rows(
        database_url, "SELECT status, en_route_at IS NOT NULL FROM incidents WHERE id = %s", incident
    ) == [("en_route", True)]
