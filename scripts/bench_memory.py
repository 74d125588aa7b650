#!/usr/bin/env python
"""Memory per tracked officer in one server process: the responder index, the ingest filter's last
fix, and the live hub's officer table, filled as the running server fills them (tracemalloc)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jogo_dispatch.geo.index import ResponderIndex  # noqa: E402
from jogo_dispatch.live.hub import LiveHub  # noqa: E402
from jogo_dispatch.platform.events import EventBus, PositionsMoved  # noqa: E402
from jogo_dispatch.tracking.filters import LastFix  # noqa: E402


def measure(n: int) -> dict[str, float]:
    rng = random.Random(n)
    now = datetime.now(UTC)
    points = [
        (oid, -7.98 + rng.uniform(-0.3, 0.3), 112.63 + rng.uniform(-0.3, 0.3)) for oid in range(1, n + 1)
    ]
    out = {}
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    index = ResponderIndex()
    for oid, lat, lon in points:
        index.update(oid, lat, lon, "available", "car", now)
    index.nearest(-7.98, 112.63, 5)  # builds the per-cell arrays a query needs
    out["index_bytes_per_officer"] = _diff(base) / n
    base = tracemalloc.take_snapshot()
    last = {oid: LastFix(now, lat, lon) for oid, lat, lon in points}
    out["ingest_last_fix_bytes_per_officer"] = _diff(base) / n
    base = tracemalloc.take_snapshot()
    hub = LiveHub(EventBus())
    hub.connect()
    hub.on_event(
        PositionsMoved(
            positions=[
                {
                    "officer_id": oid,
                    "lat": lat,
                    "lon": lon,
                    "recorded_at": now.isoformat(),
                    "speed_mps": 5.0,
                    "heading_deg": 90.0,
                    "accuracy_m": 5.0,
                    "battery_pct": 80.0,
                    "status": "available",
                    "unit_type": "car",
                }
                for oid, lat, lon in points
            ]
        )
    )
    out["live_hub_bytes_per_officer_1_client"] = _diff(base) / n
    tracemalloc.stop()
    del index, last, hub
    out["total_bytes_per_officer"] = sum(out.values())
    return {k: round(v, 1) for k, v in out.items()}


def _diff(base: tracemalloc.Snapshot) -> float:
    return float(sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="840,10000,100000")
    ap.add_argument("--json", default=str(ROOT / "benchmarks/results/memory.json"))
    args = ap.parse_args()
    results = {}
    print(f"{'officers':>10} {'index':>10} {'last fix':>10} {'live hub':>10} {'total B':>10}")
    for n in (int(x) for x in args.sizes.split(",")):
        r = results[n] = measure(n)
        print(
            f"{n:>10} {r['index_bytes_per_officer']:>10} {r['ingest_last_fix_bytes_per_officer']:>10} "
            f"{r['live_hub_bytes_per_officer_1_client']:>10} {r['total_bytes_per_officer']:>10}"
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"benchmark": "memory_per_officer", "results": results}, indent=2))
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
