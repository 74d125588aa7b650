from __future__ import annotations

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


async def active_device_principals(session: AsyncSession) -> list[tuple[str, int, int, int | None]]:
    """(token hash, device id, officer id, user id) of every usable device token."""
    rows = await session.execute(
        select(Device.token_hash, Device.id, Device.officer_id, User.id)
        .join(Officer, Officer.id == Device.officer_id)
        .outerjoin(User, User.id == Officer.user_id)
        .where(
            Device.revoked_at.is_(None),
            Device.token_hash.is_not(None),
            (User.id.is_(None)) | (User.is_active.is_(True)),
        )
    )
    # token_hash IS NOT NULL is in the query already; the test here tells the type checker.
    return [(token, device, officer, user) for token, device, officer, user in rows if token is not None]


async def officer_status(session: AsyncSession, officer_id: int) -> str | None:
    return await session.scalar(select(Officer.status).where(Officer.id == officer_id))


async def active_device_by_token_hash(
    session: AsyncSession, token_hash: str
) -> tuple[Device, User | None] | None:
    row = (
        await session.execute(
            select(Device, User)
            .join(Officer, Officer.id == Device.officer_id)
            .outerjoin(User, User.id == Officer.user_id)
            .where(Device.token_hash == token_hash, Device.revoked_at.is_(None))
        )
    ).first()
    return (row[0], row[1]) if row else None
