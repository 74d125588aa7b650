"""The one ingest path: every protocol (HTTP batch, websocket, OsmAnd, OwnTracks) ends here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.tracking.filters import FilterConfig, Fix, LastFix, group_by_officer, screen
from jogo_dispatch.tracking.writer import PingRow, PingWriter, PositionUpdate

PINGS_REJECTED = Counter("jogo_pings_rejected_total", "pings refused by the filters", ["reason"])
PINGS_ACCEPTED = Counter("jogo_pings_accepted_total", "pings accepted", ["source"])


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    rejected: list[tuple[int, str]]


class Ingest:
    def __init__(self, writer: PingWriter, cfg: FilterConfig) -> None:
        self._writer = writer
        self._cfg = cfg
        # Latest accepted fix per officer, for the duplicate and speed filters. Filled at start-up
        # and kept by the writer's after-commit hook.
        self.last: dict[int, LastFix] = {}
        writer.add_after_commit(self._remember)

    async def load(self, session: AsyncSession) -> int:
        rows = await session.execute(
            text(
                "SELECT officer_id, recorded_at, ST_Y(geog::geometry), ST_X(geog::geometry) FROM officer_positions"
            )
        )
        for officer_id, recorded_at, lat, lon in rows:
            self.last[officer_id] = LastFix(recorded_at, lat, lon)
        return len(self.last)

    def _remember(self, moved: Sequence[PositionUpdate]) -> None:
        for u in moved:
            prev = self.last.get(u.officer_id)
            if prev is None or prev.recorded_at < u.recorded_at:
                self.last[u.officer_id] = LastFix(u.recorded_at, u.lat, u.lon)

    async def submit(
        self,
        items: Sequence[tuple[int, int, Fix]],
        *,
        source: str,
        device_id: int | None = None,
        rejected: Sequence[tuple[int, str]] = (),
    ) -> IngestResult:
        """``items`` are (index in the request, officer id, fix); returns after commit."""
        now = utcnow()
        out_rejected = list(rejected)
        accepted: list[tuple[int, PingRow]] = []
        for officer_id, fixes in group_by_officer(items).items():
            result = screen(fixes, self.last.get(officer_id), now, self._cfg)
            out_rejected.extend(result.rejected)
            accepted.extend((i, _row(officer_id, f, now, device_id, source)) for i, f in result.accepted)
        stored = await self._writer.submit([row for _, row in accepted]) if accepted else []
        for (index, _), is_new in zip(accepted, stored, strict=True):
            if not is_new:
                out_rejected.append((index, "duplicate"))
        out_rejected.sort()
        for _, reason in out_rejected:
            PINGS_REJECTED.labels(reason.split(":", 1)[0]).inc()
        n = sum(stored)
        PINGS_ACCEPTED.labels(source).inc(n)
        return IngestResult(n, out_rejected)


def _row(officer_id: int, f: Fix, now: datetime, device_id: int | None, source: str) -> PingRow:
    return PingRow(
        officer_id,
        f.recorded_at,
        now,
        f.lat,
        f.lon,
        f.accuracy_m,
        f.speed_mps,
        f.heading_deg,
        f.altitude_m,
        f.battery_pct,
        device_id,
        source,
        f.attributes,
    )
