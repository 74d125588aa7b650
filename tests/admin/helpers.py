"""Shared by the admin console's tests: rows of the audit log, a roster file."""

from __future__ import annotations

from typing import Any

import psycopg


async def audit_rows(database_url: str, entity_type: str, entity_id: int | None = None) -> list[Any]:
    query = (
        "SELECT action, from_state, to_state, actor_id, reason, data FROM audit_log WHERE entity_type = %s"
    )
    args: list[Any] = [entity_type]
    if entity_id is not None:
        query += " AND entity_id = %s"
        args.append(entity_id)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(query + " ORDER BY id", args)
        return list(await cur.fetchall())


def roster_csv(n: int, *, start: int = 1, bad: dict[int, str] | None = None) -> str:
    """``n`` officers (badges R0001...); ``bad`` replaces the unit type of those data rows (1-based)."""
    lines = ["badge,name,unit_type,sector,device_id"]
    units = ("car", "motorbike", "foot")
    for i in range(start, start + n):
        unit = (bad or {}).get(i - start + 1, units[i % 3])
        lines.append(f"R{i:04d},Bripda Roster {i},{unit},Klojen,hp-r{i:04d}")
    return "\n".join(lines) + "\n"
