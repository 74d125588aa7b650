"""``GET /agency``: the agencies' own page (PLN, DLH, Dishub, BPBD, hospitals ...), installable (manifest +
service worker), Indonesian with an English switch.

* ``/agency``: the page (``static/agency.html`` with the browser's config injected, as ``/map`` does);
* ``/agency/manifest.webmanifest``, ``/agency/sw.js``: the web app manifest and the service worker (it lives
  under ``/agency/`` and controls ``/agency`` itself, hence ``Service-Worker-Allowed``; its cache name is a
  hash of the shell, so any change to a shell file installs a new worker);
* ``/static/agency/...``: the page's own JS/CSS/icons. Leaflet and the DOM / strings / sound helpers are the
  live map's (``/static/live/vendor/leaflet/``, ``/static/live/shared/``), not copied.

Everything the page shows comes from the agency API (``/api/v1/agency/...``) and the agency's share of the
``/api/v1/live`` websocket (a snapshot of its open forwards, then its ``forward`` and ``forward_note``
events). Served as every installable page is (webapp/pwa.py, shared with the phone app). No CDN; map tiles
from the configured tile server only (the page works without them).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.webapp import pwa
from jogo_dispatch.webapp.schemas import WebManifest

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static/agency"
PAGE_PATH = "/agency"
MANIFEST_PATH = "/agency/manifest.webmanifest"
SW_PATH = "/agency/sw.js"

# The page's shell: what it needs to start without a network (paths below the two static roots).
OWN_SHELL = (
    "agency.css",
    "js/app.js",
    "js/strings.js",
    "js/ui.js",
    "js/api.js",
    "js/feed.js",
    "js/board.js",
    "js/detail.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/maskable-512.png",
)
LIVE_SHELL = (
    "shared/dom.js",
    "shared/i18n.js",
    "shared/sound.js",
    "shared/time.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
)


def manifest(root: str = "") -> WebManifest:
    icons = f"{root}{STATIC_PREFIX}/icons"
    return WebManifest(
        id=f"{root}{PAGE_PATH}",
        name="Jogo Instansi — penerusan dari command center",
        short_name="Jogo Instansi",
        description="Kejadian yang diteruskan command center ke instansi Anda: terima, kerjakan, catat, "
        "tutup. Incidents the command centre forwards to your agency: acknowledge, work, note, close.",
        lang="id",
        dir="ltr",
        start_url=f"{root}{PAGE_PATH}",
        scope=f"{root}{PAGE_PATH}",
        display="standalone",
        orientation="any",
        background_color="#0b3d2e",
        theme_color="#0b3d2e",
        categories=["utilities", "productivity"],
        icons=pwa.icon_set(icons),
    )


PAGE = pwa.InstallablePage(
    page_path=PAGE_PATH,
    static_dir=STATIC_DIR,
    static_prefix=STATIC_PREFIX,
    html="agency.html",
    cache_prefix="jogo-agency",
    own_shell=OWN_SHELL,
    live_shell=LIVE_SHELL,
    manifest=manifest,
    config=lambda root: {"page_path": f"{root}{PAGE_PATH}"},
)

router = APIRouter(route_class=IdempotentRoute, tags=["agency portal"])
PAGE.add_routes(router, name="agency_page", summary="Agencies' portal (HTML page)")
