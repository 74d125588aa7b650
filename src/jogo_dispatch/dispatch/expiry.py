"""Offers nobody answered: each overdue offer expires exactly once, whichever process sweeps, and the
incident passes to the next nearest officer (dispatch.offers.advance)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.announce import announce_offer, withdraw_message
from jogo_dispatch.dispatch.offers import advance
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import session_scope, utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings

log = structlog.get_logger(__name__)


async def expire(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    offer_id: int,
    incident_id: int,
    now: datetime,
) -> bool:
    """Claim one overdue offer. The incident is locked with SKIP LOCKED (whoever holds it, another sweeper
    or the officer answering, goes first) and the claim is ``UPDATE ... WHERE status='pending' AND
    expires_at < now RETURNING``, so with any number of processes each offer expires exactly once."""
    incident = await repo.lock_incident(session, incident_id, skip_locked=True)
    if incident is None:
        return False
    offer = await repo.claim_expired(session, offer_id, now)
    if offer is None:
        return False
    audit.record(
        session,
        "offer",
        offer.id,
        "expired",
        from_state="pending",
        to_state="expired",
        reason=audit.Reason(
            "offer_timeout", "no answer within {seconds:g} s", seconds=settings.offer_timeout_s
        ),
        data={"incident_id": offer.incident_id, "officer_id": offer.officer_id},
        at=now,
    )
    announce_offer(session, bus, offer)
    withdraw_message(session, bus, offer)
    await advance(session, bus, index, settings, incident, offer, now)
    return True


async def expire_due(rt: Runtime, limit: int = 200) -> int:
    """One sweep: every overdue pending offer, each in its own unit of work."""
    now = utcnow()
    async with rt.sessions() as session:
        due = await repo.due_offers(session, now, limit)
    expired = 0
    for offer_id, incident_id in due:
        handled = False
        async for session in session_scope(rt.sessions):
            handled = await expire(session, rt.bus, rt.index, rt.settings, offer_id, incident_id, now)
        expired += handled
    return expired


async def expiry_loop(rt: Runtime, every_s: float) -> None:
    while True:
        try:
            await expire_due(rt)
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("offer expiry sweep failed")
        await asyncio.sleep(every_s)
