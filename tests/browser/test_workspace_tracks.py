"""Map tools: find an officer by badge in the search box, open them, replay their track over the chosen
time range (every fix drawn, the marker run to the last one); the status, unit and sector filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.workspace import dispatcher, open_map, ping, seed_malang
from tests.reports.helpers import offset, rows

pytestmark = pytest.mark.browser
START = (-7.9770, 112.6340)


async def test_find_an_officer_by_badge_and_replay_the_track(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    await seed_malang(actors)
    user = await dispatcher(actors)
    oid, headers = await actors.officer("motorbike")
    other, other_h = await actors.officer("car")
    badge = (await rows(database_url, "SELECT badge FROM officers WHERE id = %s", oid))[0][0]
    t0 = datetime.now(UTC) - timedelta(minutes=20)
    fixes = [
        {"lat": lat, "lon": lon, "recorded_at": (t0 + timedelta(minutes=2 * i)).isoformat(), "speed_mps": 8}
        for i, (lat, lon) in enumerate(offset(*START, 150 * i, 90 * i) for i in range(8))
    ]
    r = await api.post("/api/v1/pings", headers=headers, json=fixes)
    assert r.json()["accepted"] == 8, r.text
    await ping(api, other_h, *offset(*START, -500, 0))

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.wait_for_function("() => window.jogoLive.state.officers.size >= 2")
    await page.fill("#officer-q", badge.lower())
    option = page.locator(f"#officer-results .option[data-id='{oid}']")
    await option.wait_for()
    assert await page.locator("#officer-results .option").first.get_attribute("data-id") == str(oid)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#desk[data-kind='officer']")
    assert badge in (await page.text_content("#desk-title") or "")
    center = await page.evaluate(
        "() => { const c = window.jogoLive.map.getCenter(); return [c.lat, c.lng]; }"
    )
    last = fixes[-1]
    assert abs(center[0] - last["lat"]) < 1e-3 and abs(center[1] - last["lon"]) < 1e-3  # centred on them

    # the last hour (the default range): all eight fixes, played to the end
    await page.select_option("#track-speed", "1200")
    await page.click("#track-show")
    await page.wait_for_selector(".player[data-state='ended']")
    status = await page.text_content("#track-status") or ""
    assert status.startswith("8 posisi"), status
    assert await page.get_attribute(".player", "data-index") == "7"
    assert await page.input_value("#track-slider") == "7"
    inside = await page.evaluate(
        "(pts) => { const b = window.jogoLive.map.getBounds(); return pts.every(([a, o]) => b.contains([a, o])); }",
        [[f["lat"], f["lon"]] for f in fixes],
    )
    assert inside  # the whole track in view
    await m.shot("workspace-09-track-replay")
    # a narrower range: only the fixes inside it
    since = (t0 + timedelta(minutes=5)).astimezone(UTC)
    until = (t0 + timedelta(minutes=11)).astimezone(UTC)
    await page.evaluate(
        "([a, b]) => { const f = (ms) => { const d = new Date(ms); const p = (n) => String(n).padStart(2, '0');"
        " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`; };"
        " document.getElementById('track-since').value = f(a); document.getElementById('track-until').value = f(b); }",
        [since.timestamp() * 1000, until.timestamp() * 1000],
    )
    await page.click("#track-show")
    await page.wait_for_function(
        "() => (document.getElementById('track-status').textContent || '').startsWith('3 posisi')"
    )

    # filters: a car-only map hides the motorbike; a sector hides officers of other sectors
    await page.select_option("#f-unit", "car")
    shown = await page.evaluate(
        "() => [...window.jogoLive.state.officers.values()].filter((o) => o.shown).map((o) => o.d.id)"
    )
    assert shown == [other], shown
    await page.select_option("#f-unit", "")
    await page.wait_for_selector("#f-sector option[value='KLOJEN']", state="attached")
    await page.check("#f-sectors")
    await page.wait_for_selector(".sector-label")
    assert m.errors == []
    await m.context.close()
