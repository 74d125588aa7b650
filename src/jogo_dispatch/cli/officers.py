"""Officers and their phones from the command line: register, list and revoke a phone; import a roster
from CSV (the same checks as the admin console: ``tracking.roster``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.cli.common import fail, in_session, resolve_settings, say
from jogo_dispatch.settings import Settings

devices = typer.Typer(no_args_is_help=True, help="an officer's phones: register, list, revoke")


def _officer_id(settings: Settings, badge: str) -> int:
    from jogo_dispatch.errors import NotFound
    from jogo_dispatch.tracking import repository

    async def work(session: AsyncSession) -> int:
        officer = await repository.officer_by_badge(session, badge)
        if officer is None:
            raise NotFound(f"no officer with badge {badge!r}", code="officer_not_found")
        return officer.id

    try:
        return in_session(settings, work)
    except Exception as exc:  # noqa: BLE001
        fail(exc)


@devices.command("add")
def devices_add(
    badge: Annotated[str, typer.Option(help="the officer's badge")],
    identifier: Annotated[str, typer.Option(help="the phone's device id (Traccar Client / OwnTracks)")],
    label: Annotated[str | None, typer.Option(help="e.g. the phone's model")] = None,
) -> None:
    """Register a phone; its token is printed once (only a hash is kept)."""
    from jogo_dispatch.tracking import service
    from jogo_dispatch.tracking.schemas import DeviceCreate

    settings = resolve_settings()
    officer_id = _officer_id(settings, badge)
    try:
        device, token = in_session(
            settings,
            lambda session: service.register_device(
                session, officer_id, DeviceCreate(identifier=identifier, label=label)
            ),
        )
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    say(f"device {device.id} ({identifier}) registered to {badge}; its token is shown only now")
    typer.echo(token)


@devices.command("list")
def devices_list(badge: Annotated[str, typer.Option(help="the officer's badge")]) -> None:
    """The officer's phones, revoked ones included."""
    from jogo_dispatch.tracking import repository

    settings = resolve_settings()
    officer_id = _officer_id(settings, badge)
    rows = in_session(settings, lambda session: repository.devices_of(session, officer_id))
    for d in rows:
        state = f"revoked {d.revoked_at:%Y-%m-%d %H:%M}" if d.revoked_at else "active"
        typer.echo(f"{d.id}\t{d.identifier}\t{d.label or ''}\t{state}")


@devices.command("revoke")
def devices_revoke(
    badge: Annotated[str, typer.Option(help="the officer's badge")],
    device: Annotated[int, typer.Option("--id", help="the device's id (see devices list)")],
) -> None:
    """Revoke a phone: its token stops working at once."""
    from jogo_dispatch.tracking import service

    settings = resolve_settings()
    officer_id = _officer_id(settings, badge)
    try:
        in_session(settings, lambda session: service.revoke_device(session, officer_id, device))
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    say(f"device {device} of {badge} revoked")


def import_officers(
    file: Annotated[Path, typer.Argument(help="CSV: badge,name,unit_type[,sector,device_id,password]")],
    skip_invalid: Annotated[bool, typer.Option(help="import the good rows even if some are bad")] = False,
    credentials: Annotated[
        Path | None, typer.Option(help="where generated passwords are written (default FILE.credentials.csv)")
    ] = None,
) -> None:
    """Import a roster of officers, checked row by row; nothing is imported while a row is bad unless
    --skip-invalid. Passwords left empty are generated and written, readable by you only, to a file."""
    from jogo_dispatch.platform.security import Passwords
    from jogo_dispatch.tracking import roster

    settings = resolve_settings()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    badges, phones = in_session(settings, roster.known)
    checked = roster.check(text, badges, phones)
    for row, problem in checked.problems:
        typer.echo(f"row {row}: {problem}", err=True)
    say(f"{file}: {len(checked.rows)} good rows, {len({r for r, _ in checked.problems})} bad")
    if not checked.ok and not skip_invalid:
        typer.echo("nothing imported (fix the rows above, or --skip-invalid)", err=True)
        raise typer.Exit(1)
    created = in_session(
        settings,
        lambda session: roster.import_rows(
            session, Passwords(), checked.rows, lambda done, total: say(f"imported {done}/{total}")
        ),
    )
    generated = [(row.officer.badge, row.officer.password) for row, _ in created if row.generated_password]
    if generated:
        out = credentials or file.with_name(file.name + ".credentials.csv")
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", newline="") as f:
            f.write("badge,password\n" + "".join(f"{b},{p}\n" for b, p in generated))
        say(f"generated passwords of {len(generated)} officers written to {out}")
    say(f"{len(created)} officers imported")
    if not checked.ok:
        raise typer.Exit(1)
