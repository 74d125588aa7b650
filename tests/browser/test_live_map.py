"""The dispatchers' live map in Debian's Chromium: log in, see the officers, watch a marker move on a
ping, see a citizen's SOS appear, and dispatch the nearest officer from the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.reports.helpers import citizen, rows

pytestmark = pytest.mark.browser
SCREENSHOTS = Path("test-output/screenshots")


async def ping(api, headers, lat, lon, at):
    r = await api.post(
        "/api/v1/pings", headers=headers, json={"lat": lat, "lon": lon, "recorded_at": at.isoformat()}
    )
    assert r.json()["accepted"] == 1, r.text


async def test_dispatcher_watches_and_dispatches_from_the_map(
    browser, live_server, server_api, actors, database_url
):
    async with server_api as api:
        dispatcher_pw = "secret-pw"
        await actors.user("dispatcher")  # username dispatcher<n>
        dispatcher = f"dispatcher{actors._n}"
        t0 = datetime.now(UTC) - timedelta(seconds=60)
        officers = []
        for i in range(3):
            oid, h = await actors.officer("motorbike")
            await ping(api, h, -7.9797 + i * 0.003, 112.6304 + i * 0.003, t0)
            officers.append((oid, h))

        context = await browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{live_server.url}/map")
        await page.fill("#login-username", dispatcher)
        await page.fill("#login-password", dispatcher_pw)
        await page.click("#login-submit")
        await page.wait_for_function("() => window.jogoLive && window.jogoLive.connected()", timeout=15000)
        await page.wait_for_function("() => window.jogoLive.state.officers.size >= 3", timeout=15000)
        await page.wait_for_function(
            "() => document.getElementById('c-online').textContent === '3'", timeout=5000
        )

        # a ping moves the marker
        oid, h = officers[0]
        await ping(api, h, -7.9760, 112.6350, t0 + timedelta(seconds=30))
        await page.wait_for_function(
            f"() => {{ const o = window.jogoLive.state.officers.get({oid});"
            f" return o && Math.abs(o.d.lat - (-7.9760)) < 1e-6; }}",
            timeout=10000,
        )

        # a citizen presses SOS: the incident appears on the map and in the list
        _, ch = await citizen(api)
        r = await api.post("/api/v1/sos", headers=ch, json={"lat": -7.9800, "lon": 112.6310, "accuracy_m": 8})
        assert r.status_code in (200, 201), r.text
        incident_id, sos_id = r.json()["incident_id"], r.json()["sos_id"]
        await page.wait_for_function(
            f"() => window.jogoLive.state.incidents.has({incident_id})", timeout=10000
        )
        await page.click("#list-incidents .item")
        await page.get_by_text("Kirim terdekat").click()
        await page.wait_for_selector(".result.ok", timeout=10000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "live_map_dispatch.png"))
        offered = await rows(
            database_url, "SELECT officer_id, status FROM offers WHERE incident_id = %s", incident_id
        )
        assert len(offered) == 1 and offered[0][1] == "pending"
        assert offered[0][0] in {o for o, _ in officers}

        # the caller ends the SOS: the map says so in both languages
        ended = await api.post(f"/api/v1/sos/{sos_id}/end", headers=ch, json={"reason": "sudah aman"})
        assert ended.status_code == 200, ended.text
        toast = page.locator("#toasts .toast", has_text=f"SOS insiden #{incident_id} diakhiri oleh penelepon")
        await toast.wait_for(timeout=10000)
        text = await toast.text_content()
        assert text and "ended by the caller" in text and "sudah aman" in text
        assert errors == []
        await context.close()
