"""Engine, session factory and the declarative base (with a constraint naming convention)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from pydantic import Field
from sqlalchemy import DateTime, MetaData, event, func
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jogo_dispatch.errors import InvalidInput, Unavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Every table's id is a BIGINT identity. An id outside 1..2^63-1 names no row, and PostgreSQL fails on it
# ("bigint out of range") instead of finding nothing: requests are refused before it gets there.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# A point is stored once (lat/lon, what the API speaks); its geography column is derived from it
# (``Computed(GEOG_OF_LATLON, persisted=True)``) so the two can never disagree.
GEOG_OF_LATLON = "ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography"


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


# libpq options for every connection of the service (engine and the ping writer). When the database
# host vanishes without closing its sockets, these bound the wait: a new connection gives up after
# connect_timeout, a request on an open one once the kernel has had no TCP ack for tcp_user_timeout.
CONNECT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 5,
    "tcp_user_timeout": 10_000,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
# A request waits at most this long for a pooled connection before it fails.
POOL_TIMEOUT_S = 10.0


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args=dict(CONNECT_OPTIONS),
    )
    event.listen(engine.sync_engine, "handle_error", _database_unreachable)
    event.listen(engine.sync_engine, "handle_error", _text_postgres_cannot_store)
    return engine


def is_unreachable(exc: BaseException) -> bool:
    """The database is down, restarting or cut off (as opposed to a bad query or a constraint)."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    # No SQLSTATE: refused, reset or timed-out socket. 08: connection exception. 57P: operator
    # intervention (admin/crash shutdown, "the database system is starting up").
    return exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))


def _database_unreachable(ctx: ExceptionContext) -> None:
    """Turn "cannot reach PostgreSQL" into the service's 503 (``database_unavailable``) wherever it
    surfaces, instead of an internal error. The pool has already invalidated the dead connections;
    pre-ping failures are left alone so that the pool can replace a stale connection by itself."""
    if ctx.is_pre_ping:
        return
    if ctx.is_disconnect or is_unreachable(ctx.original_exception):
        raise Unavailable(
            "database unavailable, retry shortly", code="database_unavailable", headers={"Retry-After": "1"}
        )


# 22P05 untranslatable_character ("\u0000 cannot be converted to text" in json), 22021
# character_not_in_repertoire ("invalid byte sequence ... 0x00").
_NUL_SQLSTATES = frozenset({"22P05", "22021"})


def refuses_nul(exc: BaseException) -> bool:
    """PostgreSQL cannot store a NUL character in any text or JSON value; psycopg refuses to send one."""
    if not isinstance(exc, psycopg.DataError):
        return False
    return exc.sqlstate in _NUL_SQLSTATES or (exc.sqlstate is None and "NUL" in str(exc))


def _text_postgres_cannot_store(ctx: ExceptionContext) -> None:
    """Any text a client sends (body, form, query, header, credentials, socket message) may carry a NUL
    character, and every one of them can reach a query: the client's error (400), wherever it surfaces."""
    if refuses_nul(ctx.original_exception):
        raise InvalidInput("text must not contain NUL (\\u0000) characters", code="nul_character")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the unit of work has committed (events must never announce a rollback)."""
    session.info.setdefault("after_commit", []).append(callback)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit at the boundary, roll back on any error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        for callback in session.info.pop("after_commit", []):
            callback()
