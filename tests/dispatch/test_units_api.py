"""Several units per incident over HTTP on real PostGIS: each unit's own CAD times, the incident as far as
its furthest unit and resolved with its last one, backup, the panic button, and batch assignment that
knows how many units an incident still needs."""

from __future__ import annotations

from tests.reports.helpers import MALANG, citizen, fleet, rows, verified_incident


async def post(client, headers, path, body=None):
    return await client.post(path, headers=headers, json=body)


async def accept(client, dispatcher, officer_headers, incident, officer_id):
    r = await post(client, dispatcher, f"/api/v1/incidents/{incident}/dispatch", {"officer_id": officer_id})
    assert r.status_code == 201, r.text
    r = await post(client, officer_headers, f"/api/v1/offers/{r.json()['id']}/accept")
    assert r.status_code == 200, r.text


async def detail(client, dispatcher, incident):
    return (await client.get(f"/api/v1/incidents/{incident}", headers=dispatcher)).json()


async def test_two_units_each_with_its_own_times_and_the_incident_resolves_with_the_last(
    client, actors, database_url
):
    (o1, h1), (o2, h2), (o3, _) = await fleet(client, actors, [150.0, 300.0, 450.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    incident = await verified_incident(client, me, dispatcher)
    await accept(client, dispatcher, h1, incident, o1)
    assert (await detail(client, dispatcher, incident))["shortfall"] == 0
    await accept(client, dispatcher, h2, incident, o2)  # a second unit on an incident that has one
    seen = await detail(client, dispatcher, incident)
    assert (seen["status"], seen["officer_id"], seen["units_needed"], seen["shortfall"]) == (
        "dispatched",
        o1,
        2,
        0,
    )
    assert [(u["officer_id"], u["state"]) for u in seen["units"]] == [(o1, "dispatched"), (o2, "dispatched")]
    # the same officer twice, and an officer busy with this one for another incident, are refused
    twice = await post(client, dispatcher, f"/api/v1/incidents/{incident}/dispatch", {"officer_id": o1})
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_assigned")
    other = await verified_incident(client, me, dispatcher, category="crime", description="Copet")
    busy = await post(client, dispatcher, f"/api/v1/incidents/{other}/dispatch", {"officer_id": o2})
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "officer_unavailable")

    status = f"/api/v1/incidents/{incident}/status"
    assert (await post(client, h2, status, {"status": "en_route"})).json()["status"] == "en_route"
    assert (await post(client, h2, status, {"status": "on_scene"})).json()["status"] == "on_scene"
    skip = await post(client, h1, status, {"status": "on_scene"})  # o1 is not en route yet
    assert (skip.status_code, skip.json()["error"]["code"]) == (409, "invalid_transition")
    assert (await post(client, h1, status, {"status": "en_route"})).json()["status"] == "on_scene"
    seen = await detail(client, dispatcher, incident)
    units = {u["officer_id"]: u for u in seen["units"]}
    assert (units[o1]["state"], units[o2]["state"]) == ("en_route", "on_scene")
    assert units[o2]["on_scene_at"] and units[o1]["on_scene_at"] is None
    assert (await post(client, h1, status, {"status": "on_scene"})).json()["status"] == "on_scene"

    # o2 clears: the incident stays with o1; o1 clears with "resolved": the incident is resolved
    r = await post(client, h2, status, {"status": "resolved", "reason": "korban dibawa ke RS"})
    assert r.status_code == 200 and r.json()["status"] == "on_scene", r.text
    assert await rows(database_url, "SELECT status FROM officers WHERE id = %s", o2) == [("available",)]
    assert await rows(database_url, "SELECT status FROM officers WHERE id = %s", o1) == [("busy",)]
    r = await post(client, h1, status, {"status": "resolved"})
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text
    seen = await detail(client, dispatcher, incident)
    assert {u["state"] for u in seen["units"]} == {"cleared"} and seen["shortfall"] == 0
    assert await rows(database_url, "SELECT status FROM officers WHERE id = %s", o1) == [("available",)]
    actions = await rows(
        database_url,
        "SELECT action FROM audit_log WHERE entity_type = 'incident' AND entity_id = %s ORDER BY id",
        incident,
    )
    assert ("unit_added",) in actions and ("unit_cleared",) in actions
    # KPIs per unit: both units reached the scene; per incident: the first one
    stats = (await client.get("/api/v1/stats", headers=dispatcher)).json()["times"]
    assert stats["unit_to_scene"]["n"] >= 2 and stats["to_scene"]["n"] >= 1
    assert o3  # never involved


async def test_an_officer_asks_for_backup_and_the_nearest_get_offers(client, actors, database_url, events):
    (o1, h1), (o2, _), (o3, _), (o4, h4) = await fleet(client, actors, [100.0, 200.0, 300.0, 5000.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    incident = await verified_incident(client, me, dispatcher)
    await accept(client, dispatcher, h1, incident, o1)
    path = f"/api/v1/incidents/{incident}/backup"
    stranger = await post(client, h4, path, {"units": 1})
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "incident_not_found")
    for bad in ({"units": 0}, {"units": 9}, {"units": "two"}, {"extra": True}):
        r = await post(client, h1, path, bad)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), bad
    r = await post(client, h1, path, {"units": 2, "reason": "massa mulai ramai"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert sorted(o["officer_id"] for o in body["offers"]) == sorted([o2, o3])
    assert (body["incident"]["units_needed"], body["incident"]["shortfall"]) == (3, 0)
    [(kind, text)] = await rows(
        database_url, "SELECT kind, message FROM alerts WHERE incident_id = %s", incident
    )
    assert kind == "backup_requested" and "massa mulai ramai" in text
    offered = {e["officer_id"] for e in events.of("officer_message") if e["message"]["type"] == "offer"}
    assert {o2, o3} <= offered
    await post(client, dispatcher, f"/api/v1/incidents/{incident}/status", {"status": "cancelled"})
    closed = await post(client, h1, path, {"units": 1})
    assert (closed.status_code, closed.json()["error"]["code"]) in (
        (404, "incident_not_found"),
        (409, "incident_closed"),
    )


async def test_the_panic_button_offers_the_two_nearest_at_once(client, actors, database_url):
    (o1, h1), (o2, _), (o3, _), (o4, _) = await fleet(client, actors, [0.0, 250.0, 500.0, 900.0])
    r = await post(client, h1, "/api/v1/me/panic", {"lat": MALANG[0], "lon": MALANG[1]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["category"], body["priority"], body["source"]) == ("officer_sos", 1, "officer_sos")
    offers = await rows(
        database_url, "SELECT officer_id, status FROM offers WHERE incident_id = %s ORDER BY 1", body["id"]
    )
    assert offers == sorted([(o2, "pending"), (o3, "pending")])
    [(kind,)] = await rows(database_url, "SELECT kind FROM alerts WHERE officer_id = %s", o1)
    assert kind == "officer_distress"
    again = await post(client, h1, "/api/v1/me/panic")  # pressed again, no body: the open one, same offers
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert len(await rows(database_url, "SELECT 1 FROM offers WHERE incident_id = %s", body["id"])) == 2
    assert (await post(client, await actors.user("dispatcher"), "/api/v1/me/panic")).status_code == 403
    assert o4


async def test_batch_assignment_gives_an_incident_as_many_officers_as_it_still_needs(
    client, actors, database_url
):
    (o1, h1), (o2, _), (o3, _) = await fleet(client, actors, [100.0, 200.0, 300.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    incident = await verified_incident(client, me, dispatcher)
    await accept(client, dispatcher, h1, incident, o1)
    await post(client, h1, f"/api/v1/incidents/{incident}/backup", {"units": 2})
    # withdraw the two backup offers: the incident is short of two units again
    for (offer_id,) in await rows(database_url, "SELECT id FROM offers WHERE status = 'pending'"):
        assert (await post(client, dispatcher, f"/api/v1/offers/{offer_id}/cancel")).status_code == 200
    assert (await detail(client, dispatcher, incident))["shortfall"] == 2
    r = await post(client, dispatcher, "/api/v1/dispatch/batch", {"apply": True})
    assert r.status_code == 200, r.text
    assert sorted(p["unit_id"] for p in r.json()["assignments"]) == sorted([o2, o3])
    assert {p["job_id"] for p in r.json()["assignments"]} == {incident}
    assert len(r.json()["offers"]) == 2 and r.json()["incidents"] == 1
