"""Forwarding incidents to agencies and the agency inbox, over HTTP on real PostGIS."""

from __future__ import annotations

from tests.forwards.conftest import MALANG, agency_ids, agency_login, make_incident, rows


async def test_automatic_forward_goes_to_the_routing_targets_once(app, client, actors, seeded, database_url):
    dispatcher = await actors.user("dispatcher")
    incident_id = await make_incident(app, "traffic_accident", priority=2)
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher, json={"note": "Korban dua orang"}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    by_code = {f["agency"]["code"]: f for f in body["forwards"]}
    # traffic_accident: SATLANTAS responsible; Jasa Raharja and the sector's Polsek told; a road crash may
    # hurt someone, so the three nearest hospitals too.
    assert by_code["SATLANTAS"]["role"] == "responsible"
    assert by_code["JASA_RAHARJA"]["role"] == "always_notify"
    assert by_code["POLSEK_KLOJEN"]["role"] == "always_notify"
    hospitals = [c for c, f in by_code.items() if f["role"] == "hospital"]
    assert len(hospitals) == 3 and len(by_code) == 6
    assert sorted(body["created"]) == sorted(f["id"] for f in body["forwards"])
    assert any("KLOJEN" in reason for reason in body["reasons"])
    stored = await rows(
        database_url,
        "SELECT a.code, f.status, f.delivery, f.note, f.sent_at IS NOT NULL, "
        "f.created_by FROM forwards f JOIN agencies a ON a.id = f.agency_id "
        "WHERE f.incident_id = %s ORDER BY a.code",
        incident_id,
    )
    me = (await client.get("/api/v1/me", headers=dispatcher)).json()["user_id"]
    assert len(stored) == 6
    # Inbox-only agencies: the inbox is the delivery, so they are sent at once.
    assert {s[1:] for s in stored} == {("sent", "inbox", "Korban dua orang", True, me)}
    audited = await rows(
        database_url,
        "SELECT action, to_state, actor_id FROM audit_log WHERE entity_type = 'forward' ORDER BY id",
    )
    assert audited == [("created", "sent", me)] * 6

    # Forwarding again is idempotent: nothing new, 200, same rows.
    again = await client.post(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)
    assert again.status_code == 200 and again.json()["created"] == []
    assert {f["id"] for f in again.json()["forwards"]} == {f["id"] for f in body["forwards"]}
    assert (await rows(database_url, "SELECT count(*) FROM forwards"))[0][0] == 6
    assert len(await rows(database_url, "SELECT 1 FROM audit_log WHERE entity_type = 'forward'")) == 6

    listed = await client.get(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)
    assert listed.status_code == 200
    assert all(len(f["history"]) == 1 and f["notes"] == [] for f in listed.json()["items"])


async def test_agency_users_see_and_answer_only_their_own_forwards(app, client, actors, seeded, database_url):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    satlantas, jasa = await agency_ids(database_url, "SATLANTAS", "JASA_RAHARJA")
    traffic = await agency_login(client, admin, satlantas, "satlantas.piket")
    insurer = await agency_login(client, admin, jasa, "jasaraharja.piket")
    crash = await make_incident(app, "traffic_accident", priority=2)
    jam = await make_incident(app, "traffic_jam", lat=MALANG[0] + 0.01)
    r = await client.post(
        f"/api/v1/incidents/{crash}/forwards", headers=dispatcher, json={"agency_ids": [satlantas, jasa]}
    )
    # Both are among the routing decision's targets: they keep the decision's roles.
    roles = {f["agency_id"]: f["role"] for f in r.json()["forwards"]}
    assert r.status_code == 201 and roles == {satlantas: "responsible", jasa: "always_notify"}
    assert (
        await client.post(
            f"/api/v1/incidents/{jam}/forwards", headers=dispatcher, json={"agency_ids": [satlantas]}
        )
    ).status_code == 201
    ids = dict(await rows(database_url, "SELECT agency_id, id FROM forwards WHERE incident_id = %s", crash))
    mine, theirs = ids[satlantas], ids[jasa]

    inbox = (await client.get("/api/v1/agency/inbox", headers=traffic)).json()
    assert inbox["agency_id"] == satlantas
    assert [(i["incident"]["id"], i["agency_id"]) for i in inbox["items"]] == [
        (jam, satlantas),
        (crash, satlantas),
    ]
    assert inbox["items"][1]["incident"]["category"] == "traffic_accident"
    assert "reporter_id" not in inbox["items"][1]["incident"]
    other = (await client.get("/api/v1/agency/inbox", headers=insurer)).json()
    assert [i["id"] for i in other["items"]] == [theirs]

    # Another agency's forward does not exist for them, whatever they try.
    for method, path, payload in (
        ("GET", f"/api/v1/agency/forwards/{theirs}", None),
        ("POST", f"/api/v1/agency/forwards/{theirs}/ack", None),
        ("POST", f"/api/v1/agency/forwards/{theirs}/notes", {"text": "hi"}),
        ("POST", f"/api/v1/agency/forwards/{theirs}/close", None),
    ):
        r = await client.request(method, path, headers=traffic, json=payload)
        assert r.status_code == 404 and r.json()["error"]["code"] == "forward_not_found", (path, r.text)
    assert await rows(database_url, "SELECT status, acknowledged_at FROM forwards WHERE id = %s", theirs) == [
        ("sent", None)
    ]
    assert await rows(database_url, "SELECT count(*) FROM forward_notes") == [(0,)]

    # The agency acknowledges, writes a note and closes its own.
    traffic_id = (await client.get("/api/v1/me", headers=traffic)).json()["user_id"]
    ack = await client.post(f"/api/v1/agency/forwards/{mine}/ack", headers=traffic)
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert (await client.post(f"/api/v1/agency/forwards/{mine}/ack", headers=traffic)).status_code == 200
    note = await client.post(
        f"/api/v1/agency/forwards/{mine}/notes", headers=traffic, json={"text": "Unit lantas menuju lokasi"}
    )
    assert note.status_code == 201
    closed = await client.post(
        f"/api/v1/agency/forwards/{mine}/close", headers=traffic, json={"note": "Lalu lintas sudah lancar"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    stored = await rows(
        database_url,
        "SELECT status, acknowledged_by, closed_by, acknowledged_at <= closed_at FROM forwards WHERE id = %s",
        mine,
    )
    assert stored == [("closed", traffic_id, traffic_id, True)]
    assert await rows(
        database_url, "SELECT author_id, text FROM forward_notes WHERE forward_id = %s ORDER BY id", mine
    ) == [(traffic_id, "Unit lantas menuju lokasi"), (traffic_id, "Lalu lintas sudah lancar")]
    trail = await rows(
        database_url,
        "SELECT action, from_state, to_state, actor_id FROM audit_log "
        "WHERE entity_type = 'forward' AND entity_id = %s ORDER BY id",
        mine,
    )
    assert trail == [
        ("created", None, "sent", (await client.get("/api/v1/me", headers=dispatcher)).json()["user_id"]),
        ("acknowledged", "sent", "acknowledged", traffic_id),
        ("note", "acknowledged", "acknowledged", traffic_id),
        ("closed", "acknowledged", "closed", traffic_id),
    ]
    late = await client.post(f"/api/v1/agency/forwards/{mine}/ack", headers=traffic)
    assert late.status_code == 409 and late.json()["error"]["code"] == "invalid_transition"
    assert (
        await client.post(f"/api/v1/agency/forwards/{mine}/notes", headers=traffic, json={"text": "x"})
    ).status_code == 409
    # Closed ones leave the default (open) inbox.
    assert [
        i["incident"]["id"]
        for i in (await client.get("/api/v1/agency/inbox", headers=traffic)).json()["items"]
    ] == [jam]
    everything = await client.get("/api/v1/agency/inbox", headers=traffic, params={"status": "all"})
    assert len(everything.json()["items"]) == 2

    # Roles: an agency login not linked to an agency, a dispatcher, a citizen.
    unlinked = await actors.user("agency")
    r = await client.get("/api/v1/agency/inbox", headers=unlinked)
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_agency_member"
    assert (await client.get("/api/v1/agency/inbox", headers=dispatcher)).status_code == 403
    citizen = await actors.user("citizen")
    assert (await client.post(f"/api/v1/incidents/{crash}/forwards", headers=citizen)).status_code == 403
    assert (
        await client.post(
            f"/api/v1/agencies/{jasa}/users",
            headers=dispatcher,
            json={"username": "x", "password": "secret-pw"},
        )
    ).status_code == 403


async def test_bad_forwards_are_refused_and_leave_nothing(app, client, actors, seeded, database_url):
    dispatcher = await actors.user("dispatcher")
    (dlh,) = await agency_ids(database_url, "DLH")
    incident_id = await make_incident(app, "fallen_tree")
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher, json={"agency_ids": [dlh, 999_999]}
    )
    assert r.status_code == 404 and r.json()["error"]["details"] == {"agency_ids": [999_999]}
    await rows(database_url, "UPDATE agencies SET active = false WHERE id = %s", dlh)
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher, json={"agency_ids": [dlh]}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "agency_inactive"
    r = await client.post("/api/v1/incidents/999999/forwards", headers=dispatcher)
    assert r.status_code == 404 and r.json()["error"]["code"] == "incident_not_found"
    await rows(database_url, "UPDATE incidents SET status = 'resolved' WHERE id = %s", incident_id)
    r = await client.post(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)
    assert r.status_code == 409 and r.json()["error"]["code"] == "incident_closed"
    assert await rows(database_url, "SELECT count(*) FROM forwards") == [(0,)]
    assert await rows(database_url, "SELECT count(*) FROM audit_log WHERE entity_type = 'forward'") == [(0,)]


async def test_an_sos_goes_to_the_sector_police_and_injury_adds_hospitals(
    app, client, actors, seeded, database_url
):
    dispatcher = await actors.user("dispatcher")
    sos = await make_incident(app, "sos", priority=1, description="SOS from Warga")
    r = await client.post(f"/api/v1/incidents/{sos}/forwards", headers=dispatcher, json={"injured": True})
    assert r.status_code == 201, r.text
    roles = {f["agency"]["code"]: f["role"] for f in r.json()["forwards"]}
    assert roles.pop("POLSEK_KLOJEN") == "responsible"
    assert list(roles.values()) == ["hospital"] * 3
    assert r.json()["reasons"][0] == "sos: an SOS goes to the police of its sector (routed as other)"
    # the map's forward form asks GET /route first: the same answer for an SOS
    route = await client.get(
        "/api/v1/route",
        headers=dispatcher,
        params={"category": "sos", "lat": MALANG[0], "lon": MALANG[1], "injured": "true"},
    )
    assert route.status_code == 200, route.text
    assert [t["code"] for t in route.json()["responsible"]] == ["POLSEK_KLOJEN"]
    assert len(route.json()["hospitals"]) == 3 and route.json()["reasons"][0].startswith("sos: an SOS")
    officer_sos = await client.get(
        "/api/v1/route",
        headers=dispatcher,
        params={"category": "officer_sos", "lat": MALANG[0], "lon": MALANG[1]},
    )
    assert [t["code"] for t in officer_sos.json()["responsible"]] == ["POLSEK_KLOJEN"]
    assert officer_sos.json()["hospitals"] == []
    # A power cut hurts nobody by default: PLN only.
    outage = await make_incident(app, "power_outage")
    r = await client.post(f"/api/v1/incidents/{outage}/forwards", headers=dispatcher)
    assert [f["agency"]["code"] for f in r.json()["forwards"]] == ["PLN"]
    assert await rows(database_url, "SELECT count(*) FROM forwards WHERE incident_id = %s", outage) == [(1,)]


async def test_admins_set_an_agencys_delivery(app, client, actors, seeded, database_url):
    admin = await actors.user("admin")
    (pln,) = await agency_ids(database_url, "PLN")
    r = await client.put(f"/api/v1/agencies/{pln}/delivery", headers=admin, json={"delivery": "webhook"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "webhook_url_required"
    r = await client.put(
        f"/api/v1/agencies/{pln}/delivery",
        headers=admin,
        json={"delivery": "both", "webhook_url": "not a url"},
    )
    assert r.status_code == 422
    r = await client.put(
        f"/api/v1/agencies/{pln}/delivery",
        headers=admin,
        json={"delivery": "both", "webhook_url": "https://pln.example/jogo"},
    )
    assert r.status_code == 200 and r.json()["delivery"] == "both"
    assert await rows(database_url, "SELECT delivery, webhook_url FROM agencies WHERE id = %s", pln) == [
        ("both", "https://pln.example/jogo")
    ]
    assert await rows(
        database_url,
        "SELECT action, from_state, to_state FROM audit_log WHERE entity_type = 'agency' AND entity_id = %s",
        pln,
    ) == [("delivery", "inbox", "both")]


async def test_an_agency_reads_only_the_incidents_forwarded_to_it(app, client, actors, seeded, database_url):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    satlantas, jasa = await agency_ids(database_url, "SATLANTAS", "JASA_RAHARJA")
    traffic = await agency_login(client, admin, satlantas, "satlantas.baca")
    insurer = await agency_login(client, admin, jasa, "jasaraharja.baca")
    crash = await make_incident(app, "traffic_accident", priority=2)
    jam = await make_incident(app, "traffic_jam", lat=MALANG[0] + 0.01)
    r = await client.post(
        f"/api/v1/incidents/{crash}/forwards", headers=dispatcher, json={"agency_ids": [satlantas]}
    )
    assert r.status_code == 201, r.text

    listed = await client.get("/api/v1/incidents", params={"status": "all"}, headers=traffic)
    assert listed.status_code == 200 and [i["id"] for i in listed.json()["items"]] == [crash]
    assert (await client.get("/api/v1/incidents", headers=insurer)).json()["items"] == []
    everything = (await client.get("/api/v1/incidents", headers=dispatcher)).json()["items"]
    assert {i["id"] for i in everything} == {crash, jam}
    for path in (f"/api/v1/incidents/{crash}", f"/api/v1/incidents/{crash}/timeline"):
        assert (await client.get(path, headers=traffic)).status_code == 200, path
        assert (await client.get(path, headers=dispatcher)).status_code == 200, path
        r = await client.get(path, headers=insurer)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "incident_not_found"), path
    for path in (f"/api/v1/incidents/{jam}", f"/api/v1/incidents/{jam}/timeline"):
        r = await client.get(path, headers=traffic)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "incident_not_found"), path
    # where the officers are and what the dispatchers are alerted to is the command centre's alone
    for path, params in (
        ("/api/v1/officers", None),
        ("/api/v1/positions", {"bbox": "112.58,-8.02,112.70,-7.90"}),
        ("/api/v1/alerts", None),
    ):
        r = await client.get(path, params=params, headers=traffic)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_role"), path
        assert (await client.get(path, params=params, headers=dispatcher)).status_code == 200, path


async def test_agencies_named_keep_their_roles_and_the_plans_agencies_are_forwarded_as_plan(
    app, client, actors, seeded, database_url
):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    plan = {
        "name": "Macet + PLN",
        "category": "traffic_jam",
        "priority": 3,
        "units": 1,
        "forward_to": ["PLN"],
        "suggest": [],
    }
    assert (await client.post("/api/v1/response-plans", headers=admin, json=plan)).status_code == 201
    satlantas, pln, damkar = await agency_ids(database_url, "SATLANTAS", "PLN", "DAMKAR")

    # No agencies named: the routing decision's targets, then the plan's (role "plan").
    jam = await make_incident(app, "traffic_jam")
    r = await client.post(f"/api/v1/incidents/{jam}/forwards", headers=dispatcher)
    assert r.status_code == 201, r.text
    roles = {f["agency"]["code"]: f["role"] for f in r.json()["forwards"]}
    assert roles["PLN"] == "plan" and roles["SATLANTAS"] == "responsible"
    assert any("Macet + PLN" in reason for reason in r.json()["reasons"])

    # Named by the dispatcher (the map pre-fills decision and plan): each keeps its role; an agency
    # neither names is the dispatcher's own choice.
    other = await make_incident(app, "traffic_jam", lat=MALANG[0] + 0.01)
    r = await client.post(
        f"/api/v1/incidents/{other}/forwards",
        headers=dispatcher,
        json={"agency_ids": [pln, damkar, satlantas]},
    )
    assert r.status_code == 201, r.text
    roles = {f["agency_id"]: f["role"] for f in r.json()["forwards"]}
    assert roles == {pln: "plan", damkar: "manual", satlantas: "responsible"}
    stored = await rows(database_url, "SELECT agency_id, role FROM forwards WHERE incident_id = %s", other)
    assert dict(stored) == roles
