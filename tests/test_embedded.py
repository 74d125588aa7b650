"""The project-managed PostgreSQL + PostGIS cluster, against the real system binaries.

Run as root (as on the dev machines) this exercises the unprivileged-user path: the server
must end up running as a non-root account that owns the data directory.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jogo_dispatch.devtools import embedded
from jogo_dispatch.devtools.embedded import (
    EmbeddedError,
    EmbeddedPostgres,
    PostmasterPid,
    ensure_postgis,
    find_pg_bindir,
    lock_holder,
    pg_major_version,
    postgis_available,
    wait_for_dpkg_lock,
)

IS_ROOT = os.geteuid() == 0
URL_RE = re.compile(r"postgresql://jogo@127\.0\.0\.1:(\d+)/jogo")


def _quiet(_: str) -> None:
    pass


def _one(url: str, query: str) -> Any:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(query).fetchone()
        assert row is not None
        return row[0]


def _port_of(url: str) -> int:
    match = URL_RE.fullmatch(url)
    assert match, url
    return int(match.group(1))


def _traversable_tmpdir(prefix: str) -> Path:
    # pytest's tmp_path lives under /tmp/pytest-of-root (mode 700), which the unprivileged
    # server user cannot traverse; these tests want a reachable directory.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def bindir() -> Path:
    path = find_pg_bindir()
    ensure_postgis(path)  # as root this installs the package if the machine lacks it
    return path


@pytest.fixture(scope="module")
def cluster(bindir: Path) -> Iterator[tuple[EmbeddedPostgres, list[str]]]:
    root = _traversable_tmpdir("jogo-embedded-test-")
    lines: list[str] = []
    pg = EmbeddedPostgres(root / "pg", log=lines.append)
    pg.start()
    yield pg, lines
    pg.stop()
    shutil.rmtree(root)


def test_find_pg_bindir_has_server_binaries(bindir: Path) -> None:
    for program in ("initdb", "pg_ctl", "postgres", "pg_isready"):
        assert (bindir / program).is_file()
    assert pg_major_version(bindir) >= 12
    assert postgis_available(bindir)


def test_first_start_creates_a_postgis_cluster(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, lines = cluster
    port = _port_of(pg.url)
    base = pg.base_dir
    assert (base / "port").read_text().strip() == str(port)
    assert f"initialising PostgreSQL cluster in {base / 'data'}" in lines
    assert any(line.startswith(f"starting PostgreSQL on 127.0.0.1:{port}") for line in lines)

    assert _one(pg.url, "SELECT postgis_full_version()").startswith('POSTGIS="3')
    assert _one(pg.url, "SELECT current_setting('listen_addresses')") == "127.0.0.1"
    assert _one(pg.url, "SELECT current_setting('unix_socket_directories')") == str(base / "run")
    assert (base / "run" / f".s.PGSQL.{port}").is_socket()
    assert _one(pg.url, "SELECT current_setting('fsync')") == "on"
    assert _one(pg.url, "SELECT current_setting('synchronous_commit')") == "on"
    assert _one(pg.url, "SELECT current_setting('shared_buffers')") == "256MB"
    assert _one(pg.url, "SELECT current_setting('max_connections')") == "200"
    encoding = "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()"
    assert _one(pg.url, encoding) == "UTF8"
    assert _one(pg.url, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is True
    assert "database system is ready to accept connections" in (base / "postgres.log").read_text()


@pytest.mark.skipif(not IS_ROOT, reason="the unprivileged-user path only runs as root")
def test_server_runs_as_unprivileged_owner_of_the_data(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, _ = cluster
    pid = PostmasterPid.read(pg.data_dir)
    assert pid is not None
    owner = pg.data_dir.stat().st_uid
    assert owner != 0
    assert Path(f"/proc/{pid.pid}").stat().st_uid == owner
    assert pg.base_dir.stat().st_uid == owner


def test_start_is_idempotent(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, _ = cluster
    url = pg.url
    started_at = _one(url, "SELECT pg_postmaster_start_time()")
    assert pg.start() == url

    lines: list[str] = []
    assert EmbeddedPostgres(pg.base_dir, log=lines.append).start() == url
    assert any(line.startswith("reusing PostgreSQL already running") for line in lines)
    assert _one(url, "SELECT pg_postmaster_start_time()") == started_at


def test_data_survives_stop_and_start(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, lines = cluster
    url = pg.url
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE survivor (id int PRIMARY KEY, geom geometry(Point, 4326))")
        conn.execute("INSERT INTO survivor VALUES (1, ST_SetSRID(ST_MakePoint(3.38, 6.52), 4326))")

    pg.stop()
    assert not (pg.data_dir / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)

    assert pg.start() == url  # remembered port is free again, so it is reused
    assert _one(url, "SELECT ST_AsText(geom) FROM survivor WHERE id = 1") == "POINT(3.38 6.52)"
    assert sum(line.startswith("initialising") for line in lines) == 1


def test_port_file_is_respected(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, _ = cluster
    pg.stop()
    wanted = embedded.free_port()
    (pg.base_dir / "port").write_text(f"{wanted}\n")

    fresh = EmbeddedPostgres(pg.base_dir, log=_quiet)
    assert _port_of(fresh.start()) == wanted
    assert _one(fresh.url, "SELECT count(*) FROM survivor") == 1
    assert pg.start() == fresh.url


def test_busy_remembered_port_moves_to_another(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, lines = cluster
    old_port = _port_of(pg.url)
    pg.stop()
    with socket.socket() as squatter:
        # The server's side of closed connections sits in TIME_WAIT; the postmaster ignores that too.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", old_port))
        squatter.listen()
        new_port = _port_of(pg.start())
    assert new_port != old_port
    assert (pg.base_dir / "port").read_text().strip() == str(new_port)
    assert f"port {old_port} is busy; using {new_port} instead" in lines
    assert _one(pg.url, "SELECT count(*) FROM survivor") == 1


def test_stale_pid_files_do_not_block_start(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, lines = cluster
    pid_file = pg.data_dir / "postmaster.pid"
    port = _port_of(pg.url)

    # Crash leftover whose pid is gone: PostgreSQL clears it by itself.
    pg.stop()
    dead = subprocess.Popen(["true"])
    dead.wait()
    pid_file.write_text(f"{dead.pid}\n{pg.data_dir}\n0\n{port}\n\n127.0.0.1\n\nready\n")
    assert pg.start() == f"postgresql://jogo@127.0.0.1:{port}/jogo"

    # Leftover whose pid now belongs to an unrelated process (typical after a container restart):
    # the postmaster would refuse to start, so it must be removed first.
    pg.stop()
    with subprocess.Popen(["sleep", "30"]) as unrelated:
        try:
            pid_file.write_text(f"{unrelated.pid}\n{pg.data_dir}\n0\n{port}\n\n127.0.0.1\n\nready\n")
            assert _port_of(pg.start()) == port
        finally:
            unrelated.kill()
    assert f"removing stale postmaster.pid (pid {unrelated.pid} is no longer PostgreSQL)" in lines
    assert _one(pg.url, "SELECT count(*) FROM survivor") == 1


def test_failed_start_points_at_the_log(cluster: tuple[EmbeddedPostgres, list[str]]) -> None:
    pg, _ = cluster
    auto_conf = pg.data_dir / "postgresql.auto.conf"
    original = auto_conf.read_text()
    pg.stop()
    try:
        auto_conf.write_text(original + "shared_buffers = 'plenty'\n")
        with pytest.raises(EmbeddedError) as failure:
            pg.start()
        message = str(failure.value)
        assert str(pg.log_file) in message
        assert 'invalid value for parameter "shared_buffers"' in message
    finally:
        auto_conf.write_text(original)
    assert _one(pg.start(), "SELECT count(*) FROM survivor") == 1


@pytest.mark.skipif(not IS_ROOT, reason="relocation only happens when running as root")
def test_relocates_when_the_server_user_cannot_reach_base_dir(
    bindir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    base = private / "project" / ".data" / "pg"
    relocation_root = _traversable_tmpdir("jogo-relocated-")
    monkeypatch.setattr(embedded, "RELOCATION_ROOT", relocation_root / "jogo-dispatch")
    lines: list[str] = []
    pg = EmbeddedPostgres(base, log=lines.append, bindir=bindir)
    try:
        url = pg.start()
        assert pg.cluster_dir.parent == relocation_root / "jogo-dispatch"
        assert (base / "relocated-to").read_text().strip() == str(pg.cluster_dir)
        # The first blocker is pytest's own /tmp/pytest-of-root (mode 700), or else `private`.
        notice = next(line for line in lines if "cannot traverse" in line)
        assert "(mode 700)" in notice and str(pg.cluster_dir) in notice
        assert (pg.cluster_dir / "data" / "PG_VERSION").is_file()
        assert not (base / "data").exists()
        assert _one(url, "SELECT postgis_lib_version()").startswith("3.")
        # A later run finds the relocated cluster through the pointer file.
        assert EmbeddedPostgres(base, log=_quiet, bindir=bindir).start() == url
    finally:
        pg.stop()
        shutil.rmtree(relocation_root)


def test_ensure_postgis_without_root_names_the_command(bindir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "postgis_available", lambda _: False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    package = f"postgresql-{pg_major_version(bindir)}-postgis-3"
    with pytest.raises(EmbeddedError, match=f"sudo apt-get install -y {package}"):
        ensure_postgis(bindir)


def test_ensure_postgis_as_root_installs_with_apt(bindir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = iter([False, True])
    calls: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(embedded, "postgis_available", lambda _: next(installed))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(embedded, "lock_holder", lambda _: None)
    monkeypatch.setattr(embedded, "_stream", lambda cmd, env, log: calls.append((cmd, env)))
    lines: list[str] = []
    ensure_postgis(bindir, lines.append)

    package = f"postgresql-{pg_major_version(bindir)}-postgis-3"
    assert [cmd[0] for cmd, _ in calls] == ["apt-get", "apt-get"]
    assert calls[0][0][-1] == "update"
    assert calls[1][0][-3:] == ["install", "-y", package]
    assert all(env["DEBIAN_FRONTEND"] == "noninteractive" for _, env in calls)
    assert lines[-1] == f"PostGIS installed ({package})"


def test_lock_holder_reads_real_posix_locks(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    lock.touch()
    assert lock_holder([lock]) is None
    with lock.open("w") as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX)
        assert lock_holder([lock, tmp_path / "missing"]) == os.getpid()
    assert lock_holder([lock]) is None


def test_wait_for_dpkg_lock_waits_for_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    lock.touch()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.lockf(f, fcntl.LOCK_EX); "
         "print('locked', flush=True); time.sleep(1)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    lines: list[str] = []
    began = time.monotonic()
    wait_for_dpkg_lock(lines.append, locks=[lock], timeout=20, poll=0.1)
    assert time.monotonic() - began > 0.3
    assert holder.wait(timeout=5) == 0
    assert lines == [f"waiting for another package manager run (pid {holder.pid}) to release the dpkg lock"]
