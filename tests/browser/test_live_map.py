"""The dispatchers' live map in Debian's Chromium at 1366×768: log in, see the officers, watch a marker move
on a ping, see a citizen's SOS appear with the caller's call-back link, offer it to the nearest officer from
its desk, hear that the caller ended it; the whole page in English by the switch, the header never clipped,
the KPI panel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.workspace import dispatcher, open_map, ping
from tests.reports.helpers import citizen, rows

pytestmark = pytest.mark.browser


async def test_dispatcher_watches_and_dispatches_from_the_map(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    user = await dispatcher(actors)
    t0 = datetime.now(UTC) - timedelta(seconds=60)
    officers = []
    for i in range(3):
        oid, h = await actors.officer("motorbike")
        await ping(api, h, -7.9797 + i * 0.003, 112.6304 + i * 0.003, t0)
        officers.append((oid, h))

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.wait_for_function("() => window.jogoLive.state.officers.size >= 3")
    await page.wait_for_function("() => document.getElementById('c-online').textContent === '3'")

    # a ping moves the marker
    oid, h = officers[0]
    await ping(api, h, -7.9760, 112.6350, t0 + timedelta(seconds=30))
    await page.wait_for_function(
        f"() => {{ const o = window.jogoLive.state.officers.get({oid}); return o && Math.abs(o.d.lat - (-7.9760)) < 1e-6; }}"
    )

    # a citizen presses SOS: the incident appears on the map and in the list, with the caller's number
    _, ch = await citizen(api, name="Ibu Ani")
    r = await api.post("/api/v1/sos", headers=ch, json={"lat": -7.9800, "lon": 112.6310, "accuracy_m": 8})
    assert r.status_code in (200, 201), r.text
    incident_id, sos_id = r.json()["incident_id"], r.json()["sos_id"]
    (phone,) = (await rows(database_url, "SELECT phone FROM users WHERE full_name = 'Ibu Ani'"))[0]
    item = page.locator(f"#list-incidents .item[data-id='{incident_id}']")
    await item.wait_for()
    assert "SOS warga" in (await item.text_content() or "")
    # the alarm banner stands over the map until a dispatcher acknowledges the SOS
    row = page.locator("#alarm-banner .alarm-row.danger[data-kind='citizen_sos']")
    await row.wait_for()
    assert "SOS WARGA" in (await row.text_content() or "")
    await m.shot("live_map_sos_alarm")
    await row.locator("button.primary").click()
    await row.wait_for(state="detached")
    assert await page.get_attribute("#alarm-banner", "data-danger") == "0"
    await item.click()
    await page.wait_for_selector(".sos-box .callback a.tel")
    assert await page.get_attribute(".sos-box .callback a.tel", "href") == f"tel:{phone}"
    await page.wait_for_selector(".sos-box .live")  # the SOS is still live
    await page.wait_for_selector("#sos-trail:text('1 titik')")
    r = await api.post(f"/api/v1/sos/{sos_id}/location", headers=ch, json={"lat": -7.9805, "lon": 112.6316})
    assert r.status_code == 200, r.text
    await page.wait_for_selector("#sos-trail:text('2 titik')")  # the caller moves: the trail grows live
    await page.click("#desk .dsec button:text('Tawarkan ke terdekat')")
    await page.wait_for_selector("#desk .offer .countdown")
    await m.shot("live_map_dispatch")
    offered = await rows(
        database_url, "SELECT officer_id, status FROM offers WHERE incident_id = %s", incident_id
    )
    assert len(offered) == 1 and offered[0][1] == "pending"
    assert offered[0][0] in {o for o, _ in officers}

    # the caller ends the SOS: the map says so, and the desk shows it ended
    ended = await api.post(f"/api/v1/sos/{sos_id}/end", headers=ch, json={"reason": "sudah aman"})
    assert ended.status_code == 200, ended.text
    toast = page.locator("#toasts .toast", has_text=f"SOS insiden #{incident_id} diakhiri oleh penelepon")
    await toast.wait_for()
    assert "sudah aman" in (await toast.text_content() or "")
    await page.wait_for_selector(".sos-box .warn-text:text('diakhiri')")
    assert m.errors == []
    await m.context.close()


async def test_english_switch_header_and_kpi_panel(browser, live_server, server_api, actors):
    api = server_api
    user = await dispatcher(actors)
    admin = await actors.user("admin")
    r = await api.post(
        "/api/v1/incidents",
        headers=admin,
        json={"category": "power_outage", "lat": -7.98, "lon": 112.63, "source": "walk_in"},
    )
    assert r.status_code == 201, r.text
    incident_id = r.json()["id"]

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await m.header_fits()
    item = page.locator(f"#list-incidents .item[data-id='{incident_id}']")
    assert "Listrik padam" in (await item.text_content() or "") and "datang langsung" in (
        await item.text_content() or ""
    )
    # English: every text and every code label follows the switch, and the choice survives a reload
    await page.click("#topbar [data-lang='en']")
    assert await page.get_attribute("html", "lang") == "en"
    await page.wait_for_function(
        f"() => document.querySelector(\"#list-incidents .item[data-id='{incident_id}']\").textContent.includes('Power outage')"
    )
    text = await item.text_content() or ""
    assert "walk-in" in text and "Verified" in text, text
    assert await page.text_content("#btn-new") == "+ New incident"
    assert await page.get_attribute("#officer-q", "placeholder") == "Find officer: badge / name"
    await m.header_fits()
    await m.reload()
    assert await page.text_content("[data-tab='reports'] [data-i18n]") == "Verify"
    await page.click("#tabs [data-tab='kpi']")
    await page.wait_for_selector("#kpi-incidents")
    assert await page.text_content("#kpi-incidents") == "1"
    kpi = await page.text_content("#kpi") or ""
    assert "Power outage" in kpi and "Received → unit sent" in kpi, kpi
    await m.shot("live_map_kpi_en")
    await page.click("#topbar [data-lang='id']")
    assert await page.text_content("#btn-new") == "+ Insiden baru"
    assert m.errors == []
    await m.context.close()
