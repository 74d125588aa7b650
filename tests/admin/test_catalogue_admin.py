"""Categories in the admin console: names, priority, reward points (used by rewards), on/off; audited."""

from __future__ import annotations

from tests.admin.helpers import audit_rows
from tests.reports.helpers import citizen, file_report


async def test_create_edit_switch_off_and_audit(client, actors, database_url):
    admin = await actors.user("admin")
    body = {"code": "stray_animal", "name_id": "Hewan liar", "name_en": "Stray animal", "default_priority": 4}
    r = await client.post("/api/v1/categories", headers=admin, json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["reward_points"] is None and made["points"] == 10 and made["active"] is True
    again = await client.post("/api/v1/categories", headers=admin, json=body)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "category_exists")
    public = {c["code"] for c in (await client.get("/api/v1/categories")).json()}
    assert "stray_animal" in public
    change = {**{k: v for k, v in body.items() if k != "code"}, "reward_points": 30, "active": False}
    r = await client.put("/api/v1/categories/stray_animal", headers=admin, json=change)
    assert r.status_code == 200 and r.json()["points"] == 30
    public = {c["code"] for c in (await client.get("/api/v1/categories")).json()}
    assert "stray_animal" not in public
    everything = {c["code"]: c for c in (await client.get("/api/v1/categories/all", headers=admin)).json()}
    assert everything["stray_animal"]["active"] is False
    actions = await audit_rows(database_url, "category", made["id"])
    assert [a[0] for a in actions] == ["created", "updated"]
    assert actions[1][5]["changes"] == {"reward_points": [None, 30], "active": [True, False]}
    assert (await client.put("/api/v1/categories/nope_x", headers=admin, json=change)).status_code == 404
    bad = await client.post("/api/v1/categories", headers=admin, json={**body, "code": "Bad Code"})
    assert bad.status_code == 422


async def test_a_verified_report_earns_the_category_points(client, actors):
    admin = await actors.user("admin")
    dispatcher = await actors.user("dispatcher")
    cat = next(
        c
        for c in (await client.get("/api/v1/categories/all", headers=admin)).json()
        if c["code"] == "road_damage"
    )
    fields = {k: cat[k] for k in ("name_id", "name_en", "default_priority", "active", "sort_order")}
    r = await client.put(
        "/api/v1/categories/road_damage", headers=admin, json={**fields, "reward_points": 42}
    )
    assert r.status_code == 200, r.text
    _, me = await citizen(client)
    rep = await file_report(client, me, category="road_damage")
    assert (await client.post(f"/api/v1/reports/{rep['id']}/verify", headers=dispatcher)).status_code == 200
    points = (await client.get("/api/v1/me/points", headers=me)).json()
    assert points["total"] == 42
    await client.put("/api/v1/categories/road_damage", headers=admin, json={**fields, "reward_points": None})
