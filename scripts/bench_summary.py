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


def _before_after(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The same benchmark run on the code before (ingest-before.json) and now, each with its own ceiling."""
    rows = [
        ("raw COPY ceiling", "copy", "rows_per_s"),
        ("writer in process", "writer", "pings_per_s"),
        ("HTTP batched (100/request)", "batched", "pings_per_s"),
        ("officer websocket (100/message)", "stream", "pings_per_s"),
        ("HTTP single (req/s)", "single", "requests_per_s"),
    ]
    out = [
        f"### Before and after (git {before['machine'].get('git') or 'before'} at "
        f"{before['machine']['started_at']} vs git {after['machine']['git']} at {after['machine']['started_at']})",
        "",
        "| phase | before | of COPY | after | of COPY | server / PostgreSQL µs per ping, before → after |",
        "|---|---|---|---|---|---|",
    ]
    for label, key, unit in rows:
        b, a = before["phases"].get(key), after["phases"].get(key)
        if not (b and a):
            continue
        bc, ac = before["phases"]["copy"]["rows_per_s"], after["phases"]["copy"]["rows_per_s"]
        be, ae = before["cpu_per_ping_us"].get(key), after["cpu_per_ping_us"].get(key)
        cpu = (
            f"{be['server']:.1f} / {be['postgres']:.1f} → {ae['server']:.1f} / {ae['postgres']:.1f}"
            if be and ae
            else "-"
        )
        share = key != "single"
        out.append(
            f"| {label} | {b[unit]:,} | {b[unit] / bc:.1%} | {a[unit]:,} | {a[unit] / ac:.1%} | {cpu} |"
            if share
            else f"| {label} | {b[unit]:,} | - | {a[unit]:,} | - | {cpu} (per request) |"
        )
    return [*out, ""]


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
        if "stream" in ph:
            out.append(
                f"| officer websocket, 100 per message | {ph['stream']['pings_per_s']:,} pings/s | "
                f"{ph['stream']['latency_p99_ms']} ms |"
            )
        if "single" in ph:
            out.append(
                f"| `POST /api/v1/pings`, single | {ph['single']['requests_per_s']:,} req/s | "
                f"{ph['single']['latency_p99_ms']} ms |"
            )
        m = ing.get("machine", {})
        out += [
            "",
            f"Machine: {m.get('nproc')} cores ({m.get('cpu_model')}), {m.get('mem_gb')} GB, "
            f"{str(m.get('postgresql', '')).split(' on ')[0]}, fsync and synchronous_commit on; "
            f"git {m.get('git')}, {m.get('started_at')}. Other work shared the cores: CPU used by others per "
            "phase: "
            + ", ".join(
                f"{k} {v['cpu']['other_cpu_s'] / (v['cpu']['wall_s'] or 1):.2f}" for k, v in ph.items()
            )
            + " cores.",
        ]
        if ing.get("cpu_per_ping_us"):
            out.append(
                "CPU µs per ping (per request for single), server / PostgreSQL backends: "
                + "; ".join(
                    f"{k} {v['server']:.1f} / {v['postgres']:.1f}" for k, v in ing["cpu_per_ping_us"].items()
                )
                + "."
            )
        if ing.get("ratios"):
            out.append(
                "Ratios in the same run: " + "; ".join(f"{k} = {v}" for k, v in ing["ratios"].items()) + "."
            )
        out += (
            [""]
            + [f"- {'met' if g['met'] else 'NOT met'}: {g['goal']} — {g['actual']}" for g in ing["goals"]]
            + [""]
        )
        if before := load(d, "ingest-before"):
            out += _before_after(before, ing)
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
            f"- latency p50 {w['latency_p50_ms']} ms, p99 {w['latency_p99_ms']} ms "
            f"(goal p99 ≤ {live.get('goal', {}).get('latency_p99_ms', 50)} ms)",
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
