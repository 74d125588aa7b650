"""The agency's work on a forward (acknowledge, on the way, notes with a photo, close with an outcome), the
caller's phone only when the dispatcher includes it, agency SLAs, and closing the loop: the command centre
sees it on the incident's timeline and live, and is asked to resolve when every agency is done and no police
unit is on it."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import httpx
import pytest
import websockets

from jogo_dispatch.dispatch import stats
from jogo_dispatch.forwards import closing, delivery
from jogo_dispatch.platform.body_limit import BodyLimitMiddleware
from jogo_dispatch.platform.events import ForwardNoted, agency_audience
from tests.forwards.conftest import MALANG, agency_ids, agency_login, make_incident, rows, wait_for
from tests.live.test_live_ws import next_of, token_of
from tests.reports.helpers import EventLog, citizen, fleet, png, verified_incident


async def _forward(
    client: httpx.AsyncClient, dispatcher: dict[str, str], incident_id: int, *agencies: int, **extra: Any
) -> dict[int, int]:
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/forwards",
        headers=dispatcher,
        json={"agency_ids": list(agencies), **extra},
    )
    assert r.status_code in (200, 201), r.text
    return {f["agency_id"]: f["id"] for f in r.json()["forwards"]}


async def _alerts(database_url: str, kind: str) -> list[tuple[Any, ...]]:
    return await rows(database_url, "SELECT incident_id, data FROM alerts WHERE kind = %s ORDER BY id", kind)


async def test_pln_works_a_power_failure_and_the_command_centre_sees_every_step(
    app, client, actors, seeded, database_url, tmp_path, monkeypatch
):
    events = EventLog(app)
    monkeypatch.setattr(app.state.runtime.settings, "data_dir", tmp_path)
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    pln, dlh = await agency_ids(database_url, "PLN", "DLH")
    power = await agency_login(client, admin, pln, "pln.piket")
    trees = await agency_login(client, admin, dlh, "dlh.piket")
    citizen_id, warga = await citizen(client)
    (phone,) = (await rows(database_url, "SELECT phone FROM users WHERE id = %s", citizen_id))[0]
    incident = await verified_incident(
        client,
        warga,
        dispatcher,
        category="power_outage",
        description="Listrik padam satu RW",
        address="Jl. Ijen",
    )
    mine = (await _forward(client, dispatcher, incident, pln))[pln]

    # without the dispatcher's say-so the agency never sees the caller's phone
    view = await client.get(f"/api/v1/agency/forwards/{mine}", headers=power)
    assert view.status_code == 200, view.text
    assert (view.json()["include_caller_phone"], view.json()["caller_phone"]) == (False, None)
    inbox = await client.get("/api/v1/agency/inbox", headers=power)
    assert phone not in view.text and phone not in inbox.text
    assert (inbox.json()["agency_code"], inbox.json()["ack_minutes"]) == ("PLN", 10.0)
    # forwarding again with it shares it on the open forward (audited)
    again = await _forward(client, dispatcher, incident, pln, include_caller_phone=True)
    assert again == {pln: mine}
    view = (await client.get(f"/api/v1/agency/forwards/{mine}", headers=power)).json()
    assert (view["include_caller_phone"], view["caller_phone"]) == (True, phone)
    assert view["incident"]["category"] == "power_outage" and view["incident"]["photos"] == []

    # acknowledge, on the way, a note with a photo, close with an outcome
    pln_user = (await client.get("/api/v1/me", headers=power)).json()["user_id"]
    assert (await client.post(f"/api/v1/agency/forwards/{mine}/ack", headers=power)).json()["status"] == (
        "acknowledged"
    )
    started = await client.post(
        f"/api/v1/agency/forwards/{mine}/start", headers=power, json={"note": "Regu gangguan menuju lokasi"}
    )
    assert started.status_code == 200 and started.json()["status"] == "in_progress", started.text
    assert started.json()["started_by"] == pln_user
    listed = await client.get("/api/v1/agency/inbox", headers=power, params={"status": "in_progress"})
    assert [i["id"] for i in listed.json()["items"]] == [mine]
    photo = png(40, 30, seed=3)
    noted = await client.post(
        f"/api/v1/agency/forwards/{mine}/notes",
        headers=power,
        data={"text": "Trafo gardu terbakar, diganti"},
        files={"photo": ("gardu.png", photo, "image/png")},
    )
    assert noted.status_code == 201, noted.text
    note = noted.json()
    assert note["photo_url"] == f"/api/v1/forwards/{mine}/notes/{note['id']}/photo"
    assert note["author_name"] == "Piket pln.piket"
    bad = await client.post(
        f"/api/v1/agency/forwards/{mine}/notes",
        headers=power,
        data={"text": "foto rusak"},
        files={"photo": ("x.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_photo", bad.text
    empty_file = await client.post(
        f"/api/v1/agency/forwards/{mine}/notes",
        headers=power,
        data={"text": "tanpa foto"},
    )
    assert empty_file.status_code == 201 and empty_file.json()["photo_url"] is None, empty_file.text
    closed = await client.post(
        f"/api/v1/agency/forwards/{mine}/close",
        headers=power,
        json={"outcome": "resolved", "note": "Listrik menyala kembali"},
    )
    assert closed.status_code == 200 and closed.json()["outcome"] == "resolved", closed.text

    # the photo: the forward's agency and the command centre; nobody else
    got = await client.get(note["photo_url"], headers=power)
    assert got.status_code == 200 and got.content == photo and got.headers["content-type"] == "image/png"
    assert (await client.get(note["photo_url"], headers=dispatcher)).content == photo
    r = await client.get(note["photo_url"], headers=trees)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "forward_not_found")
    r = await client.get(note["photo_url"], headers=warga)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_role")
    r = await client.get(f"/api/v1/forwards/{mine}/notes/{empty_file.json()['id']}/photo", headers=power)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "no_photo")

    # the dispatcher's timeline: every step of the agency, its notes' text, the outcome
    timeline = (await client.get(f"/api/v1/incidents/{incident}/timeline", headers=dispatcher)).json()
    steps = [
        (e["action"], e["to_state"], e["reason"], e["data"].get("outcome"))
        for e in timeline["items"]
        if e["entity_type"] == "forward"
    ]
    assert steps == [
        ("created", "sent", None, None),
        ("caller_phone_shared", "sent", None, None),
        ("acknowledged", "acknowledged", None, None),
        ("in_progress", "in_progress", "Regu gangguan menuju lokasi", None),
        ("note", "in_progress", "Trafo gardu terbakar, diganti", None),
        ("note", "in_progress", "tanpa foto", None),
        ("closed", "closed", "Listrik menyala kembali", "resolved"),
    ]
    assert {e["data"]["agency_code"] for e in timeline["items"] if e["entity_type"] == "forward"} == {"PLN"}
    detail = (await client.get(f"/api/v1/incidents/{incident}/forwards", headers=dispatcher)).json()["items"]
    assert [(n["text"], n["photo_url"] is not None) for n in detail[0]["notes"]] == [
        ("Regu gangguan menuju lokasi", False),
        ("Trafo gardu terbakar, diganti", True),
        ("tanpa foto", False),
        ("Listrik menyala kembali", False),
    ]
    # ...and live: the notes and the close reach the desk
    assert [n["note"]["text"] for n in events.of("forward_note")] == [
        "Trafo gardu terbakar, diganti",
        "tanpa foto",
    ]
    assert events.of("forward_note")[0]["note"]["agency_code"] == "PLN"
    assert [(f["forward"]["status"], f["forward"]["outcome"]) for f in events.of("forward")][-1] == (
        "closed",
        "resolved",
    )
    # PLN was the only agency and no police unit is on it: the dispatcher is asked to resolve
    [(at_incident, data)] = await _alerts(database_url, "resolve_suggested")
    assert at_incident == incident and data["forwards"] == [
        {"id": mine, "agency_id": pln, "agency_code": "PLN", "outcome": "resolved"}
    ]
    assert (await rows(database_url, "SELECT status FROM incidents WHERE id = %s", incident)) == [
        ("verified",)
    ]


async def test_resolve_is_asked_again_when_the_last_offer_leaves_an_incident_the_agencies_finished(
    app, client, actors, seeded, database_url
):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    [dlh] = await agency_ids(database_url, "DLH")
    login = await agency_login(client, admin, dlh, "dlh.selesai")
    _, warga = await citizen(client)
    [(officer_id, _)] = await fleet(client, actors, [300.0])
    tree = await verified_incident(client, warga, dispatcher, category="fallen_tree")
    offer = await client.post(
        f"/api/v1/incidents/{tree}/dispatch", headers=dispatcher, json={"officer_id": officer_id}
    )
    assert offer.status_code == 201, offer.text
    ids = await _forward(client, dispatcher, tree, dlh)
    r = await client.post(
        f"/api/v1/agency/forwards/{ids[dlh]}/close", headers=login, json={"outcome": "resolved"}
    )
    assert r.status_code == 200, r.text
    assert await _alerts(database_url, "resolve_suggested") == []  # an officer is being offered it

    # the dispatcher withdraws the offer: nobody is on it any more, DLH is done -> asked once
    r = await client.post(f"/api/v1/offers/{offer.json()['id']}/cancel", headers=dispatcher, json={})
    assert r.status_code == 200, r.text
    [(at, data)] = await wait_for(lambda: _alerts(database_url, "resolve_suggested"))
    assert at == tree and data["last_closed_by"] == "DLH"
    assert data["forwards"] == [
        {"id": ids[dlh], "agency_id": dlh, "agency_code": "DLH", "outcome": "resolved"}
    ]
    # another offer coming and going asks nothing new while the question is open
    again = await client.post(
        f"/api/v1/incidents/{tree}/dispatch", headers=dispatcher, json={"officer_id": officer_id}
    )
    assert again.status_code == 201, again.text
    r = await client.post(f"/api/v1/offers/{again.json()['id']}/cancel", headers=dispatcher, json={})
    assert r.status_code == 200
    await asyncio.sleep(0.3)
    assert len(await _alerts(database_url, "resolve_suggested")) == 1


async def test_resolve_is_asked_only_when_every_agency_is_done_and_no_unit_is_on_it(
    app, client, actors, seeded, database_url, monkeypatch
):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    dlh, bpbd, pln = await agency_ids(database_url, "DLH", "BPBD", "PLN")
    logins = {
        a: await agency_login(client, admin, a, name)
        for a, name in ((dlh, "dlh.tutup"), (bpbd, "bpbd.tutup"), (pln, "pln.tutup"))
    }
    _, warga = await citizen(client)

    async def close(agency: int, forward_id: int, outcome: str) -> None:
        r = await client.post(
            f"/api/v1/agency/forwards/{forward_id}/close", headers=logins[agency], json={"outcome": outcome}
        )
        assert r.status_code == 200, r.text

    # a fallen tree with a police unit on it: DLH and BPBD both close, the unit is still there
    [(officer_id, officer)] = await fleet(client, actors, [300.0])
    tree = await verified_incident(client, warga, dispatcher, category="fallen_tree")
    offer = await client.post(
        f"/api/v1/incidents/{tree}/dispatch", headers=dispatcher, json={"officer_id": officer_id}
    )
    assert offer.status_code == 201, offer.text
    assert (
        await client.post(f"/api/v1/offers/{offer.json()['id']}/accept", headers=officer)
    ).status_code == 200
    ids = await _forward(client, dispatcher, tree, dlh, bpbd)
    await close(dlh, ids[dlh], "resolved")
    assert await _alerts(database_url, "resolve_suggested") == []  # BPBD is still on it
    await close(bpbd, ids[bpbd], "not_responsible")
    [(at, data)] = await _alerts(database_url, "forward_declined")
    assert (at, data["agency_code"], data["outcome"]) == (tree, "BPBD", "not_responsible")
    assert await _alerts(database_url, "resolve_suggested") == []  # the officer is on it

    # every agency handed it back: a forward_declined each, nothing to resolve
    cut = await verified_incident(client, warga, dispatcher, category="power_outage", lat=MALANG[0] + 0.01)
    ids = await _forward(client, dispatcher, cut, pln)
    await close(pln, ids[pln], "referred")
    assert [a for a, _ in await _alerts(database_url, "forward_declined")] == [tree, cut]
    assert await _alerts(database_url, "resolve_suggested") == []

    # two agencies closing at the same moment (both closes written, neither committed, when each looks
    # whether it was the last): exactly one of them asks
    both = await verified_incident(client, warga, dispatcher, category="fallen_tree", lat=MALANG[0] + 0.02)
    ids = await _forward(client, dispatcher, both, dlh, bpbd)
    real, barrier = closing.after_close, asyncio.Barrier(2)

    async def together(*args: Any) -> bool:
        await barrier.wait()
        return await real(*args)

    monkeypatch.setattr(closing, "after_close", together)
    await asyncio.gather(close(dlh, ids[dlh], "resolved"), close(bpbd, ids[bpbd], "no_action_needed"))
    monkeypatch.setattr(closing, "after_close", real)
    assert [a for a, _ in await _alerts(database_url, "resolve_suggested")] == [both]
    # closing again changes nothing and asks nothing more
    await close(dlh, ids[dlh], "resolved")
    assert len(await _alerts(database_url, "resolve_suggested")) == 1

    # bad outcomes are 422; another agency's forward is 404 for every action
    r = await client.post(
        f"/api/v1/agency/forwards/{ids[dlh]}/close", headers=logins[dlh], json={"outcome": "done"}
    )
    assert r.status_code == 422
    for path, body in (("start", None), ("close", None), ("notes", {"text": "x"}), ("ack", None)):
        r = await client.post(f"/api/v1/agency/forwards/{ids[dlh]}/{path}", headers=logins[pln], json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "forward_not_found"), path
    r = await client.post(f"/api/v1/agency/forwards/{ids[dlh]}/start", headers=logins[dlh])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_transition")


async def test_notes_and_timeline_of_a_shared_incident_stay_with_their_agency(
    app, client, actors, seeded, database_url, tmp_path, monkeypatch
):
    monkeypatch.setattr(app.state.runtime.settings, "data_dir", tmp_path)
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    dlh, bpbd = await agency_ids(database_url, "DLH", "BPBD")
    trees = await agency_login(client, admin, dlh, "dlh.catat")
    disaster = await agency_login(client, admin, bpbd, "bpbd.catat")
    _, warga = await citizen(client)
    incident = await verified_incident(client, warga, dispatcher, category="fallen_tree")
    ids = await _forward(client, dispatcher, incident, dlh, bpbd)
    for agency, headers, text in (
        (dlh, trees, "Pohon dipotong"),
        (bpbd, disaster, "Jalan ditutup sementara"),
    ):
        r = await client.post(
            f"/api/v1/agency/forwards/{ids[agency]}/notes",
            headers=headers,
            data={"text": text},
            files={"photo": ("p.png", png(8, 8, seed=agency), "image/png")},
        )
        assert r.status_code == 201, r.text

    # each agency sees its own notes and photos only
    own = (await client.get(f"/api/v1/agency/forwards/{ids[dlh]}", headers=trees)).json()
    assert [n["text"] for n in own["notes"]] == ["Pohon dipotong"]
    theirs_note = (await client.get(f"/api/v1/agency/forwards/{ids[bpbd]}", headers=disaster)).json()[
        "notes"
    ][0]
    r = await client.get(theirs_note["photo_url"], headers=trees)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "forward_not_found")
    # a photo asked for through the other forward's id is not found either
    r = await client.get(f"/api/v1/forwards/{ids[dlh]}/notes/{theirs_note['id']}/photo", headers=trees)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "no_photo")
    assert (await client.get(theirs_note["photo_url"], headers=dispatcher)).status_code == 200

    # the agency's own timeline: the incident's changes and its own forward's entries, no actor, no other's
    rt = app.state.runtime
    dlh_user = (await client.get("/api/v1/me", headers=trees)).json()["user_id"]
    async with rt.sessions() as session:
        seen = await stats.timeline(session, incident, agency=True, login_id=dlh_user)
        full = await stats.timeline(session, incident)
    forward_entries = [e for e in seen.items if e.entity_type == "forward"]
    assert {e.entity_id for e in forward_entries} == {ids[dlh]}
    assert [e.reason for e in forward_entries if e.action == "note"] == ["Pohon dipotong"]
    assert all(e.actor_id is None for e in seen.items)
    assert all(set(e.data) <= {"note_id", "photo_url", "outcome"} for e in forward_entries)
    assert {e.entity_id for e in full.items if e.entity_type == "forward"} == {ids[dlh], ids[bpbd]}
    # the live note is for the command centre and its own agency only
    assert ForwardNoted(note={"agency_id": dlh}).audience() == frozenset({agency_audience(dlh)})


async def test_an_agencys_sla_decides_when_the_dispatchers_are_alerted(
    app, client, actors, seeded, database_url
):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    pln, dlh = await agency_ids(database_url, "PLN", "DLH")
    power = await agency_login(client, admin, pln, "pln.sla")

    r = await client.put(f"/api/v1/agencies/{pln}/sla", headers=admin, json={"ack_minutes": 5})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "agency_id": pln,
        "agency_code": "PLN",
        "ack_minutes": 5,
        "default_ack_minutes": 10.0,
        "effective_ack_minutes": 5.0,
    }
    for body in ({"ack_minutes": 0}, {"ack_minutes": 10081}, {}, {"ack_minutes": "soon"}):
        assert (await client.put(f"/api/v1/agencies/{pln}/sla", headers=admin, json=body)).status_code == 422
    assert (
        await client.put(f"/api/v1/agencies/{pln}/sla", headers=dispatcher, json={"ack_minutes": 1})
    ).status_code == 403
    r = await client.put("/api/v1/agencies/999999/sla", headers=admin, json={"ack_minutes": 1})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "agency_not_found")
    assert (await client.get(f"/api/v1/agencies/{dlh}/sla", headers=dispatcher)).json()[
        "effective_ack_minutes"
    ] == 10.0
    assert (await client.get("/api/v1/agency/inbox", headers=power)).json()["ack_minutes"] == 5.0

    _, warga = await citizen(client)
    incident = await verified_incident(client, warga, dispatcher, category="power_outage")
    ids = await _forward(client, dispatcher, incident, pln, dlh)
    item = (await client.get("/api/v1/agency/inbox", headers=power)).json()["items"][0]
    due = datetime.fromisoformat(item["ack_due_at"]) - datetime.fromisoformat(item["created_at"])
    assert due.total_seconds() == 300
    # both were made six minutes ago: past PLN's 5 minutes, within DLH's default 10
    await rows(database_url, "UPDATE forwards SET created_at = now() - interval '6 minutes'")

    async def alerted() -> list[tuple[Any, ...]]:
        return await rows(
            database_url,
            "SELECT data->>'agency_code', data->>'sla_minutes', message FROM alerts "
            "WHERE kind = 'forward_unacknowledged' ORDER BY id",
        )

    await delivery.alert_unacknowledged(app.state.runtime)
    [(code, minutes, message)] = await wait_for(alerted)
    assert (code, minutes) == ("PLN", "5") and "within 5 min" in message
    # a tighter SLA for DLH applies to its open forward at once
    assert (
        await client.put(f"/api/v1/agencies/{dlh}/sla", headers=admin, json={"ack_minutes": 3})
    ).status_code == 200
    await delivery.alert_unacknowledged(app.state.runtime)
    assert [c for c, _, _ in await wait_for(lambda: _two(alerted))] == ["PLN", "DLH"]
    # back to the default; every change audited
    r = await client.put(f"/api/v1/agencies/{pln}/sla", headers=admin, json={"ack_minutes": None})
    assert (r.json()["ack_minutes"], r.json()["effective_ack_minutes"]) == (None, 10.0)
    trail = await rows(
        database_url,
        "SELECT entity_id, data FROM audit_log WHERE entity_type = 'agency' AND action = 'sla' ORDER BY id",
    )
    assert [(e, d["before"]["ack_minutes"], d["after"]["ack_minutes"]) for e, d in trail] == [
        (pln, None, 5),
        (dlh, None, 3),
        (pln, 5, None),
    ]
    assert ids[pln] != ids[dlh]


async def _two(check: Any) -> list[tuple[Any, ...]] | None:
    got: list[tuple[Any, ...]] = await check()
    return got if len(got) >= 2 else None


async def test_the_desk_and_the_agency_see_notes_and_closes_live(live_server, actors, seeded, database_url):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    pln, dlh = await agency_ids(database_url, "PLN", "DLH")
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        power = await agency_login(http, admin, pln, "pln.live")
        trees = await agency_login(http, admin, dlh, "dlh.live")
        _, warga = await citizen(http)
        incident = await verified_incident(http, warga, dispatcher, category="power_outage")
        url = f"{live_server.ws}/api/v1/live"
        async with (
            websockets.connect(f"{url}?token={token_of(power)}") as mine,
            websockets.connect(f"{url}?token={token_of(trees)}") as other,
            websockets.connect(f"{url}?token={token_of(dispatcher)}") as centre,
        ):
            for ws in (mine, other, centre):
                await next_of(ws, "snapshot")
            forward_id = (await _forward(http, dispatcher, incident, pln))[pln]
            arrived = await next_of(mine, "forward")
            assert (arrived["forward"]["id"], arrived["forward"]["status"]) == (forward_id, "sent")
            r = await http.post(
                f"/api/v1/agency/forwards/{forward_id}/notes",
                headers=power,
                json={"text": "Petugas di lokasi"},
            )
            assert r.status_code == 201, r.text
            for ws in (centre, mine):
                got = await next_of(ws, "forward_note")
                assert (got["note"]["text"], got["note"]["incident_id"]) == ("Petugas di lokasi", incident)
            r = await http.post(
                f"/api/v1/agency/forwards/{forward_id}/close", headers=power, json={"outcome": "resolved"}
            )
            assert r.status_code == 200, r.text
            closed = await next_of(centre, "forward", where=lambda m: m["forward"]["status"] == "closed")
            assert closed["forward"]["outcome"] == "resolved"
            asked = await next_of(centre, "alert", where=lambda m: m["alert"]["kind"] == "resolve_suggested")
            assert asked["alert"]["incident_id"] == incident
            # DLH's socket heard nothing of it
            await other.send('{"type": "viewport", "bbox": [112, -8.5, 113, -7.5]}')
            seen = []
            while True:
                try:
                    seen.append(await asyncio.wait_for(other.recv(), 0.3))
                except TimeoutError:
                    break
            assert all('"heartbeat"' in m for m in seen), seen


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/agency/forwards/12/notes", 500),
        ("/api/v1/agency/forwards/12/notes/x", 10),
        ("/api/v1/agency/forwards/12/close", 10),
        ("/api/v1/reports", 300),
    ],
)
def test_the_body_limit_lets_a_note_carry_a_photo(path: str, expected: int) -> None:
    limiter = BodyLimitMiddleware(
        None,  # type: ignore[arg-type]
        default=10,
        limits={"/api/v1/reports": 300},
        patterns={r"/api/v1/agency/forwards/[0-9]+/notes": 500},
    )
    assert limiter.limit_of(path) == expected


async def test_a_webhook_agency_gets_the_callers_phone_only_when_the_dispatcher_includes_it(
    app, client, actors, seeded, database_url, receiver, fast_delivery
):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    (dishub,) = await agency_ids(database_url, "DISHUB")
    r = await client.put(
        f"/api/v1/agencies/{dishub}/delivery",
        headers=admin,
        json={"delivery": "webhook", "webhook_url": receiver.url},
    )
    assert r.status_code == 200, r.text
    caller = {"caller": {"name": "Pak Budi", "phone": "+6281122334455"}}
    told = await make_incident(app, "traffic_jam", data=caller)
    silent = await make_incident(app, "traffic_jam", lat=MALANG[0] + 0.01, data=caller)
    await _forward(client, dispatcher, told, dishub, include_caller_phone=True)
    await _forward(client, dispatcher, silent, dishub)

    async def both() -> list[dict[str, Any]] | None:
        bodies = [json.loads(r["body"]) for r in receiver.delivered() if r["body"].startswith(b"{")]
        return bodies if len(bodies) == 2 else None

    phones = {b["incident"]["id"]: b["forward"]["caller_phone"] for b in await wait_for(both)}
    assert phones == {told: "+6281122334455", silent: None}
    assert all(
        b"+6281122334455" not in r["body"] for r in receiver.delivered() if b"jogo.forward" not in r["body"]
    )
