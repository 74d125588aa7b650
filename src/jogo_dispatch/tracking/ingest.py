"""The one ingest path: every protocol (HTTP batch, websocket, OsmAnd, OwnTracks) ends here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import structlog
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.tracking.filters import (
    REASONS,
    VECTOR_MIN,
    FilterConfig,
    Fix,
    LastFix,
    group_by_officer,
    screen,
    screen_columns,
)
from jogo_dispatch.tracking.wire import EPOCH, ONE_US, Decoded, PingFixes, from_fixes, to_fixes
from jogo_dispatch.tracking.writer import PingRow, PingWriter, PositionUpdate, encode_columns

log = structlog.get_logger(__name__)

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
        officer_id: int | None = None,
        device: str | None = None,
    ) -> IngestResult:
        """``items`` are (index in the request, officer id, fix); returns after commit. ``rejected``: the
        request's fixes refused before (by their index). Every refused fix is logged once, with its
        reason and who sent it (``officer_id``/``device``: the sender when the items do not name it,
        the phone's own identifier for a protocol); accepted ones are not."""
        now = utcnow()
        out_rejected = list(rejected)
        accepted: list[tuple[int, PingRow]] = []
        for oid, fixes in group_by_officer(items).items():
            result = screen(fixes, self.last.get(oid), now, self._cfg)
            out_rejected.extend(result.rejected)
            accepted.extend((i, _row(oid, f, now, device_id, source)) for i, f in result.accepted)
        # No stored duplicate expected when every fix is newer than its officer's latest one.
        fresh = all(
            (last := self.last.get(row.officer_id)) is None or row.recorded_at > last.recorded_at
            for _, row in accepted
        )
        stored = await self._writer.submit([row for _, row in accepted], fresh=fresh) if accepted else []
        for (index, row), is_new in zip(accepted, stored, strict=True):
            if not is_new:
                # A report without a fix that the writer could not place: the officer has no position yet.
                unplaced = row.lat is None and row.officer_id not in self.last
                out_rejected.append((index, "no_position" if unplaced else "duplicate"))
        out_rejected.sort()
        if out_rejected:
            self._log_rejected(out_rejected, items, source, officer_id, device_id, device)
        for _, reason in out_rejected:
            PINGS_REJECTED.labels(reason.split(":", 1)[0]).inc()
        n = sum(stored)
        PINGS_ACCEPTED.labels(source).inc(n)
        return IngestResult(n, out_rejected)

    async def submit_columns(
        self, decoded: Decoded, *, officer_id: int, source: str, device_id: int | None = None
    ) -> IngestResult:
        """One officer's request as decoded by tracking.wire (the HTTP batch, the socket): :meth:`submit`'s
        answers, with a batch screened at once and its rows encoded a column at a time."""
        if isinstance(decoded, PingFixes):
            if len(decoded) < VECTOR_MIN or any(f.approximate or f.attributes for _, f in decoded.fixes):
                return await self.submit(
                    [(i, officer_id, f) for i, f in decoded.fixes],
                    source=source,
                    device_id=device_id,
                    rejected=decoded.rejected,
                    officer_id=officer_id,
                )
            index, fixes = zip(*decoded.fixes, strict=True)
            decoded = from_fixes(index, fixes, decoded.rejected, decoded.count)
        cols = decoded
        if len(cols) < VECTOR_MIN or cols.approximate is not None or cols.attributes is not None:
            return await self.submit(
                [(i, officer_id, f) for i, f in zip(cols.index.tolist(), to_fixes(cols), strict=True)],
                source=source,
                device_id=device_id,
                rejected=cols.rejected,
                officer_id=officer_id,
            )
        now = utcnow()
        last = self.last.get(officer_id)
        out_rejected = list(cols.rejected)
        codes = screen_columns(cols.t_us, cols.lat, cols.lon, cols.accuracy_m, last, now, self._cfg)
        if codes is None:
            # Some fix is too fast: which one the next is measured against is the per-fix loop's to decide.
            result = screen(list(zip(cols.index.tolist(), to_fixes(cols), strict=True)), last, now, self._cfg)
            out_rejected.extend(result.rejected)
            mask = np.isin(cols.index, [i for i, _ in result.accepted])
        else:
            bad = np.flatnonzero(codes)
            out_rejected.extend(
                (i, REASONS[c]) for i, c in zip(cols.index[bad].tolist(), codes[bad].tolist(), strict=True)
            )
            mask = codes == 0
        ok = cols if mask.all() else cols.take(mask)
        # No stored duplicate expected when every fix is newer than the officer's latest one.
        fresh = last is None or (len(ok) > 0 and int(ok.t_us.min()) > (last.recorded_at - EPOCH) // ONE_US)
        encoded = encode_columns(
            officer_id,
            ok.t_us,
            now,
            ok.lat,
            ok.lon,
            (ok.accuracy_m, ok.speed_mps, ok.heading_deg, ok.altitude_m, ok.battery_pct),
            device_id,
            source,
            fresh=fresh,
        )
        stored = await self._writer.submit_encoded(encoded)
        n = len(ok)
        if not all(stored):
            n = sum(stored)
            out_rejected.extend(
                (i, "duplicate") for i, is_new in zip(ok.index.tolist(), stored, strict=True) if not is_new
            )
        out_rejected.sort()
        if out_rejected:
            self._log_rejected(out_rejected, (), source, officer_id, device_id, None)
            for _, reason in out_rejected:
                PINGS_REJECTED.labels(reason.split(":", 1)[0]).inc()
        PINGS_ACCEPTED.labels(source).inc(n)
        return IngestResult(n, out_rejected)

    @staticmethod
    def _log_rejected(
        rejected: Sequence[tuple[int, str]],
        items: Sequence[tuple[int, int, Fix]],
        source: str,
        officer_id: int | None,
        device_id: int | None,
        device: str | None,
    ) -> None:
        # Rejections are the exception (a phone's bug, a resend, a clock off): one line each is bounded by
        # the request's own size, which JOGO_MAX_BATCH caps.
        officers = {index: oid for index, oid, _ in items}
        for index, reason in rejected:
            log.info(
                "fix rejected",
                reason=reason,
                source=source,
                index=index,
                officer_id=officers.get(index, officer_id),
                device_id=device_id,
                device=device,
            )


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
        f.approximate,
    )
