"""What an agency login may read: only incidents forwarded to its agency, and of those only what the work
needs (no reporter account, phone, device or place; no officers). Everything else is 404, and its live
feed carries its own forwards only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import websockets

from tests.forwards.conftest import MALANG, agency_ids, agency_login
from tests.live.test_live_ws import next_of, token_of
from tests.reports.helpers import citizen, png, report_body

REPORTER_FIELDS = {"citizen_id", "reporter_phone", "reporter_lat", "reporter_lon", "device_id", "user_agent"}


async def _photo_report(client: httpx.AsyncClient, me: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/reports",
        headers=me,
        data={k: str(v) for k, v in report_body(**body).items()},
        files={"photo": ("tkp.png", png(seed=len(body)), "image/png")},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_an_agency_sees_of_its_forwarded_incident_only_what_the_work_needs(
    app, client, actors, seeded, database_url, tmp_path, monkeypatch
):
    monkeypatch.setattr(app.state.runtime.settings, "data_dir", tmp_path)
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    satlantas, jasa = await agency_ids(database_url, "SATLANTAS", "JASA_RAHARJA")
    traffic = await agency_login(client, admin, satlantas, "satlantas.lihat")
    insurer = await agency_login(client, admin, jasa, "jasaraharja.lihat")
    _, warga = await citizen(client)
    crash_report = await _photo_report(client, warga)
    other_report = await _photo_report(
        client, warga, category="traffic_jam", lat=MALANG[0] + 0.02, description="Macet di Jl. Soekarno Hatta"
    )
    for report in (crash_report, other_report):
        r = await client.post(f"/api/v1/reports/{report['id']}/verify", headers=dispatcher)
        assert r.status_code == 200, r.text
        report["incident_id"] = r.json()["incident_id"]
    crash, jam = crash_report["incident_id"], other_report["incident_id"]
    sos = await client.post("/api/v1/sos", headers=warga, json={"lat": MALANG[0], "lon": MALANG[1]})
    assert sos.status_code == 201, sos.text
    r = await client.post(
        f"/api/v1/incidents/{crash}/forwards", headers=dispatcher, json={"agency_ids": [satlantas]}
    )
    assert r.status_code == 201, r.text

    # the forwarded incident: what, where, how it stands, its photos; nobody's identity
    detail = await client.get(f"/api/v1/incidents/{crash}", headers=traffic)
    assert detail.status_code == 200, detail.text
    seen = detail.json()
    assert seen["photos"] == [f"/api/v1/reports/{crash_report['id']}/photo"]
    assert (seen["category"], seen["lat"], seen["address"]) == (
        "traffic_accident",
        report_body()["lat"],
        "Jl. Ijen",
    )
    for hidden in ("reporter_id", "data", "reports", "offers", "nearest", "officer_id"):
        assert hidden not in seen, hidden
    full = (await client.get(f"/api/v1/incidents/{crash}", headers=dispatcher)).json()
    assert full["reports"] and "nearest" in full  # the dispatcher still sees everything
    listed = (await client.get("/api/v1/incidents", params={"status": "all"}, headers=traffic)).json()
    assert [i["id"] for i in listed["items"]] == [crash] and "officer_id" not in listed["items"][0]
    timeline = (await client.get(f"/api/v1/incidents/{crash}/timeline", headers=traffic)).json()["items"]
    # the incident's own changes without who or their data, and its own forward's entries
    assert timeline and {e["entity_type"] for e in timeline} == {"incident", "forward"}
    assert all(e["actor_id"] is None and e["data"] == {} for e in timeline if e["entity_type"] == "incident")
    full_timeline = (await client.get(f"/api/v1/incidents/{crash}/timeline", headers=dispatcher)).json()
    assert "report" in {e["entity_type"] for e in full_timeline["items"]}

    # its report and photo, as their author sees them
    report = await client.get(f"/api/v1/reports/{crash_report['id']}", headers=traffic)
    assert report.status_code == 200, report.text
    assert not REPORTER_FIELDS & set(report.json())
    assert (
        set((await client.get(f"/api/v1/reports/{crash_report['id']}", headers=dispatcher)).json())
        >= REPORTER_FIELDS
    )
    photo = await client.get(f"/api/v1/reports/{crash_report['id']}/photo", headers=traffic)
    assert photo.status_code == 200 and photo.content.startswith(b"\x89PNG")

    # everything not forwarded to it does not exist for it; the command centre reads it all
    sos_id = sos.json()["sos_id"]
    for caller, path, code in (
        (traffic, f"/api/v1/reports/{other_report['id']}", "report_not_found"),
        (traffic, f"/api/v1/reports/{other_report['id']}/photo", "report_not_found"),
        (traffic, f"/api/v1/sos/{sos_id}", "sos_not_found"),
        (traffic, f"/api/v1/incidents/{jam}", "incident_not_found"),
        (insurer, f"/api/v1/reports/{crash_report['id']}", "report_not_found"),
        (insurer, f"/api/v1/reports/{crash_report['id']}/photo", "report_not_found"),
        (insurer, f"/api/v1/incidents/{crash}", "incident_not_found"),
    ):
        r = await client.get(path, headers=caller)
        assert (r.status_code, r.json()["error"]["code"]) == (404, code), path
        assert (await client.get(path, headers=dispatcher)).status_code == 200, path
    r = await client.get(f"/api/v1/officers/{(await actors.officer())[0]}/track", headers=traffic)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_role")

    # an SOS forwarded to it: its trail, without who ended it
    r = await client.post(
        f"/api/v1/incidents/{sos.json()['incident_id']}/forwards",
        headers=dispatcher,
        json={"agency_ids": [satlantas]},
    )
    assert r.status_code == 201, r.text
    await client.post(f"/api/v1/sos/{sos_id}/end", headers=warga)
    trail = await client.get(f"/api/v1/sos/{sos_id}", headers=traffic)
    assert trail.status_code == 200 and trail.json()["trail"] and trail.json()["ended_by"] is None
    assert (await client.get(f"/api/v1/sos/{sos_id}", headers=dispatcher)).json()["ended_by"] is not None


async def test_an_agencys_live_feed_carries_only_its_own_forwards(live_server, actors, seeded, database_url):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    satlantas, pln = await agency_ids(database_url, "SATLANTAS", "PLN")
    _, officer = await actors.officer()
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        traffic = await agency_login(http, admin, satlantas, "satlantas.peta")
        power = await agency_login(http, admin, pln, "pln.peta")
        _, warga = await citizen(http)

        async def incident(category: str, north: float) -> int:
            body = report_body(category=category, lat=MALANG[0] + north, description=f"{category} di Klojen")
            filed = await http.post("/api/v1/reports", headers=warga, json=body)
            assert filed.status_code == 201, filed.text
            r = await http.post(f"/api/v1/reports/{filed.json()['id']}/verify", headers=dispatcher)
            assert r.status_code == 200, r.text
            return int(r.json()["incident_id"])

        before = await incident("traffic_accident", 0.0)
        r = await http.post(
            f"/api/v1/incidents/{before}/forwards", headers=dispatcher, json={"agency_ids": [satlantas]}
        )
        assert r.status_code == 201, r.text
        url = f"{live_server.ws}/api/v1/live"
        async with (
            websockets.connect(f"{url}?token={token_of(traffic)}") as mine,
            websockets.connect(f"{url}?token={token_of(power)}") as theirs,
            websockets.connect(f"{url}?token={token_of(dispatcher)}") as centre,
        ):
            snap = await next_of(mine, "snapshot")
            assert [f["incident_id"] for f in snap["forwards"]] == [before]
            assert (snap["officers"], snap["incidents"], snap["alerts"]) == ([], [], [])
            assert (await next_of(theirs, "snapshot"))["forwards"] == []
            assert (await next_of(centre, "snapshot"))["incidents"]
            # the command centre's traffic: a new incident, an officer moving, a power forward
            after = await incident("power_outage", 0.01)
            ping = {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": datetime.now(UTC).isoformat()}
            await http.post("/api/v1/pings", headers=officer, json=ping)
            r = await http.post(
                f"/api/v1/incidents/{after}/forwards", headers=dispatcher, json={"agency_ids": [pln]}
            )
            assert r.status_code == 201, r.text
            got = await next_of(theirs, "forward")
            assert (got["forward"]["incident_id"], got["forward"]["agency_id"]) == (after, pln)
            assert (await next_of(centre, "forward"))["forward"]["incident_id"] == after
            # ...reaches the agency it was forwarded to, and nothing of it reaches the other one
            r = await http.post(
                f"/api/v1/incidents/{before}/forwards", headers=dispatcher, json={"agency_ids": [satlantas]}
            )
            await mine.send(orjson.dumps({"type": "viewport", "bbox": [112, -8.5, 113, -7.5]}).decode())
            await asyncio.sleep(0.5)
            seen = []
            while True:
                try:
                    seen.append(orjson.loads(await asyncio.wait_for(mine.recv(), 0.3)))
                except TimeoutError:
                    break
            assert {m["type"] for m in seen} <= {"heartbeat"}, seen

    # an agency login bound to no agency gets no feed at all
    unbound = token_of(await actors.user("agency"))
    async with websockets.connect(f"{live_server.ws}/api/v1/live?token={unbound}") as ws:
        assert orjson.loads(await ws.recv())["error"]["code"] == "not_agency_member"
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4403
