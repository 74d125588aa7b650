"""Batch assignment, without a database: optimal against brute force, greedy as baseline and fallback."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from jogo_dispatch.dispatch import assignment as asg
from jogo_dispatch.geo.distance import geodesic_m
from tests.reports.helpers import MALANG, offset

SPEEDS = {"car": 10.0, "motorbike": 10.0, "foot": 1.0}


def _random(n: int, m: int, seed: int, spread_m: float = 4000.0) -> tuple[list[asg.Job], list[asg.Unit]]:
    rng = random.Random(seed)

    def point() -> tuple[float, float]:
        return offset(*MALANG, rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m))

    jobs = [asg.Job(100 + i, *point(), rng.randint(1, 5)) for i in range(n)]
    units = [asg.Unit(500 + j, *point(), rng.choice(["car", "motorbike", "foot"])) for j in range(m)]
    return jobs, units


def _brute_force(jobs, units, eta, cutoff) -> float:
    """The objective the optimum must reach: served weighted ETA plus the penalty of the unserved."""
    weights = [asg.weight(j.priority) for j in jobs]
    penalty = 2 * cutoff + 1
    best = float("inf")
    cols = list(range(len(units))) + [None] * len(jobs)
    for perm in itertools.permutations(cols, len(jobs)):
        cost = sum(
            w * eta[i, c] if c is not None and eta[i, c] <= cutoff else w * penalty
            for i, (w, c) in enumerate(zip(weights, perm, strict=True))
        )
        best = min(best, cost)
    return best


def _objective(plan: asg.Plan, jobs, units, eta, cutoff) -> float:
    index_of_job = {j.id: i for i, j in enumerate(jobs)}
    index_of_unit = {u.id: k for k, u in enumerate(units)}
    served = sum(
        asg.weight(p.priority) * eta[index_of_job[p.job_id], index_of_unit[p.unit_id]] for p in plan.pairs
    )
    weights = {j.id: asg.weight(j.priority) for j in jobs}
    return served + sum(weights[j] * (2 * cutoff + 1) for j in plan.unassigned)


@pytest.mark.parametrize("n, m, seed", [(3, 4, 1), (4, 3, 2), (4, 4, 3), (2, 5, 4), (5, 2, 5)])
def test_optimal_matches_brute_force_and_never_loses_to_greedy(n, m, seed) -> None:
    jobs, units = _random(n, m, seed)
    cutoff = 900.0
    eta = asg.eta_matrix(asg.distance_matrix(jobs, units), units, SPEEDS, 1.3)
    best = asg.optimal(jobs, units, eta, cutoff, SPEEDS, 1.3)
    base = asg.greedy(jobs, units, eta, cutoff, SPEEDS, 1.3)
    assert _objective(best, jobs, units, eta, cutoff) == pytest.approx(_brute_force(jobs, units, eta, cutoff))
    assert _objective(best, jobs, units, eta, cutoff) <= _objective(base, jobs, units, eta, cutoff) + 1e-6
    assert len({p.unit_id for p in best.pairs}) == len(best.pairs)  # an officer serves one incident
    assert len(best.pairs) + len(best.unassigned) == n


def test_scarce_officers_go_to_the_urgent_incident() -> None:
    officer = asg.Unit(1, *offset(*MALANG, 0, 0), "car")
    road_damage = asg.Job(10, *offset(*MALANG, 100, 0), 5)  # very near
    medical = asg.Job(11, *offset(*MALANG, 2000, 0), 1)  # far, but priority 1
    plan = asg.plan([road_damage, medical], [officer], method="optimal", cutoff_s=3600, speeds_mps=SPEEDS)
    assert [(p.job_id, p.unit_id) for p in plan.pairs] == [(11, 1)] and plan.unassigned == [10]
    greedy = asg.plan([road_damage, medical], [officer], method="greedy", cutoff_s=3600, speeds_mps=SPEEDS)
    assert [(p.job_id, p.unit_id) for p in greedy.pairs] == [(11, 1)]  # greedy goes urgent-first too


def test_greedy_loses_where_nearest_first_is_short_sighted() -> None:
    # Incident A (urgent) is a little nearer officer X than officer Y; incident B can only be reached
    # quickly by X. Greedy gives X to A and leaves B with the far Y; optimal sends Y to A.
    x = asg.Unit(1, *offset(*MALANG, 0, 0), "car")
    y = asg.Unit(2, *offset(*MALANG, 0, 400), "car")
    a = asg.Job(10, *offset(*MALANG, 0, 150), 1)
    b = asg.Job(11, *offset(*MALANG, 0, -2000), 1)
    best = asg.plan([a, b], [x, y], speeds_mps=SPEEDS)
    base = asg.plan([a, b], [x, y], method="greedy", speeds_mps=SPEEDS)
    assert {(p.job_id, p.unit_id) for p in best.pairs} == {(10, 2), (11, 1)}
    assert {(p.job_id, p.unit_id) for p in base.pairs} == {(10, 1), (11, 2)}
    assert best.total_weighted_eta_s < base.total_weighted_eta_s


def test_cutoff_rectangles_and_empty_inputs() -> None:
    near = asg.Unit(1, *offset(*MALANG, 0, 0), "foot")
    job = asg.Job(10, *offset(*MALANG, 5000, 0), 2)  # 5 km on foot: far beyond a 10-minute cutoff
    for method in ("optimal", "greedy"):
        plan = asg.plan([job], [near], method=method, cutoff_s=600, speeds_mps=SPEEDS)
        assert plan.pairs == [] and plan.unassigned == [10]
        assert asg.plan([], [near], method=method).pairs == []
        assert asg.plan([job], [], method=method).unassigned == [10]
    jobs, units = _random(3, 12, 7)
    assert len(asg.plan(jobs, units, speeds_mps=SPEEDS).pairs) == 3
    jobs, units = _random(12, 3, 8)
    plan = asg.plan(jobs, units, speeds_mps=SPEEDS, cutoff_s=10_000)
    assert len(plan.pairs) == 3 and len(plan.unassigned) == 9


def test_reported_distances_are_exact_geodesics() -> None:
    jobs, units = _random(4, 6, 9)
    plan = asg.plan(jobs, units, speeds_mps=SPEEDS, cutoff_s=10_000)
    by_id = {u.id: u for u in units} | {j.id: j for j in jobs}
    for p in plan.pairs:
        j, u = by_id[p.job_id], by_id[p.unit_id]
        assert p.distance_m == geodesic_m(j.lat, j.lon, u.lat, u.lon)
        assert p.eta_s == pytest.approx(p.distance_m * 1.35 / SPEEDS[u.unit_type])
    matrix = asg.distance_matrix(jobs, units)
    exact = np.array([[geodesic_m(j.lat, j.lon, u.lat, u.lon) for u in units] for j in jobs])
    assert np.max(np.abs(matrix / exact - 1)) < 0.006  # the sphere is within 0.6 % of WGS84


def test_optimal_falls_back_to_greedy_when_the_solver_fails(monkeypatch) -> None:
    jobs, units = _random(4, 5, 10)

    def broken(*args, **kwargs):
        raise ValueError("cost matrix is infeasible")

    monkeypatch.setattr(asg, "optimal_pairs", broken)
    plan = asg.plan(jobs, units, speeds_mps=SPEEDS, cutoff_s=10_000)
    assert plan.method == "greedy" and "infeasible" in (plan.fallback_reason or "")
    assert len(plan.pairs) == 4


def test_bad_input_is_an_error_not_a_fallback() -> None:
    unit = asg.Unit(1, *MALANG, "car")
    with pytest.raises(ValueError, match="priority"):
        asg.plan([asg.Job(1, *MALANG, 9)], [unit])
    with pytest.raises(ValueError, match="unit_type"):
        asg.plan([asg.Job(1, *MALANG, 1)], [asg.Unit(1, *MALANG, "helicopter")])
    with pytest.raises(ValueError, match="unique"):
        asg.plan([asg.Job(1, *MALANG, 1), asg.Job(1, *MALANG, 2)], [unit])
    with pytest.raises(ValueError, match="cutoff"):
        asg.plan([asg.Job(1, *MALANG, 1)], [unit], cutoff_s=0)
    with pytest.raises(ValueError, match="method"):
        asg.plan([], [], method="magic")
