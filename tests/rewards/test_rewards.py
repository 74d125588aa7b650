"""Reward points for verified reports: awarded once per report, read by the citizen, ranked publicly."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from jogo_dispatch.rewards import service
from tests.forwards.conftest import rows, wait_for
from tests.reports.helpers import MALANG, citizen, file_report, offset


async def verify(client, dispatcher, report_id: int) -> None:
    r = await client.post(f"/api/v1/reports/{report_id}/verify", headers=dispatcher)
    assert r.status_code == 200, r.text


async def test_verified_reports_earn_points_once_and_the_citizen_sees_them(app, client, actors, database_url):
    dispatcher = await actors.user("dispatcher")
    uid, budi = await citizen(client, "Budi Santoso")
    fire = await file_report(client, budi, category="fire", description="Rumah terbakar")
    lat, lon = offset(*MALANG, 3000, 0)
    tree = await file_report(
        client,
        budi,
        category="fallen_tree",
        description="Pohon tumbang",
        lat=lat,
        lon=lon,
        reporter_lat=lat,
        reporter_lon=lon,
    )
    lat, lon = offset(*MALANG, -3000, 0)
    hoax = await file_report(
        client,
        budi,
        category="crime",
        description="Bohong",
        lat=lat,
        lon=lon,
        reporter_lat=lat,
        reporter_lon=lon,
    )
    await verify(client, dispatcher, fire["id"])
    await verify(client, dispatcher, tree["id"])
    r = await client.post(
        f"/api/v1/reports/{hoax['id']}/reject",
        headers=dispatcher,
        json={"reason": "false", "note": "tidak ada kejadian"},
    )
    assert r.status_code == 200, r.text

    async def awards() -> list[tuple[object, ...]]:
        found = await rows(
            database_url, "SELECT user_id, report_id, category, points FROM reward_awards ORDER BY report_id"
        )
        return found if len(found) == 2 else []

    assert await wait_for(awards) == [(uid, fire["id"], "fire", 20), (uid, tree["id"], "fallen_tree", 10)]
    mine = await client.get("/api/v1/me/points", headers=budi)
    assert mine.status_code == 200
    body = mine.json()
    assert (body["total"], body["awards"], body["rank"]) == (30, 2, 1)
    assert [(h["report_id"], h["points"]) for h in body["history"]] == [(tree["id"], 10), (fire["id"], 20)]

    # Seeing the verification again (a replayed event, the in-transaction hook, concurrently) awards nothing.
    rt = app.state.runtime
    results = await asyncio.gather(*(service.award_report(rt, fire["id"]) for _ in range(4)))
    assert results == [None] * 4
    hook = service.verified_report_hook(rt.settings)
    async with rt.sessions() as session:
        await hook(
            session, SimpleNamespace(id=tree["id"], citizen_id=uid, category="fallen_tree", status="verified")
        )
        await session.commit()
    # A report that is not verified earns nothing, even if someone claims it is.
    assert await service.award_report(rt, hoax["id"]) is None
    await asyncio.sleep(0.2)
    assert await rows(database_url, "SELECT count(*), sum(points) FROM reward_awards") == [(2, 30)]

    assert (await client.get("/api/v1/me/points", headers=dispatcher)).status_code == 403


async def test_the_leaderboard_ranks_citizens_with_masked_names(app, client, actors, database_url):
    rt = app.state.runtime
    people = [await citizen(client, name) for name in ("Siti Aminah", "Agus Salim Wibowo", "Rina")]
    points = {people[0][0]: [20, 10], people[1][0]: [15, 15, 10], people[2][0]: [10]}
    n = 0
    async with rt.sessions() as session:
        for uid, awards in points.items():
            for p in awards:
                n += 1
                # Awards as the hook makes them, for report rows of this citizen.
                report_id = (
                    await rows(
                        database_url,
                        "INSERT INTO reports (citizen_id, category, description, lat, "
                        "lon, h3_r9, h3_r7, reporter_lat, reporter_lon, status) VALUES (%s, "
                        "'other', %s, -7.98, 112.63, 0, 0, -7.98, 112.63, 'verified') RETURNING id",
                        uid,
                        f"r{n}",
                    )
                )[0][0]
                await service.award(
                    session,
                    rt.settings.model_copy(update={"reward_points": {"other": p}}),
                    SimpleNamespace(id=report_id, citizen_id=uid, category="other", status="verified"),
                )
        await session.commit()
    board = await client.get("/api/v1/rewards/leaderboard", params={"limit": 2})  # public, no login
    assert board.status_code == 200
    items = board.json()["items"]
    assert [(i["rank"], i["name"], i["points"], i["reports"]) for i in items] == [
        (1, "Agus S. W.", 40, 3),
        (2, "Siti A.", 30, 2),
    ]
    phone = (await rows(database_url, "SELECT phone FROM users WHERE id = %s", people[1][0]))[0][0]
    masked = items[0]["phone"]
    assert masked[:6] == phone[:6] and masked[-3:] == phone[-3:] and "*" in masked and masked != phone
    assert len(masked) == len(phone)
    everyone = (await client.get("/api/v1/rewards/leaderboard", params={"days": 7})).json()["items"]
    assert [i["points"] for i in everyone] == [40, 30, 10]
    rina = (await client.get("/api/v1/me/points", headers=people[2][1])).json()
    assert (rina["total"], rina["rank"]) == (10, 3)
    assert (await client.get("/api/v1/rewards/leaderboard", params={"limit": 0})).status_code == 422


def test_masks():
    assert service.mask_phone("+6281234567890") == "+62812*****890"
    assert service.mask_phone("12345") == "*****"
    assert service.mask_phone(None) is None
    assert service.mask_name("  budi  ") == "budi"
    assert service.mask_name("") is None
