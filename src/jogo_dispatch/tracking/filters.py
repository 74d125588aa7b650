"""Plausibility filters for incoming GPS fixes. Pure: the caller supplies the clock and last fixes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from jogo_dispatch.geo.distance import SPHERE_RADIUS_M, haversine_m, haversine_pairs_m

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


# -- one officer's batch at once, as columns -------------------------------------------------------------

# What ``screen_columns`` answers per row: 0 accepted, else REASONS[code].
REASONS = ("", "out_of_range", "null_island", "future", "too_old", "inaccurate", "duplicate")
_OUT_OF_RANGE, _NULL_ISLAND, _FUTURE, _TOO_OLD, _INACCURATE, _DUPLICATE = range(1, 7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# Below this many fixes the per-fix loop is cheaper than setting up the arrays.
VECTOR_MIN = 8
# An implied speed this close to the limit is decided by the per-fix loop's own arithmetic.
_SPEED_MARGIN = 1e-9


def screen_columns(
    t_us: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    accuracy_m: npt.NDArray[np.float64],
    last: LastFix | None,
    now: datetime,
    cfg: FilterConfig,
) -> npt.NDArray[np.int8] | None:
    """:func:`screen` for one officer's fixes (none approximate) given as columns (``t_us``: microseconds
    since the Unix epoch; NaN accuracy = unknown), in request order: the reason code of each row.

    The same answers as :func:`screen`: the rules are independent per fix except the duplicate (one per
    timestamp, the first in time-then-request order) and the implied speed (against the running latest
    fix). Both are computed as if every fix that passes the other rules were accepted; that holds unless
    some fix is too fast, and then None is returned: the caller runs :func:`screen`, whose loop decides
    which fix the next one is measured against."""
    n = len(t_us)
    newest = (now + timedelta(seconds=cfg.future_tolerance_s) - _EPOCH) // _US
    oldest = (now - timedelta(days=cfg.retention_days) - _EPOCH) // _US
    code = np.zeros(n, dtype=np.int8)
    if n and _all_pass(t_us, lat, lon, accuracy_m, last, newest, oldest, cfg):
        return code
    in_range = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    code[~in_range] = _OUT_OF_RANGE
    ok = code == 0
    code[ok & (lat == 0) & (lon == 0)] = _NULL_ISLAND
    ok = code == 0
    code[ok & (t_us > newest)] = _FUTURE
    ok = code == 0
    code[ok & (t_us < oldest)] = _TOO_OLD
    ok = code == 0
    code[ok & (accuracy_m > cfg.max_accuracy_m)] = _INACCURATE
    ok = code == 0
    # In time order (stable: ties keep request order), the fixes left; each time once.
    order = np.argsort(t_us, kind="stable")
    cand = order[ok[order]]
    tc = t_us[cand]
    last_us = None if last is None else (last.recorded_at - _EPOCH) // _US
    dup = np.zeros(len(cand), dtype=np.bool_)
    if len(cand) > 1:
        dup[1:] = tc[1:] == tc[:-1]
    if last_us is not None:
        dup |= tc == last_us
    code[cand[dup]] = _DUPLICATE
    keep = cand[~dup]
    if len(keep) == 0:
        return code
    tk, la, lo = t_us[keep], lat[keep], lon[keep]
    # The fix each one is measured against: the one before it in time, unless that is not newer than the
    # officer's latest fix from before this batch (then that one); the first only against the latter.
    prev_t = np.empty(len(keep), dtype=np.int64)
    prev_la = np.empty(len(keep), dtype=np.float64)
    prev_lo = np.empty(len(keep), dtype=np.float64)
    checked = np.ones(len(keep), dtype=np.bool_)
    prev_t[1:], prev_la[1:], prev_lo[1:] = tk[:-1], la[:-1], lo[:-1]
    if last is None:
        checked[0] = False
        prev_t[0], prev_la[0], prev_lo[0] = 0, 0.0, 0.0
    else:
        assert last_us is not None
        use_last = np.zeros(len(keep), dtype=np.bool_)
        use_last[0] = True
        use_last[1:] = tk[:-1] <= last_us
        prev_t[use_last], prev_la[use_last], prev_lo[use_last] = last_us, last.lat, last.lon
        checked &= tk > prev_t
    if not checked.any():
        return code
    dt = (tk - prev_t)[checked].astype(np.float64) / 1e6
    dist = haversine_pairs_m(prev_la[checked], prev_lo[checked], la[checked], lo[checked])
    speed = dist / dt
    if (speed > cfg.max_speed_mps * (1 - _SPEED_MARGIN)).any():
        return None
    return code


# Degrees to metres along a great circle of the sphere haversine_m uses, with room for its rounding.
_M_PER_DEG_BOUND = SPHERE_RADIUS_M * math.pi / 180 * (1 + 1e-9)


def _all_pass(
    t_us: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    accuracy_m: npt.NDArray[np.float64],
    last: LastFix | None,
    newest: int,
    oldest: int,
    cfg: FilterConfig,
) -> bool:
    """True when every fix passes every rule, decided with a few whole-array operations: a phone's batch
    in time order, all in range, all slow. False means only "not shown here" (screen_columns decides).

    Times strictly increasing and newer than the officer's latest: no duplicate, and each fix is measured
    against the one before it. The implied speed is bounded from above: the great circle is never longer
    than going along the meridian and then along the parallel, R * (|dlat| + |dlon|) in radians."""
    if len(t_us) > 1 and not (t_us[1:] > t_us[:-1]).all():
        return False
    first, latest = int(t_us[0]), int(t_us[-1])
    if latest > newest or first < oldest:
        return False
    # NaN fails every comparison, so a missing coordinate is never taken for one in range.
    if not (lat.min() >= -90 and lat.max() <= 90 and lon.min() >= -180 and lon.max() <= 180):
        return False
    if (lat == 0).any() and ((lat == 0) & (lon == 0)).any():
        return False
    if (accuracy_m > cfg.max_accuracy_m).any():
        return False
    limit = cfg.max_speed_mps * (1 - _SPEED_MARGIN)
    if last is not None:
        last_us = (last.recorded_at - _EPOCH) // _US
        if first <= last_us:
            return False
        reach = (abs(float(lat[0]) - last.lat) + abs(float(lon[0]) - last.lon)) * _M_PER_DEG_BOUND
        if reach + 1e-6 > limit * (first - last_us) / 1e6:
            return False
    if len(t_us) > 1:
        reach_m = (np.abs(np.diff(lat)) + np.abs(np.diff(lon))) * _M_PER_DEG_BOUND + 1e-6
        if (reach_m > np.diff(t_us) * (limit / 1e6)).any():
            return False
    return True
