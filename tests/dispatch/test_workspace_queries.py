"""What the dispatcher's map asks for besides incidents: officers found by badge or name, and the time a
report waited for verification counted from its arrival."""

from __future__ import annotations

from tests.reports.helpers import citizen, execute, file_report


async def test_officers_are_found_by_badge_or_name(client, actors):
    dispatcher, admin = await actors.user("dispatcher"), await actors.user("admin")
    ids = []
    for badge, name in (
        ("MLG-7701", "Bripka Sutrisno"),
        ("MLG-7702", "Briptu Sutini"),
        ("MLG-77", "Aipda Rahmat"),
    ):
        body = {"badge": badge, "name": name, "unit_type": "car", "password": "secret-pw-1"}
        r = await client.post("/api/v1/officers", headers=admin, json=body)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    badge = "MLG-77"  # also part of the other two badges: the exact one comes first
    r = await client.get("/api/v1/officers", params={"q": badge.lower()}, headers=dispatcher)
    assert r.status_code == 200 and [o["id"] for o in r.json()] == [ids[2], ids[0], ids[1]]
    found = (await client.get("/api/v1/officers", params={"q": "SUTRI"}, headers=dispatcher)).json()
    assert [o["id"] for o in found] == [ids[0]]
    found = (await client.get("/api/v1/officers", params={"q": "sut"}, headers=dispatcher)).json()
    assert {o["id"] for o in found} == {ids[0], ids[1]}
    for literal in ("%", "_", "\\"):
        assert (await client.get("/api/v1/officers", params={"q": literal}, headers=dispatcher)).json() == []
    r = await client.get("/api/v1/officers", params={"q": "x" * 101}, headers=dispatcher)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")


async def test_time_to_verify_counts_from_the_reports_arrival(client, actors, database_url):
    dispatcher = await actors.user("dispatcher")
    _, me = await citizen(client)
    report = await file_report(client, me)
    await execute(
        database_url,
        "UPDATE reports SET created_at = created_at - interval '300 seconds' WHERE id = %s",
        report["id"],
    )
    r = await client.post(f"/api/v1/reports/{report['id']}/verify", headers=dispatcher)
    assert r.status_code == 200, r.text
    stats = (await client.get("/api/v1/stats", headers=dispatcher)).json()
    assert stats["times"]["to_verify"]["n"] == 1
    assert 299 <= stats["times"]["to_verify"]["median_s"] < 400
