"""Daily partitions of ``pings``: created ahead of time, dropped after the retention window."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

_NAME = re.compile(r"^pings_p(\d{8})$")


def partition_name(day: date) -> str:
    return f"pings_p{day:%Y%m%d}"


def day_of(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _create_statement(day: date) -> sql.Composed:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF pings FOR VALUES FROM ({}) TO ({})").format(
        sql.Identifier(partition_name(day)), sql.Literal(start), sql.Literal(start + timedelta(days=1))
    )


async def ensure_partitions(conn: psycopg.AsyncConnection, days: Iterable[date]) -> None:
    """Create missing partitions. Runs inside the caller's transaction (a savepoint per day, so a
    concurrent creator in another process only costs a retry of that day)."""
    for day in sorted(set(days)):
        for _attempt in range(3):
            try:
                async with conn.transaction():
                    await conn.execute(_create_statement(day))
                break
            except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
                continue


async def existing_partition_days(conn: psycopg.AsyncConnection) -> list[date]:
    cur = await conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'pings'"
    )
    days = []
    for (name,) in await cur.fetchall():
        m = _NAME.match(name)
        if m:
            days.append(datetime.strptime(m.group(1), "%Y%m%d").date())
    return sorted(days)


async def drop_partitions_before(conn: psycopg.AsyncConnection, first_kept: date) -> list[str]:
    dropped = []
    for day in await existing_partition_days(conn):
        if day < first_kept:
            name = partition_name(day)
            await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
            dropped.append(name)
    return dropped


async def maintain(
    conn: psycopg.AsyncConnection, today: date, ahead_days: int, retention_days: int
) -> list[str]:
    """Create today's and the next days' partitions; drop those wholly past retention."""
    await ensure_partitions(conn, days_between(today - timedelta(days=1), today + timedelta(days=ahead_days)))
    return await drop_partitions_before(conn, today - timedelta(days=retention_days))
