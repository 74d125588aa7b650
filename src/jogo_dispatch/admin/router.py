"""``GET /admin``: the admin console, its files under ``/static/admin/``, and the one API of its own, the
audit log (``GET /api/v1/audit``). Everything else the page does goes through the domains' admin routes.

The page is ``static/admin.html`` with the browser's config injected (as ``/map`` does); the ES modules in
``static/js/`` import the DOM and strings helpers shared with the live map (``/static/live/shared/``).
No CDN: the QR codes come from the server as SVG.
"""

from __future__ import annotations

import posixpath
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select

from jogo_dispatch.deps import Admin, SessionDep
from jogo_dispatch.live import page as live_page
from jogo_dispatch.platform.audit import AuditEntry, AuditEntryOut
from jogo_dispatch.platform.idempotency import IdempotentRoute

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static/admin"
PAGE_PATH = "/admin"

router = APIRouter(route_class=IdempotentRoute, tags=["admin"])
_static = StaticFiles(directory=STATIC_DIR)


@cache
def _template() -> str:
    text = (STATIC_DIR / "admin.html").read_text(encoding="utf-8")
    if live_page.PLACEHOLDER not in text:
        raise RuntimeError("admin.html has no config placeholder")
    return text


@router.get(PAGE_PATH, response_class=HTMLResponse, summary="The admin console (HTML page)")
async def admin_page(request: Request) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    settings = request.app.state.settings
    config = {
        "api_base": f"{root}/api/v1",
        "static_base": f"{root}{STATIC_PREFIX}",
        "timezone": getattr(settings, "timezone", None) or "Asia/Jakarta",
        "public_url": settings.public_url,
    }
    html = _template().replace(live_page.PLACEHOLDER, live_page.config_json(config))
    return HTMLResponse(
        html,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": live_page.content_security_policy(""),
            "Referrer-Policy": "same-origin",
        },
    )


@router.api_route(STATIC_PREFIX + "/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def admin_static(path: str, request: Request) -> Response:
    response = await _static.get_response(posixpath.normpath(path.lstrip("/") or "."), request.scope)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/api/v1/audit", response_model=list[AuditEntryOut], tags=["admin"])
async def get_audit(
    session: SessionDep,
    _: Admin,
    entity_type: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="older than this entry")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEntryOut]:
    """The audit log, newest first: every change of an incident, offer, report, forward, strike, appeal,
    officer, user, agency, category or routing rule, with who made it, when and why."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity_type is not None:
        q = q.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        q = q.where(AuditEntry.entity_id == entity_id)
    if actor_id is not None:
        q = q.where(AuditEntry.actor_id == actor_id)
    if before_id is not None:
        q = q.where(AuditEntry.id < before_id)
    return [AuditEntryOut.model_validate(e) for e in await session.scalars(q)]
