"""``jogo-dispatch serve`` as deployed: X-Forwarded-For is believed only from JOGO_TRUSTED_PROXIES, and
several workers are refused with the per-process bus."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.test_cli import EXE


@contextmanager
def serving(database_url: str, **env: str) -> Iterator[str]:
    port = free_port()
    full = {**os.environ, "JOGO_DATABASE_URL": database_url, "JOGO_LOG_JSON": "false", "JOGO_OSMAND_PORT": ""}
    full.update(env)
    proc = subprocess.Popen([EXE, "serve", "--port", str(port)], env=full)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "server exited"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server not up"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


def failed_logins(base: str, n: int) -> list[int]:
    codes = []
    for _ in range(n):
        spoofed = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        r = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": f"nobody{random.randrange(10**9)}", "password": "wrong-password"},
            headers={"X-Forwarded-For": spoofed},
        )
        codes.append(r.status_code)
    return codes


LIMITS = {"JOGO_LOGIN_LIMIT_PER_IP": "3", "JOGO_LOGIN_LIMIT_PER_USER": "0"}


def test_x_forwarded_for_from_an_untrusted_client_does_not_escape_the_address_limit(database_url):
    with serving(database_url, **LIMITS) as base:
        codes = failed_logins(base, 5)
    assert 429 in codes, codes  # every attempt counted against 127.0.0.1, whatever the header said


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(database_url):
    with serving(database_url, **LIMITS, JOGO_TRUSTED_PROXIES="127.0.0.1/32") as base:
        codes = failed_logins(base, 5)
    assert codes == [401] * 5, codes  # five different clients behind the proxy, one failure each


def test_several_workers_need_the_postgres_bus(database_url):
    env = {**os.environ, "JOGO_DATABASE_URL": database_url, "JOGO_PUBSUB": "memory"}
    r = subprocess.run([EXE, "serve", "--workers", "2", "--port", str(free_port())], env=env,
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "JOGO_PUBSUB=postgres" in r.stderr, r.stderr


@pytest.mark.parametrize("bad", ["not-an-address", "10.0.0.0/99"])
def test_trusted_proxies_are_checked(bad):
    from pydantic import ValidationError

    from jogo_dispatch.settings import Settings

    with pytest.raises(ValidationError):
        Settings(trusted_proxies=bad)
    assert Settings(trusted_proxies="127.0.0.1, 10.0.0.0/8").trusted_proxies == ["127.0.0.1", "10.0.0.0/8"]


def _workers(pids: set[int]) -> set[int]:
    """The uvicorn workers among ``pids`` (not multiprocessing's resource tracker, which goes by itself)."""
    found = set()
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.add(pid)
    return found


def test_workers_stop_when_their_supervisor_is_killed(database_url):
    import signal

    from tests.test_run_stops import _alive, _descendants

    port = free_port()
    env = {**os.environ, "JOGO_DATABASE_URL": database_url, "JOGO_LOG_JSON": "false", "JOGO_OSMAND_PORT": ""}
    env["JOGO_PUBSUB"] = "postgres"
    proc = subprocess.Popen([EXE, "serve", "--workers", "2", "--port", str(port)], env=env)
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        workers: set[int] = set()
        # Killed as soon as both workers exist, one maybe still starting: it must notice all the same.
        while time.monotonic() < deadline:
            started = _descendants(proc.pid)
            workers = _workers(started)
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        assert len(workers) >= 2, started
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        # a worker notices within a second of getting going, then shuts down as on SIGTERM (its tasks get
        # 5 s to stop): a loaded machine may take a while, a worker serving on with no supervisor never stops
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in workers if _alive(pid)] == []
    finally:
        for pid in started | _descendants(proc.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(("setting", "deflate"), [(None, False), ("true", True)])
def test_websocket_compression_is_off_unless_asked_for(database_url, setting, deflate):
    from websockets.sync.client import connect

    env = {} if setting is None else {"JOGO_WS_COMPRESSION": setting}
    with serving(database_url, **env) as base:
        ws_url = base.replace("http://", "ws://") + "/api/v1/live?token=not-a-token"
        with connect(ws_url, compression="deflate", open_timeout=10) as ws:
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
    assert ("permessage-deflate" in extensions) is deflate, extensions
