"""The ``run`` and ``simulate`` commands' work: demo data, a served process and the simulated city.

Everything of ``jogo_dispatch.devtools`` (embedded PostgreSQL, demo seeding, the simulator) is imported
inside the function that needs it, so the service's commands never load it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from jogo_dispatch.cli import in_session, resolve_settings, say
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


def run(host: str, port: int, officers: int, mix: str, city: City) -> None:
    from jogo_dispatch.devtools.demo import DEMO_PASSWORD
    from jogo_dispatch.devtools.sim.officers import parse_mix
    from jogo_dispatch.platform.migrations import upgrade_head

    settings = resolve_settings()
    say("migrating the schema")
    upgrade_head(settings.database_url or "")
    say(f"loading the {settings.region} region pack and demo data ({officers} simulated officers)")
    _seed_region(settings, settings.region)
    fleet = _seed(settings, officers)
    env = {**os.environ, "JOGO_DATABASE_URL": settings.database_url or ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "jogo_dispatch.cli", "serve", "--host", host, "--port", str(port)], env=env
    )
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    try:
        _wait_ready(base, server)
        typer.echo("")
        typer.echo(
            f"  live map:   {base}/map     (login: dispatcher / {DEMO_PASSWORD}; admin / {DEMO_PASSWORD})"
        )
        typer.echo(f"  API docs:   {base}/docs")
        typer.echo(f"  database:   {settings.database_url}")
        typer.echo("  Ctrl-C stops everything.")
        typer.echo("")
        if fleet:
            _simulate_city(base, fleet, parse_mix(mix), city)
        else:
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


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
