"""Shared request dependencies: the runtime, one session per request, the caller and their role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request, WebSocket
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import AppError, Forbidden
from jogo_dispatch.platform.db import session_scope
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:  # async: a plain def would hop to a thread per request
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(rt: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async for session in session_scope(rt.sessions):
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_principal(rt: RuntimeDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    return await rt.auth.principal(token)


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def check(p: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if p.role not in roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", code="wrong_role")
        return p

    return check


CurrentUser = Annotated[Principal, Depends(get_principal)]
CurrentOfficer = Annotated[Principal, Depends(require_roles("officer"))]
Dispatcher = Annotated[Principal, Depends(require_roles("dispatcher", "admin"))]
Watcher = Annotated[Principal, Depends(require_roles("dispatcher", "admin", "agency"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]


async def websocket_principal(ws: WebSocket, rt: Runtime, *roles: str, timeout_s: float = 10.0) -> Principal:
    """Browsers cannot set headers on websockets: the token comes as ``?token=`` or as a first
    ``{"type": "auth", "token": ...}`` message. Raises Unauthorized/Forbidden; the caller closes."""
    token = ws.query_params.get("token")
    if not token:
        header = ws.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else None
    if not token:
        try:
            first = await asyncio.wait_for(ws.receive_text(), timeout_s)
            msg = orjson.loads(first)
            token = msg.get("token") if isinstance(msg, dict) and msg.get("type") == "auth" else None
        except (TimeoutError, orjson.JSONDecodeError):
            token = None
    principal = await rt.auth.principal(token)
    if roles and principal.role not in roles:
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", code="wrong_role")
    return principal


def ws_close_code(exc: AppError) -> int:
    """401 → 4401, 503 (database away) → 1013 "try again later", anything else → 4403."""
    return {401: 4401, 503: 1013}.get(exc.status_code, 4403)
