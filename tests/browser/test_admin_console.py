"""The admin console in Chromium at 1366×768: a roster of 840 officers with one bad row is checked, the row
fixed (or skipped) and the roster imported; a phone is registered and its token shown once with the QR
codes; an appeal granted in the console is read by the citizen in the phone app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.admin.helpers import roster_csv
from tests.browser.conftest import SCREENSHOTS, Phone, shot
from tests.browser.test_phone_app import PhoneFactory, local_number, log_in
from tests.reports.helpers import citizen, file_report, rows

pytestmark = pytest.mark.browser

DESK = {
    "viewport": {"width": 1366, "height": 768},
    "device_scale_factor": 1,
    "is_mobile": False,
    "has_touch": False,
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
}


async def desk_shot(page: Any, name: str) -> Path:
    """What the admin sees on a 1366×768 screen (the viewport, not the whole page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def admin_console(phone: PhoneFactory, actors: Any, section: str) -> tuple[Phone, Any]:
    await actors.user("admin")
    username = f"admin{actors._n}"
    desk = await phone(**DESK)
    page = await desk.open("/admin")
    await page.fill("#login-username", username)
    await page.fill("#login-password", "secret-pw")
    await page.click("#login-submit")
    await page.wait_for_selector("#login", state="hidden")
    await page.click(f"#nav a[data-section={section}]")
    await page.wait_for_selector(f"#sec-{section}:not([hidden])")
    return desk, page


async def test_admin_imports_a_roster_with_a_bad_row_and_registers_a_phone(
    phone: PhoneFactory, actors: Any, database_url: str, tmp_path: Path
) -> None:
    roster = tmp_path / "polresta-malang-kota.csv"
    roster.write_text(roster_csv(840, bad={417: "tank"}))  # data row 417 is spreadsheet row 418
    _, page = await admin_console(phone, actors, "import")
    await page.set_input_files("#roster-file", str(roster))
    await page.wait_for_selector("#roster-bad tr[data-row='418']")
    summary = await page.text_content("#roster-summary") or ""
    assert "840 baris: 839 benar, 1 salah" in summary, summary
    assert await page.is_disabled("#roster-import")
    bad_cell = page.locator("#roster-bad tr[data-row='418'] td.bad input")
    assert await bad_cell.input_value() == "tank"
    assert "unit_type" in (await page.text_content("#roster-bad tr[data-row='418'] .problems") or "")
    await desk_shot(page, "admin-01-roster-report")

    await bad_cell.fill("motorbike")  # fixed in place, then checked again
    await page.click("#roster-recheck")
    await page.wait_for_selector("#roster-import:not([disabled])")
    assert "840 baris: 840 benar, 0 salah" in (await page.text_content("#roster-summary") or "")
    await page.click("#roster-import")
    await page.wait_for_selector("#roster-done", timeout=120_000)
    assert "840 petugas diimpor" in (await page.text_content("#roster-done") or "")
    assert await page.is_visible("#roster-credentials")
    await desk_shot(page, "admin-02-roster-imported")
    [(count, fixed)] = await rows(
        database_url,
        "SELECT count(*), max(unit_type) FILTER (WHERE badge = 'R0417') FROM officers WHERE badge LIKE 'R%%'",
    )
    assert (count, fixed) == (840, "motorbike")

    # the officer's phone: registered, its token shown once, the QR codes beside it
    await page.click("#nav a[data-section=officers]")
    await page.fill("#officer-search", "R0417")
    await page.wait_for_selector("#officers-grid tbody tr[data-id]:only-child")
    await page.click("#officers-grid tbody tr[data-id]")
    await page.wait_for_selector("#device-form")
    await page.wait_for_selector("#devices-grid tbody tr td.mono")
    assert await page.text_content("#devices-grid tbody tr td.mono") == "hp-r0417"  # from the roster
    await page.fill("#device-identifier", "r0417-hp2")
    await page.fill("#device-label", "Samsung A15")
    await page.click("#device-register")
    await page.wait_for_selector("#setup-card")
    token = await page.text_content("#device-token") or ""
    assert token.startswith("jd_") or len(token) > 20, token
    for app in ("traccar", "owntracks"):
        img = page.locator(f"#setup-card figure[data-app={app}] img")
        assert await img.is_visible()
        assert (await img.get_attribute("src") or "").startswith("data:image/svg+xml")
        assert await img.evaluate("i => i.complete && i.naturalWidth > 0")
    link = await page.get_attribute("#setup-card figure[data-app=traccar] a", "href") or ""
    assert link.startswith("org.traccar.client://setup?") and "id=r0417-hp2" in link
    await page.locator("#setup-card").scroll_into_view_if_needed()
    await desk_shot(page, "admin-03-phone-registered")
    hashes = await rows(database_url, "SELECT token_hash FROM devices WHERE identifier = 'r0417-hp2'")
    assert len(hashes) == 1 and hashes[0][0] != token  # only the hash is kept

    # shown once: opened again, the phone offers Traccar Client's QR (no secret in it), and no token
    await page.click("#officers-grid tbody tr[data-id]")
    await page.wait_for_selector("#devices-grid tbody tr:nth-child(2)")
    await page.click("#devices-grid tbody tr:nth-child(2) button:text('QR')")
    await page.wait_for_selector("#setup-card figure[data-app=traccar]")
    assert await page.locator("#device-token").count() == 0
    assert await page.locator("#setup-card figure[data-app=owntracks]").count() == 0


async def test_a_bad_row_can_be_skipped_instead(
    phone: PhoneFactory, actors: Any, database_url: str, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(roster_csv(5, start=901, bad={3: "boat"}))
    _, page = await admin_console(phone, actors, "import")
    await page.set_input_files("#roster-file", str(roster))
    await page.click("#roster-bad tr[data-row='4'] button[data-skip]")
    await page.wait_for_selector("#roster-import:not([disabled])")
    await page.click("#roster-import")
    await page.wait_for_selector("#roster-done")
    assert "4 petugas diimpor" in (await page.text_content("#roster-done") or "")
    badges = [
        b
        for (b,) in await rows(
            database_url, "SELECT badge FROM officers WHERE badge LIKE 'R09%%' ORDER BY badge"
        )
    ]
    assert badges == ["R0901", "R0902", "R0904", "R0905"]


async def test_an_appeal_granted_in_the_console_is_read_by_the_citizen(
    phone: PhoneFactory, actors: Any, server_api: httpx.AsyncClient, database_url: str
) -> None:
    dispatcher = await actors.user("dispatcher")
    uid, hoaxer = await citizen(server_api, "Sari")
    for n in range(3):
        report = await file_report(
            server_api, hoaxer, category="fire", description=f"Palsu {n}", lat=-7.96 - n / 100
        )
        r = await server_api.post(
            f"/api/v1/reports/{report['id']}/reject",
            headers=dispatcher,
            json={"reason": "false", "note": "hoaks"},
        )
        assert r.status_code == 200, r.text
    appeal = await server_api.post(
        "/api/v1/appeals", headers=hoaxer, json={"text": "Anak saya memainkan HP saya."}
    )
    assert appeal.status_code == 201, appeal.text

    _, page = await admin_console(phone, actors, "appeals")
    card = page.locator(f"article.appeal[data-id='{appeal.json()['id']}']")
    await card.wait_for()
    assert "Anak saya memainkan HP saya." in (await card.text_content() or "")
    await card.locator("button[data-decide=grant]").click()  # no note yet: refused in the page
    assert "catatan" in (await card.locator(".error").text_content() or "").lower()
    note = "Dikabulkan. Mohon HP tidak dipinjamkan ke anak-anak."
    await card.locator("textarea").fill(note)
    await desk_shot(page, "admin-04-appeal-queue")
    await card.locator("button[data-decide=grant]").click()
    await page.wait_for_selector("#appeal-list .empty")
    [(status, stored)] = await rows(
        database_url, "SELECT status, decision_note FROM appeals WHERE user_id = %s", uid
    )
    assert (status, stored) == ("granted", note)

    app = await phone()
    citizen_page = await app.open()
    await log_in(citizen_page, await local_number(database_url, uid), "rahasia-1", "citizen")
    await citizen_page.click("#tabs button[data-tab=account]")
    await citizen_page.wait_for_selector("#appeal-decision[data-status=granted]")
    assert await citizen_page.text_content("#appeal-decision-note") == note
    assert "dikabulkan" in (await citizen_page.text_content("#appeal-decision-text") or "")
    assert await citizen_page.is_hidden("#tab-sos .blocked-banner")
    await shot(citizen_page, "admin-05-citizen-sees-the-decision")
    # told once: the decision is marked as seen on this phone
    seen = await citizen_page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('jogo.app.appeal_seen'))"
    )
    assert len(seen) == 1
