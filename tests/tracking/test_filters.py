from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jogo_dispatch.tracking.filters import (
    INVALID,
    LAST_KNOWN,
    FilterConfig,
    Fix,
    LastFix,
    coordinate_problem,
    screen,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CFG = FilterConfig(future_tolerance_s=60, retention_days=30, max_speed_mps=50, max_accuracy_m=100)


def fix(lat=-7.97, lon=112.63, dt=0.0, acc=None):
    return Fix(lat, lon, NOW + timedelta(seconds=dt), accuracy_m=acc)


def test_coordinates():
    assert coordinate_problem(-7.9, 112.6) is None
    assert coordinate_problem(0, 0) == "null_island"
    assert coordinate_problem(90.1, 0) == "out_of_range"
    assert coordinate_problem(10, -180.5) == "out_of_range"
    assert coordinate_problem(float("nan"), 1) == "out_of_range"


def test_time_window_edges():
    r = screen(
        [
            (0, fix(dt=59)),
            (1, fix(lat=-7.9701, dt=61)),
            (2, fix(dt=-30 * 86400 + 1)),
            (3, fix(dt=-30 * 86400 - 1)),
        ],
        None,
        NOW,
        CFG,
    )
    assert [i for i, _ in r.accepted] == [2, 0]  # accepted in time order
    assert r.rejected == [(1, "future"), (3, "too_old")]


def test_accuracy_threshold_and_unknown_accuracy():
    r = screen([(0, fix(acc=100)), (1, fix(dt=-1, acc=100.5)), (2, fix(dt=-2))], None, NOW, CFG)
    assert sorted(i for i, _ in r.accepted) == [0, 2]
    assert r.rejected == [(1, "inaccurate")]


def test_speed_is_checked_against_the_running_latest_fix():
    last = LastFix(NOW - timedelta(seconds=10), -7.97, 112.63)
    # ~111 m per 0.001 deg lat: 0.004 deg in 10 s is ~44 m/s (ok), 0.006 deg ~67 m/s (too fast)
    r = screen([(0, fix(lat=-7.966, dt=0)), (1, fix(lat=-7.96, dt=10))], last, NOW, CFG)
    assert [i for i, _ in r.accepted] == [0]
    assert r.rejected == [(1, "too_fast")]


def test_out_of_order_fix_is_accepted_without_speed_check():
    last = LastFix(NOW, -7.97, 112.63)
    r = screen([(0, fix(lat=-7.0, dt=-60))], last, NOW, CFG)
    assert [i for i, _ in r.accepted] == [0]


def test_duplicates_within_batch_and_against_last():
    last = LastFix(NOW - timedelta(seconds=5), -7.97, 112.63)
    r = screen([(0, fix(dt=-5)), (1, fix(dt=0)), (2, fix(dt=0))], last, NOW, CFG)
    assert [i for i, _ in r.accepted] == [1]
    assert r.rejected == [(0, "duplicate"), (2, "duplicate")]


def approx(kind=INVALID, lat=-7.97, lon=112.63, dt=0.0, acc=None):
    return Fix(lat, lon, NOW + timedelta(seconds=dt), accuracy_m=acc, approximate=kind)


def test_same_time_a_fix_wins_over_an_approximate_report_in_either_order():
    for order in ([(0, approx()), (1, fix())], [(0, fix()), (1, approx())]):
        r = screen(order, None, NOW, CFG)
        [(index, kept)] = r.accepted
        assert kept.approximate is None
        assert r.rejected == [(1 - index, "duplicate")]
    heartbeat = approx(LAST_KNOWN, lat=None, lon=None)
    r = screen([(0, heartbeat), (1, fix())], None, NOW, CFG)
    assert [i for i, _ in r.accepted] == [1] and r.rejected == [(0, "duplicate")]


def test_same_time_as_the_stored_latest_fix_is_a_duplicate_even_when_approximate():
    last = LastFix(NOW, -7.97, 112.63)
    r = screen([(0, approx()), (1, approx(LAST_KNOWN, lat=None, lon=None))], last, NOW, CFG)
    assert r.accepted == [] and r.rejected == [(0, "duplicate"), (1, "duplicate")]


def test_approximate_reports_skip_accuracy_and_speed_but_not_coordinates_or_time():
    last = LastFix(NOW - timedelta(seconds=1), -7.97, 112.63)
    r = screen(
        [
            (0, approx(lat=-6.0, acc=5000)),  # 200 km in a second, 5 km accuracy: kept, moves nothing
            (1, approx(lat=0, lon=0, dt=1)),
            (2, approx(LAST_KNOWN, lat=None, lon=None, dt=3600)),
            (3, approx(LAST_KNOWN, lat=None, lon=None, dt=2)),
        ],
        last,
        NOW,
        CFG,
    )
    assert sorted(i for i, _ in r.accepted) == [0, 3]
    assert r.rejected == [(1, "null_island"), (2, "future")]
    # and they never become the running latest: this fix is checked against `last`, not against index 0
    r = screen([(0, approx(lat=-6.0)), (1, fix(lat=-7.9701, dt=1))], last, NOW, CFG)
    assert len(r.accepted) == 2
