"""An installable page (a progressive web app) served as the phone app (``/app``) and the agency portal
(``/agency``) are: the page with the browser's config injected (as ``/map`` does), its web app manifest, its
service worker and its own static files.

* ``{page}``: the HTML page; ``{page}/`` redirects to it;
* ``{page}/manifest.webmanifest``: the manifest;
* ``{page}/sw.js``: the service worker, one template for every page (``static/sw.js`` here). It lives under
  ``{page}/`` but controls ``{page}`` itself, hence ``Service-Worker-Allowed``. Its cache name is the page's
  prefix and a hash of the page's shell, so any change to a shell file installs a new worker (browsers compare
  the script's bytes), and each page clears only its own old caches;
* ``{static prefix}/...``: the page's own JS/CSS/icons. Leaflet and the helpers shared with the live map are
  the live map's files (``live_shell``, paths below ``/static/live/``), never copied.

Every answer says ``nosniff`` and ``no-cache``: the service worker holds the offline copy, and the HTTP cache
revalidates (a cheap 304), so a release shows at once.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from jogo_dispatch import __version__
from jogo_dispatch.live import page as live_page
from jogo_dispatch.webapp.schemas import ManifestIcon, WebManifest

SW_TEMPLATE = Path(__file__).resolve().parent / "static" / "sw.js"
PLACEHOLDER = "{{CONFIG_JSON}}"
SW_PLACEHOLDERS = ("{{CACHE_NAME}}", "{{SHELL_JSON}}", "{{PAGE_PATH}}")
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def root_of(request: Request) -> str:
    """The app's mount point behind a proxy (``root_path``), without a trailing slash."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def icon(src: str, sizes: str, kind: str, purpose: Literal["any", "maskable"] = "any") -> ManifestIcon:
    return ManifestIcon(src=src, sizes=sizes, type=kind, purpose=purpose)


def icon_set(folder: str) -> list[ManifestIcon]:
    """The icons every page ships in its ``icons/`` folder: 192 and 512 px, maskable, and the SVG."""
    return [
        icon(f"{folder}/icon-192.png", "192x192", "image/png"),
        icon(f"{folder}/icon-512.png", "512x512", "image/png"),
        icon(f"{folder}/maskable-512.png", "512x512", "image/png", "maskable"),
        icon(f"{folder}/icon.svg", "any", "image/svg+xml"),
    ]


@dataclass(frozen=True)
class InstallablePage:
    """One page: where it is served, its files, and what its manifest and config say."""

    page_path: str  # "/app"
    static_dir: Path
    static_prefix: str  # "/static/app"
    html: str  # the page's file in static_dir, with PLACEHOLDER where the config goes
    cache_prefix: str  # "jogo-app": the service worker's caches are "{cache_prefix}-{digest}"
    own_shell: tuple[str, ...]  # below static_dir
    live_shell: tuple[str, ...]  # below the live map's static root
    manifest: Callable[[str], WebManifest]  # root -> the manifest
    config: Callable[[str], dict[str, Any]] = field(default=lambda _root: {})  # root -> the page's own keys

    @property
    def manifest_path(self) -> str:
        return f"{self.page_path}/manifest.webmanifest"

    @property
    def sw_path(self) -> str:
        return f"{self.page_path}/sw.js"

    def shell_urls(self, root: str = "") -> list[str]:
        """What the service worker caches at install: the page, its manifest, its shell files."""
        return (
            [f"{root}{self.page_path}", f"{root}{self.manifest_path}"]
            + [f"{root}{self.static_prefix}/{p}" for p in self.own_shell]
            + [f"{root}{live_page.STATIC_PREFIX}/{p}" for p in self.live_shell]
        )

    @cached_property
    def digest(self) -> str:
        """Changes whenever a shell file, the page, the worker or the version changes."""
        h = hashlib.sha256(__version__.encode())
        for path in (
            [self.static_dir / self.html, SW_TEMPLATE]
            + [self.static_dir / p for p in self.own_shell]
            + [live_page.STATIC_DIR / p for p in self.live_shell]
        ):
            h.update(path.name.encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]

    @cached_property
    def _html(self) -> str:
        return (self.static_dir / self.html).read_text(encoding="utf-8")

    @cached_property
    def _sw(self) -> str:
        return SW_TEMPLATE.read_text(encoding="utf-8")

    @cached_property
    def _static(self) -> StaticFiles:
        return StaticFiles(directory=self.static_dir)

    def page_config(self, settings: Any, root: str) -> dict[str, Any]:
        """The live map's config for the browser, and the page's own keys and its service worker's."""
        return {
            **live_page.page_config(settings, root),
            **self.config(root),
            "sw_url": f"{root}{self.sw_path}",
            "sw_scope": f"{root}{self.page_path}",
            "static_base": f"{root}{self.static_prefix}",
            "shell": self.digest,
        }

    def service_worker(self, root: str) -> str:
        values = (
            f"{self.cache_prefix}-{self.digest}",
            json.dumps(self.shell_urls(root)),
            json.dumps(f"{root}{self.page_path}"),
        )
        script = self._sw
        for placeholder, value in zip(SW_PLACEHOLDERS, values, strict=True):
            script = script.replace(placeholder, value)
        return script

    def add_routes(self, router: APIRouter, *, name: str, summary: str) -> None:
        """The page's five routes on ``router``; only the page itself is in the API schema (as ``name``)."""

        async def page(request: Request) -> HTMLResponse:
            config = self.page_config(request.app.state.settings, root_of(request))
            html = self._html.replace(PLACEHOLDER, live_page.config_json(config))
            return HTMLResponse(
                html,
                headers={
                    **HEADERS,
                    "Content-Security-Policy": live_page.content_security_policy(config["tile_url"]),
                    "Referrer-Policy": "same-origin",
                },
            )

        async def page_slash(request: Request) -> RedirectResponse:
            return RedirectResponse(f"{root_of(request)}{self.page_path}", status_code=308)

        async def manifest(request: Request) -> JSONResponse:
            return JSONResponse(
                self.manifest(root_of(request)).model_dump(mode="json"),
                media_type="application/manifest+json",
                headers=HEADERS,
            )

        async def service_worker(request: Request) -> Response:
            root = root_of(request)
            return Response(
                self.service_worker(root),
                media_type="application/javascript",
                headers={**HEADERS, "Service-Worker-Allowed": f"{root}{self.page_path}"},
            )

        async def static(path: str, request: Request) -> Response:
            response = await self._static.get_response(
                posixpath.normpath(path.lstrip("/") or "."), request.scope
            )
            response.headers.update(HEADERS)
            return response

        router.add_api_route(
            self.page_path, page, methods=["GET"], response_class=HTMLResponse, summary=summary, name=name
        )
        hidden: list[tuple[str, Callable[..., Any], list[str], str]] = [
            (self.page_path + "/", page_slash, ["GET"], "slash"),
            (self.manifest_path, manifest, ["GET"], "manifest"),
            (self.sw_path, service_worker, ["GET"], "service_worker"),
            (self.static_prefix + "/{path:path}", static, ["GET", "HEAD"], "static"),
        ]
        for path, endpoint, methods, suffix in hidden:
            router.add_api_route(
                path, endpoint, methods=methods, include_in_schema=False, name=f"{name}_{suffix}"
            )
