"""The front door in Chromium on a closed network: the landing page leads to the map, and /docs renders
Swagger UI (with every operation) from files the server itself serves."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


async def test_landing_page_and_offline_api_docs(browser, live_server):
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    remote: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(live_server.url) else remote.append(req.url))
    try:
        await page.goto(live_server.url + "/")
        await page.get_by_text("Peta langsung").wait_for()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "home_landing.png"))
        await page.get_by_text("Dokumentasi API").click()
        await page.wait_for_url("**/docs")
        await page.wait_for_selector(".opblock", timeout=20_000)  # Swagger UI read the OpenAPI 3.1 document
        operations = await page.locator(".opblock").count()
        await page.screenshot(path=str(SCREENSHOTS / "home_docs.png"))
        assert operations > 50
        assert remote == [], remote  # landing and docs: nothing from outside (the map may load its tiles)
        await page.goto(live_server.url + "/")
        await page.get_by_text("Peta langsung").click()
        await page.wait_for_url("**/map")
    finally:
        await context.close()
    assert errors == [], errors
