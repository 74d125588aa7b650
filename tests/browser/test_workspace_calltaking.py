"""Call-taking on the live map: a 110 call becomes an incident placed by clicking the map, its responders
ranked by ETA, an offer to the nearest phone with its countdown, the officer's answer arriving live, and
the assigned unit still shown after a reload; a tracker-only officer assigned by radio."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.workspace import dispatcher, open_map, ping, seed_malang
from tests.reports.helpers import offset, rows

pytestmark = pytest.mark.browser
SCENE = (-7.9826, 112.6308)  # Jl. Basuki Rahmat, Klojen


async def test_call_taker_creates_an_incident_from_the_map_and_dispatches_it(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    await seed_malang(actors)
    user = await dispatcher(actors)
    near_id, near_h = await actors.officer("motorbike")
    far_id, far_h = await actors.officer("car")
    await ping(api, near_h, *offset(*SCENE, 300, 0))
    await ping(api, far_h, *offset(*SCENE, 2500, 0))
    near_badge = (await rows(database_url, "SELECT badge FROM officers WHERE id = %s", near_id))[0][0]

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await m.header_fits()
    await page.click("#btn-new")
    await page.wait_for_selector("#call-category option[value='traffic_accident']", state="attached")
    await page.select_option("#call-category", "traffic_accident")
    assert "P2" in (await page.text_content("#call-priority option:checked") or "")  # the category's default
    await page.select_option("#call-source", "phone")
    await page.fill("#call-name", "Bu Sri")
    await page.fill("#call-phone", "0812 3456 7890")
    await page.fill("#call-address", "Jl. Basuki Rahmat depan Gramedia")
    await page.fill("#call-narrative", "Motor tertabrak mobil, pengendara luka ringan")
    assert await page.text_content("#call-where") == "Lokasi belum ditandai: klik peta"
    await m.click_map_at(*SCENE)
    await page.wait_for_selector("#call-where.set")
    await m.shot("workspace-01-call-taking")
    await page.click("#call-submit")

    # the new incident's desk: verified, caller call-back link, responders by ETA (nearest first)
    await page.wait_for_selector("#desk[data-kind='incident'] table.responders tbody tr")
    incident_id, status, source, caller = (
        await rows(
            database_url, "SELECT id, status, source, data->'caller' FROM incidents ORDER BY id DESC LIMIT 1"
        )
    )[0]
    assert (status, source) == ("verified", "phone") and caller["name"] == "Bu Sri"
    lat, lon = (await rows(database_url, "SELECT lat, lon FROM incidents WHERE id = %s", incident_id))[0]
    assert abs(lat - SCENE[0]) < 2e-4 and abs(lon - SCENE[1]) < 2e-4  # where the map was clicked
    assert f"#{incident_id}" in (await page.text_content("#desk-title") or "")
    tel = page.locator("#desk a.tel").first
    assert (await tel.get_attribute("href")) == "tel:081234567890"
    order = await page.eval_on_selector_all(
        "table.responders tbody tr", "rows => rows.map(r => Number(r.dataset.officer))"
    )
    assert order[:2] == [near_id, far_id], order
    await page.click(f"table.responders tr[data-officer='{near_id}'] .offer-btn")

    # the offer waits with its countdown; the officer takes it on the phone
    countdown = page.locator("#desk .offer .countdown")
    await countdown.wait_for()
    assert re.fullmatch(r"\d+:\d\d", (await countdown.text_content() or "").strip())
    offer_id, offered_to, offer_status = (
        await rows(
            database_url, "SELECT id, officer_id, status FROM offers WHERE incident_id = %s", incident_id
        )
    )[0]
    assert (offered_to, offer_status) == (near_id, "pending")
    await m.shot("workspace-02-offer-countdown")
    r = await api.post(f"/api/v1/offers/{offer_id}/accept", headers=near_h)
    assert r.status_code == 200, r.text
    unit = page.locator(f"#desk .unit[data-officer='{near_id}']")
    await unit.wait_for()
    assert near_badge in (await unit.text_content() or "")

    # a reload: the incident still shows its unit, in the list and on its desk
    await m.reload()
    item = page.locator(f"#list-incidents .item[data-id='{incident_id}']")
    await item.wait_for()
    assert near_badge in (await item.locator(".units").text_content() or "")
    await item.click()
    await page.wait_for_selector(f"#desk .unit[data-officer='{near_id}']")
    await page.wait_for_selector("#timeline li.tl-offer[data-action='accepted']")
    timeline = await page.text_content("#timeline") or ""
    assert "Insiden dibuat" in timeline and "Tawaran diterima" in timeline, timeline
    await m.shot("workspace-03-after-reload")
    assert m.errors == []
    await m.context.close()


async def test_tracker_only_officer_is_assigned_by_radio_and_stays_after_reload(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    await seed_malang(actors)
    user = await dispatcher(actors)
    oid, _ = await actors.officer("car", device_id="traccar-77")
    lat, lon = offset(*SCENE, 400, 0)
    r = await api.post(
        "/osmand", params={"id": "traccar-77", "lat": lat, "lon": lon, "timestamp": str(int(time.time()))}
    )
    assert r.status_code == 200, r.text
    admin = await actors.user("admin")
    r = await api.post(
        "/api/v1/incidents",
        headers=admin,
        json={
            "category": "crime",
            "lat": SCENE[0],
            "lon": SCENE[1],
            "source": "radio",
            "narrative": "Jambret",
        },
    )
    assert r.status_code == 201, r.text
    incident_id = r.json()["id"]
    assert [x["can_offer"] for x in r.json()["nearest"] if x["officer_id"] == oid] == [False]

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.click(f"#list-incidents .item[data-id='{incident_id}']")
    row = page.locator(f"table.responders tr[data-officer='{oid}']")
    await row.wait_for()
    assert await row.get_attribute("data-reach") == "tracker"
    assert await row.locator(".offer-btn").count() == 0  # no phone app: no offer, only the radio
    await row.locator(".radio-btn").click()
    await page.wait_for_selector(f"#desk .unit[data-officer='{oid}']")
    got = await rows(
        database_url, "SELECT officer_id, status FROM offers WHERE incident_id = %s", incident_id
    )
    assert got == [(oid, "accepted")]
    await m.reload()
    await page.click(f"#list-incidents .item[data-id='{incident_id}']")
    await page.wait_for_selector(f"#desk .unit[data-officer='{oid}']")
    await page.wait_for_selector("#timeline li[data-action='assigned']")
    assert "Ditugaskan lewat radio" in (await page.text_content("#timeline") or "")
    assert m.errors == []
    await m.context.close()
