"""Test fixtures: one real PostGIS database per test worker, migrated with Alembic.

Repository/service tests run inside a transaction that is rolled back; HTTP tests go through the
whole app (its writer commits on its own connection), so their tables are emptied after each test.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from jogo_dispatch.settings import Settings, to_sqlalchemy_url

ADMIN_URL = os.environ.get("JOGO_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# Reference data seeded by the migrations themselves survives the per-test clean-up.
SEEDED_BY_MIGRATIONS = frozenset({"categories"})


def _all_tables() -> str:
    """Every table of the app (as registered in jogo_dispatch.platform.model_registry), for the per-test clean-up."""
    from jogo_dispatch.platform.model_registry import metadata

    return ", ".join(t.name for t in metadata.sorted_tables if t.name not in SEEDED_BY_MIGRATIONS)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    from jogo_dispatch.platform.migrations import upgrade_head

    # The pid keeps two simultaneous test runs on one server apart.
    name = f"jogo_test_{_worker()}_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade_head(url)
    yield url
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        log_json=False,
        log_level="WARNING",
        osmand_port=None,
        presence_sweep_s=0,
        timer_sweep_s=0,  # the timer tests sweep by hand
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def db_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back at the end of the test."""
    engine = create_async_engine(to_sqlalchemy_url(database_url))
    async with engine.connect() as conn:
        trans = await conn.begin()
        session = async_sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )()
        try:
            yield session
        finally:
            await session.close()
            await trans.rollback()
    await engine.dispose()


# Every app instance the tests started; their per-process caches are reset between tests.
APPS: list[Any] = []


def reset_runtime(application: Any) -> None:
    rt = application.state.runtime
    rt.ingest.last.clear()
    rt.auth.forget()
    rt.devices.forget()
    for r in rt.index.responders():
        rt.index.remove(r.officer_id)
    rt.hub.known.clear()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    from jogo_dispatch.main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        APPS.append(application)
        yield application


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_uvicorn(application: Any) -> tuple[Any, threading.Thread, int]:
    """Serve ``application`` on a free port with uvicorn in its own thread and event loop; returns once
    it accepts connections. Stop it with ``server.should_exit = True`` and ``thread.join()``."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_level="warning",
            ws="websockets-sansio",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    return server, thread, port


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[SimpleNamespace]:
    """A real uvicorn server (own thread and event loop) on the test database, for websocket tests."""
    from jogo_dispatch.main import create_app

    application = create_app(settings)
    server, thread, port = start_uvicorn(application)
    APPS.append(application)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", ws=f"ws://127.0.0.1:{port}", app=application)
    APPS.remove(application)
    server.should_exit = True
    thread.join(15)


async def truncate_all(database_url: str, attempts: int = 5) -> None:
    """Empty every table between tests. A background loop of the app (forward delivery, SLA sweeps...) may
    hold a lock the TRUNCATE needs and wait on one it takes: PostgreSQL then breaks the deadlock by failing
    one side, and the clean-up simply tries again."""
    for attempt in range(attempts):
        try:
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
                await conn.execute("SET lock_timeout = '10s'")
                await conn.execute(f"TRUNCATE {_all_tables()} RESTART IDENTITY CASCADE")
            return
        except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))


@pytest.fixture
async def client(app: Any, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    await truncate_all(database_url)
    for application in APPS:
        reset_runtime(application)


class Actors:
    """Creates logins through the real services and hands back bearer headers."""

    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self._n = 0

    async def _token(self, username: str, password: str) -> dict[str, str]:
        r = await self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def user(self, role: str) -> dict[str, str]:
        from jogo_dispatch.accounts import service

        self._n += 1
        rt = self.app.state.runtime
        async with rt.sessions() as session:
            await service.create_user(
                session, rt.passwords, username=f"{role}{self._n}", password="secret-pw", role=role
            )
            await session.commit()
        return await self._token(f"{role}{self._n}", "secret-pw")

    async def officer(
        self, unit_type: str = "car", device_id: str | None = None, **kw: Any
    ) -> tuple[int, dict[str, str]]:
        from jogo_dispatch.tracking import service
        from jogo_dispatch.tracking.schemas import OfficerCreate

        self._n += 1
        badge = f"B{self._n:04d}"
        rt = self.app.state.runtime
        async with rt.sessions() as session:
            officer = await service.create_officer(
                session,
                rt.passwords,
                OfficerCreate(
                    badge=badge,
                    name=f"Officer {self._n}",
                    unit_type=unit_type,
                    password="secret-pw",
                    device_id=device_id,
                    **kw,
                ),
            )
            await session.commit()
        return officer.id, await self._token(badge, "secret-pw")


@pytest.fixture
async def actors(app: Any, client: httpx.AsyncClient) -> Actors:
    return Actors(app, client)
