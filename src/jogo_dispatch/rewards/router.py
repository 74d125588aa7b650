from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jogo_dispatch.deps import Citizen, SessionDep
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.rewards import service
from jogo_dispatch.rewards.schemas import LeaderboardOut, PointsOut

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["rewards"])


@router.get("/me/points", response_model=PointsOut)
async def my_points(
    session: SessionDep, me: Citizen, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> PointsOut:
    """The caller's reward points: total, rank, and the awards, newest first (one per verified report)."""
    return await service.points_of(session, me.user_id, limit)


@router.get("/rewards/leaderboard", response_model=LeaderboardOut)
async def get_leaderboard(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    days: Annotated[int | None, Query(ge=1, le=3660, description="only points of the last N days")] = None,
) -> LeaderboardOut:
    """The citizens with the most points (public): names and phone numbers masked."""
    return await service.leaderboard(session, limit, days)
