from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg

from jogo_dispatch.tracking import partitions


async def test_partitions_span_days_and_retention_drops_old_ones(database_url):
    today = date(2031, 3, 10)  # far from the days other tests write to
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await partitions.ensure_partitions(conn, partitions.days_between(today - timedelta(days=5), today))
        for d in range(6):
            ts = datetime(2031, 3, 10, 23, 59, tzinfo=UTC) - timedelta(days=d)
            await conn.execute(
                "INSERT INTO pings (officer_id, recorded_at, received_at, geog) "
                "VALUES (1, %s, now(), 'SRID=4326;POINT(112.6 -7.9)')",
                (ts,),
            )
        days = await partitions.existing_partition_days(conn)
        assert set(partitions.days_between(today - timedelta(days=5), today)) <= set(days)
        # each ping landed in its own day's partition
        cur = await conn.execute(
            "SELECT tableoid::regclass::text, count(*) FROM pings WHERE officer_id = 1 GROUP BY 1 ORDER BY 1"
        )
        rows = await cur.fetchall()
        assert [r[0] for r in rows] == [
            partitions.partition_name(today - timedelta(days=d)) for d in range(5, -1, -1)
        ]
        assert all(r[1] == 1 for r in rows)

        dropped = await partitions.maintain(conn, today, ahead_days=2, retention_days=3)
        assert partitions.partition_name(today - timedelta(days=4)) in dropped
        assert partitions.partition_name(today - timedelta(days=3)) not in dropped
        cur = await conn.execute("SELECT count(*) FROM pings WHERE officer_id = 1")
        assert (await cur.fetchone())[0] == 4  # days -3..0 kept
        days = await partitions.existing_partition_days(conn)
        assert today + timedelta(days=2) in days  # created ahead
        await conn.rollback()


async def test_writer_creates_missing_partition_for_an_old_ping(client, actors, database_url):
    _, headers = await actors.officer()
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    r = await client.post(
        "/api/v1/pings", headers=headers, json={"lat": -7.97, "lon": 112.63, "recorded_at": old.isoformat()}
    )
    assert r.json()["accepted"] == 1
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT tableoid::regclass::text FROM pings")
        assert (await cur.fetchone())[0] == partitions.partition_name(old.date())
