from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.tracking.models import Device, Officer


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def user_by_id(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def officer_id_for_user(session: AsyncSession, user_id: int) -> int | None:
    return await session.scalar(select(Officer.id).where(Officer.user_id == user_id))


async def officer_status(session: AsyncSession, officer_id: int) -> str | None:
    return await session.scalar(select(Officer.status).where(Officer.id == officer_id))


async def active_device_by_token_hash(session: AsyncSession, token_hash: str) -> tuple[Device, User | None] | None:
    row = (
        await session.execute(
            select(Device, User)
            .join(Officer, Officer.id == Device.officer_id)
            .outerjoin(User, User.id == Officer.user_id)
            .where(Device.token_hash == token_hash, Device.revoked_at.is_(None))
        )
    ).first()
    return (row[0], row[1]) if row else None


def now() -> datetime:
    return datetime.now(UTC)
