"""``jogo-dispatch run`` (what ``./scripts/run`` execs) is stopped by Ctrl-C in its terminal (SIGINT to the
whole process group) or by SIGTERM: the simulator, the server and the project-managed PostgreSQL are all
gone within seconds, and nothing keeps printing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from jogo_dispatch.devtools.embedded import EmbeddedPostgres, PostmasterPid
from tests.conftest import free_port
from tests.test_cli import EXE


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_run_stops_simulator_server_and_database(how):
    data = Path(tempfile.mkdtemp(prefix="jogo-run-test-"))
    data.chmod(0o755)  # the unprivileged PostgreSQL user must reach it when we are root
    env = {k: v for k, v in os.environ.items() if k != "JOGO_DATABASE_URL"}
    env.update(JOGO_DATA_DIR=str(data), JOGO_LOG_JSON="false")
    proc = subprocess.Popen(
        [EXE, "run", "--port", str(free_port()), "--officers", "3", "--interval", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    postmaster = None
    children: set[int] = set()
    try:
        assert ready.wait(180), "".join(lines[-30:])
        time.sleep(3)  # the simulator is enrolled and sending
        children = _descendants(proc.pid)
        postmaster = PostmasterPid.read(EmbeddedPostgres(data / "pg").data_dir)
        assert postmaster is not None and postmaster.alive()
        assert len(children) >= 2, children  # server and simulator
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(5)
        left = [pid for pid in children if _alive(pid)]
        assert left == [], left
        assert not _alive(postmaster.pid), "".join(lines[-20:])  # a zombie is gone too
        after = len(lines)
        time.sleep(2)
        assert len(lines) == after  # nothing of it keeps printing
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in children | _descendants(proc.pid):  # in their own sessions: not in the group
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if postmaster is not None and _alive(postmaster.pid):
            os.kill(postmaster.pid, signal.SIGQUIT)
        shutil.rmtree(data, ignore_errors=True)
