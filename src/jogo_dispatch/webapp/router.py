"""``GET /app``: the citizens' and officers' phone web app, installable (manifest + service worker).

* ``/app``: the page (``static/app.html`` with the browser's config injected, as ``/map`` does);
* ``/app/manifest.webmanifest``: the web app manifest;
* ``/app/sw.js``: the service worker. It lives under ``/app/`` but controls ``/app`` itself, hence
  ``Service-Worker-Allowed: /app``. Its cache name is a hash of the app shell, so any change to a shell
  file installs a new worker (browsers compare the script's bytes);
* ``/static/app/...``: the page's own JS/CSS/icons. Leaflet is the live map's vendored copy under
  ``/static/live/vendor/leaflet/`` (not copied), and the DOM / strings / sound helpers the two pages share
  are ES modules under ``/static/live/shared/`` (``js/dom.js`` imports them as ``../../live/shared/``).

No CDN, no external fetches except map tiles from the configured tile server (the page works without them).
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
STATIC_PREFIX = "/static/app"
APP_PATH = "/app"
MANIFEST_PATH = "/app/manifest.webmanifest"
SW_PATH = "/app/sw.js"
PLACEHOLDER = "{{CONFIG_JSON}}"
SW_PLACEHOLDERS = ("{{CACHE_NAME}}", "{{SHELL_JSON}}", "{{APP_PATH}}")

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

router = APIRouter(route_class=IdempotentRoute, tags=["phone app"])
_static = StaticFiles(directory=STATIC_DIR)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def shell_urls(root: str = "") -> list[str]:
    return (
        [f"{root}{APP_PATH}", f"{root}{MANIFEST_PATH}"]
        + [f"{root}{STATIC_PREFIX}/{p}" for p in OWN_SHELL]
        + [f"{root}{live_page.STATIC_PREFIX}/{p}" for p in SHARED_SHELL + LEAFLET_SHELL]
    )


@cache
def shell_digest() -> str:
    """Changes whenever a shell file, the page template or the version changes."""
    h = hashlib.sha256(__version__.encode())
    for path in (
        [STATIC_DIR / "app.html", STATIC_DIR / "sw.js"]
        + [STATIC_DIR / p for p in OWN_SHELL]
        + [live_page.STATIC_DIR / p for p in SHARED_SHELL + LEAFLET_SHELL]
    ):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@cache
def _read(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def app_config(settings: Any, root: str) -> dict[str, Any]:
    return {
        **live_page.page_config(settings, root),
        "app_path": f"{root}{APP_PATH}",
        "officer_stream_path": f"{root}/api/v1/officers/stream",
        "sw_url": f"{root}{SW_PATH}",
        "sw_scope": f"{root}{APP_PATH}",
        "static_base": f"{root}{STATIC_PREFIX}",
        "shell": shell_digest(),
    }


def _icon(src: str, sizes: str, kind: str, purpose: Literal["any", "maskable"] = "any") -> ManifestIcon:
    return ManifestIcon(src=src, sizes=sizes, type=kind, purpose=purpose)


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
        icons=[
            _icon(f"{icons}/icon-192.png", "192x192", "image/png"),
            _icon(f"{icons}/icon-512.png", "512x512", "image/png"),
            _icon(f"{icons}/maskable-512.png", "512x512", "image/png", "maskable"),
            _icon(f"{icons}/icon.svg", "any", "image/svg+xml"),
        ],
    )


_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff"}


@router.get(APP_PATH, response_class=HTMLResponse, summary="Citizens' and officers' phone app (HTML page)")
async def phone_app(request: Request) -> HTMLResponse:
    config = app_config(request.app.state.settings, _root(request))
    html = _read("app.html").replace(PLACEHOLDER, live_page.config_json(config))
    return HTMLResponse(
        html,
        headers={
            **_SECURITY_HEADERS,
            "Cache-Control": "no-cache",
            "Content-Security-Policy": live_page.content_security_policy(config["tile_url"]),
            "Referrer-Policy": "same-origin",
        },
    )


@router.get(APP_PATH + "/", include_in_schema=False)
async def phone_app_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{_root(request)}{APP_PATH}", status_code=308)


@router.get(MANIFEST_PATH, include_in_schema=False)
async def web_manifest(request: Request) -> JSONResponse:
    return JSONResponse(
        manifest(_root(request)).model_dump(mode="json"),
        media_type="application/manifest+json",
        headers={**_SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )


@router.get(SW_PATH, include_in_schema=False)
async def service_worker(request: Request) -> Response:
    root = _root(request)
    script = _read("sw.js")
    values = (f"jogo-app-{shell_digest()}", json.dumps(shell_urls(root)), json.dumps(f"{root}{APP_PATH}"))
    for placeholder, value in zip(SW_PLACEHOLDERS, values, strict=True):
        script = script.replace(placeholder, value)
    return Response(
        script,
        media_type="application/javascript",
        headers={
            **_SECURITY_HEADERS,
            "Cache-Control": "no-cache",
            "Service-Worker-Allowed": f"{root}{APP_PATH}",
        },
    )


@router.api_route(STATIC_PREFIX + "/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def app_static(path: str, request: Request) -> Response:
    response = await _static.get_response(posixpath.normpath(path.lstrip("/") or "."), request.scope)
    # The service worker holds the offline copy; the HTTP cache revalidates (a cheap 304), so a release
    # shows at once.
    response.headers["Cache-Control"] = "no-cache"
    response.headers.update(_SECURITY_HEADERS)
    return response
