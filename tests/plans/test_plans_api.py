"""Response plans on real PostGIS: the region pack's run cards, applied when an incident is made (units it
needs, agencies), the most specific plan winning, and the admin's edits refused clearly when wrong."""

from __future__ import annotations

from tests.forwards.conftest import MALANG, make_incident, rows


async def test_the_packs_plans_are_applied_to_new_incidents(app, client, actors, seeded, database_url):
    dispatcher = await actors.user("dispatcher")
    listed = await client.get("/api/v1/response-plans", headers=dispatcher)
    assert listed.status_code == 200
    by_category = {(p["category"], p["priority"]): p for p in listed.json()["items"]}
    assert by_category[("fallen_tree", None)]["forward_to"] == ["DLH"]
    assert (
        await client.get("/api/v1/response-plans", headers=await actors.user("citizen"))
    ).status_code == 403

    tree = await make_incident(app, "fallen_tree", description="Pohon tumbang")
    crash = await make_incident(app, "traffic_accident", priority=2, lat=MALANG[0] + 0.002)
    jam = await make_incident(app, "traffic_jam", priority=3, lat=MALANG[0] + 0.004)
    seen = {
        i: (await client.get(f"/api/v1/incidents/{i}", headers=dispatcher)).json() for i in (tree, crash, jam)
    }
    assert (seen[tree]["units_needed"], seen[tree]["shortfall"]) == (0, 0)
    assert seen[tree]["data"]["plan"]["forward_to"] == ["DLH"]
    assert (seen[crash]["units_needed"], seen[crash]["shortfall"]) == (2, 2)  # injuries: two units
    assert seen[crash]["data"]["plan"]["forward_to"] == ["JASA_RAHARJA"]
    assert seen[jam]["units_needed"] == 1 and seen[jam]["data"]["plan"]["suggest"] == ["DISHUB"]
    [(data,)] = await rows(
        database_url,
        "SELECT data FROM audit_log WHERE entity_type = 'incident' AND entity_id = %s AND action = 'created'",
        crash,
    )
    assert data["units_needed"] == 2 and data["plan"].startswith("Kecelakaan dengan korban")


async def test_admins_edit_plans_and_the_most_specific_one_wins(app, client, actors, seeded, database_url):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    body = {
        "name": "Curanmor Klojen",
        "category": "crime",
        "sector_code": "KLOJEN",
        "units": 3,
        "unit_types": ["motorbike"],
        "forward_to": [],
        "suggest": ["SATPOL_PP"],
    }
    r = await client.post("/api/v1/response-plans", headers=admin, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    crime = await make_incident(app, "crime", priority=2)  # MALANG is in KLOJEN
    seen = (await client.get(f"/api/v1/incidents/{crime}", headers=dispatcher)).json()
    assert (seen["units_needed"], seen["data"]["plan"]["id"]) == (3, plan["id"])
    elsewhere = await make_incident(app, "crime", priority=2, lat=-7.93, lon=112.65)
    seen = (await client.get(f"/api/v1/incidents/{elsewhere}", headers=dispatcher)).json()
    assert seen["units_needed"] == 1 and seen["data"]["plan"]["name"].startswith("Kejahatan")

    for bad, status, code in (
        ({**body, "forward_to": ["NOPE"]}, 400, "unknown_agency"),
        ({**body, "category": "ufo"}, 400, "unknown_category"),
        ({**body, "sector_code": "ATLANTIS"}, 400, "unknown_sector"),
        ({**body, "units": 11}, 422, "validation_error"),
        ({**body, "unit_types": ["horse"]}, 422, "validation_error"),
        ({**body, "extra": 1}, 422, "validation_error"),
    ):
        r = await client.post("/api/v1/response-plans", headers=admin, json=bad)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), bad
    r = await client.put(f"/api/v1/response-plans/{plan['id']}", headers=admin, json={**body, "units": 2})
    assert r.status_code == 200 and r.json()["units"] == 2
    assert (await client.post("/api/v1/response-plans", headers=dispatcher, json=body)).status_code == 403
    assert (await client.delete(f"/api/v1/response-plans/{plan['id']}", headers=admin)).status_code == 204
    r = await client.delete(f"/api/v1/response-plans/{plan['id']}", headers=admin)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "plan_not_found")
    audited = await rows(
        database_url,
        "SELECT action FROM audit_log WHERE entity_type = 'response_plan' AND entity_id = %s ORDER BY id",
        plan["id"],
    )
    assert audited == [("created",), ("updated",), ("deleted",)]
