"""An agency's share of the live feed: its open forwards as the snapshot, and the ``forward`` events of its
own agency (``ForwardChanged.audience``); nothing else of the command centre's feed reaches it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.inbox import agency_of
from jogo_dispatch.forwards.schemas import InboxItem, IncidentSummary
from jogo_dispatch.live.hub import LiveHub
from jogo_dispatch.platform.events import agency_audience
from jogo_dispatch.platform.security import Principal

SNAPSHOT_LIMIT = 500


async def audience_of(session: AsyncSession, who: Principal) -> str:
    """The audience of an agency login (403 ``not_agency_member`` when it is linked to no agency)."""
    return agency_audience(await agency_of(session, who))


async def open_forwards(session: AsyncSession, audience: str) -> list[Any]:
    """The agency's open forwards with their incidents, as the inbox shows them."""
    agency_id = int(audience.removeprefix(agency_audience("")))
    rows = await repo.inbox(session, agency_id, repo.OPEN_STATUSES, SNAPSHOT_LIMIT)
    return [
        InboxItem.of(f, incident=IncidentSummary.model_validate(i)).model_dump(mode="json") for f, i in rows
    ]


def provide(hub: LiveHub) -> None:
    hub.audience_of = audience_of
    hub.scoped_snapshot_providers["forwards"] = open_forwards
