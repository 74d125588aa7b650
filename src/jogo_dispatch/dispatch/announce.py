"""Announcing dispatch's changes after commit: incident and offer events (coalesced per object, so listeners
never see a state that was only intermediate within one unit of work) and messages to an officer's phone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.dispatch.schemas import OfferOut
from jogo_dispatch.dispatch.views import incident_view
from jogo_dispatch.platform.db import after_commit
from jogo_dispatch.platform.events import Event, EventBus, IncidentChanged, OfferChanged, OfficerMessage


def _announce(session: AsyncSession, bus: EventBus, key: int, event: IncidentChanged | OfferChanged) -> None:
    """Publish ``event`` after commit; a later announcement of the same object in this unit of work
    replaces the earlier one, so listeners never see an intermediate state."""
    pending: dict[tuple[str, int], Event] = session.info.setdefault("announce", {})
    slot = (event.TYPE, key)
    if slot not in pending:

        def publish() -> None:
            bus.publish(pending.pop(slot))

        after_commit(session, publish)
    pending[slot] = event


async def announce_incident(
    session: AsyncSession, bus: EventBus, i: Incident, extra: dict[str, Any] | None = None
) -> None:
    """Publish the incident's state as of commit (``extra`` keys ride along, e.g. an SOS's nearest)."""
    await session.flush()
    view = {**(await incident_view(session, i)).model_dump(mode="json"), **(extra or {})}
    _announce(session, bus, i.id, IncidentChanged(incident=view))


def announce_offer(session: AsyncSession, bus: EventBus, o: Offer) -> None:
    _announce(session, bus, o.id, OfferChanged(offer=OfferOut.model_validate(o).model_dump(mode="json")))


def message_officer(session: AsyncSession, bus: EventBus, officer_id: int, message: dict[str, Any]) -> None:
    """Delivered after commit to the officer's open stream sockets, in whichever process holds them."""
    after_commit(session, lambda: bus.publish(OfficerMessage(officer_id=officer_id, message=message)))


def withdraw_message(session: AsyncSession, bus: EventBus, offer: Offer) -> None:
    """Tell the officer an offer is off (expired, withdrawn, the incident closed)."""
    message = {
        "type": "offer_withdrawn",
        "offer_id": offer.id,
        "status": offer.status,
        "incident_id": offer.incident_id,
    }
    message_officer(session, bus, offer.officer_id, message)
