#!/usr/bin/env python3
"""Where the server's CPU per ping goes, from py-spy's collapsed stacks (scripts/bench_ingest.py --py-spy).

Each sample is attributed to the leaf-most frame that names one part of the ping path (exclusive shares),
and the shares are scaled by the server CPU µs per ping (or per request) that bench_ingest measured from
/proc in the same run, so the parts add up to that figure.

    .venv/bin/python scripts/bench_ingest.py --phases batched,stream,single --py-spy .venv/bin/py-spy
    .venv/bin/python scripts/bench_profile.py benchmarks/results/profiles/batched.folded 14.8
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

PARTS = (
    ("pydantic validation (PingIn)", r"pydantic|parse_ping_items|schemas\.py"),
    ("msgspec decode + columns (tracking/wire.py)", r"tracking/wire\.py"),
    ("orjson body parse (parse_json)", r"parse_json"),
    ("filters (screen / screen_columns)", r"tracking/filters\.py|geo/distance\.py"),
    (
        "row building + COPY encoding",
        r"encode_columns|_direct_columns|_rows_columns|_elements|encode_rows|_row \(|write_row|psycopg/types",
    ),
    ("writer task: COPY send, SQL, commit", r"tracking/writer\.py|psycopg"),
    ("Ingest.submit* bookkeeping", r"tracking/ingest\.py"),
    ("auth + dependencies", r"platform/security\.py|jogo_dispatch/deps\.py|solve_dependencies"),
    ("route / socket handler itself", r"tracking/router\.py|tracking/stream\.py|tracking/channels\.py"),
)
REST = "HTTP/websocket stack, middleware, event loop (rest)"


def summarise(path: str, per: float) -> str:
    parts = [(name, re.compile(rx)) for name, rx in PARTS]
    shares: Counter[str] = Counter()
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            n = int(count)
            total += n
            for frame in reversed(stack.split(";")):
                hit = next((name for name, rx in parts if rx.search(frame)), None)
                if hit is not None:
                    shares[hit] += n
                    break
            else:
                shares[REST] += n
    lines = [f"{total} samples; µs = share x {per:g} µs server CPU (measured in the same run)"]
    for name, n in shares.most_common():
        lines.append(f"  {100 * n / total:5.1f}%  {n / total * per:7.1f} µs  {name}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folded", help="py-spy --format raw output (collapsed stacks)")
    ap.add_argument("us", type=float, help="server CPU µs per ping (or per request) of that run")
    a = ap.parse_args()
    print(summarise(a.folded, a.us))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
