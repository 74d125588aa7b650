"""Shared by tests/reports and tests/dispatch: citizens, officers placed on the map, report bodies,
sample images, the event log, and the catalogue the per-test truncation wipes."""

from __future__ import annotations

import base64
import importlib.util
import itertools
import math
import struct
import zlib
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from jogo_dispatch.platform.migrations import MIGRATIONS_DIR

MALANG = (-7.9666, 112.6326)

# A real 16x16 JPEG: CPython's Lib/test/test_email/data/python.jpg (543 bytes).
JPEG_16 = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8Q"
    "EBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
    "EBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQID"
    "BAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/"
    "2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx"
    "4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+"
    "Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolv"
    "w4KOp1KM6iCNvngZHwetf//Z"
)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png(width: int = 3, height: int = 2, seed: int = 0) -> bytes:
    """A real RGB PNG (decodable by any reader); ``seed`` varies the pixels, hence the hash."""
    rows = b"".join(
        b"\x00" + bytes((seed + x * 40 + y * 7) % 256 for x in range(width * 3)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")
    )


def bomb_png(width: int = 6000, height: int = 6000, depth: int = 16, colour: int = 6) -> bytes:
    """A small PNG of a huge blank image (6000x6000 RGBA16: 280 KB that inflate to 288 MB), built row
    by row so the test never holds the picture either."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = bytes(1 + width * channels * depth // 8)
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def _migration_categories() -> list[tuple[str, str, str, int]]:
    path = next((MIGRATIONS_DIR / "versions").glob("*_0003_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0003_for_tests", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.CATEGORIES)


CATEGORIES = _migration_categories()


async def restore_catalogue(database_url: str) -> None:
    """The HTTP fixtures truncate every table after a test, the migration-seeded catalogue too."""
    connect = psycopg.AsyncConnection.connect
    async with await connect(database_url, autocommit=True) as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO categories (code, name_id, name_en, default_priority, sort_order) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (code) DO NOTHING",
            [(c, i, e, p, n) for n, (c, i, e, p) in enumerate(CATEGORIES)],
        )


async def rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute(sql, params)
        return await cur.fetchall() if cur.description else []


async def execute(database_url: str, sql: str, *params: Any) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql, params)


_phones = itertools.count(1)


async def citizen(client: httpx.AsyncClient, name: str = "Warga Malang") -> tuple[int, dict[str, str]]:
    """A registered citizen (through the API) and their bearer headers."""
    local = f"0812{next(_phones):08d}"
    r = await client.post("/api/v1/citizens", json={"phone": local, "name": name, "password": "rahasia-1"})
    assert r.status_code == 201, r.text
    body = r.json()
    t = await client.post("/api/v1/auth/token", data={"username": body["username"], "password": "rahasia-1"})
    assert t.status_code == 200, t.text
    return body["id"], {"Authorization": f"Bearer {t.json()['access_token']}"}


async def place(client: httpx.AsyncClient, headers: dict[str, str], lat: float, lon: float) -> None:
    """The officer's phone sends a fresh fix (the responder index follows after commit)."""
    r = await client.post(
        "/api/v1/pings",
        headers=headers,
        json={"lat": lat, "lon": lon, "recorded_at": datetime.now(UTC).isoformat()},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


async def fleet(
    client: httpx.AsyncClient,
    actors: Any,
    distances_m: list[float],
    unit: str = "car",
    at: tuple[float, float] = MALANG,
) -> list[tuple[int, dict[str, str]]]:
    """Officers due north of ``at`` at the given distances (so the nearest order is the list order)."""
    out = []
    for d in distances_m:
        oid, headers = await actors.officer(unit)
        await place(client, headers, *offset(*at, d, 0.0))
        out.append((oid, headers))
    return out


def report_body(**overrides: Any) -> dict[str, Any]:
    lat, lon = MALANG
    body = {
        "category": "traffic_accident",
        "description": "Tabrakan motor di perempatan",
        "lat": lat,
        "lon": lon,
        "reporter_lat": lat + 0.0005,
        "reporter_lon": lon,
        "address": "Jl. Ijen",
    }
    body.update(overrides)
    return body


async def file_report(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/reports", headers=headers, json=report_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def verified_incident(
    client: httpx.AsyncClient, citizen_headers: dict[str, str], dispatcher: dict[str, str], **overrides: Any
) -> int:
    report = await file_report(client, citizen_headers, **overrides)
    r = await client.post(f"/api/v1/reports/{report['id']}/verify", headers=dispatcher)
    assert r.status_code == 200, r.text
    return int(r.json()["incident_id"])


_EVENT_LOGS: dict[int, list[Any]] = {}


class EventLog:
    """Every bus event of an app since the test began."""

    def __init__(self, app: Any) -> None:
        rt = app.state.runtime
        log = _EVENT_LOGS.get(id(rt))
        if log is None:
            log = _EVENT_LOGS[id(rt)] = []
            rt.bus.subscribe(log.append)
        self._log: list[Any] = log
        self._log.clear()

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of the events whose wire name is ``kind``."""
        return [e.payload() for e in self._log if kind == e.TYPE]


@pytest.fixture(autouse=True)
async def _catalogue(request: pytest.FixtureRequest) -> None:
    if {"client", "db_session"} & set(request.fixturenames):
        await restore_catalogue(request.getfixturevalue("database_url"))


@pytest.fixture
def events(app: Any) -> EventLog:
    return EventLog(app)
