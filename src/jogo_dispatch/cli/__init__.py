"""The ``jogo-dispatch`` command: the service's commands here, officers and their phones in
``cli.officers``, the demo and the simulator in ``cli.dev`` (which alone loads ``devtools``)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.cli import officers
from jogo_dispatch.cli.common import fail, in_session, resolve_settings, say

DEFAULT_MIX = "http=0.4,ws=0.3,osmand=0.2,owntracks=0.1"
app = typer.Typer(add_completion=False, no_args_is_help=True, help="jogo-dispatch: police dispatch engine")

# Options the simulating commands (run, simulate) share.
Duration = Annotated[float | None, typer.Option(help="stop after this many seconds")]
ReportsPerMin = Annotated[float, typer.Option(help="citizen reports per minute")]
SosPerMin = Annotated[float, typer.Option(help="citizen SOS presses per minute")]
AutoDispatch = Annotated[bool, typer.Option(help="a simulated duty operator verifies and dispatches")]


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest migration (alembic upgrade head)."""
    from jogo_dispatch.platform.migrations import upgrade_head

    settings = resolve_settings()
    upgrade_head(settings.database_url or "")
    say("database schema is at head")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run the HTTP/websocket server."""
    import uvicorn

    settings = resolve_settings()
    if workers > 1 and settings.pubsub == "memory":
        # Each worker would have its own bus: a ping in one never reaches the live map of another.
        typer.echo(
            "error: --workers > 1 needs JOGO_PUBSUB=postgres (the in-memory bus is per process)", err=True
        )
        raise typer.Exit(2)
    if workers > 1:
        os.environ["JOGO_EXIT_WITH_PARENT"] = "true"  # workers die with their supervisor
        os.environ["JOGO_SUPERVISOR_PID"] = str(os.getpid())  # whoever it is when a worker gets going
    uvicorn.run(
        "jogo_dispatch.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # X-Forwarded-For only from the proxies named in JOGO_TRUSTED_PROXIES (uvicorn's default would
        # believe any local client, which would let it pick the address the login limits count).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or "",
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws_per_message_deflate=settings.ws_compression,
    )


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="citizen, officer, dispatcher, agency or admin")],
    full_name: Annotated[str | None, typer.Option("--name")] = None,
    agency: Annotated[
        str | None, typer.Option(help="agency code (e.g. PLN) an agency login acts for, in JOGO_REGION")
    ] = None,
) -> None:
    """Create a login (an agency login is bound to its agency with --agency)."""
    from sqlalchemy import select

    from jogo_dispatch.accounts import service
    from jogo_dispatch.agencies.models import Agency
    from jogo_dispatch.errors import InvalidInput, NotFound
    from jogo_dispatch.forwards.agency_admin import create_agency_user
    from jogo_dispatch.platform.security import Passwords

    settings = resolve_settings()
    if (role == "agency") != (agency is not None):
        typer.echo("error: --agency CODE goes with --role agency, and an agency login needs one", err=True)
        raise typer.Exit(2)

    async def work(session: AsyncSession) -> int:
        if agency is None:
            user = await service.create_user(
                session, Passwords(), username=username, password=password, role=role, full_name=full_name
            )
            return user.id
        found = await session.scalar(
            select(Agency.id).where(Agency.region == settings.region, Agency.code == agency)
        )
        if found is None:
            raise NotFound(f"no agency {agency!r} in region {settings.region}", code="agency_not_found")
        if not username:
            raise InvalidInput("username is empty")
        user, _ = await create_agency_user(
            session,
            Passwords(),
            found,
            username=username,
            password=password,
            full_name=full_name,
            actor_id=None,
        )
        return user.id

    try:
        user_id = in_session(settings, work)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    typer.echo(
        f"created user {username} (id {user_id}, role {role}" + (f", agency {agency})" if agency else ")")
    )


@app.command("create-officer")
def create_officer(
    badge: Annotated[str, typer.Option(help="badge number; also the officer's login name")],
    name: Annotated[str, typer.Option()],
    unit_type: Annotated[str, typer.Option(help="car, motorbike or foot")],
    password: Annotated[str | None, typer.Option(help="login password (generated when omitted)")] = None,
    device_id: Annotated[
        str | None, typer.Option(help="phone's device identifier (Traccar/OwnTracks id)")
    ] = None,
    sector: Annotated[str | None, typer.Option(help="police sector")] = None,
) -> None:
    """Create an officer and the officer's login (username = badge)."""
    from jogo_dispatch.platform.security import Passwords
    from jogo_dispatch.tracking import service
    from jogo_dispatch.tracking.schemas import OfficerCreate

    settings = resolve_settings()
    pw = password or secrets.token_urlsafe(9)
    try:
        data = OfficerCreate(
            badge=badge, name=name, unit_type=unit_type, password=pw, sector=sector, device_id=device_id
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def work(session: AsyncSession) -> int:
        return (await service.create_officer(session, Passwords(), data)).id

    try:
        officer_id = in_session(settings, work)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    typer.echo(
        f"created officer {badge} (id {officer_id}); login: {badge}" + ("" if password else f" / {pw}")
    )


@app.command("create-api-key")
def create_api_key(
    label: Annotated[str, typer.Option(help="who the key is for (shown in listings)")],
) -> None:
    """Create an Open311 API key. The key is printed once; only its hash is stored."""
    from jogo_dispatch.open311 import keys as service

    settings = resolve_settings()

    async def work(session: AsyncSession) -> tuple[int, str]:
        row, key = await service.create_api_key(session, label)
        return row.id, key

    try:
        key_id, key = in_session(settings, work)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    say(f"API key {key_id} ({label}) created; it is shown only now")
    typer.echo(key)


@app.command()
def run(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    officers: Annotated[int, typer.Option(help="simulated officers (0 = none)")] = 840,
    interval: Annotated[float, typer.Option(help="seconds between one officer's pings")] = 3.0,
    duration: Duration = None,
    mix: Annotated[str, typer.Option(help="protocol shares")] = DEFAULT_MIX,
    reports_per_min: ReportsPerMin = 4.0,
    sos_per_min: SosPerMin = 0.5,
    auto_dispatch: AutoDispatch = True,
) -> None:
    """The main job: database (project-managed PostGIS unless JOGO_DATABASE_URL), schema, demo data,
    the server, simulated officers, and the live map URL."""
    from jogo_dispatch.cli import dev as cli_dev

    city = cli_dev.City(interval, duration, reports_per_min, sos_per_min, auto_dispatch)
    cli_dev.run(host, port, officers, mix, city)


@app.command()
def simulate(
    base_url: Annotated[str, typer.Option(help="server to drive")] = "http://127.0.0.1:8000",
    officers: Annotated[int, typer.Option(help="simulated officers")] = 840,
    interval: Annotated[float, typer.Option(help="seconds between one officer's fixes")] = 3.0,
    duration: Duration = None,
    mix: Annotated[
        str, typer.Option(help="protocol shares, e.g. http=0.4,ws=0.3,osmand=0.2,owntracks=0.1")
    ] = DEFAULT_MIX,
    reports_per_min: ReportsPerMin = 4.0,
    sos_per_min: SosPerMin = 0.5,
    auto_dispatch: AutoDispatch = True,
) -> None:
    """Officers patrolling Malang and streaming through the real phone protocols, citizens reporting and
    pressing SOS, officers taking offers and driving to the scene (needs the server's database to enrol
    the simulated officers' devices and the demo logins)."""
    from jogo_dispatch.cli import dev as cli_dev

    city = cli_dev.City(interval, duration, reports_per_min, sos_per_min, auto_dispatch)
    cli_dev.simulate(base_url, officers, mix, city)


@app.command("render-maps")
def render_maps(
    out: Annotated[Path, typer.Option(help="directory for the HTML files")] = Path("maps"),
    hours: Annotated[float, typer.Option(help="time window (heatmap, track), hours back from now")] = 24.0,
    officer: Annotated[str | None, typer.Option(help="badge of an officer whose track to render")] = None,
    target_eta: Annotated[float, typer.Option(help="coverage target ETA in seconds")] = 600.0,
) -> None:
    """Render self-contained folium maps: incident heatmap by H3 cell, coverage gaps, an officer's track."""
    from jogo_dispatch.maps.service import render_all

    settings = resolve_settings()
    try:
        in_session(
            settings,
            lambda session: render_all(
                session, settings, out, hours=hours, badge=officer, target_eta_s=target_eta, log=say
            ),
        )
    except Exception as exc:  # noqa: BLE001
        fail(exc)


@app.command()
def seed(
    region: Annotated[str, typer.Option(help="region pack: malang or cilacap")],
) -> None:
    """Load a region pack (police sectors, agencies, hospitals, routing rules, categories) into the database.
    Idempotent: rows are upserted by code; rules and agencies added through the API are kept."""
    from jogo_dispatch.agencies import service
    from jogo_dispatch.agencies.regions import packs

    settings = resolve_settings()
    try:
        pack = packs.load(region)
    except packs.PackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    say(f"seeding region {region}: {pack.name}")
    try:
        in_session(settings, lambda session: service.seed_region(session, pack, say))
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    typer.echo(
        f"region {region} loaded: {len(pack.sectors)} police sectors, {len(pack.agencies)} agencies "
        f"({len(pack.hospitals)} hospitals), {len(pack.rules)} routing rules"
    )


app.command("import-officers")(officers.import_officers)
app.add_typer(officers.devices, name="devices")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
