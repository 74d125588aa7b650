"""The appeals queue as the console shows it, and the decision note the citizen reads."""

from __future__ import annotations

from tests.reports.helpers import citizen, file_report


async def blocked_citizen(client, dispatcher, n=3):
    uid, me = await citizen(client)
    for i in range(n):
        rep = await file_report(client, me, description=f"palsu {i}", lat=-7.98 + i * 0.01)
        await client.post(
            f"/api/v1/reports/{rep['id']}/reject",
            headers=dispatcher,
            json={"reason": "false", "note": f"hoax {i}"},
        )
    return uid, me


async def test_queue_shows_the_citizen_and_strikes_and_the_note_reaches_the_citizen(client, actors):
    admin = await actors.user("admin")
    dispatcher = await actors.user("dispatcher")
    uid, me = await blocked_citizen(client, dispatcher)
    appeal = (await client.post("/api/v1/appeals", headers=me, json={"text": "Maaf, salah tekan."})).json()
    [item] = (await client.get("/api/v1/appeals", headers=admin, params={"status": "pending"})).json()
    assert item["id"] == appeal["id"] and item["username"].startswith("+62")
    assert item["strike_count"] == 3 and item["blocked_at"] is not None
    assert [s["reason"] for s in item["strikes"]] == ["hoax 0", "hoax 1", "hoax 2"]
    note = "Dikabulkan: harap lebih teliti memilih lokasi."
    r = await client.post(
        f"/api/v1/appeals/{appeal['id']}/decide", headers=admin, json={"decision": "grant", "note": note}
    )
    assert r.status_code == 200
    warnings = (await client.get("/api/v1/me/warnings", headers=me)).json()
    assert warnings["blocked"] is False
    assert (warnings["latest_appeal"]["status"], warnings["latest_appeal"]["decision_note"]) == (
        "granted",
        note,
    )
    assert (await client.get("/api/v1/appeals", headers=admin, params={"status": "pending"})).json() == []
