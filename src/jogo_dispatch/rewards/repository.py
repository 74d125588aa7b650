"""Queries of reward points: the only place with their SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.rewards.models import RewardAward


async def insert_award(
    session: AsyncSession, user_id: int, report_id: int, category: str, points: int
) -> int | None:
    """The new award's points, or None when the report has one (a concurrent award waits, then gets None)."""
    stmt = (
        insert(RewardAward)
        .values(user_id=user_id, report_id=report_id, category=category, points=points)
        .on_conflict_do_nothing(index_elements=["report_id"])
        .returning(RewardAward.points)
    )
    return await session.scalar(stmt)


async def total_of(session: AsyncSession, user_id: int) -> tuple[int, int]:
    row = (
        await session.execute(
            select(func.coalesce(func.sum(RewardAward.points), 0), func.count()).where(
                RewardAward.user_id == user_id
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def rank_of(session: AsyncSession, total: int) -> int:
    """1 + the number of citizens with more points."""
    totals = (
        select(func.sum(RewardAward.points).label("total"))
        .group_by(RewardAward.user_id)
        .having(func.sum(RewardAward.points) > total)
        .subquery()
    )
    return 1 + int(await session.scalar(select(func.count()).select_from(totals)) or 0)


async def history(session: AsyncSession, user_id: int, limit: int) -> list[RewardAward]:
    return list(
        await session.scalars(
            select(RewardAward)
            .where(RewardAward.user_id == user_id)
            .order_by(RewardAward.id.desc())
            .limit(limit)
        )
    )


async def leaderboard(session: AsyncSession, limit: int, since: datetime | None) -> list[Row[Any]]:
    totals = select(
        RewardAward.user_id,
        func.sum(RewardAward.points).label("total"),
        func.count().label("reports"),
        func.min(RewardAward.created_at).label("first"),
    )
    if since is not None:
        totals = totals.where(RewardAward.created_at >= since)
    sub = totals.group_by(RewardAward.user_id).subquery()
    return list(
        await session.execute(
            select(sub.c.user_id, sub.c.total, sub.c.reports, User.full_name, User.phone)
            .join(User, User.id == sub.c.user_id)
            .order_by(sub.c.total.desc(), sub.c.first, sub.c.user_id)
            .limit(limit)
        )
    )
