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
events). No CDN; map tiles from the configured tile server only (the page works without them).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from functools import cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from jogo_dispatch import __version__
from jogo_dispatch.live import page as live_page
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.webapp.schemas import ManifestIcon, WebManifest

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static/agency"
PAGE_PATH = "/agency"
MANIFEST_PATH = "/agency/manifest.webmanifest"
SW_PATH = "/agency/sw.js"
PLACEHOLDER = "{{CONFIG_JSON}}"
SW_PLACEHOLDERS = ("{{CACHE_NAME}}", "{{SHELL_JSON}}", "{{PAGE_PATH}}")

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

router = APIRouter(route_class=IdempotentRoute, tags=["agency portal"])
_static = StaticFiles(directory=STATIC_DIR)
_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def shell_urls(root: str = "") -> list[str]:
    return (
        [f"{root}{PAGE_PATH}", f"{root}{MANIFEST_PATH}"]
        + [f"{root}{STATIC_PREFIX}/{p}" for p in OWN_SHELL]
        + [f"{root}{live_page.STATIC_PREFIX}/{p}" for p in LIVE_SHELL]
    )


@cache
def shell_digest() -> str:
    """Changes whenever a shell file, the page, the worker or the version changes."""
    h = hashlib.sha256(__version__.encode())
    for path in (
        [STATIC_DIR / "agency.html", STATIC_DIR / "sw.js"]
        + [STATIC_DIR / p for p in OWN_SHELL]
        + [live_page.STATIC_DIR / p for p in LIVE_SHELL]
    ):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@cache
def _read(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def page_config(settings: Any, root: str) -> dict[str, Any]:
    return {
        **live_page.page_config(settings, root),
        "page_path": f"{root}{PAGE_PATH}",
        "sw_url": f"{root}{SW_PATH}",
        "sw_scope": f"{root}{PAGE_PATH}",
        "static_base": f"{root}{STATIC_PREFIX}",
        "shell": shell_digest(),
    }


def _icon(src: str, sizes: str, kind: str, purpose: Literal["any", "maskable"] = "any") -> ManifestIcon:
    return ManifestIcon(src=src, sizes=sizes, type=kind, purpose=purpose)


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
        icons=[
            _icon(f"{icons}/icon-192.png", "192x192", "image/png"),
            _icon(f"{icons}/icon-512.png", "512x512", "image/png"),
            _icon(f"{icons}/maskable-512.png", "512x512", "image/png", "maskable"),
            _icon(f"{icons}/icon.svg", "any", "image/svg+xml"),
        ],
    )


@router.get(PAGE_PATH, response_class=HTMLResponse, summary="Agencies' portal (HTML page)")
async def agency_page(request: Request) -> HTMLResponse:
    config = page_config(request.app.state.settings, _root(request))
    html = _read("agency.html").replace(PLACEHOLDER, live_page.config_json(config))
    return HTMLResponse(
        html,
        headers={
            **_HEADERS,
            "Content-Security-Policy": live_page.content_security_policy(config["tile_url"]),
            "Referrer-Policy": "same-origin",
        },
    )


@router.get(PAGE_PATH + "/", include_in_schema=False)
async def agency_page_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{_root(request)}{PAGE_PATH}", status_code=308)


@router.get(MANIFEST_PATH, include_in_schema=False)
async def agency_manifest(request: Request) -> JSONResponse:
    return JSONResponse(
        manifest(_root(request)).model_dump(mode="json"),
        media_type="application/manifest+json",
        headers=_HEADERS,
    )


@router.get(SW_PATH, include_in_schema=False)
async def agency_service_worker(request: Request) -> Response:
    root = _root(request)
    script = _read("sw.js")
    values = (f"jogo-agency-{shell_digest()}", json.dumps(shell_urls(root)), json.dumps(f"{root}{PAGE_PATH}"))
    for placeholder, value in zip(SW_PLACEHOLDERS, values, strict=True):
        script = script.replace(placeholder, value)
    return Response(
        script,
        media_type="application/javascript",
        headers={**_HEADERS, "Service-Worker-Allowed": f"{root}{PAGE_PATH}"},
    )


@router.api_route(STATIC_PREFIX + "/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def agency_static(path: str, request: Request) -> Response:
    response = await _static.get_response(posixpath.normpath(path.lstrip("/") or "."), request.scope)
    # The service worker holds the offline copy; the HTTP cache revalidates (a cheap 304).
    response.headers.update(_HEADERS)
    return response
