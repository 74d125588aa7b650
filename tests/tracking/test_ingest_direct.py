"""The writer's direct path (rows straight into pings, one statement for the positions) and its way back to
the staged path when a row turns out to be stored already: the answers and the stored rows are the same
either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from prometheus_client import REGISTRY

MALANG = (-7.9666, 112.6326)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def misses() -> float:
    return REGISTRY.get_sample_value("jogo_writer_direct_misses_total") or 0.0


def direct() -> float:
    return REGISTRY.get_sample_value("jogo_writer_direct_commits_total") or 0.0


async def rows(database_url: str, officer_id: int) -> list[tuple]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT recorded_at, round(ST_Y(geog::geometry)::numeric, 7), round(ST_X(geog::geometry)::numeric, 7),"
            " accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, source, approximate"
            " FROM pings WHERE officer_id = %s ORDER BY recorded_at",
            (officer_id,),
        )
        return await cur.fetchall()


async def position(database_url: str, officer_id: int) -> tuple:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT recorded_at, round(ST_Y(geog::geometry)::numeric, 7), altitude_m, battery_pct"
            " FROM officer_positions WHERE officer_id = %s",
            (officer_id,),
        )
        return await cur.fetchone()


def batch(t: datetime, n: int, **extra: object) -> list[dict]:
    return [
        {
            "lat": round(MALANG[0] + i * 1e-5, 7),
            "lon": MALANG[1],
            "recorded_at": (t + timedelta(seconds=i)).isoformat(),
            **extra,
        }
        for i in range(n)
    ]


async def test_a_fresh_batch_is_stored_whole_with_unknowns_as_null(client, actors, database_url):
    oid, headers = await actors.officer()
    t = now() - timedelta(minutes=10)
    sent = batch(t, 20, accuracy_m=4.0, battery_pct=77.0)  # altitude, speed, heading unknown throughout
    before, direct_before = misses(), direct()
    r = await client.post("/api/v1/pings", headers=headers, json=sent)
    assert r.json() == {"accepted": 20, "rejected": []}
    assert misses() == before and direct() == direct_before + 1  # nothing stored before: no detour
    stored = await rows(database_url, oid)
    assert [row[0] for row in stored] == [t + timedelta(seconds=i) for i in range(20)]
    assert all(row[3:] == (4.0, None, None, None, 77.0, "api", None) for row in stored)
    assert await position(database_url, oid) == (t + timedelta(seconds=19), stored[-1][1], None, 77.0)


async def test_a_measurement_known_for_some_fixes_only_is_kept_per_fix(client, actors, database_url):
    oid, headers = await actors.officer()
    t = now() - timedelta(minutes=10)
    sent = batch(t, 12)
    for i in range(0, 12, 3):
        sent[i]["altitude_m"] = 400.0 + i
    before, direct_before = misses(), direct()
    assert (await client.post("/api/v1/pings", headers=headers, json=sent)).json()["accepted"] == 12
    assert (misses(), direct()) == (before, direct_before + 1)  # NULL where unknown, straight into pings
    altitudes = [row[6] for row in await rows(database_url, oid)]
    assert altitudes == [400.0 + i if i % 3 == 0 else None for i in range(12)]


async def test_a_resend_the_cache_did_not_know_of_comes_back_duplicate(app, client, actors, database_url):
    oid, headers = await actors.officer()
    t = now() - timedelta(minutes=10)
    first = batch(t, 15, accuracy_m=5.0)
    assert (await client.post("/api/v1/pings", headers=headers, json=first)).json()["accepted"] == 15
    app.state.runtime.ingest.last.clear()  # as in another process, or after a restart
    before = misses()
    # The resend with five new fixes after it: the direct insert meets the stored rows and rolls back.
    again = first + batch(t + timedelta(seconds=15), 5, accuracy_m=5.0)
    body = (await client.post("/api/v1/pings", headers=headers, json=again)).json()
    assert misses() == before + 1
    assert body["accepted"] == 5
    assert body["rejected"] == [{"index": i, "reason": "duplicate"} for i in range(15)]
    assert len(await rows(database_url, oid)) == 20
    assert (await position(database_url, oid))[0] == t + timedelta(seconds=19)


async def test_a_single_ping_takes_the_direct_path_and_its_resend_the_staged_one(
    app, client, actors, database_url
):
    oid, headers = await actors.officer()
    t = now() - timedelta(minutes=1)
    ping = {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": t.isoformat(), "heading_deg": 90}
    before, direct_before = misses(), direct()
    assert (await client.post("/api/v1/pings", headers=headers, json=ping)).json()["accepted"] == 1
    assert misses() == before and direct() == direct_before + 1
    app.state.runtime.ingest.last.clear()
    body = (await client.post("/api/v1/pings", headers=headers, json=ping)).json()
    assert body == {"accepted": 0, "rejected": [{"index": 0, "reason": "duplicate"}]}
    assert misses() == before + 1
    assert [row[5] for row in await rows(database_url, oid)] == [90.0]
