"""Annotated dependencies of the reports domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from jogo_dispatch.abuse.service import ensure_not_blocked
from jogo_dispatch.deps import SessionDep, require_roles
from jogo_dispatch.platform.security import Principal

Citizen = Annotated[Principal, Depends(require_roles("citizen"))]


async def _active_citizen(p: Citizen, session: SessionDep) -> Principal:
    """A citizen whose account is not blocked for false reports (blocked: 403 ``account_blocked``)."""
    await ensure_not_blocked(session, p.user_id)
    return p


ActiveCitizen = Annotated[Principal, Depends(_active_citizen)]
