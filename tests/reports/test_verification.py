"""The verification queue, duplicate linking, rejection (and false reports), merge and split."""

from __future__ import annotations

from jogo_dispatch.errors import Conflict
from tests.reports.helpers import MALANG, citizen, execute, file_report, offset, rows, verified_incident


async def test_verify_creates_a_verified_incident_and_later_reports_are_linked(
    client, actors, database_url, events
):
    _, me = await citizen(client)
    _, neighbour = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    first = await file_report(client, me)
    r = await client.post(
        f"/api/v1/reports/{first['id']}/verify", headers=dispatcher, json={"note": "CCTV ok"}
    )
    assert r.status_code == 200, r.text
    incident_id = r.json()["incident_id"]
    assert r.json()["status"] == "verified" and r.json()["incident_status"] == "verified"
    [inc] = await rows(
        database_url,
        "SELECT status, priority, category, source, verified_at IS NOT NULL, "
        "verified_at >= received_at FROM incidents WHERE id = %s",
        incident_id,
    )
    assert inc == ("verified", 2, "traffic_accident", "report", True, True)

    near = offset(*MALANG, 250.0, 0.0)  # inside duplicate_radius_m (300)
    linked = await file_report(client, neighbour, lat=near[0], lon=near[1])
    assert linked["incident_id"] == incident_id and linked["duplicate"] is True
    assert linked["incident_status"] == "verified"
    far = offset(*MALANG, 400.0, 0.0)
    other_place = await file_report(client, neighbour, lat=far[0], lon=far[1])
    other_kind = await file_report(client, neighbour, category="crime", description="Jambret")
    assert other_place["incident_id"] is None and other_kind["incident_id"] is None
    counts = await rows(database_url, "SELECT incident_id, count(*) FROM reports GROUP BY 1 ORDER BY 1")
    assert counts == [(incident_id, 2), (None, 2)]
    # the live map heard the incident grow to two reports
    published = [e["incident"] for e in events.of("incident") if e["incident"]["id"] == incident_id]
    assert published[-1]["report_count"] == 2
    r = await client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=dispatcher)
    timeline = r.json()["items"]
    actions = [(e["entity_type"], e["action"]) for e in timeline]
    assert ("incident", "created") in actions and ("incident", "report_linked") in actions
    assert ("report", "verified") in actions and ("incident", "transition") in actions


async def test_no_link_to_old_or_closed_incidents(client, actors, database_url):
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    incident_id = await verified_incident(client, me, dispatcher)
    await execute(
        database_url,
        "UPDATE incidents SET received_at = now() - interval '2 hours' WHERE id = %s",
        incident_id,
    )
    assert (await file_report(client, me))["incident_id"] is None  # outside duplicate_window_s
    second = await verified_incident(client, me, dispatcher)
    assert second != incident_id
    r = await client.post(
        f"/api/v1/incidents/{second}/status",
        headers=dispatcher,
        json={"status": "cancelled", "reason": "handled by phone"},
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await file_report(client, me))["incident_id"] is None


async def test_queue_lists_received_reports_urgent_first_with_tracing_data(client, actors):
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    jam = await file_report(client, me, category="traffic_jam", description="Macet")
    fire = await file_report(client, me, category="fire", description="Api", lat=-7.95, lon=112.61)
    done = await file_report(client, me, category="crime", description="Maling", lat=-7.99, lon=112.64)
    await client.post(f"/api/v1/reports/{done['id']}/verify", headers=dispatcher)
    queue = await client.get("/api/v1/reports", headers=dispatcher, params={"status": "received"})
    assert queue.status_code == 200
    items = queue.json()["items"]
    assert [i["id"] for i in items] == [fire["id"], jam["id"]]
    assert items[0]["priority"] == 1 and items[0]["reporter_phone"].startswith("+62")
    assert items[0]["client_ip"] == "127.0.0.1" and items[0]["reporter_lat"] is not None
    verified = (await client.get("/api/v1/reports", headers=dispatcher, params={"status": "verified"})).json()
    assert [i["id"] for i in verified["items"]] == [done["id"]]
    r = await client.get("/api/v1/reports", headers=dispatcher, params={"status": "nope"})
    assert r.status_code == 422


async def test_reject_and_false_report_with_hook_in_the_same_unit_of_work(client, actors, app, database_url):
    citizen_id, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    plain = await file_report(client, me)
    hoax = await file_report(client, me, category="fire", description="Kebakaran besar (bohong)")
    r = await client.post(
        f"/api/v1/reports/{plain['id']}/reject",
        headers=dispatcher,
        json={"reason": "not_incident", "note": "informasi saja"},
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    seen: list[tuple[int, str]] = []

    async def refuse(session, report):
        seen.append((report.id, report.status))
        raise Conflict("strike service says no", code="test_refusal")

    async def record(session, report):
        seen.append((report.id, report.status))

    hooks = app.state.runtime.hooks.false_report
    hooks.append(refuse)
    try:
        r = await client.post(
            f"/api/v1/reports/{hoax['id']}/reject", headers=dispatcher, json={"reason": "false"}
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "test_refusal"
        # the hook ran inside the unit of work: its failure left the report untouched
        stored = await rows(database_url, "SELECT status FROM reports WHERE id = %s", hoax["id"])
        assert stored == [("received",)]
        hooks.remove(refuse)
        hooks.append(record)
        r = await client.post(
            f"/api/v1/reports/{hoax['id']}/reject",
            headers=dispatcher,
            json={"reason": "false", "note": "tidak ada kebakaran"},
        )
        assert r.status_code == 200 and r.json()["status"] == "false"
    finally:
        for hook in (refuse, record):
            if hook in hooks:
                hooks.remove(hook)
    assert seen == [(hoax["id"], "false"), (hoax["id"], "false")]
    facts = await rows(
        database_url,
        "SELECT entity_type, entity_id, action, data->>'report_id' "
        "FROM audit_log WHERE action = 'false_report'",
    )
    assert facts == [("citizen", citizen_id, "false_report", str(hoax["id"]))]
    for body, code in (({"reason": "false"}, 409), ({"reason": "maybe"}, 422), ({}, 422)):
        r = await client.post(f"/api/v1/reports/{hoax['id']}/reject", headers=dispatcher, json=body)
        assert r.status_code == code, body
    again = await client.post(f"/api/v1/reports/{hoax['id']}/verify", headers=dispatcher)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "report_not_pending")
    assert (await client.post("/api/v1/reports/999999/verify", headers=dispatcher)).status_code == 404
    assert (await client.post(f"/api/v1/reports/{plain['id']}/verify", headers=me)).status_code == 403


async def test_merge_and_split(client, actors, database_url):
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    a = await verified_incident(client, me, dispatcher)
    lat, lon = offset(*MALANG, 1000.0, 0.0)
    b = await verified_incident(
        client, me, dispatcher, lat=lat, lon=lon, category="medical", description="Korban pingsan"
    )
    r = await client.post(f"/api/v1/incidents/{a}/merge", headers=dispatcher, json={"other_incident_id": b})
    assert r.status_code == 200, r.text
    assert r.json()["report_count"] == 2 and r.json()["priority"] == 1  # the more urgent priority wins
    assert await rows(database_url, "SELECT status, merged_into_id FROM incidents WHERE id = %s", b) == [
        ("cancelled", a)
    ]
    [(moved,)] = await rows(database_url, "SELECT id FROM reports WHERE category = 'medical'")
    assert await rows(database_url, "SELECT incident_id FROM reports WHERE id = %s", moved) == [(a,)]
    for other, status, code in (
        (a, 400, "same_incident"),
        (b, 409, "invalid_transition"),
        (999999, 404, "incident_not_found"),
    ):
        r = await client.post(
            f"/api/v1/incidents/{a}/merge", headers=dispatcher, json={"other_incident_id": other}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (status, code)

    r = await client.post(f"/api/v1/incidents/{a}/split", headers=dispatcher, json={"report_ids": [moved]})
    assert r.status_code == 201, r.text
    new = r.json()
    got = (new["category"], new["status"], new["priority"], new["report_count"])
    assert got == ("medical", "verified", 1, 1)
    assert await rows(database_url, "SELECT incident_id FROM reports WHERE id = %s", moved) == [(new["id"],)]
    [(kept,)] = await rows(database_url, "SELECT id FROM reports WHERE incident_id = %s", a)
    for body, code in (
        ({"report_ids": [kept]}, "would_empty_incident"),
        ({"report_ids": [moved]}, "report_not_in_incident"),
    ):
        r = await client.post(f"/api/v1/incidents/{a}/split", headers=dispatcher, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (400, code)
    assert (
        await client.post(f"/api/v1/incidents/{a}/split", headers=dispatcher, json={"report_ids": []})
    ).status_code == 422
    timeline = (await client.get(f"/api/v1/incidents/{a}/timeline", headers=dispatcher)).json()["items"]
    assert {"merged", "split"} <= {e["action"] for e in timeline}
    assert (await rows(database_url, "SELECT count(*) FROM incidents"))[0][0] == 3


async def test_verified_report_hooks_run_in_the_same_unit_of_work(client, actors, app, database_url):
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    report = await file_report(client, me)
    seen: list[tuple[int, str, int | None]] = []

    async def refuse(session, r):
        seen.append((r.id, r.status, r.incident_id))
        raise Conflict("rewards say no", code="test_refusal")

    hooks = app.state.runtime.hooks.report_verified
    hooks.append(refuse)
    try:
        r = await client.post(f"/api/v1/reports/{report['id']}/verify", headers=dispatcher)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "test_refusal")
    finally:
        hooks.remove(refuse)
    assert seen[0][:2] == (report["id"], "verified") and seen[0][2] is not None
    # rolled back with the hook: no incident, the report still waits
    assert await rows(database_url, "SELECT status, incident_id FROM reports") == [("received", None)]
    assert await rows(database_url, "SELECT count(*) FROM incidents") == [(0,)]
    r = await client.post(f"/api/v1/reports/{report['id']}/verify", headers=dispatcher)
    assert r.status_code == 200 and r.json()["status"] == "verified"


async def test_verify_into_a_named_incident_moves_the_report(client, actors, database_url, events):
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    a = await verified_incident(client, me, dispatcher)
    duplicate = await file_report(client, me, description="Ada tabrakan lagi")
    assert duplicate["incident_id"] == a
    lat, lon = offset(*MALANG, 2000.0, 0.0)
    b = await verified_incident(
        client, me, dispatcher, lat=lat, lon=lon, category="crime", description="Copet"
    )
    r = await client.post(
        f"/api/v1/reports/{duplicate['id']}/verify",
        headers=dispatcher,
        json={"incident_id": b, "note": "same crime, different place"},
    )
    assert r.status_code == 200 and r.json()["incident_id"] == b
    stored = await rows(
        database_url, "SELECT incident_id, status FROM reports WHERE id = %s", duplicate["id"]
    )
    assert stored == [(b, "verified")]
    last = {e["incident"]["id"]: e["incident"]["report_count"] for e in events.of("incident")}
    assert last[a] == 1 and last[b] == 2
    for body, status in (({"incident_id": 999999}, 404), ({"incident_id": "x"}, 422)):
        other = await file_report(client, me, category="fire", description="Api", lat=-7.9, lon=112.7)
        r = await client.post(f"/api/v1/reports/{other['id']}/verify", headers=dispatcher, json=body)
        assert r.status_code == status
        stored = await rows(database_url, "SELECT status FROM reports WHERE id = %s", other["id"])
        assert stored == [("received",)]
