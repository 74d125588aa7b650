"""The phone apps' messages as they really come (issue 17): heartbeats without a fix, approximate fixes,
same-timestamp reports, OwnTracks encrypted payloads and 401s, typed attributes, and the log line of
every refused fix."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest
import websockets
from nacl.secret import SecretBox
from nacl.utils import random

from jogo_dispatch.tracking import presence
from jogo_dispatch.tracking.protocols import secret_box_key
from tests.tracking.test_phones_api import basic

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HOME = (-7.9666, 112.6326)


@pytest.fixture
def rejections(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The "fix rejected" log lines (structlog event dicts) of the test, as they are written."""
    caplog.set_level(logging.INFO, logger="jogo_dispatch.tracking")
    lines: list[dict[str, Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if isinstance(record.msg, dict) and record.msg.get("event") == "fix rejected":
                lines.append(record.msg)

    handler = Collect()
    logging.getLogger("jogo_dispatch.tracking").addHandler(handler)
    yield lines
    logging.getLogger("jogo_dispatch.tracking").removeHandler(handler)


async def history(database_url: str, officer_id: int) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT round(ST_Y(geog::geometry)::numeric, 5)::float AS lat, "
            "round(ST_X(geog::geometry)::numeric, 5)::float AS lon, recorded_at, battery_pct, approximate, "
            "source, attributes FROM pings WHERE officer_id = %s ORDER BY recorded_at",
            (officer_id,),
        )
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


async def latest(database_url: str, officer_id: int) -> dict[str, Any] | None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT round(ST_Y(geog::geometry)::numeric, 5)::float AS lat, "
            "round(ST_X(geog::geometry)::numeric, 5)::float AS lon, recorded_at, battery_pct, seen_at "
            "FROM officer_positions WHERE officer_id = %s",
            (officer_id,),
        )
        row = await cur.fetchone()
        return None if row is None else dict(zip([c.name for c in cur.description], row, strict=True))


def at(seconds_ago: float) -> int:
    return int(time.time() - seconds_ago)


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# -------------------------------------------------------------------------------------------------
# Heartbeats: Traccar Client 10.x sends id, timestamp and battery when it has no fix


async def test_a_heartbeat_refreshes_presence_and_battery_at_the_last_known_position(
    app, client, actors, database_url
):
    rt = app.state.runtime
    oid, _ = await actors.officer(device_id="48241179")
    dispatcher = await actors.user("dispatcher")
    fixed = at(rt.settings.online_after_s + 60)  # the phone's last fix: older than presence allows
    r = await client.post(
        "/osmand",
        content=f"id=48241179&lat={HOME[0]}&lon={HOME[1]}&timestamp={fixed}&accuracy=5.0&batt=87&charge=true",
        headers=FORM,
    )
    assert r.status_code == 200
    await presence.sweep(rt)  # offline: the fix is too old

    beat = at(5)
    r = await client.post(
        "/osmand",
        content=f"id=48241179&timestamp={beat}&batt=55&charge=false&battery_health=good&battery_voltage=4101",
        headers=FORM,
    )
    assert r.status_code == 200 and r.content == b""
    fix, heartbeat = await history(database_url, oid)
    assert (fix["approximate"], fix["battery_pct"]) == (None, 87)
    assert heartbeat == {
        "lat": HOME[0],
        "lon": HOME[1],
        "recorded_at": utc(beat),
        "battery_pct": 55,
        "approximate": "last_known",
        "source": "osmand",
        "attributes": {"battery_health": "good", "battery_voltage": 4101, "charging": False},
    }
    position = await latest(database_url, oid)
    assert position == {
        "lat": HOME[0],
        "lon": HOME[1],
        "recorded_at": utc(fixed),
        "battery_pct": 55,
        "seen_at": utc(beat),
    }
    assert (oid, True) in await presence.sweep(rt)  # online again, at the same place
    [me] = [o for o in (await client.get("/api/v1/officers", headers=dispatcher)).json() if o["id"] == oid]
    assert (me["online"], me["battery_pct"], me["lat"]) == (True, 55, HOME[0])
    assert datetime.fromisoformat(me["recorded_at"]) == utc(fixed)  # the fix's own time, not the heartbeat's
    # the position dispatch ranks by is the fix, with the fix's time
    responder = rt.index.get(oid)
    assert responder is not None and responder.last_seen == utc(fixed)


async def test_a_json_heartbeat_is_the_same_and_one_before_any_fix_stores_nothing(
    client, actors, database_url, rejections
):
    oid, _ = await actors.officer(device_id="sdk-json")
    # traccar-client-sdk with uploadJson: the same keys in a JSON array
    r = await client.post(
        "/osmand", json=[{"id": "sdk-json", "timestamp": at(30), "batt": 80, "charge": True}]
    )
    assert r.status_code == 200
    assert await history(database_url, oid) == [] and await latest(database_url, oid) is None
    assert [(x["reason"], x["device"], x["source"]) for x in rejections] == [
        ("no_position", "sdk-json", "osmand")
    ]

    await client.post(
        "/osmand", json=[{"id": "sdk-json", "lat": HOME[0], "lon": HOME[1], "timestamp": at(20)}]
    )
    beat = at(10)
    await client.post("/osmand", json=[{"id": "sdk-json", "timestamp": beat, "batt": 79, "charge": True}])
    rows = await history(database_url, oid)
    assert [(x["approximate"], x["lat"], x["battery_pct"]) for x in rows] == [
        (None, HOME[0], None),
        ("last_known", HOME[0], 79),
    ]
    assert rows[1]["attributes"] == {"charging": True}
    assert (await latest(database_url, oid))["seen_at"] == utc(beat)


# -------------------------------------------------------------------------------------------------
# Approximate fixes: kept in history, never the position dispatch uses


async def test_a_valid_false_fix_is_history_only(app, client, actors, database_url):
    rt = app.state.runtime
    oid, _ = await actors.officer(device_id="tc-9")
    t0 = at(60)
    await client.get(f"/osmand?id=tc-9&lat={HOME[0]}&lon={HOME[1]}&timestamp={t0}")
    # 100 km away in 30 s: the phone itself says the fix is not valid
    t1 = at(30)
    r = await client.get(f"/osmand?id=tc-9&lat=-7.0&lon=112.6326&timestamp={t1}&valid=false&batt=40")
    assert r.status_code == 200
    rows = await history(database_url, oid)
    assert [(x["lat"], x["approximate"]) for x in rows] == [(HOME[0], None), (-7.0, "invalid")]
    assert rows[1]["attributes"]["valid"] is False
    position = await latest(database_url, oid)
    assert (position["lat"], position["recorded_at"], position["seen_at"], position["battery_pct"]) == (
        HOME[0],
        utc(t0),
        utc(t1),
        40,
    )
    assert rt.index.get(oid).lat == HOME[0]
    assert rt.ingest.last[oid].lat == HOME[0]
    # the next fix is checked against the last real one (a jump from -7.0 would be too fast)
    t2 = at(10)
    await client.get(f"/osmand?id=tc-9&lat=-7.9667&lon={HOME[1]}&timestamp={t2}")
    position = await latest(database_url, oid)
    assert (position["lat"], position["recorded_at"]) == (-7.9667, utc(t2))


async def test_a_cell_and_wifi_only_message_is_kept_at_the_last_known_position(client, actors, database_url):
    oid, _ = await actors.officer(device_id="cell-1")
    t0 = at(60)
    await client.get(f"/osmand?id=cell-1&lat={HOME[0]}&lon={HOME[1]}&timestamp={t0}")
    t1 = at(20)
    r = await client.get(
        f"/osmand?id=cell-1&timestamp={t1}&cell=510,10,1234,5678&cell=510,10,1234,5679,-90"
        "&wifi=00-14-22-01-23-45,-80"
    )
    assert r.status_code == 200
    _, cell = await history(database_url, oid)
    assert (cell["lat"], cell["lon"], cell["approximate"]) == (HOME[0], HOME[1], "last_known")
    assert cell["attributes"] == {
        "cell": ["510,10,1234,5678", "510,10,1234,5679,-90"],
        "wifi": ["00-14-22-01-23-45,-80"],
    }
    position = await latest(database_url, oid)
    assert (position["recorded_at"], position["seen_at"]) == (utc(t0), utc(t1))


# -------------------------------------------------------------------------------------------------
# Same timestamp: one row per officer and time; a fix beats an approximate report, else the first stays


async def test_same_timestamp_rules(client, actors, database_url, rejections):
    oid, _ = await actors.officer(device_id="same-t")
    base = f"/osmand?id=same-t&lon={HOME[1]}"
    t0 = at(300)
    await client.get(f"{base}&lat={HOME[0]}&timestamp={t0}")

    # an approximate report first, then the fix of the same time: the fix replaces it and moves the position
    t1 = at(200)
    await client.get(f"{base}&lat=-7.9600&timestamp={t1}&valid=false")
    await client.get(f"{base}&lat=-7.9660&timestamp={t1}")
    # a fix first, then an approximate report of the same time: the fix stays
    t2 = at(150)
    await client.get(f"{base}&lat=-7.9661&timestamp={t2}")
    await client.get(f"{base}&lat=-7.9500&timestamp={t2}&valid=false")
    # a heartbeat, then the fix of its time
    t3 = at(100)
    await client.get(f"/osmand?id=same-t&timestamp={t3}&batt=50")
    await client.get(f"{base}&lat=-7.9662&timestamp={t3}&batt=51")
    # both in one request, the approximate one first
    t4 = at(50)
    r = await client.post(
        "/osmand",
        json=[
            {"id": "same-t", "lat": -7.9400, "lon": HOME[1], "timestamp": t4, "valid": False},
            {"id": "same-t", "lat": -7.9663, "lon": HOME[1], "timestamp": t4},
        ],
    )
    assert r.status_code == 200
    # two fixes of the same time: the first stays
    t5 = at(20)
    await client.get(f"{base}&lat=-7.9664&timestamp={t5}")
    await client.get(f"{base}&lat=-7.9700&timestamp={t5}")

    rows = await history(database_url, oid)
    assert [(x["recorded_at"], x["lat"], x["approximate"]) for x in rows] == [
        (utc(t0), HOME[0], None),
        (utc(t1), -7.9660, None),
        (utc(t2), -7.9661, None),
        (utc(t3), -7.9662, None),
        (utc(t4), -7.9663, None),
        (utc(t5), -7.9664, None),
    ]
    assert rows[3]["battery_pct"] == 51
    position = await latest(database_url, oid)
    assert (position["lat"], position["recorded_at"]) == (-7.9664, utc(t5))
    assert sorted(x["reason"] for x in rejections) == ["duplicate"] * 3


# -------------------------------------------------------------------------------------------------
# Attributes keep their types


async def test_stored_attributes_keep_their_types_in_every_format(client, actors, database_url):
    oid, _ = await actors.officer(device_id="types")
    await client.get(
        f"/osmand?id=types&lat={HOME[0]}&lon={HOME[1]}&timestamp={at(40)}&mock=true&rpm=933&fuel=24.5&driverUniqueId=007"
    )
    await client.post(
        "/osmand",
        json=[
            {
                "id": "types",
                "lat": HOME[0],
                "lon": HOME[1],
                "timestamp": at(30),
                "mock": True,
                "volts": 4123,
                "label": "933",
            }
        ],
    )
    await client.post(
        "/osmand",
        json={
            "device_id": "types",
            "location": {
                "timestamp": datetime.fromtimestamp(at(20), UTC).isoformat(),
                "coords": {"latitude": HOME[0], "longitude": HOME[1], "speed": -1, "heading": -1},
                "is_moving": False,
                "odometer": 12.5,
                "extras": {"flag": True, "count": 3},
            },
        },
    )
    query, flat, nested = (row["attributes"] for row in await history(database_url, oid))
    assert query == {"mock": True, "rpm": 933, "fuel": 24.5, "driverUniqueId": "007", "valid": True}
    assert flat == {"mock": True, "volts": 4123, "label": "933", "valid": True}
    assert nested == {"is_moving": False, "odometer": 12.5, "flag": True, "count": 3, "valid": True}


# -------------------------------------------------------------------------------------------------
# OwnTracks


def sealed(message: dict[str, Any], passphrase: str) -> dict[str, str]:
    box = SecretBox(secret_box_key(passphrase))
    return {
        "_type": "encrypted",
        "data": base64.b64encode(box.encrypt(orjson.dumps(message), random(24))).decode(),
    }


async def test_owntracks_encrypted_payloads_need_the_phones_key(
    client, actors, database_url, caplog, rejections
):
    admin = await actors.user("admin")
    oid, _ = await actors.officer(device_id="B0002/pixel")
    other, _ = await actors.officer(device_id="B0003/pixel")
    [device] = (await client.get(f"/api/v1/officers/{oid}/devices", headers=admin)).json()
    [other_device] = (await client.get(f"/api/v1/officers/{other}/devices", headers=admin)).json()
    key_url = f"/api/v1/officers/{oid}/devices/{device['id']}/owntracks-key"
    headers = {**basic("B0002", "secret-pw"), "X-Limit-U": "B0002", "X-Limit-D": "pixel"}
    tst = at(10)
    location = {
        "_type": "location",
        "lat": -7.9655,
        "lon": 112.6311,
        "tst": tst,
        "tid": "px",
        "batt": 70,
        "acc": 8,
    }

    # no key yet: refused (the app keeps the message and resends it), logged as an error
    caplog.set_level(logging.INFO, logger="jogo_dispatch.tracking")
    r = await client.post("/owntracks", json=sealed(location, "kunci rahasia"), headers=headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "owntracks_key_missing"
    assert any(rec.levelno == logging.ERROR and "no key" in str(rec.msg) for rec in caplog.records)
    assert [(x["reason"], x["device"]) for x in rejections] == [("owntracks_key_missing", "B0002/pixel")]
    assert await history(database_url, oid) == []

    # an admin sets the key the app uses; reads never show it
    dispatcher = await actors.user("dispatcher")
    assert (await client.put(key_url, json={"key": "kunci rahasia"}, headers=dispatcher)).status_code == 403
    r = await client.put(key_url, json={"key": "kunci rahasia"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["owntracks_key_set"] is True and "owntracks_key" not in r.json()
    listed = (await client.get(f"/api/v1/officers/{oid}/devices", headers=admin)).text
    assert (
        'owntracks_key"' not in listed
        and base64.b64encode(secret_box_key("kunci rahasia")).decode() not in listed
    )
    wrong_officer = f"/api/v1/officers/{oid}/devices/{other_device['id']}/owntracks-key"
    assert (await client.put(wrong_officer, json={"key": "x"}, headers=admin)).status_code == 404
    ambiguous = await client.put(key_url, json={"key": "a" * 31 + "é"}, headers=admin)
    assert ambiguous.status_code == 400 and ambiguous.json()["error"]["details"] == {"field": "key"}

    r = await client.post("/owntracks", json=sealed(location, "kunci rahasia"), headers=headers)
    assert r.status_code == 200 and r.json() == []
    [row] = await history(database_url, oid)
    assert (row["lat"], row["lon"], row["recorded_at"], row["battery_pct"], row["source"]) == (
        -7.9655,
        112.6311,
        utc(tst),
        70,
        "owntracks",
    )
    assert row["attributes"]["tid"] == "px"

    # another key: refused, the app keeps it
    r = await client.post("/owntracks", json=sealed({**location, "tst": tst + 1}, "other"), headers=headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "owntracks_key_mismatch"
    r = await client.post("/owntracks", json={"_type": "encrypted", "data": "bm90IGEgYm94"}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["details"] == {"field": "data"}
    # a device token names its phone without the identity headers
    token = (
        await client.post(
            f"/api/v1/officers/{oid}/devices", json={"identifier": "B0002/tablet"}, headers=admin
        )
    ).json()
    r = await client.post(
        "/owntracks",
        json=sealed({**location, "tst": tst + 2}, "kunci rahasia"),
        headers=basic("B0002", token["token"]),
    )
    assert r.status_code == 200

    # cleared: refused again at once
    r = await client.delete(key_url, headers=admin)
    assert r.status_code == 200 and r.json()["owntracks_key_set"] is False
    r = await client.post(
        "/owntracks", json=sealed({**location, "tst": tst + 3}, "kunci rahasia"), headers=headers
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "owntracks_key_missing"
    assert len(await history(database_url, oid)) == 2
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT action, data FROM audit_log WHERE entity_type = 'officer' AND action LIKE 'owntracks%%' ORDER BY id"
        )
        assert await cur.fetchall() == [
            ("owntracks_key_set", {"device_id": device["id"], "replaced": False}),
            ("owntracks_key_cleared", {"device_id": device["id"]}),
        ]


async def test_every_owntracks_401_carries_the_basic_challenge(client, actors):
    admin = await actors.user("admin")
    oid, _ = await actors.officer(device_id="B0002/pixel")
    token = (
        await client.post(f"/api/v1/officers/{oid}/devices", json={"identifier": "B0002/old"}, headers=admin)
    ).json()
    await client.delete(f"/api/v1/officers/{oid}/devices/{token['id']}", headers=admin)
    await actors.user("dispatcher")  # real credentials, not an officer's
    dispatcher = f"dispatcher{actors._n}"
    body = {"_type": "location", "lat": -7.96, "lon": 112.64, "tst": at(5), "tid": "px"}
    for headers, code in (
        ({}, "credentials_required"),
        (basic("B0002", "wrong-pw"), "bad_credentials"),
        (basic("B0002", token["token"]), None),
        (basic(dispatcher, "secret-pw"), "not_an_officer"),
    ):
        r = await client.post("/owntracks", json=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["www-authenticate"].startswith("Basic realm="), r.headers
        if code:
            assert r.json()["error"]["code"] == code


async def test_an_owntracks_location_with_tst_0_is_refused_and_logged(
    client, actors, database_url, rejections
):
    oid, _ = await actors.officer(device_id="B0001/pixel")
    headers = {**basic("B0001", "secret-pw"), "X-Limit-U": "B0001", "X-Limit-D": "pixel"}
    r = await client.post(
        "/owntracks",
        json={"_type": "location", "lat": -7.96, "lon": 112.64, "tst": 0, "tid": "px"},
        headers=headers,
    )
    assert r.status_code == 400 and r.json()["error"]["details"] == {"field": "tst"}
    assert await history(database_url, oid) == []
    assert [(x["reason"], x["device"], x["source"], x["officer_id"]) for x in rejections] == [
        ("bad_field", "B0001/pixel", "owntracks", oid)
    ]


# -------------------------------------------------------------------------------------------------
# Every refused fix is logged once, on every path; accepted ones are not


async def test_refused_osmand_fixes_are_logged_with_reason_and_device(client, actors, rejections):
    await actors.officer(device_id="logme")
    t = at(30)
    await client.get(f"/osmand?id=logme&lat={HOME[0]}&lon={HOME[1]}&timestamp={t}")
    assert rejections == []  # accepted: no line
    await client.get(f"/osmand?id=logme&lat={HOME[0]}&lon={HOME[1]}&timestamp={t}")  # a resend
    await client.get(f"/osmand?id=logme&lat=0&lon=0&timestamp={t + 1}")
    await client.get(f"/osmand?id=logme&lat=north&lon={HOME[1]}")
    await client.get(f"/osmand?id=stranger&lat={HOME[0]}&lon={HOME[1]}")
    assert [(x["reason"], x["device"]) for x in rejections] == [
        ("duplicate", "logme"),
        ("null_island", "logme"),
        ("bad_field", "logme"),
        ("unknown_device", "stranger"),
    ]
    assert all(x["source"] == "osmand" for x in rejections)


async def test_refused_http_batch_pings_are_logged_with_the_officer(client, actors, rejections):
    oid, headers = await actors.officer()
    now = datetime.now(UTC)
    r = await client.post(
        "/api/v1/pings",
        headers=headers,
        json=[
            {"lat": HOME[0], "lon": HOME[1], "recorded_at": now.isoformat()},
            {"lat": "north", "lon": HOME[1], "recorded_at": now.isoformat()},
            {"lat": 95, "lon": HOME[1], "recorded_at": now.isoformat()},
            {"lat": HOME[0], "lon": HOME[1], "recorded_at": (now + timedelta(hours=1)).isoformat()},
        ],
    )
    assert r.json()["accepted"] == 1
    assert [(x["index"], x["reason"].split(":")[0], x["officer_id"], x["source"]) for x in rejections] == [
        (1, "invalid", oid, "api"),
        (2, "out_of_range", oid, "api"),
        (3, "future", oid, "api"),
    ]


async def test_refused_stream_pings_are_logged_with_the_officer(live_server, actors, rejections):
    oid, headers = await actors.officer()
    token = headers["Authorization"].split()[1]
    now = datetime.now(UTC)
    async with websockets.connect(f"{live_server.ws}/api/v1/officers/stream?token={token}") as ws:
        await ws.send(
            orjson.dumps(
                {
                    "type": "pings",
                    "seq": 1,
                    "pings": [
                        {"lat": HOME[0], "lon": HOME[1], "recorded_at": now.isoformat()},
                        {"lat": 0, "lon": 0, "recorded_at": (now - timedelta(seconds=1)).isoformat()},
                        {"lat": HOME[0], "recorded_at": now.isoformat()},
                    ],
                }
            ).decode()
        )
        while True:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            if msg["type"] == "ack":
                break
    assert msg["accepted"] == 1
    assert [(x["index"], x["reason"].split(":")[0], x["officer_id"], x["source"]) for x in rejections] == [
        (1, "null_island", oid, "ws"),
        (2, "invalid", oid, "ws"),
    ]


async def test_the_track_marks_approximate_reports_and_its_line_follows_the_fixes(client, actors):
    dispatcher = await actors.user("dispatcher")
    oid, _ = await actors.officer(device_id="tracked")
    t0 = at(120)
    await client.get(f"/osmand?id=tracked&lat={HOME[0]}&lon={HOME[1]}&timestamp={t0}")
    await client.get(f"/osmand?id=tracked&lat=-7.0&lon={HOME[1]}&timestamp={t0 + 30}&valid=false")
    await client.get(f"/osmand?id=tracked&timestamp={t0 + 60}&batt=50")
    await client.get(f"/osmand?id=tracked&lat=-7.9670&lon={HOME[1]}&timestamp={t0 + 90}")
    since = datetime.fromtimestamp(t0 - 1, UTC).isoformat()
    r = await client.get(f"/api/v1/officers/{oid}/track", headers=dispatcher, params={"since": since})
    assert r.status_code == 200, r.text
    line, *points = r.json()["features"]
    assert [p["properties"]["approximate"] for p in points] == [None, "invalid", "last_known", None]
    assert points[2]["geometry"]["coordinates"] == pytest.approx([HOME[1], HOME[0]])  # at the last fix
    first, last = line["geometry"]["coordinates"]
    assert (first, last) == (pytest.approx([HOME[1], HOME[0]]), pytest.approx([HOME[1], -7.9670]))


async def test_device_reads_say_whether_a_key_is_set_and_never_the_key(client, actors):
    admin = await actors.user("admin")
    oid, _ = await actors.officer(device_id="B0002/pixel")
    [device] = (await client.get(f"/api/v1/officers/{oid}/devices", headers=admin)).json()
    assert device["owntracks_key_set"] is False
    await client.put(
        f"/api/v1/officers/{oid}/devices/{device['id']}/owntracks-key", json={"key": "123"}, headers=admin
    )
    [device] = (await client.get(f"/api/v1/officers/{oid}/devices", headers=admin)).json()
    assert device["owntracks_key_set"] is True and "owntracks_key" not in device
