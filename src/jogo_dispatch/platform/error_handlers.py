"""The handlers that render the exception tree of ``jogo_dispatch.errors`` (and FastAPI's own refusals) as
the one error body: ``{"error": {"code": ..., "message": ..., "details": ...}}``.

A path prefix may speak a flat error format of its own (Open311 GeoReport v2: ``[{"code", "description"}]``):
``install_handlers`` takes a renderer per prefix, which gets the status, one line describing the error, the
headers and the request's path (a prefix may answer in more than one format, e.g. Open311's ``.xml``). Such formats know no 422: a request that does not match the schema is answered 400 there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from jogo_dispatch.errors import AppError

log = structlog.get_logger(__name__)

# (status, description, headers, path) -> the answer in the prefix's own format
FlatRenderer = Callable[[int, str, dict[str, str] | None, str], Response]


def _describe(error: dict[str, Any]) -> str:
    """One line: each schema problem as ``field: message``, else the error's message."""
    problems = [
        f"{'.'.join(map(str, d['loc'][1:])) or d['loc'][0]}: {d['msg']}"
        for d in error.get("details") or []
        if isinstance(d, dict) and d.get("loc")
    ]
    return "; ".join(problems) or str(error["message"])


def _problem(e: Mapping[str, Any]) -> dict[str, Any]:
    """One schema problem: where (``loc``), what (``msg``), and a stable ``code`` a client can translate
    (pydantic's error type, e.g. ``missing``, ``string_too_short``, or one of ours such as
    ``no_position_fix``; ``type`` is the same, kept for older clients), with the limits that were broken
    (``ctx``, e.g. ``{"min_length": 6}``) when there are any."""
    problem: dict[str, Any] = {
        "loc": list(e.get("loc", ())),
        "msg": e.get("msg"),
        "type": e.get("type"),
        "code": e.get("type"),
    }
    ctx = {k: v for k, v in (e.get("ctx") or {}).items() if isinstance(v, str | int | float | bool)}
    if ctx:
        problem["ctx"] = ctx
    return problem


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route of the request's path answers (Starlette's 405 names only those of the first
    route it tried, though several routes may share a path with one method each)."""
    methods: set[str] = set()
    scope = {"type": "http", "path": request.scope["path"], "root_path": "", "method": "", "path_params": {}}
    for route in iter_route_contexts(request.app.router.routes):
        route_methods = route.methods
        if route_methods and route.matches(scope)[0] != Match.NONE:
            methods |= set(route_methods)
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return ", ".join(sorted(methods, key=lambda m: (rank.get(m, len(rank)), m)))


def install_handlers(app: FastAPI, flat: Mapping[str, FlatRenderer] | None = None) -> None:
    """Register the error handlers on ``app``; ``flat`` maps a path prefix to its own error format."""
    prefixed = dict(flat or {})

    def respond(
        request: Request, status: int, error: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Response:
        for prefix, render in prefixed.items():
            if request.url.path.startswith(prefix + "/"):
                return render(400 if status == 422 else status, _describe(error), headers, request.url.path)
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        return respond(request, exc.status_code, exc.body()["error"], exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [_problem(e) for e in exc.errors()]
        return respond(
            request,
            422,
            {"code": "validation_error", "message": "request does not match the schema", "details": details},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {
                **(headers or {}),
                "Allow": allowed_methods(request) or (headers or {}).get("Allow", ""),
            }
        return respond(
            request,
            exc.status_code,
            {"code": f"http_{exc.status_code}", "message": str(exc.detail)},
            headers,
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error", error=repr(exc))
        return JSONResponse(
            {"error": {"code": "internal_error", "message": "internal error"}}, status_code=500
        )
