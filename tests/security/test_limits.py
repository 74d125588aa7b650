"""Limits on what a request may carry. Every bad input gets a 4xx with the error body, and nothing stored
changes: the row count of every table is the same before and after."""

from __future__ import annotations

import asyncio
import os
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.reports.helpers import JPEG_16, MALANG, citizen, report_body, rows, verified_incident
from tests.security.conftest import PASSWORD

# Rate-limit counters go up with every attempt, refused or not: that is their job.
NOT_DATA = frozenset({"rate_limit_hits"})


async def snapshot(database_url: str) -> dict[str, int]:
    from jogo_dispatch.platform.model_registry import metadata

    tables = sorted(set(metadata.tables) - NOT_DATA)
    union = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
    return dict(await rows(database_url, union))  # type: ignore[arg-type]


def error_of(r: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]  # type: ignore[no-any-return]


class Unchanged:
    """``async with Unchanged(db):`` asserts that no table gained or lost a row inside the block."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def __aenter__(self) -> None:
        self.before = await snapshot(self.database_url)

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            after = await snapshot(self.database_url)
            changed = {t: (n, after[t]) for t, n in self.before.items() if after[t] != n}
            assert not changed, f"rows changed: {changed}"


def noise_png(side: int) -> bytes:
    """A real PNG that does not compress: about 3 * side² bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def gif() -> bytes:
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00"
        b"\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def form(**overrides: Any) -> dict[str, str]:
    return {k: str(v) for k, v in report_body(**overrides).items()}


@pytest.fixture
def db(database_url: str) -> Unchanged:
    return Unchanged(database_url)


# -- request body size ------------------------------------------------------------------------------------


async def test_a_huge_json_body_is_413_on_every_route_and_stores_nothing(client, actors, app, db):
    limit = app.state.settings.max_body_bytes
    admin = await actors.user("admin")
    _, officer = await actors.officer()
    _, person = await citizen(client)
    huge = {"username": "x" * (limit + 10), "password": PASSWORD, "role": "citizen"}
    async with db:
        for url, headers in (
            ("/api/v1/users", admin),
            ("/api/v1/citizens", {}),
            ("/api/v1/pings", officer),
            ("/api/v1/sos", person),
            ("/api/v1/auth/token", {}),
            ("/healthz", {}),
        ):
            r = await client.post(url, headers=headers, json=huge)
            err = error_of(r, 413)
            assert err["code"] == "payload_too_large" and err["details"] == {"limit": limit}, url


async def test_a_body_streamed_past_the_limit_is_413_without_a_length(client, actors, app, db):
    limit = app.state.settings.max_body_bytes
    admin = await actors.user("admin")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'", "password": "secret-pw", "role": "citizen"}'

    async with db:
        r = await client.post(
            "/api/v1/users", headers={**admin, "Content-Type": "application/json"}, content=chunks()
        )
        assert "content-length" not in r.request.headers
        assert error_of(r, 413)["code"] == "payload_too_large"


async def test_a_report_may_carry_a_photo_larger_than_other_bodies_but_not_larger_than_the_photo_limit(
    client, app, database_url, db
):
    settings = app.state.settings
    _, person = await citizen(client)
    big = noise_png(900)  # ~2.4 MB: over the general body limit, under the photo limit
    assert settings.max_body_bytes < len(big) < settings.photo_max_bytes
    r = await client.post(
        "/api/v1/reports", headers=person, data=form(), files={"photo": ("big.png", big, "image/png")}
    )
    assert r.status_code == 201, r.text
    assert await rows(database_url, "SELECT photo_type FROM reports WHERE id = %s", r.json()["id"]) == [
        ("png",)
    ]

    just_over = JPEG_16 + b"\0" * (settings.photo_max_bytes - len(JPEG_16) + 1)  # the photo limit + 1 byte
    six_mb = JPEG_16 + b"\0" * 6_000_000  # past the photo limit and the report's whole body limit
    async with db:
        for photo, code in ((just_over, "photo_too_large"), (six_mb, "payload_too_large")):
            r = await client.post(
                "/api/v1/reports",
                headers=person,
                data=form(lat=MALANG[0] + 0.01),
                files={"photo": ("p.jpg", photo, "image/jpeg")},
            )
            assert error_of(r, 413)["code"] == code


async def test_photos_that_are_not_jpeg_or_png_are_refused_whatever_their_name(client, db):
    _, person = await citizen(client)
    async with db:
        for content in (gif(), PDF, b"\xff\xd8\xff\xe0 not really a jpeg", b""):
            r = await client.post(
                "/api/v1/reports",
                headers=person,
                data=form(),
                files={"photo": ("photo.jpg", content, "image/jpeg")},
            )
            assert error_of(r, 400)["code"] == "bad_photo", content[:10]


# -- array lengths ----------------------------------------------------------------------------------------


async def test_more_than_max_batch_pings_is_413_and_none_is_stored(client, actors, app, db):
    _, officer = await actors.officer()
    now = datetime.now(UTC)
    n = app.state.settings.max_batch + 1
    pings = [
        {"lat": MALANG[0], "lon": MALANG[1], "recorded_at": (now - timedelta(seconds=n - i)).isoformat()}
        for i in range(n)
    ]
    async with db:
        err = error_of(await client.post("/api/v1/pings", headers=officer, json=pings), 413)
        assert err["details"] == {"limit": n - 1}


async def test_batch_lists_in_bodies_are_bounded(client, actors, db):
    dispatcher = await actors.user("dispatcher")
    _, person = await citizen(client)
    incident = await verified_incident(client, person, dispatcher)
    async with db:
        r = await client.post(
            f"/api/v1/incidents/{incident}/split",
            headers=dispatcher,
            json={"report_ids": list(range(1, 202))},
        )
        assert error_of(r, 422)["code"] == "validation_error"
        r = await client.post(
            f"/api/v1/incidents/{incident}/forwards",
            headers=dispatcher,
            json={"agency_ids": list(range(1, 52))},
        )
        assert error_of(r, 422)["code"] == "validation_error"


# -- coordinates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        {"lat": 90.5},
        {"lat": -91},
        {"lon": 180.01},
        {"reporter_lon": -200},
        {"reporter_lat": 90.0001},
        {"lat": 0, "lon": 0},
        {"reporter_accuracy_m": -1},
    ],
)
async def test_reports_out_of_range_are_refused(client, db, where):
    _, person = await citizen(client)
    async with db:
        r = await client.post("/api/v1/reports", headers=person, json=report_body(**where))
        assert error_of(r, 422)["code"] == "validation_error"
        r = await client.post("/api/v1/reports", headers=person, data=form(**where))
        assert error_of(r, 422)["code"] == "validation_error"


async def test_coordinates_out_of_range_elsewhere(client, actors, database_url, db):
    _, person = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    _, officer = await actors.officer()
    async with db:
        assert error_of(await client.post("/api/v1/sos", headers=person, json={"lat": 95, "lon": 112}), 422)
        for url in (
            "/api/v1/responders/nearest?lat=91&lon=112",
            "/api/v1/responders/nearest?lat=-7&lon=181",
            "/api/v1/route?category=fire&lat=-95&lon=112",
        ):
            assert error_of(await client.get(url, headers=dispatcher), 422), url
        for bbox in ("112,-8,113", "112,-91,113,-7", "a,b,c,d"):  # refused by the schema's pattern
            r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": bbox})
            assert error_of(r, 422), bbox
        r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": "113,-8,112,-7"})
        assert error_of(r, 400)  # w > e: the order is what a pattern cannot say
        # Pings are answered item by item (one bad fix must not cost the others): refused, not stored.
        r = await client.post(
            "/api/v1/pings",
            headers=officer,
            json=[
                {"lat": 91, "lon": 112, "recorded_at": datetime.now(UTC).isoformat()},
                {"lat": -7.9, "lon": 181, "recorded_at": datetime.now(UTC).isoformat()},
            ],
        )
        assert r.status_code == 200 and r.json()["accepted"] == 0
        assert {x["reason"] for x in r.json()["rejected"]} == {"out_of_range"}


# -- string lengths ---------------------------------------------------------------------------------------


async def test_strings_longer_than_their_column_are_422(client, actors, db):
    admin = await actors.user("admin")
    dispatcher = await actors.user("dispatcher")
    _, person = await citizen(client)
    incident = await verified_incident(client, person, dispatcher)
    cases = [
        ("/api/v1/reports", person, report_body(description="x" * 2001)),
        ("/api/v1/reports", person, report_body(address="x" * 501)),
        ("/api/v1/reports", person, report_body(category="x" * 33)),
        ("/api/v1/citizens", {}, {"phone": "081234567899", "name": "x" * 201, "password": "rahasia-1"}),
        ("/api/v1/users", admin, {"username": "u" * 65, "password": PASSWORD, "role": "citizen"}),
        ("/api/v1/users", admin, {"username": "ok", "password": "p" * 201, "role": "citizen"}),
        (
            "/api/v1/officers",
            admin,
            {"badge": "B" * 33, "name": "N", "unit_type": "car", "password": PASSWORD},
        ),
        (
            "/api/v1/officers",
            admin,
            {"badge": "B1", "name": "N" * 201, "unit_type": "car", "password": PASSWORD},
        ),
        ("/api/v1/api-keys", admin, {"label": "l" * 101}),
        (
            "/api/v1/routing-rules",
            admin,
            {"category": "c" * 65, "agency_code": "DAMKAR", "role": "responsible"},
        ),
        (f"/api/v1/incidents/{incident}/forwards", dispatcher, {"note": "n" * 4001}),
        (f"/api/v1/incidents/{incident}/status", dispatcher, {"status": "cancelled", "reason": "r" * 1001}),
        ("/api/v1/appeals", person, {"text": "t" * 4001}),
    ]
    async with db:
        for url, headers, body in cases:
            r = await client.post(url, headers=headers, json=body)
            assert error_of(r, 422)["code"] == "validation_error", (url, body)


async def test_text_with_a_nul_character_is_400_wherever_it_goes(client, actors, db):
    admin = await actors.user("admin")
    _, person = await citizen(client)
    async with db:
        for url, headers, body in (
            (
                "/api/v1/users",
                admin,
                {"username": "ok", "password": PASSWORD, "role": "citizen", "full_name": "a\x00b"},
            ),
            ("/api/v1/reports", person, report_body(description="tabrakan\x00")),
            ("/api/v1/api-keys", admin, {"label": "\x00"}),
        ):
            r = await client.post(url, headers=headers, json=body)
            assert error_of(r, 400)["code"] == "nul_character", url
        r = await client.get("/api/v1/routing-rules", headers=admin, params={"region": "\x00"})
        assert error_of(r, 400)["code"] == "nul_character"


async def test_a_nul_in_one_phones_fix_does_not_fail_other_officers_pings(client, actors, database_url):
    """A NUL in an OsmAnd extra used to fail the whole group commit: every officer's pings in it got 503."""
    _, _ = await actors.officer(device_id="phone-nul")
    _, other = await actors.officer()
    now = datetime.now(UTC)
    odd = client.get(
        "/osmand",
        params={
            "id": "phone-nul",
            "lat": "-7.96",
            "lon": "112.63",
            "timestamp": str(int(now.timestamp())),
            "note": "a\x00b",
        },
    )
    fine = client.post(
        "/api/v1/pings", headers=other, json={"lat": -7.97, "lon": 112.63, "recorded_at": now.isoformat()}
    )
    r_odd, r_fine = await asyncio.gather(odd, fine)
    assert r_odd.status_code == 200, r_odd.text
    assert r_fine.status_code == 200 and r_fine.json()["accepted"] == 1, r_fine.text
    stored = await rows(database_url, "SELECT attributes->>'note' FROM pings WHERE source = 'osmand'")
    assert stored == [("ab",)]


async def test_ids_beyond_bigint_are_422_not_a_database_error(client, actors, db):
    dispatcher = await actors.user("dispatcher")
    big = 2**63
    async with db:
        for method, url, body in (
            ("GET", f"/api/v1/incidents/{big}", None),
            ("POST", f"/api/v1/reports/{big}/verify", None),
            ("POST", "/api/v1/incidents/1/merge", {"other_incident_id": big}),
            ("POST", "/api/v1/incidents/1/split", {"report_ids": [big]}),
        ):
            r = await client.request(method, url, headers=dispatcher, json=body)
            assert error_of(r, 422)["code"] == "validation_error", url


async def test_a_webhook_url_too_long_once_normalised_is_422(client, actors, app, database_url, db):
    from tests.agencies.conftest import seed

    await seed(app)
    admin = await actors.user("admin")
    ((agency,),) = await rows(database_url, "SELECT id FROM agencies WHERE code = 'PLN'")
    url = "https://" + ".".join(["a" * 63] * 7 + ["a" * 40]) + ".com"  # no path: normalised with a "/"
    assert len(url) == 500
    before = await rows(database_url, "SELECT delivery, webhook_url FROM agencies WHERE id = %s", agency)
    async with db:
        r = await client.put(
            f"/api/v1/agencies/{agency}/delivery",
            headers=admin,
            json={"delivery": "webhook", "webhook_url": url},
        )
        assert error_of(r, 422)["code"] == "validation_error"
    assert (
        await rows(database_url, "SELECT delivery, webhook_url FROM agencies WHERE id = %s", agency) == before
    )


# -- time ranges ------------------------------------------------------------------------------------------


async def test_track_and_stats_time_ranges(client, actors):
    dispatcher = await actors.user("dispatcher")
    officer_id, _ = await actors.officer()
    now = datetime.now(UTC)
    for url, span in (
        (f"/api/v1/officers/{officer_id}/track", timedelta(days=8)),
        ("/api/v1/stats", timedelta(days=367)),
    ):
        for params in (
            {"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()},
            {"since": now.isoformat(), "until": now.isoformat()},
            {"since": (now - span).isoformat(), "until": now.isoformat()},
            {"since": "2026-01-01T00:00:00"},  # no time zone
            {"until": "0001-01-01T01:00:00Z"},
        ):  # the default window would start before year 1
            r = await client.get(url, headers=dispatcher, params=params)
            assert error_of(r, 400)["code"] == "bad_time_range", (url, params, r.text)
        ok = await client.get(
            url, headers=dispatcher, params={"since": (now - timedelta(days=1)).isoformat()}
        )
        assert ok.status_code == 200, ok.text


async def test_open311_bad_input_is_400_in_georeport_shape(client, actors, db):
    admin = await actors.user("admin")
    key = (await client.post("/api/v1/api-keys", headers=admin, json={"label": "l"})).json()["key"]
    async with db:
        r = await client.get("/open311/v2/services.json", params={"lang": "fr"})
        assert r.status_code == 400 and r.json()[0]["code"] == 400 and "lang" in r.json()[0]["description"]
        r = await client.post(
            "/open311/v2/requests.json",
            data={"api_key": key, "service_code": "road_damage", "lat": "91", "long": "112"},
        )
        assert r.status_code == 400 and r.json()[0]["code"] == 400, r.text
        r = await client.get(
            "/open311/v2/requests.json",
            params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-31T00:00:00Z"},
        )
        assert r.status_code == 400 and r.json()[0]["code"] == 400, r.text


async def test_the_app_itself_reports_in_one_shape(client):
    """Bodies that are not JSON, and unknown routes, answer with the same error body."""
    r = await client.post(
        "/api/v1/citizens", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert error_of(r, 422)["code"] == "validation_error"
    assert error_of(await client.get("/api/v1/nothing-here"), 404)["code"] == "http_404"


async def test_a_declared_length_over_the_limit_is_answered_without_reading_the_body():
    from jogo_dispatch.platform.body_limit import BodyLimitMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not run")

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body must not be read")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/pings",
        "headers": [(b"content-length", b"101")],
    }
    await BodyLimitMiddleware(app, default=100, limits={"/api/v1/reports": 1000})(scope, receive, send)
    assert sent[0]["status"] == 413
    assert (
        sent[1]["body"] == b'{"error":{"code":"payload_too_large","message":"body larger than 100 bytes",'
        b'"details":{"limit":100}}}'
    )
