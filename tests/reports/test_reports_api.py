"""Citizens sign up, report (JSON or multipart with a photo) and follow their reports."""

from __future__ import annotations

import hashlib

import pytest

from jogo_dispatch.geo.cells import cells_for_point
from jogo_dispatch.reports.schemas import normalise_phone
from tests.reports.helpers import (
    JPEG_16,
    MALANG,
    bomb_png,
    citizen,
    file_report,
    png,
    report_body,
    rows,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0812-3456-7890", "+6281234567890"),
        ("081234567890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("+62 (0)812-3456-7890", "+6281234567890"),
        ("812 3456 7890", "+6281234567890"),
        ("(0341) 491-234", "+62341491234"),
        ("0061 2 9999 8888", "+61299998888"),
    ],
)
def test_phone_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "hello", "0812", "+62 0", "1234567890", "+6281234567890123", "08-12a"])
def test_implausible_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw)


async def test_citizen_signs_up_and_logs_in_with_the_normalised_phone(client, database_url):
    r = await client.post(
        "/api/v1/citizens", json={"phone": "0812-1111-2222", "name": "Siti", "password": "rahasia-1"}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["username"] == body["phone"] == "+6281211112222" and body["role"] == "citizen"
    assert await rows(
        database_url, "SELECT username, phone, role, full_name FROM users WHERE id = %s", body["id"]
    ) == [("+6281211112222", "+6281211112222", "citizen", "Siti")]
    token = await client.post(
        "/api/v1/auth/token", data={"username": "+6281211112222", "password": "rahasia-1"}
    )
    assert token.status_code == 200 and token.json()["role"] == "citizen"
    again = await client.post(
        "/api/v1/citizens", json={"phone": "+62 812 1111 2222", "name": "X", "password": "rahasia-2"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "user_exists"
    for bad in (
        {"phone": "", "name": "A", "password": "rahasia-1"},
        {"phone": "08123456789", "name": "A", "password": "123"},
        {"phone": "08123456789", "name": "", "password": "rahasia-1"},
        {"phone": "08123456789", "name": "A", "password": "rahasia-1", "role": "admin"},
    ):
        r = await client.post("/api/v1/citizens", json=bad)
        assert r.status_code == 422, bad
        assert r.json()["error"]["code"] == "validation_error"
    assert (await rows(database_url, "SELECT count(*) FROM users"))[0][0] == 1


async def test_json_report_is_stored_with_cells_device_and_reporter_position(client, database_url, events):
    _, me = await citizen(client)
    headers = {**me, "X-Device-Id": "android-9f8e", "User-Agent": "JogoMalang/2.1 (Android 13)"}
    r = await client.post("/api/v1/reports", headers=headers, json=report_body())
    assert r.status_code == 201, r.text
    body = r.json()
    r9, r7 = cells_for_point(*MALANG)
    got = (body["status"], body["category"], body["h3_r9"], body["h3_r7"])
    assert got == ("received", "traffic_accident", r9, r7)
    assert body["incident_id"] is None and body["duplicate"] is False and body["has_photo"] is False
    [row] = await rows(
        database_url,
        "SELECT category, status, lat, lon, h3_r9, h3_r7, reporter_lat, "
        "reporter_lon, device_id, user_agent, client_ip, address, ST_Y(geog::geometry) "
        "FROM reports",
    )
    lat, lon = MALANG
    assert row[:8] == ("traffic_accident", "received", lat, lon, r9, r7, lat + 0.0005, lon)
    assert row[8:11] == ("android-9f8e", "JogoMalang/2.1 (Android 13)", "127.0.0.1")
    assert row[11] == "Jl. Ijen" and row[12] == pytest.approx(MALANG[0])
    assert await rows(database_url, "SELECT entity_type, action, to_state FROM audit_log") == [
        ("report", "created", "received")
    ]
    [event] = events.of("report")
    assert event["report"]["id"] == body["id"] and event["report"]["status"] == "received"


async def test_bad_reports_are_refused_and_store_nothing(client, database_url):
    _, me = await citizen(client)
    cases = [
        (report_body(category="alien_landing"), 400, "unknown_category"),
        (report_body(lat=91), 422, "validation_error"),
        (report_body(lat=0.0, lon=0.0), 422, "validation_error"),
        (report_body(reporter_lat=None), 422, "validation_error"),
        (report_body(description=""), 422, "validation_error"),
        (report_body(priority=1), 422, "validation_error"),
        ([report_body()], 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = await client.post("/api/v1/reports", headers=me, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    r = await client.post(
        "/api/v1/reports", headers={**me, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_json")
    r = await client.post("/api/v1/reports", headers={**me, "Content-Type": "text/plain"}, content=b"hi")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "unsupported_media_type")
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(0,)]


async def test_reports_need_a_citizen_login(client, actors, database_url):
    assert (await client.post("/api/v1/reports", json=report_body())).status_code == 401
    bogus = {"Authorization": "Bearer nope"}
    assert (await client.post("/api/v1/reports", headers=bogus, json=report_body())).status_code == 401
    dispatcher = await actors.user("dispatcher")
    r = await client.post("/api/v1/reports", headers=dispatcher, json=report_body())
    assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_role")
    _, officer = await actors.officer()
    assert (await client.post("/api/v1/reports", headers=officer, json=report_body())).status_code == 403
    assert (await client.get("/api/v1/reports/mine", headers=dispatcher)).status_code == 403
    _, me = await citizen(client)
    assert (await client.get("/api/v1/reports", headers=me)).status_code == 403
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(0,)]


def _multipart_fields(**overrides) -> dict[str, str]:
    return {k: str(v) for k, v in report_body(**overrides).items()}


async def test_multipart_report_with_photos_stored_by_content_hash(
    client, actors, app, tmp_path, monkeypatch, database_url
):
    monkeypatch.setattr(app.state.runtime.settings, "data_dir", tmp_path)
    owner_id, me = await citizen(client)
    for data, kind, ext, name in ((png(), "png", "png", "kejadian.png"), (JPEG_16, "jpeg", "jpg", "x.bin")):
        r = await client.post(
            "/api/v1/reports",
            headers=me,
            data=_multipart_fields(address=""),
            files={"photo": (name, data, "application/octet-stream")},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["has_photo"] is True and body["address"] is None
        digest = hashlib.sha256(data).hexdigest()
        stored = tmp_path / "photos" / f"{digest}.{ext}"
        assert stored.read_bytes() == data
        [(sha, photo_type)] = await rows(
            database_url, "SELECT photo_sha256, photo_type FROM reports WHERE id = %s", body["id"]
        )
        assert (sha, photo_type) == (digest, kind)
        got = await client.get(f"/api/v1/reports/{body['id']}/photo", headers=me)
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == ("image/png" if kind == "png" else "image/jpeg")
        assert got.headers["x-content-type-options"] == "nosniff"  # never sniffed into HTML or script
    dispatcher = await actors.user("dispatcher")
    assert (await client.get(f"/api/v1/reports/{body['id']}/photo", headers=dispatcher)).content == JPEG_16
    _, stranger = await citizen(client)
    assert (await client.get(f"/api/v1/reports/{body['id']}/photo", headers=stranger)).status_code == 404
    assert (await client.get(f"/api/v1/reports/{body['id']}", headers=stranger)).status_code == 404
    mine = await client.get(f"/api/v1/reports/{body['id']}", headers=me)
    assert mine.status_code == 200 and "device_id" not in mine.json()  # tracing data is for dispatchers
    seen = (await client.get(f"/api/v1/reports/{body['id']}", headers=dispatcher)).json()
    assert seen["citizen_id"] == owner_id and seen["photo_type"] == "jpeg"
    assert seen["reporter_distance_m"] > 50


PHOTO_PROBLEMS = {
    "photo.jpg": "not_jpeg_or_png",
    "anim.gif": "not_jpeg_or_png",
    "cut.png": "broken",
    "crc.png": "broken",
    "cut.jpg": "broken",
    "empty.png": "empty",
}


async def test_fake_corrupt_and_oversized_photos_are_refused(
    client, app, tmp_path, monkeypatch, database_url
):
    monkeypatch.setattr(app.state.runtime.settings, "data_dir", tmp_path)
    monkeypatch.setattr(app.state.runtime.settings, "photo_max_bytes", 4000)
    _, me = await citizen(client)
    good = png()
    broken_crc = good[:-5] + bytes([good[-5] ^ 0xFF]) + good[-4:]
    cases = [
        (b"just some text pretending", "photo.jpg", 400, "bad_photo"),
        (b"GIF89a" + b"\x00" * 40, "anim.gif", 400, "bad_photo"),
        (good[: len(good) - 12], "cut.png", 400, "bad_photo"),
        (broken_crc, "crc.png", 400, "bad_photo"),
        (JPEG_16[:300], "cut.jpg", 400, "bad_photo"),
        (b"", "empty.png", 400, "bad_photo"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000, "big.png", 413, "photo_too_large"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100_000, "huge.png", 413, "payload_too_large"),  # the whole body
    ]
    for data, name, status, code in cases:
        r = await client.post(
            "/api/v1/reports",
            headers=me,
            data=_multipart_fields(),
            files={"photo": (name, data, "image/png")},
        )
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), name
        if code == "bad_photo":  # why, in a word the phone app translates
            assert r.json()["error"]["details"]["problem"] == PHOTO_PROBLEMS[name], name
    r = await client.post("/api/v1/reports", headers=me, data={**_multipart_fields(), "photo": "not a file"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_photo")
    assert r.json()["error"]["details"] == {"problem": "not_a_file"}
    r = await client.post(
        "/api/v1/reports",
        headers=me,
        data=_multipart_fields(lat="north"),
        files={"photo": ("ok.png", good, "image/png")},
    )
    assert r.status_code == 422
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(0,)]
    assert not (tmp_path / "photos").exists() or not any((tmp_path / "photos").iterdir())


async def test_citizen_sees_only_their_reports_with_progress(client, actors):
    _, me = await citizen(client)
    _, other = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    first = await file_report(client, me)
    second = await file_report(client, me, category="road_damage", description="Jalan berlubang")
    await file_report(client, other, category="fire", description="Asap")
    r = await client.post(f"/api/v1/reports/{first['id']}/verify", headers=dispatcher)
    assert r.status_code == 200
    mine = (await client.get("/api/v1/reports/mine", headers=me)).json()["items"]
    assert [m["id"] for m in mine] == [second["id"], first["id"]]
    assert (mine[1]["status"], mine[1]["incident_status"]) == ("verified", "verified")
    assert (mine[0]["status"], mine[0]["incident_status"]) == ("received", None)


async def test_reports_and_sos_presses_are_rate_limited(client, app, monkeypatch, database_url):
    settings = app.state.runtime.settings
    monkeypatch.setattr(settings, "report_limit_per_account", 2)
    monkeypatch.setattr(settings, "sos_limit_per_account", 1)
    _, me = await citizen(client)
    for _ in range(2):
        await file_report(client, me)
    r = await client.post("/api/v1/reports", headers=me, json=report_body())
    assert (r.status_code, r.json()["error"]["code"]) == (429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(2,)]
    press = {"lat": MALANG[0], "lon": MALANG[1]}
    assert (await client.post("/api/v1/sos", headers=me, json=press)).status_code == 201
    again = await client.post("/api/v1/sos", headers=me, json=press)
    assert again.status_code == 429
    assert await rows(database_url, "SELECT count(*) FROM sos_points") == [(1,)]


async def test_image_bombs_are_refused_by_their_header(client, app, tmp_path, monkeypatch, database_url):
    """280 KB declaring 6000x6000 RGBA16 (288 MB decoded), or more pixels than allowed: 400 before decoding."""
    monkeypatch.setattr(app.state.runtime.settings, "data_dir", tmp_path)
    _, me = await citizen(client)
    for data, problem in ((bomb_png(), "too_deep"), (bomb_png(7000, 7000, 8), "too_many_pixels")):
        r = await client.post(
            "/api/v1/reports",
            headers=me,
            data=_multipart_fields(),
            files={"photo": ("bomb.png", data, "image/png")},
        )
        assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_photo"), r.text
        assert r.json()["error"]["details"]["problem"] == problem
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(0,)]


async def test_refused_reports_do_not_use_up_the_quota(client, app, tmp_path, monkeypatch, database_url):
    settings = app.state.runtime.settings
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    monkeypatch.setattr(settings, "report_limit_per_account", 2)
    monkeypatch.setattr(settings, "report_limit_per_device", 2)
    _, me = await citizen(client)
    phone = {**me, "X-Device-Id": "hp-quota"}
    refusals = [
        await client.post("/api/v1/reports", headers=phone, json=report_body(category="ufo")),
        await client.post("/api/v1/reports", headers=phone, json=report_body(lat=91)),
        await client.post(
            "/api/v1/reports",
            headers=phone,
            data=_multipart_fields(),
            files={"photo": ("x.png", b"not an image", "image/png")},
        ),
    ]
    assert [r.status_code for r in refusals] == [400, 422, 400]
    for _ in range(2):
        r = await client.post("/api/v1/reports", headers=phone, json=report_body())
        assert r.status_code == 201, r.text
    r = await client.post("/api/v1/reports", headers=phone, json=report_body())
    assert (r.status_code, r.json()["error"]["code"]) == (429, "rate_limited")
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(2,)]


async def test_sos_is_not_limited_by_a_shared_address_and_browser(client, app, monkeypatch):
    """A carrier puts thousands of phones behind one address, many with the same browser: no device key."""
    settings = app.state.runtime.settings
    monkeypatch.setattr(settings, "sos_limit_per_device", 2)
    press = {"lat": MALANG[0], "lon": MALANG[1]}
    same_browser = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/126 Mobile"}
    for _ in range(4):
        _, me = await citizen(client)
        r = await client.post("/api/v1/sos", headers={**me, **same_browser}, json=press)
        assert r.status_code == 201, r.text
    # an explicit X-Device-Id is still one phone
    _, me = await citizen(client)
    phone = {**me, "X-Device-Id": "hp-1"}
    _, other = await citizen(client)
    assert (await client.post("/api/v1/sos", headers=phone, json=press)).status_code == 201
    assert (await client.post("/api/v1/sos", headers=phone, json=press)).status_code == 200
    r = await client.post("/api/v1/sos", headers={**other, "X-Device-Id": "hp-1"}, json=press)
    assert (r.status_code, r.json()["error"]["details"]["per"]) == (429, "device")
