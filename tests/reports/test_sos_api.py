"""One-press SOS: a priority-1 incident at once, the nearest officers, and the caller's live trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jogo_dispatch.geo.cells import cells_for_point
from tests.reports.helpers import MALANG, citizen, fleet, offset, rows


async def test_sos_opens_a_priority_one_incident_with_the_nearest_officers(
    client, actors, database_url, events
):
    officers = await fleet(client, actors, [900.0, 150.0, 400.0])
    user_id, me = await citizen(client, name="Bu Ani")
    r = await client.post(
        "/api/v1/sos",
        headers={**me, "X-Device-Id": "hp-ani"},
        json={"lat": MALANG[0], "lon": MALANG[1], "accuracy_m": 12},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    nearest = [n["officer_id"] for n in body["nearest"]]
    assert nearest == [officers[1][0], officers[2][0], officers[0][0]]
    assert body["nearest"][0]["distance_m"] == pytest.approx(150.0, abs=2.0)
    assert body["nearest"][0]["eta_s"] > 0
    assert body["status"] == "new" and body["shortfall_reason"] == "none_available"  # 3 of sos_nearest_k=5
    [inc] = await rows(
        database_url,
        "SELECT priority, status, category, source, reporter_id, lat, lon, "
        "h3_r9 FROM incidents WHERE id = %s",
        body["incident_id"],
    )
    assert inc == (1, "new", "sos", "sos", user_id, MALANG[0], MALANG[1], cells_for_point(*MALANG)[0])
    [(caller,)] = await rows(
        database_url, "SELECT data->'caller' FROM incidents WHERE id = %s", body["incident_id"]
    )
    assert caller["name"] == "Bu Ani" and caller["phone"].startswith("+62")  # the desk calls back
    assert await rows(database_url, "SELECT citizen_id, incident_id, device_id FROM sos_calls") == [
        (user_id, body["incident_id"], "hp-ani")
    ]
    [alert] = await rows(
        database_url, "SELECT kind, incident_id, jsonb_array_length(data->'nearest') FROM alerts"
    )
    assert alert == ("citizen_sos", body["incident_id"], 3)
    [published] = [e["incident"] for e in events.of("incident")]
    assert published["priority"] == 1 and [n["officer_id"] for n in published["nearest"]] == nearest

    again = await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0] + 0.001, "lon": MALANG[1]})
    assert again.status_code == 200 and again.json()["created"] is False
    assert (again.json()["incident_id"], again.json()["sos_id"]) == (body["incident_id"], body["sos_id"])
    assert await rows(database_url, "SELECT count(*), count(DISTINCT sos_id) FROM sos_points") == [(2, 1)]
    assert (await rows(database_url, "SELECT count(*) FROM incidents"))[0][0] == 1


async def test_live_location_moves_the_incident_and_keeps_a_trail(client, actors, database_url, events):
    _, me = await citizen(client)
    _, stranger = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    started = (await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0], "lon": MALANG[1]})).json()
    sos_id, incident_id = started["sos_id"], started["incident_id"]
    moved = offset(*MALANG, 300.0, 200.0)
    r = await client.post(
        f"/api/v1/sos/{sos_id}/location", headers=me, json={"lat": moved[0], "lon": moved[1], "accuracy_m": 8}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["lat"], r.json()["lon"], r.json()["points"]) == (moved[0], moved[1], 2)
    assert await rows(database_url, "SELECT lat, lon, h3_r9 FROM incidents WHERE id = %s", incident_id) == [
        (moved[0], moved[1], cells_for_point(*moved)[0])
    ]
    assert events.of("incident")[-1]["incident"]["lat"] == moved[0]
    # A late fix (recorded before the newest) joins the trail without moving the incident back.
    late = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    r = await client.post(
        f"/api/v1/sos/{sos_id}/location",
        headers=me,
        json={"lat": MALANG[0], "lon": MALANG[1], "recorded_at": late},
    )
    assert r.status_code == 200 and r.json()["lat"] == moved[0] and r.json()["points"] == 3
    trail = (await client.get(f"/api/v1/sos/{sos_id}", headers=dispatcher)).json()["trail"]
    assert len(trail) == 3 and trail[0]["recorded_at"] < trail[1]["recorded_at"]
    assert (await client.get(f"/api/v1/sos/{sos_id}", headers=me)).status_code == 200

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    bad = [
        (me, {"lat": 91, "lon": 0}, 422),
        (me, {"lat": 0, "lon": 0}, 422),
        (me, {"lat": -7.9, "lon": 112.6, "recorded_at": future}, 400),
        (me, {"lat": -7.9, "lon": 112.6, "recorded_at": "2026-01-01T00:00:00"}, 422),
        (stranger, {"lat": -7.9, "lon": 112.6}, 404),
        (dispatcher, {"lat": -7.9, "lon": 112.6}, 403),
        ({}, {"lat": -7.9, "lon": 112.6}, 401),
    ]
    for headers, body, status in bad:
        r = await client.post(f"/api/v1/sos/{sos_id}/location", headers=headers, json=body)
        assert r.status_code == status, (body, r.text)
    assert (await client.get(f"/api/v1/sos/{sos_id}", headers=stranger)).status_code == 404
    assert (await rows(database_url, "SELECT count(*) FROM sos_points"))[0][0] == 3

    r = await client.post(
        f"/api/v1/incidents/{incident_id}/status",
        headers=dispatcher,
        json={"status": "cancelled", "reason": "caller safe"},
    )
    assert r.status_code == 200
    r = await client.post(f"/api/v1/sos/{sos_id}/location", headers=me, json={"lat": -7.9, "lon": 112.6})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "sos_closed")
    # a new press after the first SOS is over opens a new one
    fresh = await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0], "lon": MALANG[1]})
    assert fresh.status_code == 201 and fresh.json()["incident_id"] != incident_id


async def test_sos_is_for_citizens(client, actors, database_url):
    dispatcher = await actors.user("dispatcher")
    _, officer = await actors.officer()
    for headers, status in (({}, 401), (dispatcher, 403), (officer, 403)):
        r = await client.post("/api/v1/sos", headers=headers, json={"lat": MALANG[0], "lon": MALANG[1]})
        assert r.status_code == status
    _, me = await citizen(client)
    for body in ({"lat": MALANG[0]}, {"lat": "x", "lon": 1}, {"lat": 1, "lon": 2, "accuracy_m": -1}):
        assert (await client.post("/api/v1/sos", headers=me, json=body)).status_code == 422
    assert await rows(database_url, "SELECT count(*) FROM incidents") == [(0,)]


async def test_the_caller_ends_the_sos_and_the_command_centre_hears_of_it(
    client, actors, database_url, events
):
    user_id, me = await citizen(client, name="Bu Ani")
    _, stranger = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    _, officer = await actors.officer()
    started = (await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0], "lon": MALANG[1]})).json()
    sos_id, incident_id = started["sos_id"], started["incident_id"]
    running = (await client.get(f"/api/v1/sos/{sos_id}", headers=me)).json()
    assert (running["ended_at"], running["ended_by"], running["end_reason"]) == (None, None, None)

    for headers, status, code in (
        ({}, 401, "unauthorized"),
        (officer, 403, "wrong_role"),
        (await actors.user("agency"), 403, "wrong_role"),
        (stranger, 404, "sos_not_found"),
    ):
        r = await client.post(f"/api/v1/sos/{sos_id}/end", headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert (await client.post("/api/v1/sos/999999/end", headers=me)).status_code == 404
    bad = await client.post(f"/api/v1/sos/{sos_id}/end", headers=me, json={"reason": "x" * 501})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "validation_error")
    assert events.of("sos_ended") == []

    r = await client.post(f"/api/v1/sos/{sos_id}/end", headers=me, json={"reason": "saya sudah aman"})
    assert r.status_code == 200, r.text
    ended = r.json()
    assert set(ended) == set(running)  # the SOS view, as GET /sos/{id} answers it
    assert (ended["sos_id"], ended["incident_id"], ended["status"]) == (sos_id, incident_id, "new")
    assert (ended["ended_by"], ended["end_reason"]) == (user_id, "saya sudah aman")
    assert ended["ended_at"] is not None and len(ended["trail"]) == 1
    assert (await client.get(f"/api/v1/sos/{sos_id}", headers=dispatcher)).json() == ended
    [published] = events.of("sos_ended")
    assert published == {
        "sos_id": sos_id,
        "incident_id": incident_id,
        "incident_status": "new",
        "lat": MALANG[0],
        "lon": MALANG[1],
        "ended_by": user_id,
        "by_role": "citizen",
        "reason": "saya sudah aman",
    }
    timeline = (await client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=dispatcher)).json()
    [entry] = [e for e in timeline["items"] if e["action"] == "sos_ended"]
    assert (entry["actor_id"], entry["reason"], entry["data"]) == (
        user_id,
        "saya sudah aman",
        {"sos_id": sos_id, "by_role": "citizen"},
    )
    # The incident stays open for the dispatcher; nothing else changed.
    assert await rows(database_url, "SELECT status FROM incidents WHERE id = %s", incident_id) == [("new",)]

    # Ending again (the caller retrying, or a dispatcher) answers the same and records nothing more.
    for headers in (me, dispatcher):
        again = await client.post(f"/api/v1/sos/{sos_id}/end", headers=headers)
        assert again.status_code == 200 and again.json() == ended
    assert len(events.of("sos_ended")) == 1
    assert await rows(
        database_url,
        "SELECT count(*) FROM audit_log WHERE action = 'sos_ended' AND entity_id = %s",
        incident_id,
    ) == [(1,)]

    r = await client.post(f"/api/v1/sos/{sos_id}/location", headers=me, json={"lat": -7.9, "lon": 112.6})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "sos_ended")
    assert r.json()["error"]["details"]["incident_status"] == "new"
    assert (await rows(database_url, "SELECT count(*) FROM sos_points"))[0][0] == 1
    # A new press is a new SOS (and a new alarm), not the ended one.
    fresh = await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0], "lon": MALANG[1]})
    assert fresh.status_code == 201 and fresh.json()["sos_id"] != sos_id


async def test_a_dispatcher_ends_an_sos(client, actors, database_url, events):
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    started = (await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0], "lon": MALANG[1]})).json()
    r = await client.post(f"/api/v1/sos/{started['sos_id']}/end", headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["end_reason"] is None and r.json()["ended_by"] is not None
    [published] = events.of("sos_ended")
    assert published["by_role"] == "dispatcher" and published["reason"] is None
    [(reason,)] = await rows(database_url, "SELECT reason FROM audit_log WHERE action = 'sos_ended'")
    assert reason == "SOS ended by the dispatcher"
