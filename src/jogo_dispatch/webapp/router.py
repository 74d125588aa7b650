"""``GET /app``: the citizens' and officers' phone web app, installable (manifest + service worker).

* ``/app``: the page (``static/app.html`` with the browser's config injected, as ``/map`` does);
* ``/app/manifest.webmanifest``: the web app manifest;
* ``/app/sw.js``: the service worker. It lives under ``/app/`` but controls ``/app`` itself, hence
  ``Service-Worker-Allowed: /app``. Its cache name is a hash of the app shell, so any change to a shell
  file installs a new worker (browsers compare the script's bytes);
* ``/static/app/...``: the page's own JS/CSS/icons. Leaflet is the live map's vendored copy under
  ``/static/live/vendor/leaflet/`` (not copied), and the DOM / strings / sound helpers the two pages share
  are ES modules under ``/static/live/shared/`` (``js/dom.js`` imports them as ``../../live/shared/``).

Served as every installable page is (webapp/pwa.py, shared with the agency portal). No CDN, no external
fetches except map tiles from the configured tile server (the page works without them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter

from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.webapp import pwa
from jogo_dispatch.webapp.schemas import WebManifest

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static/app"
APP_PATH = "/app"
MANIFEST_PATH = "/app/manifest.webmanifest"
SW_PATH = "/app/sw.js"
PLACEHOLDER = pwa.PLACEHOLDER
SW_PLACEHOLDERS = pwa.SW_PLACEHOLDERS

# The app shell: everything the page needs to start without a network (paths below the two static roots).
OWN_SHELL = (
    "app.css",
    "js/app.js",
    "js/strings.js",
    "js/dom.js",
    "js/api.js",
    "js/outbox.js",
    "js/geo.js",
    "js/categories.js",
    "js/citizen.js",
    "js/officer.js",
    "js/safety.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/maskable-512.png",
    "icons/apple-touch-icon.png",
)
# The helpers shared with the live map (live/static/shared/), imported by js/dom.js, js/app.js, js/officer.js.
SHARED_SHELL = (
    "shared/dom.js",
    "shared/i18n.js",
    "shared/sound.js",
    "shared/time.js",
)
LEAFLET_SHELL = (
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
)


def manifest(root: str = "") -> WebManifest:
    icons = f"{root}{STATIC_PREFIX}/icons"
    return WebManifest(
        id=f"{root}{APP_PATH}",
        name="Jogo Dispatch — Lapor & SOS",
        short_name="Jogo",
        description="Laporkan kejadian dan tekan SOS ke command center polisi. "
        "Report incidents and send an SOS to the police command centre.",
        lang="id",
        dir="ltr",
        start_url=f"{root}{APP_PATH}",
        scope=f"{root}{APP_PATH}",
        display="standalone",
        orientation="portrait",
        background_color="#14213d",
        theme_color="#14213d",
        categories=["utilities", "navigation"],
        icons=pwa.icon_set(icons),
    )


def _own_config(root: str) -> dict[str, Any]:
    return {"app_path": f"{root}{APP_PATH}", "officer_stream_path": f"{root}/api/v1/officers/stream"}


PAGE = pwa.InstallablePage(
    page_path=APP_PATH,
    static_dir=STATIC_DIR,
    static_prefix=STATIC_PREFIX,
    html="app.html",
    cache_prefix="jogo-app",
    own_shell=OWN_SHELL,
    live_shell=SHARED_SHELL + LEAFLET_SHELL,
    manifest=manifest,
    config=_own_config,
)

router = APIRouter(route_class=IdempotentRoute, tags=["phone app"])
PAGE.add_routes(router, name="phone_app", summary="Citizens' and officers' phone app (HTML page)")
