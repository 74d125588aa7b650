"""False reports: a strike and a warning each, blocking at the threshold, appeals, and the audit trail."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import psycopg
import pytest

from jogo_dispatch.abuse import service
from jogo_dispatch.errors import Forbidden
from tests.agencies.conftest import restore_catalogue


async def user_id(client, headers) -> int:
    return (await client.get("/api/v1/me", headers=headers)).json()["user_id"]


async def reports(app, database_url, citizen_id: int, n: int) -> list[int]:
    """Report rows to hold strikes against (inserted directly: the reports API is another domain's)."""
    async with app.state.runtime.sessions() as session:
        await restore_catalogue(session)
        await session.commit()
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        ids = []
        for i in range(n):
            row = await (
                await conn.execute(
                    "INSERT INTO reports (citizen_id, category, description, lat, lon, h3_r9, h3_r7, "
                    "reporter_lat, reporter_lon) "
                    "VALUES (%s, 'fire', %s, -7.98, 112.63, 0, 0, -7.98, 112.63) RETURNING id",
                    (citizen_id, f"fake report {i}"),
                )
            ).fetchone()
            ids.append(row[0])
        await conn.commit()
    return ids


async def mark_false(app, report_id: int, citizen_id: int, by: int | None = None, note: str = "hoax") -> None:
    """What the reports domain does when a dispatcher marks a report false: call every registered hook in
    its unit of work, then commit."""
    rt = app.state.runtime
    report = SimpleNamespace(id=report_id, citizen_id=citizen_id, reviewed_by=by, review_note=note)
    async with rt.sessions() as session:
        for hook in rt.hooks.false_report:
            await hook(session, report)
        await session.commit()
        for callback in session.info.pop("after_commit", []):
            callback()


async def assert_blocked(app, uid: int, blocked: bool) -> None:
    async with app.state.runtime.sessions() as session:
        if not blocked:
            await service.ensure_not_blocked(session, uid)
            return
        with pytest.raises(Forbidden) as err:
            await service.ensure_not_blocked(session, uid)
    assert err.value.status_code == 403 and err.value.code == "account_blocked"
    assert err.value.details["strike_count"] >= 3 and "appeal" in err.value.message


async def test_three_false_reports_block_and_an_appeal_reopens(app, client, actors, database_url):
    events = []
    app.state.runtime.bus.subscribe(lambda e: events.append((e.TYPE, e.payload())))
    citizen = await actors.user("citizen")
    dispatcher = await actors.user("dispatcher")
    uid, did = await user_id(client, citizen), await user_id(client, dispatcher)
    r1, r2, r3 = await reports(app, database_url, uid, 3)

    await mark_false(app, r1, uid, by=did)
    await mark_false(app, r1, uid, by=did)  # the same report twice is one strike
    w = (await client.get("/api/v1/me/warnings", headers=citizen)).json()
    assert w["strike_count"] == 1 and w["strikes_to_block"] == 3 and w["blocked"] is False
    assert (
        len(w["warnings"]) == 1
        and w["warnings"][0]["report_id"] == r1
        and w["warnings"][0]["reason"] == "hoax"
    )
    assert (
        "Peringatan 1 dari 3" in w["warnings"][0]["warning"]
        and "warning 1 of 3" in w["warnings"][0]["warning"]
    )
    await assert_blocked(app, uid, False)
    refused = await client.post("/api/v1/appeals", headers=citizen, json={"text": "please"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_blocked"

    await mark_false(app, r2, uid, by=did)
    await mark_false(app, r3, uid, by=did)
    w = (await client.get("/api/v1/me/warnings", headers=citizen)).json()
    assert w["strike_count"] == 3 and w["blocked"] is True and w["blocked_at"]
    assert "diblokir" in w["warnings"][-1]["warning"] and "Peringatan 2 dari 3" in w["warnings"][1]["warning"]
    await assert_blocked(app, uid, True)
    assert ("citizen_blocked", {"user_id": uid, "strike_count": 3}) in events

    # A blocked citizen can still sign in, read the warnings and appeal.
    assert (await client.post("/api/v1/appeals", headers=dispatcher, json={"text": "x"})).status_code == 403
    first = await client.post("/api/v1/appeals", headers=citizen, json={"text": "Saya salah pilih kategori."})
    assert first.status_code == 201 and first.json()["status"] == "pending" and first.json()["user_id"] == uid
    twice = await client.post("/api/v1/appeals", headers=citizen, json={"text": "again"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "appeal_pending"
    queue = (await client.get("/api/v1/appeals", headers=dispatcher, params={"status": "pending"})).json()
    assert [a["id"] for a in queue] == [first.json()["id"]]
    assert (await client.get("/api/v1/appeals", headers=citizen)).status_code == 403

    upheld = await client.post(
        f"/api/v1/appeals/{first.json()['id']}/decide",
        headers=dispatcher,
        json={"decision": "uphold", "note": "location shows a hoax"},
    )
    assert (
        upheld.status_code == 200
        and upheld.json()["status"] == "upheld"
        and upheld.json()["decided_by"] == did
    )
    again = await client.post(
        f"/api/v1/appeals/{first.json()['id']}/decide", headers=dispatcher, json={"decision": "grant"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "appeal_decided"
    await assert_blocked(app, uid, True)
    assert (await client.get("/api/v1/me/warnings", headers=citizen)).json()["latest_appeal"][
        "status"
    ] == "upheld"

    second = (await client.post("/api/v1/appeals", headers=citizen, json={"text": "Mohon dibuka."})).json()
    granted = await client.post(
        f"/api/v1/appeals/{second['id']}/decide",
        headers=dispatcher,
        json={"decision": "grant", "note": "first offence"},
    )
    assert granted.json()["status"] == "granted" and granted.json()["decision_note"] == "first offence"
    await assert_blocked(app, uid, False)
    w = (await client.get("/api/v1/me/warnings", headers=citizen)).json()
    assert w["strike_count"] == 0 and w["blocked"] is False and w["blocked_at"] is None
    assert len(w["warnings"]) == 3 and all(x["cleared_at"] for x in w["warnings"])
    assert ("appeal", {"appeal_id": second["id"], "user_id": uid, "status": "granted"}) in events
    assert (
        await client.get("/api/v1/appeals", headers=dispatcher, params={"status": "pending"})
    ).json() == []
    assert len((await client.get("/api/v1/appeals", headers=dispatcher)).json()) == 2
    missing = await client.post(
        "/api/v1/appeals/999999/decide", headers=dispatcher, json={"decision": "grant"}
    )
    assert missing.status_code == 404

    # The slate is clean: a new false report is warning 1 again.
    (r4,) = await reports(app, database_url, uid, 1)
    await mark_false(app, r4, uid, by=did)
    w = (await client.get("/api/v1/me/warnings", headers=citizen)).json()
    assert w["strike_count"] == 1 and "Peringatan 1 dari 3" in w["warnings"][-1]["warning"]

    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        trail = await (
            await conn.execute(
                "SELECT entity_type, action, from_state, to_state, actor_id, reason FROM audit_log "
                "WHERE entity_type IN ('strike', 'citizen', 'appeal') ORDER BY id"
            )
        ).fetchall()
    assert trail == [
        ("strike", "strike", None, "active", did, "hoax"),
        ("strike", "strike", None, "active", did, "hoax"),
        ("strike", "strike", None, "active", did, "hoax"),
        ("citizen", "block", "active", "blocked", did, "3 false reports"),
        ("appeal", "file", None, "pending", uid, None),
        ("appeal", "uphold", "pending", "upheld", did, "location shows a hoax"),
        ("appeal", "file", None, "pending", uid, None),
        ("appeal", "grant", "pending", "granted", did, "first offence"),
        ("citizen", "unblock", "blocked", "active", did, "first offence"),
        ("strike", "strike", None, "active", did, "hoax"),
    ]


async def test_concurrent_false_reports_count_exactly(app, client, actors, database_url):
    citizen = await actors.user("citizen")
    uid = await user_id(client, citizen)
    ids = await reports(app, database_url, uid, 5)
    # Five dispatchers at once, plus the first report marked false twice more.
    await asyncio.gather(*(mark_false(app, rid, uid) for rid in [*ids, ids[0], ids[0]]))
    w = (await client.get("/api/v1/me/warnings", headers=citizen)).json()
    assert w["strike_count"] == 5 and len(w["warnings"]) == 5 and w["blocked"] is True
    counts = sorted(
        int(x["warning"].split("ke-")[1].split(")")[0])
        if "ke-" in x["warning"]
        else int(x["warning"].split("Peringatan ")[1].split(" ")[0])
        for x in w["warnings"]
    )
    assert counts == [1, 2, 3, 4, 5]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        blocks = await (
            await conn.execute(
                "SELECT count(*) FROM audit_log "
                "WHERE entity_type = 'citizen' AND action = 'block' AND entity_id = %s",
                (uid,),
            )
        ).fetchone()
    assert blocks == (1,)


async def test_anonymous_reports_and_clean_accounts(app, client, actors):
    citizen = await actors.user("citizen")
    uid = await user_id(client, citizen)
    await mark_false(app, 123456, None)  # no citizen behind it: nothing to hold against anyone
    w = (await client.get("/api/v1/me/warnings", headers=citizen)).json()
    assert w == {
        "strike_count": 0,
        "strikes_to_block": 3,
        "blocked": False,
        "blocked_at": None,
        "warnings": [],
        "latest_appeal": None,
    }
    await assert_blocked(app, uid, False)
    assert (await client.get("/api/v1/me/warnings")).status_code == 401
