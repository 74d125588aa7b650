"""Officer-safety and queue timers with short settings: the welfare check on the phone, answered or missed,
a unit late en route, a report waiting for verification; each fires once and is on the timeline."""

from __future__ import annotations

import asyncio

from jogo_dispatch.dispatch import timers
from tests.reports.helpers import citizen, file_report, fleet, rows, verified_incident


async def on_scene_unit(client, actors, dispatcher, me):
    (oid, headers), (other, other_h) = await fleet(client, actors, [100.0, 5000.0])
    incident = await verified_incident(client, me, dispatcher)
    r = await client.post(
        f"/api/v1/incidents/{incident}/dispatch", headers=dispatcher, json={"officer_id": oid}
    )
    offer = r.json()["id"]
    assert (await client.post(f"/api/v1/offers/{offer}/accept", headers=headers)).status_code == 200
    return incident, offer, oid, headers, other_h


async def alerts(database_url, kind):
    return await rows(database_url, "SELECT incident_id, officer_id FROM alerts WHERE kind = %s", kind)


async def test_a_welfare_check_goes_to_the_phone_and_a_missed_one_alerts_once(
    app, client, actors, database_url, events, monkeypatch
):
    settings = app.state.runtime.settings
    dispatcher = await actors.user("dispatcher")
    _, me = await citizen(client)
    incident, offer, oid, headers, stranger = await on_scene_unit(client, actors, dispatcher, me)
    monkeypatch.setattr(settings, "welfare_interval_s", 0.05)
    monkeypatch.setattr(settings, "welfare_grace_s", 0.05)
    status = f"/api/v1/incidents/{incident}/status"
    await timers.sweep(app.state.runtime)
    assert not [
        e for e in events.of("officer_message") if e["message"]["type"] == "welfare_check"
    ]  # not on scene
    for step in ("en_route", "on_scene"):
        assert (await client.post(status, headers=headers, json={"status": step})).status_code == 200
    await asyncio.sleep(0.1)
    await timers.sweep(app.state.runtime)
    [check] = [e["message"] for e in events.of("officer_message") if e["message"]["type"] == "welfare_check"]
    assert (check["offer_id"], check["incident_id"], check["text"]["id"]) == (offer, incident, "Aman?")
    unit = (await client.get(f"/api/v1/incidents/{incident}", headers=dispatcher)).json()["units"][0]
    assert unit["welfare_sent_at"] is not None

    # answered in time: no alert, and the interval starts again
    r = await client.post(f"/api/v1/offers/{offer}/welfare", headers=headers, json={"safe": True})
    assert r.status_code == 200, r.text
    assert (
        await client.post(f"/api/v1/offers/{offer}/welfare", headers=stranger, json={})
    ).status_code == 404
    await asyncio.sleep(0.1)
    await timers.sweep(app.state.runtime)  # a new check goes out...
    # (no further check after it, however slowly the sweeps below run: only its miss is counted)
    monkeypatch.setattr(settings, "welfare_interval_s", 600.0)
    await asyncio.sleep(0.1)
    await timers.sweep(app.state.runtime)  # ...and is missed
    await timers.sweep(app.state.runtime)  # once
    assert await alerts(database_url, "welfare_check_missed") == [(incident, oid)]
    actions = [
        a
        for (a,) in await rows(
            database_url,
            "SELECT action FROM audit_log WHERE entity_type = 'incident' AND entity_id = %s ORDER BY id",
            incident,
        )
    ]
    assert (
        actions.count("welfare_check") >= 2 and "welfare_ok" in actions and "welfare_check_missed" in actions
    )

    # "not safe" is an alert at once
    r = await client.post(f"/api/v1/offers/{offer}/welfare", headers=headers, json={"safe": False})
    assert r.status_code == 200
    assert await alerts(database_url, "officer_needs_help") == [(incident, oid)]
    bad = await client.post(f"/api/v1/offers/{offer}/welfare", headers=headers, json={"safe": "ya"})
    assert bad.status_code == 422


async def test_a_unit_late_en_route_and_a_waiting_report_alert_once(
    app, client, actors, database_url, monkeypatch
):
    settings = app.state.runtime.settings
    dispatcher = await actors.user("dispatcher")
    _, me = await citizen(client)
    incident, _, oid, _, _ = await on_scene_unit(client, actors, dispatcher, me)
    waiting = await file_report(client, me, category="crime", description="Copet di pasar")
    await timers.sweep(app.state.runtime)
    assert await alerts(database_url, "unit_not_en_route") == []
    assert await alerts(database_url, "report_unverified") == []
    monkeypatch.setattr(settings, "en_route_within_s", 0.01)
    monkeypatch.setattr(settings, "verify_within_s", 0.01)
    await asyncio.sleep(0.05)
    for _ in range(2):
        await timers.sweep(app.state.runtime)
    assert await alerts(database_url, "unit_not_en_route") == [(incident, oid)]
    [(data,)] = await rows(database_url, "SELECT data FROM alerts WHERE kind = 'report_unverified'")
    assert data["report_id"] == waiting["id"]
