"""Data for the rendered maps: incident counts per H3 cell, coverage gaps, an officer's track."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import h3
from h3.api import basic_int as h3i
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import NotFound
from jogo_dispatch.geo.cells import cell_center
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.maps import render
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.responders.service import make_index, rebuild
from jogo_dispatch.settings import Settings

MALANG_BBOX = (112.57, -8.05, 112.70, -7.90)  # w, s, e, n


def cells_in_bbox(bbox: tuple[float, float, float, float], res: int) -> list[int]:
    w, s, e, n = bbox
    poly = h3.LatLngPoly([(s, w), (s, e), (n, e), (n, w)])
    return sorted(h3i.polygon_to_cells(poly, res))


def coverage_gaps(
    index: ResponderIndex, cells: list[int], target_eta_s: float, seen_after: datetime
) -> list[render.Gap]:
    """Cells whose nearest available, online officer (by ETA over all unit types) is beyond the target."""
    gaps = []
    for cell in cells:
        lat, lon = cell_center(cell)
        found = index.nearest(lat, lon, k=3, seen_after=seen_after).candidates
        best = min((c.eta_s for c in found), default=None)
        if best is None or best > target_eta_s:
            gaps.append(render.Gap(cell, best))
    return gaps


async def incident_counts(session: AsyncSession, since: datetime, until: datetime) -> dict[int, int]:
    exists = await session.scalar(text("SELECT to_regclass('incidents') IS NOT NULL"))
    if not exists:
        return {}
    rows = await session.execute(
        text(
            "SELECT h3_r9, count(*) FROM incidents WHERE received_at >= :since AND received_at < :until "
            "AND h3_r9 IS NOT NULL GROUP BY 1"
        ),
        {"since": since, "until": until},
    )
    return {int(cell): int(n) for cell, n in rows}


async def track_points(
    session: AsyncSession, badge: str, since: datetime, until: datetime
) -> list[tuple[float, float, datetime]]:
    officer_id = await session.scalar(text("SELECT id FROM officers WHERE badge = :b"), {"b": badge})
    if officer_id is None:
        raise NotFound(f"no officer with badge {badge!r}")
    rows = await session.execute(
        text(
            "SELECT ST_Y(geog::geometry), ST_X(geog::geometry), recorded_at FROM pings WHERE officer_id = :o "
            "AND recorded_at >= :since AND recorded_at < :until ORDER BY recorded_at"
        ),
        {"o": officer_id, "since": since, "until": until},
    )
    return [(lat, lon, at) for lat, lon, at in rows]


async def render_all(
    session: AsyncSession,
    settings: Settings,
    out: Path,
    *,
    hours: float,
    badge: str | None,
    target_eta_s: float,
    res: int = 8,
    log: object = print,
) -> list[Path]:
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    until = utcnow()
    since = until - timedelta(hours=hours)
    tiles = settings.tile_url or None
    written = []

    counts = await incident_counts(session, since, until)
    path = out / "incident_heatmap.html"
    render.heatmap(counts, since, until, tiles).save(str(path))
    written.append(path)
    log(f"heatmap: {sum(counts.values())} incidents in {len(counts)} cells -> {path}")  # type: ignore[operator]

    index = make_index(settings)
    await rebuild(index, session)
    seen_after = until - timedelta(seconds=settings.online_after_s)
    cells = cells_in_bbox(MALANG_BBOX, res)
    gaps = coverage_gaps(index, cells, target_eta_s, seen_after)
    on_duty = [
        (r.lat, r.lon) for r in index.responders() if r.status == "available" and r.last_seen >= seen_after
    ]
    path = out / "coverage_gaps.html"
    render.coverage(gaps, target_eta_s, on_duty, tiles).save(str(path))
    written.append(path)
    log(
        f"coverage: {len(gaps)} of {len(cells)} cells beyond {target_eta_s:.0f}s, "  # type: ignore[operator]
        f"{len(on_duty)} officers available -> {path}"
    )

    if badge:
        points = await track_points(session, badge, since, until)
        path = out / f"track_{badge}.html"
        render.track(points, badge, tiles).save(str(path))
        written.append(path)
        log(f"track: {len(points)} fixes of {badge} -> {path}")  # type: ignore[operator]
    return written
