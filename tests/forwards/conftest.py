"""Forwarding fixtures: a seeded region, incidents made through the dispatch service, agency logins made
through the API, and a real HTTP receiver standing in for an agency's webhook."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from tests.agencies.conftest import seed
from tests.reports.helpers import _catalogue  # noqa: F401  (fixture)

MALANG = (-7.9826, 112.6308)  # inside sector KLOJEN


async def rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute(sql, params)
        return await cur.fetchall() if cur.description else []


async def wait_for(check: Any, timeout_s: float = 10.0, every_s: float = 0.05) -> Any:
    """Poll ``check`` (an async callable) until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s (last: {got!r})")
        await asyncio.sleep(every_s)


async def agency_ids(database_url: str, *codes: str) -> list[int]:
    found = dict(
        await rows(
            database_url,
            "SELECT code, id FROM agencies WHERE region = 'malang' AND code = ANY(%s)",
            list(codes),
        )
    )
    return [found[c] for c in codes]


async def make_incident(
    app: Any,
    category: str = "traffic_jam",
    lat: float = MALANG[0],
    lon: float = MALANG[1],
    priority: int = 3,
    description: str = "Macet total di perempatan",
    **kw: Any,
) -> int:
    from jogo_dispatch.dispatch import service

    rt = app.state.runtime
    async with rt.sessions() as session:
        incident = await service.create_incident(
            session,
            rt.bus,
            rt.settings,
            category=category,
            priority=priority,
            source="report",
            lat=lat,
            lon=lon,
            description=description,
            address=kw.pop("address", "Jl. Basuki Rahmat"),
            **kw,
        )
        await session.commit()
        return incident.id


async def agency_login(
    client: httpx.AsyncClient, admin: dict[str, str], agency_id: int, username: str
) -> dict[str, str]:
    r = await client.post(
        f"/api/v1/agencies/{agency_id}/users",
        headers=admin,
        json={"username": username, "password": "agency-pw", "full_name": f"Piket {username}"},
    )
    assert r.status_code == 201, r.text
    t = await client.post("/api/v1/auth/token", data={"username": username, "password": "agency-pw"})
    assert t.status_code == 200, t.text
    return {"Authorization": f"Bearer {t.json()['access_token']}"}


@pytest.fixture
async def seeded(app: Any, client: httpx.AsyncClient) -> None:
    await seed(app)


@dataclass
class Receiver:
    """An agency's webhook endpoint: records every request; answers 500 to the first ``fail_first``."""

    url: str = ""
    fail_first: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            n = len(self.requests)
            status = 500 if n < self.fail_first else 200
            self.requests.append({"path": path, "headers": headers, "body": body, "status": status})
        return status

    def delivered(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["status"] == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = rec.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"no")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/jogo"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast_delivery(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The delivery worker sweeps every 50 ms and retries after 50 ms, 100 ms, ..."""
    monkeypatch.setattr(settings, "forward_sweep_s", 0.05)
    monkeypatch.setattr(settings, "forward_backoff_base_s", 0.05)
    monkeypatch.setattr(settings, "forward_backoff_max_s", 0.2)
    monkeypatch.setattr(settings, "forward_timeout_s", 5.0)
    return settings
