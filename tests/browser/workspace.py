"""Helpers for the command-centre workspace tests (the dispatcher's live map at /map in Chromium, 1366×768).

Everything the page must see live goes through ``server_api`` (the live server's own bus and websocket hub);
logins and officers are made with the ``actors`` fixture, as in the other browser tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "id-ID", "timezone_id": "Asia/Jakarta"}
PASSWORD = "secret-pw"  # tests/conftest.py Actors


class MapPage:
    """One dispatcher's browser tab on /map; collects uncaught errors and console errors."""

    def __init__(self, context: Any, page: Any, base_url: str) -> None:
        self.context = context
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        # a failed API call shows as a console error without its URL: the answer is recorded with it instead
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console: {msg.text}")
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.errors.append(f"{r.status} {r.request.method} {r.url}")
                if r.status >= 400 and r.url.startswith(base_url)
                else None
            ),
        )

    async def connected(self) -> None:
        await self.page.wait_for_function("() => window.jogoLive && window.jogoLive.connected()")
        await self.page.wait_for_selector("#conn[data-state='live']")

    async def reload(self) -> None:
        await self.page.reload()
        await self.connected()

    async def click_map_at(self, lat: float, lon: float) -> None:
        """A real mouse click on the map where (lat, lon) is drawn."""
        point = await self.page.evaluate(
            "([lat, lon]) => { const m = window.jogoLive.map; m.setView([lat, lon], 16, {animate: false});"
            " const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();"
            " return [r.left + p.x, r.top + p.y]; }",
            [lat, lon],
        )
        await self.page.mouse.click(point[0], point[1])

    async def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path))
        return path

    async def header_fits(self) -> None:
        """Nothing in the top bar is cut off or pushed past the window."""
        box = await self.page.evaluate(
            "() => { const bar = document.getElementById('topbar'); const out = [];"
            " for (const el of bar.querySelectorAll('.brand, #btn-new, .counters li, #conn, .lang, .user > *')) {"
            "   if (el.offsetParent === null) continue; const r = el.getBoundingClientRect();"
            "   if (r.right > window.innerWidth || r.left < 0 || el.scrollWidth > el.clientWidth + 1)"
            "     out.push(el.id || el.className || el.tagName); }"
            " return {out, scroll: bar.scrollWidth, width: bar.clientWidth}; }"
        )
        assert box["out"] == [] and box["scroll"] <= box["width"], box


async def open_map(browser: Any, base_url: str, username: str, lang: str = "id") -> MapPage:
    context = await browser.new_context(base_url=base_url, **DESKTOP)
    context.set_default_timeout(15_000)
    if lang != "id":
        await context.add_init_script(f"localStorage.setItem('jogo.live.lang', '{lang}')")
    page = await context.new_page()
    mp = MapPage(context, page, base_url)
    await page.goto(base_url + "/map")
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await mp.connected()
    return mp


async def seed_malang(actors: Any) -> None:
    """The Malang region pack: police sectors with their polygons, agencies, routing rules."""
    from tests.agencies.conftest import seed

    await seed(actors.app)


async def dispatcher(actors: Any) -> str:
    """A dispatcher login; its username."""
    await actors.user("dispatcher")
    return f"dispatcher{actors._n}"


async def ping(
    api: httpx.AsyncClient, headers: dict[str, str], lat: float, lon: float, at: datetime | None = None
) -> None:
    at = at or datetime.now(UTC)
    r = await api.post(
        "/api/v1/pings", headers=headers, json={"lat": lat, "lon": lon, "recorded_at": at.isoformat()}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
