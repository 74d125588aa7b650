"""Queries of the abuse domain: strikes, block state and appeals."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.abuse.models import Appeal, CitizenStatus, Strike


async def insert_strike(
    session: AsyncSession, user_id: int, report_id: int | None, reason: str | None, actor_id: int | None
) -> Strike | None:
    """The new strike (its warning is filled in once counted), or None when this report already gave one. A
    second transaction striking the same report waits here for the first and then gets None."""
    stmt = insert(Strike).values(
        user_id=user_id, report_id=report_id, reason=reason, warning="", created_by=actor_id
    )
    if report_id is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["report_id"])
    strike_id = await session.scalar(stmt.returning(Strike.id))
    return None if strike_id is None else await session.get(Strike, strike_id)


async def count_strike(session: AsyncSession, user_id: int) -> CitizenStatus:
    """Add one to the citizen's strike count. The row stays locked until commit, so concurrent strikes of one
    citizen queue up instead of both reading the old count."""
    stmt = (
        insert(CitizenStatus)
        .values(user_id=user_id, strike_count=1)
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={"strike_count": CitizenStatus.strike_count + 1, "updated_at": func.now()},
        )
        .returning(CitizenStatus)
    )
    return (await session.scalars(stmt, execution_options={"populate_existing": True})).one()


async def citizen_status(session: AsyncSession, user_id: int, *, lock: bool = False) -> CitizenStatus | None:
    q = (
        select(CitizenStatus)
        .where(CitizenStatus.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(q.with_for_update() if lock else q)


async def false_report_count(session: AsyncSession, user_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Strike.user_id == user_id)) or 0)


async def strikes_of(session: AsyncSession, user_id: int) -> list[Strike]:
    return list(await session.scalars(select(Strike).where(Strike.user_id == user_id).order_by(Strike.id)))


async def clear_strikes(session: AsyncSession, user_id: int, appeal_id: int) -> int:
    result = await session.execute(
        update(Strike)
        .where(Strike.user_id == user_id, Strike.cleared_at.is_(None))
        .values(cleared_at=func.now(), cleared_by_appeal=appeal_id)
        .returning(Strike.id)
    )
    return len(result.all())


async def appeal(session: AsyncSession, appeal_id: int, *, lock: bool = False) -> Appeal | None:
    q = select(Appeal).where(Appeal.id == appeal_id).execution_options(populate_existing=True)
    return await session.scalar(q.with_for_update() if lock else q)


async def latest_appeal(session: AsyncSession, user_id: int) -> Appeal | None:
    return await session.scalar(
        select(Appeal).where(Appeal.user_id == user_id).order_by(Appeal.id.desc()).limit(1)
    )


async def appeals(session: AsyncSession, status: str | None, limit: int) -> list[Appeal]:
    q = select(Appeal).order_by(Appeal.created_at, Appeal.id).limit(limit)
    if status is not None:
        q = q.where(Appeal.status == status)
    return list(await session.scalars(q))
