from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jogo_dispatch.platform.events import OfficerStatusChanged


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def ping(client, headers, lat, lon, at, **extra):
    r = await client.post(
        "/api/v1/pings",
        headers=headers,
        json={"lat": lat, "lon": lon, "recorded_at": at.isoformat(), **extra},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_officer_list_shows_latest_position_online_and_battery(client, actors):
    dispatcher = await actors.user("dispatcher")
    a, ha = await actors.officer("car")
    b, hb = await actors.officer("foot")
    c, _ = await actors.officer("motorbike")
    await ping(client, ha, -7.97, 112.63, now(), battery_pct=9)
    await ping(client, hb, -7.98, 112.64, now() - timedelta(minutes=20))
    r = await client.get("/api/v1/officers", headers=dispatcher)
    assert r.status_code == 200
    by_id = {o["id"]: o for o in r.json()}
    assert by_id[a]["online"] is True and by_id[a]["low_battery"] is True
    assert by_id[a]["lat"] == -7.97 and by_id[a]["unit_type"] == "car"
    assert by_id[b]["online"] is False  # last fix older than JOGO_OFFLINE_AFTER_S
    assert by_id[c]["lat"] is None and by_id[c]["online"] is False


async def test_track_is_geojson_line_and_points_within_window(client, actors):
    dispatcher = await actors.user("dispatcher")
    oid, h = await actors.officer()
    t0 = now() - timedelta(minutes=30)
    for i in range(5):
        await ping(client, h, -7.97 + i * 1e-3, 112.63, t0 + timedelta(minutes=i))
    since = (t0 + timedelta(minutes=1)).isoformat()
    until = (t0 + timedelta(minutes=4)).isoformat()
    r = await client.get(
        f"/api/v1/officers/{oid}/track", headers=dispatcher, params={"since": since, "until": until}
    )
    assert r.status_code == 200, r.text
    fc = r.json()
    line, *points = fc["features"]
    assert line["geometry"]["type"] == "LineString"
    assert len(line["geometry"]["coordinates"]) == 3 == len(points)
    assert points[0]["geometry"]["coordinates"] == pytest.approx([112.63, -7.969])
    bad = await client.get(
        f"/api/v1/officers/{oid}/track", headers=dispatcher, params={"since": until, "until": since}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_time_range"
    assert (await client.get("/api/v1/officers/99999/track", headers=dispatcher)).status_code == 404


async def test_positions_in_bbox(client, actors):
    dispatcher = await actors.user("dispatcher")
    a, ha = await actors.officer()
    b, hb = await actors.officer()
    await ping(client, ha, -7.97, 112.63, now())
    await ping(client, hb, -7.30, 112.75, now())  # Surabaya, outside the box
    r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": "112.5,-8.1,112.7,-7.9"})
    assert r.status_code == 200
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert [f["id"] for f in fc["features"]] == [a]
    assert fc["features"][0]["geometry"]["coordinates"] == [112.63, -7.97]
    r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": "1,2,3"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"  # the schema's pattern
    r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": "112.7,-8.1,112.5,-7.9"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_bbox"


async def test_status_changes_by_dispatcher_and_by_officer(app, client, actors):
    dispatcher = await actors.user("dispatcher")
    oid, h = await actors.officer()
    seen = []
    app.state.runtime.bus.on(OfficerStatusChanged, seen.append)
    r = await client.put(f"/api/v1/officers/{oid}/status", headers=dispatcher, json={"status": "busy"})
    assert r.status_code == 200 and r.json()["status"] == "busy"
    r = await client.put("/api/v1/me/status", headers=h, json={"status": "off_duty"})
    assert r.status_code == 200 and r.json()["status"] == "off_duty"
    assert [(e.officer_id, e.status) for e in seen][-2:] == [(oid, "busy"), (oid, "off_duty")]
    r = await client.put("/api/v1/me/status", headers=h, json={"status": "asleep"})
    assert r.status_code == 422
    assert (
        await client.put(f"/api/v1/officers/{oid}/status", headers=h, json={"status": "busy"})
    ).status_code == 403
    assert (
        await client.put("/api/v1/officers/424242/status", headers=dispatcher, json={"status": "busy"})
    ).status_code == 404


async def test_device_registration_token_and_revocation(client, actors, database_url):
    admin = await actors.user("admin")
    oid, _ = await actors.officer()
    r = await client.post(
        f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "862345678901234"}
    )
    assert r.status_code == 201, r.text
    device = r.json()
    phone = {"Authorization": f"Bearer {device['token']}"}
    assert (await ping(client, phone, -7.97, 112.63, now()))["accepted"] == 1
    dup = await client.post(
        f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "862345678901234"}
    )
    assert dup.status_code == 409
    listed = (await client.get(f"/api/v1/officers/{oid}/devices", headers=admin)).json()
    assert [d["identifier"] for d in listed] == ["862345678901234"] and "token" not in listed[0]
    r = await client.delete(f"/api/v1/officers/{oid}/devices/{device['id']}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = await client.post(
        "/api/v1/pings", headers=phone, json={"lat": -7.97, "lon": 112.63, "recorded_at": now().isoformat()}
    )
    assert r.status_code == 401


async def test_admin_creates_officer_over_api(client, actors):
    admin = await actors.user("admin")
    body = {
        "badge": "MLG-001",
        "name": "Bripka Andi",
        "unit_type": "motorbike",
        "password": "secret-pw",
        "sector": "Klojen",
        "device_id": "andi-phone",
    }
    r = await client.post("/api/v1/officers", headers=admin, json=body)
    assert r.status_code == 201 and r.json()["badge"] == "MLG-001"
    token = await client.post("/api/v1/auth/token", data={"username": "MLG-001", "password": "secret-pw"})
    assert token.status_code == 200
    assert (await client.post("/api/v1/officers", headers=admin, json=body)).status_code == 409
