"""What an admin sets up for an agency to take forwards: its logins and how it receives them.
Audited (entity ``agency``). Flushes, never commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.accounts.models import User
from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.errors import InvalidInput, NotFound
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.models import AgencyUser
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.security import Passwords


async def _agency(session: AsyncSession, agency_id: int, *, lock: bool = False) -> Agency:
    agency = await repo.agency(session, agency_id, lock=lock)
    if agency is None:
        raise NotFound(f"agency {agency_id} not found", code="agency_not_found")
    return agency


async def create_agency_user(
    session: AsyncSession,
    passwords: Passwords,
    agency_id: int,
    *,
    username: str,
    password: str,
    full_name: str | None,
    actor_id: int | None,
) -> tuple[User, Agency]:
    agency = await _agency(session, agency_id)
    user = await accounts.create_user(
        session, passwords, username=username, password=password, role="agency", full_name=full_name
    )
    session.add(AgencyUser(user_id=user.id, agency_id=agency.id))
    await session.flush()
    audit.record(
        session,
        "agency",
        agency.id,
        "user_added",
        actor_id=actor_id,
        data={"user_id": user.id, "username": username},
    )
    return user, agency


async def agency_users(session: AsyncSession, agency_id: int) -> list[User]:
    await _agency(session, agency_id)
    return await repo.users_of_agency(session, agency_id)


async def set_delivery(
    session: AsyncSession, agency_id: int, delivery: str, webhook_url: str | None, actor_id: int | None
) -> Agency:
    """How an agency receives new forwards. (Seeding its region pack again resets it to the pack's.)"""
    agency = await _agency(session, agency_id, lock=True)
    if delivery != "inbox" and not webhook_url:
        raise InvalidInput(f"delivery {delivery} needs a webhook_url", code="webhook_url_required")
    before = {"delivery": agency.delivery, "webhook_url": agency.webhook_url}
    agency.delivery, agency.webhook_url = delivery, webhook_url
    await session.flush()
    audit.record(
        session,
        "agency",
        agency.id,
        "delivery",
        from_state=before["delivery"],
        to_state=delivery,
        actor_id=actor_id,
        data={"before": before, "after": {"delivery": delivery, "webhook_url": webhook_url}},
    )
    return agency
