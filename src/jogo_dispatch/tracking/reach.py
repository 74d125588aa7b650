"""How each officer is reached: the phone app (HTTP pings or the stream socket) takes offers; a tracker
app (Traccar Client, OsmAnd, OwnTracks) only reports where the officer is, so the dispatcher calls them by
radio instead. Judged by the protocol of the officer's latest fix."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Ping sources of the phone app (tracking.router and tracking.stream).
APP_SOURCES = frozenset({"api", "ws"})

_LATEST_SOURCE = text("""
SELECT o.id, (
    SELECT p.source FROM pings p
    WHERE p.officer_id = o.id AND p.recorded_at > :since
    ORDER BY p.recorded_at DESC LIMIT 1
) FROM unnest(CAST(:ids AS bigint[])) AS o(id)
""")


async def latest_sources(
    session: AsyncSession, officer_ids: Collection[int], since: datetime
) -> dict[int, str | None]:
    """The protocol of each officer's latest fix since ``since`` (None: no fix since then); one index probe
    per officer on the pings primary key."""
    if not officer_ids:
        return {}
    rows = await session.execute(_LATEST_SOURCE, {"ids": list(officer_ids), "since": since})
    return {int(officer_id): source for officer_id, source in rows}


def takes_offers(source: str | None) -> bool:
    return source in APP_SOURCES
