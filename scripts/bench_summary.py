#!/usr/bin/env python
"""Markdown summary of benchmarks/results/*.json (written by scripts/bench)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def load(d: Path, name: str) -> dict[str, Any] | None:
    p = d / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def main() -> None:
    d = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results")
    out = ["# Benchmark summary", ""]
    if ing := load(d, "ingest"):
        ph = ing["phases"]
        out += [
            "## Ingest (durable, acknowledged after commit)",
            "",
            "| phase | throughput | p99 |",
            "|---|---|---|",
        ]
        if "copy" in ph:
            out.append(
                f"| raw COPY ceiling | {ph['copy']['rows_per_s']:,} rows/s | {ph['copy']['commit_p99_ms']} ms |"
            )
        if "writer" in ph:
            out.append(
                f"| group-commit writer in process | {ph['writer']['pings_per_s']:,} pings/s | "
                f"{ph['writer']['submit_p99_ms']} ms |"
            )
        if "batched" in ph:
            out.append(
                f"| `POST /api/v1/pings`, 100 per request | {ph['batched']['pings_per_s']:,} pings/s | "
                f"{ph['batched']['latency_p99_ms']} ms |"
            )
        if "single" in ph:
            out.append(
                f"| `POST /api/v1/pings`, single | {ph['single']['requests_per_s']:,} req/s | "
                f"{ph['single']['latency_p99_ms']} ms |"
            )
        out += (
            [""]
            + [f"- {'met' if g['met'] else 'NOT met'}: {g['goal']} — {g['actual']}" for g in ing["goals"]]
            + [""]
        )
    if st := load(d, "stream"):
        out += [
            f"## Websocket stream vs HTTP batches ({st['sockets']} connections, {st['per_message']} pings each)",
            "",
            f"- HTTP batches {st['http']['pings_per_s']:,} pings/s, websocket {st['websocket']['pings_per_s']:,}"
            f" pings/s: ratio {st['ratio']} (goal ≥ 1)",
            "",
        ]
    if near := load(d, "nearest"):
        out += [
            "## Nearest-5 responders",
            "",
            "| officers | index p50/p99 µs | numpy brute force p50/p99 µs | "
            "PostGIS KNN p50/p99 µs | HTTP p50/p99 ms | update µs |",
            "|---|---|---|---|---|---|",
        ]
        for n, r in near["inprocess"].items():
            pg = (
                f"{r['postgis_knn_p50_us']:.0f} / {r['postgis_knn_p99_us']:.0f}"
                if "postgis_knn_p50_us" in r
                else "–"
            )
            http = f"{r['http_p50_ms']:.2f} / {r['http_p99_ms']:.2f}" if "http_p50_ms" in r else "–"
            out.append(
                f"| {int(n):,} | {r['index_p50_us']:.0f} / {r['index_p99_us']:.0f} | "
                f"{r['numpy_p50_us']:.0f} / {r['numpy_p99_us']:.0f} | {pg} | {http} | {r['update_us']:.1f} |"
            )
        out.append("")
    if a := load(d, "assignment"):
        t = a["timings"]
        out += [
            "## Batch assignment (200 incidents × 840 officers)",
            "",
            f"- optimal (Hungarian) plan {t['optimal_plan']['median_ms']} ms, greedy {t['greedy_plan']['median_ms']} ms",
            f"- greedy loses {a['greedy_loss_pct']} % of total priority-weighted ETA",
            "",
        ]
    if live := load(d, "live"):
        b, w = live["baseline"], live["with_clients"]
        out += [
            f"## Ping → dispatcher websocket ({live['officers']} officers at 1 ping/s, {live['clients']} clients)",
            "",
            f"- latency p50 {w['latency_p50_ms']} ms, p99 {w['latency_p99_ms']} ms (goal p99 ≤ 100 ms)",
            f"- ingest {b['pings_per_s']} pings/s alone, {w['pings_per_s']} with the clients "
            f"(ratio {live['ingest_ratio']})",
            "",
        ]
    if mem := load(d, "memory"):
        out += ["## Memory per tracked officer (one process)", "", "| officers | bytes |", "|---|---|"]
        out += [f"| {int(n):,} | {r['total_bytes_per_officer']:.0f} |" for n, r in mem["results"].items()] + [
            ""
        ]
    if sc := load(d, "scale"):
        out += [
            f"## Scale run ({sc['officers']:,} officers, goal {sc['goal_pings_per_s']:,.0f} pings/s)",
            "",
            "| workers | offered/s | accepted/s | ack p50 ms | ack p99 ms | errors |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {r['workers']} | {r['offered_pings_per_s']:,.0f} | {r['accepted_pings_per_s']:,} | {r['ack_p50_ms']} | "
            f"{r['ack_p99_ms']} | {r['errors']} |"
            for r in sc["runs"]
        ] + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
