"""What every command shares: the settings (and the project-managed database when none is set), one
unit of work, and how a refused request ends a command."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.settings import Settings

T = TypeVar("T")


def say(msg: str) -> None:
    typer.echo(f"[jogo] {msg}", err=True)


def load_settings() -> Settings:
    """The settings from the environment; a setting the service refuses (in production, no real signing
    key) ends the command with its message and exit status 2, not a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        for problem in exc.errors():
            where = "_".join(str(p) for p in problem["loc"]).upper()
            msg = str(problem["msg"]).removeprefix("Value error, ")
            typer.echo(f"error: invalid settings: {f'JOGO_{where}: ' if where else ''}{msg}", err=True)
        raise typer.Exit(2) from None


def resolve_settings() -> Settings:
    """Settings with a database: JOGO_DATABASE_URL, or the project-managed PostGIS under data_dir."""
    settings = load_settings()
    if settings.database_url:
        return settings
    from jogo_dispatch.devtools.embedded import EmbeddedPostgres

    url = EmbeddedPostgres(settings.data_dir.resolve() / "pg", log=say).start()
    os.environ["JOGO_DATABASE_URL"] = url
    return settings.model_copy(update={"database_url": url})


def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from jogo_dispatch.platform import model_registry  # noqa: F401  (every table, for the foreign keys)
    from jogo_dispatch.platform.db import make_engine, make_sessionmaker

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


def fail(exc: Exception) -> NoReturn:
    from jogo_dispatch.errors import AppError

    if isinstance(exc, AppError):
        typer.echo(f"error: {exc.message} ({exc.code})", err=True)
        raise typer.Exit(1) from None
    raise exc
