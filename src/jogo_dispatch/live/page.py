"""``GET /map``: the dispatchers' live map, and its files under ``/static/live/`` (Leaflet vendored, no CDN).

The page is ``static/map.html`` with its ``{{CONFIG_JSON}}`` placeholder replaced by the settings the browser
needs (tile URL, which may be empty = no tiles; time zone; default view). Everything else happens in the
ES modules ``static/map.js`` (entry) and ``static/js/*.js`` against the JSON API and the ``/api/v1/live``
websocket; ``static/shared/*.js`` (DOM, strings, sound helpers) is shared with the phone app (``/app``).

Mounting: ``app.include_router(router)`` is enough; the static files are served by a route of this router
(through Starlette's ``StaticFiles``, so content types, ETag/304, HEAD and path-traversal checks are its).
"""

from __future__ import annotations

import json
import posixpath
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from jogo_dispatch import __version__
from jogo_dispatch.platform.idempotency import IdempotentRoute

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static/live"
TEMPLATE = STATIC_DIR / "map.html"
PLACEHOLDER = "{{CONFIG_JSON}}"

DEFAULT_CENTER = (-7.9797, 112.6304)  # Malang
DEFAULT_ZOOM = 13

router = APIRouter(route_class=IdempotentRoute, tags=["live map"])
_static = StaticFiles(directory=STATIC_DIR)


@cache
def _template() -> str:
    text = TEMPLATE.read_text(encoding="utf-8")
    if PLACEHOLDER not in text:
        raise RuntimeError(f"{TEMPLATE} has no {PLACEHOLDER} placeholder")
    return text


def _tile_attribution(tile_url: str) -> str:
    return "© OpenStreetMap contributors" if "openstreetmap" in tile_url.lower() else ""


def page_config(settings: Any, root_path: str = "") -> dict[str, Any]:
    tile_url = (getattr(settings, "tile_url", "") or "").strip()
    return {
        "tile_url": tile_url,
        "tile_attribution": _tile_attribution(tile_url),
        "timezone": getattr(settings, "timezone", None) or "Asia/Jakarta",
        "center": list(DEFAULT_CENTER),
        "zoom": DEFAULT_ZOOM,
        "api_base": f"{root_path}/api/v1",
        "live_path": f"{root_path}/api/v1/live",
        "low_battery_pct": getattr(settings, "low_battery_pct", 15.0),
        # the safety and queue timers, for the map's countdowns (a response plan may set its own interval)
        "timers": {
            name: getattr(settings, name, None)
            for name in ("welfare_interval_s", "welfare_grace_s", "en_route_within_s", "verify_within_s")
        },
        "version": __version__,
    }


def config_json(config: dict[str, Any]) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``</script>``, no ``<!--``)."""
    return (
        json.dumps(config, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _tile_source(tile_url: str) -> str:
    """The CSP ``img-src`` source for the tile server (``{s}`` subdomains become ``*``)."""
    if not tile_url or tile_url.startswith("/"):
        return ""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = urlsplit(tile_url).netloc.replace("{s}", "*")
    if any(c in host for c in "{} ;,'\""):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str) -> str:
    img = " ".join(s for s in ("'self'", "data:", "blob:", _tile_source(tile_url)) if s)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


@router.get("/map", response_class=HTMLResponse, summary="Dispatchers' live map (HTML page)")
async def live_map(request: Request) -> HTMLResponse:
    config = page_config(request.app.state.settings, request.scope.get("root_path", ""))
    html = _template().replace(PLACEHOLDER, config_json(config))
    return HTMLResponse(
        html,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": content_security_policy(config["tile_url"]),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.api_route(STATIC_PREFIX + "/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def live_static(path: str, request: Request) -> Response:
    response = await _static.get_response(posixpath.normpath(path.lstrip("/") or "."), request.scope)
    # Revalidate every time (ETag/Last-Modified make that a cheap 304): a new release is picked up at once.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
