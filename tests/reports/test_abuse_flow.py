"""The whole abuse path through the API: three false reports block the account, reports are refused with
403 while an SOS is still taken (marked with the account's record, strictly limited), an appeal granted by a
dispatcher reopens it."""

from __future__ import annotations

from tests.reports.helpers import citizen, file_report, report_body, rows


async def test_three_false_reports_block_reports_until_an_appeal_is_granted(
    client, actors, database_url, settings
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
    # An SOS is still heard, marked with the account's record, under a strict limit of its own.
    press = {"lat": -7.98, "lon": 112.63, "accuracy_m": 10}
    r = await client.post("/api/v1/sos", headers=me, json=press)
    assert r.status_code == 201, r.text
    [(description, record, alert)] = await rows(
        database_url,
        "SELECT i.description, i.data->'caller_record', a.data->'caller_record' "
        "FROM incidents i JOIN alerts a ON a.incident_id = i.id WHERE i.id = %s",
        r.json()["incident_id"],
    )
    assert "BLOCKED" in description and "3 false reports" in description
    assert record == alert and (record["blocked"], record["strike_count"], record["false_reports"]) == (
        True,
        3,
        3,
    )
    assert record["blocked_at"] is not None
    for _ in range(settings.sos_limit_blocked_per_account - 1):
        assert (await client.post("/api/v1/sos", headers=me, json=press)).status_code == 200
    r = await client.post("/api/v1/sos", headers=me, json=press)
    assert (r.status_code, r.json()["error"]["details"]["per"]) == (429, "blocked account")
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
