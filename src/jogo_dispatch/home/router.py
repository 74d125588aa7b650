"""``GET /`` lists the pages this server serves; ``GET /docs`` (Swagger UI) and ``/redoc`` come from a registry package
(fastapi-offline ships Swagger UI 5, which reads OpenAPI 3.1), so the docs work on a closed network.

The landing page only links what is mounted: a page that is not part of this build is not shown.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles

from jogo_dispatch import __version__
from jogo_dispatch.platform.idempotency import IdempotentRoute

DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
DOCS_PREFIX = "/static/docs"

# path, Indonesian, English, who it is for (id / en)
PAGES: tuple[tuple[str, str, str, str, str], ...] = (
    ("/map", "Peta langsung", "Live map", "Operator dan dispatcher", "Call-takers and dispatchers"),
    ("/app", "Aplikasi ponsel", "Phone app", "Warga dan petugas", "Citizens and officers"),
    ("/agency", "Portal instansi", "Agency portal", "Instansi dan rumah sakit", "Agencies and hospitals"),
    ("/admin", "Administrasi", "Administration", "Admin", "Administrators"),
    ("/docs", "Dokumentasi API", "API documentation", "Pengembang", "Developers"),
    ("/open311/v2/services.json", "Layanan Open311", "Open311 services", "Aplikasi mitra", "Partner apps"),
)

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)


def _mounted(app: FastAPI) -> set[str]:
    return {str(r.path) for r in iter_route_contexts(app.routes)}


def landing_html(app: FastAPI, root_path: str = "") -> str:
    mounted = _mounted(app)
    items = "\n".join(
        f'<li><a href="{escape(root_path + path)}"><b>{escape(id_)}</b> <span lang="en">· {escape(en)}</span></a>'
        f'<small>{escape(who_id)} <span lang="en">· {escape(who_en)}</span></small></li>'
        for path, id_, en, who_id, who_en in PAGES
        if path in mounted
    )
    return f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>jogo-dispatch</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f24}}
main{{max-width:40rem;margin:3rem auto;padding:0 1rem}}h1{{margin:0 0 .2rem}}p{{color:#555;margin:0 0 1.5rem}}
ul{{list-style:none;padding:0;margin:0}}li{{background:#fff;border-radius:8px;margin:.5rem 0;box-shadow:0 1px 3px #0002}}
a{{display:block;padding:.8rem 1rem .1rem;color:#0b5cad;text-decoration:none}}a:hover b{{text-decoration:underline}}
small{{display:block;padding:0 1rem .7rem;color:#666}}span[lang=en]{{color:#555;font-weight:normal}}
footer{{margin-top:2rem;color:#888;font-size:.85rem}}
</style></head>
<body><main>
<h1>jogo-dispatch</h1>
<p>Pusat komando: laporan warga, SOS, dan petugas terdekat. <span lang="en">Command centre: citizens' reports,
SOS, and the nearest officer.</span></p>
<ul>
{items}
</ul>
<footer>versi <span lang="en">version</span> {escape(__version__)} ·
<a style="display:inline;padding:0" href="{escape(root_path)}/healthz">healthz</a></footer>
</main></body></html>"""


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> HTMLResponse:
    return HTMLResponse(landing_html(request.app, request.scope.get("root_path", "")))


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} API",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_js_url=f"{root}{DOCS_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{root}{DOCS_PREFIX}/favicon.png",
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    return get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} API",
        redoc_js_url=f"{root}{DOCS_PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{DOCS_PREFIX}/favicon.png",
        with_google_fonts=False,
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def install(app: FastAPI) -> None:
    """Mount the landing page and the offline docs (call with ``docs_url=None, redoc_url=None``)."""
    app.mount(DOCS_PREFIX, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    app.include_router(router)
