"""The ``run`` and ``simulate`` commands' work: demo data, a served process and the simulated city.

Everything of ``jogo_dispatch.devtools`` (embedded PostgreSQL, demo seeding, the simulator) is imported
inside the function that needs it, so the service's commands never load it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from jogo_dispatch.cli.common import in_session, load_settings, resolve_settings, say
from jogo_dispatch.settings import Settings

if TYPE_CHECKING:
    from jogo_dispatch.devtools.demo import SimOfficer
    from jogo_dispatch.devtools.sim.city import CityStats


def _seed(settings: Settings, officers: int) -> list[SimOfficer]:
    from jogo_dispatch.devtools.demo import seed_demo
    from jogo_dispatch.platform.security import Passwords

    return in_session(settings, lambda session: seed_demo(session, Passwords(), officers))


def _seed_region(settings: Settings, region: str) -> None:
    from jogo_dispatch.agencies import service
    from jogo_dispatch.agencies.regions import packs

    pack = packs.load(region)
    in_session(settings, lambda session: service.seed_region(session, pack, lambda _m: None))


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}; see the log lines above")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server not ready after {timeout_s:.0f}s")


@dataclass(frozen=True, slots=True)
class City:
    """How the simulated city behaves (the options ``run`` and ``simulate`` share)."""

    interval: float
    duration: float | None
    reports_per_min: float
    sos_per_min: float
    auto_dispatch: bool


def _simulate_city(base_url: str, fleet: list[SimOfficer], shares: dict[str, float], city: City) -> CityStats:
    from jogo_dispatch.devtools.sim.city import simulate as simulate_city
    from jogo_dispatch.devtools.sim.officers import make_walkers

    return asyncio.run(
        simulate_city(
            base_url,
            make_walkers(fleet),
            mix=shares,
            interval_s=city.interval,
            duration_s=city.duration,
            reports_per_min=city.reports_per_min,
            sos_per_min=city.sos_per_min,
            auto_dispatch=city.auto_dispatch,
            log=say,
        )
    )


class _Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop like Ctrl-C does."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _stop_child(proc: subprocess.Popen[bytes] | None, name: str, grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``: the child and everything in its session."""
    if proc is None or proc.poll() is not None:
        return
    say(f"stopping the {name}")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run(host: str, port: int, officers: int, mix: str, city: City) -> None:
    """Supervise the main job: the project-managed PostgreSQL (unless JOGO_DATABASE_URL), the server and
    the simulated city, each child in its own session so a Ctrl-C in the terminal reaches only this
    process, which then stops them in order (city, server, database). SIGTERM and SIGHUP do the same."""
    from jogo_dispatch.devtools.demo import DEMO_PASSWORD
    from jogo_dispatch.devtools.sim.officers import parse_mix
    from jogo_dispatch.platform.migrations import upgrade_head

    try:
        parse_mix(mix)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stop)
    pg = None
    failed = False
    server: subprocess.Popen[bytes] | None = None
    simulator: subprocess.Popen[bytes] | None = None
    try:
        settings = load_settings()
        if not settings.database_url:
            from jogo_dispatch.devtools.embedded import EmbeddedPostgres

            pg = EmbeddedPostgres(settings.data_dir.resolve() / "pg", log=say)
            settings = settings.model_copy(update={"database_url": pg.start()})
        say("migrating the schema")
        upgrade_head(settings.database_url or "")
        say(f"loading the {settings.region} region pack and demo data ({officers} simulated officers)")
        _seed_region(settings, settings.region)
        _seed(settings, 0)  # the demo logins; the simulator enrols its officers itself
        # Children stop by themselves should this process be killed outright (SIGKILL runs no cleanup).
        env = {
            # The simulated city runs in minutes, not hours: welfare checks come round after 3 minutes on
            # scene unless the newcomer set their own interval.
            "JOGO_WELFARE_INTERVAL_S": "180",
            **os.environ,
            "JOGO_DATABASE_URL": settings.database_url or "",
            "JOGO_EXIT_WITH_PARENT": "true",
            "JOGO_SUPERVISOR_PID": str(os.getpid()),
        }
        cli = [sys.executable, "-m", "jogo_dispatch.cli"]
        server = subprocess.Popen(
            [*cli, "serve", "--host", host, "--port", str(port)], env=env, start_new_session=True
        )
        base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        _wait_ready(base, server)
        typer.echo("")
        typer.echo(f"  home:       {base}/")
        typer.echo(
            f"  live map:   {base}/map     (login: dispatcher / {DEMO_PASSWORD}; admin / {DEMO_PASSWORD})"
        )
        typer.echo(f"  phone app:  {base}/app")
        typer.echo(f"  API docs:   {base}/docs")
        typer.echo(f"  database:   {settings.database_url}")
        typer.echo("  Ctrl-C stops everything.")
        typer.echo("")
        if officers > 0:
            simulator = subprocess.Popen(
                [*cli, "simulate", "--base-url", base, "--officers", str(officers), "--mix", mix,
                 "--interval", str(city.interval), "--reports-per-min", str(city.reports_per_min),
                 "--sos-per-min", str(city.sos_per_min),
                 "--auto-dispatch" if city.auto_dispatch else "--no-auto-dispatch",
                 *(["--duration", str(city.duration)] if city.duration is not None else [])],
                env=env, start_new_session=True,
            )  # fmt: skip
        while server.poll() is None and (simulator is None or simulator.poll() is None):
            time.sleep(0.2)
        if server.returncode is not None:
            say(f"the server exited with code {server.returncode}")
            failed = True
    except (KeyboardInterrupt, _Stop):
        say("stopping")
    finally:
        # A second Ctrl-C while stopping must not leave anything behind: finish the stop first.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop_child(simulator, "simulator", grace_s=5)
        _stop_child(server, "server")
        if pg is not None:
            pg.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if failed:
        raise typer.Exit(1)


def simulate(base_url: str, officers: int, mix: str, city: City) -> None:
    from jogo_dispatch.devtools.sim.officers import parse_mix

    settings = resolve_settings()
    try:
        shares = parse_mix(mix)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    fleet = _seed(settings, officers)
    say(f"{len(fleet)} officers -> {base_url} ({', '.join(f'{k} {v:.0%}' for k, v in shares.items())})")
    try:
        stats = _simulate_city(base_url, fleet, shares, city)
    except KeyboardInterrupt:
        return
    typer.echo(stats.line())
