"""Nearest-responder latency: ResponderIndex against a numpy brute force, in one process.

    .venv/bin/python benchmarks/bench_nearest.py --sizes 840,10000,100000 --queries 2000 --json out.json

Officers are spread uniformly over Malang (lat -8.02..-7.92, lon 112.58..112.68), two thirds
"available"; queries are uniform over the same box and ask for the 5 nearest available officers.
Each size reports, in microseconds per call:

- index: ``ResponderIndex.nearest`` as tuned: below ``linear_scan_below`` officers it scans (a cosine
  to every matching officer, then exact WGS84 solves only for the few that can make the top k),
  above it walks H3 rings; its answers are exact either way;
- walk: the same index forced to walk rings at every size, to show the walk's own cost;
- numpy: a vectorised haversine over every available officer + argpartition (approximate
  distances, no filters beyond status: the fastest a brute force gets);
- update: ``ResponderIndex.update`` moving an existing officer by up to ~50 m.

Every timed pass runs after an untimed warm-up pass over the same queries (the index caches ring
geometry per H3 cell; a city has a few hundred cells, so production runs warm). The machine may be
shared, so each figure is the best of ``--repeats`` passes, the way timeit reports.

The sections are functions returning plain dicts (``run_inprocess``) so that PostGIS KNN and HTTP
sections can be added next to it and share the table / JSON output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from jogo_dispatch.geo.distance import SPHERE_RADIUS_M
from jogo_dispatch.geo.index import ResponderIndex

MALANG_BOX = (-8.02, -7.92, 112.58, 112.68)  # lat_min, lat_max, lon_min, lon_max
UNIT_TYPES = ("car", "motorbike", "foot")
STATUSES = ("available", "available", "busy")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

Clock = Callable[[], int]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter_ns, "cpu": time.thread_time_ns}


@dataclass(frozen=True)
class Fleet:
    ids: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    status: list[str]
    unit_type: list[str]


def make_fleet(n: int, rnd: random.Random) -> Fleet:
    lat_min, lat_max, lon_min, lon_max = MALANG_BOX
    return Fleet(
        ids=np.arange(1, n + 1, dtype=np.int64),
        lat=np.array([rnd.uniform(lat_min, lat_max) for _ in range(n)]),
        lon=np.array([rnd.uniform(lon_min, lon_max) for _ in range(n)]),
        status=[rnd.choice(STATUSES) for _ in range(n)],
        unit_type=[rnd.choice(UNIT_TYPES) for _ in range(n)],
    )


def make_queries(count: int, rnd: random.Random) -> list[tuple[float, float]]:
    lat_min, lat_max, lon_min, lon_max = MALANG_BOX
    return [(rnd.uniform(lat_min, lat_max), rnd.uniform(lon_min, lon_max)) for _ in range(count)]


class NumpyBruteForce:
    """Haversine to every available officer, argpartition for the k smallest, sort those k."""

    def __init__(self, fleet: Fleet) -> None:
        keep = np.array([s == "available" for s in fleet.status], dtype=bool)
        self.ids = fleet.ids[keep]
        self.lat = np.radians(fleet.lat[keep])
        self.lon = np.radians(fleet.lon[keep])
        self.cos_lat = np.cos(self.lat)

    def nearest(self, lat: float, lon: float, k: int) -> list[int]:
        p = np.radians(lat)
        h = (
            np.sin((self.lat - p) / 2.0) ** 2
            + np.cos(p) * self.cos_lat * np.sin((self.lon - np.radians(lon)) / 2.0) ** 2
        )
        dist = 2.0 * SPHERE_RADIUS_M * np.arcsin(np.sqrt(h))
        top = np.argpartition(dist, k)[:k] if dist.size > k else np.arange(dist.size)
        top = top[np.argsort(dist[top], kind="stable")]
        return [int(i) for i in self.ids[top]]


def _percentiles(samples_ns: Sequence[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 / 1e3, p99 / 1e3


def _time_calls(
    call: Callable[[float, float], object], queries: Sequence[tuple[float, float]], clock: Clock
) -> list[int]:
    samples = []
    for lat, lon in queries:
        t0 = clock()
        call(lat, lon)
        samples.append(clock() - t0)
    return samples


def _best_pass(
    call: Callable[[float, float], object], queries: Sequence[tuple[float, float]], clock: Clock, repeats: int
) -> tuple[float, float]:
    _time_calls(call, queries, clock)  # warm-up: caches, branch predictors, allocator
    passes = [_percentiles(_time_calls(call, queries, clock)) for _ in range(repeats)]
    return min(passes)  # by p50, then p99


def _load_index(fleet: Fleet, res: int) -> tuple[ResponderIndex, float]:
    index = ResponderIndex(res=res)
    t0 = time.perf_counter_ns()
    for i in range(len(fleet.ids)):
        index.update(
            int(fleet.ids[i]),
            float(fleet.lat[i]),
            float(fleet.lon[i]),
            fleet.status[i],
            fleet.unit_type[i],
            NOW,
        )
    insert_us = (time.perf_counter_ns() - t0) / 1e3 / max(1, len(fleet.ids))
    return index, insert_us


def _update_cost_us(
    index: ResponderIndex, fleet: Fleet, rnd: random.Random, clock: Clock, repeats: int
) -> float:
    """Per-position cost of moving existing officers by up to ~50 m (a typical ping)."""
    n = len(fleet.ids)
    count = min(n, 20_000)
    picks = [rnd.randrange(n) for _ in range(count)]
    jitter = [(rnd.uniform(-4.5e-4, 4.5e-4), rnd.uniform(-4.5e-4, 4.5e-4)) for _ in range(count)]
    best = float("inf")
    for rep in range(repeats):
        seen = NOW + timedelta(seconds=rep + 1)
        args = [
            (
                int(fleet.ids[i]),
                float(fleet.lat[i]) + dlat,
                float(fleet.lon[i]) + dlon,
                fleet.status[i],
                fleet.unit_type[i],
                seen,
            )
            for i, (dlat, dlon) in zip(picks, jitter, strict=True)
        ]
        t0 = clock()
        for a in args:
            index.update(*a)
        best = min(best, (clock() - t0) / 1e3 / count)
    return best


def _agreement(
    index: ResponderIndex, brute: NumpyBruteForce, queries: Sequence[tuple[float, float]], k: int
) -> float:
    """Share of queries where both return the same ids: a sanity check, not exactness (the numpy
    baseline ranks by sphere distance, the index by WGS84 geodesic, so rare near-ties may differ)."""
    same = sum(
        [c.officer_id for c in index.nearest(lat, lon, k=k).candidates] == brute.nearest(lat, lon, k)
        for lat, lon in queries
    )
    return same / max(1, len(queries))


def _run_size(n: int, queries: int, k: int, res: int, repeats: int, tick: Clock, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed + n)
    fleet = make_fleet(n, rnd)
    qs = make_queries(queries, rnd)
    index, insert_us = _load_index(fleet, res)
    brute = NumpyBruteForce(fleet)

    def tuned_call(lat: float, lon: float) -> object:
        return index.nearest(lat, lon, k=k)

    tuned = _best_pass(tuned_call, qs, tick, repeats)
    scan_below = index.linear_scan_below
    index.linear_scan_below = 0  # same index, same caches, walk forced
    walk = _best_pass(tuned_call, qs, tick, repeats)
    index.linear_scan_below = scan_below
    numpy_bf = _best_pass(lambda lat, lon: brute.nearest(lat, lon, k), qs, tick, repeats)
    agreement = _agreement(index, brute, qs[: min(len(qs), 500)], k)
    update_us = _update_cost_us(index, fleet, rnd, tick, repeats)  # last: it moves the fleet
    return {
        "officers": n,
        "queries": len(qs),
        "index_p50_us": tuned[0],
        "index_p99_us": tuned[1],
        "walk_p50_us": walk[0],
        "walk_p99_us": walk[1],
        "numpy_p50_us": numpy_bf[0],
        "numpy_p99_us": numpy_bf[1],
        "numpy_over_index_p50": numpy_bf[0] / tuned[0],
        "numpy_over_index_p99": numpy_bf[1] / tuned[1],
        "update_us": update_us,
        "insert_us": insert_us,
        "agreement_with_numpy": agreement,
        "index_path": "scan" if n < scan_below else "walk",
    }


def run_inprocess(
    sizes: Sequence[int],
    queries: int,
    *,
    k: int = 5,
    res: int = 8,
    repeats: int = 3,
    clock: str = "wall",
    seed: int = 20250601,
) -> dict[str, Any]:
    """Benchmark ResponderIndex and the numpy brute force at each fleet size; plain-dict results."""
    tick = CLOCKS[clock]
    results = {str(n): _run_size(n, queries, k, res, repeats, tick, seed) for n in sizes}
    return {
        "meta": {
            "k": k,
            "res": res,
            "repeats": repeats,
            "clock": clock,
            "box": MALANG_BOX,
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "inprocess": results,
    }


def format_inprocess(report: dict[str, Any]) -> str:
    meta = report["meta"]
    header = (
        f"nearest-{meta['k']} in process (res {meta['res']}, best of {meta['repeats']} passes, "
        f"{meta['clock']} clock, µs)\n"
        f"{'officers':>9} | {'index p50':>9} {'p99':>7} {'path':>5} | {'walk p50':>8} {'p99':>7} | "
        f"{'numpy p50':>9} {'p99':>7} | {'numpy/index':>11} | {'update':>6} | {'agree':>5}"
    )
    lines = [header, "-" * len(header.splitlines()[-1])]
    for row in report["inprocess"].values():
        lines.append(
            f"{row['officers']:>9} | {row['index_p50_us']:>9.1f} {row['index_p99_us']:>7.1f} "
            f"{row['index_path']:>5} | "
            f"{row['walk_p50_us']:>8.1f} {row['walk_p99_us']:>7.1f} | "
            f"{row['numpy_p50_us']:>9.1f} {row['numpy_p99_us']:>7.1f} | "
            f"{row['numpy_over_index_p50']:>10.1f}x | {row['update_us']:>6.1f} | "
            f"{row['agreement_with_numpy']:>5.0%}"
        )
    return "\n".join(lines)


def run_postgis_and_http(
    sizes: Sequence[int],
    queries: int,
    k: int = 5,
    seed: int = 20250601,
    admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres",
) -> dict[str, Any]:
    """PostGIS KNN (the same SQL as ``method=postgis``) and the HTTP endpoint, on a scratch database
    filled with the same kind of fleet; the server runs as a separate process."""
    import time as _time

    import psycopg

    from jogo_dispatch.platform.migrations import upgrade_head
    from jogo_dispatch.platform.security import Passwords
    from jogo_dispatch.responders.service import _KNN

    rng = random.Random(seed)
    out: dict[str, Any] = {}
    name = f"jogo_bench_nearest_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade_head(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (username, password_hash, role) VALUES ('dispatcher', %s, 'dispatcher')",
                (Passwords().hash("bench-pw"),),
            )
        for n in sizes:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE officers, officer_positions CASCADE")
                with conn.cursor().copy(
                    "COPY officers (id, badge, name, unit_type, status) FROM STDIN"
                ) as cp:
                    for i in range(1, n + 1):
                        cp.write_row(
                            (
                                i,
                                f"B{i}",
                                f"Officer {i}",
                                ("car", "motorbike", "foot")[i % 3],
                                "available" if i % 5 else "busy",
                            )
                        )
                conn.execute("SELECT setval(pg_get_serial_sequence('officers', 'id'), %s)", (n,))
                lat0, lon0 = (MALANG_BOX[0] + MALANG_BOX[2]) / 2, (MALANG_BOX[1] + MALANG_BOX[3]) / 2
                spread = 0.1 if n <= 10_000 else 0.5
                with conn.cursor().copy(
                    "COPY officer_positions (officer_id, geog, recorded_at, received_at) FROM STDIN"
                ) as cp:
                    for i in range(1, n + 1):
                        lat, lon = lat0 + rng.uniform(-spread, spread), lon0 + rng.uniform(-spread, spread)
                        cp.write_row((i, f"SRID=4326;POINT({lon} {lat})", "now", "now"))
                conn.execute("ANALYZE officers")
                conn.execute("ANALYZE officer_positions")
                qs = [
                    (lat0 + rng.uniform(-spread, spread), lon0 + rng.uniform(-spread, spread))
                    for _ in range(min(queries, 500))
                ]
                # The same statement as responders.service.search_postgis.
                sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", str(_KNN.compile()))
                times = []
                for lat, lon in qs:
                    t = _time.perf_counter()
                    conn.execute(
                        sql,
                        {
                            "lat": lat,
                            "lon": lon,
                            "statuses": ["available"],
                            "unit": None,
                            "maxd": None,
                            "seen_after": "-infinity",
                            "pool": k * 4 + 16,
                            "k": k,
                        },
                    ).fetchall()
                    times.append((_time.perf_counter() - t) * 1e6)
                times.sort()
                row = out.setdefault(str(n), {})
                row["postgis_knn_p50_us"] = times[len(times) // 2]
                row["postgis_knn_p99_us"] = times[int(len(times) * 0.99) - 1]
                row.update(_http_latency(url, qs, k))
                print(
                    f"postgis/http {n}: knn p50 {row['postgis_knn_p50_us']:.0f} µs p99 "
                    f"{row['postgis_knn_p99_us']:.0f} µs; http p50 {row['http_p50_ms']:.2f} ms "
                    f"p99 {row['http_p99_ms']:.2f} ms",
                    flush=True,
                )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


def _http_latency(url: str, qs: Sequence[tuple[float, float]], k: int) -> dict[str, float]:
    import socket
    import subprocess
    import time as _time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "JOGO_DATABASE_URL": url,
        "JOGO_LOG_LEVEL": "WARNING",
        "JOGO_OSMAND_PORT": "",
        "JOGO_PRESENCE_SWEEP_S": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "jogo_dispatch.cli", "serve", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as c:
            for _ in range(600):
                try:
                    if c.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                _time.sleep(0.1)
            token = c.post(
                "/api/v1/auth/token", data={"username": "dispatcher", "password": "bench-pw"}
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            for lat, lon in qs[:20]:  # warm-up
                c.get("/api/v1/responders/nearest", params={"lat": lat, "lon": lon, "k": k}, headers=headers)
            times = []
            for lat, lon in qs:
                t = _time.perf_counter()
                r = c.get(
                    "/api/v1/responders/nearest", params={"lat": lat, "lon": lon, "k": k}, headers=headers
                )
                times.append((_time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(15)
    times.sort()
    return {"http_p50_ms": times[len(times) // 2], "http_p99_ms": times[int(len(times) * 0.99) - 1]}


def _sizes(text: str) -> list[int]:
    sizes = [int(s) for s in text.split(",") if s.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers, comma-separated")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=_sizes, default=_sizes("840,10000,100000"), help="fleet sizes, comma-separated"
    )
    parser.add_argument("--queries", type=int, default=2000, help="queries per timed pass")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--res", type=int, default=8, help="ResponderIndex H3 resolution")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best is reported")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="cpu = this thread's CPU time"
    )
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument(
        "--postgis",
        action="store_true",
        help="also measure PostGIS KNN and the HTTP endpoint (needs the local PostgreSQL)",
    )
    args = parser.parse_args(argv)
    if args.queries < 1 or args.repeats < 1:
        parser.error("--queries and --repeats must be >= 1")
    report = run_inprocess(
        args.sizes,
        args.queries,
        k=args.k,
        res=args.res,
        repeats=args.repeats,
        clock=args.clock,
        seed=args.seed,
    )
    print(format_inprocess(report))
    if args.postgis:
        for size, row in run_postgis_and_http(args.sizes, args.queries, args.k, args.seed).items():
            report["inprocess"][size].update(row)
            row_index = report["inprocess"][size]
            row_index["postgis_over_index_p99"] = row["postgis_knn_p99_us"] / row_index["index_p99_us"]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
