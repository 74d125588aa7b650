#!/usr/bin/env python
"""Scale run: 100,000 simulated officers at one fix every 5 s (20,000 pings/s) against one machine.

Phones buffer fixes and upload them in batches (``--batch`` fixes per upload, so each officer posts once
every batch x 5 s), the way Traccar-style clients do on a metered link. The run steps the offered load
(a share of the 20,000 pings/s goal per phase), for each server worker count, and reports sustained
accepted pings/s, p50/p99 acknowledgement latency, errors, and where it saturates. Everything stays on
127.0.0.1 and every phase is bounded in time.

    .venv/bin/python scripts/scale_run.py                     # 100k officers, workers 1 and 2, 60 s at full load
    .venv/bin/python scripts/scale_run.py --officers 20000 --seconds 20 --steps 0.5,1.0
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing as mp
import os
import platform
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))


from benchkit import scratch_database, served  # noqa: E402


def seed(url: str, n: int) -> list[str]:
    """Officers, logins and device tokens straight through COPY: 100k in seconds."""
    import psycopg

    from jogo_dispatch.platform.security import DEVICE_TOKEN_PREFIX, Passwords

    tokens = [DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(24) for _ in range(n)]
    pw = Passwords().hash("scale-run")
    with psycopg.connect(url) as conn:
        with conn.cursor().copy("COPY users (id, username, password_hash, role) FROM STDIN") as cp:
            for i in range(1, n + 1):
                cp.write_row((i, f"S{i:06d}", pw, "officer"))
        with conn.cursor().copy(
            "COPY officers (id, user_id, badge, name, unit_type, status) FROM STDIN"
        ) as cp:
            for i in range(1, n + 1):
                cp.write_row(
                    (i, i, f"S{i:06d}", f"Scale {i}", ("car", "motorbike", "foot")[i % 3], "available")
                )
        with conn.cursor().copy("COPY devices (officer_id, identifier, token_hash) FROM STDIN") as cp:
            for i, tok in enumerate(tokens, 1):
                cp.write_row((i, f"scale-{i}", hashlib.sha256(tok.encode()).hexdigest()))
        for table in ("users", "officers"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        conn.commit()
    return tokens


def _client_proc(base: str, tokens: list[str], batch: int, rate: float, seconds: float, q: mp.Queue) -> None:
    """One load process: its share of the officers, uploading batches at the offered rate over bare
    keep-alive HTTP/1.1 connections (httpx would cost more CPU than the server per request)."""

    async def run() -> dict:
        lat0, lon0 = -7.98, 112.63
        n = len(tokens)
        uploads_per_s = rate / batch
        acks: list[float] = []
        accepted = errors = 0
        clock = [time.time() - 3600.0] * n  # each officer's last fix time (epoch seconds)
        host, port = base.removeprefix("http://").split(":")
        queue: asyncio.Queue = asyncio.Queue()

        def body_for(i: int) -> bytes:
            t = clock[i]
            parts = []
            for j in range(batch):
                t += 5.0
                parts.append(
                    f'{{"lat":{lat0 + (i % 300) * 1e-4 + j * 1e-5:.6f},'
                    f'"lon":{lon0 + (i // 300) * 1e-4:.6f},"recorded_at":{t:.3f}}}'
                )
            clock[i] = t
            return ("[" + ",".join(parts) + "]").encode()

        async def connection() -> None:
            nonlocal accepted, errors
            reader, writer = await asyncio.open_connection(host, int(port))
            while (i := await queue.get()) is not None:
                payload = body_for(i)
                t0 = time.perf_counter()
                writer.write(
                    b"POST /api/v1/pings HTTP/1.1\r\nHost: scale\r\nAuthorization: Bearer "
                    + tokens[i].encode()
                    + b"\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                answer = await reader.readexactly(length)
                acks.append((time.perf_counter() - t0) * 1000)
                if status == 200:
                    accepted += int(answer.split(b'"accepted":', 1)[1].split(b",", 1)[0])
                else:
                    errors += 1
            writer.close()

        conns = [asyncio.create_task(connection()) for _ in range(32)]
        started = time.monotonic()
        k = 0
        while (elapsed := time.monotonic() - started) < seconds:
            for _ in range(int(elapsed * uploads_per_s) - k):
                queue.put_nowait(k % n)
                k += 1
            await asyncio.sleep(0.005)
        backlog = queue.qsize()
        for _ in conns:
            queue.put_nowait(None)
        await asyncio.gather(*conns)
        return {
            "accepted": accepted,
            "errors": errors,
            "acks": acks,
            "uploads": k,
            "backlog_at_end": backlog,
            "seconds": time.monotonic() - started,
        }

    q.put(asyncio.run(run()))


def phase(base: str, tokens: list[str], rate: float, seconds: float, batch: int, procs: int) -> dict:
    q: mp.Queue = mp.Queue()
    share = len(tokens) // procs
    ps = [
        mp.Process(
            target=_client_proc,
            args=(base, tokens[i * share : (i + 1) * share], batch, rate / procs, seconds, q),
        )
        for i in range(procs)
    ]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    acks = sorted(a for r in results for a in r["acks"])
    secs = max(r["seconds"] for r in results)
    acc = sum(r["accepted"] for r in results)
    return {
        "offered_pings_per_s": rate,
        "accepted_pings_per_s": round(acc / secs),
        "errors": sum(r["errors"] for r in results),
        "backlog_at_end": sum(r["backlog_at_end"] for r in results),
        "uploads": sum(r["uploads"] for r in results),
        "seconds": round(secs, 1),
        "ack_p50_ms": round(acks[len(acks) // 2], 1) if acks else None,
        "ack_p99_ms": round(acks[int(len(acks) * 0.99) - 1], 1) if acks else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--officers", type=int, default=100_000)
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between one officer's fixes")
    ap.add_argument("--batch", type=int, default=20, help="fixes per upload")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the full-load phase (max 60)")
    ap.add_argument("--steps", default="0.25,0.5,1.0", help="shares of the full load, one phase each")
    ap.add_argument("--workers", default="1,2", help="server worker counts to try")
    ap.add_argument("--client-procs", type=int, default=1)
    ap.add_argument("--json", default=str(ROOT / "benchmarks/results/scale.json"))
    args = ap.parse_args()
    seconds = min(args.seconds, 60.0)
    goal = args.officers / args.interval
    report: dict = {
        "benchmark": "scale",
        "officers": args.officers,
        "goal_pings_per_s": goal,
        "batch": args.batch,
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version()},
        "runs": [],
    }
    with scratch_database("scale") as url:
        t = time.monotonic()
        tokens = seed(url, args.officers)
        print(
            f"[scale] seeded {args.officers} officers with device tokens in {time.monotonic() - t:.1f}s",
            flush=True,
        )
        for workers in (int(w) for w in args.workers.split(",")):
            with served(url, workers=workers, JOGO_PRESENCE_SWEEP_S="10", JOGO_RETENTION_DAYS="2") as base:
                for share in (float(s) for s in args.steps.split(",")):
                    rate = goal * share
                    secs = seconds if share >= 1.0 else min(seconds, 20.0)
                    r = phase(base, tokens, rate, secs, args.batch, args.client_procs)
                    r.update({"workers": workers, "share": share})
                    report["runs"].append(r)
                    print(
                        f"[scale] workers={workers} offered {rate:>7.0f}/s accepted {r['accepted_pings_per_s']:>7}/s "
                        f"ack p50 {r['ack_p50_ms']} ms p99 {r['ack_p99_ms']} ms errors {r['errors']}",
                        flush=True,
                    )
    best = max(report["runs"], key=lambda r: r["accepted_pings_per_s"], default=None)
    if best:
        report["best"] = best
        met = best["accepted_pings_per_s"] >= 0.95 * goal
        print(
            f"[scale] best sustained: {best['accepted_pings_per_s']}/s with {best['workers']} worker(s); "
            f"goal {goal:.0f}/s {'met' if met else 'NOT met'}"
        )
    report["at"] = datetime.now(UTC).isoformat()
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
