from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from jogo_dispatch.deps import SessionDep, require_roles
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.rewards import service

router = APIRouter(prefix="/api/v1", tags=["rewards"])
Citizen = Annotated[Principal, Depends(require_roles("citizen"))]


@router.get("/me/points")
async def my_points(
    session: SessionDep, me: Citizen, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """The caller's reward points: total, rank, and the awards, newest first (one per verified report)."""
    return await service.points_of(session, me.user_id, limit)


@router.get("/rewards/leaderboard")
async def get_leaderboard(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    days: Annotated[int | None, Query(ge=1, le=3660, description="only points of the last N days")] = None,
) -> dict[str, Any]:
    """The citizens with the most points (public): names and phone numbers masked."""
    return await service.leaderboard(session, limit, days)
