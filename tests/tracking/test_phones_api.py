"""Conformance: literal requests as Traccar Client (OsmAnd protocol) and OwnTracks send them."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import psycopg
import pytest

from jogo_dispatch.platform.events import AlertRaised


async def stored(database_url: str, officer_id: int) -> list[tuple]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT round(ST_Y(geog::geometry)::numeric, 5)::float, round(ST_X(geog::geometry)::numeric, 5)::float, "
            "recorded_at, speed_mps, battery_pct, source, attributes FROM pings WHERE officer_id = %s "
            "ORDER BY recorded_at",
            (officer_id,),
        )
        return await cur.fetchall()


async def test_traccar_client_query_string(client, actors, database_url):
    oid, _ = await actors.officer(device_id="123456")
    ts = int(time.time()) - 5
    r = await client.post(
        f"/osmand?id=123456&timestamp={ts}&lat=-7.9666&lon=112.6326&speed=10.0&bearing=90.0"
        "&altitude=450.0&accuracy=5.0&batt=87.0&charge=true&hdop=0.9"
    )
    assert r.status_code == 200 and r.content == b""
    [(lat, lon, rec, speed, batt, source, attrs)] = await stored(database_url, oid)
    assert (lat, lon) == (-7.9666, 112.6326)
    assert rec == datetime.fromtimestamp(ts, UTC)
    assert speed == pytest.approx(10 * 0.514444, rel=1e-4)  # knots → m/s
    assert batt == 87 and source == "osmand"
    assert attrs["charging"] is True and attrs["hdop"] == 0.9


async def test_osmand_get_with_location_and_millisecond_timestamp(client, actors, database_url):
    oid, _ = await actors.officer(device_id="osmand-7")
    ms = int(time.time() * 1000) - 3000
    r = await client.get(f"/osmand?deviceid=osmand-7&location=-7.98,112.62&timestamp={ms}")
    assert r.status_code == 200
    [(lat, lon, rec, *_)] = await stored(database_url, oid)
    assert (lat, lon) == (-7.98, 112.62)
    assert abs(rec.timestamp() - ms / 1000) < 0.002


async def test_osmand_form_body_when_url_has_no_query(client, actors, database_url):
    oid, _ = await actors.officer(device_id="form-1")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    r = await client.post(
        "/osmand",
        content=f"id=form-1&lat=-7.97&lon=112.63&timestamp={now}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert len(await stored(database_url, oid)) == 1


async def test_traccar_client_json_body(client, actors, database_url):
    oid, _ = await actors.officer(device_id="tc-json")
    body = {
        "location": {
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "coords": {
                "latitude": -7.9701,
                "longitude": 112.6302,
                "accuracy": 4.8,
                "speed": 3.2,
                "heading": 180.5,
                "altitude": 460.0,
            },
            "is_moving": True,
            "odometer": 1234.5,
            "event": "motionchange",
            "battery": {"level": 0.74, "is_charging": False},
            "activity": {"type": "in_vehicle"},
        },
        "device_id": "tc-json",
    }
    r = await client.post("/osmand", json=body)
    assert r.status_code == 200, r.text
    [(lat, lon, _, speed, batt, source, attrs)] = await stored(database_url, oid)
    assert (lat, lon, speed, batt, source) == (-7.9701, 112.6302, 3.2, 74.0, "osmand")
    assert attrs["charging"] is False


async def test_sdk_batch_array(client, actors, database_url):
    oid, _ = await actors.officer(device_id="sdk-1")
    t = int(time.time())
    body = [
        {"id": "sdk-1", "lat": -7.97 + i * 1e-4, "lon": 112.63, "timestamp": t - 30 + i, "speed": 2}
        for i in range(5)
    ]
    r = await client.post("/osmand", json=body)
    assert r.status_code == 200
    assert len(await stored(database_url, oid)) == 5


async def test_osmand_errors(client, actors, database_url):
    oid, _ = await actors.officer(device_id="known")
    r = await client.post("/osmand?lat=-7.9&lon=112.6")
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_device_id"
    r = await client.post("/osmand?id=stranger&lat=-7.9&lon=112.6")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_device"
    r = await client.post("/osmand", json={"device_id": "stranger", "location": {"coords": {}}})
    assert r.status_code == 404
    r = await client.post("/osmand", json={"device_id": "known", "location": {"coords": {"latitude": "x"}}})
    assert r.status_code == 400
    r = await client.post("/osmand", content=b"{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    # a body missing coords is answered cleanly and stores nothing
    r = await client.post(
        "/osmand", json={"device_id": "known", "location": {"timestamp": "2026-01-01T00:00:00Z"}}
    )
    assert r.status_code == 200
    assert await stored(database_url, oid) == []


async def test_osmand_sos_raises_officer_distress_alert(app, client, actors, database_url):
    oid, _ = await actors.officer(device_id="sos-phone")
    seen = []
    app.state.runtime.bus.on(AlertRaised, seen.append)
    r = await client.post(
        f"/osmand?id=sos-phone&lat=-7.975&lon=112.633&timestamp={int(time.time())}&alarm=sos"
    )
    assert r.status_code == 200
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT kind, officer_id, lat, lon FROM alerts")
        assert await cur.fetchall() == [("officer_distress", oid, -7.975, 112.633)]
    assert seen and seen[-1].alert["kind"] == "officer_distress"
    dispatcher = await actors.user("dispatcher")
    alerts = (await client.get("/api/v1/alerts", headers=dispatcher)).json()
    assert alerts[0]["kind"] == "officer_distress"
    ack = await client.post(f"/api/v1/alerts/{alerts[0]['id']}/ack", headers=dispatcher)
    assert ack.status_code == 200 and ack.json()["acknowledged_at"]
    assert (await client.get("/api/v1/alerts", headers=dispatcher)).json() == []


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_owntracks_location_with_headers_and_password(client, actors, database_url):
    oid, _ = await actors.officer(device_id="B0001/pixel")
    tst = int(time.time()) - 2
    body = {
        "_type": "location",
        "acc": 12,
        "alt": 455,
        "batt": 63,
        "bs": 1,
        "conn": "m",
        "lat": -7.9655,
        "lon": 112.6311,
        "tid": "px",
        "tst": tst,
        "vel": 36,
        "cog": 270,
        "t": "u",
        "topic": "owntracks/B0001/pixel",
    }
    headers = {**basic("B0001", "secret-pw"), "X-Limit-U": "B0001", "X-Limit-D": "pixel"}
    r = await client.post("/owntracks", json=body, headers=headers)
    assert r.status_code == 200 and r.json() == [] and r.headers["content-type"] == "application/json"
    [(lat, lon, rec, speed, batt, source, attrs)] = await stored(database_url, oid)
    assert (lat, lon, batt, source) == (-7.9655, 112.6311, 63, "owntracks")
    assert speed == pytest.approx(10.0)  # 36 km/h
    assert attrs["tid"] == "px"


async def test_owntracks_minus_one_fields_topic_identity_and_device_token(client, actors, database_url):
    admin = await actors.user("admin")
    oid, _ = await actors.officer()
    dev = (
        await client.post(
            f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "B0002/iphone"}
        )
    ).json()
    body = {
        "_type": "location",
        "lat": -7.96,
        "lon": 112.64,
        "tst": int(time.time()),
        "acc": -1,
        "vel": -1,
        "cog": -1,
        "alt": -1,
        "batt": -1,
        "tid": "ip",
        "topic": "owntracks/B0002/iphone",
    }
    r = await client.post("/owntracks", json=body, headers=basic("B0002", dev["token"]))
    assert r.status_code == 200 and r.json() == []
    [(lat, lon, _, speed, batt, *_)] = await stored(database_url, oid)
    assert (lat, lon, speed, batt) == (-7.96, 112.64, None, None)


async def test_owntracks_other_types_and_empty_bodies_are_ignored(client, actors, database_url):
    oid, _ = await actors.officer(device_id="B0001/pixel")
    headers = {**basic("B0001", "secret-pw"), "X-Limit-U": "B0001", "X-Limit-D": "pixel"}
    for body in (
        b"",
        b'{"_type":"lwt","tst":1}',
        b'{"_type":"transition","event":"enter","tst":1}',
        b'{"_type":"waypoint","desc":"Polsek","lat":-7.9,"lon":112.6,"rad":100,"tst":1}',
        b'{"_type":"status","android":{}}',
    ):
        r = await client.post(
            "/owntracks", content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert r.status_code == 200 and r.json() == []
    assert await stored(database_url, oid) == []


async def test_owntracks_bad_credentials_and_unknown_device(client, actors, database_url):
    oid, _ = await actors.officer(device_id="B0001/pixel")
    body = {"_type": "location", "lat": -7.96, "lon": 112.64, "tst": int(time.time())}
    r = await client.post("/owntracks", json=body)
    assert r.status_code == 401 and r.json()["error"]["code"] == "credentials_required"
    assert r.headers["www-authenticate"].startswith("Basic")
    r = await client.post(
        "/owntracks", json=body, headers={**basic("B0001", "wrong-pw"), "X-Limit-D": "pixel"}
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_credentials"
    r = await client.post(
        "/owntracks",
        json=body,
        headers={**basic("B0001", "secret-pw"), "X-Limit-U": "B0001", "X-Limit-D": "tablet"},
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_device"
    r = await client.post("/owntracks?u=B0001&d=pixel", json=body, headers=basic("B0001", "secret-pw"))
    assert r.status_code == 200
    assert len(await stored(database_url, oid)) == 1


async def test_an_alarm_flood_makes_one_distress_alert_and_batches_are_capped(
    app, client, actors, database_url
):
    """One OsmAnd request with 500 alarm=sos fixes made 500 alerts. Now: one open distress alert per
    officer (a repeat adds none until it is acknowledged), and more fixes than JOGO_MAX_BATCH is 413."""
    oid, _ = await actors.officer(device_id="flood-phone")
    t = int(time.time())
    flood = [
        {
            "id": "flood-phone",
            "lat": -7.975 + i * 1e-5,
            "lon": 112.633,
            "timestamp": t - 500 + i,
            "alarm": "sos",
        }
        for i in range(500)
    ]
    r = await client.post("/osmand", json=flood)
    assert r.status_code == 200
    again = await client.post(f"/osmand?id=flood-phone&lat=-7.97001&lon=112.633&timestamp={t}&alarm=sos")
    assert again.status_code == 200
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT count(*) FROM alerts WHERE officer_id = %s", (oid,))
        assert (await cur.fetchone())[0] == 1
        cur = await conn.execute("SELECT count(*) FROM pings WHERE officer_id = %s", (oid,))
        assert (await cur.fetchone())[0] == 501  # the fixes themselves are all kept
    limit = app.state.runtime.settings.max_batch
    too_many = [{**flood[0], "timestamp": t - i, "alarm": None} for i in range(limit + 1)]
    r = await client.post("/osmand", json=too_many)
    assert r.status_code == 413 and r.json()["error"]["details"]["limit"] == limit
