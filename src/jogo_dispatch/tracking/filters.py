"""Plausibility filters for incoming GPS fixes. Pure: the caller supplies the clock and last fixes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from jogo_dispatch.geo.distance import haversine_m

# Why a report is kept in history but may not move the latest position (``Fix.approximate``).
INVALID = "invalid"  # the phone itself said the fix is not valid (OsmAnd valid=false)
LAST_KNOWN = "last_known"  # no fix at all (a heartbeat, a cell/Wi-Fi-only message): at the last position


@dataclass(slots=True)  # not frozen: creating frozen instances costs ~5x on the ingest hot path
class Fix:
    """One GPS fix, normalised (SI units, tz-aware UTC time), whatever protocol it came by.

    ``approximate`` None: a fix that may move the officer's latest position. Otherwise (``INVALID``,
    ``LAST_KNOWN``) a report kept in history only; ``LAST_KNOWN`` ones carry no coordinates (the writer
    places them at the officer's last known position) and refresh presence and battery."""

    lat: float | None
    lon: float | None
    recorded_at: datetime
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    attributes: str | None = None  # protocol extras as JSON text, stored verbatim
    approximate: str | None = None


@dataclass(slots=True)  # not frozen: creating frozen instances costs ~5x on the ingest hot path
class LastFix:
    recorded_at: datetime
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class FilterConfig:
    future_tolerance_s: float = 120.0
    retention_days: int = 90
    max_speed_mps: float = 70.0
    max_accuracy_m: float = 500.0


@dataclass(frozen=True, slots=True)
class Screened:
    accepted: list[tuple[int, Fix]]  # (index in the request, fix)
    rejected: list[tuple[int, str]]  # (index in the request, reason)


def coordinate_problem(lat: float, lon: float) -> str | None:
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return "out_of_range"
    if lat == 0 and lon == 0:
        return "null_island"
    return None


def screen(
    fixes: Sequence[tuple[int, Fix]],
    last: LastFix | None,
    now: datetime,
    cfg: FilterConfig,
) -> Screened:
    """Screen one officer's fixes. Out-of-order fixes are kept for history (the writer does not move
    the latest position backwards); only fixes newer than the running latest are speed-checked.

    One report per timestamp: of several with the same time, a fix wins over an approximate report
    (whatever their order in the request), else the first one; the others are ``duplicate``. An
    approximate report is checked for its coordinates (when it has any) and its time only: it moves
    nothing, so neither its accuracy nor its implied speed can mislead dispatch."""
    accepted: list[tuple[int, Fix]] = []
    rejected: list[tuple[int, str]] = []
    newest_allowed = now + timedelta(seconds=cfg.future_tolerance_s)
    oldest_allowed = now - timedelta(days=cfg.retention_days)
    seen: set[datetime] = set()
    running = last
    for index, fix in sorted(fixes, key=_fix_first):
        if fix.approximate is not None or fix.lat is None or fix.lon is None:
            reason = _approximate_problem(fix, newest_allowed, oldest_allowed)
            if reason is None and (fix.recorded_at in seen or (last and fix.recorded_at == last.recorded_at)):
                reason = "duplicate"
            if reason is not None:
                rejected.append((index, reason))
                continue
            seen.add(fix.recorded_at)
            accepted.append((index, fix))
            continue
        reason = coordinate_problem(fix.lat, fix.lon)
        if reason is None:
            reason = _time_problem(fix, newest_allowed, oldest_allowed)
        if reason is None and fix.accuracy_m is not None and fix.accuracy_m > cfg.max_accuracy_m:
            reason = "inaccurate"
        if reason is None and (fix.recorded_at in seen or (last and fix.recorded_at == last.recorded_at)):
            reason = "duplicate"
        if (
            reason is None
            and running is not None
            and fix.recorded_at > running.recorded_at
            and _implied_speed(running, fix) > cfg.max_speed_mps
        ):
            reason = "too_fast"
        if reason is not None:
            rejected.append((index, reason))
            continue
        seen.add(fix.recorded_at)
        accepted.append((index, fix))
        if running is None or fix.recorded_at > running.recorded_at:
            running = LastFix(fix.recorded_at, fix.lat, fix.lon)
    rejected.sort()
    return Screened(accepted, rejected)


def _fix_first(item: tuple[int, Fix]) -> tuple[datetime, bool]:
    return item[1].recorded_at, item[1].approximate is not None


def _approximate_problem(fix: Fix, newest_allowed: datetime, oldest_allowed: datetime) -> str | None:
    if fix.lat is not None and fix.lon is not None:
        reason = coordinate_problem(fix.lat, fix.lon)
        if reason is not None:
            return reason
    return _time_problem(fix, newest_allowed, oldest_allowed)


def _time_problem(fix: Fix, newest_allowed: datetime, oldest_allowed: datetime) -> str | None:
    if fix.recorded_at > newest_allowed:
        return "future"
    if fix.recorded_at < oldest_allowed:
        return "too_old"
    return None


def _implied_speed(prev: LastFix, fix: Fix) -> float:
    assert fix.lat is not None and fix.lon is not None  # approximate reports are never speed-checked
    dt = (fix.recorded_at - prev.recorded_at).total_seconds()
    # A plausibility gate only: the sphere is close enough (exact geodesics are for ranking).
    return haversine_m(prev.lat, prev.lon, fix.lat, fix.lon) / dt if dt > 0 else math.inf


def group_by_officer(items: Sequence[tuple[int, int, Fix]]) -> Mapping[int, list[tuple[int, Fix]]]:
    grouped: dict[int, list[tuple[int, Fix]]] = {}
    for index, officer_id, fix in items:
        grouped.setdefault(officer_id, []).append((index, fix))
    return grouped
