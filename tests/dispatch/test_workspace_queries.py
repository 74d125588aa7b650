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


async def test_a_stale_position_is_dispatchable_with_its_age_and_an_eta_penalty(client, actors):
    """Traccar Client's default is a fix every 300 s: such an officer stays a candidate, marked stale, and
    ranks behind a fresh one a little further away."""
    from datetime import UTC, datetime, timedelta

    from tests.reports.helpers import MALANG, offset

    dispatcher = await actors.user("dispatcher")
    stale_id, stale_h = await actors.officer()
    fresh_id, fresh_h = await actors.officer()
    five_min_ago = (datetime.now(UTC) - timedelta(seconds=300)).isoformat()
    for headers, north, at in (
        (stale_h, 100.0, five_min_ago),
        (fresh_h, 400.0, datetime.now(UTC).isoformat()),
    ):
        lat, lon = offset(*MALANG, north, 0.0)
        r = await client.post(
            "/api/v1/pings", headers=headers, json={"lat": lat, "lon": lon, "recorded_at": at}
        )
        assert r.json()["accepted"] == 1, r.text
    near = (
        await client.get(
            "/api/v1/responders/nearest", headers=dispatcher, params={"lat": MALANG[0], "lon": MALANG[1]}
        )
    ).json()["items"]
    by_id = {c["officer_id"]: c for c in near}
    assert [c["officer_id"] for c in near] == [stale_id, fresh_id]  # by distance here
    assert by_id[stale_id]["stale"] is True and 290 <= by_id[stale_id]["position_age_s"] <= 400
    assert by_id[fresh_id]["stale"] is False
    body = {"category": "crime", "lat": MALANG[0], "lon": MALANG[1], "source": "phone"}
    ranked = (await client.post("/api/v1/incidents", headers=dispatcher, json=body)).json()["nearest"]
    assert [c["officer_id"] for c in ranked] == [fresh_id, stale_id]  # by ETA, the stale one penalised
    assert ranked[1]["eta_s"] > by_id[stale_id]["eta_s"]
