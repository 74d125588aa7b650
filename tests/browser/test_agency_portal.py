"""The agency portal in Debian's Chromium: PLN's duty staff log in at /agency, hear a forwarded power failure
arrive over the websocket, acknowledge it, go to work, write a note with a photo and close it; the
dispatcher's live map (/map) shows the forward closed and the question whether to resolve the incident."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.agencies.conftest import seed
from tests.browser.conftest import SCREENSHOTS, shot
from tests.reports.helpers import citizen, report_body, rows

pytestmark = pytest.mark.browser


async def _agency_id(database_url: str, code: str) -> int:
    [(agency_id,)] = await rows(
        database_url, "SELECT id FROM agencies WHERE region = 'malang' AND code = %s", code
    )
    return int(agency_id)


async def _note_ids(database_url: str) -> list[int]:
    return [int(i) for (i,) in await rows(database_url, "SELECT id FROM forward_notes ORDER BY id")]


async def test_pln_works_a_forwarded_power_failure_and_the_map_shows_it(
    app: Any,
    client: Any,
    phone: Any,
    browser: Any,
    live_server: Any,
    server_api: Any,
    actors: Any,
    database_url: str,
    camera_photo: Path,
) -> None:
    await seed(app)
    api = server_api
    admin = await actors.user("admin")
    await actors.user("dispatcher")
    dispatcher_name = f"dispatcher{actors._n}"
    dispatcher = await actors._token(dispatcher_name, "secret-pw")
    pln = await _agency_id(database_url, "PLN")
    r = await api.post(
        f"/api/v1/agencies/{pln}/users",
        headers=admin,
        json={"username": "pln.malang", "password": "gardu-aman-1", "full_name": "Piket PLN Malang"},
    )
    assert r.status_code == 201, r.text
    citizen_id, warga = await citizen(api, "Bu Sri")
    [(caller_phone,)] = await rows(database_url, "SELECT phone FROM users WHERE id = %s", citizen_id)
    filed = await api.post(
        "/api/v1/reports",
        headers=warga,
        json=report_body(
            category="power_outage",
            description="Listrik padam satu RW sejak jam 7, kabel menjuntai",
            address="Jl. Kawi 12",
        ),
    )
    assert filed.status_code == 201, filed.text
    verified = await api.post(f"/api/v1/reports/{filed.json()['id']}/verify", headers=dispatcher)
    incident_id = verified.json()["incident_id"]

    # PLN's duty staff log in on a phone
    staff = await phone()
    page = await staff.open("/agency")
    await page.wait_for_selector("#screen-login:not([hidden])")
    await shot(page, "agency_portal_login")
    await page.fill("#login-username", "pln.malang")
    await page.fill("#login-password", "gardu-aman-1")
    await page.click("#login-submit")
    await page.wait_for_function("() => window.jogoAgency.connected()")
    await page.wait_for_selector("#screen-board:not([hidden])")
    assert "PLN" in (await page.text_content("#sla") or "")

    # the dispatcher forwards it, with the caller's phone: it arrives live, with a beep
    r = await api.post(
        f"/api/v1/incidents/{incident_id}/forwards",
        headers=dispatcher,
        json={
            "agency_ids": [pln],
            "note": "Kabel menjuntai ke jalan, mohon segera",
            "include_caller_phone": True,
        },
    )
    assert r.status_code == 201, r.text
    forward_id = r.json()["forwards"][0]["id"]
    await page.wait_for_function("() => window.jogoAgency.stats.arrivals === 1")
    assert await page.evaluate("() => window.jogoAgency.stats.beeps") == 1
    item = page.locator(f"#list .item[data-id='{forward_id}']")
    await item.wait_for()
    names = {c["code"]: c["name_id"] for c in (await api.get("/api/v1/categories")).json()}
    assert f"{names['power_outage']} #{incident_id}" in (await item.text_content() or "")
    assert await page.text_content("#count-new") == "1"
    await shot(page, "agency_portal_new")

    # open it: what, where, the dispatcher's note, the caller's phone
    await item.locator("button").click()
    await page.wait_for_selector("#screen-detail:not([hidden])")
    await page.wait_for_selector("#d-facts a.tel")
    facts = await page.text_content("#d-facts") or ""
    assert caller_phone in facts and "Kabel menjuntai ke jalan" in facts
    assert await page.get_attribute("#d-facts a.tel", "href") == f"tel:{caller_phone}"
    await page.click("#act-ack")
    await page.wait_for_selector("#d-status.st-acknowledged")
    await page.click("#act-start")
    await page.wait_for_selector("#d-status.st-in_progress")

    # a note with a photo from the camera (downscaled on the phone)
    await page.fill("#note-text", "Regu di lokasi, kabel diamankan")
    await page.set_input_files("#note-photo", str(camera_photo))
    await page.wait_for_selector("#note-preview:not([hidden])")
    await shot(page, "agency_portal_working")
    await page.click("#note-submit")
    await page.wait_for_selector("#d-notes img.note-img")
    assert "Regu di lokasi, kabel diamankan" in (await page.text_content("#d-notes") or "")

    # close it with an outcome
    page.once("dialog", lambda d: d.accept())
    await page.select_option("#close-outcome", "resolved")
    await page.fill("#close-note", "Listrik menyala kembali pukul 09.40")
    await page.click("#close-submit")
    await page.wait_for_selector("#d-status.st-closed")
    assert "Selesai ditangani" in (await page.text_content("#d-facts") or "")
    await page.wait_for_selector("#d-notes img.note-img")
    await shot(page, "agency_portal_closed")

    stored = await rows(
        database_url,
        "SELECT status, outcome, acknowledged_at IS NOT NULL, started_at IS NOT NULL FROM forwards",
    )
    assert stored == [("closed", "resolved", True, True)]
    notes = await rows(database_url, "SELECT text, photo_type FROM forward_notes ORDER BY id")
    assert notes == [
        ("Regu di lokasi, kabel diamankan", "jpeg"),
        ("Listrik menyala kembali pukul 09.40", None),
    ]
    # the camera's 2400x1600 picture arrived downscaled to 1600 px on its long side
    note_photo = await api.get(
        f"/api/v1/forwards/{forward_id}/notes/{(await _note_ids(database_url))[0]}/photo", headers=dispatcher
    )
    assert note_photo.status_code == 200 and note_photo.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(note_photo.content)).size == (1600, 1067)

    # the English switch
    await page.click("#back")
    await page.click("#lang")
    await page.click("#states button[data-state='closed']")
    closed_item = page.locator(f"#list .item[data-id='{forward_id}']")
    assert "Resolved" in (await closed_item.text_content() or "")
    assert await page.text_content("#states button[data-state='closed'] span") == "Closed"
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.screenshot(path=str(SCREENSHOTS / "agency_portal_desktop.png"))

    # the dispatcher's map: the forward closed, and the question whether to resolve the incident
    context = await browser.new_context(viewport={"width": 1366, "height": 820})
    desk = await context.new_page()
    errors: list[str] = []
    desk.on("pageerror", lambda e: errors.append(str(e)))
    await desk.goto(f"{live_server.url}/map")
    await desk.fill("#login-username", dispatcher_name)
    await desk.fill("#login-password", "secret-pw")
    await desk.click("#login-submit")
    await desk.wait_for_function("() => window.jogoLive && window.jogoLive.connected()")
    await desk.wait_for_function(f"() => window.jogoLive.state.incidents.has({incident_id})")
    await desk.wait_for_function(
        "(id) => [...window.jogoLive.state.alerts.values()].some("
        "(a) => a.d.kind === 'resolve_suggested' && a.d.incident_id === id)",
        arg=incident_id,
    )
    # the incident's desk lists PLN's forward as closed
    await desk.click(f"#list-incidents .item[data-id='{incident_id}']")
    await desk.wait_for_selector(f"[data-forward='{forward_id}'][data-status='closed']")
    r = await api.get(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)
    [f] = r.json()["items"]
    assert (f["status"], f["outcome"], f["agency"]["code"]) == ("closed", "resolved", "PLN")
    await shot(page, "agency_portal_en")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await desk.screenshot(path=str(SCREENSHOTS / "agency_portal_map.png"))
    assert errors == []
    await context.close()
