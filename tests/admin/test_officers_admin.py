"""The admin console's officer routes: roster, edit, deactivate/activate, import (check, fix, skip,
commit with progress), export, phone set-up; each change audited; admin only."""

from __future__ import annotations

import base64
import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

from tests.admin.helpers import audit_rows, roster_csv


def lines(r):
    return [json.loads(x) for x in r.text.splitlines() if x.strip()]


async def test_roster_search_and_pages(client, actors):
    admin = await actors.user("admin")
    ids = [(await actors.officer())[0] for _ in range(3)]
    r = await client.get("/api/v1/officers/roster", headers=admin, params={"limit": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 3 and [o["id"] for o in page["items"]] == ids[:2]
    assert page["items"][0]["active"] is True and page["items"][0]["devices"] == 0
    second = (
        await client.get("/api/v1/officers/roster", headers=admin, params={"limit": 2, "offset": 2})
    ).json()
    assert [o["id"] for o in second["items"]] == ids[2:]
    found = (await client.get("/api/v1/officers/roster", headers=admin, params={"q": "officer 3"})).json()
    assert [o["id"] for o in found["items"]] == [ids[1]]
    dispatcher = await actors.user("dispatcher")
    assert (await client.get("/api/v1/officers/roster", headers=dispatcher)).status_code == 403


async def test_edit_renames_the_login_with_the_badge_and_is_audited(client, actors, database_url):
    admin = await actors.user("admin")
    oid, _ = await actors.officer()
    other, _ = await actors.officer()
    r = await client.patch(
        f"/api/v1/officers/{oid}", headers=admin, json={"badge": "NEW-77", "unit_type": "foot", "sector": ""}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["badge"], r.json()["unit_type"], r.json()["sector"]) == ("NEW-77", "foot", None)
    login = await client.post("/api/v1/auth/token", data={"username": "NEW-77", "password": "secret-pw"})
    assert login.status_code == 200
    [(action, *_, data)] = [
        row for row in await audit_rows(database_url, "officer", oid) if row[0] == "edited"
    ]
    assert data["changes"]["badge"][1] == "NEW-77" and data["changes"]["unit_type"] == ["car", "foot"]
    taken = await client.patch(f"/api/v1/officers/{other}", headers=admin, json={"badge": "NEW-77"})
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "officer_exists")
    empty = await client.patch(f"/api/v1/officers/{oid}", headers=admin, json={"name": None})
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "field_required")
    missing = await client.patch("/api/v1/officers/999999", headers=admin, json={"name": "x"})
    assert missing.status_code == 404


async def test_deactivation_revokes_the_login_and_the_phones(client, actors, database_url):
    admin = await actors.user("admin")
    oid, officer = await actors.officer()
    phone = await client.post(f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "hp-9"})
    token = phone.json()["token"]
    r = await client.post(
        f"/api/v1/officers/{oid}/deactivate", headers=admin, json={"reason": "pindah tugas"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["status"], r.json()["devices"]) == (False, "off_duty", 0)
    assert (await client.get("/api/v1/me", headers=officer)).status_code == 401
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    login = await client.post("/api/v1/auth/token", data={"username": "B0002", "password": "secret-pw"})
    assert login.status_code == 401
    actions = [row[0] for row in await audit_rows(database_url, "officer", oid)]
    assert actions[-2:] == ["device_revoked", "deactivated"]
    back = await client.post(f"/api/v1/officers/{oid}/activate", headers=admin)
    assert back.status_code == 200 and back.json()["active"] is True
    again = await client.post("/api/v1/auth/token", data={"username": "B0002", "password": "secret-pw"})
    assert again.status_code == 200


async def test_a_busy_officer_is_not_deactivated(client, actors):
    admin = await actors.user("admin")
    oid, officer = await actors.officer()
    assert (
        await client.put("/api/v1/me/status", headers=officer, json={"status": "busy"})
    ).status_code == 200
    r = await client.post(f"/api/v1/officers/{oid}/deactivate", headers=admin)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "officer_busy")


async def test_import_reports_rows_then_imports_with_progress(client, actors, database_url):
    admin = await actors.user("admin")
    text = roster_csv(120, bad={7: "tank"})
    r = await client.post("/api/v1/officers/import", headers=admin, json={"csv": text})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["total"], report["good"], report["bad"]) == (120, 119, 1)
    [bad] = report["bad_rows"]
    assert bad["row"] == 8 and bad["columns"] == ["unit_type"] and bad["values"]["badge"] == "R0007"
    refused = await client.post("/api/v1/officers/import?dry_run=false", headers=admin, json={"csv": text})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "roster_invalid")
    assert refused.json()["error"]["details"]["bad_rows"][0]["row"] == 8
    fixed = {"csv": text, "fixes": {"8": {"unit_type": "car"}}}
    r = await client.post("/api/v1/officers/import?dry_run=false", headers=admin, json=fixed)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    out = lines(r)
    progress = [x["done"] for x in out if x["type"] == "progress"]
    assert progress == [0, 50, 100, 120]
    done = out[-1]
    assert done["type"] == "done" and done["report"]["imported"] == 120
    creds = {c["badge"]: c["password"] for c in done["report"]["credentials"]}
    assert len(creds) == 120
    login = await client.post("/api/v1/auth/token", data={"username": "R0007", "password": creds["R0007"]})
    assert login.status_code == 200
    roster = (await client.get("/api/v1/officers/roster", headers=admin, params={"q": "R0007"})).json()
    assert roster["items"][0]["unit_type"] == "car" and roster["items"][0]["devices"] == 1
    assert len([r for r in await audit_rows(database_url, "officer") if r[0] == "created"]) == 120
    again = (await client.post("/api/v1/officers/import", headers=admin, json={"csv": text})).json()
    assert again["good"] == 0 and again["bad"] == 120  # every badge exists now


async def test_import_skips_rows_and_stops_without_a_trace_on_a_conflict(client, actors, database_url):
    admin = await actors.user("admin")
    text = roster_csv(3, bad={2: "tank"})
    r = await client.post(
        "/api/v1/officers/import?dry_run=false", headers=admin, json={"csv": text, "skip": [3]}
    )
    done = lines(r)[-1]
    assert done["report"]["imported"] == 2 and done["report"]["skipped"] == [3]
    empty = await client.post(
        "/api/v1/officers/import?dry_run=false", headers=admin, json={"csv": "badge,name,unit_type\n"}
    )
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "roster_empty")


async def test_export_is_the_import_format(client, actors):
    admin = await actors.user("admin")
    oid, _ = await actors.officer(device_id="hp-export")
    await client.post(f"/api/v1/officers/{oid}/deactivate", headers=admin)
    await actors.officer()
    r = await client.get("/api/v1/officers/export.csv", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["badge"], x["active"], x["device_id"]) for x in rows] == [
        ("B0002", "false", ""),  # deactivation revoked the phone
        ("B0003", "true", ""),
    ]
    check = (await client.post("/api/v1/officers/import", headers=admin, json={"csv": r.text})).json()
    assert check["bad"] == 2 and all("already exists" in b["problems"][0] for b in check["bad_rows"])


async def test_phone_setup_links_and_qr_codes(client, actors):
    admin = await actors.user("admin")
    oid, _ = await actors.officer()
    phone = (
        await client.post(f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "hp-qr"})
    ).json()
    url = f"/api/v1/officers/{oid}/devices/{phone['id']}/setup"
    r = await client.post(url, headers=admin, json={"token": phone["token"]})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["server_url"] == "http://test" and s["reachable"] is True
    q = parse_qs(urlsplit(s["traccar"]["link"]).query)
    assert q["url"] == ["http://test/osmand"] and q["id"] == ["hp-qr"]
    assert s["traccar"]["qr_svg"].startswith("data:image/svg+xml")
    config = json.loads(base64.b64decode(s["owntracks"]["link"].split("inline=", 1)[1]))
    assert (config["username"], config["password"], config["deviceId"]) == ("B0002", phone["token"], "hp-qr")
    without = (await client.post(url, headers=admin)).json()
    assert without["owntracks"] is None and without["traccar"]["link"] == s["traccar"]["link"]
    wrong = await client.post(url, headers=admin, json={"token": "jd_not-it"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "wrong_device_token")
    await client.delete(f"/api/v1/officers/{oid}/devices/{phone['id']}", headers=admin)
    revoked = await client.post(url, headers=admin)
    assert (revoked.status_code, revoked.json()["error"]["code"]) == (409, "device_revoked")


async def test_device_changes_are_audited_with_the_admin(client, actors, database_url):
    admin = await actors.user("admin")
    me = (await client.get("/api/v1/me", headers=admin)).json()["user_id"]
    oid, _ = await actors.officer()
    phone = (
        await client.post(f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "hp-a"})
    ).json()
    await client.delete(f"/api/v1/officers/{oid}/devices/{phone['id']}", headers=admin)
    rows = [
        (r[0], r[3], r[5]["identifier"])
        for r in await audit_rows(database_url, "officer", oid)
        if "device" in r[0]
    ]
    assert rows == [("device_registered", me, "hp-a"), ("device_revoked", me, "hp-a")]
