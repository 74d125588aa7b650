"""The ping writer on its own. A request of several officers' fixes on the direct path moves each one's
position. Its connections: one commit held up in PostgreSQL does not hold up the pings of others (the next
commit goes out on another connection), concurrent commits of the same officers neither deadlock nor lose a
fix, and one lost connection leaves the writer taking pings on the others while it reconnects."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from jogo_dispatch.tracking.writer import OVERLAP_MIN_ROWS, PingRow, PingWriter

MALANG = (-7.9666, 112.6326)


def fix(officer_id: int, at: datetime, i: int = 0) -> PingRow:
    return PingRow(
        officer_id=officer_id,
        recorded_at=at,
        received_at=datetime.now(UTC),
        lat=MALANG[0] + i * 1e-5,
        lon=MALANG[1],
        accuracy_m=5.0,
        speed_mps=None,
        heading_deg=None,
        altitude_m=None,
        battery_pct=None,
        device_id=None,
        source="api",
    )


async def started(database_url: str, connections: int, max_batch: int = 5000) -> PingWriter:
    writer = PingWriter(database_url, connections=connections, max_batch=max_batch)
    await writer.start()
    return writer


def backend_pids(writer: PingWriter) -> list[int]:
    """This writer's connections' server processes, by connection (the app's writer shares the database)."""
    return [lane.conn.info.backend_pid for lane in writer._lanes if lane.conn is not None]


async def names_of(database_url: str, pids: list[int]) -> list[str]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT application_name FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,))
        return sorted(name for (name,) in await cur.fetchall())


async def terminate(database_url: str, pid: int) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_a_direct_batch_of_several_officers_moves_each_ones_position(actors, database_url):
    officers = [(await actors.officer())[0] for _ in range(3)]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    writer = await started(database_url, 1)
    moved: list[tuple[int, datetime]] = []
    writer.add_after_commit(lambda updates: moved.extend((u.officer_id, u.recorded_at) for u in updates))
    try:
        # As an OsmAnd batch of three phones: each officer's fixes, the newest of each not the last sent.
        rows = [fix(oid, t + timedelta(seconds=s), s) for s in (2, 0, 1) for oid in officers]
        assert await writer.submit(rows, fresh=True) == [True] * 9
    finally:
        await writer.stop()
    newest = t + timedelta(seconds=2)
    assert sorted(moved) == [(oid, newest) for oid in officers]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT officer_id, recorded_at, round(ST_Y(geog::geometry)::numeric, 5), accuracy_m"
            " FROM officer_positions WHERE officer_id = ANY(%s)",
            (officers,),
        )
        lat = round(Decimal(MALANG[0] + 2e-5), 5)
        assert sorted(await cur.fetchall()) == [(oid, newest, lat, 5.0) for oid in officers]


def fixes(officer_id: int, start: datetime, n: int) -> list[PingRow]:
    return [fix(officer_id, start + timedelta(milliseconds=10 * i), i) for i in range(n)]


@pytest.mark.parametrize(
    ("connections", "rows"), [(1, 1), (1, OVERLAP_MIN_ROWS), (2, 1), (2, OVERLAP_MIN_ROWS)]
)
async def test_a_commit_held_up_in_the_database_holds_up_only_what_is_too_small_to_go_on_its_own(
    actors, database_url, connections, rows
):
    held, other = (await actors.officer())[0], (await actors.officer())[0]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    writer = await started(database_url, connections)
    lock = await psycopg.AsyncConnection.connect(database_url)
    try:
        assert await writer.submit([fix(held, t), fix(other, t)]) == [True, True]
        # Another transaction holds the held officer's position row: the commit moving it must wait.
        await lock.execute("SELECT 1 FROM officer_positions WHERE officer_id = %s FOR UPDATE", (held,))
        waiting = asyncio.create_task(writer.submit([fix(held, t + timedelta(seconds=1))]))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        meanwhile = asyncio.create_task(writer.submit(fixes(other, t + timedelta(seconds=1), rows)))
        await asyncio.wait({meanwhile}, timeout=2.0)
        # A second connection takes a backlog worth a commit; a lone ping waits for the next commit.
        assert meanwhile.done() == (connections > 1 and rows >= OVERLAP_MIN_ROWS)
        await lock.rollback()
        assert await asyncio.wait_for(waiting, 5) == [True]
        assert await asyncio.wait_for(meanwhile, 5) == [True] * rows
    finally:
        await lock.close()
        await writer.stop()


@pytest.mark.parametrize("connections", [1, 2])
async def test_a_burst_is_split_between_idle_connections_a_trickle_is_not(actors, database_url, connections):
    officers = [(await actors.officer())[0] for _ in range(4)]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    writer = await started(database_url, connections)
    commits: list[set[int]] = []
    writer.add_after_commit(lambda moved: commits.append({u.officer_id for u in moved}))
    half = OVERLAP_MIN_ROWS // 2
    try:
        # Four requests at once, twice the backlog that is worth a commit of its own.
        burst = await asyncio.gather(*(writer.submit(fixes(oid, t, half)) for oid in officers))
        assert burst == [[True] * half] * 4
        split = sorted(commits, key=min) == [set(officers[:2]), set(officers[2:])]  # in parallel
        assert split == (connections > 1), commits
        # One ping after another: one commit each, whatever the connections.
        commits.clear()
        for k, oid in enumerate(officers):
            assert await writer.submit([fix(oid, t + timedelta(seconds=10 + k))]) == [True]
        assert commits == [{oid} for oid in officers]
    finally:
        await writer.stop()


async def test_concurrent_commits_of_the_same_officers_store_every_fix_and_keep_the_newest(
    actors, database_url
):
    officers = [(await actors.officer())[0] for _ in range(6)]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    writer = await started(database_url, 3, max_batch=12)  # two requests per commit: 3 commits at once
    try:
        # 60 requests of 6 fixes each (every officer in every request, officers in both orders), all at once.
        def requests() -> list[list[PingRow]]:
            return [
                [fix(oid, t + timedelta(seconds=k), k) for oid in (officers if k % 2 else officers[::-1])]
                for k in range(60)
            ]

        # fresh: straight into pings (the direct path); the resends meet stored rows and go staged.
        answers = await asyncio.gather(*(writer.submit(r, fresh=True) for r in requests()))
        assert answers == [[True] * 6] * 60
        # A resend of all of them, as concurrent as the first time: every one is a duplicate.
        again = await asyncio.gather(*(writer.submit(r, fresh=True) for r in requests()))
        assert again == [[False] * 6] * 60
    finally:
        await writer.stop()
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT officer_id, count(*), max(recorded_at) FROM pings WHERE officer_id = ANY(%s) GROUP BY 1",
            (officers,),
        )
        assert sorted(await cur.fetchall()) == [(oid, 60, t + timedelta(seconds=59)) for oid in officers]
        cur = await conn.execute(
            "SELECT officer_id, recorded_at FROM officer_positions WHERE officer_id = ANY(%s)", (officers,)
        )
        assert sorted(await cur.fetchall()) == [(oid, t + timedelta(seconds=59)) for oid in officers]


async def test_a_resend_racing_its_original_is_stored_once_and_answered_new_once(actors, database_url):
    officers = [(await actors.officer())[0] for _ in range(6)]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

    def requests(reverse: bool) -> list[list[PingRow]]:
        return [
            [
                fix(oid, t + timedelta(seconds=k), k)
                for oid in (officers[::-1] if (k % 2) ^ reverse else officers)
            ]
            for k in range(60)
        ]

    writer = await started(database_url, 3, max_batch=12)
    try:
        # Each request and its resend (officers the other way round) in flight at once, on three connections.
        pairs = zip(requests(False), requests(True), strict=True)
        answers = await asyncio.gather(*(writer.submit(r, fresh=True) for pair in pairs for r in pair))
    finally:
        await writer.stop()
    for k in range(60):
        original, resend = answers[2 * k], answers[2 * k + 1]
        assert sorted(original + resend) == [False] * 6 + [True] * 6, (k, original, resend)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT count(*) FROM pings WHERE officer_id = ANY(%s)", (officers,))
        assert await cur.fetchone() == (360,)


async def test_a_lost_connection_leaves_the_writer_taking_pings_on_the_other(actors, database_url):
    oid = (await actors.officer())[0]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    writer = await started(database_url, 2)
    try:
        pids = backend_pids(writer)
        assert await names_of(database_url, pids) == ["jogo-ping-writer-0", "jogo-ping-writer-1"]
        await terminate(database_url, pids[0])
        # Every ping is answered, and stored when it says so; the writer never refuses them meanwhile.
        for k in range(20):
            assert writer.healthy
            try:
                assert await writer.submit([fix(oid, t + timedelta(seconds=k))]) == [True]
            except Exception as exc:  # the batch that met the dead connection: answered, to be resent
                assert getattr(exc, "code", None) == "store_failed", exc
                assert await writer.submit([fix(oid, t + timedelta(seconds=k))]) in ([True], [False])
            await asyncio.sleep(0.05)
        for _ in range(100):  # the lost one comes back by itself
            now = backend_pids(writer)
            if len(now) == 2 and now[0] != pids[0] and len(await names_of(database_url, now)) == 2:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"writer connection 0 did not reconnect: {now}")
    finally:
        await writer.stop()
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT count(*) FROM pings WHERE officer_id = %s", (oid,))
        assert await cur.fetchone() == (20,)


async def test_an_idle_connection_is_checked_while_another_one_is_busy(actors, database_url):
    held, other = (await actors.officer())[0], (await actors.officer())[0]
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    writer = await started(database_url, 2)
    lock = await psycopg.AsyncConnection.connect(database_url)
    try:
        assert await writer.submit([fix(held, t), fix(other, t)]) == [True, True]
        await lock.execute("SELECT 1 FROM officer_positions WHERE officer_id = %s FOR UPDATE", (held,))
        busy = asyncio.create_task(writer.submit([fix(held, t + timedelta(seconds=1))]))
        await asyncio.sleep(0.3)
        # The other connection is the idle one (this writer's busy one is waiting for the lock).
        idle = next(lane for lane in writer._lanes if not lane.committing)
        idle_pid = backend_pids(writer)[idle.number]
        await terminate(database_url, idle_pid)
        # Pings keep arriving (each waking the idle connection, each too small to go on it): within a few
        # seconds the idle one has been checked, found dead and replaced all the same.
        waiting = []
        for k in range(30):
            waiting.append(asyncio.create_task(writer.submit([fix(other, t + timedelta(seconds=2 + k))])))
            await asyncio.sleep(0.1)
        assert backend_pids(writer)[idle.number] != idle_pid  # replaced
        assert len(await names_of(database_url, backend_pids(writer))) == 2
        await lock.rollback()
        assert await asyncio.wait_for(busy, 5) == [True]
        assert await asyncio.wait_for(asyncio.gather(*waiting), 5) == [[True]] * 30
    finally:
        await lock.close()
        await writer.stop()
