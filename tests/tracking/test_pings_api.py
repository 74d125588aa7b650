from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

MALANG = (-7.9666, 112.6326)


def iso(dt: datetime) -> str:
    return dt.isoformat()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def count_pings(database_url: str, officer_id: int) -> int:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT count(*) FROM pings WHERE officer_id = %s", (officer_id,))
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def test_single_ping_is_stored_and_moves_latest_position(client, actors, database_url):
    oid, headers = await actors.officer()
    t = now()
    r = await client.post(
        "/api/v1/pings",
        headers=headers,
        json={
            "lat": MALANG[0],
            "lon": MALANG[1],
            "recorded_at": iso(t),
            "accuracy_m": 5,
            "speed_mps": 3.5,
            "heading_deg": 90,
            "altitude_m": 450,
            "battery_pct": 80,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "rejected": []}
    assert await count_pings(database_url, oid) == 1
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT ST_Y(geog::geometry), ST_X(geog::geometry), recorded_at, battery_pct FROM officer_positions "
            "WHERE officer_id = %s",
            (oid,),
        )
        lat, lon, rec, batt = await cur.fetchone()
    assert (round(lat, 6), round(lon, 6)) == MALANG
    assert rec == t and batt == 80


async def test_batch_with_epoch_seconds_and_per_item_rejections(client, actors, database_url):
    oid, headers = await actors.officer()
    t = now()
    batch = [
        {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": t.timestamp() - 20},
        {"lat": 0, "lon": 0, "recorded_at": iso(t)},  # null island
        {"lat": 91, "lon": 10, "recorded_at": iso(t)},  # out of range
        {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": iso(t + timedelta(hours=1))},  # future
        {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": iso(t - timedelta(days=400))},  # past retention
        {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": iso(t), "accuracy_m": 5000},  # inaccurate
        {"lat": "x", "lon": MALANG[1], "recorded_at": iso(t)},  # invalid
        {"lat": MALANG[0] + 0.0001, "lon": MALANG[1], "recorded_at": iso(t - timedelta(seconds=10))},
        {"lat": MALANG[0] + 0.0001, "lon": MALANG[1], "recorded_at": iso(t - timedelta(seconds=10))},  # dup
        {
            "lat": MALANG[0] + 0.5,
            "lon": MALANG[1],
            "recorded_at": iso(t - timedelta(seconds=5)),
        },  # 55 km in 5 s
    ]
    r = await client.post("/api/v1/pings", headers=headers, json=batch)
    assert r.status_code == 200, r.text
    body = r.json()
    reasons = {x["index"]: x["reason"] for x in body["rejected"]}
    assert body["accepted"] == 2
    assert reasons[1] == "null_island"
    assert reasons[2] == "out_of_range"
    assert reasons[3] == "future"
    assert reasons[4] == "too_old"
    assert reasons[5] == "inaccurate"
    assert reasons[6].startswith("invalid")
    assert reasons[8] == "duplicate"
    assert reasons[9] == "too_fast"
    assert set(reasons) == {1, 2, 3, 4, 5, 6, 8, 9}
    assert await count_pings(database_url, oid) == 2


async def test_resending_a_batch_stores_nothing_twice(client, actors, database_url):
    oid, headers = await actors.officer()
    t = now()
    batch = [
        {"lat": MALANG[0], "lon": MALANG[1] + i * 1e-4, "recorded_at": iso(t - timedelta(seconds=30 - i))}
        for i in range(10)
    ]
    assert (await client.post("/api/v1/pings", headers=headers, json=batch)).json()["accepted"] == 10
    again = (await client.post("/api/v1/pings", headers=headers, json=batch)).json()
    assert again["accepted"] == 0
    assert {x["reason"] for x in again["rejected"]} == {"duplicate"}
    assert await count_pings(database_url, oid) == 10


async def test_duplicates_detected_by_the_store_when_cache_is_cold(app, client, actors, database_url):
    oid, headers = await actors.officer()
    t = now()
    ping = {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": iso(t - timedelta(seconds=40))}
    newer = {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": iso(t)}
    await client.post("/api/v1/pings", headers=headers, json=[ping, newer])
    app.state.runtime.ingest.last.clear()  # as after a restart of another process
    body = (await client.post("/api/v1/pings", headers=headers, json=ping)).json()
    assert body == {"accepted": 0, "rejected": [{"index": 0, "reason": "duplicate"}]}
    assert await count_pings(database_url, oid) == 2


async def test_older_ping_goes_to_history_but_does_not_move_latest(client, actors, database_url):
    oid, headers = await actors.officer()
    t = now()
    await client.post(
        "/api/v1/pings", headers=headers, json={"lat": -7.95, "lon": 112.61, "recorded_at": iso(t)}
    )
    r = await client.post(
        "/api/v1/pings",
        headers=headers,
        json={"lat": -7.96, "lon": 112.62, "recorded_at": iso(t - timedelta(minutes=5))},
    )
    assert r.json()["accepted"] == 1
    assert await count_pings(database_url, oid) == 2
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT ST_Y(geog::geometry), recorded_at FROM officer_positions WHERE officer_id = %s", (oid,)
        )
        lat, rec = await cur.fetchone()
    assert round(lat, 6) == -7.95 and rec == t


async def test_concurrent_requests_are_group_committed(client, actors, database_url):
    officers = [await actors.officer() for _ in range(5)]
    t = now()

    async def send(oid_headers, k):
        _, headers = oid_headers
        batch = [
            {
                "lat": MALANG[0] + k * 1e-3,
                "lon": MALANG[1] + i * 1e-5,
                "recorded_at": iso(t - timedelta(seconds=100 - i)),
            }
            for i in range(50)
        ]
        return (await client.post("/api/v1/pings", headers=headers, json=batch)).json()

    results = await asyncio.gather(*(send(o, k) for k, o in enumerate(officers)))
    assert all(r == {"accepted": 50, "rejected": []} for r in results)
    for oid, _ in officers:
        assert await count_pings(database_url, oid) == 50


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'"a string"', 400, "bad_body"),
        (b"[" + b",".join([b'{"lat":1,"lon":1,"recorded_at":0}'] * 1001) + b"]", 413, "payload_too_large"),
    ],
)
async def test_bad_bodies_get_clear_errors_and_store_nothing(
    client, actors, database_url, body, status, code
):
    oid, headers = await actors.officer()
    r = await client.post(
        "/api/v1/pings", headers={**headers, "Content-Type": "application/json"}, content=body
    )
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert await count_pings(database_url, oid) == 0


async def test_pings_need_an_officer(client, actors):
    t = iso(now())
    ping = {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": t}
    assert (await client.post("/api/v1/pings", json=ping)).status_code == 401
    bad = {"Authorization": "Bearer nonsense"}
    r = await client.post("/api/v1/pings", json=ping, headers=bad)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    dispatcher = await actors.user("dispatcher")
    r = await client.post("/api/v1/pings", json=ping, headers=dispatcher)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_role"


async def test_non_finite_values_and_unrepresentable_times_are_per_item_rejections(
    client, actors, database_url
):
    """ "NaN"/"Infinity" as strings were stored; year 1 or 9999 with an offset answered 500. Now each is a
    rejection of its own item, and the good ping beside them is still stored and acknowledged."""
    oid, headers = await actors.officer()
    t = now()
    good = {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": iso(t)}
    batch = [
        {**good, "recorded_at": iso(t - timedelta(seconds=1)), "altitude_m": "NaN"},
        {**good, "recorded_at": iso(t - timedelta(seconds=2)), "speed_mps": "Infinity"},
        {**good, "lat": "NaN"},
        {**good, "recorded_at": "0001-01-01T00:00:00+05:00"},
        {**good, "recorded_at": "9999-12-31T23:59:59-05:00"},
        good,
    ]
    r = await client.post("/api/v1/pings", headers=headers, json=batch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 1
    assert sorted(x["index"] for x in body["rejected"]) == [0, 1, 2, 3, 4]
    assert all(x["reason"].startswith("invalid") for x in body["rejected"]), body
    assert await count_pings(database_url, oid) == 1
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM pings WHERE officer_id = %s AND (altitude_m = 'NaN' OR speed_mps = 'Infinity')",
            (oid,),
        )
        assert (await cur.fetchone())[0] == 0
