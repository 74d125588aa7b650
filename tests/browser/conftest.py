"""Playwright fixtures: Debian's Chromium (never a downloaded browser) as an emulated phone in Malang.

Every test gets a fresh browser context (own storage, IndexedDB, service worker) on the ``live_server``
from tests/conftest.py, which runs the real app on the test database. Hosts other than 127.0.0.1 do not
resolve (map tiles fail fast instead of reaching the internet). Uncaught page errors fail the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from tests.reports.helpers import _catalogue, png  # noqa: F401  (_catalogue: the autouse fixture)

CHROMIUM = os.environ.get("JOGO_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
SCREENSHOT_CSS = (
    "#tabs { position: static !important; } body { padding-bottom: 0 !important; } "
    "#toasts { display: none !important; }"
)
MALANG = {"latitude": -7.9797, "longitude": 112.6304, "accuracy": 12}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
    "timezone_id": "Asia/Jakarta",
    "geolocation": MALANG,
    "permissions": ["geolocation"],
    "service_workers": "allow",
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Mobile Safari/537.36",
}


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).is_file():  # noqa: ASYNC240 - once per session
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield b
        finally:
            await b.close()


class Phone:
    """One emulated phone: a context with its pages; collects uncaught errors."""

    def __init__(self, context: Any, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.errors: list[str] = []

    async def open(self, path: str = "/app") -> Any:
        page = await self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console: {msg.text}")
                if msg.type == "error" and not _expected_console_error(msg.text)
                else None
            ),
        )
        await page.goto(self.base_url + path)
        await page.wait_for_selector("body[data-ready='true']")
        return page


def _expected_console_error(text: str) -> bool:
    # Network failures are the point of the offline tests; tiles never resolve here.
    return bool(re.search(r"net::ERR_|Failed to load resource|Failed to fetch", text))


@pytest.fixture
async def phone(browser: Any, live_server: SimpleNamespace) -> AsyncIterator[Callable[..., Awaitable[Phone]]]:
    phones: list[Phone] = []

    async def make(**overrides: Any) -> Phone:
        context = await browser.new_context(base_url=live_server.url, **{**PHONE, **overrides})
        context.set_default_timeout(15_000)
        p = Phone(context, live_server.url)
        phones.append(p)
        return p

    yield make
    for p in phones:
        await p.context.close()
    errors = [e for p in phones for e in p.errors]
    assert not errors, errors


async def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.evaluate("() => window.scrollTo(0, 0)")  # the sticky header stays at the top of the picture
    # the whole page, with the bottom tab bar at the end instead of floating over the middle
    await page.screenshot(path=str(path), full_page=True, style=SCREENSHOT_CSS)
    return path


@pytest.fixture
async def server_api(live_server: SimpleNamespace) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the live server (the process that holds the officers' sockets and the offer timers)."""
    api = httpx.AsyncClient(base_url=live_server.url, timeout=20)
    yield api
    await api.aclose()


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


async def require_endpoints(api: httpx.AsyncClient, *wanted: str) -> None:
    """Skip (naming what is missing) unless the running server has these ``"METHOD /path"`` endpoints."""
    spec = (await api.get("/openapi.json")).json()
    have = {f"{m.upper()} {_norm(p)}" for p, ops in spec.get("paths", {}).items() for m in ops}
    missing = [w for w in wanted if f"{w.split()[0]} {_norm(w.split()[1])}" not in have]
    if missing:
        pytest.skip("API endpoint(s) not in the server yet: " + ", ".join(missing))


@pytest.fixture(scope="session")
def camera_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A camera-sized picture (2400×1600) for the downscale path."""
    path = tmp_path_factory.mktemp("photos") / "camera.png"
    path.write_bytes(png(2400, 1600, seed=7))
    return path
