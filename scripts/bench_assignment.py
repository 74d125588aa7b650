#!/usr/bin/env python3
"""Batch assignment benchmark: optimal (Hungarian method) against greedy nearest-first, in one run.

A seeded random city: ``--incidents`` (200) waiting incidents and ``--officers`` (840) available officers
spread over Malang, with the default speeds, detour factor and ETA cutoff of the service. For each method
it times, over ``--repeat`` runs (median and best):

  matrix    the ETA matrix (great-circle distance x detour / speed), shared by both methods
  solve     the assignment itself on that matrix
  plan      what POST /api/v1/dispatch/batch runs: matrix + solve + exact geodesics of the chosen pairs

and reports the objective both are judged by, the total priority-weighted ETA (plus the unweighted total,
the mean ETA per priority and how many incidents were left unserved), and how much greedy loses. The loss
is also measured on ``--seeds`` other cities for a spread, and on a "scarce" city where officers barely
outnumber the incidents (``--scarce-officers``), which is where the two differ most. Goal: the optimal plan
within 50 ms.

    .venv/bin/python scripts/bench_assignment.py
    .venv/bin/python scripts/bench_assignment.py --incidents 300 --officers 200 --seeds 20

Writes everything to ``--json`` (default benchmarks/results/assignment.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import scipy  # noqa: E402

from jogo_dispatch.dispatch import assignment as asg  # noqa: E402
from jogo_dispatch.settings import Settings  # noqa: E402

GOAL_OPTIMAL_MS = 50.0
# Kota Malang, roughly the city limits (degrees).
MALANG_BOX = (-8.04, 112.58, -7.92, 112.69)
UNIT_MIX = (("motorbike", 0.55), ("car", 0.35), ("foot", 0.10))
PRIORITY_MIX = ((1, 0.10), (2, 0.25), (3, 0.25), (4, 0.25), (5, 0.15))


def city(n_incidents: int, n_officers: int, seed: int) -> tuple[list[asg.Job], list[asg.Unit]]:
    rng = random.Random(seed)
    s, w, n, e = MALANG_BOX

    def point() -> tuple[float, float]:
        return rng.uniform(s, n), rng.uniform(w, e)

    def pick(mix: tuple[tuple[Any, float], ...]) -> Any:
        return rng.choices([v for v, _ in mix], weights=[p for _, p in mix])[0]

    jobs = [asg.Job(i + 1, *point(), pick(PRIORITY_MIX)) for i in range(n_incidents)]
    units = [asg.Unit(10_000 + j, *point(), pick(UNIT_MIX)) for j in range(n_officers)]
    return jobs, units


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, dict[str, float]]:
    fn()  # warm caches and lazy imports
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return result, {
        "median_ms": round(statistics.median(times), 3),
        "best_ms": round(min(times), 3),
        "worst_ms": round(max(times), 3),
    }


def summary(plan: asg.Plan) -> dict[str, Any]:
    per_priority: dict[str, float] = {}
    for p in sorted({p.priority for p in plan.pairs}):
        etas = [x.eta_s for x in plan.pairs if x.priority == p]
        per_priority[str(p)] = round(statistics.fmean(etas), 1)
    return {
        "assigned": len(plan.pairs),
        "unassigned": len(plan.unassigned),
        "total_weighted_eta_s": round(plan.total_weighted_eta_s, 1),
        "total_eta_s": round(plan.total_eta_s, 1),
        "mean_eta_s_by_priority": per_priority,
        "fallback_reason": plan.fallback_reason,
    }


def git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--incidents", type=int, default=200)
    ap.add_argument("--officers", type=int, default=840)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--seeds", type=int, default=10, help="further cities for the spread of greedy's loss")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument(
        "--scarce-officers",
        type=int,
        default=220,
        help="a second city where officers barely outnumber the incidents (0 = skip)",
    )
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "assignment.json")
    args = ap.parse_args()

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    params: dict[str, Any] = {
        "cutoff_s": settings.assignment_cutoff_s,
        "speeds_mps": settings.speeds_mps,
        "detour_factor": settings.detour_factor,
    }
    jobs, units = city(args.incidents, args.officers, args.seed)
    priorities = [j.priority for j in jobs]
    weights = np.array([asg.weight(p) for p in priorities])

    eta, t_matrix = timed(
        lambda: asg.eta_matrix(
            asg.distance_matrix(jobs, units), units, settings.speeds_mps, settings.detour_factor
        ),
        args.repeat,
    )
    cutoff = settings.assignment_cutoff_s
    _, t_opt_solve = timed(lambda: asg.optimal_pairs(eta, weights, cutoff), args.repeat)
    _, t_greedy_solve = timed(lambda: asg.greedy_pairs(eta, priorities, cutoff), args.repeat)
    best, t_opt_plan = timed(lambda: asg.plan(jobs, units, method="optimal", **params), args.repeat)
    base, t_greedy_plan = timed(lambda: asg.plan(jobs, units, method="greedy", **params), args.repeat)
    assert best.method == "optimal", best.fallback_reason

    loss = base.total_weighted_eta_s / best.total_weighted_eta_s
    spread = []
    for k in range(args.seeds):
        j2, u2 = city(args.incidents, args.officers, args.seed + 1 + k)
        o = asg.plan(j2, u2, method="optimal", **params)
        g = asg.plan(j2, u2, method="greedy", **params)
        spread.append(g.total_weighted_eta_s / o.total_weighted_eta_s)

    scarce: dict[str, Any] | None = None
    if args.scarce_officers:
        j3, u3 = city(args.incidents, args.scarce_officers, args.seed)
        o3, t_o3 = timed(lambda: asg.plan(j3, u3, method="optimal", **params), args.repeat)
        g3, t_g3 = timed(lambda: asg.plan(j3, u3, method="greedy", **params), args.repeat)
        scarce = {
            "officers": args.scarce_officers,
            "optimal": summary(o3),
            "greedy": summary(g3),
            "optimal_plan": t_o3,
            "greedy_plan": t_g3,
            "greedy_loss_pct": round((g3.total_weighted_eta_s / o3.total_weighted_eta_s - 1) * 100, 2),
        }

    met = t_opt_plan["median_ms"] <= GOAL_OPTIMAL_MS
    result = {
        "benchmark": "batch assignment: optimal (scipy linear_sum_assignment) vs greedy nearest-first",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {
            "incidents": args.incidents,
            "officers": args.officers,
            "seed": args.seed,
            "repeat": args.repeat,
            "area": {"s": MALANG_BOX[0], "w": MALANG_BOX[1], "n": MALANG_BOX[2], "e": MALANG_BOX[3]},
            "unit_mix": dict(UNIT_MIX),
            "priority_mix": {str(p): f for p, f in PRIORITY_MIX},
            "priority_weights": {str(k): v for k, v in asg.PRIORITY_WEIGHTS.items()},
            **params,
        },
        "timings": {
            "matrix": t_matrix,
            "optimal_solve": t_opt_solve,
            "greedy_solve": t_greedy_solve,
            "optimal_plan": t_opt_plan,
            "greedy_plan": t_greedy_plan,
        },
        "optimal": summary(best),
        "greedy": summary(base),
        "greedy_over_optimal_weighted_eta": round(loss, 4),
        "greedy_loss_pct": round((loss - 1.0) * 100.0, 2),
        "greedy_loss_pct_other_seeds": {
            "seeds": args.seeds,
            "min": round((min(spread) - 1) * 100, 2) if spread else None,
            "median": round((statistics.median(spread) - 1) * 100, 2) if spread else None,
            "max": round((max(spread) - 1) * 100, 2) if spread else None,
        },
        "scarce_city": scarce,
        "goal": {"optimal_plan_median_ms_at_most": GOAL_OPTIMAL_MS, "met": met},
        "machine": {
            "nproc": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "platform": platform.platform(),
            "git_commit": git_commit(),
        },
    }

    print(
        f"batch assignment, {args.incidents} incidents x {args.officers} officers "
        f"(Malang, seed {args.seed}), median of {args.repeat} runs"
    )
    print(
        f"  {'':14} {'solve ms':>9} {'plan ms':>9} {'weighted ETA s':>15} {'total ETA s':>12} {'unserved':>9}"
    )
    for name, solve, plan_t, s in (
        ("optimal", t_opt_solve, t_opt_plan, result["optimal"]),
        ("greedy", t_greedy_solve, t_greedy_plan, result["greedy"]),
    ):
        print(
            f"  {name:14} {solve['median_ms']:9.2f} {plan_t['median_ms']:9.2f} "
            f"{s['total_weighted_eta_s']:15.0f} {s['total_eta_s']:12.0f} {s['unassigned']:9d}"
        )
    print(f"  ETA matrix (shared): {t_matrix['median_ms']:.2f} ms")
    print(f"  mean ETA by priority  optimal {result['optimal']['mean_eta_s_by_priority']}")
    print(f"                        greedy  {result['greedy']['mean_eta_s_by_priority']}")
    spread_txt = result["greedy_loss_pct_other_seeds"]
    print(
        f"  greedy / optimal weighted ETA = {loss:.3f} (greedy loses {result['greedy_loss_pct']:.1f} %; "
        f"{args.seeds} other cities: {spread_txt['min']} .. {spread_txt['max']} %, "
        f"median {spread_txt['median']} %)"
    )
    if scarce is not None:
        print(
            f"  scarce city ({args.incidents} incidents x {scarce['officers']} officers): greedy loses "
            f"{scarce['greedy_loss_pct']:.1f} % (weighted ETA "
            f"{scarce['greedy']['total_weighted_eta_s']:.0f} vs "
            f"{scarce['optimal']['total_weighted_eta_s']:.0f} s; optimal plan "
            f"{scarce['optimal_plan']['median_ms']:.1f} ms)"
        )
    print(
        f"  goal: optimal plan <= {GOAL_OPTIMAL_MS:.0f} ms: {'MET' if met else 'NOT MET'} "
        f"({t_opt_plan['median_ms']:.1f} ms)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"  written to {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
