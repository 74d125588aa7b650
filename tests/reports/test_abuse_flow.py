"""The whole abuse path through the API: three false reports block the account, report and SOS are
refused with 403, an appeal granted by a dispatcher reopens it."""

from __future__ import annotations

from tests.reports.helpers import citizen, file_report, report_body, rows


async def test_three_false_reports_block_reports_and_sos_until_an_appeal_is_granted(
    client, actors, database_url
):
    dispatcher = await actors.user("dispatcher")
    uid, me = await citizen(client)
    for i in range(3):
        rep = await file_report(client, me, description=f"hoax number {i}", lat=-7.98 + i * 0.01)
        r = await client.post(
            f"/api/v1/reports/{rep['id']}/reject", headers=dispatcher, json={"reason": "false"}
        )
        assert r.status_code == 200, r.text
    r = await client.post("/api/v1/reports", headers=me, json=report_body())
    assert r.status_code == 403 and r.json()["error"]["code"] == "account_blocked"
    r = await client.post("/api/v1/sos", headers=me, json={"lat": -7.98, "lon": 112.63, "accuracy_m": 10})
    assert r.status_code == 403 and r.json()["error"]["code"] == "account_blocked"
    assert len(await rows(database_url, "SELECT id FROM reports WHERE citizen_id = %s", uid)) == 3
    warnings = (await client.get("/api/v1/me/warnings", headers=me)).json()
    assert warnings["blocked"] is True and warnings["strike_count"] == 3 and len(warnings["warnings"]) == 3
    appeal = await client.post("/api/v1/appeals", headers=me, json={"text": "Maaf, saya salah pencet."})
    assert appeal.status_code == 201, appeal.text
    r = await client.post(
        f"/api/v1/appeals/{appeal.json()['id']}/decide",
        headers=dispatcher,
        json={"decision": "grant", "note": "first time"},
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/reports", headers=me, json=report_body())
    assert r.status_code == 201, r.text


async def test_citizens_log_in_with_the_phone_number_as_they_type_it(client):
    r = await client.post(
        "/api/v1/citizens", json={"phone": "0813-1111-2222", "name": "Sari", "password": "rahasia-1"}
    )
    assert r.status_code == 201 and r.json()["username"] == "+6281311112222"
    for typed in ("081311112222", "+62 813 1111 2222", "6281311112222"):
        t = await client.post("/api/v1/auth/token", data={"username": typed, "password": "rahasia-1"})
        assert t.status_code == 200, typed
