"""Officer safety on the phone app (/app) and on the dispatchers' map (/map), in Debian's Chromium.

An officer on scene gets a welfare check ("Aman?") on the phone and answers it with one tap; a check nobody
answers reaches the dispatchers' map as an alarm; another officer asks for backup from the phone and the
dispatchers see it; an officer holds the panic button and every dispatcher's map sounds and flashes until
one of them acknowledges it. An officer starts an incident where they stand (on view). Screenshots go to
test-output/screenshots/ (phone 390×844, map 1366×768).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from jogo_dispatch.dispatch import timers
from tests.browser.conftest import MALANG, Phone, shot
from tests.browser.test_phone_app import log_in, scalar
from tests.browser.workspace import dispatcher, open_map, ping
from tests.reports.helpers import citizen, rows, verified_incident

pytestmark = pytest.mark.browser

PhoneFactory = Callable[..., Awaitable[Phone]]
HERE = (MALANG["latitude"], MALANG["longitude"])  # where the emulated phones stand

# Counts the oscillators the page starts: each alarm pattern is several beeps, so a growing count is a
# sounding alarm and a still one a silent page.
COUNT_TONES = """
(() => {
  window.__tones = 0;
  const AC = window.AudioContext || window.webkitAudioContext;
  const make = AC.prototype.createOscillator;
  AC.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
})();
"""


async def sweep(live_server: Any) -> dict[str, int]:
    """One round of the safety timers, run on the live server's own loop (its bus and officer sockets)."""
    rt = live_server.app.state.runtime
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(timers.sweep(rt), rt.loop))


async def officer_phone(phone: PhoneFactory, database_url: str, officer_id: int, **context: Any) -> Any:
    badge = await scalar(database_url, "SELECT badge FROM officers WHERE id = %s", officer_id)
    p = await phone(**context)
    page = await p.open()
    await log_in(page, badge, "secret-pw", "officer")
    await page.wait_for_selector("#ws-state[data-state=live]")
    await page.click("#duty button[data-status=available]")
    await page.wait_for_selector("#duty[data-status=available]")
    return page


async def hold(page: Any, selector: str, ms: int) -> None:
    box = await page.locator(selector).bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await page.wait_for_timeout(ms)
    await page.mouse.up()


async def dispatched_to(
    server_api: httpx.AsyncClient, reporter: dict[str, str], desk: dict[str, str], officer_id: int, **kw: Any
) -> int:
    incident = await verified_incident(server_api, reporter, desk, **kw)
    r = await server_api.post(
        f"/api/v1/incidents/{incident}/dispatch", headers=desk, json={"officer_id": officer_id}
    )
    assert r.status_code == 201, r.text
    return incident


async def test_welfare_check_backup_and_panic_reach_the_dispatchers(
    phone: PhoneFactory,
    browser: Any,
    actors: Any,
    server_api: httpx.AsyncClient,
    live_server: Any,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = live_server.app.state.runtime.settings
    monkeypatch.setattr(settings, "welfare_interval_s", 0.05)
    monkeypatch.setattr(settings, "welfare_grace_s", 600.0)
    desk = await actors.user("dispatcher")
    first = await dispatcher(actors)
    second = await dispatcher(actors)
    a_id, a_headers = await actors.officer(unit_type="motorbike")
    b_id, b_headers = await actors.officer(unit_type="car")
    c_id, c_headers = await actors.officer(unit_type="car")  # available nearby: the one backup goes to
    for headers, north in ((a_headers, 0.0), (b_headers, 0.004), (c_headers, 0.006)):
        await ping(server_api, headers, HERE[0] + north, HERE[1])

    maps = []
    for name in (first, second):
        mp = await open_map(browser, live_server.url, name)
        await mp.context.add_init_script(COUNT_TONES)
        await mp.reload()
        await mp.page.keyboard.press("Shift")  # a key press: the page may make sound from now on
        maps.append(mp)
    m1, m2 = maps

    # --- officer A: dispatched, accepts on the phone, on scene, and the welfare check comes
    page_a = await officer_phone(phone, database_url, a_id)
    _, reporter = await citizen(server_api, "Rina")
    inc_a = await dispatched_to(
        server_api,
        reporter,
        desk,
        a_id,
        category="crime",
        description="Keributan di pasar",
        lat=-7.9790,
        lon=112.6310,
        reporter_lat=-7.9791,
        reporter_lon=112.6311,
    )
    await page_a.wait_for_selector("#offer-card", state="visible")
    await page_a.click("#offer-accept")
    await page_a.wait_for_selector("#job-card", state="visible")
    for step in ("en_route", "on_scene"):
        await page_a.click(f"#job-steps button[data-step={step}]")
        await page_a.wait_for_selector(f"#job-card[data-status={step}]")
    assert int(await page_a.get_attribute("#job-card", "data-incident-id") or 0) == inc_a
    await asyncio.sleep(0.1)
    assert (await sweep(live_server))["welfare_checks"] == 1
    await page_a.wait_for_selector("#welfare-card", state="visible")
    assert await page_a.text_content("#welfare-heading") == "Aman?"
    assert await page_a.text_content("#welfare-safe") == "Aman"
    assert "Jawab dalam" in (await page_a.text_content("#welfare-countdown") or "")
    await page_a.wait_for_function(
        "() => Number(document.getElementById('welfare-card').dataset.alerts) >= 1"
    )
    await shot(page_a, "safety-01-welfare-check")
    await page_a.click("#welfare-safe")
    await page_a.wait_for_selector("#welfare-card", state="hidden")
    ok = await rows(
        database_url,
        "SELECT welfare_ok_at >= welfare_sent_at FROM offers WHERE incident_id = %s AND officer_id = %s",
        inc_a,
        a_id,
    )
    assert ok == [(True,)], ok
    actions = [
        a
        for (a,) in await rows(
            database_url,
            "SELECT action FROM audit_log WHERE entity_type = 'incident' AND entity_id = %s ORDER BY id",
            inc_a,
        )
    ]
    assert actions.index("welfare_check") < actions.index("welfare_ok"), actions

    # the next check goes unanswered: the dispatchers' maps raise the alarm (a sweep's steps take time under
    # load, so the grace period is long enough for the check to go out before it is missed)
    monkeypatch.setattr(settings, "welfare_grace_s", 1.0)
    await asyncio.sleep(0.1)
    sent = await sweep(live_server)
    assert sent["welfare_checks"] == 1
    await page_a.wait_for_selector("#welfare-card", state="visible")
    await asyncio.sleep(1.2)
    missed = await sweep(live_server)
    assert sent["welfare_missed"] + missed["welfare_missed"] == 1, (sent, missed)
    for mp in maps:
        await mp.page.wait_for_selector("#alarm-banner .alarm-row.danger[data-kind=welfare_check_missed]")
    await page_a.wait_for_selector("#welfare-countdown[data-late=true]")
    await shot(page_a, "safety-02-welfare-late")
    await m1.shot("safety-03-map-welfare-missed")
    # answered late, "need help": the phone stops asking, the maps get that alarm too; each stays until a
    # dispatcher acknowledges it
    await page_a.click("#welfare-help-btn")
    await page_a.wait_for_selector("#welfare-card", state="hidden")
    for mp in maps:
        await mp.page.wait_for_selector("#alarm-banner .alarm-row.danger[data-kind=officer_needs_help]")
    assert await rows(database_url, "SELECT officer_id FROM alerts WHERE kind = 'officer_needs_help'") == [
        (a_id,)
    ]
    for kind in ("welfare_check_missed", "officer_needs_help"):
        await m1.page.click(f"#alarm-banner .alarm-row[data-kind={kind}] button.primary")
    for mp in maps:
        await mp.page.wait_for_selector("#alarm-banner", state="hidden")
    monkeypatch.setattr(settings, "welfare_interval_s", 3600.0)

    # --- officer B on another incident asks for backup from the phone: two units, one is free nearby
    page_b = await officer_phone(phone, database_url, b_id)
    _, other_reporter = await citizen(server_api, "Joko")
    inc_b = await dispatched_to(
        server_api,
        other_reporter,
        desk,
        b_id,
        category="traffic_accident",
        description="Tabrakan beruntun",
        lat=-7.9700,
        lon=112.6350,
        reporter_lat=-7.9701,
        reporter_lon=112.6351,
    )
    await page_b.wait_for_selector("#offer-card", state="visible")
    await page_b.click("#offer-accept")
    await page_b.wait_for_selector("#job-card", state="visible")
    b_badge = await scalar(database_url, "SELECT badge FROM officers WHERE id = %s", b_id)
    [(needed_before,)] = await rows(database_url, "SELECT units_needed FROM incidents WHERE id = %s", inc_b)
    await page_b.click("#backup-open")
    await page_b.select_option("#backup-units", "2")
    await page_b.fill("#backup-reason", "Massa bertambah")
    await shot(page_b, "safety-04-backup-form")
    await page_b.click("#backup-form button[type=submit]")
    await page_b.wait_for_selector("#backup-result", state="visible")
    assert await page_b.text_content("#backup-result") == (
        "Permintaan bantuan terkirim: 1 dari 2 unit dipanggil; command center mencari sisanya."
    )
    await shot(page_b, "safety-05-backup-sent")
    offered = await rows(
        database_url,
        "SELECT officer_id, status FROM offers WHERE incident_id = %s AND officer_id <> %s",
        inc_b,
        b_id,
    )
    assert offered == [(c_id, "pending")], offered
    [(units_needed,)] = await rows(database_url, "SELECT units_needed FROM incidents WHERE id = %s", inc_b)
    assert units_needed == needed_before + 2
    for mp in maps:
        row = mp.page.locator("#alarm-banner .alarm-row.backup[data-kind=backup_requested]")
        await row.wait_for()
        assert "Massa bertambah" in (await row.text_content() or "")
        assert f"#{inc_b}" in (await row.text_content() or "")
        assert "2 unit diminta, 1 dipanggil" in (await row.text_content() or "")
        assert b_badge in (await row.text_content() or "")  # the officer who asked
    # on the map itself: the backup marker at the incident
    await m1.page.wait_for_selector(".alert-icon.backup")
    await m1.shot("safety-06-map-backup")
    # an alert of its own in the list too
    await m1.page.click("#tab-alerts-btn")
    await m1.page.wait_for_selector("#list-alerts .item[data-kind=alert]")
    await m1.page.click("#alarm-banner .alarm-row[data-kind=backup_requested] button.primary")
    await m1.page.wait_for_selector("#alarm-banner", state="hidden")

    # --- officer B holds the panic button; a short press does nothing
    await hold(page_b, "#panic-btn", 300)
    await page_b.wait_for_timeout(500)
    assert await page_b.is_hidden("#panic-status")
    assert not await rows(database_url, "SELECT id FROM alerts WHERE kind = 'officer_distress'")
    before = [await mp.page.evaluate("() => window.__tones") for mp in maps]
    await hold(page_b, "#panic-btn", 1700)
    await page_b.wait_for_selector("#panic-status[data-state=sent]")
    assert await page_b.text_content("#panic-title") == "Bantuan sedang datang"
    await shot(page_b, "safety-07-panic-sent")
    [(alert_id, alert_officer)] = await rows(
        database_url, "SELECT id, officer_id FROM alerts WHERE kind = 'officer_distress'"
    )
    assert alert_officer == b_id
    [(sos_incident, priority)] = await rows(
        database_url, "SELECT id, priority FROM incidents WHERE category = 'officer_sos'"
    )
    assert priority == 1
    for mp in maps:
        await mp.page.wait_for_selector(f"#alarm-banner .alarm-row.danger[data-alert-id='{alert_id}']")
        await mp.page.wait_for_selector(".alert-icon.danger")
    # it keeps sounding: three alarm rounds, not one beep
    for mp, n in zip(maps, before, strict=True):
        await mp.page.wait_for_function(f"() => window.__tones >= {n} + 24", timeout=12_000)
    await m2.shot("safety-08-map-panic")
    # a reload keeps the alarm: the banner at once, the sound from the first key press or click
    await m1.reload()
    await m1.page.wait_for_selector(f"#alarm-banner .alarm-row.danger[data-alert-id='{alert_id}']")
    await m1.page.wait_for_selector("#alarm-banner .alarm-mute")
    await m1.page.keyboard.press("Shift")
    await m1.page.wait_for_function("() => window.__tones >= 16", timeout=12_000)
    await m1.page.wait_for_selector("#alarm-banner .alarm-mute", state="detached")
    await m1.page.click("#topbar .lang button[data-lang=en]")
    await m1.page.wait_for_selector("#alarm-banner .alarm-row.danger b:has-text('OFFICER IN DANGER')")
    await m1.shot("safety-08b-map-panic-en")
    await page_b.click("#lang")
    assert await page_b.text_content("#panic-title") == "Help is on the way"
    await shot(page_b, "safety-09-panic-sent-en")

    # one dispatcher acknowledges it: the banner goes and the sound stops on every map
    await m2.page.click(f"#alarm-banner .alarm-row[data-alert-id='{alert_id}'] button.primary")
    for mp in maps:
        await mp.page.wait_for_selector("#alarm-banner", state="hidden")
    await asyncio.sleep(0.5)
    quiet = [await mp.page.evaluate("() => window.__tones") for mp in maps]
    await asyncio.sleep(3.0)
    assert [await mp.page.evaluate("() => window.__tones") for mp in maps] == quiet
    assert await scalar(
        database_url, "SELECT acknowledged_at IS NOT NULL FROM alerts WHERE id = %s", alert_id
    )
    assert sos_incident != inc_b
    for mp in maps:
        assert not mp.errors, mp.errors
        await mp.context.close()


async def test_officer_starts_an_incident_on_view(
    phone: PhoneFactory, actors: Any, server_api: httpx.AsyncClient, database_url: str
) -> None:
    officer_id, _ = await actors.officer(unit_type="motorbike")
    page = await officer_phone(phone, database_url, officer_id)
    await page.click("#duty button[data-status=off_duty]")
    await page.wait_for_selector("#duty[data-status=off_duty]")

    await page.click("#onview-open")
    await page.wait_for_function("() => document.querySelectorAll('#onview-category option').length > 1")
    await page.wait_for_function(
        "() => document.getElementById('onview-where').textContent.startsWith('Lokasi Anda: -7.97970')"
    )
    # nothing chosen: said on the form, nothing sent
    await page.click("#onview-form button[type=submit]")
    assert await page.text_content("#onview-form .error") == "Pilih jenis kejadian."
    await page.select_option("#onview-category", "traffic_accident")
    await page.fill("#onview-narrative", "Motor jatuh di depan saya, pengendara luka ringan")
    # off duty: the server refuses (409 officer_unavailable) and the app says what to do, in its language
    await page.click("#onview-form button[type=submit]")
    await page.wait_for_function("() => document.querySelector('#onview-form .error').textContent !== ''")
    assert await page.text_content("#onview-form .error") == 'Ubah status dinas ke "Siaga" dulu.'
    assert not await rows(database_url, "SELECT id FROM incidents")
    await shot(page, "safety-10-onview-refused")

    await page.click("#duty button[data-status=available]")
    await page.wait_for_selector("#duty[data-status=available]")
    await page.click("#onview-form button[type=submit]")
    await page.wait_for_selector("#job-card[data-status=on_scene]")
    assert await page.is_hidden("#onview-card")
    assert await page.text_content("#job-status") == "Petugas di lokasi"
    assert "Motor jatuh" in (await page.text_content("#job-body") or "")
    await shot(page, "safety-11-onview-job")
    [(incident, source, status, category, lat, lon, description, assigned)] = await rows(
        database_url,
        "SELECT id, source, status, category, lat, lon, description, officer_id FROM incidents",
    )
    assert (source, status, category, assigned) == ("officer", "on_scene", "traffic_accident", officer_id)
    assert abs(lat - HERE[0]) < 1e-6 and abs(lon - HERE[1]) < 1e-6
    assert description.startswith("Motor jatuh")
    assert int(await page.get_attribute("#job-card", "data-incident-id") or 0) == incident
    unit = await rows(
        database_url, "SELECT status, on_scene_at IS NOT NULL FROM offers WHERE incident_id = %s", incident
    )
    assert unit == [("accepted", True)], unit
    assert await scalar(database_url, "SELECT status FROM officers WHERE id = %s", officer_id) == "busy"
    # after a reload the assignment is still there, from the server's offers
    await page.reload()
    await page.wait_for_selector("#job-card[data-status=on_scene]")
    # and it is done like any other
    await page.click("#job-steps button[data-step=resolved]")
    await page.wait_for_selector("#job-card", state="hidden")
    assert await scalar(database_url, "SELECT status FROM incidents WHERE id = %s", incident) == "resolved"
    assert await page.is_visible("#onview-card")
