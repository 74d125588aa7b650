"""Citizens sign themselves up; their login is their phone number."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.accounts.models import User
from jogo_dispatch.accounts.phones import PhoneRefused, citizen_phone
from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.platform.security import Passwords
from jogo_dispatch.reports.schemas import CitizenCreate


async def register_citizen(
    session: AsyncSession, passwords: Passwords, data: CitizenCreate, phone_regions: Sequence[str]
) -> User:
    """A citizen login; the username is the phone number in E.164 form, which must be a mobile number of
    one of ``phone_regions`` (400 ``bad_phone`` else, ``details.problem`` says why)."""
    try:
        phone = citizen_phone(data.phone, phone_regions)
    except PhoneRefused as exc:
        raise InvalidInput(
            f"phone: {exc}",
            code="bad_phone",
            details={"field": "phone", "problem": exc.problem, "regions": list(phone_regions)},
        ) from None
    return await accounts.create_user(
        session,
        passwords,
        username=phone,
        password=data.password,
        role="citizen",
        full_name=data.name,
        phone=phone,
    )
