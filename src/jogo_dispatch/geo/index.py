"""In-memory nearest-responder index: H3 buckets, a provable ring walk, exact geodesic ranking.

Layout: each officer owns a *slot*; per-slot numpy arrays hold the unit vector, a (status, unit type)
pair code and last-seen time, so a candidate set is filtered and ranked with a handful of vectorised
operations. A dict maps each H3 cell (at ``res``) to the set of slots inside it.

Query: walk the grid disk outwards from the query's cell (:class:`~jogo_dispatch.geo.cells.DiskWalk`
supplies the rings and a proven lower bound on the distance to anything not yet visited). Candidates
are ranked by squared chord, which brackets the geodesic distance within fixed ratios, so only the
few whose lower bound can beat the k-th upper bound get an exact WGS84 solve. The walk stops as soon
as the bound exceeds that k-th upper bound, the radius, or every matching officer has been seen; if
the disk would grow past what the population warrants, a vectorised scan of everyone is cheaper.

Small fleets skip the walk and scan: one matrix-vector product gives every slot's cosine to the query,
the (cached) slots passing the filters are taken from it, a partition finds the k-th, and the same
bracketing (widened for the cosine's rounding) picks the few that get an exact solve. A handful of
numpy calls in all, so the exact answer costs about what an approximate numpy brute force does
(benchmarks/bench_nearest.py times both in one process).

Not thread-safe: the owner serialises ``update``/``remove``/``nearest`` (one event loop, or a lock).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from h3.api import basic_int as h3i

from jogo_dispatch.geo.cells import DiskWalk, check_latlon, disk_walk
from jogo_dispatch.geo.distance import (
    GEOD,
    SPHERE_HI,
    SPHERE_LO,
    SPHERE_RADIUS_M,
    chord2_to_upper_m,
    geodesic_m,
    haversine_m,
    lower_m_to_chord2,
    unit_vector,
)
from jogo_dispatch.geo.eta import DEFAULT_DETOUR, DEFAULT_SPEEDS_MPS, eta_seconds, travel_seconds

__all__ = [
    "Responder",
    "Candidate",
    "NearestResult",
    "ResponderIndex",
    "ShortfallReason",
    "NO_POSITION_DATA",
    "POSITIONS_TOO_OLD",
    "OUTSIDE_RADIUS",
    "NONE_AVAILABLE",
    "DEFAULT_STATUSES",
    "brute_force_nearest",
]

ShortfallReason = Literal["no_position_data", "positions_too_old", "outside_radius", "none_available"]
NO_POSITION_DATA: Final = "no_position_data"  # the index holds nobody at all
POSITIONS_TOO_OLD: Final = "positions_too_old"  # matching officers exist but their fixes are stale
OUTSIDE_RADIUS: Final = "outside_radius"  # matching, fresh officers exist beyond max_distance_m
NONE_AVAILABLE: Final = "none_available"  # no (further) officer matches the status/unit filters
DEFAULT_STATUSES: Final = frozenset({"available"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# Above this many survivors the array call's fixed ~7 µs beats ~1 µs per scalar solve.
_VECTOR_SOLVE_FROM = 12
_FILTER_CACHE_MAX = 256
# Cap on |(2 - 2 q.x) - |x - q|^2| for unit vectors built by unit_vector: their squared norms are 1
# within ~1e-15, the 3-term dot product rounds by < 4e-16 and the scalar steps by ulps of 2; the
# total stays below 3e-15, so 1e-14 is a safe margin (0.6 m at zero distance, 2 mm at 100 m).
_COS_C2_ERR = 1e-14
# Metres of guaranteed geodesic distance per radian of sphere angle, and rounding slack.
_LOWER_PER_RADIAN = SPHERE_LO * SPHERE_RADIUS_M * (1.0 - 1e-9)
_ABS_SLACK_M = 1e-3
_FIRST_DISK_MAX = 3

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_FilterKey = tuple[frozenset[str], frozenset[str] | None]


@dataclass(slots=True)
class Responder:
    officer_id: int
    lat: float
    lon: float
    status: str
    unit_type: str
    last_seen: datetime  # timezone-aware


_DISTANCE_THEN_ID = operator.itemgetter(0, 1)  # (distance, id, record): ids are unique


@dataclass(slots=True, frozen=True)
class Candidate:
    officer_id: int
    lat: float
    lon: float
    status: str
    unit_type: str
    last_seen: datetime
    distance_m: float  # exact WGS84 geodesic from the query point
    eta_s: float


_CANDIDATE_FIELDS = ("officer_id", "lat", "lon", "status", "unit_type", "last_seen", "distance_m", "eta_s")
if tuple(f.name for f in fields(Candidate)) != _CANDIDATE_FIELDS:
    raise RuntimeError("Candidate's fields changed: update _new_candidate")
_set_id, _set_lat, _set_lon, _set_status, _set_unit, _set_seen, _set_dist, _set_eta = (
    getattr(Candidate, name).__set__ for name in _CANDIDATE_FIELDS
)


def _new_candidate(
    officer_id: int,
    lat: float,
    lon: float,
    status: str,
    unit_type: str,
    last_seen: datetime,
    distance_m: float,
    eta_s: float,
) -> Candidate:
    """``Candidate(...)`` at half the cost: a frozen dataclass's ``__init__`` goes through
    ``object.__setattr__`` per field, ~0.3 µs each; the slot descriptors set the same fields
    directly. A query builds k of these, which otherwise costs about as much as its ranking."""
    c: Candidate = object.__new__(Candidate)
    _set_id(c, officer_id)
    _set_lat(c, lat)
    _set_lon(c, lon)
    _set_status(c, status)
    _set_unit(c, unit_type)
    _set_seen(c, last_seen)
    _set_dist(c, distance_m)
    _set_eta(c, eta_s)
    return c


_CANDIDATE_ORDER = operator.attrgetter("distance_m", "officer_id")


@dataclass(frozen=True)
class NearestResult:
    candidates: list[Candidate]
    shortfall_reason: ShortfallReason | None  # None exactly when len(candidates) == k


def _micros(dt: datetime, what: str) -> int:
    """Exact integer microseconds since the epoch; floats could merge distinct instants."""
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {dt!r}")
    return (dt - _EPOCH) // _ONE_US


def _check_query(lat: float, lon: float, k: int, max_distance_m: float | None) -> tuple[int, float]:
    check_latlon(lat, lon)
    k = operator.index(k)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if max_distance_m is None:
        return k, math.inf
    if math.isnan(max_distance_m) or max_distance_m < 0:
        raise ValueError(f"max_distance_m must be >= 0, got {max_distance_m!r}")
    return k, float(max_distance_m)


def _as_filter(values: Collection[str] | None, what: str) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        # frozenset("available") would silently become a set of letters.
        raise TypeError(f"{what} must be a collection of strings, not a single string")
    return values if isinstance(values, frozenset) else frozenset(values)


def _check_speeds(speeds_mps: Mapping[str, float], detour_factor: float) -> None:
    for unit, speed in speeds_mps.items():
        if not math.isfinite(speed) or speed <= 0:
            raise ValueError(f"speed for {unit!r} must be finite and > 0, got {speed!r}")
    if not math.isfinite(detour_factor) or detour_factor < 1.0:
        raise ValueError(f"detour_factor must be finite and >= 1, got {detour_factor!r}")


def _shortfall_reason(any_stale_within: bool, fresh_beyond: bool, any_stale: bool) -> ShortfallReason:
    """Most actionable explanation for a short list, shared by the index and the reference.

    Stale officers *inside* the search area come first (they are right there, only not reporting),
    then fresh ones beyond the radius (widening it would help), then stale ones beyond it.
    """
    if any_stale_within:
        return POSITIONS_TOO_OLD
    if fresh_beyond:
        return OUTSIDE_RADIUS
    if any_stale:
        return POSITIONS_TOO_OLD
    return NONE_AVAILABLE


def brute_force_nearest(
    responders: Iterable[Responder],
    lat: float,
    lon: float,
    k: int = 5,
    unit_types: Collection[str] | None = None,
    statuses: Collection[str] = DEFAULT_STATUSES,
    max_distance_m: float | None = None,
    seen_after: datetime | None = None,
    *,
    speeds_mps: Mapping[str, float] = DEFAULT_SPEEDS_MPS,
    detour_factor: float = DEFAULT_DETOUR,
) -> NearestResult:
    """Reference implementation: exact distance to every responder, then sort. O(n) solves."""
    k, radius = _check_query(lat, lon, k, max_distance_m)
    st = _as_filter(statuses, "statuses")
    un = _as_filter(unit_types, "unit_types")
    assert st is not None
    if seen_after is not None:
        _micros(seen_after, "seen_after")
    everyone = list(responders)
    if k == 0:
        return NearestResult([], None)
    if not everyone:
        return NearestResult([], NO_POSITION_DATA)
    matching = [r for r in everyone if r.status in st and (un is None or r.unit_type in un)]
    if not matching:
        return NearestResult([], NONE_AVAILABLE)
    fresh = [r for r in matching if seen_after is None or r.last_seen >= seen_after]
    stale = [r for r in matching if seen_after is not None and r.last_seen < seen_after]
    ranked = sorted(
        (d, r.officer_id, r) for r in fresh if (d := geodesic_m(lat, lon, r.lat, r.lon)) <= radius
    )
    candidates = [
        Candidate(
            r.officer_id,
            r.lat,
            r.lon,
            r.status,
            r.unit_type,
            r.last_seen,
            d,
            eta_seconds(d, r.unit_type, speeds_mps, detour_factor),
        )
        for d, _, r in ranked[:k]
    ]
    if len(candidates) == k:
        return NearestResult(candidates, None)
    reason = _shortfall_reason(
        any(geodesic_m(lat, lon, r.lat, r.lon) <= radius for r in stale),
        len(fresh) > len(ranked),
        bool(stale),
    )
    return NearestResult(candidates, reason)


@dataclass(slots=True)
class _Gathered:
    """What a query looked at: every slot visited, and the fresh+matching ones with their chords."""

    visited: IntArray
    ok_slots: IntArray
    ok_chord2: FloatArray


class ResponderIndex:
    """Live positions of responders, answering exact k-nearest queries with filters."""

    # Tuning knobs (instance-overridable, e.g. by tests forcing one code path), measured with
    # benchmarks/bench_nearest.py on a 2-core box. Below linear_scan_below officers every query is a
    # scan; the walk costs ~45-60 µs almost regardless of population (quiet machine). Timed in one
    # process on 2026-12-03 (slow machine, p50): scan 94 / 120 / 165 / 263 µs against the walk's 263 /
    # 269 / 280 / 323 µs at 5k / 10k / 20k / 40k officers, so the scan serves cities up to 30,000 and
    # the walk the larger fleets, where it wins 10x and more. Above it the walk may
    # visit at most clamp(n * walk_cells_per_officer, walk_cells_min, walk_cells_max) cells (a cell
    # costs ~0.2-0.5 µs) before giving up for a scan: a disk that big means the query sits in a
    # sparse or empty region, and the scan is then the cheaper proof.
    linear_scan_below: int = 30_000
    walk_cells_per_officer: float = 1.0 / 32.0
    walk_cells_min: int = 64
    walk_cells_max: int = 4096

    def __init__(
        self,
        res: int = 8,
        speeds_mps: Mapping[str, float] = DEFAULT_SPEEDS_MPS,
        detour_factor: float = DEFAULT_DETOUR,
    ) -> None:
        if not 0 <= res <= 15:
            raise ValueError(f"H3 resolution must be in 0..15, got {res!r}")
        _check_speeds(speeds_mps, detour_factor)
        self._res = res
        self._speeds = dict(speeds_mps)
        self._detour = float(detour_factor)
        self._slot_of: dict[int, int] = {}
        self._free: list[int] = []
        self._high_water = 0  # slots [0, high_water) have been handed out at some point
        self._resp: list[Responder | None] = []
        self._cell_of: list[int] = []
        self._cells: dict[int, set[int]] = {}
        # Slot arrays per cell, built on first query and dropped when the cell's membership changes.
        self._cell_arrays: dict[int, IntArray] = {}
        # Pair code 0 marks a free slot: no filter ever accepts it.
        self._pair_code: dict[tuple[str, str], int] = {}
        self._pairs: list[tuple[str, str] | None] = [None]
        self._pair_count: list[int] = [0]
        self._filter_cache: dict[_FilterKey, tuple[BoolArray, list[int]]] = {}
        # Slots passing each filter, for the scan; dropped whenever a slot's pair code changes or a
        # slot is taken or freed (a ping that only moves an officer keeps it).
        self._match_slots: dict[_FilterKey, IntArray] = {}
        # Officers whose phone reported since their last fix (a heartbeat, as the caller's presence
        # monitor saw it): still there at the fix's place after the fix is older than a query's cut.
        self.stale: set[int] = set()
        self._allocate_arrays(1024)

    # -- storage ---------------------------------------------------------------------------------

    def _allocate_arrays(self, capacity: int) -> None:
        """(Re)allocate the per-slot arrays with room for ``capacity`` slots, keeping contents."""
        xyz = np.zeros((3, capacity), dtype=np.float64)
        lat = np.zeros(capacity, dtype=np.float64)
        lon = np.zeros(capacity, dtype=np.float64)
        ids = np.zeros(capacity, dtype=np.int64)
        pcode = np.zeros(capacity, dtype=np.int32)
        seen = np.zeros(capacity, dtype=np.int64)
        used = self._high_water
        if used:
            xyz[:, :used] = self._xyz[:, :used]
            lat[:used] = self._lat[:used]
            lon[:used] = self._lon[:used]
            ids[:used] = self._ids[:used]
            pcode[:used] = self._pcode[:used]
            seen[:used] = self._seen[:used]
        self._xyz: FloatArray = xyz
        self._lat: FloatArray = lat
        self._lon: FloatArray = lon
        self._ids: npt.NDArray[np.int64] = ids
        self._pcode: npt.NDArray[np.int32] = pcode
        self._seen: npt.NDArray[np.int64] = seen

    def _alloc_slot(self) -> int:
        if self._free:
            return self._free.pop()
        slot = self._high_water
        if slot == self._lat.shape[0]:
            self._allocate_arrays(2 * slot)
        self._high_water += 1
        self._resp.append(None)
        self._cell_of.append(0)
        return slot

    def _code_for(self, status: str, unit_type: str) -> int:
        key = (status, unit_type)
        code = self._pair_code.get(key)
        if code is None:
            code = len(self._pairs)
            self._pair_code[key] = code
            self._pairs.append(key)
            self._pair_count.append(0)
            self._filter_cache.clear()  # cached tables are one entry short now
        return code

    # -- mutation --------------------------------------------------------------------------------

    def update(
        self, officer_id: int, lat: float, lon: float, status: str, unit_type: str, last_seen: datetime
    ) -> None:
        """Insert an officer or move/refresh an existing one. O(1).

        The caller owns ordering: a fix older than the stored one still replaces it.
        Raises ValueError for an invalid position, a naive timestamp or a unit type with no speed.
        """
        officer_id = operator.index(officer_id)
        lat = float(lat)
        lon = float(lon)
        check_latlon(lat, lon)
        if unit_type not in self._speeds:
            raise ValueError(f"unit_type {unit_type!r} has no speed; known: {sorted(self._speeds)}")
        if not isinstance(status, str):
            raise TypeError(f"status must be a string, got {type(status).__name__}")
        seen_us = _micros(last_seen, "last_seen")
        cell = h3i.latlng_to_cell(lat, lon, self._res)
        code = self._code_for(status, unit_type)
        slot = self._slot_of.get(officer_id)
        if slot is None:
            slot = self._alloc_slot()
            self._slot_of[officer_id] = slot
            self._resp[slot] = Responder(officer_id, lat, lon, status, unit_type, last_seen)
            self._cell_of[slot] = cell
            bucket = self._cells.get(cell)
            if bucket is None:
                self._cells[cell] = {slot}
            else:
                bucket.add(slot)
            self._cell_arrays.pop(cell, None)
            self._pair_count[code] += 1
            self._ids[slot] = officer_id
            self._match_slots.clear()
        else:
            resp = self._resp[slot]
            assert resp is not None
            resp.lat, resp.lon, resp.status, resp.unit_type, resp.last_seen = (
                lat,
                lon,
                status,
                unit_type,
                last_seen,
            )
            old_cell = self._cell_of[slot]
            if old_cell != cell:
                self._move_bucket(slot, old_cell, cell)
            old_code = int(self._pcode[slot])
            if old_code != code:
                self._pair_count[old_code] -= 1
                self._pair_count[code] += 1
                self._match_slots.clear()
        self._xyz[:, slot] = unit_vector(lat, lon)
        self._lat[slot] = lat
        self._lon[slot] = lon
        self._pcode[slot] = code
        self._seen[slot] = seen_us

    def _move_bucket(self, slot: int, old_cell: int, new_cell: int) -> None:
        self._cell_arrays.pop(old_cell, None)
        self._cell_arrays.pop(new_cell, None)
        old = self._cells[old_cell]
        old.discard(slot)
        if not old:
            del self._cells[old_cell]
        bucket = self._cells.get(new_cell)
        if bucket is None:
            self._cells[new_cell] = {slot}
        else:
            bucket.add(slot)
        self._cell_of[slot] = new_cell

    def set_status(self, officer_id: int, status: str) -> None:
        """Change an officer's status in place; unknown officers are ignored."""
        slot = self._slot_of.get(officer_id)
        if slot is None:
            return
        if not isinstance(status, str):
            raise TypeError(f"status must be a string, got {type(status).__name__}")
        resp = self._resp[slot]
        assert resp is not None
        if resp.status == status:
            return
        code = self._code_for(status, resp.unit_type)
        self._pair_count[int(self._pcode[slot])] -= 1
        self._pair_count[code] += 1
        self._pcode[slot] = code
        self._match_slots.clear()
        resp.status = status

    def remove(self, officer_id: int) -> None:
        """Forget an officer; unknown officers are ignored."""
        self.stale.discard(officer_id)
        slot = self._slot_of.pop(officer_id, None)
        if slot is None:
            return
        cell = self._cell_of[slot]
        self._cell_arrays.pop(cell, None)
        bucket = self._cells[cell]
        bucket.discard(slot)
        if not bucket:
            del self._cells[cell]
        self._pair_count[int(self._pcode[slot])] -= 1
        self._pcode[slot] = 0
        self._match_slots.clear()
        self._resp[slot] = None
        self._free.append(slot)

    # -- reads -----------------------------------------------------------------------------------

    @property
    def res(self) -> int:
        return self._res

    def get(self, officer_id: int) -> Responder | None:
        """A copy of the stored record (mutating it does not touch the index)."""
        slot = self._slot_of.get(officer_id)
        if slot is None:
            return None
        r = self._resp[slot]
        assert r is not None
        return Responder(r.officer_id, r.lat, r.lon, r.status, r.unit_type, r.last_seen)

    def responders(self) -> list[Responder]:
        """Copies of every stored record, in no particular order."""
        return [
            Responder(r.officer_id, r.lat, r.lon, r.status, r.unit_type, r.last_seen)
            for r in self._resp
            if r is not None
        ]

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, officer_id: object) -> bool:
        return officer_id in self._slot_of

    def check_consistency(self) -> None:
        """Assert every internal structure agrees with every other (tests and debugging)."""
        live = {s for s in self._slot_of.values()}
        assert len(live) == len(self._slot_of), "two officers share a slot"
        assert live.isdisjoint(self._free), "a live slot is on the free list"
        assert len(live) + len(self._free) == self._high_water
        in_buckets: set[int] = set()
        for cell, bucket in self._cells.items():
            assert bucket, f"empty bucket kept for {cell}"
            for slot in bucket:
                assert self._cell_of[slot] == cell
            in_buckets |= bucket
        assert in_buckets == live, "bucket membership differs from the live slots"
        counts = [0] * len(self._pairs)
        for officer_id, slot in self._slot_of.items():
            r = self._resp[slot]
            assert r is not None and r.officer_id == officer_id == int(self._ids[slot])
            assert self._cell_of[slot] == h3i.latlng_to_cell(r.lat, r.lon, self._res)
            assert self._pairs[int(self._pcode[slot])] == (r.status, r.unit_type)
            assert (self._lat[slot], self._lon[slot]) == (r.lat, r.lon)
            assert int(self._seen[slot]) == _micros(r.last_seen, "last_seen")
            counts[int(self._pcode[slot])] += 1
        for slot in self._free:
            assert self._resp[slot] is None and int(self._pcode[slot]) == 0
        assert counts[1:] == self._pair_count[1:], "per-pair counts drifted"

    # -- queries ---------------------------------------------------------------------------------

    def _filter(self, st: frozenset[str], un: frozenset[str] | None) -> tuple[BoolArray, int]:
        """Per-pair-code acceptance table for these filters, and how many live officers pass."""
        key = (st, un)
        entry = self._filter_cache.get(key)
        if entry is None:
            accepted = [p is not None and p[0] in st and (un is None or p[1] in un) for p in self._pairs]
            if len(self._filter_cache) >= _FILTER_CACHE_MAX:
                self._filter_cache.clear()
            entry = (np.array(accepted, dtype=np.bool_), [i for i, a in enumerate(accepted) if a])
            self._filter_cache[key] = entry
        table, codes = entry
        counts = self._pair_count
        return table, sum(map(counts.__getitem__, codes))

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        unit_types: Collection[str] | None = None,
        statuses: Collection[str] = DEFAULT_STATUSES,
        max_distance_m: float | None = None,
        seen_after: datetime | None = None,
    ) -> NearestResult:
        """The k nearest matching officers by exact WGS84 distance, ties by officer_id.

        Filters: ``unit_types`` (None = any), ``statuses``, ``max_distance_m`` (inclusive) and
        ``seen_after`` (an officer last seen earlier is offline). Same result as
        :func:`brute_force_nearest`, shortfall reason included.
        """
        k, radius = _check_query(lat, lon, k, max_distance_m)
        lat = float(lat)
        lon = float(lon)
        st = _as_filter(statuses, "statuses")
        un = _as_filter(unit_types, "unit_types")
        assert st is not None
        t_min = None if seen_after is None else _micros(seen_after, "seen_after")
        if k == 0:
            return NearestResult([], None)
        n_live = len(self._slot_of)
        if n_live == 0:
            return NearestResult([], NO_POSITION_DATA)
        table, total_match = self._filter(st, un)
        if total_match == 0:
            return NearestResult([], NONE_AVAILABLE)
        q = np.array(unit_vector(lat, lon))
        if n_live >= self.linear_scan_below:
            gathered = self._walk(lat, lon, q.reshape(3, 1), k, table, total_match, t_min, radius, n_live)
            if gathered is not None:
                return self._rank(lat, lon, q, k, gathered, table, total_match, t_min, radius)
        return self._scan(lat, lon, q, k, (st, un), table, total_match, t_min, radius)

    def kept_by_heartbeat(self, seen_after: datetime) -> list[Responder]:
        """``stale`` officers whose fix is older than ``seen_after`` (their phone reported since)."""
        found = (self.get(officer_id) for officer_id in self.stale)
        return [r for r in found if r is not None and r.last_seen < seen_after]

    def brute_force_nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        unit_types: Collection[str] | None = None,
        statuses: Collection[str] = DEFAULT_STATUSES,
        max_distance_m: float | None = None,
        seen_after: datetime | None = None,
    ) -> NearestResult:
        """:func:`brute_force_nearest` over this index's officers, speeds and detour."""
        return brute_force_nearest(
            (r for r in self._resp if r is not None),
            lat,
            lon,
            k,
            unit_types,
            statuses,
            max_distance_m,
            seen_after,
            speeds_mps=self._speeds,
            detour_factor=self._detour,
        )

    def _fresh_ok(self, slots: IntArray, table: BoolArray, t_min: int | None) -> tuple[BoolArray, BoolArray]:
        match = table[self._pcode[slots]]
        if t_min is None:
            return match, match
        return match, match & (self._seen[slots] >= t_min)

    def _chord2(self, slots: IntArray, q: FloatArray) -> FloatArray:
        return _chord2(np.take(self._xyz, slots, axis=1), q.reshape(3, 1))

    def _matching(self, key: _FilterKey, table: BoolArray) -> IntArray:
        """Slots passing the status/unit filters, cached until a pair code or the slot set changes."""
        slots = self._match_slots.get(key)
        if slots is None:
            if len(self._match_slots) >= _FILTER_CACHE_MAX:
                self._match_slots.clear()
            slots = np.flatnonzero(table[self._pcode[: self._high_water]])
            self._match_slots[key] = slots
        return slots

    def _scan(
        self,
        lat: float,
        lon: float,
        q: FloatArray,
        k: int,
        key: _FilterKey,
        table: BoolArray,
        total_match: int,
        t_min: int | None,
        radius: float,
    ) -> NearestResult:
        """Every matching, fresh officer: the small-fleet path (and the walk's fallback).

        Ranks by cosine, one matrix-vector product over all slots, instead of the walk's squared
        chord: a handful of numpy calls in all, which is what a small fleet's query costs. The
        cosine carries rounding the chord does not (|x|, |q| are 1 only to within ulps, and
        2 - 2 cos cancels), so every bound is widened by _COS_C2_ERR, a generous cap on
        |(2 - 2 cos) - chord^2|; the survivors then provably include the k nearest, as in _rank.
        """
        slots = self._matching(key, table)
        if t_min is not None:
            slots = slots[self._seen.take(slots) >= t_min]
        candidates: list[Candidate] = []
        if slots.size:
            cos = (q @ self._xyz[:, : self._high_water]).take(slots)
            threshold = radius
            if cos.size > k:
                top = cos.copy()  # ndarray.partition in place: np.partition's wrapper costs ~1 µs
                top.partition(cos.size - k)
                kth = float(top[cos.size - k])  # the k-th largest cosine
                threshold = min(threshold, chord2_to_upper_m(2.0 - 2.0 * kth + _COS_C2_ERR))
            survivors = slots
            if threshold != math.inf:
                limit = lower_m_to_chord2(threshold)
                if limit != math.inf:
                    survivors = slots[cos >= 1.0 - (limit + _COS_C2_ERR) / 2.0]
            candidates = self._ranked(lat, lon, survivors, radius, k)
        if len(candidates) == k:
            return NearestResult(candidates, None)
        everyone = np.arange(self._high_water, dtype=np.intp)
        reason = self._explain(lat, lon, q, everyone, table, total_match, t_min, radius, len(candidates))
        return NearestResult(candidates, reason)

    def _walk(
        self,
        lat: float,
        lon: float,
        q: FloatArray,
        k: int,
        table: BoolArray,
        total_match: int,
        t_min: int | None,
        radius: float,
        n_live: int,
    ) -> _Gathered | None:
        """Visit grid disks until the answer is proven; None when a full scan is the better deal."""
        walk = disk_walk(h3i.latlng_to_cell(lat, lon, self._res))
        # Upper bound on the query's distance from the origin cell's centre.
        dq = haversine_m(lat, lon, walk.lat, walk.lon) * SPHERE_HI * (1.0 + 1e-9) + 1e-3
        budget = min(self.walk_cells_max, max(self.walk_cells_min, int(n_live * self.walk_cells_per_officer)))
        visited: list[IntArray] = []
        ok_slots: list[IntArray] = []
        ok_chord2: list[FloatArray] = []
        n_ok = 0
        n_match = 0
        kth_upper = math.inf
        j = -1  # disk radius visited so far
        while True:
            if j >= 0:
                lower = walk.bound(j) - dq  # nothing outside disk j is closer than this
                if lower > radius or n_match >= total_match or (n_ok >= k and kth_upper < lower):
                    break
            target = min(kth_upper, radius)
            nxt = j + 1
            if j < 0:
                # First gather: a disk expected to hold k officers at the index's average occupancy,
                # which saves an iteration or two when officers are sparse relative to cells.
                per_cell = n_live / len(self._cells)
                while walk.disk_size(nxt) * per_cell < k and nxt < _FIRST_DISK_MAX:
                    nxt += 1
            elif n_ok >= k:
                # Jump straight to the disk whose bound proves the current k-th candidate; the loop
                # then ends on the next check, as more candidates only lower kth_upper.
                while walk.bound(nxt) - dq <= target:
                    nxt += 1
                    if walk.disk_size(nxt) > budget:
                        return None
            if walk.disk_size(nxt) > budget:
                return None
            parts = self._cells_slots(walk, j + 1, nxt, q, target)
            j = nxt
            if not parts:
                continue
            slots = _cat_int(parts)
            visited.append(slots)
            match, ok = self._fresh_ok(slots, table, t_min)
            n_match += int(np.count_nonzero(match))
            good = slots[ok]
            if good.size == 0:
                continue
            ok_slots.append(good)
            ok_chord2.append(self._chord2(good, q))
            n_ok += good.size
            if n_ok >= k:
                all_c2 = _cat_float(ok_chord2)
                kth_upper = chord2_to_upper_m(float(np.partition(all_c2, k - 1)[k - 1]))
        return _Gathered(_cat_int(visited), _cat_int(ok_slots), _cat_float(ok_chord2))

    def _cells_slots(
        self, walk: DiskWalk, first: int, last: int, q: FloatArray, target: float
    ) -> list[IntArray]:
        """Slot arrays of the occupied cells in rings first..last that may hold a point <= target away.

        Skipping a cell is safe: every point in it is at least d(q, centre) - radius away, and that
        already exceeds ``target`` (the k-th best upper bound, or the radius).
        """
        rings = walk.rings[first : last + 1]
        if target == math.inf:
            chosen: Iterable[int] = (c for ring in rings for c in ring)
        else:
            if first == last:
                cxyz = walk.ring_xyz[first]
                radii = walk.ring_radii[first]
            else:
                cxyz = np.hstack(walk.ring_xyz[first : last + 1])
                radii = np.concatenate(walk.ring_radii[first : last + 1])
            half_chord = np.sqrt(_chord2(cxyz, q)) / 2.0
            centre_lower = _LOWER_PER_RADIAN * 2.0 * np.arcsin(np.minimum(1.0, half_chord))
            keep = np.flatnonzero(centre_lower - _ABS_SLACK_M - radii <= target).tolist()
            flat = rings[0] if first == last else [c for ring in rings for c in ring]
            chosen = (flat[i] for i in keep)
        cells = self._cells
        arrays = self._cell_arrays
        out: list[IntArray] = []
        for cell in chosen:
            bucket = cells.get(cell)
            if not bucket:
                continue
            arr = arrays.get(cell)
            if arr is None:
                arr = np.fromiter(bucket, dtype=np.intp, count=len(bucket))
                arrays[cell] = arr
            out.append(arr)
        return out

    def _exact(self, lat: float, lon: float, slots: IntArray) -> FloatArray:
        _, _, dist = GEOD.inv(
            np.full(slots.shape, lon), np.full(slots.shape, lat), self._lon[slots], self._lat[slots]
        )
        return np.asarray(dist, dtype=np.float64)

    def _ranked(self, lat: float, lon: float, slots: IntArray, radius: float, k: int) -> list[Candidate]:
        """The k nearest of these slots' officers within the radius, by exact distance then id.

        Survivors are usually about k: each is solved on its own with plain floats (a scalar solve
        costs ~1 µs, the array call a fixed ~7 µs, and numpy on a handful of elements only adds
        per-call overhead) and becomes a candidate at once. Many (a cluster tighter than the bounds
        can split) get one array solve and only the best k become candidates. The same solver runs
        per pair either way, so distances are bit-for-bit what brute_force_nearest computes; the
        ETA skips eta_seconds's checks (speeds and detour were checked when the index was built,
        every stored unit type has a speed) but uses its formula.
        """
        resp = self._resp
        speeds = self._speeds
        detour = self._detour
        if slots.size >= _VECTOR_SOLVE_FROM:
            rows: list[tuple[float, int, Responder]] = []
            for s, d in zip(slots.tolist(), self._exact(lat, lon, slots).tolist(), strict=True):
                if d <= radius:
                    r = resp[s]
                    assert r is not None
                    rows.append((d, r.officer_id, r))
            rows.sort(key=_DISTANCE_THEN_ID)
            best = [(d, r) for d, _, r in rows[:k]]
        else:
            inv = GEOD.inv
            best = []
            for s in slots.tolist():
                r = resp[s]
                assert r is not None
                d = inv(lon, lat, r.lon, r.lat)[2]
                if d <= radius:
                    best.append((d, r))
        out = [
            _new_candidate(
                r.officer_id,
                r.lat,
                r.lon,
                r.status,
                r.unit_type,
                r.last_seen,
                d,
                travel_seconds(d, speeds[r.unit_type], detour),
            )
            for d, r in best
        ]
        if len(out) > 1:
            out.sort(key=_CANDIDATE_ORDER)
            del out[k:]
        return out

    def _rank(
        self,
        lat: float,
        lon: float,
        q: FloatArray,
        k: int,
        g: _Gathered,
        table: BoolArray,
        total_match: int,
        t_min: int | None,
        radius: float,
    ) -> NearestResult:
        candidates: list[Candidate] = []
        c2 = g.ok_chord2
        if c2.size:
            threshold = radius
            if c2.size > k:
                threshold = min(threshold, chord2_to_upper_m(float(np.partition(c2, k - 1)[k - 1])))
            # Anyone whose lower bound beats the k-th upper bound might make the list: solve those.
            survivors = g.ok_slots
            if threshold != math.inf:
                survivors = survivors[c2 <= lower_m_to_chord2(threshold)]
            candidates = self._ranked(lat, lon, survivors, radius, k)
        if len(candidates) == k:
            return NearestResult(candidates, None)
        # Short list: the gathered slots include every matching officer within the radius (that is
        # what stopped the walk), so staleness inside the radius can be judged from them alone.
        reason = self._explain(lat, lon, q, g.visited, table, total_match, t_min, radius, len(candidates))
        return NearestResult(candidates, reason)

    def _explain(
        self,
        lat: float,
        lon: float,
        q: FloatArray,
        visited: IntArray,
        table: BoolArray,
        total_match: int,
        t_min: int | None,
        radius: float,
        n_found: int,
    ) -> ShortfallReason:
        if t_min is None:
            # Nobody is stale; every fresh match within the radius was returned.
            return _shortfall_reason(False, radius != math.inf and total_match > n_found, False)
        match, ok = self._fresh_ok(visited, table, t_min)
        stale = visited[match & ~ok]
        stale_within = stale.size > 0
        if stale_within and radius != math.inf:
            c2 = self._chord2(stale, q)
            maybe = stale[c2 <= lower_m_to_chord2(radius)]
            stale_within = bool(maybe.size) and bool(np.any(self._exact(lat, lon, maybe) <= radius))
        if stale_within:
            return POSITIONS_TOO_OLD
        everyone = np.arange(self._high_water, dtype=np.intp)
        _, fresh_all = self._fresh_ok(everyone, table, t_min)
        n_fresh = int(np.count_nonzero(fresh_all))
        return _shortfall_reason(False, radius != math.inf and n_fresh > n_found, total_match > n_fresh)


def _chord2(xyz: FloatArray, q: FloatArray) -> FloatArray:
    """Squared chords between the columns of a 3 x n array of unit vectors and a 3 x 1 one."""
    diff = xyz - q
    out: FloatArray = np.einsum("ij,ij->j", diff, diff)
    return out


def _cat_int(parts: list[IntArray]) -> IntArray:
    if not parts:
        return np.empty(0, dtype=np.intp)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _cat_float(parts: list[FloatArray]) -> FloatArray:
    if not parts:
        return np.empty(0, dtype=np.float64)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
