"""Citizens sign themselves up; their login is their phone number."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.accounts.models import User
from jogo_dispatch.platform.security import Passwords
from jogo_dispatch.reports.schemas import CitizenCreate


async def register_citizen(session: AsyncSession, passwords: Passwords, data: CitizenCreate) -> User:
    """A citizen login; the username is the normalised phone number."""
    return await accounts.create_user(
        session,
        passwords,
        username=data.phone,
        password=data.password,
        role="citizen",
        full_name=data.name,
        phone=data.phone,
    )
