"""ResponderIndex: exactness against the brute-force reference, filters, shortfalls, bookkeeping."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from h3.api import basic_int as h3i
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from pyproj import Geod

from jogo_dispatch.geo.cells import cell_center, clear_caches, disk_walk
from jogo_dispatch.geo.eta import DEFAULT_SPEEDS_MPS, eta_seconds
from jogo_dispatch.geo.index import (
    NearestResult,
    Responder,
    ResponderIndex,
    brute_force_nearest,
)

GEOD = Geod(ellps="WGS84")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
MALANG = (-7.97, 112.63)
UNITS = sorted(DEFAULT_SPEEDS_MPS)
STATUSES = ["available", "busy", "offline", "enroute"]
FIVE_MIN_AGO = NOW - timedelta(minutes=5)


def _offset(lat: float, lon: float, azimuth: float, dist_m: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, dist_m)
    return float(lat2), float(lon2)


def _ids(result: NearestResult) -> list[int]:
    return [c.officer_id for c in result.candidates]


def _variants(res: int) -> dict[str, ResponderIndex]:
    """The same data behind every code path: tuned default, walk only, tiny walk budget, scan only."""
    tuned = ResponderIndex(res=res)
    walk = ResponderIndex(res=res)
    walk.linear_scan_below = 0
    walk.walk_cells_min = walk.walk_cells_max = 50_000
    tiny = ResponderIndex(res=res)
    tiny.linear_scan_below = 0
    tiny.walk_cells_min = tiny.walk_cells_max = 7
    scan = ResponderIndex(res=res)
    scan.linear_scan_below = 10**9
    return {"tuned": tuned, "walk": walk, "tiny_budget": tiny, "scan": scan}


# -- scenario generation -------------------------------------------------------------------------


@dataclass
class Scenario:
    res: int
    officers: list[Responder]
    queries: list[tuple[float, float]]


SPREADS = {
    # name: (spread in metres, resolutions that keep walks to a sane number of rings)
    "one_cell": (60.0, [8, 9]),
    "city": (6_000.0, [7, 8, 9]),
    "rural": (300_000.0, [4, 5]),
}


@st.composite
def centres(draw: st.DrawFn, res: int) -> tuple[float, float]:
    kind = draw(st.sampled_from(["malang", "malang", "anywhere", "antimeridian", "polar", "pentagon"]))
    if kind == "malang":
        return MALANG
    if kind == "anywhere":
        return draw(st.floats(-80, 80)), draw(st.floats(-180, 180))
    if kind == "antimeridian":
        return draw(st.floats(-60, 60)), draw(st.sampled_from([179.99, -179.99]))
    if kind == "polar":
        return draw(st.sampled_from([88.0, -88.0, 89.9])), draw(st.floats(-180, 180))
    return cell_center(draw(st.sampled_from(sorted(h3i.get_pentagons(res)))))


@st.composite
def scenarios(draw: st.DrawFn, max_officers: int = 120) -> Scenario:
    spread_name = draw(st.sampled_from(sorted(SPREADS)))
    spread, resolutions = SPREADS[spread_name]
    res = draw(st.sampled_from(resolutions))
    lat0, lon0 = draw(centres(res))
    n = draw(st.integers(0, max_officers))
    officers: list[Responder] = []
    spots: list[tuple[float, float]] = []
    for i in range(n):
        if spots and draw(st.integers(0, 4)) == 0:
            lat, lon = draw(st.sampled_from(spots))  # identical position: exact distance ties
        else:
            lat, lon = _offset(lat0, lon0, draw(st.floats(-180, 180)), spread * draw(st.floats(0, 1)) ** 0.5)
            spots.append((lat, lon))
        officers.append(
            Responder(
                officer_id=draw(st.integers(1, 10**6)) * 1000 + i,  # unique, unordered vs. insertion
                lat=lat,
                lon=lon,
                status=draw(st.sampled_from(STATUSES[:3])),
                unit_type=draw(st.sampled_from(UNITS)),
                last_seen=NOW - timedelta(seconds=draw(st.sampled_from([0, 30, 60, 300, 3600]))),
            )
        )
    queries = []
    for _ in range(draw(st.integers(1, 4))):
        if spots and draw(st.booleans()):
            queries.append(draw(st.sampled_from(spots)))  # query right on top of officers
        else:
            azimuth = draw(st.floats(-180, 180))
            queries.append(_offset(lat0, lon0, azimuth, 1.3 * spread * draw(st.floats(0, 1))))
    return Scenario(res, officers, queries)


query_kwargs = st.fixed_dictionaries(
    {},
    optional={
        "k": st.integers(0, 12),
        "unit_types": st.one_of(st.none(), st.sets(st.sampled_from(UNITS + ["horse"]), max_size=3)),
        "statuses": st.sets(st.sampled_from(STATUSES), min_size=0, max_size=3),
        "max_distance_m": st.one_of(st.none(), st.floats(0, 400_000)),
        "seen_after": st.one_of(
            st.none(), st.sampled_from([NOW - timedelta(seconds=s) for s in (0, 45, 300, 7200)])
        ),
    },
)


def _load(index: ResponderIndex, officers: list[Responder]) -> None:
    for r in officers:
        index.update(r.officer_id, r.lat, r.lon, r.status, r.unit_type, r.last_seen)


def _assert_matches_reference(
    index: ResponderIndex, officers: list[Responder], lat: float, lon: float, kwargs: dict[str, object]
) -> NearestResult:
    got = index.nearest(lat, lon, **kwargs)  # type: ignore[arg-type]
    want = brute_force_nearest(officers, lat, lon, **kwargs)  # type: ignore[arg-type]
    assert _ids(got) == _ids(want), (kwargs, got.shortfall_reason, want.shortfall_reason)
    assert [c.distance_m for c in got.candidates] == [c.distance_m for c in want.candidates]
    assert got == want  # every field, ETA and shortfall reason included
    k = int(kwargs.get("k", 5))  # type: ignore[call-overload]
    assert (got.shortfall_reason is None) == (len(got.candidates) == k)
    return got


# -- exactness -----------------------------------------------------------------------------------


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(scenarios(), st.lists(query_kwargs, min_size=1, max_size=3))
def test_nearest_equals_brute_force(scenario: Scenario, kwarg_sets: list[dict[str, object]]) -> None:
    variants = _variants(scenario.res)
    for index in variants.values():
        _load(index, scenario.officers)
    for lat, lon in scenario.queries:
        for kwargs in kwarg_sets:
            for index in variants.values():
                _assert_matches_reference(index, scenario.officers, lat, lon, kwargs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(1, 15), st.sampled_from([7, 8, 9]))
def test_dense_city_exactness_above_the_scan_threshold(seed: int, k: int, res: int) -> None:
    # Thousands of officers, walked.
    rnd = random.Random(seed)
    officers = [
        Responder(
            i,
            rnd.uniform(-8.02, -7.92),
            rnd.uniform(112.58, 112.68),
            rnd.choice(STATUSES[:3]),
            rnd.choice(UNITS),
            NOW - timedelta(seconds=rnd.choice([0, 100, 1000])),
        )
        for i in range(3000)
    ]
    index = ResponderIndex(res=res)
    index.linear_scan_below = 2048  # a dense city the index walks (the default scans up to 30,000)
    _load(index, officers)
    for _ in range(5):
        lat, lon = rnd.uniform(-8.03, -7.91), rnd.uniform(112.57, 112.69)
        kwargs: dict[str, object] = {"k": k}
        if rnd.random() < 0.5:
            kwargs["max_distance_m"] = rnd.choice([50.0, 400.0, 2000.0])
        if rnd.random() < 0.5:
            kwargs["seen_after"] = NOW - timedelta(seconds=500)
        if rnd.random() < 0.3:
            kwargs["unit_types"] = {"foot"}
        _assert_matches_reference(index, officers, lat, lon, kwargs)


def test_many_officers_in_one_cell_and_identical_positions() -> None:
    lat, lon = MALANG
    officers = [Responder(i, lat, lon, "available", "car", NOW) for i in (9, 3, 7, 1, 5)]
    officers += [
        Responder(100 + i, *_offset(lat, lon, 45.0 * i, 3.0), "available", "foot", NOW) for i in range(8)
    ]
    for index in _variants(9).values():
        _load(index, officers)
        got = _assert_matches_reference(index, officers, lat, lon, {"k": 4})
        # identical positions tie at distance 0 and are ordered by officer_id
        assert _ids(got) == [1, 3, 5, 7]
        assert all(c.distance_m == 0.0 for c in got.candidates)
        got = _assert_matches_reference(index, officers, lat, lon, {"k": 8})
        assert _ids(got)[:5] == [1, 3, 5, 7, 9] and all(i >= 100 for i in _ids(got)[5:])


@pytest.mark.parametrize("spacing_m", [1e-4, 0.01, 0.3, 2.0])
def test_sub_metre_clusters_rank_exactly(spacing_m: float) -> None:
    # The scan ranks by cosine, whose rounding is widened to ~0.6 m at zero distance: officers packed
    # closer than that around the query must still come back in exact geodesic order.
    rnd = random.Random(int(spacing_m * 1e4))
    officers = [
        Responder(1000 - i, *_offset(*MALANG, rnd.uniform(-180, 180), spacing_m * i), "available", "car", NOW)
        for i in range(40)
    ]
    for index in _variants(9).values():
        _load(index, officers)
        for k in (1, 5, 12, 40):
            for lat, lon in [MALANG, _offset(*MALANG, 30.0, spacing_m * 3.5)]:
                _assert_matches_reference(index, officers, lat, lon, {"k": k})
                _assert_matches_reference(
                    index, officers, lat, lon, {"k": k, "max_distance_m": spacing_m * 7}
                )


def test_results_are_sorted_and_carry_eta() -> None:
    index = ResponderIndex()
    officers = [
        Responder(i, *_offset(*MALANG, 37.0 * i, 150.0 * i + 10), "available", UNITS[i % 3], NOW)
        for i in range(30)
    ]
    _load(index, officers)
    got = index.nearest(*MALANG, k=10)
    distances = [c.distance_m for c in got.candidates]
    assert distances == sorted(distances) and len(distances) == 10
    assert _ids(got) == list(range(10))  # constructed at increasing distances
    for c in got.candidates:
        assert c.distance_m == pytest.approx(10 + 150.0 * c.officer_id, rel=1e-6)
        assert c.eta_s == eta_seconds(c.distance_m, c.unit_type)


def test_custom_speeds_and_detour_flow_into_eta() -> None:
    index = ResponderIndex(speeds_mps={"car": 20.0, "drone": 40.0}, detour_factor=1.0)
    index.update(1, *_offset(*MALANG, 90.0, 800.0), "available", "drone", NOW)
    [cand] = index.nearest(*MALANG, k=1).candidates
    assert cand.eta_s == pytest.approx(cand.distance_m / 40.0)
    with pytest.raises(ValueError, match="no speed"):
        index.update(2, *MALANG, "available", "foot", NOW)


def test_antimeridian_neighbours_are_found_across_the_line() -> None:
    officers = [
        Responder(1, 0.0, 179.999, "available", "car", NOW),
        Responder(2, 0.0, -179.998, "available", "car", NOW),
        Responder(3, 0.0, 179.9, "available", "car", NOW),
    ]
    for index in _variants(9).values():
        _load(index, officers)
        got = _assert_matches_reference(index, officers, 0.0, -179.9995, {"k": 2})
        assert _ids(got) == [1, 2]  # both a few hundred metres away, on either side of 180°
        assert got.candidates[1].distance_m < 300


def test_walk_stops_when_everyone_matching_was_seen() -> None:
    # Three matching officers in total, k=10: the walk must stop once it has seen all three, not
    # keep growing the disk towards its (here enormous) budget.
    clear_caches()  # ring counts below must come from this test's queries alone
    index = ResponderIndex(res=9)
    index.linear_scan_below = 0
    index.walk_cells_min = index.walk_cells_max = 10**7
    for i in range(3):
        index.update(i, *_offset(*MALANG, 120.0 * i, 300.0), "available", "car", NOW)
    index.update(99, *_offset(*MALANG, 0.0, 50.0), "busy", "car", NOW)
    lat, lon = _offset(*MALANG, 200.0, 100.0)
    result = index.nearest(lat, lon, k=10)
    assert sorted(_ids(result)) == [0, 1, 2] and result.shortfall_reason == "none_available"
    walk = disk_walk(h3i.latlng_to_cell(lat, lon, 9))
    assert len(walk.rings) <= 8
    # Same when everyone matching is stale: seeing them all (stale or not) ends the walk too.
    result = index.nearest(lat, lon, k=10, seen_after=NOW + timedelta(seconds=1))
    assert result == NearestResult([], "positions_too_old")
    assert len(walk.rings) <= 8


def test_sparse_query_far_from_everyone_falls_back_and_stays_exact() -> None:
    clear_caches()
    index = ResponderIndex(res=9)
    index.linear_scan_below = 0
    officers = [
        Responder(i, *_offset(*MALANG, 10.0 * i, 100.0 * i), "available", "car", NOW) for i in range(50)
    ]
    _load(index, officers)
    # 300 km away: no disk within the (64-cell) budget proves anything, so the walk must give up
    # early and let the scan answer, exactly.
    got = _assert_matches_reference(index, officers, -5.3, 112.63, {"k": 3})
    assert len(got.candidates) == 3 and got.candidates[0].distance_m > 250_000
    walk = disk_walk(h3i.latlng_to_cell(-5.3, 112.63, 9))
    assert walk.disk_sizes[-1] < 200


# -- filters and shortfall reasons --------------------------------------------------------------


@pytest.fixture
def small_city() -> tuple[list[Responder], dict[str, ResponderIndex]]:
    lat, lon = MALANG
    officers = [
        Responder(1, *_offset(lat, lon, 0.0, 100.0), "available", "car", NOW),
        Responder(2, *_offset(lat, lon, 90.0, 200.0), "available", "foot", NOW),
        Responder(3, *_offset(lat, lon, 180.0, 300.0), "busy", "car", NOW),
        Responder(4, *_offset(lat, lon, 270.0, 400.0), "available", "motorbike", NOW - timedelta(hours=2)),
        Responder(5, *_offset(lat, lon, 45.0, 5000.0), "available", "car", NOW),
    ]
    variants = _variants(9)
    for index in variants.values():
        _load(index, officers)
    return officers, variants


@pytest.mark.parametrize(
    ("kwargs", "ids", "reason"),
    [
        ({"k": 3}, [1, 2, 4], None),
        ({"k": 5}, [1, 2, 4, 5], "none_available"),  # all four available returned, none held back
        ({"k": 2, "unit_types": {"car"}}, [1, 5], None),
        ({"k": 2, "unit_types": {"car"}, "statuses": {"busy"}}, [3], "none_available"),
        ({"k": 2, "statuses": {"offline"}}, [], "none_available"),
        ({"k": 2, "unit_types": set()}, [], "none_available"),
        ({"k": 3, "seen_after": NOW - timedelta(minutes=5)}, [1, 2, 5], None),
        ({"k": 4, "seen_after": NOW - timedelta(minutes=5)}, [1, 2, 5], "positions_too_old"),
        ({"k": 3, "max_distance_m": 1000.0}, [1, 2, 4], None),
        ({"k": 4, "max_distance_m": 1000.0}, [1, 2, 4], "outside_radius"),
        # stale officer inside the radius outranks a fresh one outside it as the explanation
        ({"k": 4, "max_distance_m": 1000.0, "seen_after": FIVE_MIN_AGO}, [1, 2], "positions_too_old"),
        # only fresh-but-far and stale-but-far are missing: widening the radius is the advice
        ({"k": 3, "max_distance_m": 250.0, "seen_after": FIVE_MIN_AGO}, [1, 2], "outside_radius"),
        ({"k": 1, "max_distance_m": 150.0, "unit_types": {"motorbike"}}, [], "outside_radius"),
        # the only motorbike is both far (400 m) and stale: staleness is what to fix
        (
            {"k": 1, "max_distance_m": 150.0, "unit_types": {"motorbike"}, "seen_after": FIVE_MIN_AGO},
            [],
            "positions_too_old",
        ),
        ({"k": 1, "max_distance_m": 100.0}, [1], None),  # inclusive radius (within rounding)
        ({"k": 0}, [], None),
    ],
)
def test_filters_and_reasons(
    small_city: tuple[list[Responder], dict[str, ResponderIndex]],
    kwargs: dict[str, object],
    ids: list[int],
    reason: str | None,
) -> None:
    officers, variants = small_city
    if kwargs.get("max_distance_m") == 100.0:
        # make the radius exactly the computed distance so inclusiveness is really tested
        exact = GEOD.inv(MALANG[1], MALANG[0], officers[0].lon, officers[0].lat)[2]
        kwargs = {**kwargs, "max_distance_m": exact}
    for name, index in variants.items():
        got = _assert_matches_reference(index, officers, *MALANG, kwargs)
        assert _ids(got) == ids, name
        assert got.shortfall_reason == reason, name


def test_stale_officer_just_outside_the_radius_does_not_count_as_inside() -> None:
    # Spherical bounds cannot tell 99.8 % of a distance from 100 %: the exact solve must decide.
    lat, lon = MALANG
    stale = Responder(1, *_offset(lat, lon, 90.0, 1000.0), "available", "car", NOW - timedelta(hours=1))
    fresh = Responder(2, *_offset(lat, lon, 90.0, 2000.0), "available", "car", NOW)
    for index in _variants(9).values():
        _load(index, [stale, fresh])
        kwargs = {"k": 1, "max_distance_m": 998.0, "seen_after": FIVE_MIN_AGO}
        got = _assert_matches_reference(index, [stale, fresh], lat, lon, kwargs)
        assert got == NearestResult([], "outside_radius")
        kwargs["max_distance_m"] = 1000.5
        got = _assert_matches_reference(index, [stale, fresh], lat, lon, kwargs)
        assert got == NearestResult([], "positions_too_old")


def test_membership_changes_reach_cached_cells() -> None:
    # The walk caches each cell's slot array; inserts, moves and removals must all invalidate it.
    lat, lon = MALANG
    index = ResponderIndex(res=8)
    index.linear_scan_below = 0
    for i in range(5):
        index.update(i, *_offset(lat, lon, 72.0 * i, 200.0), "available", "car", NOW)
    assert index.nearest(lat, lon, k=1).candidates[0].distance_m > 199
    index.update(50, *_offset(lat, lon, 10.0, 5.0), "available", "car", NOW)  # insert, same cell
    assert _ids(index.nearest(lat, lon, k=1)) == [50]
    index.remove(50)
    assert 50 not in _ids(index.nearest(lat, lon, k=6))
    index.update(60, *_offset(lat, lon, 0.0, 30_000.0), "available", "car", NOW)  # far away
    assert _ids(index.nearest(lat, lon, k=6))[-1] == 60
    index.update(60, *_offset(lat, lon, 0.0, 3.0), "available", "car", NOW)  # moves into the cell
    assert _ids(index.nearest(lat, lon, k=1)) == [60]
    index.check_consistency()


def test_empty_index() -> None:
    index = ResponderIndex()
    assert index.nearest(*MALANG) == NearestResult([], "no_position_data")
    assert brute_force_nearest([], *MALANG) == NearestResult([], "no_position_data")
    assert index.nearest(*MALANG, k=0) == NearestResult([], None)
    index.update(1, *MALANG, "available", "car", NOW)
    index.remove(1)
    assert index.nearest(*MALANG).shortfall_reason == "no_position_data"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"k": -1},
        {"max_distance_m": -5.0},
        {"max_distance_m": math.nan},
        {"seen_after": datetime(2025, 1, 1)},  # naive
    ],
)
def test_bad_queries_rejected(kwargs: dict[str, object]) -> None:
    index = ResponderIndex()
    index.update(1, *MALANG, "available", "car", NOW)
    with pytest.raises(ValueError):
        index.nearest(*MALANG, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        brute_force_nearest(index.responders(), *MALANG, **kwargs)  # type: ignore[arg-type]


def test_bad_inputs_rejected() -> None:
    index = ResponderIndex()
    with pytest.raises(ValueError):
        index.nearest(95.0, 0.0)
    with pytest.raises(TypeError):
        index.nearest(*MALANG, statuses="available")  # a string is not a set of statuses
    with pytest.raises(ValueError):
        index.update(1, *MALANG, "available", "car", datetime(2025, 1, 1))  # naive
    with pytest.raises(ValueError):
        index.update(1, 0.0, 200.0, "available", "car", NOW)
    with pytest.raises(ValueError):
        ResponderIndex(res=16)
    with pytest.raises(ValueError):
        ResponderIndex(speeds_mps={"car": 0.0})
    assert len(index) == 0  # nothing half-inserted by the failures


def test_seen_after_is_inclusive_and_timezone_agnostic() -> None:
    index = ResponderIndex()
    wib = timezone(timedelta(hours=7))
    index.update(1, *MALANG, "available", "car", NOW.astimezone(wib))
    assert _ids(index.nearest(*MALANG, seen_after=NOW)) == [1]
    later = index.nearest(*MALANG, seen_after=NOW + timedelta(microseconds=1))
    assert later.shortfall_reason == "positions_too_old"


# -- mutation and bookkeeping --------------------------------------------------------------------


def test_update_moves_set_status_and_remove() -> None:
    index = ResponderIndex()
    index.update(7, *MALANG, "available", "car", NOW)
    assert len(index) == 1 and 7 in index
    far = _offset(*MALANG, 0.0, 20_000.0)
    index.update(7, *far, "available", "car", NOW + timedelta(seconds=5))
    assert len(index) == 1
    r = index.get(7)
    assert r is not None and (r.lat, r.lon) == far and r.last_seen == NOW + timedelta(seconds=5)
    assert index.nearest(*MALANG, k=1).candidates[0].distance_m == pytest.approx(20_000.0, rel=1e-9)
    index.set_status(7, "busy")
    assert index.nearest(*MALANG).shortfall_reason == "none_available"
    assert _ids(index.nearest(*MALANG, statuses={"busy"})) == [7]
    index.set_status(12345, "busy")  # unknown: no-op
    index.remove(12345)  # unknown: no-op
    r = index.get(7)
    assert r is not None
    r.status = "available"  # a copy: the index is unaffected
    assert index.get(7).status == "busy"  # type: ignore[union-attr]
    index.remove(7)
    assert index.get(7) is None and len(index) == 0 and 7 not in index
    index.check_consistency()


def test_slot_reuse_after_remove_keeps_results_exact() -> None:
    index = ResponderIndex()
    for i in range(20):
        index.update(i, *_offset(*MALANG, 18.0 * i, 50.0 * i), "available", "car", NOW)
    for i in range(0, 20, 2):
        index.remove(i)
    for i in range(100, 110):
        index.update(i, *_offset(*MALANG, 7.0 * i, 25.0 * (i - 100)), "available", "foot", NOW)
    index.check_consistency()
    officers = index.responders()
    assert len(officers) == 20
    for k in (1, 5, 20, 25):
        _assert_matches_reference(index, officers, *MALANG, {"k": k})


class IndexMachine(RuleBasedStateMachine):
    """Random interleavings of update / move / status / remove, checked against a plain dict."""

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[int, Responder] = {}
        self.index = ResponderIndex(res=9)
        self.index.linear_scan_below = 0  # exercise the walk even with a handful of officers

    @initialize()
    def seed(self) -> None:
        self.index.update(0, *MALANG, "available", "car", NOW)
        self.model[0] = Responder(0, *MALANG, "available", "car", NOW)

    @rule(
        officer_id=st.integers(0, 30),
        az=st.floats(-180, 180),
        dist=st.floats(0, 1500),  # a few dozen res-9 cells, so cells are revisited and re-cached
        status=st.sampled_from(STATUSES[:3]),
        unit=st.sampled_from(UNITS),
        age=st.integers(0, 600),
    )
    def upsert(self, officer_id: int, az: float, dist: float, status: str, unit: str, age: int) -> None:
        lat, lon = _offset(*MALANG, az, dist)
        seen = NOW - timedelta(seconds=age)
        self.index.update(officer_id, lat, lon, status, unit, seen)
        self.model[officer_id] = Responder(officer_id, lat, lon, status, unit, seen)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), status=st.sampled_from(STATUSES))
    def set_status(self, data: st.DataObject, status: str) -> None:
        officer_id = data.draw(st.sampled_from(sorted(self.model)))
        self.index.set_status(officer_id, status)
        self.model[officer_id].status = status

    @rule(officer_id=st.integers(0, 35))
    def remove(self, officer_id: int) -> None:
        self.index.remove(officer_id)
        self.model.pop(officer_id, None)

    @rule(az=st.floats(-180, 180), dist=st.floats(0, 2000), kwargs=query_kwargs)
    def query(self, az: float, dist: float, kwargs: dict[str, object]) -> None:
        _assert_matches_reference(self.index, list(self.model.values()), *_offset(*MALANG, az, dist), kwargs)

    @invariant()
    def consistent(self) -> None:
        self.index.check_consistency()
        assert len(self.index) == len(self.model)
        for officer_id, want in self.model.items():
            assert self.index.get(officer_id) == want


IndexMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestIndexMachine = IndexMachine.TestCase


class ScanIndexMachine(IndexMachine):
    """The same interleavings through the scan, whose per-filter slot lists must follow every change."""

    def __init__(self) -> None:
        super().__init__()
        self.index.linear_scan_below = 10**9


ScanIndexMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestScanIndexMachine = ScanIndexMachine.TestCase
