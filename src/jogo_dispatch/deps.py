"""Shared request dependencies: the runtime, one session per request, the caller and their role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import Forbidden
from jogo_dispatch.platform import ratelimit
from jogo_dispatch.platform.db import session_scope
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:  # async: a plain def would hop to a thread per request
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(rt: RuntimeDep, request: Request) -> AsyncIterator[AsyncSession]:
    async for session in session_scope(rt.sessions):
        request.state.db_session = session  # an idempotent answer is stored in this transaction
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
Citizen = Annotated[Principal, Depends(require_roles("citizen"))]
Dispatcher = Annotated[Principal, Depends(require_roles("dispatcher", "admin"))]
Watcher = Annotated[Principal, Depends(require_roles("dispatcher", "admin", "agency"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]


def _dependency(scope: str) -> Callable[..., AsyncIterator[None]]:
    async def rate_limit(
        request: Request, rt: RuntimeDep, who: Annotated[Principal, Depends(get_principal)]
    ) -> AsyncIterator[None]:
        # An SOS is never limited by address (one carrier address hides thousands of phones).
        by_address = scope != "sos"
        device = ratelimit.device_key(
            request.headers.get("x-device-id"),
            request.headers.get("user-agent") if by_address else None,
            request.client.host if request.client and by_address else None,
        )
        taken = await ratelimit.check(rt.limiter, rt.settings, scope, str(who.user_id), device)
        try:
            yield
        except Exception:  # refused after all (bad photo, unknown category, blocked...): not an attempt
            await rt.limiter.refund(taken)
            raise

    rate_limit.__name__ = f"{scope}_rate_limit"
    return rate_limit


# Add to a route's decorator: @router.post("/reports", ..., dependencies=[ReportRateLimit]).
ReportRateLimit = Depends(_dependency("report"))
SosRateLimit = Depends(_dependency("sos"))
