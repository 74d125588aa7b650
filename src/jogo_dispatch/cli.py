"""The ``jogo-dispatch`` command."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="jogo-dispatch: police dispatch engine")
T = TypeVar("T")


def _say(msg: str) -> None:
    typer.echo(f"[jogo] {msg}", err=True)


def resolve_settings() -> Settings:
    """Settings with a database: JOGO_DATABASE_URL, or the project-managed PostGIS under data_dir."""
    settings = Settings()
    if settings.database_url:
        return settings
    from jogo_dispatch.embedded import EmbeddedPostgres

    url = EmbeddedPostgres(settings.data_dir.resolve() / "pg", log=_say).start()
    os.environ["JOGO_DATABASE_URL"] = url
    return settings.model_copy(update={"database_url": url})


def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from jogo_dispatch.db import make_engine, make_sessionmaker

    async def run() -> T:
        engine = make_engine(settings.sqlalchemy_url(), 2)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _fail(exc: Exception) -> None:
    from jogo_dispatch.errors import AppError

    if isinstance(exc, AppError):
        typer.echo(f"error: {exc.message} ({exc.code})", err=True)
        raise typer.Exit(1) from None
    raise exc


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest migration (alembic upgrade head)."""
    from jogo_dispatch.schema import upgrade_head

    settings = resolve_settings()
    upgrade_head(settings.database_url or "")
    _say("database schema is at head")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run the HTTP/websocket server."""
    import uvicorn

    resolve_settings()
    uvicorn.run(
        "jogo_dispatch.main:create_app", factory=True, host=host, port=port, workers=workers,
        log_level="warning", access_log=False, lifespan="on",
    )


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="citizen, officer, dispatcher, agency or admin")],
    full_name: Annotated[str | None, typer.Option("--name")] = None,
) -> None:
    """Create a login."""
    from jogo_dispatch.accounts import service
    from jogo_dispatch.accounts.security import Passwords

    settings = resolve_settings()

    async def work(session: AsyncSession) -> int:
        user = await service.create_user(
            session, Passwords(), username=username, password=password, role=role, full_name=full_name
        )
        return user.id

    try:
        user_id = _in_session(settings, work)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    typer.echo(f"created user {username} (id {user_id}, role {role})")


@app.command("create-officer")
def create_officer(
    badge: Annotated[str, typer.Option(help="badge number; also the officer's login name")],
    name: Annotated[str, typer.Option()],
    unit_type: Annotated[str, typer.Option(help="car, motorbike or foot")],
    password: Annotated[str | None, typer.Option(help="login password (generated when omitted)")] = None,
    device_id: Annotated[str | None, typer.Option(help="phone's device identifier (Traccar/OwnTracks id)")] = None,
    sector: Annotated[str | None, typer.Option(help="police sector")] = None,
) -> None:
    """Create an officer and the officer's login (username = badge)."""
    from jogo_dispatch.accounts.security import Passwords
    from jogo_dispatch.tracking import service
    from jogo_dispatch.tracking.schemas import OfficerCreate

    settings = resolve_settings()
    pw = password or secrets.token_urlsafe(9)
    try:
        data = OfficerCreate(badge=badge, name=name, unit_type=unit_type, password=pw, sector=sector,
                             device_id=device_id)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def work(session: AsyncSession) -> int:
        return (await service.create_officer(session, Passwords(), data)).id

    try:
        officer_id = _in_session(settings, work)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    typer.echo(f"created officer {badge} (id {officer_id}); login: {badge}" + ("" if password else f" / {pw}"))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
