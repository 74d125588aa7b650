"""A dispatcher withdraws a false marking: the strike goes, an account blocked by it opens again, the
report is back in the verification queue; audited."""

from __future__ import annotations

from tests.reports.helpers import citizen, file_report, rows


async def test_a_withdrawn_false_marking_removes_the_strike_and_unblocks(client, actors, database_url):
    dispatcher = await actors.user("dispatcher")
    _, me = await citizen(client)
    reports = [await file_report(client, me, description=f"Laporan {n}") for n in range(3)]
    for report in reports:
        r = await client.post(
            f"/api/v1/reports/{report['id']}/reject", headers=dispatcher, json={"reason": "false"}
        )
        assert r.status_code == 200, r.text
    warned = (await client.get("/api/v1/me/warnings", headers=me)).json()
    assert (warned["strike_count"], warned["blocked"]) == (3, True)
    assert (await client.post("/api/v1/reports", headers=me, json={})).status_code in (403, 422)

    wrong = reports[1]["id"]
    r = await client.post(
        f"/api/v1/reports/{wrong}/unmark-false",
        headers=dispatcher,
        json={"reason": "foto asli, salah tandai"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received"
    warned = (await client.get("/api/v1/me/warnings", headers=me)).json()
    assert (warned["strike_count"], warned["blocked"]) == (2, False)
    assert sorted(w["report_id"] for w in warned["warnings"]) == sorted([reports[0]["id"], reports[2]["id"]])
    queue = (await client.get("/api/v1/reports", headers=dispatcher)).json()["items"]
    assert wrong in [q["id"] for q in queue]
    assert (await file_report(client, me, description="Sudah boleh lapor lagi"))["status"] == "received"
    audited = await rows(
        database_url,
        "SELECT entity_type, action FROM audit_log WHERE entity_type IN ('strike', 'citizen') "
        "AND action IN ('withdrawn', 'unblock', 'false_report_withdrawn') ORDER BY id",
    )
    assert audited == [("citizen", "false_report_withdrawn"), ("strike", "withdrawn"), ("citizen", "unblock")]
    [(actor,)] = await rows(
        database_url, "SELECT actor_id FROM audit_log WHERE entity_type = 'citizen' AND action = 'unblock'"
    )
    assert actor == (await client.get("/api/v1/me", headers=dispatcher)).json()["user_id"]

    # only a report marked false can be unmarked; only dispatchers may
    again = await client.post(f"/api/v1/reports/{wrong}/unmark-false", headers=dispatcher)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "report_not_false")
    missing = await client.post("/api/v1/reports/999999/unmark-false", headers=dispatcher)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "report_not_found")
    assert (
        await client.post(f"/api/v1/reports/{reports[0]['id']}/unmark-false", headers=me)
    ).status_code == 403
    bad = await client.post(
        f"/api/v1/reports/{reports[0]['id']}/unmark-false", headers=dispatcher, json={"x": 1}
    )
    assert bad.status_code == 422

    # marked false again, it strikes again and blocks again
    r = await client.post(f"/api/v1/reports/{wrong}/reject", headers=dispatcher, json={"reason": "false"})
    assert r.status_code == 200, r.text
    warned = (await client.get("/api/v1/me/warnings", headers=me)).json()
    assert (warned["strike_count"], warned["blocked"]) == (3, True)


async def test_the_evidence_of_a_report_has_the_reporters_record_and_its_duplicates(client, actors):
    dispatcher = await actors.user("dispatcher")
    _, me = await citizen(client)
    first = await file_report(client, me, description="Tabrakan, korban di trotoar")
    r = await client.post(f"/api/v1/reports/{first['id']}/verify", headers=dispatcher)
    incident = r.json()["incident_id"]
    old = await file_report(client, me, category="crime", description="Jambret")
    await client.post(f"/api/v1/reports/{old['id']}/reject", headers=dispatcher, json={"reason": "false"})
    # a second citizen reports the same crash: it links at once to the open incident
    _, other = await citizen(client, name="Warga lain")
    second = await file_report(client, other, description="Ada kecelakaan")
    evidence = await client.get(f"/api/v1/reports/{first['id']}/evidence", headers=dispatcher)
    assert evidence.status_code == 200, evidence.text
    body = evidence.json()
    assert body["reporter"] == {
        "reports": 2,
        "verified": 1,
        "rejected": 0,
        "false_reports": 1,
        "strike_count": 1,
        "blocked": False,
    }
    assert body["report"]["reporter_phone"] and body["report"]["reporter_distance_m"] > 0
    assert body["photo_url"] is None and body["duplicates"] == []  # its own incident is not a duplicate
    theirs = (await client.get(f"/api/v1/reports/{second['id']}/evidence", headers=dispatcher)).json()
    assert theirs["reporter"]["reports"] == 1
    assert [d["id"] for d in theirs["duplicates"]] in ([], [incident])  # linked already, or offered
    for who in (me, await actors.user("agency")):
        r = await client.get(f"/api/v1/reports/{first['id']}/evidence", headers=who)
        assert r.status_code == 403
    missing = await client.get("/api/v1/reports/999999/evidence", headers=dispatcher)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "report_not_found")
