"""The phone web app (/app) in Debian's Chromium, emulating a phone in Malang: a citizen registers, files a
report with a photo and presses SOS; an officer receives an offer and accepts it; the offline queue
delivers exactly once. Screenshots of each screen go to test-output/screenshots/."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import MALANG, Phone, require_endpoints, shot
from tests.reports.helpers import citizen, file_report, fleet, rows, verified_incident

pytestmark = pytest.mark.browser

CITIZEN_ENDPOINTS = (
    "POST /api/v1/citizens",
    "GET /api/v1/categories",
    "POST /api/v1/reports",
    "GET /api/v1/reports/mine",
)
SOS_ENDPOINTS = ("POST /api/v1/sos", "POST /api/v1/sos/{sos_id}/location")
OFFICER_ENDPOINTS = (
    "GET /api/v1/me/offers",
    "POST /api/v1/offers/{offer_id}/accept",
    "POST /api/v1/incidents/{incident_id}/dispatch",
    "POST /api/v1/incidents/{incident_id}/status",
    "POST /api/v1/reports/{report_id}/verify",
)
PhoneFactory = Callable[[], Awaitable[Phone]]


async def wait_for(predicate: Callable[[], Awaitable[Any]], within_s: float = 15.0, what: str = "it") -> Any:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def test_app_shell_installs_and_starts_offline(phone: PhoneFactory, client: httpx.AsyncClient) -> None:
    """Manifest + service worker: the app is installable, and a reload without network still starts it."""
    p = await phone()
    page = await p.open()
    assert await page.is_visible("#screen-login")
    assert await page.text_content("#form-login button[type=submit]") == "Masuk"
    await shot(page, "01-login")
    manifest = await page.evaluate("""async () => {
        const href = document.querySelector('link[rel=manifest]').href;
        return (await fetch(href)).json();
    }""")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app"
    # the service worker takes control of /app (scope /app via Service-Worker-Allowed)
    scope = await page.evaluate("""async () => {
        const reg = await navigator.serviceWorker.ready;
        for (let i = 0; i < 50 && !navigator.serviceWorker.controller; i++) {
            await new Promise(r => setTimeout(r, 100));
        }
        return [reg.scope, Boolean(navigator.serviceWorker.controller)];
    }""")
    assert scope[0].endswith("/app") and scope[1], scope
    await page.click("#login-tabs button[data-form=register]")
    await shot(page, "02-register")
    # English switch; the choice survives a reload
    await page.click("#lang")
    assert await page.text_content("#form-register button[type=submit]") == "Register"
    assert await page.get_attribute("html", "lang") == "en"
    await p.context.set_offline(True)
    await page.reload()
    await page.wait_for_selector("body[data-ready='true']")
    assert await page.get_attribute("#net", "data-state") == "offline"
    assert await page.text_content("#form-login button[type=submit]") == "Log in"
    await shot(page, "03-offline-start-en")
    await p.context.set_offline(False)
    await page.click("#lang")
    assert await page.text_content("#form-login button[type=submit]") == "Masuk"


# ---------------------------------------------------------------------------------------------------------
# helpers


async def register_in_page(page: Any, name: str, phone_number: str, password: str) -> None:
    await page.click("#login-tabs button[data-form=register]")
    await page.fill("#reg-name", name)
    await page.fill("#reg-phone", phone_number)
    await page.fill("#reg-pass", password)
    await page.click("#form-register button[type=submit]")
    await page.wait_for_selector("#screen-citizen", state="visible")


async def log_in(page: Any, username: str, password: str, screen: str) -> None:
    await page.fill("#login-user", username)
    await page.fill("#login-pass", password)
    await page.click("#form-login button[type=submit]")
    await page.wait_for_selector(f"#screen-{screen}", state="visible")


async def open_report_form(page: Any) -> None:
    await page.click("#tabs button[data-tab=report]")
    await page.wait_for_function("() => document.querySelectorAll('#rep-category option').length > 1")
    await page.wait_for_function("() => document.getElementById('rep-gps').textContent.startsWith('GPS')")


async def fill_report(page: Any, photo: Path, category: str, description: str) -> None:
    await page.select_option("#rep-category", category)
    await page.fill("#rep-desc", description)
    await page.set_input_files("#rep-photo", str(photo))
    await page.wait_for_selector("#rep-photo-box", state="visible")
    # a 2400×1600 camera picture leaves the phone as a ≤1600 px JPEG
    assert "1600×1067" in (await page.text_content("#rep-photo-info") or "")


async def scalar(database_url: str, sql: str, *params: Any) -> Any:
    found = await rows(database_url, sql, *params)
    return found[0][0] if found else None


async def user_id(database_url: str, phone_number: str) -> int:
    found = await rows(database_url, "SELECT id, role FROM users WHERE phone = %s", phone_number)
    assert found and found[0][1] == "citizen", found
    return int(found[0][0])


async def local_number(database_url: str, uid: int) -> str:
    """The citizen's number the way people type it: +6281200000001 → "0812 0000 0001"."""
    e164 = str(await scalar(database_url, "SELECT phone FROM users WHERE id = %s", uid))
    digits = "0" + e164.removeprefix("+62")
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


async def sw_controls(page: Any) -> None:
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")


# ---------------------------------------------------------------------------------------------------------
# (a) a citizen registers, reports with a photo and presses SOS


async def test_citizen_registers_reports_with_photo_and_presses_sos(
    phone: PhoneFactory,
    client: httpx.AsyncClient,
    server_api: httpx.AsyncClient,
    database_url: str,
    camera_photo: Path,
) -> None:
    await require_endpoints(server_api, *CITIZEN_ENDPOINTS, *SOS_ENDPOINTS)
    p = await phone()
    page = await p.open()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await register_in_page(page, "Siti Aminah", "0812-3456-7001", "rahasia-123")
    uid = await user_id(database_url, "+6281234567001")
    await page.wait_for_selector("#sos-btn", state="visible")
    await shot(page, "04-citizen-sos")

    await open_report_form(page)
    await fill_report(
        page, camera_photo, "traffic_accident", "Tabrakan motor dan mobil di perempatan, satu orang luka"
    )
    # the pin starts at the phone's fix; dragging it moves where the incident is reported
    before = float(await page.get_attribute("#rep-coords", "data-lat") or "nan")
    box = await page.locator("#rep-map .leaflet-marker-icon").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + 30, y + 45, steps=8)
    await page.mouse.up()
    await page.wait_for_function(f"() => +document.getElementById('rep-coords').dataset.lat < {before}")
    pin_lat = float(await page.get_attribute("#rep-coords", "data-lat") or "nan")
    pin_lon = float(await page.get_attribute("#rep-coords", "data-lon") or "nan")
    await page.fill("#rep-address", "Jl. Basuki Rahmat, depan Alun-Alun")
    await shot(page, "05-report-form")
    await page.click("#form-report button[type=submit]")
    await page.wait_for_selector("#rep-last[data-state=sent]")
    await shot(page, "06-report-sent")
    found = await rows(
        database_url,
        "SELECT category, description, lat, lon, reporter_lat, reporter_lon, "
        "address, photo_sha256, photo_type, device_id FROM reports WHERE citizen_id = %s",
        uid,
    )
    assert len(found) == 1, found
    category, description, lat, lon, reporter_lat, reporter_lon, address, sha, photo_type, device = found[0]
    assert category == "traffic_accident" and description.startswith("Tabrakan motor")
    assert abs(lat - pin_lat) < 1e-5 and abs(lon - pin_lon) < 1e-5 and lat < -7.9797
    assert abs(reporter_lat - (-7.9797)) < 1e-6 and abs(reporter_lon - 112.6304) < 1e-6
    assert address == "Jl. Basuki Rahmat, depan Alun-Alun"
    assert sha and "jpeg" in photo_type.lower()
    assert device and device.startswith("web-")

    await page.click("#tabs button[data-tab=mine]")
    await page.wait_for_selector("#mine-list li.report")
    assert "Diterima" in (await page.text_content("#mine-list") or "")
    await shot(page, "07-my-reports")

    await page.click("#tabs button[data-tab=sos]")
    await page.click("#sos-btn")
    await page.wait_for_selector("#sos-screen[data-state=active]")
    assert await page.text_content("#sos-title") == "SOS aktif"
    sos = await rows(
        database_url,
        "SELECT s.id, i.source, i.priority, i.status FROM sos_calls s "
        "JOIN incidents i ON i.id = s.incident_id WHERE s.citizen_id = %s",
        uid,
    )
    assert len(sos) == 1 and sos[0][1:] == ("sos", 1, "new"), sos
    sos_id = sos[0][0]

    async def trail() -> int:
        return int(await scalar(database_url, "SELECT count(*) FROM sos_points WHERE sos_id = %s", sos_id))

    async def trail_at_least(n: int) -> bool:
        return await trail() >= n

    assert await trail() == 1
    # the phone moves: while the SOS is open its position keeps going out (at most one update per 5 s)
    await asyncio.sleep(5.2)
    await p.context.set_geolocation({"latitude": -7.9770, "longitude": 112.6340, "accuracy": 8})
    await wait_for(lambda: trail_at_least(2), within_s=20, what="an SOS location update")
    [moved] = await rows(
        database_url, "SELECT lat, lon FROM sos_points WHERE sos_id = %s ORDER BY id DESC LIMIT 1", sos_id
    )
    assert abs(moved[0] - (-7.9770)) < 1e-6 and abs(moved[1] - 112.6340) < 1e-6
    await page.wait_for_function("() => /: [2-9]/.test(document.getElementById('sos-updates').textContent)")
    await shot(page, "08-sos-active")

    await page.click("#tabs button[data-tab=account]")
    await page.wait_for_function("() => document.getElementById('strikes').textContent.includes('0')")
    await shot(page, "09-account")

    await page.click("#lang")  # English
    await page.click("#tabs button[data-tab=sos]")
    assert await page.text_content("#sos-title") == "SOS active"
    await shot(page, "10-sos-active-en")
    await page.click("#lang")

    await page.click("#sos-stop")  # confirm() accepted by the dialog handler
    await page.wait_for_selector("#sos-screen[data-state=idle]")
    assert await page.is_visible("#sos-btn")
    assert len(await rows(database_url, "SELECT id FROM sos_calls WHERE citizen_id = %s", uid)) == 1


# ---------------------------------------------------------------------------------------------------------
# (b) an officer receives an offer and accepts it


async def test_officer_receives_an_offer_and_accepts_it(
    phone: PhoneFactory,
    actors: Any,
    server_api: httpx.AsyncClient,
    database_url: str,
) -> None:
    await require_endpoints(server_api, *OFFICER_ENDPOINTS, *CITIZEN_ENDPOINTS)
    officer_id, _ = await actors.officer(unit_type="motorbike")
    badge = await scalar(database_url, "SELECT badge FROM officers WHERE id = %s", officer_id)
    dispatcher = await actors.user("dispatcher")

    p = await phone()
    page = await p.open()
    await log_in(page, badge, "secret-pw", "officer")
    await page.wait_for_selector("#ws-state[data-state=live]")

    async def officer_status() -> str:
        return str(await scalar(database_url, "SELECT status FROM officers WHERE id = %s", officer_id))

    await page.click("#duty button[data-status=off_duty]")
    await page.wait_for_selector("#duty[data-status=off_duty]")
    assert await officer_status() == "off_duty"
    await page.click("#duty button[data-status=available]")
    await page.wait_for_selector("#duty[data-status=available]")
    assert await officer_status() == "available"
    # GPS from the page over the officer socket: pings acknowledged after commit
    await page.check("#gps-stream")
    await page.wait_for_function("() => Number(document.getElementById('gps-count').dataset.acked || 0) >= 1")
    assert (
        await scalar(database_url, "SELECT count(*) FROM officer_positions WHERE officer_id = %s", officer_id)
        == 1
    )
    await shot(page, "11-officer-duty")

    # a citizen's report, verified and dispatched to this officer by a dispatcher
    _, reporter = await citizen(server_api, "Budi")
    incident_id = await verified_incident(
        server_api,
        reporter,
        dispatcher,
        category="crime",
        description="Penjambretan di depan toko",
        lat=-7.9712,
        lon=112.6330,
        reporter_lat=-7.9713,
        reporter_lon=112.6331,
        address="Jl. Kawi",
    )
    r = await server_api.post(
        f"/api/v1/incidents/{incident_id}/dispatch", headers=dispatcher, json={"officer_id": officer_id}
    )
    assert r.status_code == 201, r.text

    await page.wait_for_selector("#offer-card", state="visible")
    # the alert rang (WebAudio siren + vibration)
    await page.wait_for_function("() => Number(document.getElementById('offer-card').dataset.alerts) >= 1")
    # ~1 km from the page's GPS fix (Alun-Alun) to the report; ETA by motorbike
    assert re.fullmatch(r"\d+ m|\d+(,\d)? km", await page.text_content("#offer-distance") or ""), "distance"
    assert re.fullmatch(r"\d+ (dtk|mnt)", await page.text_content("#offer-eta") or ""), "eta"
    assert "Jawab dalam" in (await page.text_content("#offer-countdown") or "")
    await shot(page, "12-officer-offer")
    offer_id = int(await page.get_attribute("#offer-card", "data-offer-id") or 0)
    await page.click("#offer-accept")
    await page.wait_for_selector("#job-card", state="visible")
    await page.wait_for_selector("#offer-card", state="hidden")
    offer = await rows(
        database_url,
        "SELECT o.status, o.officer_id, i.status, i.officer_id FROM offers o "
        "JOIN incidents i ON i.id = o.incident_id WHERE o.id = %s",
        offer_id,
    )
    assert offer == [("accepted", officer_id, "dispatched", officer_id)], offer
    assert await officer_status() == "busy"
    assert (await page.get_attribute("#nav-geo", "href") or "").startswith("geo:-7.97")
    assert (await page.get_attribute("#nav-web", "href") or "").startswith(
        "https://www.google.com/maps/dir/?api=1&destination=-7.97"
    )
    await shot(page, "13-officer-job")

    async def incident_is(status: str) -> bool:
        return await scalar(database_url, "SELECT status FROM incidents WHERE id = %s", incident_id) == status

    for step in ("en_route", "on_scene", "resolved"):
        await page.click(f"#job-steps button[data-step={step}]")
        await wait_for(lambda s=step: incident_is(s), what=f"incident {step}")  # type: ignore[misc]
        if step == "en_route":
            await page.wait_for_selector("#job-card[data-status=en_route]")
            await shot(page, "14-officer-en-route")
    await page.wait_for_selector("#job-card", state="hidden")
    assert await scalar(database_url, "SELECT status FROM offers WHERE id = %s", offer_id) == "completed"
    assert await officer_status() == "available"
    await shot(page, "15-officer-resolved")

    # the next offer is declined: the button answers before the deadline
    second = await verified_incident(
        server_api,
        reporter,
        dispatcher,
        category="fire",
        description="Asap dari gudang",
        lat=-7.9660,
        lon=112.6360,
    )
    r = await server_api.post(
        f"/api/v1/incidents/{second}/dispatch", headers=dispatcher, json={"officer_id": officer_id}
    )
    assert r.status_code == 201, r.text
    await page.wait_for_selector(f"#offer-card[data-offer-id='{r.json()['id']}']", state="visible")
    await page.click("#offer-decline")
    await page.wait_for_selector("#offer-card", state="hidden")
    assert await scalar(database_url, "SELECT status FROM offers WHERE id = %s", r.json()["id"]) == "declined"
    assert await officer_status() == "available"


# ---------------------------------------------------------------------------------------------------------
# (c) offline: queued, then delivered exactly once


async def test_offline_report_is_queued_and_sent_exactly_once(
    phone: PhoneFactory,
    client: httpx.AsyncClient,
    server_api: httpx.AsyncClient,
    database_url: str,
    camera_photo: Path,
) -> None:
    await require_endpoints(server_api, *CITIZEN_ENDPOINTS)
    uid, _ = await citizen(server_api, "Dewi")
    typed = await local_number(database_url, uid)
    p = await phone()
    page = await p.open()
    keys: dict[str, list[str | None]] = {"/api/v1/reports": [], "/api/v1/sos": []}
    page.on(
        "request",
        lambda req: (
            keys[path].append(req.headers.get("idempotency-key"))
            if req.method == "POST" and (path := "/" + req.url.split("/", 3)[3]) in keys
            else None
        ),
    )
    await log_in(page, typed, "rahasia-1", "citizen")  # as typed: the app retries as +62...
    await sw_controls(page)
    await open_report_form(page)

    await p.context.set_offline(True)
    await page.wait_for_selector("#net[data-state=offline]")
    await fill_report(page, camera_photo, "fallen_tree", "Pohon tumbang menutup jalan, belum ada petugas")
    await page.click("#form-report button[type=submit]")
    await page.wait_for_selector("#rep-last[data-state=pending]")
    assert "Tertunda" in (await page.text_content("#rep-last") or "")
    await page.wait_for_selector("#tab-report .outbox-item[data-state=pending]")
    await shot(page, "16-offline-pending")
    await asyncio.sleep(1.0)
    assert await scalar(database_url, "SELECT count(*) FROM reports WHERE citizen_id = %s", uid) == 0

    # still offline: the app restarts from the service worker's cache and the report is still queued
    await page.reload()
    await page.wait_for_selector("body[data-ready='true']")
    await page.click("#tabs button[data-tab=mine]")
    await page.wait_for_selector("#outbox .outbox-item[data-state=pending]")
    assert await page.get_attribute("#net", "data-state") == "offline"
    await shot(page, "17-offline-restart-queue")

    await p.context.set_offline(False)
    await page.wait_for_selector("#outbox .outbox-item[data-state=sent]", timeout=20_000)
    assert "Terkirim" in (await page.text_content("#outbox .outbox-item") or "")
    await page.wait_for_selector("#mine-list li.report")
    await shot(page, "18-online-sent")
    found = await rows(database_url, "SELECT category, photo_sha256 FROM reports WHERE citizen_id = %s", uid)
    assert len(found) == 1 and found[0][0] == "fallen_tree" and found[0][1], found

    # an SOS pressed offline waits in the same queue and opens as soon as the connection is back
    await p.context.set_offline(True)
    await page.click("#tabs button[data-tab=sos]")
    await page.click("#sos-btn")
    await page.wait_for_selector("#sos-screen[data-state=pending]")
    assert await page.text_content("#sos-title") == "SOS menunggu koneksi"
    assert await page.is_visible("#sos-call a[href='tel:110']")
    await shot(page, "19-offline-sos-pending")
    await asyncio.sleep(0.5)
    assert await scalar(database_url, "SELECT count(*) FROM sos_calls WHERE citizen_id = %s", uid) == 0
    await p.context.set_offline(False)
    await page.wait_for_selector("#sos-screen[data-state=active]", timeout=20_000)
    await shot(page, "20-sos-active-after-reconnect")
    assert await scalar(database_url, "SELECT count(*) FROM sos_calls WHERE citizen_id = %s", uid) == 1

    # every attempt of one item carried the item's key (offline attempts never left the phone)
    for path, sent in keys.items():
        assert sent and None not in sent and len(set(sent)) == 1, (path, sent)


async def test_lost_answer_is_retried_with_the_same_key_and_not_duplicated(
    phone: PhoneFactory,
    client: httpx.AsyncClient,
    server_api: httpx.AsyncClient,
    database_url: str,
    camera_photo: Path,
) -> None:
    """The server commits the report but the answer never reaches the phone: the retry carries the same
    Idempotency-Key, the server replays its first answer, and there is still one report."""
    await require_endpoints(server_api, *CITIZEN_ENDPOINTS)
    uid, _ = await citizen(server_api, "Eko")
    # no service worker here, so page.route sees every request of the page
    p = await phone(service_workers="block")
    page = await p.open()
    attempts: list[dict[str, Any]] = []

    async def drop_first_answer(route: Any) -> None:
        request = route.request
        if request.method != "POST":
            await route.continue_()
            return
        response = await route.fetch()
        attempts.append(
            {
                "key": request.headers.get("idempotency-key"),
                "status": response.status,
                "replayed": response.headers.get("idempotent-replayed"),
                "body": json.loads(await response.text()),
            }
        )
        if len(attempts) == 1:
            await route.abort("connectionreset")  # committed on the server, lost on the way back
        else:
            await route.fulfill(response=response)

    await page.route("**/api/v1/reports", drop_first_answer)
    await log_in(page, await local_number(database_url, uid), "rahasia-1", "citizen")
    await open_report_form(page)
    await fill_report(page, camera_photo, "road_damage", "Jalan berlubang besar di tikungan")
    await page.click("#form-report button[type=submit]")
    await page.wait_for_selector("#rep-last[data-state=sent]", timeout=20_000)
    assert len(attempts) == 2, attempts
    assert attempts[0]["key"] and attempts[0]["key"] == attempts[1]["key"]
    assert attempts[0]["status"] == attempts[1]["status"] == 201
    assert attempts[1]["replayed"] == "true" and attempts[1]["body"]["id"] == attempts[0]["body"]["id"]
    assert await scalar(database_url, "SELECT count(*) FROM reports WHERE citizen_id = %s", uid) == 1


# ---------------------------------------------------------------------------------------------------------
# warnings, strikes and the appeal of a blocked account


async def test_blocked_citizen_sees_the_warnings_and_appeals(
    phone: PhoneFactory,
    actors: Any,
    server_api: httpx.AsyncClient,
    database_url: str,
) -> None:
    await require_endpoints(
        server_api,
        *CITIZEN_ENDPOINTS,
        "POST /api/v1/reports/{report_id}/reject",
        "GET /api/v1/me/warnings",
        "POST /api/v1/appeals",
    )
    dispatcher = await actors.user("dispatcher")
    uid, hoaxer = await citizen(server_api, "Fajar")
    for n in range(3):  # three false reports, each rejected as false: three strikes, blocked
        report = await file_report(
            server_api, hoaxer, category="fire", description=f"Kebakaran palsu {n}", lat=-7.96 - n / 100
        )
        r = await server_api.post(
            f"/api/v1/reports/{report['id']}/reject",
            headers=dispatcher,
            json={"reason": "false", "note": "hoaks"},
        )
        assert r.status_code == 200, r.text

    p = await phone()
    page = await p.open()
    await log_in(page, await local_number(database_url, uid), "rahasia-1", "citizen")
    await page.wait_for_selector("#tab-sos .blocked-banner", state="visible")
    await page.click("#tab-sos .blocked-banner button")  # "Ajukan banding" opens the account tab
    await page.wait_for_selector("#appeal-box", state="visible")
    assert await page.text_content("#strikes") == "Pelanggaran: 3 dari 3"
    assert await page.locator("#warnings-list li").count() == 3
    await page.fill("#appeal-text", "Saya salah pilih lokasi, mohon akun dibuka kembali.")
    await shot(page, "21-blocked-appeal")
    await page.click("#appeal-submit")
    await page.wait_for_selector("#appeal-box[data-appeal=pending]")
    assert await page.is_hidden("#form-appeal")
    assert "menunggu keputusan" in (await page.text_content("#appeal-status") or "")
    await shot(page, "22-appeal-pending")
    found = await rows(database_url, "SELECT status, text FROM appeals WHERE user_id = %s", uid)
    assert found == [("pending", "Saya salah pilih lokasi, mohon akun dibuka kembali.")], found


# ---------------------------------------------------------------------------------------------------------
# the officer's GPS through a tunnel, and the duty state after a new login

# navigator.geolocation as a controllable fake: window.__geo.fix(lat, lon) delivers a fix to every watch,
# window.__geo.fail(code) an error (1 denied, 2 unavailable, 3 timeout); __geo.starts counts watchPosition calls
FAKE_GEOLOCATION = """(() => {
  const watchers = new Map();
  let next = 1, starts = 0, current = null;
  const pos = (f) => ({ timestamp: Date.now(), coords: { latitude: f.lat, longitude: f.lon, accuracy: f.acc,
    altitude: null, altitudeAccuracy: null, heading: null, speed: null } });
  const err = (code) => ({ code, message: 'fake ' + code, PERMISSION_DENIED: 1, POSITION_UNAVAILABLE: 2, TIMEOUT: 3 });
  const fake = {
    watchPosition(ok, bad) {
      const id = next++;
      starts += 1;
      watchers.set(id, { ok, bad });
      if (current) setTimeout(() => { const w = watchers.get(id); if (w && current) w.ok(pos(current)); }, 50);
      return id;
    },
    clearWatch(id) { watchers.delete(id); },
    getCurrentPosition(ok, bad) { setTimeout(() => (current ? ok(pos(current)) : bad(err(3))), 10); },
  };
  Object.defineProperty(Navigator.prototype, 'geolocation', { configurable: true, get: () => fake });
  window.__geo = {
    fix(lat, lon, acc = 9) { current = { lat, lon, acc }; for (const w of [...watchers.values()]) w.ok(pos(current)); },
    fail(code) { current = null; for (const w of [...watchers.values()]) w.bad(err(code)); },
    get watching() { return watchers.size; },
    get starts() { return starts; },
  };
})();"""


async def test_officer_gps_keeps_retrying_through_a_lost_signal(
    actors: Any, phone: PhoneFactory, server_api: httpx.AsyncClient, database_url: str
) -> None:
    """A timeout or 'position unavailable' (tunnel, indoors) restarts the watch with backoff and shows that it
    searches; fixes go out again when they come back. A denied permission switches it off, saying how to fix it."""
    await require_endpoints(server_api, "GET /api/v1/me")
    officer_id, _ = await actors.officer(unit_type="car")
    badge = await scalar(database_url, "SELECT badge FROM officers WHERE id = %s", officer_id)
    p = await phone()
    await p.context.add_init_script(FAKE_GEOLOCATION)
    page = await p.open()
    await log_in(page, badge, "secret-pw", "officer")
    await page.wait_for_selector("#ws-state[data-state=live]")

    async def positions() -> int:
        return int(await scalar(database_url, "SELECT count(*) FROM pings WHERE officer_id = %s", officer_id))

    acked = "() => Number(document.getElementById('gps-count').dataset.acked || 0)"
    await page.check("#gps-stream")
    await page.wait_for_selector("#gps-state[data-state=searching]")
    assert await page.text_content("#gps-state") == "GPS: mencari sinyal…"
    await page.evaluate("() => window.__geo.fix(-7.9797, 112.6304, 9)")
    await page.wait_for_function(f"() => ({acked})() >= 1")
    await page.wait_for_selector("#gps-state[data-state=ok]")
    assert "±9 m" in (await page.text_content("#gps-state") or "")

    # into the tunnel: a timeout, then "position unavailable" on the restarted watch
    starts = await page.evaluate("() => window.__geo.starts")
    await page.evaluate("() => window.__geo.fail(3)")
    await page.wait_for_selector("#gps-state[data-state=searching]")
    assert await page.is_checked("#gps-stream"), "one timeout switched the page's GPS off"
    assert "mencari sinyal" in (await page.text_content("#gps-state") or "")
    await shot(page, "23-officer-gps-searching")
    await page.wait_for_function(f"() => window.__geo.starts > {starts} && window.__geo.watching === 1")
    await page.evaluate("() => window.__geo.fail(2)")
    await page.wait_for_function("() => /2 dtk/.test(document.getElementById('gps-state').textContent)")
    await page.wait_for_function(f"() => window.__geo.starts > {starts + 1} && window.__geo.watching === 1")
    assert await page.is_checked("#gps-stream")
    assert await page.evaluate("() => localStorage.getItem('jogo.app.gps')") == "on"

    # out of the tunnel: the next fix goes out on the restarted watch
    await page.evaluate("() => window.__geo.fix(-7.9790, 112.6310, 11)")
    await page.wait_for_function(f"() => ({acked})() >= 2")
    await page.wait_for_selector("#gps-state[data-state=ok]")
    await wait_for(lambda: _at_least(positions, 2), what="the second position stored")
    await shot(page, "24-officer-gps-back")

    # English, then a denied permission: switched off, with what to do
    await page.click("#lang")
    await page.evaluate("() => window.__geo.fail(3)")
    await page.wait_for_selector("#gps-state[data-state=searching]")
    assert "searching for a signal" in (await page.text_content("#gps-state") or "")
    await page.wait_for_function("() => window.__geo.watching === 1")
    await page.evaluate("() => window.__geo.fail(1)")
    await page.wait_for_selector("#gps-state[data-state=denied]")
    assert not await page.is_checked("#gps-stream")
    text = await page.text_content("#gps-state") or ""
    assert "permission denied" in text and "Allow" in text, text
    await page.wait_for_function("() => window.__geo.watching === 0")
    await asyncio.sleep(1.5)  # no restart after a denial
    assert await page.evaluate("() => window.__geo.watching") == 0
    await shot(page, "25-officer-gps-denied-en")
    await page.click("#lang")


async def _at_least(count: Callable[[], Awaitable[int]], n: int) -> bool:
    return await count() >= n


async def test_officer_duty_state_comes_back_from_the_server(
    actors: Any, phone: PhoneFactory, server_api: httpx.AsyncClient, database_url: str
) -> None:
    await require_endpoints(server_api, "GET /api/v1/me", "PUT /api/v1/me/status")
    officer_id, _ = await actors.officer(unit_type="motorbike")
    badge = await scalar(database_url, "SELECT badge FROM officers WHERE id = %s", officer_id)
    dispatcher = await actors.user("dispatcher")
    p = await phone()
    page = await p.open()
    await log_in(page, badge, "secret-pw", "officer")
    await page.click("#duty button[data-status=available]")
    await page.wait_for_selector("#duty[data-status=available]")

    await page.click("#logout")
    await page.wait_for_selector("#screen-login", state="visible")
    await log_in(page, badge, "secret-pw", "officer")
    await page.wait_for_selector("#duty[data-status=available]")
    assert await page.text_content("#duty-now") == "Siaga"
    assert await page.get_attribute("#duty button[data-status=available]", "aria-pressed") == "true"
    await shot(page, "26-officer-duty-restored")

    # the command centre changes it while the officer is logged out: the next login shows the server's word
    await page.click("#logout")
    await page.wait_for_selector("#screen-login", state="visible")
    r = await server_api.put(
        f"/api/v1/officers/{officer_id}/status", headers=dispatcher, json={"status": "off_duty"}
    )
    assert r.status_code == 200, r.text
    await log_in(page, badge, "secret-pw", "officer")
    await page.wait_for_selector("#duty[data-status=off_duty]")
    assert await page.text_content("#duty-now") == "Lepas dinas"
    # and a reload asks the server again
    r = await server_api.put(
        f"/api/v1/officers/{officer_id}/status", headers=dispatcher, json={"status": "busy"}
    )
    assert r.status_code == 200, r.text
    await page.reload()
    await page.wait_for_selector("#duty[data-status=busy]")


# ---------------------------------------------------------------------------------------------------------
# the citizen's points, rank and the leaderboard


async def test_citizen_sees_points_rank_and_the_leaderboard(
    actors: Any, phone: PhoneFactory, server_api: httpx.AsyncClient, database_url: str
) -> None:
    await require_endpoints(
        server_api, *CITIZEN_ENDPOINTS, "GET /api/v1/me/points", "GET /api/v1/rewards/leaderboard"
    )
    dispatcher = await actors.user("dispatcher")
    top_id, top = await citizen(server_api, "Rina Wulandari")
    me_id, mine = await citizen(server_api, "Agus Salim Pratama")
    for n in range(3):
        await verified_incident(
            server_api, top, dispatcher, description=f"Laporan benar {n}", lat=-7.95 - n / 100
        )
    for n, category in enumerate(("traffic_accident", "fallen_tree")):
        await verified_incident(
            server_api,
            mine,
            dispatcher,
            category=category,
            description=f"Laporan saya {n}",
            lat=-7.90 - n / 100,
        )
    points = (await server_api.get("/api/v1/me/points", headers=mine)).json()
    assert points["rank"] == 2 and points["awards"] == 2, points
    names = {c["code"]: c for c in (await server_api.get("/api/v1/categories")).json()}

    p = await phone()
    page = await p.open()
    await log_in(page, await local_number(database_url, me_id), "rahasia-1", "citizen")
    await page.click("#tabs button[data-tab=account]")
    await page.wait_for_selector("#points-history li.award")
    assert await page.text_content("#points-total") == str(points["total"])
    assert await page.text_content("#points-rank") == "Peringkat #2"
    rows_text = await page.locator("#points-history li.award").all_text_contents()
    assert len(rows_text) == 2, rows_text
    newest = points["history"][0]
    assert rows_text[0].startswith(f"+{newest['points']} · {names[newest['category']]['name_id']} · ")
    assert f"laporan #{newest['report_id']}" in rows_text[0]
    assert re.search(r"\d\d[.:]\d\d WIB$", rows_text[0]), rows_text[0]
    assert not any(re.search(r"· ·|—$", t) for t in rows_text), rows_text
    await shot(page, "27-account-points")

    await page.click("#leaderboard-open")
    await page.wait_for_selector("#account-leaderboard", state="visible")
    await page.wait_for_selector("#leaderboard-list li.leader")
    leaders = await page.locator("#leaderboard-list li.leader").all_text_contents()
    assert len(leaders) == 2, leaders
    board = (await server_api.get("/api/v1/rewards/leaderboard")).json()["items"]
    first, second = board[0]["points"], board[1]["points"]
    assert leaders[0].startswith("#1") and "Rina W." in leaders[0] and f"{first} poin" in leaders[0], leaders
    assert "Agus S. P. (Anda)" in leaders[1] and f"{second} poin" in leaders[1], leaders
    assert await page.get_attribute("#leaderboard-list li.me", "data-rank") == "2"
    assert "Wulandari" not in " ".join(leaders)  # names come masked
    await shot(page, "28-leaderboard")
    await page.click("#leaderboard-period button[data-days='30']")
    await page.wait_for_selector("#leaderboard-period button[data-days='30'][aria-pressed=true]")
    await page.wait_for_selector("#leaderboard-list[data-loading=false] li.leader")
    await page.click("#lang")
    await page.wait_for_function(
        "() => document.getElementById('leaderboard-list').textContent.includes('points')"
    )
    assert await page.text_content("#account-leaderboard h2") == "Reporter leaderboard"
    await shot(page, "29-leaderboard-en")
    await page.click("#leaderboard-back")
    await page.wait_for_selector("#account-main", state="visible")
    assert await page.text_content("#points-rank") == "Rank #2"
    await page.click("#lang")
    assert top_id != me_id


# ---------------------------------------------------------------------------------------------------------
# what the SOS screen claims, and ending an SOS


async def test_sos_says_what_happened(
    actors: Any, phone: PhoneFactory, server_api: httpx.AsyncClient, database_url: str
) -> None:
    """The SOS reached the command centre and the nearest officers were found (not called): the screen says
    exactly that, in both languages."""
    await require_endpoints(server_api, *CITIZEN_ENDPOINTS, *SOS_ENDPOINTS)
    await fleet(server_api, actors, [400.0, 900.0, 1200.0], at=(MALANG["latitude"], MALANG["longitude"]))
    uid, _ = await citizen(server_api, "Wati")
    p = await phone()
    page = await p.open()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await log_in(page, await local_number(database_url, uid), "rahasia-1", "citizen")
    await page.click("#tabs button[data-tab=sos]")
    await page.click("#sos-btn")
    await page.wait_for_selector("#sos-screen[data-state=active]")
    text = await page.text_content("#sos-received") or ""
    assert (
        text == "Operator command center menerima SOS Anda; 3 petugas siaga terdekat berada dalam 1,2 km."
    ), text
    detail = await page.text_content("#sos-detail") or ""
    assert "dihubungi" not in detail and "Belum ada petugas yang ditugaskan" in detail, detail
    await shot(page, "30-sos-what-happened")
    await page.click("#lang")
    text = await page.text_content("#sos-received") or ""
    assert (
        text
        == "The command centre operators have your SOS; the 3 nearest available officers are within 1.2 km."
    )
    assert "alerted" not in (await page.text_content("#sos-detail") or "")
    await shot(page, "31-sos-what-happened-en")
    await page.click("#lang")


async def test_citizen_ends_the_sos(
    client: httpx.AsyncClient, phone: PhoneFactory, server_api: httpx.AsyncClient, database_url: str
) -> None:
    """ "Akhiri SOS" tells the command centre (POST /sos/{id}/end) and stops the trail; pressed offline, the end
    waits in the outbox and goes out when the connection is back."""
    await require_endpoints(server_api, *CITIZEN_ENDPOINTS, *SOS_ENDPOINTS, "POST /api/v1/sos/{sos_id}/end")
    uid, headers = await citizen(server_api, "Yanti")
    p = await phone()
    page = await p.open()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await log_in(page, await local_number(database_url, uid), "rahasia-1", "citizen")
    await page.click("#tabs button[data-tab=sos]")
    await page.click("#sos-btn")
    await page.wait_for_selector("#sos-screen[data-state=active]")
    assert await page.text_content("#sos-stop") == "Akhiri SOS"
    await shot(page, "32-sos-end-button")
    [(sos_id,)] = await rows(database_url, "SELECT id FROM sos_calls WHERE citizen_id = %s", uid)

    async def trail() -> int:
        return int(await scalar(database_url, "SELECT count(*) FROM sos_points WHERE sos_id = %s", sos_id))

    ended: list[str] = []
    page.on(
        "request",
        lambda req: (
            ended.append(req.url) if req.method == "POST" and req.url.endswith(f"/sos/{sos_id}/end") else None
        ),
    )
    await page.click("#sos-stop")
    await page.wait_for_selector("#sos-screen[data-state=idle]")
    assert ended, "no POST /sos/{id}/end"
    view = await server_api.get(f"/api/v1/sos/{sos_id}", headers=headers)
    # ended: the phone stops, the incident stays open for the dispatcher to close
    assert view.status_code == 200 and view.json()["ended_at"] and view.json()["ended_by"] == uid, view.text
    before = await trail()
    await p.context.set_geolocation({"latitude": -7.9770, "longitude": 112.6340, "accuracy": 8})
    await asyncio.sleep(6)
    assert await trail() == before, "the trail kept going after the end"
    await shot(page, "33-sos-ended")

    # ended offline: the outbox carries the end to the server when the phone is back online
    await page.click("#sos-btn")
    await page.wait_for_selector("#sos-screen[data-state=active]")
    found = await rows(
        database_url, "SELECT id FROM sos_calls WHERE citizen_id = %s AND id <> %s", uid, sos_id
    )
    assert len(found) == 1, found
    second = found[0][0]
    await p.context.set_offline(True)
    await page.click("#sos-stop")
    await page.wait_for_selector("#sos-screen[data-state=idle]")
    await page.click("#tabs button[data-tab=mine]")
    await page.wait_for_selector("#outbox .outbox-item[data-kind=sos_end][data-state=pending]")
    await shot(page, "34-sos-end-queued")
    await p.context.set_offline(False)
    await page.wait_for_selector("#outbox .outbox-item[data-kind=sos_end][data-state=sent]", timeout=20_000)
    view = await server_api.get(f"/api/v1/sos/{second}", headers=headers)
    assert view.json()["ended_at"] and view.json()["ended_by"] == uid, view.text


# ---------------------------------------------------------------------------------------------------------
# registration errors in the app's language


async def register_attempt(page: Any, name: str, phone_number: str, password: str) -> str:
    await page.fill("#reg-name", name)
    await page.fill("#reg-phone", phone_number)
    await page.fill("#reg-pass", password)
    await page.click("#form-register button[type=submit]")
    error = page.locator("#form-register .error")
    await page.wait_for_function(
        "() => document.querySelector('#form-register .error').textContent !== '' "
        "&& !document.querySelector('#form-register button[type=submit]').disabled"
    )
    return await error.text_content() or ""


async def test_registration_errors_speak_the_apps_language(
    client: httpx.AsyncClient, phone: PhoneFactory, server_api: httpx.AsyncClient, database_url: str
) -> None:
    await require_endpoints(server_api, *CITIZEN_ENDPOINTS)
    r = await server_api.post(
        "/api/v1/citizens", json={"phone": "0812-3456-7100", "name": "Sudah Ada", "password": "rahasia-1"}
    )
    assert r.status_code == 201, r.text
    p = await phone()
    page = await p.open()
    sent: list[str] = []
    page.on("request", lambda req: sent.append(req.url) if req.url.endswith("/api/v1/citizens") else None)
    await page.click("#login-tabs button[data-form=register]")

    assert await register_attempt(page, "", "0812-3456-7101", "rahasia-1") == "Tulis nama lengkap Anda."
    assert await register_attempt(page, "Tono", "0812-3456-7101", "12345") == "Kata sandi minimal 6 karakter."
    assert not sent, "the form's own checks send nothing"
    # the server's schema error on the phone field (8 digits that are no phone number)
    assert (await register_attempt(page, "Tono", "1234 5678", "rahasia-1")).startswith(
        "Nomor HP tidak valid."
    )
    taken = await register_attempt(page, "Tono", "0812 3456 7100", "rahasia-1")
    assert taken == "Nomor HP ini sudah terdaftar. Silakan masuk.", taken
    await shot(page, "35-register-taken")
    await page.click("#lang")
    english = await register_attempt(page, "Tono", "1234 5678", "rahasia-1")
    assert english.startswith("This is not a valid phone number."), english
    taken = await register_attempt(page, "Tono", "0812 3456 7100", "rahasia-1")
    assert taken == "This phone number is already registered. Please log in.", taken
    await shot(page, "36-register-error-en")
    await page.click("#lang")
    assert await scalar(database_url, "SELECT count(*) FROM users WHERE role = 'citizen'") == 1


async def test_foreign_and_landline_numbers_are_refused_in_the_apps_language(
    client: httpx.AsyncClient, phone: PhoneFactory, server_api: httpx.AsyncClient, database_url: str
) -> None:
    """'+1 555 0101' is no number, '+44 7911 123456' is not Indonesian, '0341 551234' is a landline: the
    server refuses each (400 bad_phone, details.problem) and the app says which, in its own language."""
    await require_endpoints(server_api, *CITIZEN_ENDPOINTS)
    probe = await server_api.post(
        "/api/v1/citizens", json={"phone": "+1 555 0101", "name": "Probe", "password": "rahasia-1"}
    )
    if probe.status_code == 201:
        pytest.skip("the server still accepts +1 555 0101 (phone-number validation not in yet)")
    error = probe.json()["error"]
    assert error["code"] == "bad_phone", probe.text
    p = await phone()
    page = await p.open()
    await page.click("#login-tabs button[data-form=register]")
    text = await register_attempt(page, "John", "+1 555 0101", "rahasia-1")
    assert text.startswith("Nomor HP tidak valid."), text
    assert error["message"] not in text
    text = await register_attempt(page, "John", "+44 7911 123456", "rahasia-1")
    assert (
        text == "Nomor HP dari negara ini tidak diterima. Yang bisa mendaftar hanya nomor Indonesia (+62)."
    ), text
    await shot(page, "37-register-foreign-phone")
    text = await register_attempt(page, "John", "0341 551234", "rahasia-1")
    assert text.startswith("Ini bukan nomor HP (ponsel)"), text
    await page.click("#lang")
    text = await register_attempt(page, "John", "+1 555 0101", "rahasia-1")
    assert text.startswith("This is not a valid phone number."), text
    text = await register_attempt(page, "John", "+44 7911 123456", "rahasia-1")
    assert (
        text
        == "Phone numbers of this country are not accepted. Only numbers of Indonesia (+62) can register."
    )
    text = await register_attempt(page, "John", "0341 551234", "rahasia-1")
    assert text.startswith("This is not a mobile number"), text
    await shot(page, "38-register-landline-en")
    await page.click("#lang")
    assert await scalar(database_url, "SELECT count(*) FROM users WHERE role = 'citizen'") == 0
