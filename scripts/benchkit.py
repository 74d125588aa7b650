"""What the benchmark scripts share: a scratch database migrated to head, the server as a separate
process (ready when it answers /readyz), percentiles. Local PostgreSQL and 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jogo_dispatch.platform.migrations import upgrade_head  # noqa: E402

ADMIN = os.environ.get("JOGO_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A fresh database migrated to head; dropped afterwards whatever happens."""
    name = f"jogo_bench_{prefix}_{os.getpid()}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade_head(url)
        yield url
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Base(str):
    """The server's base URL, with the pid of its process (for a profiler)."""

    pid: int


@contextlib.contextmanager
def served(url: str, port: int | None = None, workers: int = 1, **env: str) -> Iterator[Base]:
    """``jogo-dispatch serve`` on ``url`` in its own process; yields the base URL once it is ready."""
    port = port or free_port()
    environ = {
        **os.environ,
        "JOGO_DATABASE_URL": url,
        "JOGO_LOG_LEVEL": "WARNING",
        "JOGO_OSMAND_PORT": "",
        **env,
    }
    if workers > 1:  # one bus for every worker (serve refuses the per-process one)
        environ.setdefault("JOGO_PUBSUB", "postgres")
    cmd = [sys.executable, "-m", "jogo_dispatch.cli", "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=environ)
    base = Base(f"http://127.0.0.1:{port}")
    base.pid = proc.pid
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with code {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("server not ready after 120 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def profile(py_spy: str | None, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy recording ``pid`` (and its workers) for ``seconds`` into ``out`` (collapsed stacks)."""
    if not py_spy:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250"]
    cmd += ["--format", "raw", "--output", str(out), "--nonblocking", "--subprocesses"]
    print(f"py-spy recording -> {out}", flush=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pct(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
