"""The safety and queue timers as countdowns on the dispatcher's map: a unit that accepted but is not en
route yet, the next welfare check of a unit on scene and the wait for its answer, and a report's time left
for verification; each from the server's settings, ticking, and gone when its step is done."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.workspace import dispatcher, open_map, ping, seed_malang
from tests.reports.helpers import MALANG, citizen, file_report

pytestmark = pytest.mark.browser


def _seconds(text: str) -> int:
    """'12:05' → 725 (the countdown at the end of a timer line)."""
    minutes, seconds = text.strip().split()[-1].split(":")
    return int(minutes) * 60 + int(seconds)


async def test_timers_count_down_on_the_desk_and_the_verification_queue(
    browser: Any, live_server: Any, server_api: Any, actors: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = server_api
    settings = live_server.app.state.runtime.settings
    monkeypatch.setattr(settings, "en_route_within_s", 420.0)
    monkeypatch.setattr(settings, "welfare_interval_s", 1500.0)
    monkeypatch.setattr(settings, "welfare_grace_s", 90.0)
    monkeypatch.setattr(settings, "verify_within_s", 900.0)
    await seed_malang(actors)
    desk = await actors.user("dispatcher")
    user = await dispatcher(actors)
    oid, officer = await actors.officer("motorbike")
    await ping(api, officer, *MALANG)
    _, warga = await citizen(api, "Sari")
    report = await file_report(api, warga, category="crime", description="Copet di angkot")

    m = await open_map(browser, live_server.url, user)
    page = m.page
    # the report waits: 15 minutes to verify it
    await page.click("#tabs [data-tab='reports']")
    line = page.locator(f"#list-reports [data-id='{report['id']}'] .timer[data-timer='timer.verify']")
    await line.wait_for()
    assert "Verifikasi dalam" in (await line.text_content() or "")
    assert 880 <= _seconds(await line.text_content() or "") <= 900

    # a call taken and given to the officer by radio: it must be en route within 7 minutes
    call = {"category": "crime", "lat": MALANG[0], "lon": MALANG[1], "source": "phone"}
    incident = (await api.post("/api/v1/incidents", headers=desk, json=call)).json()
    r = await api.post(f"/api/v1/incidents/{incident['id']}/assign", headers=desk, json={"officer_id": oid})
    assert r.status_code == 200, r.text
    await page.click("#tabs [data-tab='incidents']")
    await page.click(f"#list-incidents .item[data-id='{incident['id']}']")
    timer = page.locator("#desk .unit .timer")
    await page.wait_for_selector("#desk .unit .timer[data-timer='timer.en_route']")
    assert 400 <= _seconds(await timer.text_content() or "") <= 420
    await m.shot("workspace-13-timer-en-route")

    # on scene: the next welfare check in 25 minutes, live
    for step in ("en_route", "on_scene"):
        r = await api.post(
            f"/api/v1/incidents/{incident['id']}/status", headers=officer, json={"status": step}
        )
        assert r.status_code == 200, r.text
    await page.wait_for_selector("#desk .unit .timer[data-timer='timer.welfare_next']")
    assert 1480 <= _seconds(await timer.text_content() or "") <= 1500
    before = await timer.text_content()
    await page.wait_for_function(
        "(was) => (document.querySelector('#desk .unit .timer') || {}).textContent !== was", arg=before
    )  # it ticks

    # the check is out: 90 s to answer it
    monkeypatch.setattr(settings, "welfare_interval_s", 0.01)
    from jogo_dispatch.dispatch import timers

    assert (await timers.sweep(live_server.app.state.runtime))["welfare_checks"] == 1
    await page.wait_for_selector("#desk .unit .timer[data-timer='timer.welfare_answer']")
    assert 60 <= _seconds(await timer.text_content() or "") <= 90
    await m.shot("workspace-14-timer-welfare")
    # verified: the report's timer leaves the queue with it
    r = await api.post(f"/api/v1/reports/{report['id']}/verify", headers=desk, json={})
    assert r.status_code == 200, r.text
    await page.click("#tabs [data-tab='reports']")
    await line.wait_for(state="detached")
    assert m.errors == [], m.errors
    await m.context.close()
