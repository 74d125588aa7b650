from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from jogo_dispatch.geo.distance import geodesic_m


async def fleet(client, actors, n: int, seed: int = 3, spread: float = 0.05):
    rng = random.Random(seed)
    out = []
    now = datetime.now(UTC)
    for i in range(n):
        unit = ("car", "motorbike", "foot")[i % 3]
        oid, h = await actors.officer(unit)
        lat, lon = -7.98 + rng.uniform(-spread, spread), 112.63 + rng.uniform(-spread, spread)
        r = await client.post(
            "/api/v1/pings", headers=h, json={"lat": lat, "lon": lon, "recorded_at": now.isoformat()}
        )
        assert r.json()["accepted"] == 1
        out.append((oid, h, unit, lat, lon))
    return out


async def test_index_and_postgis_agree_and_are_exact(client, actors):
    dispatcher = await actors.user("dispatcher")
    officers = await fleet(client, actors, 30)
    rng = random.Random(9)
    for _ in range(8):
        lat, lon = -7.98 + rng.uniform(-0.06, 0.06), 112.63 + rng.uniform(-0.06, 0.06)
        params = {"lat": lat, "lon": lon, "k": 5}
        a = (await client.get("/api/v1/responders/nearest", headers=dispatcher, params=params)).json()
        b = (
            await client.get(
                "/api/v1/responders/nearest", headers=dispatcher, params={**params, "method": "postgis"}
            )
        ).json()
        assert [x["officer_id"] for x in a["items"]] == [x["officer_id"] for x in b["items"]]
        for x, y in zip(a["items"], b["items"], strict=True):
            assert x["distance_m"] == pytest.approx(y["distance_m"], abs=0.01)
        brute = sorted(officers, key=lambda o: (geodesic_m(lat, lon, o[3], o[4]), o[0]))[:5]
        assert [x["officer_id"] for x in a["items"]] == [o[0] for o in brute]
        first = a["items"][0]
        assert set(first) == {
            "officer_id",
            "badge",
            "name",
            "unit_type",
            "status",
            "lat",
            "lon",
            "distance_m",
            "eta_s",
            "last_seen",
            "position_age_s",
            "stale",
            "can_offer",
            "channel",
        }
        assert first["eta_s"] > 0 and a["shortfall_reason"] is None
        assert (first["can_offer"], first["channel"]) == (True, "api")  # the fleet pings from the phone app


async def test_unit_type_radius_and_status_filters(client, actors):
    dispatcher = await actors.user("dispatcher")
    officers = await fleet(client, actors, 9)
    body = (
        await client.get(
            "/api/v1/responders/nearest",
            headers=dispatcher,
            params={"lat": -7.98, "lon": 112.63, "k": 10, "unit_type": "foot"},
        )
    ).json()
    assert {x["unit_type"] for x in body["items"]} == {"foot"} and len(body["items"]) == 3
    assert body["shortfall_reason"] == "none_available"
    oid = body["items"][0]["officer_id"]
    await client.put(f"/api/v1/officers/{oid}/status", headers=dispatcher, json={"status": "busy"})
    again = (
        await client.get(
            "/api/v1/responders/nearest",
            headers=dispatcher,
            params={"lat": -7.98, "lon": 112.63, "k": 10, "unit_type": "foot"},
        )
    ).json()
    assert oid not in [x["officer_id"] for x in again["items"]] and len(again["items"]) == 2
    tiny = (
        await client.get(
            "/api/v1/responders/nearest",
            headers=dispatcher,
            params={"lat": -7.5, "lon": 112.0, "k": 3, "max_distance_m": 1000},
        )
    ).json()
    assert tiny["items"] == [] and tiny["shortfall_reason"] == "outside_radius" and tiny["shortfall"]
    assert len(officers) == 9


async def test_offline_officers_are_not_candidates(app, client, actors, database_url):
    dispatcher = await actors.user("dispatcher")
    oid, h = await actors.officer()
    old = datetime.now(UTC) - timedelta(minutes=20)  # older than JOGO_OFFLINE_AFTER_S (900 s)
    await client.post(
        "/api/v1/pings", headers=h, json={"lat": -7.98, "lon": 112.63, "recorded_at": old.isoformat()}
    )
    body = (
        await client.get(
            "/api/v1/responders/nearest", headers=dispatcher, params={"lat": -7.98, "lon": 112.63}
        )
    ).json()
    assert body["items"] == [] and body["shortfall_reason"] == "positions_too_old"
    pg = (
        await client.get(
            "/api/v1/responders/nearest",
            headers=dispatcher,
            params={"lat": -7.98, "lon": 112.63, "method": "postgis"},
        )
    ).json()
    assert pg["items"] == [] and pg["shortfall_reason"] == "positions_too_old"


async def test_empty_index_and_bad_queries(client, actors):
    dispatcher = await actors.user("dispatcher")
    body = (
        await client.get("/api/v1/responders/nearest", headers=dispatcher, params={"lat": -7.9, "lon": 112.6})
    ).json()
    assert body == {
        "items": [],
        "shortfall_reason": "no_position_data",
        "shortfall": body["shortfall"],
        "method": "index",
    }
    for params in (
        {"lat": 91, "lon": 0},
        {"lat": 0, "lon": 0, "k": 0},
        {"lat": 0, "lon": 0, "k": 101},
        {"lat": 0, "lon": 0, "max_distance_m": -1},
        {"lat": "x", "lon": 0},
        {"lon": 1},
    ):
        r = await client.get("/api/v1/responders/nearest", headers=dispatcher, params=params)
        assert r.status_code == 422, params
    officer = (await actors.officer())[1]
    r = await client.get("/api/v1/responders/nearest", headers=officer, params={"lat": -7.9, "lon": 112.6})
    assert r.status_code == 403


async def test_index_is_rebuilt_from_officer_positions_at_startup(settings, client, actors):
    from jogo_dispatch.main import create_app

    await fleet(client, actors, 4)
    fresh = create_app(settings)
    async with fresh.router.lifespan_context(fresh):
        assert len(fresh.state.runtime.index) == 4
