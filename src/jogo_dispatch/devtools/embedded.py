"""A project-managed PostgreSQL + PostGIS cluster for running without ``JOGO_DATABASE_URL``.

The cluster lives under a project directory (``.data/pg``) and is driven with the system's
PostgreSQL binaries, so a newcomer needs nothing but the Debian packages. It is a durable dev
store, not a throwaway test fixture: fsync and synchronous commit stay on and data survives
restarts.

PostgreSQL refuses to run as root, so when we are root every server-side command runs as an
unprivileged system user (``postgres`` if present, else a ``jogo`` system user created on
demand). That user must be able to reach the data directory; when a parent directory blocks it
(e.g. a checkout under ``/root``), the cluster is relocated under ``/var/lib/jogo-dispatch`` and
a pointer file in the project directory remembers where.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

Log = Callable[[str], None]

SUPERUSER = "jogo"
HOST = "127.0.0.1"
SYSTEM_USER = "jogo"
RELOCATION_ROOT = Path("/var/lib/jogo-dispatch")
POINTER_FILE = "relocated-to"
MANAGED_CONF = "jogo-dispatch.conf"
DPKG_LOCKS = (
    Path("/var/lib/dpkg/lock-frontend"),
    Path("/var/lib/dpkg/lock"),
    Path("/var/lib/apt/lists/lock"),
    Path("/var/cache/apt/archives/lock"),
)
# sun_path is 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107
READY_TIMEOUT_S = 60.0

# Laptop-sized dev server. Durability settings are spelled out (even where they equal the
# defaults) so nobody "speeds up" the dev store into one that loses data on a crash.
SERVER_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'256MB'",
    "effective_cache_size": "'1GB'",
    "max_wal_size": "'1GB'",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "logging_collector": "off",
    "log_line_prefix": "'%m [%p] %q%u@%d '",
}


class EmbeddedError(RuntimeError):
    """The embedded cluster could not be prepared, started or stopped."""


# --------------------------------------------------------------------------- binaries


def find_pg_bindir() -> Path:
    """Directory holding the PostgreSQL server binaries (initdb, pg_ctl, postgres)."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = _pg_config_value(Path(pg_config), "--bindir")
        # libpq-dev's pg_config answers /usr/bin even when no server is installed.
        if bindir is not None and (bindir / "initdb").is_file():
            return bindir
    candidates = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p, "initdb").is_file()]
    if candidates:
        return max(candidates, key=lambda p: _version_key(p.parent.name))
    raise EmbeddedError(
        "PostgreSQL server binaries not found: no initdb under `pg_config --bindir` or in "
        "/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `sudo apt-get install -y postgresql`) "
        "or set JOGO_DATABASE_URL to an existing database."
    )


def pg_major_version(bindir: Path) -> int:
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
        if match:
            return int(match.group(1))
    except (OSError, subprocess.SubprocessError):
        pass
    if bindir.parent.name.split(".")[0].isdigit():  # Debian layout: /usr/lib/postgresql/<ver>/bin
        return int(bindir.parent.name.split(".")[0])
    raise EmbeddedError(f"cannot tell the PostgreSQL version of {bindir}")


def postgis_available(bindir: Path) -> bool:
    return (_sharedir(bindir) / "extension" / "postgis.control").is_file()


def _sharedir(bindir: Path) -> Path:
    sharedir = _pg_config_value(bindir / "pg_config", "--sharedir")
    return sharedir or Path("/usr/share/postgresql") / str(pg_major_version(bindir))


def _pg_config_value(pg_config: Path, flag: str) -> Path | None:
    if not pg_config.is_file():
        return None
    try:
        proc = subprocess.run([str(pg_config), flag], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    value = proc.stdout.strip()
    return Path(value) if proc.returncode == 0 and value else None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


# --------------------------------------------------------------------------- PostGIS install


def ensure_postgis(bindir: Path, log: Log = print) -> None:
    """Install the PostGIS package matching ``bindir`` if it is missing (root only)."""
    if postgis_available(bindir):
        return
    major = pg_major_version(bindir)
    package = f"postgresql-{major}-postgis-3"
    if os.geteuid() != 0:
        raise EmbeddedError(
            f"PostGIS is not installed for PostgreSQL {major}. Install it with:\n"
            f"    sudo apt-get update && sudo apt-get install -y {package}"
        )
    if shutil.which("apt-get") is None:
        raise EmbeddedError(f"PostGIS is not installed for PostgreSQL {major} and apt-get is not available")
    log(f"PostGIS is missing for PostgreSQL {major}; installing {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # apt's own lock timeout closes the race between our check and its start.
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    for args in (["update"], ["install", "-y", package]):
        wait_for_dpkg_lock(log)
        _stream([*apt, *args], env, log)
    if not postgis_available(bindir):
        raise EmbeddedError(f"apt-get installed {package} but postgis.control is still missing in {bindir}")
    log(f"PostGIS installed ({package})")


def wait_for_dpkg_lock(
    log: Log, locks: Sequence[Path] = DPKG_LOCKS, timeout: float = 1800.0, poll: float = 2.0
) -> None:
    """Wait while another apt/dpkg run holds its locks, instead of failing or fighting it."""
    deadline = time.monotonic() + timeout
    last_notice = 0.0
    while (holder := lock_holder(locks)) is not None:
        now = time.monotonic()
        if now >= deadline:
            raise EmbeddedError(f"the dpkg lock is still held by pid {holder} after {timeout:.0f}s")
        if now - last_notice >= 30.0:
            log(f"waiting for another package manager run (pid {holder}) to release the dpkg lock")
            last_notice = now
        time.sleep(poll)


def lock_holder(paths: Iterable[Path]) -> int | None:
    """Pid holding a POSIX lock on any of ``paths``, read from /proc/locks without touching them."""
    inodes = set()
    for path in paths:
        with contextlib.suppress(OSError):
            inodes.add(path.stat().st_ino)
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        # "1: POSIX  ADVISORY  WRITE 3776 fe:00:1474572 0 EOF"; waiters have "->" after the index.
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->":
            continue
        # Match on inode only: st_dev and the device in /proc/locks disagree on some overlay setups.
        inode = fields[5].rsplit(":", 1)[-1]
        if inode.isdigit() and int(inode) in inodes and fields[4].isdigit():
            return int(fields[4])
    return None


def _stream(cmd: list[str], env: dict[str, str], log: Log) -> None:
    log(f"$ {' '.join(cmd)}")
    with subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                log(f"  {line.rstrip()}")
    if proc.returncode != 0:
        raise EmbeddedError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode} (output above)")


# --------------------------------------------------------------------------- OS user


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account that owns and runs the cluster when we are root."""

    name: str
    uid: int
    gid: int
    home: str

    @classmethod
    def from_pw(cls, pw: pwd.struct_passwd) -> RunAs:
        return cls(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)

    def groups(self) -> list[int]:
        return os.getgrouplist(self.name, self.gid)

    def can_traverse(self, directory: Path) -> bool:
        # Plain mode bits; ACLs are rare on the paths this guards and initdb would report them.
        st = directory.stat()
        if st.st_uid == self.uid:
            return bool(st.st_mode & stat.S_IXUSR)
        if st.st_gid in self.groups():
            return bool(st.st_mode & stat.S_IXGRP)
        return bool(st.st_mode & stat.S_IXOTH)

    def blocking_parent(self, path: Path) -> Path | None:
        for parent in reversed(path.parents):
            if not self.can_traverse(parent):
                return parent
        return None


def _system_user(log: Log) -> RunAs:
    for name in ("postgres", SYSTEM_USER):
        with contextlib.suppress(KeyError):
            return RunAs.from_pw(pwd.getpwnam(name))
    log(f"creating system user {SYSTEM_USER!r} to run PostgreSQL (it refuses to run as root)")
    proc = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--user-group", "-s", "/usr/sbin/nologin", SYSTEM_USER],
        capture_output=True,
        text=True,
    )
    try:
        return RunAs.from_pw(pwd.getpwnam(SYSTEM_USER))
    except KeyError:
        raise EmbeddedError(f"could not create system user {SYSTEM_USER!r}: {proc.stderr.strip()}") from None


def _chown_tree(root: Path, user: RunAs) -> None:
    if root.stat().st_uid == user.uid:
        return
    os.chown(root, user.uid, user.gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), user.uid, user.gid, follow_symlinks=False)


# --------------------------------------------------------------------------- ports and pid file


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option the postmaster uses, so a port in TIME_WAIT does not count as busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class PostmasterPid:
    pid: int
    port: int

    @classmethod
    def read(cls, data_dir: Path) -> PostmasterPid | None:
        try:
            lines = (data_dir / "postmaster.pid").read_text().splitlines()
            return cls(pid=int(lines[0]), port=int(lines[3]))
        except (OSError, IndexError, ValueError):
            return None

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def is_postgres(self) -> bool:
        try:
            comm = Path(f"/proc/{self.pid}/comm").read_text().strip()
        except OSError:
            return True  # cannot tell (e.g. hidepid): assume it is, never delete a live server's pid file
        return comm.startswith(("postgres", "postmaster"))


# --------------------------------------------------------------------------- the cluster


class EmbeddedPostgres:
    """A PostgreSQL cluster under ``base_dir`` (``data/``, ``run/``, ``port``, ``postgres.log``).

    ``port=None`` remembers a free port in the ``port`` file and moves to another one when that
    is taken; an explicit ``port`` is used as given and it is an error if it is busy.
    """

    def __init__(
        self,
        base_dir: Path,
        database: str = "jogo",
        port: int | None = None,
        log: Log = print,
        bindir: Path | None = None,
    ) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.database = database
        self.requested_port = port
        self.log = log
        self._bindir = bindir
        self._port: int | None = None
        self._user: RunAs | None = None  # None: run server programs as ourselves

    # ---- public API

    @property
    def url(self) -> str:
        if self._port is None:
            raise EmbeddedError("the embedded PostgreSQL has not been started")
        return self._url_for(self.database)

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def cluster_dir(self) -> Path:
        """Where the cluster really lives: ``base_dir``, or its relocation target."""
        try:
            return Path((self.base_dir / POINTER_FILE).read_text().strip())
        except OSError:
            return self.base_dir

    @property
    def data_dir(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.cluster_dir / "postgres.log"

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_pg_bindir()
        return self._bindir

    def start(self) -> str:
        if self._port is not None and self._ready(self._port):
            return self.url
        ensure_postgis(self.bindir, self.log)
        self._user = self._run_as()
        self._prepare_cluster_dir()
        with self._start_lock():
            port = self._running_port()
            if port is None:
                port = self._start_server()
            else:
                self.log(f"reusing PostgreSQL already running on {HOST}:{port} ({self.data_dir})")
            self._port = port
            self._ensure_database()
        return self.url

    def stop(self) -> None:
        pid = PostmasterPid.read(self.data_dir)
        if pid is None or not pid.alive():
            self.log("PostgreSQL is not running")
            self._port = None
            return
        self.log(f"stopping PostgreSQL on {HOST}:{pid.port}")
        self._user = self._run_as()
        self._pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        self._port = None

    # ---- directories and ownership

    def _run_as(self) -> RunAs | None:
        if os.geteuid() != 0:
            self._check_owned_by_me()
            return None
        # Keep using whoever created an existing cluster, even if a preferred user appears later.
        with contextlib.suppress(OSError, KeyError):
            owner = self.data_dir.stat().st_uid
            if owner != 0:
                return RunAs.from_pw(pwd.getpwuid(owner))
        return _system_user(self.log)

    def _check_owned_by_me(self) -> None:
        with contextlib.suppress(OSError):
            owner = self.data_dir.stat().st_uid
            if owner != os.geteuid():
                raise EmbeddedError(
                    f"{self.data_dir} belongs to uid {owner} (created by a root run?); run as that user "
                    f"or remove {self.cluster_dir} to start afresh"
                )

    def _prepare_cluster_dir(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._user
        if run_as is None:
            return
        if self.cluster_dir == self.base_dir:
            blocker = run_as.blocking_parent(self.base_dir)
            if blocker is not None:
                self._relocate(run_as, blocker)
        target = self.cluster_dir
        target.mkdir(parents=True, exist_ok=True)
        blocker = run_as.blocking_parent(target)
        if blocker is not None:
            raise EmbeddedError(f"user {run_as.name!r} cannot traverse {blocker} to reach {target}")
        _chown_tree(target, run_as)

    def _relocate(self, run_as: RunAs, blocker: Path) -> None:
        digest = hashlib.sha256(str(self.base_dir).encode()).hexdigest()[:12]
        target = RELOCATION_ROOT / f"pg-{digest}"
        self.log(
            f"user {run_as.name!r} (PostgreSQL cannot run as root) cannot traverse {blocker} "
            f"(mode {stat.S_IMODE(blocker.stat().st_mode):o}); keeping the cluster in {target} instead "
            f"of {self.base_dir}"
        )
        RELOCATION_ROOT.mkdir(exist_ok=True)
        RELOCATION_ROOT.chmod(0o755)  # a strict umask must not recreate the very problem we avoid
        target.mkdir(exist_ok=True)
        # Remembered so that later runs find the same data even if the permissions change.
        (self.base_dir / POINTER_FILE).write_text(f"{target}\n")

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        # Two processes (e.g. uvicorn workers) starting at once must not both initdb or pick ports.
        lock_file = self.cluster_dir / ".start.lock"
        with lock_file.open("a") as handle:
            self._own(lock_file)
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ---- server lifecycle

    def _running_port(self) -> int | None:
        pid = PostmasterPid.read(self.data_dir)
        if pid is None or not pid.alive():
            return None  # no server, or a stale pid file that the postmaster itself will clear
        if not pid.is_postgres():
            # After a container restart the old pid may belong to an unrelated process, which
            # would make the postmaster refuse to start.
            self.log(f"removing stale postmaster.pid (pid {pid.pid} is no longer PostgreSQL)")
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
            return None
        self._wait_ready(pid.port)  # may still be starting or in crash recovery
        return pid.port

    def _start_server(self) -> int:
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb()
        for attempt in range(3):
            port = self._choose_port(fresh=attempt > 0)
            self._write_config(port)
            self.log(f"starting PostgreSQL on {HOST}:{port} (log: {self.log_file})")
            log_offset = self._log_size()
            try:
                self._pg("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
                         "start")  # fmt: skip
            except EmbeddedError as exc:
                # Someone may have taken the port between our check and the postmaster's bind.
                if self.requested_port is None and "could not bind" in self._log_since(log_offset):
                    continue
                raise self._failure(f"PostgreSQL did not start ({exc})") from None
            self._wait_ready(port)
            return port
        raise self._failure("PostgreSQL could not bind a port after 3 attempts")

    def _initdb(self) -> None:
        self.log(f"initialising PostgreSQL cluster in {self.data_dir}")
        base = [
            "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
            "--data-checksums",
        ]  # fmt: skip
        try:
            self._pg(*base, "--locale=C.UTF-8")
        except EmbeddedError as exc:
            self.log(f"initdb with --locale=C.UTF-8 failed ({exc}); retrying with --no-locale")
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._pg(*base, "--no-locale")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\n# Settings managed by jogo-dispatch; ALTER SYSTEM still overrides them.\n")
            handle.write(f"include_if_exists = '{MANAGED_CONF}'\n")

    def _choose_port(self, fresh: bool) -> int:
        if self.requested_port is not None:
            if not port_is_free(self.requested_port):
                raise EmbeddedError(f"port {self.requested_port} on {HOST} is already in use")
            return self.requested_port
        port_file = self.cluster_dir / "port"
        remembered = _read_int(port_file)
        if remembered is not None and not fresh and port_is_free(remembered):
            return remembered
        port = free_port()
        if remembered is not None:
            self.log(f"port {remembered} is busy; using {port} instead")
        port_file.write_text(f"{port}\n")
        self._own(port_file)
        return port

    def _write_config(self, port: int) -> None:
        socket_dir = self.cluster_dir / "run"
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        self._own(socket_dir)
        if len(str(socket_dir / f".s.PGSQL.{port}")) > MAX_SOCKET_PATH:
            # A too-long socket path is fatal to the postmaster; we connect over TCP anyway.
            self.log(f"{socket_dir} is too long for a Unix socket path; listening on TCP only")
            socket_dirs = ""
        else:
            socket_dirs = str(socket_dir)
        settings = {
            "listen_addresses": f"'{HOST}'",
            "port": str(port),
            "unix_socket_directories": _quote_conf(socket_dirs),
            "unix_socket_permissions": "0700",
            **SERVER_SETTINGS,
        }
        lines = [
            "# Rewritten by jogo_dispatch.devtools.embedded on every start; use ALTER SYSTEM to override."
        ]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        conf = self.data_dir / MANAGED_CONF
        conf.write_text("\n".join(lines) + "\n")
        self._own(conf)

    def _ready(self, port: int) -> bool:
        proc = subprocess.run(
            [str(self.bindir / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-U", SUPERUSER,
             "-d", "postgres", "-t", "2"],
            capture_output=True,
            env=_clean_env(),
        )  # fmt: skip
        return proc.returncode == 0

    def _wait_ready(self, port: int, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready(port):
            if time.monotonic() >= deadline:
                raise self._failure(f"PostgreSQL on {HOST}:{port} did not become ready within {timeout:.0f}s")
            time.sleep(0.2)

    def _ensure_database(self) -> None:
        with psycopg.connect(self._url_for("postgres"), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if exists is None:
                self.log(f"creating database {self.database!r}")
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    # ---- helpers

    def _url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self._port}/{quote(database, safe='')}"

    def _own(self, path: Path) -> None:
        # Files we write as root must stay writable for the server user (and a later non-root run).
        if self._user is not None:
            os.chown(path, self._user.uid, self._user.gid)

    def _pg(self, program: str, *args: str) -> None:
        """Run a PostgreSQL server program, as the unprivileged user when we are root."""
        run_as = self._user
        env = _clean_env()
        if run_as is not None:
            env["HOME"] = run_as.home
        proc = subprocess.run(
            [str(self.bindir / program), *args],
            cwd=self.cluster_dir,  # the caller's cwd may be unreadable for the server user
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=run_as.groups() if run_as else None,
        )
        if proc.returncode != 0:
            output = (proc.stderr or proc.stdout).strip()
            raise EmbeddedError(f"{program} exited with {proc.returncode}: {output}")

    def _log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_file.open("rb") as handle:
                handle.seek(offset)
                return handle.read().decode(errors="replace")
        except OSError:
            return ""

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _failure(self, message: str) -> EmbeddedError:
        tail = self._log_tail()
        detail = f"\n--- last lines of {self.log_file} ---\n{tail}" if tail else ""
        return EmbeddedError(f"{message}; see {self.log_file}{detail}")


def _clean_env() -> dict[str, str]:
    # PGDATA, PGPORT, PGHOST... from the developer's shell must not redirect our commands.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _quote_conf(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
