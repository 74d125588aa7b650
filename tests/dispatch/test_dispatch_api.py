"""Dispatch through the API: offers, accept / decline / expiry, officer progress, conflicts and races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from jogo_dispatch.dispatch import expiry
from tests.reports.helpers import MALANG, citizen, execute, fleet, offset, place, rows, verified_incident


async def user_id(client, headers) -> int:
    return int((await client.get("/api/v1/me", headers=headers)).json()["user_id"])


async def dispatch(client, dispatcher, incident_id, officer_id=None):
    body = {"officer_id": officer_id} if officer_id is not None else None
    return await client.post(f"/api/v1/incidents/{incident_id}/dispatch", headers=dispatcher, json=body)


async def progress(client, headers, incident_id, status, reason=None):
    return await client.post(
        f"/api/v1/incidents/{incident_id}/status", headers=headers, json={"status": status, "reason": reason}
    )


async def test_offer_accept_and_progress_to_resolved(client, actors, database_url, events):
    (near, near_h), (far, far_h) = await fleet(client, actors, [300.0, 800.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    incident = await verified_incident(client, me, dispatcher)

    r = await dispatch(client, dispatcher, incident)
    assert r.status_code == 201, r.text
    offer = r.json()
    assert (offer["officer_id"], offer["status"], offer["attempt"]) == (near, "pending", 1)
    assert offer["distance_m"] == pytest.approx(300.0, abs=2.0) and offer["eta_s"] > 0
    expires = datetime.fromisoformat(offer["expires_at"]) - datetime.fromisoformat(offer["created_at"])
    assert expires.total_seconds() == 60.0
    [message] = [e for e in events.of("officer_message") if e["officer_id"] == near]
    assert message["message"]["type"] == "offer" and message["message"]["offer_id"] == offer["id"]
    assert message["message"]["incident"]["id"] == incident
    mine = (await client.get("/api/v1/me/offers", headers=near_h)).json()["items"]
    assert [o["id"] for o in mine] == [offer["id"]] and mine[0]["incident"]["category"] == "traffic_accident"
    assert (await client.get("/api/v1/me/offers", headers=far_h)).json()["items"] == []

    assert (await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=far_h)).status_code == 404
    assert (await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=dispatcher)).status_code == 403
    r = await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=near_h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["incident"]["status"] == "dispatched"
    [(status, officer_id, dispatched_at, acknowledged_at)] = await rows(
        database_url,
        "SELECT status, officer_id, dispatched_at, acknowledged_at FROM incidents WHERE id = %s",
        incident,
    )
    assert (status, officer_id) == ("dispatched", near)
    assert dispatched_at == datetime.fromisoformat(offer["created_at"]) and acknowledged_at >= dispatched_at
    assert await rows(database_url, "SELECT status FROM officers WHERE id = %s", near) == [("busy",)]
    again = await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=near_h)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "offer_not_pending")

    assert (await progress(client, far_h, incident, "en_route")).status_code == 404  # not their incident
    bad = await progress(client, near_h, incident, "on_scene")
    assert (bad.status_code, bad.json()["error"]["code"]) == (409, "invalid_transition")
    assert bad.json()["error"]["details"]["allowed"] == ["en_route", "resolved", "cancelled"]
    cancel = await progress(client, near_h, incident, "cancelled")
    assert cancel.status_code == 403  # officers do not cancel
    for step in ("en_route", "on_scene", "resolved"):
        r = await progress(client, near_h, incident, step, reason=f"HT: {step}")
        assert r.status_code == 200 and r.json()["status"] == step, r.text
    late = await progress(client, near_h, incident, "en_route")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "invalid_transition")
    assert (await progress(client, dispatcher, incident, "dispatched")).status_code == 422

    [times] = await rows(
        database_url,
        "SELECT received_at, verified_at, dispatched_at, acknowledged_at, en_route_at, "
        "on_scene_at, cleared_at, status FROM incidents WHERE id = %s",
        incident,
    )
    assert times[-1] == "resolved" and list(times[:-1]) == sorted(times[:-1]) and None not in times
    assert await rows(database_url, "SELECT status FROM officers WHERE id = %s", near) == [("available",)]
    assert await rows(database_url, "SELECT status FROM offers") == [("completed",)]
    assert [e["status"] for e in events.of("status") if e["officer_id"] == near] == ["busy", "available"]

    r = await client.get(f"/api/v1/incidents/{incident}/timeline", headers=dispatcher)
    timeline = r.json()["items"]
    moves = [
        (e["from_state"], e["to_state"], e["actor_id"])
        for e in timeline
        if e["entity_type"] == "incident" and e["action"] == "transition"
    ]
    officer_user, dispatcher_user = await user_id(client, near_h), await user_id(client, dispatcher)
    assert moves == [
        ("new", "verified", dispatcher_user),
        ("verified", "dispatched", officer_user),
        ("dispatched", "en_route", officer_user),
        ("en_route", "on_scene", officer_user),
        ("on_scene", "resolved", officer_user),
    ]
    assert [e["reason"] for e in timeline if e["to_state"] == "on_scene"] == ["HT: on_scene"] * 2
    # the unit's own CAD steps are on its offer
    offer_actions = [e["action"] for e in timeline if e["entity_type"] == "offer"]
    assert offer_actions == ["created", "accepted", "en_route", "on_scene", "completed"]


async def test_decline_and_silence_pass_the_offer_on_until_an_alert(client, actors, app, database_url):
    officers = await fleet(client, actors, [100.0, 200.0, 300.0, 400.0])
    (o1, h1), (o2, h2), (o3, h3), (o4, _) = officers
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    incident = await verified_incident(client, me, dispatcher)
    first = (await dispatch(client, dispatcher, incident)).json()
    assert first["officer_id"] == o1
    r = await client.post(f"/api/v1/offers/{first['id']}/decline", headers=h1, json={"reason": "ban bocor"})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    second = r.json()["next_offer"]
    assert (second["officer_id"], second["attempt"]) == (o2, 2)

    # o2 stays silent: its offer is overdue; a sweep (ours or the server's own) claims it and moves on
    await execute(
        database_url, "UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = %s", second["id"]
    )
    late = await client.post(f"/api/v1/offers/{second['id']}/accept", headers=h2)
    assert late.status_code == 409 and late.json()["error"]["code"] in ("offer_expired", "offer_not_pending")
    await expiry.expire_due(app.state.runtime)
    assert await rows(database_url, "SELECT officer_id, status, attempt FROM offers ORDER BY id") == [
        (o1, "declined", 1),
        (o2, "expired", 2),
        (o3, "pending", 3),
    ]
    [(third,)] = await rows(database_url, "SELECT id FROM offers WHERE status = 'pending'")
    r = await client.post(f"/api/v1/offers/{third}/decline", headers=h3)
    assert r.status_code == 200 and r.json()["next_offer"] is None  # offer_max_attempts = 3 used up
    assert await rows(database_url, "SELECT kind, incident_id, data->>'attempts' FROM alerts") == [
        ("offer_exhausted", incident, "3")
    ]
    assert await rows(database_url, "SELECT status FROM incidents WHERE id = %s", incident) == [("verified",)]
    # the dispatcher tries again: only the officer nobody asked yet is left
    r = await dispatch(client, dispatcher, incident)
    assert r.status_code == 201 and r.json()["officer_id"] == o4
    expired = await rows(
        database_url,
        "SELECT to_state, reason FROM audit_log WHERE entity_type = 'offer' AND action = 'expired'",
    )
    assert expired == [("expired", "no answer within 60 s")]


async def test_explicit_officer_and_every_conflict(client, actors, database_url):
    (o1, h1), (o2, _), (o3, h3) = await fleet(client, actors, [100.0, 2500.0, 400.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    a = await verified_incident(client, me, dispatcher)
    b = await verified_incident(client, me, dispatcher, category="crime", description="Copet")
    r = await dispatch(client, dispatcher, a, officer_id=o2)
    assert r.status_code == 201 and r.json()["officer_id"] == o2 and r.json()["distance_m"] > 2400
    for incident, officer, status, code in (
        (a, o2, 409, "already_assigned"),  # the same officer twice
        (b, o2, 409, "officer_unavailable"),  # the officer has one
        (b, 987654, 404, "officer_not_found"),
    ):
        r = await dispatch(client, dispatcher, incident, officer_id=officer)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert (await client.put("/api/v1/me/status", headers=h3, json={"status": "off_duty"})).status_code == 200
    r = await dispatch(client, dispatcher, b, officer_id=o3)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "officer_unavailable")
    assert r.json()["error"]["details"]["reason"] == "officer_off_duty"
    assert (await dispatch(client, dispatcher, b)).json()["officer_id"] == o1  # o2 engaged, o3 off duty
    c = await verified_incident(client, me, dispatcher, category="fire", description="Api")
    r = await dispatch(client, dispatcher, c)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "no_responder")
    await progress(client, dispatcher, c, "cancelled")
    r = await dispatch(client, dispatcher, c)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_transition")
    for headers, status in (({}, 401), (me, 403), (h1, 403)):
        assert (await dispatch(client, headers, b)).status_code == status
    assert (await dispatch(client, dispatcher, 424242)).status_code == 404
    stored = await rows(database_url, "SELECT incident_id, officer_id FROM offers ORDER BY id")
    assert stored == [(a, o2), (b, o1)]


async def test_dispatching_an_sos_verifies_it_and_cancelling_frees_the_officer(
    client, actors, database_url, events
):
    [(officer, headers)] = await fleet(client, actors, [120.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    sos = (await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0], "lon": MALANG[1]})).json()
    offer = (await dispatch(client, dispatcher, sos["incident_id"])).json()
    assert await rows(database_url, "SELECT status FROM incidents WHERE id = %s", sos["incident_id"]) == [
        ("verified",)
    ]
    assert (await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=headers)).status_code == 200
    r = await progress(client, dispatcher, sos["incident_id"], "cancelled", reason="false alarm, caller safe")
    assert r.status_code == 200
    assert await rows(database_url, "SELECT status FROM officers WHERE id = %s", officer) == [("available",)]
    assert await rows(database_url, "SELECT status FROM offers") == [("cancelled",)]
    kinds = [e["message"]["type"] for e in events.of("officer_message") if e["officer_id"] == officer]
    assert kinds == ["offer", "incident_cancelled"]
    # a pending offer withdrawn by a dispatcher: nothing is re-offered, the incident waits again
    incident = await verified_incident(client, me, dispatcher, category="medical", description="Pingsan")
    pending = (await dispatch(client, dispatcher, incident)).json()
    r = await client.post(
        f"/api/v1/offers/{pending['id']}/cancel", headers=dispatcher, json={"reason": "salah"}
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await client.post(f"/api/v1/offers/{pending['id']}/cancel", headers=dispatcher)
    assert r.status_code == 409
    assert await rows(database_url, "SELECT count(*) FROM offers WHERE status = 'pending'") == [(0,)]
    assert (await dispatch(client, dispatcher, incident, officer_id=officer)).status_code == 201


async def test_races_for_one_incident_and_for_one_officer_have_one_winner(client, actors, database_url):
    officers = await fleet(client, actors, [100.0, 200.0, 300.0, 400.0, 500.0, 600.0])
    _, me = await citizen(client)
    one, two = await actors.user("dispatcher"), await actors.user("dispatcher")
    kinds = [
        "traffic_accident",
        "crime",
        "fire",
        "medical",
        "public_order",
        "fallen_tree",
        "power_outage",
        "flood_landslide",
        "road_damage",
    ]
    incidents = [await verified_incident(client, me, one, category=k, description=k) for k in kinds]
    for round_ in range(3):
        # two dispatchers, one incident, the same officer: one offer
        incident = incidents[round_]
        a, b = officers[2 * round_][0], officers[2 * round_ + 1][0]
        r1, r2 = await asyncio.gather(dispatch(client, one, incident, a), dispatch(client, two, incident, a))
        assert sorted([r1.status_code, r2.status_code]) == [201, 409], (r1.text, r2.text)
        loser = r1 if r1.status_code == 409 else r2
        assert loser.json()["error"]["code"] == "already_assigned"
        stored = await rows(database_url, "SELECT count(*) FROM offers WHERE incident_id = %s", incident)
        assert stored == [(1,)]
        # ...two different officers: both are units (the incident needs two now)
        r3 = await dispatch(client, two, incident, b)
        assert r3.status_code == 201, r3.text
        stored = await rows(database_url, "SELECT units_needed FROM incidents WHERE id = %s", incident)
        assert stored == [(2,)]
    # free everyone again, then two dispatchers, one officer, two different incidents
    await execute(database_url, "UPDATE offers SET status = 'cancelled'")
    for round_ in range(3):
        officer = officers[round_][0]
        x, y = incidents[3 + 2 * round_], incidents[4 + 2 * round_]
        r1, r2 = await asyncio.gather(dispatch(client, one, x, officer), dispatch(client, two, y, officer))
        assert sorted([r1.status_code, r2.status_code]) == [201, 409], (r1.text, r2.text)
        loser = r1 if r1.status_code == 409 else r2
        assert loser.json()["error"]["code"] == "officer_unavailable"
        stored = await rows(
            database_url, "SELECT count(*) FROM offers WHERE officer_id = %s AND status = 'pending'", officer
        )
        assert stored == [(1,)]
    # and the nearest-officer path: one officer free, two incidents dispatched at once
    await execute(database_url, "UPDATE offers SET status = 'cancelled'")
    for _, headers in officers[1:]:  # through the API, so that the responder index follows
        await client.put("/api/v1/me/status", headers=headers, json={"status": "off_duty"})
    r1, r2 = await asyncio.gather(dispatch(client, one, incidents[0]), dispatch(client, two, incidents[1]))
    assert sorted([r1.status_code, r2.status_code]) == [201, 409], (r1.text, r2.text)
    winner = r1 if r1.status_code == 201 else r2
    assert winner.json()["officer_id"] == officers[0][0]
    assert await rows(database_url, "SELECT count(*) FROM offers WHERE status = 'pending'") == [(1,)]


async def test_batch_assignment_proposes_then_applies(client, actors, database_url):
    officers = await fleet(client, actors, [0.0, 1500.0, 3000.0, 6000.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    spots = [offset(*MALANG, d, 0.0) for d in (100.0, 1400.0, 3100.0)]
    kinds = ["medical", "crime", "road_damage"]
    incidents = [
        await verified_incident(client, me, dispatcher, lat=lat, lon=lon, category=k, description=k)
        for (lat, lon), k in zip(spots, kinds, strict=True)
    ]
    r = await client.post("/api/v1/dispatch/batch", headers=dispatcher)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert (plan["method"], plan["incidents"], plan["officers"], plan["applied"]) == ("optimal", 3, 4, False)
    pairs = {(a["job_id"], a["unit_id"]) for a in plan["assignments"]}
    assert pairs == {(incidents[i], officers[i][0]) for i in range(3)}
    assert plan["total_weighted_eta_s"] <= plan["greedy_total_weighted_eta_s"] and plan["unassigned"] == []
    assert await rows(database_url, "SELECT count(*) FROM offers") == [(0,)]
    r = await client.post("/api/v1/dispatch/batch", headers=dispatcher, json={"apply": True})
    assert r.status_code == 200 and len(r.json()["offers"]) == 3 and r.json()["skipped"] == []
    stored = await rows(database_url, "SELECT incident_id, officer_id FROM offers WHERE status = 'pending'")
    assert set(stored) == pairs
    again = (await client.post("/api/v1/dispatch/batch", headers=dispatcher, json={"apply": True})).json()
    assert (again["incidents"], again["offers"]) == (0, [])
    assert (await client.post("/api/v1/dispatch/batch", headers=officers[0][1])).status_code == 403
    assert (
        await client.post("/api/v1/dispatch/batch", headers=dispatcher, json={"method": "magic"})
    ).status_code == 422


async def test_incident_lists_detail_and_the_live_map_snapshot(client, actors, app):
    await fleet(client, actors, [200.0])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    agency = await actors.user("agency")
    open_one = await verified_incident(client, me, dispatcher)
    closed = await verified_incident(client, me, dispatcher, category="fire", description="Api")
    await progress(client, dispatcher, closed, "cancelled")
    sos = (await client.post("/api/v1/sos", headers=me, json={"lat": -7.95, "lon": 112.61})).json()
    r = await client.get("/api/v1/incidents", headers=agency, params={"status": "open"})
    assert r.status_code == 200 and r.json()["items"] == []  # an agency lists only what was forwarded to it
    r = await client.get("/api/v1/incidents", headers=dispatcher, params={"status": "open"})
    listed = r.json()["items"]
    assert [i["id"] for i in listed] == [sos["incident_id"], open_one]  # priority 1 first
    assert set(listed[0]) >= {
        "id",
        "category",
        "priority",
        "status",
        "lat",
        "lon",
        "description",
        "address",
        "created_at",
        "report_count",
        "sector",
    }
    r = await client.get("/api/v1/incidents", headers=dispatcher, params={"status": "cancelled,new"})
    assert {i["id"] for i in r.json()["items"]} == {closed, sos["incident_id"]}
    r = await client.get("/api/v1/incidents", headers=dispatcher, params={"status": "open,x"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"  # the schema's pattern
    assert (await client.get("/api/v1/incidents", headers=me)).status_code == 403
    detail = (await client.get(f"/api/v1/incidents/{open_one}", headers=dispatcher)).json()
    assert detail["status"] == "verified" and len(detail["reports"]) == 1 and detail["offers"] == []
    assert len(detail["nearest"]) == 1 and detail["verified_at"] is not None and detail["cleared_at"] is None
    assert (await client.get("/api/v1/incidents/999999", headers=dispatcher)).status_code == 404
    rt = app.state.runtime
    async with rt.sessions() as session:
        snapshot = (await rt.hub.snapshot_providers["incidents"](session)).items
    assert [i["id"] for i in snapshot] == [sos["incident_id"], open_one]


async def test_officer_sos_from_the_phone_app_opens_a_priority_one_incident(client, actors, database_url):
    officer, headers = await actors.officer(device_id="hp-sos-1")
    await place(client, headers, *MALANG)
    stamp = int(datetime.now(UTC).timestamp())
    r = await client.post(f"/osmand?id=hp-sos-1&timestamp={stamp}&lat=-7.9700&lon=112.6300&alarm=sos")
    assert r.status_code == 200, r.text
    [incident] = await rows(
        database_url,
        "SELECT id, priority, status, category, source, lat, lon, "
        "(data->>'officer_id')::bigint FROM incidents",
    )
    # verified at once: the two nearest available units get offers (none here but the officer in distress)
    assert incident[1:] == (1, "verified", "officer_sos", "officer_sos", -7.97, 112.63, officer)
    assert await rows(database_url, "SELECT count(*) FROM offers WHERE officer_id = %s", officer) == [(0,)]
    r = await client.post(f"/osmand?id=hp-sos-1&timestamp={stamp + 5}&lat=-7.9710&lon=112.6310&alarm=sos")
    assert r.status_code == 200
    assert await rows(database_url, "SELECT id, lat, lon FROM incidents") == [(incident[0], -7.971, 112.631)]
    # one open distress alert per officer: the repeat moved the incident but raised no second alert
    assert await rows(database_url, "SELECT count(*) FROM alerts WHERE kind = 'officer_distress'") == [(1,)]


async def test_the_search_widens_past_officers_engaged_elsewhere(client, actors, database_url):
    officers = await fleet(client, actors, [100.0 * (n + 1) for n in range(12)])
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    incident = await verified_incident(client, me, dispatcher)
    # the 11 nearest officers already hold offers for other incidents (far away)
    await execute(
        database_url,
        "INSERT INTO incidents (category, priority, source, status, lat, lon, "
        "h3_r9, h3_r7) SELECT 'other', 4, 'report', 'verified', -8.5, 112.0, 0, 0 "
        "FROM generate_series(1, 11)",
    )
    await execute(
        database_url,
        """
        INSERT INTO offers (incident_id, officer_id, status, expires_at)
        SELECT i.id, o.id, 'pending', now() + interval '1 hour'
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM incidents WHERE lat = -8.5) i
        JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM officers WHERE id = ANY(%s)) o
        USING (n)""",
        [o for o, _ in officers[:11]],
    )
    r = await dispatch(client, dispatcher, incident)
    assert r.status_code == 201, r.text
    assert r.json()["officer_id"] == officers[11][0]
    assert r.json()["distance_m"] == pytest.approx(1200, rel=0.01)
