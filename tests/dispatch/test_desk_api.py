"""The incident desk over HTTP on real PostGIS: call-taking, on-view, responders by ETA with how each is
reached, assigning by radio, notes, edits with a version, and closing early with a reason."""

from __future__ import annotations

import time

from tests.reports.helpers import MALANG, fleet, offset, rows


def call(**overrides):
    lat, lon = MALANG
    body = {
        "category": "traffic_accident",
        "lat": lat,
        "lon": lon,
        "address": "Jl. Ijen 12",
        "caller_name": "Pak Budi",
        "caller_phone": "0812 3456 7890",
        "narrative": "Dua motor bertabrakan, satu korban luka",
        "source": "phone",
    }
    body.update(overrides)
    return body


async def count(database_url, sql, *params) -> int:
    return int((await rows(database_url, sql, *params))[0][0])


async def test_a_call_taker_makes_a_verified_incident_with_responders_by_eta_and_link_candidates(
    client, actors, database_url
):
    dispatcher = await actors.user("dispatcher")
    # on foot 200 m away, by car 800 m away: the car arrives first
    [(walker, _)] = await fleet(client, actors, [200.0], unit="foot")
    [(driver, _)] = await fleet(client, actors, [800.0], unit="car")
    r = await client.post("/api/v1/incidents", headers=dispatcher, json=call())
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["source"], body["priority"], body["category"]) == (
        "verified",
        "phone",
        2,  # the category's default priority
        "traffic_accident",
    )
    assert body["data"]["caller"] == {"name": "Pak Budi", "phone": "0812 3456 7890"}
    assert body["description"].startswith("Dua motor") and body["address"] == "Jl. Ijen 12"
    assert body["version"] >= 1 and body["notes"] == [] and body["link_candidates"] == []
    nearest = body["nearest"]
    assert [n["officer_id"] for n in nearest] == [driver, walker]
    assert nearest[0]["eta_s"] < nearest[1]["eta_s"] and nearest[0]["distance_m"] > nearest[1]["distance_m"]
    assert all(n["can_offer"] and n["channel"] == "api" and n["position_age_s"] >= 0 for n in nearest)
    audited = await rows(
        database_url,
        "SELECT action, to_state FROM audit_log WHERE entity_type = 'incident' AND entity_id = %s ORDER BY id",
        body["id"],
    )
    assert audited == [("created", "new"), ("transition", "verified")]

    # a second call about the same crash: the first incident is offered to link instead
    lat, lon = offset(*MALANG, 40.0, 0.0)
    again = await client.post(
        "/api/v1/incidents", headers=dispatcher, json=call(lat=lat, lon=lon, source="radio")
    )
    assert again.status_code == 201, again.text
    assert [i["id"] for i in again.json()["link_candidates"]] == [body["id"]]
    other = await client.post("/api/v1/incidents", headers=dispatcher, json=call(category="fallen_tree"))
    assert other.json()["link_candidates"] == [] and other.json()["priority"] == 3


async def test_bad_calls_are_refused_clearly_and_store_nothing(client, actors, database_url):
    dispatcher = await actors.user("dispatcher")
    before = await count(database_url, "SELECT count(*) FROM incidents")
    for body, status, code in (
        (call(category="ufo_landing"), 400, "unknown_category"),
        (call(lat=91), 422, "validation_error"),
        (call(lon="east"), 422, "validation_error"),
        (call(source="carrier_pigeon"), 422, "validation_error"),
        (call(priority=9), 422, "validation_error"),
        ({**call(), "officer_id": 3}, 422, "validation_error"),
        ({"lat": MALANG[0], "lon": MALANG[1]}, 422, "validation_error"),
    ):
        r = await client.post("/api/v1/incidents", headers=dispatcher, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    for role in ("citizen", "agency"):
        r = await client.post("/api/v1/incidents", headers=await actors.user(role), json=call())
        assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_role"), role
    assert await count(database_url, "SELECT count(*) FROM incidents") == before


async def test_an_officer_on_view_holds_the_incident_at_once_on_scene(client, actors, database_url):
    [(oid, officer)] = await fleet(client, actors, [0.0])
    r = await client.post(
        "/api/v1/incidents", headers=officer, json=call(category="public_order", source="phone")
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["source"], body["officer_id"]) == ("on_scene", "officer", oid)
    assert body["on_scene_at"] and body["dispatched_at"] and body["nearest"] is None
    [(status,)] = await rows(database_url, "SELECT status FROM officers WHERE id = %s", oid)
    assert status == "busy"
    [(offer_status, created_by)] = await rows(
        database_url, "SELECT status, created_by IS NOT NULL FROM offers WHERE incident_id = %s", body["id"]
    )
    assert (offer_status, created_by) == ("accepted", True)
    # busy now: a second on-view while the first is open is refused, nothing made
    before = await count(database_url, "SELECT count(*) FROM incidents")
    r = await client.post("/api/v1/incidents", headers=officer, json=call())
    assert (r.status_code, r.json()["error"]["code"]) == (409, "officer_unavailable")
    assert await count(database_url, "SELECT count(*) FROM incidents") == before
    # resolving it frees the officer
    done = await client.post(
        f"/api/v1/incidents/{body['id']}/status", headers=officer, json={"status": "resolved"}
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    [(status,)] = await rows(database_url, "SELECT status FROM officers WHERE id = %s", oid)
    assert status == "available"


async def test_a_tracker_only_officer_is_marked_and_assigned_by_radio(client, actors, database_url, events):
    dispatcher = await actors.user("dispatcher")
    oid, _ = await actors.officer(device_id="traccar-radio-1")
    lat, lon = offset(*MALANG, 300.0, 0.0)
    r = await client.get(f"/osmand?id=traccar-radio-1&lat={lat}&lon={lon}&timestamp={int(time.time())}")
    assert r.status_code == 200, r.text
    [(app_officer, app_headers)] = await fleet(client, actors, [600.0])
    created = (await client.post("/api/v1/incidents", headers=dispatcher, json=call())).json()
    by_id = {n["officer_id"]: n for n in created["nearest"]}
    assert (by_id[oid]["can_offer"], by_id[oid]["channel"]) == (False, "osmand")
    assert by_id[app_officer]["can_offer"] is True

    # an offer is pending for the phone-app officer; the dispatcher gives it to the tracker one by radio
    offered = await client.post(
        f"/api/v1/incidents/{created['id']}/dispatch", headers=dispatcher, json={"officer_id": app_officer}
    )
    assert offered.status_code == 201, offered.text
    r = await client.post(
        f"/api/v1/incidents/{created['id']}/assign", headers=dispatcher, json={"officer_id": oid}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["officer_id"], r.json()["status"]) == (oid, "accepted")
    detail = (await client.get(f"/api/v1/incidents/{created['id']}", headers=dispatcher)).json()
    assert (detail["status"], detail["officer_id"]) == ("dispatched", oid)
    states = {o["officer_id"]: o["status"] for o in detail["offers"]}
    assert states == {app_officer: "cancelled", oid: "accepted"}
    withdrawn = [e for e in events.of("officer_message") if e["officer_id"] == app_officer]
    assert withdrawn[-1]["message"]["type"] == "offer_withdrawn"
    assigned = [e for e in events.of("officer_message") if e["officer_id"] == oid]
    assert assigned[-1]["message"]["type"] == "incident_assigned"
    audited = await rows(
        database_url,
        "SELECT action, reason FROM audit_log WHERE entity_type = 'offer' AND entity_id = %s",
        r.json()["id"],
    )
    assert audited == [("assigned", "assigned by radio")]

    # a second officer by radio is one more unit; the same officer twice is refused
    again = await client.post(
        f"/api/v1/incidents/{created['id']}/assign", headers=dispatcher, json={"officer_id": app_officer}
    )
    assert again.status_code == 200, again.text
    detail = (await client.get(f"/api/v1/incidents/{created['id']}", headers=dispatcher)).json()
    assert {u["officer_id"] for u in detail["units"]} == {oid, app_officer}
    assert (detail["units_needed"], detail["shortfall"], detail["officer_id"]) == (2, 0, oid)
    twice = await client.post(
        f"/api/v1/incidents/{created['id']}/assign", headers=dispatcher, json={"officer_id": oid}
    )
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_assigned")
    second = (await client.post("/api/v1/incidents", headers=dispatcher, json=call(category="crime"))).json()
    busy = await client.post(
        f"/api/v1/incidents/{second['id']}/assign", headers=dispatcher, json={"officer_id": oid}
    )
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "officer_unavailable")
    missing = await client.post(
        f"/api/v1/incidents/{second['id']}/assign", headers=dispatcher, json={"officer_id": 999999}
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "officer_not_found")
    assert (
        await client.post(
            f"/api/v1/incidents/{second['id']}/assign", headers=app_headers, json={"officer_id": app_officer}
        )
    ).status_code == 403

    # the dispatcher closes it before the unit is on scene, with a reason
    closed = await client.post(
        f"/api/v1/incidents/{created['id']}/status",
        headers=dispatcher,
        json={"status": "resolved", "reason": "cleared by the radio unit"},
    )
    assert closed.status_code == 200 and closed.json()["status"] == "resolved", closed.text
    freed = await rows(database_url, "SELECT status FROM officers WHERE id IN (%s, %s)", oid, app_officer)
    assert freed == [("available",), ("available",)]


async def test_notes_by_dispatchers_and_the_officer_on_it_in_the_incident_and_its_timeline(
    client, actors, database_url, events
):
    dispatcher = await actors.user("dispatcher")
    [(oid, officer)] = await fleet(client, actors, [100.0])
    [(_, stranger)] = await fleet(client, actors, [150.0])
    incident = (await client.post("/api/v1/incidents", headers=dispatcher, json=call())).json()
    r = await client.post(
        f"/api/v1/incidents/{incident['id']}/notes",
        headers=dispatcher,
        json={"text": "  Penelepon menunggu di SPBU  "},
    )
    assert r.status_code == 201, r.text
    note = r.json()
    assert (note["text"], note["author_role"], note["incident_id"]) == (
        "Penelepon menunggu di SPBU",
        "dispatcher",
        incident["id"],
    )
    [live] = events.of("incident_note")
    assert live["note"]["id"] == note["id"] and live["agency_ids"] == []
    # an officer writes on the incident they hold only
    path = f"/api/v1/incidents/{incident['id']}/notes"
    r = await client.post(path, headers=officer, json={"text": "Sudah di lokasi"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "incident_not_found")
    await client.post(
        f"/api/v1/incidents/{incident['id']}/assign", headers=dispatcher, json={"officer_id": oid}
    )
    assert (await client.post(path, headers=officer, json={"text": "Sudah di lokasi"})).status_code == 201
    assert (await client.post(path, headers=stranger, json={"text": "saya juga"})).status_code == 404
    for bad in ({"text": "   "}, {"text": ""}, {}, {"text": "x" * 4001}, {"text": "ok", "extra": 1}):
        r = await client.post(path, headers=dispatcher, json=bad)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), bad
    assert (
        await client.post(path, headers=await actors.user("citizen"), json={"text": "hi"})
    ).status_code == 403
    agency = await client.post(path, headers=await actors.user("agency"), json={"text": "hi"})
    assert agency.status_code == 404  # not forwarded to it (and this login has no agency at all)

    detail = (await client.get(f"/api/v1/incidents/{incident['id']}", headers=dispatcher)).json()
    assert [(n["author_role"], n["text"]) for n in detail["notes"]] == [
        ("dispatcher", "Penelepon menunggu di SPBU"),
        ("officer", "Sudah di lokasi"),
    ]
    timeline = (await client.get(f"/api/v1/incidents/{incident['id']}/timeline", headers=dispatcher)).json()
    notes = [e for e in timeline["items"] if e["action"] == "note"]
    assert [e["reason"] for e in notes] == ["Penelepon menunggu di SPBU", "Sudah di lokasi"]
    # who wrote each, by name and role; a person's words have no reason code
    me = (await client.get("/api/v1/me", headers=dispatcher)).json()
    assert [(e["actor_role"], e["reason_code"]) for e in notes] == [("dispatcher", None), ("officer", None)]
    assert notes[0]["actor_id"] == me["user_id"] and notes[0]["actor_name"]
    assert notes[1]["actor_name"] and notes[1]["actor_name"] != notes[0]["actor_name"]
    # the system's own reasons carry a code and its values for the page to translate, beside the English
    created, verified = timeline["items"][:2]
    assert (created["reason_code"], created["reason_params"]) == ("taken_at_desk", {"source": "phone"})
    assert created["reason"] == "taken at the desk (phone)" and created["actor_role"] == "dispatcher"
    assert (verified["reason_code"], verified["reason_params"], verified["reason"]) == ("taken", {}, "taken")
    assert (
        await count(
            database_url, "SELECT count(*) FROM incident_notes WHERE incident_id = %s", incident["id"]
        )
        == 2
    )


async def test_an_edit_names_the_version_it_saw_and_a_stale_one_is_409(client, actors, database_url):
    dispatcher = await actors.user("dispatcher")
    incident = (await client.post("/api/v1/incidents", headers=dispatcher, json=call())).json()
    path = f"/api/v1/incidents/{incident['id']}"
    seen = incident["version"]
    lat, lon = offset(*MALANG, 120.0, 50.0)
    r = await client.patch(
        path,
        headers=dispatcher,
        json={
            "version": seen,
            "priority": 1,
            "lat": lat,
            "lon": lon,
            "address": "Jl. Ijen 40",
            "reason": "caller",
        },
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["priority"], edited["lat"], edited["address"]) == (1, lat, "Jl. Ijen 40")
    assert edited["version"] > seen
    [(data, reason)] = await rows(
        database_url,
        "SELECT data, reason FROM audit_log WHERE entity_type = 'incident' AND entity_id = %s AND action = 'edited'",
        incident["id"],
    )
    assert reason == "caller" and data["changes"]["priority"] == [2, 1] and data["version"] == seen
    assert data["changes"]["location"][1] == [lat, lon]

    # a second dispatcher who still holds the old version is told, with the incident as it is now
    stale = await client.patch(path, headers=dispatcher, json={"version": seen, "priority": 4})
    assert stale.status_code == 409, stale.text
    error = stale.json()["error"]
    assert error["code"] == "stale_incident" and error["details"]["version"] == edited["version"]
    assert error["details"]["incident"]["priority"] == 1
    # a category change brings the category's priority unless one is given
    r = await client.patch(
        path, headers=dispatcher, json={"version": edited["version"], "category": "fallen_tree"}
    )
    assert r.status_code == 200 and (r.json()["category"], r.json()["priority"]) == ("fallen_tree", 3)
    current = r.json()["version"]
    for bad, status, code in (
        ({"version": current, "lat": 1.0}, 422, "validation_error"),
        ({"version": current, "category": "ufo_landing"}, 400, "unknown_category"),
        ({"priority": 1}, 422, "validation_error"),
        ({"version": current, "status": "resolved"}, 422, "validation_error"),
    ):
        r = await client.patch(path, headers=dispatcher, json=bad)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), bad
    after = (await client.get(path, headers=dispatcher)).json()
    assert (after["category"], after["priority"], after["version"]) == ("fallen_tree", 3, current)
    officer = (await fleet(client, actors, [10.0]))[0][1]
    assert (
        await client.patch(path, headers=officer, json={"version": current, "priority": 2})
    ).status_code == 403
    assert (
        await client.patch("/api/v1/incidents/999999", headers=dispatcher, json={"version": 1})
    ).status_code == 404
