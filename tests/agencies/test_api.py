"""The agencies API on real PostGIS: region packs loaded by the seeding service, routing decisions, the rules
admins edit, and the Open311 service catalogue."""

from __future__ import annotations

import random

import psycopg
import pytest
from shapely.geometry import shape

from jogo_dispatch.agencies import service
from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.agencies.routing import route
from tests.agencies.conftest import seed
from tests.reports.helpers import rows


async def test_seeding_is_idempotent_and_serves_sectors_and_agencies(app, client, actors, database_url):
    # the pack's own category may be left by a test that seeded before (categories survive the clean-up)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "DELETE FROM categories c WHERE code = 'water_outage' "
            "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.category = c.code)"
        )
    first = await seed(app)
    assert (
        first["police_sectors"] == (5, 0)
        and first["agencies"] == (28, 0)
        and first["routing_rules"] == (22, 0)
    )
    assert first["categories"] == (1, 0)  # water_outage joins the catalogue
    assert first["response_plans"][0] + first["response_plans"][1] == 14  # the run cards (once)
    again = await seed(app)
    assert again == {
        "categories": (0, 0),
        "police_sectors": (0, 5),
        "agencies": (0, 28),
        "routing_rules": (0, 22),
        "response_plans": (0, 14),
    }
    dispatcher = await actors.user("dispatcher")

    r = await client.get("/api/v1/police-sectors", headers=dispatcher)
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 5
    pack = packs.load("malang")
    for f in body["features"]:
        geom = shape(f["geometry"])
        assert f["geometry"]["type"] == "MultiPolygon" and geom.is_valid
        assert f["properties"]["approximate"] is True and f["properties"]["police_agency"].startswith(
            "POLSEK_"
        )
        # What went in comes back out (to the 6 decimals the pack has).
        assert geom.symmetric_difference(pack.sector(f["properties"]["code"]).geometry).area < 1e-12

    hospitals = (await client.get("/api/v1/agencies", headers=dispatcher, params={"kind": "hospital"})).json()
    assert len(hospitals) == 9 and {h["kind"] for h in hospitals} == {"hospital"}
    rssa = next(h for h in hospitals if h["code"] == "RSSA")
    assert rssa["lat"] == pytest.approx(-7.9722) and rssa["lon"] == pytest.approx(112.6318)
    assert rssa["approximate"] is True and rssa["delivery"] == "inbox"
    everything = (await client.get("/api/v1/agencies", headers=dispatcher)).json()
    assert len(everything) == 28
    assert (
        await client.get("/api/v1/agencies", headers=dispatcher, params={"region": "cilacap"})
    ).json() == []
    citizen = await actors.user("citizen")
    assert (await client.get("/api/v1/agencies", headers=citizen)).status_code == 403


async def test_postgis_agrees_with_the_routing_function(app, client, actors, database_url):
    await seed(app)
    await seed(app, "cilacap")
    rng = random.Random(5)
    pack = packs.load("malang")
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        for _ in range(60):
            lat, lon = -7.975 + rng.uniform(-0.07, 0.07), 112.635 + rng.uniform(-0.06, 0.06)
            rows = await (
                await conn.execute(
                    "SELECT code FROM police_sectors WHERE region = 'malang' "
                    "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code",
                    (lon, lat),
                )
            ).fetchall()
            hit = pack.locate(lat, lon)
            if rows:
                assert hit.inside and hit.sector.code == rows[0][0]
            else:
                assert not hit.inside
                nearest = await (
                    await conn.execute(
                        "SELECT code, ST_Distance(geom::geography, "
                        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) FROM police_sectors "
                        "WHERE region = 'malang' ORDER BY 2, code LIMIT 1",
                        (lon, lat),
                    )
                ).fetchone()
                assert hit.sector.code == nearest[0]
                assert hit.distance_m == pytest.approx(nearest[1], rel=2e-3, abs=1.0)


async def test_route_endpoint(app, client, actors):
    await seed(app)
    dispatcher = await actors.user("dispatcher")
    r = await client.get(
        "/api/v1/route",
        headers=dispatcher,
        params={"category": "traffic_accident", "lat": -7.9826, "lon": 112.6308},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sector"]["code"] == "KLOJEN" and body["sector"]["inside"] is True and body["sector"]["id"]
    assert [t["code"] for t in body["responsible"]] == ["SATLANTAS"]
    assert [t["code"] for t in body["always_notify"]] == ["JASA_RAHARJA", "POLSEK_KLOJEN"]
    expected = route("traffic_accident", -7.9826, 112.6308, packs.load("malang"))
    assert [t["code"] for t in body["hospitals"]] == [t.agency.code for t in expected.hospitals]
    assert all(t["agency_id"] for t in body["responsible"] + body["always_notify"] + body["hospitals"])
    assert body["responsible"][0]["rule_id"] is not None and body["reasons"]

    crime = (
        await client.get(
            "/api/v1/route",
            headers=dispatcher,
            params={"category": "crime", "lat": -7.9524, "lon": 112.6144, "injured": "true", "hospitals": 1},
        )
    ).json()
    assert [t["code"] for t in crime["responsible"]] == ["SATRESKRIM", "POLSEK_LOWOKWARU"]
    assert len(crime["hospitals"]) == 1

    bad = await client.get(
        "/api/v1/route", headers=dispatcher, params={"category": "ufo", "lat": -7.98, "lon": 112.6}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_category"
    async with app.state.runtime.sessions() as session:
        hit = await service.sector_for(session, app.state.settings, -7.9524, 112.6144)
        assert hit.sector.code == "LOWOKWARU" and hit.inside and hit.sector.id == crime["sector"]["id"]
        assert await service.sector_for(session, app.state.settings, -7.7, 109.0, region="cilacap") is None
    missing = await client.get(
        "/api/v1/route",
        headers=dispatcher,
        params={"category": "fire", "lat": -7.7, "lon": 109.0, "region": "cilacap"},
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "region_not_loaded"
    assert (
        await client.get(
            "/api/v1/route", headers=dispatcher, params={"category": "fire", "lat": 95, "lon": 0}
        )
    ).status_code == 422
    agency = await actors.user("agency")
    assert (
        await client.get(
            "/api/v1/route", headers=agency, params={"category": "fire", "lat": -7.98, "lon": 112.6}
        )
    ).status_code == 403


async def test_admin_edits_rules_and_routing_follows(app, client, actors, database_url):
    await seed(app)
    admin = await actors.user("admin")
    dispatcher = await actors.user("dispatcher")
    rules = (
        await client.get("/api/v1/routing-rules", headers=admin, params={"category": "fallen_tree"})
    ).json()
    assert [(r["agency_code"], r["role"]) for r in rules] == [("DLH", "responsible")]
    assert (await client.get("/api/v1/routing-rules", headers=dispatcher)).status_code == 403

    new = {"category": "fallen_tree", "agency_code": "PLN", "role": "always_notify", "priority": 50}
    r = await client.post("/api/v1/routing-rules", headers=admin, json=new)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["region"] == "malang" and rule["sector_code"] is None and rule["active"] is True
    assert (await client.post("/api/v1/routing-rules", headers=admin, json=new)).json()["error"][
        "code"
    ] == "rule_exists"
    assert (await client.post("/api/v1/routing-rules", headers=dispatcher, json=new)).status_code == 403

    async def fallen_tree_at(lat: float, lon: float) -> dict:
        return (
            await client.get(
                "/api/v1/route",
                headers=dispatcher,
                params={"category": "fallen_tree", "lat": lat, "lon": lon},
            )
        ).json()

    assert [t["code"] for t in (await fallen_tree_at(-7.9826, 112.6308))["always_notify"]] == ["PLN"]

    # Only in Sukun, road works (PUPR) clear fallen trees instead of DLH.
    local = {"category": "fallen_tree", "agency_code": "PUPR", "role": "responsible", "sector_code": "SUKUN"}
    local_rule = (await client.post("/api/v1/routing-rules", headers=admin, json=local)).json()
    assert [t["code"] for t in (await fallen_tree_at(-7.9780, 112.5980))["responsible"]] == ["PUPR"]
    assert [t["code"] for t in (await fallen_tree_at(-7.9826, 112.6308))["responsible"]] == ["DLH"]

    changed = await client.put(
        f"/api/v1/routing-rules/{rule['id']}", headers=admin, json={**new, "active": False, "priority": 7}
    )
    assert (
        changed.status_code == 200 and changed.json()["active"] is False and changed.json()["priority"] == 7
    )
    assert (await fallen_tree_at(-7.9826, 112.6308))["always_notify"] == []

    assert (
        await client.delete(f"/api/v1/routing-rules/{local_rule['id']}", headers=admin)
    ).status_code == 204
    assert [t["code"] for t in (await fallen_tree_at(-7.9780, 112.5980))["responsible"]] == ["DLH"]
    assert (
        await client.delete(f"/api/v1/routing-rules/{local_rule['id']}", headers=admin)
    ).status_code == 404
    assert (await client.put("/api/v1/routing-rules/999999", headers=admin, json=new)).status_code == 404

    for bad, why in [
        ({**new, "agency_code": "NOBODY"}, "unknown agency"),
        ({**new, "category": "ufo"}, "unknown category"),
        ({**new, "role": "hospital"}, "hospital rule"),
        ({**new, "sector_code": "ATLANTIS"}, "unknown sector"),
        ({**new, "region": "cilacap"}, "not loaded"),
    ]:
        r = await client.post("/api/v1/routing-rules", headers=admin, json=bad)
        assert r.status_code in (400, 404) and why in r.json()["error"]["message"], (bad, r.text)
    assert (
        await client.post("/api/v1/routing-rules", headers=admin, json={**new, "role": "boss"})
    ).status_code == 422

    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        trail = await (
            await conn.execute(
                "SELECT entity_id, action, from_state, to_state, actor_id IS NOT NULL FROM audit_log "
                "WHERE entity_type = 'routing_rule' ORDER BY id"
            )
        ).fetchall()
    assert trail == [
        (rule["id"], "create", None, "active", True),
        (local_rule["id"], "create", None, "active", True),
        (rule["id"], "update", "active", "inactive", True),
        (local_rule["id"], "delete", "active", "deleted", True),
    ]


async def test_categories_and_open311_catalogue(app, client, database_url):
    await seed(app)
    cats = (await client.get("/api/v1/categories")).json()
    by_code = {c["code"]: c for c in cats}
    assert {"traffic_accident", "fallen_tree", "water_outage", "crime"} <= set(by_code)
    assert (
        by_code["fallen_tree"]["name_id"] == "Pohon tumbang"
        and by_code["fallen_tree"]["group"] == "environment"
    )
    # Each category carries the priority dispatch gives its incidents (the catalogue table's).
    stored = dict(await rows(database_url, "SELECT code, default_priority FROM categories WHERE active"))
    assert {code: c["default_priority"] for code, c in by_code.items()} == stored
    assert by_code["fire"]["default_priority"] < by_code["fallen_tree"]["default_priority"]

    services = (await client.get("/open311/v2/services.json", params={"lang": "en"})).json()
    assert isinstance(services, list) and {s["service_code"] for s in services} == set(by_code)
    tree = next(s for s in services if s["service_code"] == "fallen_tree")
    assert tree == {
        "service_code": "fallen_tree",
        "service_name": "Fallen tree",
        "metadata": False,
        "type": "realtime",
        "group": "environment",
        "keywords": "pohon, tree",
        "description": "A fallen tree or branch blocking a road or endangering people.",
    }
    assert (
        await client.get("/open311/v2/services.json", params={"jurisdiction_id": "malang"})
    ).status_code == 200
    nope = await client.get("/open311/v2/services.json", params={"jurisdiction_id": "gotham"})
    assert (
        nope.status_code == 404
        and nope.json()[0]["code"] == 404
        and "gotham" in nope.json()[0]["description"]
    )

    crime = (await client.get("/open311/v2/services/crime.json")).json()
    assert crime["service_code"] == "crime" and crime["attributes"][0]["code"] == "injured"
    missing = await client.get("/open311/v2/services/ufo.json")
    assert missing.status_code == 404 and missing.json() == [
        {"code": 404, "description": "unknown service_code 'ufo'"}
    ]
