"""Verification with evidence on the live map: a report's photo (fetched with the dispatcher's token, shown
from a blob URL and full size), address, reporter's phone and how far the phone was from the place are
looked at before verifying; a false marking asks for a reason and a confirmation, and can be withdrawn."""

from __future__ import annotations

import pytest

from tests.browser.workspace import dispatcher, open_map, seed_malang
from tests.reports.helpers import citizen, offset, png, report_body, rows

pytestmark = pytest.mark.browser
PLACE = (-7.9666, 112.6326)  # Alun-alun Tugu


async def test_report_with_a_photo_is_verified_after_looking_at_it(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    await seed_malang(actors)
    user = await dispatcher(actors)
    _, ch = await citizen(api, name="Pak Harto")
    phone_lat, phone_lon = offset(*PLACE, 0, 800)  # the phone was 800 m east of what it reported
    fields = report_body(
        category="fallen_tree",
        description="Pohon tumbang di depan balai kota",
        lat=PLACE[0],
        lon=PLACE[1],
        reporter_lat=phone_lat,
        reporter_lon=phone_lon,
        address="Jl. Tugu 1",
    )
    r = await api.post(
        "/api/v1/reports",
        headers=ch,
        data={k: str(v) for k, v in fields.items()},
        files={"photo": ("pohon.png", png(64, 48, seed=3), "image/png")},
    )
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    (reporter_phone,) = (await rows(database_url, "SELECT phone FROM users WHERE full_name = 'Pak Harto'"))[0]

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.click("#tabs [data-tab='reports']")
    await page.click(f"#list-reports .item[data-id='{report_id}']")
    photo = page.locator("#evidence-photo")
    await page.wait_for_function(
        "() => { const i = document.getElementById('evidence-photo'); return i && i.complete && i.naturalWidth > 0; }"
    )
    assert (await photo.get_attribute("src") or "").startswith("blob:")
    assert await page.evaluate("() => document.getElementById('evidence-photo').naturalWidth") == 64
    desk = await page.text_content("#desk-body") or ""
    assert "Jl. Tugu 1" in desk and "Pohon tumbang di depan balai kota" in desk
    assert (await page.get_attribute("#desk a.tel", "href")) == f"tel:{reporter_phone}"
    distance = await page.text_content("#evidence-distance") or ""
    assert distance.startswith("800 m") and "jauh dari lokasi" in distance, distance
    assert "1 laporan" in (await page.text_content("#desk .record") or "")
    await photo.click()
    await page.wait_for_selector("#lightbox:not([hidden])")
    await m.shot("workspace-06-evidence-photo-full")
    await page.keyboard.press("Escape")
    await page.wait_for_selector("#lightbox", state="hidden")
    await m.shot("workspace-07-evidence")

    await page.click("#report-verify")
    await page.wait_for_selector("#desk[data-kind='incident']")
    ((status, incident_id),) = await rows(
        database_url, "SELECT status, incident_id FROM reports WHERE id = %s", report_id
    )
    assert status == "verified" and incident_id is not None
    assert f"#{incident_id}" in (await page.text_content("#desk-title") or "")
    await page.wait_for_selector(f"#list-reports .item[data-id='{report_id}']", state="detached")
    assert m.errors == []
    await m.context.close()


async def test_false_report_needs_a_reason_and_a_confirmation_and_can_be_withdrawn(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    user = await dispatcher(actors)
    citizen_id, ch = await citizen(api, name="Iseng")
    r = await api.post(
        "/api/v1/reports", headers=ch, json=report_body(description="Ada kebakaran (bohong)", category="fire")
    )
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.click("#tabs [data-tab='reports']")
    await page.click(f"#list-reports .item[data-id='{report_id}']")
    await page.wait_for_selector("#evidence-distance")
    await page.click("#report-false")
    confirm = page.locator("#desk .review .confirm:not([hidden])")
    await confirm.locator(".confirm-yes").click()  # no reason yet: nothing happens
    await page.wait_for_selector("#desk .review .confirm textarea.invalid")
    assert await rows(database_url, "SELECT status FROM reports WHERE id = %s", report_id) == [("received",)]
    await confirm.locator("textarea").fill("Dicek Polsek Klojen: tidak ada kebakaran")
    await m.shot("workspace-08-false-confirm")
    await confirm.locator(".confirm-yes").click()
    await page.wait_for_selector("#desk .chip.rs-false")
    assert await rows(database_url, "SELECT status, review_note FROM reports WHERE id = %s", report_id) == [
        ("false", "Dicek Polsek Klojen: tidak ada kebakaran")
    ]
    assert await rows(database_url, "SELECT count(*) FROM strikes WHERE user_id = %s", citizen_id) == [(1,)]

    # withdrawn from the "marked false" view of the queue: back in the queue, strike gone
    await page.click("[data-queue='false']")
    await page.click(f"#list-reports .item[data-id='{report_id}']")
    await page.click("#report-unmark")
    unmark = page.locator("#desk .confirm:not([hidden])")
    await unmark.locator("textarea").fill("Salah tandai")
    await unmark.locator(".confirm-yes").click()
    await page.wait_for_selector("#report-verify")
    assert await rows(database_url, "SELECT status FROM reports WHERE id = %s", report_id) == [("received",)]
    assert await rows(database_url, "SELECT count(*) FROM strikes WHERE user_id = %s", citizen_id) == [(0,)]
    assert m.errors == []
    await m.context.close()
