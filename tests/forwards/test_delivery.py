"""Webhook delivery to a real local HTTP receiver: the JSON and CAP bodies, retries with backoff, giving up,
the unacknowledged-forward alert, and claims that several processes can share."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from jogo_dispatch.forwards import cap
from jogo_dispatch.forwards import repository as repo
from tests.forwards.conftest import agency_ids, agency_login, make_incident, rows, wait_for

NS = {"cap": cap.CAP_NS}


async def webhook_agency(client, admin, database_url, code: str, url: str, delivery: str = "webhook") -> int:
    (agency_id,) = await agency_ids(database_url, code)
    r = await client.put(
        f"/api/v1/agencies/{agency_id}/delivery",
        headers=admin,
        json={"delivery": delivery, "webhook_url": url},
    )
    assert r.status_code == 200, r.text
    return agency_id


async def forward_to(client, dispatcher, incident_id: int, agency_id: int) -> int:
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/forwards",
        headers=dispatcher,
        json={"agency_ids": [agency_id], "note": "Mohon ditindaklanjuti"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["created"][0])


async def test_webhook_is_retried_until_the_agency_takes_it(
    app, client, actors, seeded, database_url, receiver, fast_delivery, monkeypatch
):
    monkeypatch.setattr(fast_delivery, "forward_webhook_secret", "s3cret")
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    receiver.fail_first = 2
    dishub = await webhook_agency(client, admin, database_url, "DISHUB", receiver.url)
    incident_id = await make_incident(app, "traffic_jam", priority=4, address="Jl. Ijen")
    forward_id = await forward_to(client, dispatcher, incident_id, dishub)

    async def sent() -> list[tuple[object, ...]]:
        return await rows(
            database_url,
            "SELECT status, attempts, failure_count, last_error, sent_at "
            "FROM forwards WHERE id = %s AND status = 'sent'",
            forward_id,
        )

    ((status, attempts, failures, last_error, sent_at),) = await wait_for(sent)
    assert (status, attempts, failures) == ("sent", 3, 2) and sent_at is not None
    assert last_error.startswith("json: HTTP 500")
    # Two failed attempts (the JSON refused, so no CAP), then the JSON and the CAP alert.
    assert [r["status"] for r in receiver.requests] == [500, 500, 200, 200]
    assert all(r["path"] == "/hooks/jogo" for r in receiver.requests)
    assert [r["headers"]["x-jogo-attempt"] for r in receiver.requests] == ["1", "2", "3", "3"]
    assert {r["headers"]["idempotency-key"] for r in receiver.requests[:3]} == {f"forward-{forward_id}-json"}
    json_part, cap_part = receiver.delivered()
    assert json_part["headers"]["content-type"] == "application/json"
    signature = hmac.new(b"s3cret", json_part["body"], hashlib.sha256).hexdigest()
    assert json_part["headers"]["x-jogo-signature"] == f"sha256={signature}"
    body = json.loads(json_part["body"])
    assert body["type"] == "jogo.forward" and body["forward"]["id"] == forward_id
    assert body["forward"]["note"] == "Mohon ditindaklanjuti" and body["agency"]["code"] == "DISHUB"
    assert body["incident"]["id"] == incident_id and body["incident"]["category"] == "traffic_jam"
    assert body["incident"]["category_name_en"] == "Traffic jam"

    assert cap_part["headers"]["content-type"] == "application/cap+xml"
    assert cap_part["headers"]["idempotency-key"] == f"forward-{forward_id}-cap"
    alert = ET.fromstring(cap_part["body"])
    assert alert.tag == f"{{{cap.CAP_NS}}}alert"
    for name in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        assert (alert.findtext(f"cap:{name}", namespaces=NS) or "").strip(), name
    assert alert.findtext("cap:identifier", namespaces=NS) == body["cap_identifier"]
    assert alert.findtext("cap:identifier", namespaces=NS) == f"jogo-dispatch.incident.{incident_id}"
    assert alert.findtext("cap:sent", namespaces=NS).endswith("+07:00")  # the deployment's zone (WIB)
    assert [alert.findtext(f"cap:{n}", namespaces=NS) for n in ("status", "msgType", "scope")] == [
        "Actual",
        "Alert",
        "Public",
    ]
    info = alert.find("cap:info", NS)
    assert [c.text for c in info.findall("cap:category", NS)] == ["Transport"]
    assert info.findtext("cap:event", namespaces=NS) == "Kemacetan lalu lintas"
    assert [info.findtext(f"cap:{n}", namespaces=NS) for n in ("urgency", "severity", "certainty")] == [
        "Expected",
        "Minor",
        "Likely",
    ]
    assert info.findtext("cap:area/cap:areaDesc", namespaces=NS) == "Jl. Ijen"
    circle = info.findtext("cap:area/cap:circle", namespaces=NS)
    assert circle == "-7.982600,112.630800 0.5"

    trail = await rows(
        database_url,
        "SELECT action, from_state, to_state, data->>'attempt' FROM audit_log "
        "WHERE entity_type = 'forward' AND entity_id = %s ORDER BY id",
        forward_id,
    )
    assert trail == [
        ("created", None, "pending", None),
        ("delivery_failed", "pending", "pending", "1"),
        ("delivery_failed", "pending", "pending", "2"),
        ("sent", "pending", "sent", "3"),
    ]


async def test_a_forward_fails_after_the_last_attempt_and_can_be_retried(
    app, client, actors, seeded, database_url, receiver, fast_delivery, monkeypatch
):
    monkeypatch.setattr(fast_delivery, "forward_max_attempts", 3)
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    receiver.fail_first = 1000
    pln = await webhook_agency(client, admin, database_url, "PLN", receiver.url, delivery="both")
    login = await agency_login(client, admin, pln, "pln.piket")
    incident_id = await make_incident(app, "power_outage")
    forward_id = await forward_to(client, dispatcher, incident_id, pln)
    # "both": the inbox shows it while the webhook is still being tried.
    assert [i["id"] for i in (await client.get("/api/v1/agency/inbox", headers=login)).json()["items"]] == [
        forward_id
    ]

    async def failed() -> list[tuple[object, ...]]:
        return await rows(
            database_url,
            "SELECT attempts, failure_count FROM forwards WHERE id = %s AND status = 'failed'",
            forward_id,
        )

    assert await wait_for(failed) == [(3, 3)]
    assert len(receiver.requests) == 3
    alerts = await rows(database_url, "SELECT kind, incident_id, data->>'forward_id' FROM alerts")
    assert alerts == [("forward_failed", incident_id, str(forward_id))]

    # The dispatcher retries once the agency has fixed its endpoint.
    receiver.fail_first = 0
    receiver.requests.clear()
    r = await client.post(f"/api/v1/forwards/{forward_id}/retry", headers=dispatcher)
    assert r.status_code == 200 and r.json()["status"] == "pending"

    async def sent() -> list[tuple[object, ...]]:
        return await rows(
            database_url,
            "SELECT attempts, failure_count FROM forwards WHERE id = %s AND status = 'sent'",
            forward_id,
        )

    assert await wait_for(sent) == [(1, 3)]
    assert len(receiver.delivered()) == 2
    again = await client.post(f"/api/v1/forwards/{forward_id}/retry", headers=dispatcher)
    assert again.status_code == 409
    actions = [
        a
        for (a,) in await rows(
            database_url, "SELECT action FROM audit_log WHERE entity_type = 'forward' ORDER BY id"
        )
    ]
    assert actions == ["created", "delivery_failed", "delivery_failed", "failed", "requeued", "sent"]


async def test_dispatchers_are_alerted_once_when_an_agency_does_not_acknowledge(
    app, client, actors, seeded, database_url, fast_delivery, monkeypatch
):
    monkeypatch.setattr(fast_delivery, "forward_ack_timeout_s", 1.0)
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    dlh, bpbd = await agency_ids(database_url, "DLH", "BPBD")
    quick = await agency_login(client, admin, bpbd, "bpbd.piket")
    incident_id = await make_incident(app, "fallen_tree")
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher, json={"agency_ids": [dlh, bpbd]}
    )
    ids = {f["agency_id"]: f["id"] for f in r.json()["forwards"]}
    assert (await client.post(f"/api/v1/agency/forwards/{ids[bpbd]}/ack", headers=quick)).status_code == 200

    async def alerted() -> list[tuple[object, ...]]:
        return await rows(
            database_url, "SELECT kind, incident_id, data->>'forward_id', data->>'agency_code' FROM alerts"
        )

    assert await wait_for(alerted) == [("forward_unacknowledged", incident_id, str(ids[dlh]), "DLH")]
    await asyncio.sleep(0.5)  # several more sweeps
    assert len(await alerted()) == 1
    assert await rows(database_url, "SELECT id FROM forwards WHERE ack_alerted_at IS NOT NULL") == [
        (ids[dlh],)
    ]
    assert await rows(
        database_url, "SELECT entity_id, action FROM audit_log WHERE action = 'ack_overdue'"
    ) == [(ids[dlh], "ack_overdue")]
    open_alerts = (await client.get("/api/v1/alerts", headers=dispatcher)).json()
    assert "forward_unacknowledged" in json.dumps(open_alerts)


async def test_two_processes_never_claim_the_same_delivery(app, client, actors, seeded, database_url):
    """Rows one claimant holds are skipped by the other (FOR UPDATE SKIP LOCKED); each row is leased once."""
    incident_ids = [await make_incident(app, "traffic_jam", lat=-7.98 + i / 1000) for i in range(6)]
    (dishub,) = await agency_ids(database_url, "DISHUB")
    later = datetime.now(UTC) + timedelta(hours=1)  # not due for the running workers
    for incident_id in incident_ids:
        await rows(
            database_url,
            "INSERT INTO forwards (incident_id, agency_id, role, delivery, status, "
            "next_attempt_at) VALUES (%s, %s, 'manual', 'webhook', 'pending', %s)",
            incident_id,
            dishub,
            later,
        )
    rt = app.state.runtime
    now, lease = later + timedelta(minutes=1), later + timedelta(minutes=5)
    async with rt.sessions() as first, rt.sessions() as second:
        taken_first = await repo.claim_due(first, now, lease, 4)
        taken_second = await repo.claim_due(second, now, lease, 4)  # while the first is uncommitted
        await first.commit()
        await second.commit()
    assert len(taken_first) == 4 and len(taken_second) == 2
    assert not set(taken_first) & set(taken_second)
    stored = await rows(database_url, "SELECT attempts, next_attempt_at = %s FROM forwards", lease)
    assert stored == [(1, True)] * 6
    async with rt.sessions() as third:
        assert await repo.claim_due(third, now, lease, 10) == []  # all leased
