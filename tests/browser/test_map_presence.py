"""Presence on the dispatcher's map: an officer whose last fix is older than JOGO_STALE_AFTER_S is drawn
dashed and named stale with the age of the fix (still dispatched), and goes back to a full dot with a new
fix, live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.workspace import dispatcher, open_map, ping
from tests.reports.helpers import offset, rows

pytestmark = pytest.mark.browser
START = (-7.9790, 112.6320)

STYLE = "(id) => { const o = window.jogoLive.state.officers.get(id); return o && o.m ? o.m.options.dashArray : 'none'; }"


async def test_a_stale_officer_is_dashed_with_the_age_of_its_fix_until_a_new_fix(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    user = await dispatcher(actors)
    stale_after = live_server.app.state.runtime.settings.stale_after_s
    oid, headers = await actors.officer("motorbike")
    fresh, fresh_h = await actors.officer("car")
    old = datetime.now(UTC) - timedelta(seconds=stale_after + 300)
    await ping(api, headers, *START, at=old)
    await ping(api, fresh_h, *offset(*START, 300, 0))

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.wait_for_function("() => window.jogoLive.state.officers.size >= 2")
    assert await page.evaluate(STYLE, oid) == "2 2"  # dashed: a position that may be old
    assert await page.evaluate(STYLE, fresh) is None
    badge = (await rows(database_url, "SELECT badge FROM officers WHERE id = %s", oid))[0][0]
    await page.fill("#officer-q", badge)
    await page.locator(f"#officer-results .option[data-id='{oid}']").wait_for()
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#desk[data-kind='officer'] .chip.stale")
    chip = await page.text_content("#desk .chip.stale") or ""
    minutes = round((stale_after + 300) / 60)
    assert chip == f"posisi {minutes} mnt lalu", chip
    legend = await page.text_content(".legend") or ""
    assert "Posisi lama" in legend
    await m.shot("workspace-12-stale-officer")

    # a new fix: online again, live, without a reload
    await ping(api, headers, *offset(*START, 50, 50))
    await page.wait_for_function(f"() => ({STYLE})({oid}) === null")
    await page.wait_for_selector("#desk[data-kind='officer'] .chip.on")
    await page.click("[data-lang='en']")
    await page.wait_for_function(
        "() => (document.querySelector('.legend') || {}).textContent.includes('Stale position')"
    )
    assert m.errors == [], m.errors
    await m.context.close()
