"""Open311 GeoReport v2 service requests, driven with literal form-encoded bodies as Open311 clients send
them, and checked against what is stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.agencies.conftest import seed
from tests.forwards.conftest import rows, wait_for
from tests.open311.conftest import new_key, post_form
from tests.reports.helpers import citizen, file_report, png
from tests.test_cli import run

ERROR_KEYS = {"code", "description"}


def request_body(key: str, **overrides: str) -> str:
    fields = {
        "api_key": key,
        "jurisdiction_id": "malang",
        "service_code": "fallen_tree",
        "lat": "-7.9826",
        "long": "112.6308",
        "address_string": "Jl.+Ijen+No.+5%2C+Klojen",
        "email": "dewi%40example.com",
        "device_id": "tt222111",
        "account_id": "123456",
        "first_name": "Dewi",
        "last_name": "Lestari",
        "phone": "0812-3456-7890",
        "description": "Pohon+besar+tumbang+menutup+jalan",
        "media_url": "https%3A%2F%2Fexample.com%2Fmedia%2Fpohon.jpg",
    }
    fields.update(overrides)
    return "&".join(f"{k}={v}" for k, v in fields.items() if v is not None)


def assert_error(r, status: int, fragment: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == ERROR_KEYS
    assert body[0]["code"] == status and fragment in body[0]["description"], body


async def test_a_client_files_a_request_and_reads_it_back(app, client, actors, api_key, database_url):
    await seed(app)
    r = await post_form(client, request_body(api_key))
    assert r.status_code == 201, r.text
    (created,) = r.json()
    assert isinstance(created["service_request_id"], str) and created["account_id"] == "123456"
    assert "verifikasi" in created["service_notice"]
    report_id = int(created["service_request_id"])
    stored = await rows(
        database_url,
        "SELECT r.category, r.description, r.lat, r.lon, r.address, r.device_id, "
        "r.status, u.role, u.username LIKE 'o311-%%', u.full_name FROM reports r "
        "JOIN users u ON u.id = r.citizen_id WHERE r.id = %s",
        report_id,
    )
    assert stored == [
        (
            "fallen_tree",
            "Pohon besar tumbang menutup jalan",
            -7.9826,
            112.6308,
            "Jl. Ijen No. 5, Klojen",
            "tt222111",
            "received",
            "citizen",
            True,
            "Dewi Lestari",
        )
    ]
    extra = await rows(
        database_url,
        "SELECT jurisdiction_id, account_id, email, phone, media_url, attributes "
        "FROM open311_requests WHERE report_id = %s",
        report_id,
    )
    assert extra == [
        ("malang", "123456", "dewi@example.com", "+6281234567890", "https://example.com/media/pohon.jpg", {})
    ]

    one = await client.get(f"/open311/v2/requests/{report_id}.json", params={"jurisdiction_id": "malang"})
    assert one.status_code == 200
    (req,) = one.json()
    assert {
        k: req[k]
        for k in (
            "service_request_id",
            "status",
            "service_code",
            "service_name",
            "description",
            "address",
            "lat",
            "long",
            "media_url",
            "agency_responsible",
        )
    } == {
        "service_request_id": str(report_id),
        "status": "open",
        "service_code": "fallen_tree",
        "service_name": "Pohon tumbang",
        "description": "Pohon besar tumbang menutup jalan",
        "address": "Jl. Ijen No. 5, Klojen",
        "lat": -7.9826,
        "long": 112.6308,
        "media_url": "https://example.com/media/pohon.jpg",
        "agency_responsible": "Command centre",
    }
    assert req["requested_datetime"].endswith("Z") and "Awaiting verification" in req["status_notes"]
    assert {"status_notes", "updated_datetime", "expected_datetime", "zipcode", "address_id"} <= set(req)

    # The same person again (same account_id, same key): the same citizen account; another key: another one.
    again = await post_form(
        client, request_body(api_key, lat="-7.9500", long="112.6000", description="Pohon+kedua")
    )
    other_key = await new_key(app, "another app")
    elsewhere = await post_form(client, request_body(other_key, lat="-7.9400", long="112.6100"))
    assert again.status_code == elsewhere.status_code == 201
    owners = await rows(database_url, "SELECT citizen_id FROM reports ORDER BY id")
    assert owners[0] == owners[1] != owners[2]

    # The command centre works on it: verified, forwarded to DLH, resolved -> closed.
    dispatcher = await actors.user("dispatcher")
    verified = await client.post(f"/api/v1/reports/{report_id}/verify", headers=dispatcher)
    assert verified.status_code == 200, verified.text
    incident_id = verified.json()["incident_id"]
    # The person behind the request earns the points of a verified report.
    awarded = await wait_for(lambda: rows(database_url, "SELECT user_id, points FROM reward_awards"))
    assert awarded == [(owners[0][0], 10)]
    assert (
        await client.post(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)
    ).status_code == 201
    (req,) = (await client.get(f"/open311/v2/requests/{report_id}.json", params={"lang": "en"})).json()
    assert (req["status"], req["agency_responsible"], req["service_name"]) == (
        "open",
        "Dinas Lingkungan Hidup Kota Malang",
        "Fallen tree",
    )
    await rows(
        database_url,
        "UPDATE incidents SET status = 'resolved', updated_at = now() WHERE id = %s",
        incident_id,
    )
    (req,) = (await client.get(f"/open311/v2/requests/{report_id}.json")).json()
    assert req["status"] == "closed" and req["status_notes"].endswith("Resolved.")
    assert req["updated_datetime"] >= req["requested_datetime"]


async def test_listing_filters_and_hides_what_app_users_did_not_publish(app, client, api_key, database_url):
    r = await post_form(
        client, request_body(api_key, service_code="road_damage", description="Jalan+berlubang")
    )
    o311_id = r.json()[0]["service_request_id"]
    _, warga = await citizen(client)
    app_report = await file_report(
        client,
        warga,
        category="fallen_tree",
        description="Rahasia: depan rumah saya",
        address="Jl. Pribadi 1",
    )
    app_id = str(app_report["id"])

    both = (
        await client.get(
            "/open311/v2/requests.json", params={"service_request_id": f"{o311_id},{app_id},999999"}
        )
    ).json()
    assert [q["service_request_id"] for q in both] == [o311_id, app_id]
    hidden = both[1]
    assert (hidden["description"], hidden["address"], hidden["media_url"]) == ("Pohon tumbang", None, None)
    assert both[0]["description"] == "Jalan berlubang"

    listed = (await client.get("/open311/v2/requests.json")).json()
    assert [q["service_request_id"] for q in listed] == [app_id, o311_id]  # newest first
    assert [
        q["service_request_id"]
        for q in (
            await client.get("/open311/v2/requests.json", params={"service_code": "road_damage"})
        ).json()
    ] == [o311_id]
    await rows(database_url, "UPDATE reports SET status = 'rejected' WHERE id = %s", int(app_id))
    closed = (await client.get("/open311/v2/requests.json", params={"status": "closed"})).json()
    opened = (await client.get("/open311/v2/requests.json", params={"status": "open"})).json()
    assert [q["service_request_id"] for q in closed] == [app_id]
    assert [q["service_request_id"] for q in opened] == [o311_id]
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await client.get("/open311/v2/requests.json", params={"start_date": future})).json() == []
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    assert len((await client.get("/open311/v2/requests.json", params={"start_date": past})).json()) == 2

    assert_error(
        await client.get("/open311/v2/requests.json", params={"start_date": "yesterday"}), 400, "start_date"
    )
    assert_error(
        await client.get(
            "/open311/v2/requests.json",
            params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        ),
        400,
        "90 days",
    )
    assert_error(await client.get("/open311/v2/requests.json", params={"status": "pending"}), 400, "status")
    assert_error(
        await client.get("/open311/v2/requests.json", params={"service_request_id": "1;DROP"}),
        400,
        "not a request id",
    )
    assert_error(await client.get("/open311/v2/requests/999999.json"), 404, "not found")
    assert_error(await client.get("/open311/v2/requests/abc.json"), 404, "not found")
    assert_error(
        await client.get("/open311/v2/requests.json", params={"jurisdiction_id": "atlantis"}),
        404,
        "jurisdiction_id",
    )


async def test_bad_requests_get_open311_errors_and_store_nothing(app, client, api_key, database_url):
    cases = [
        (request_body(""), 403, "api_key is required"),
        (request_body("o311_not-a-key"), 403, "invalid api_key"),
        (request_body(api_key, service_code="unicorns"), 404, "service_code"),
        (request_body(api_key, service_code=""), 400, "service_code is required"),
        (request_body(api_key, jurisdiction_id="atlantis"), 404, "jurisdiction_id"),
        (request_body(api_key, lat=None, long=None, address_string=None), 400, "lat and long are required"),
        (request_body(api_key, lat=None), 400, "lat and long are required"),
        (request_body(api_key, lat="north"), 400, "lat must be a number"),
        (request_body(api_key, long="190"), 400, "long must be within"),
        (request_body(api_key, email="not-an-email"), 400, "email"),
        (request_body(api_key, media_url="javascript%3Aalert(1)"), 400, "media_url"),
        (
            request_body(api_key, service_code="crime") + "&attribute[injured]=maybe",
            400,
            "attribute[injured]",
        ),
        (request_body(api_key) + "&attribute[colour]=" + "r" * 1001, 400, "attribute[colour] is longer"),
        (request_body(api_key, lat="0", long="0"), 400, "(0, 0)"),
    ]
    for body, status, fragment in cases:
        assert_error(await post_form(client, body), status, fragment)
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(0,)]
    assert await rows(database_url, "SELECT count(*) FROM users WHERE username LIKE 'o311-%%'") == [(0,)]
    # A phone that is no mobile number (a typo, a landline abroad) is kept as sent, never refused.
    landline = await post_form(client, request_body(api_key, phone="12", account_id="", email=""))
    assert landline.status_code == 201, landline.text
    assert await rows(database_url, "SELECT phone, attributes FROM open311_requests") == [
        (None, {"phone_as_sent": "12"})
    ]


async def test_admins_issue_list_and_revoke_keys(app, client, actors, database_url):
    admin, dispatcher = await actors.user("admin"), await actors.user("dispatcher")
    assert (await client.post("/api/v1/api-keys", headers=dispatcher, json={"label": "x"})).status_code == 403
    made = await client.post("/api/v1/api-keys", headers=admin, json={"label": "Kota app"})
    assert made.status_code == 201
    key, key_id = made.json()["key"], made.json()["id"]
    assert (await post_form(client, request_body(key))).status_code == 201
    listed = (await client.get("/api/v1/api-keys", headers=admin)).json()["items"]
    assert [(k["id"], k["label"], k["prefix"], k["revoked_at"]) for k in listed] == [
        (key_id, "Kota app", key[:12], None)
    ]
    assert listed[0]["last_used_at"] is not None and "key" not in listed[0]
    assert key not in str(await rows(database_url, "SELECT * FROM api_keys"))
    revoked = await client.delete(f"/api/v1/api-keys/{key_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert_error(await post_form(client, request_body(key)), 403, "invalid api_key")
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(1,)]
    assert (await client.delete("/api/v1/api-keys/999", headers=admin)).status_code == 404
    # revoking again changes nothing; issuing and revoking are audited with the admin, never the key
    assert (await client.delete(f"/api/v1/api-keys/{key_id}", headers=admin)).status_code == 200
    me = (await client.get("/api/v1/me", headers=admin)).json()["user_id"]
    audited = await rows(
        database_url,
        "SELECT action, entity_id, actor_id, data->>'label', data->>'prefix' FROM audit_log "
        "WHERE entity_type = 'api_key' ORDER BY id",
    )
    assert audited == [
        ("created", key_id, me, "Kota app", key[:12]),
        ("revoked", key_id, me, "Kota app", key[:12]),
    ]
    assert key not in str(await rows(database_url, "SELECT * FROM audit_log"))


async def test_attributes_blocking_and_rate_limits_apply(
    app, client, actors, api_key, database_url, settings, monkeypatch
):
    await seed(app)
    r = await post_form(
        client,
        request_body(
            api_key, service_code="crime", description="Penjambretan", account_id="", phone="", email=""
        )
        + "&attribute[injured]=yes",
    )
    assert r.status_code == 201, r.text
    report_id = int(r.json()[0]["service_request_id"])
    assert await rows(
        database_url, "SELECT attributes FROM open311_requests WHERE report_id = %s", report_id
    ) == [({"injured": "yes"},)]
    assert await rows(database_url, "SELECT description FROM reports WHERE id = %s", report_id) == [
        ("Penjambretan [korban luka / injured]",)
    ]
    # Forwarding the incident: the Open311 "injured: yes" brings in the nearest hospitals.
    dispatcher = await actors.user("dispatcher")
    incident_id = (await client.post(f"/api/v1/reports/{report_id}/verify", headers=dispatcher)).json()[
        "incident_id"
    ]
    forwarded = (await client.post(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)).json()
    assert sum(f["role"] == "hospital" for f in forwarded["forwards"]) == 3
    # Nobody to reward behind an anonymous request (the API key's account).
    await asyncio.sleep(0.2)
    assert await rows(database_url, "SELECT count(*) FROM reward_awards") == [(0,)]

    # A blocked Open311 identity is refused like a blocked app citizen.
    blocked_body = request_body(api_key, account_id="troll-1", device_id="troll-phone")
    first = await post_form(client, blocked_body + "&attribute[client_id]=troll-1")
    troll = (
        await rows(
            database_url,
            "SELECT citizen_id FROM reports WHERE id = %s",
            int(first.json()[0]["service_request_id"]),
        )
    )[0][0]
    await rows(
        database_url,
        "INSERT INTO citizen_status (user_id, strike_count, blocked_at) VALUES (%s, 3, now())",
        troll,
    )
    # (a retry of the request filed before the block gets its id back; a new one is refused)
    assert (await post_form(client, blocked_body + "&attribute[client_id]=troll-1")).status_code == 200
    assert_error(await post_form(client, blocked_body + "&attribute[client_id]=troll-2"), 403, "blocked")

    # Per device (device_id) limits.
    monkeypatch.setattr(settings, "report_limit_per_device", 2)
    body = request_body(api_key, account_id="", phone="", email="", device_id="flood-phone")
    assert (await post_form(client, body + "&attribute[client_id]=f1")).status_code == 201
    assert (await post_form(client, body + "&attribute[client_id]=f2")).status_code == 201
    limited = await post_form(client, body + "&attribute[client_id]=f3")
    assert_error(limited, 429, "device")
    assert int(limited.headers["Retry-After"]) >= 1
    assert await rows(
        database_url, "SELECT count(*) FROM open311_requests WHERE device_id = 'flood-phone'"
    ) == [(2,)]


def test_create_api_key_command_prints_a_working_key(database_url):
    r = run(database_url, "create-api-key", "--label", "Kota app")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert key.startswith("o311_") and len(key) > 30 and "shown only now" in r.stderr
    import hashlib

    import psycopg

    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT label, key_hash, prefix, revoked_at FROM api_keys").fetchall()
        conn.execute("TRUNCATE api_keys CASCADE")
    assert stored == [("Kota app", hashlib.sha256(key.encode()).hexdigest(), key[:12], None)]
    assert key not in repr(stored[0][1:])
    bad = run(database_url, "create-api-key", "--label", " ")
    assert bad.returncode == 1 and "bad_label" in bad.stderr


async def test_an_uploaded_photo_is_the_reports_photo_and_a_broken_one_is_left_out(
    app, client, actors, api_key, database_url
):
    """A multipart request as FixMyStreet sends one with its photos uploaded (photo1, photo2)."""
    dispatcher = await actors.user("dispatcher")
    fields = {
        "api_key": api_key,
        "service_code": "fallen_tree",
        "lat": "-7.9826",
        "long": "112.6308",
        "description": "Pohon tumbang, foto terlampir",
        "email": "foto@example.com",
    }
    picture, second = png(seed=7), png(seed=8)
    r = await client.post(
        "/open311/v2/requests.json",
        data=fields,
        files={"photo1": ("pohon.png", picture, "image/png"), "photo2": ("dua.png", second, "image/png")},
    )
    assert r.status_code == 201, r.text
    report_id = int(r.json()[0]["service_request_id"])
    evidence = (await client.get(f"/api/v1/reports/{report_id}/evidence", headers=dispatcher)).json()
    assert evidence["photo_url"] == f"/api/v1/reports/{report_id}/photo"
    got = await client.get(evidence["photo_url"], headers=dispatcher)
    assert got.status_code == 200 and got.content == picture

    # not a picture: the request is filed all the same, without it, and the attributes say why
    r = await client.post(
        "/open311/v2/requests.json",
        data={**fields, "email": "rusak@example.com", "description": "Pohon kedua"},
        files={"photo1": ("x.jpg", b"this is not a jpeg", "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    broken = int(r.json()[0]["service_request_id"])
    [(photo, attributes)] = await rows(
        database_url,
        "SELECT r.photo_sha256, o.attributes FROM reports r JOIN open311_requests o ON o.report_id = r.id "
        "WHERE r.id = %s",
        broken,
    )
    assert photo is None and attributes["photo_refused"]
