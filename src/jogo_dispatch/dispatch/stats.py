"""KPIs over a time window and an incident's audited timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.schemas import StatsOut, TimelineOut
from jogo_dispatch.dispatch.service import get_incident
from jogo_dispatch.platform import audit
from jogo_dispatch.platform import time_window as timerange
from jogo_dispatch.reports.repository import AGENCY_USERS, FORWARDS

MAX_STATS_SPAN = timedelta(days=366)


async def stats(session: AsyncSession, since: datetime | None, until: datetime | None) -> StatsOut:
    since, until = timerange.window(
        since, until, default=timedelta(days=7), max_span=MAX_STATS_SPAN, what="a statistics window"
    )
    return StatsOut.model_validate(
        {"since": since, "until": until, **await repo.stats(session, since, until)}
    )


# What an agency's own timeline keeps of its forward's entries' data.
_AGENCY_DATA = ("note_id", "photo_url", "outcome")


async def _forwards_of(session: AsyncSession, incident_id: int, login_id: int | None) -> dict[int, str]:
    """The incident's forwards (only to the agency of the agency login ``login_id``, when given): forward
    id -> agency code."""
    # The forwards domain builds on dispatch: its tables are read by name (declared once, in reports).
    q = (
        select(FORWARDS.c.id, Agency.code)
        .join(Agency, Agency.id == FORWARDS.c.agency_id)
        .where(FORWARDS.c.incident_id == incident_id)
    )
    if login_id is not None:
        q = q.join(AGENCY_USERS, AGENCY_USERS.c.agency_id == FORWARDS.c.agency_id).where(
            AGENCY_USERS.c.user_id == login_id
        )
    return {int(i): str(code) for i, code in await session.execute(q)}


async def timeline(
    session: AsyncSession, incident_id: int, *, agency: bool = False, login_id: int | None = None
) -> TimelineOut:
    """Every audited change of the incident, its offers, its reports and its forwards to agencies (sent,
    acknowledged, in progress, the agencies' notes with their text as ``reason``, closed with its
    ``outcome``; each forward entry's ``data`` names its ``agency_code``), oldest first.

    For an agency: the incident's own changes without who made them or their data (offers and reports name
    officers and reporters), and, given the agency login's ``login_id``, its own agency's forward entries
    and notes (no actor; of the data only the note, its photo and the outcome), never another agency's."""
    await get_incident(session, incident_id)
    if agency:
        own = await _forwards_of(session, incident_id, login_id) if login_id is not None else {}
        entries = [
            *await audit.entries(session, "incident", [incident_id]),
            *await audit.entries(session, "forward", list(own)),
        ]
        entries.sort(key=lambda e: (e.at, e.id))
        return TimelineOut(
            incident_id=incident_id,
            items=[
                audit.AuditEntryOut.model_validate(e).model_copy(
                    update={
                        "actor_id": None,
                        "data": {k: e.data[k] for k in _AGENCY_DATA if k in (e.data or {})}
                        if e.entity_type == "forward"
                        else {},
                    }
                )
                for e in entries
            ],
        )
    offers = [o.id for o in await repo.offers_of_incident(session, incident_id)]
    reports = [r.id for r in await repo.reports_of_incident(session, incident_id)]
    forwards = await _forwards_of(session, incident_id, None)
    rows = [
        *await audit.entries(session, "incident", [incident_id]),
        *await audit.entries(session, "offer", offers),
        *await audit.entries(session, "report", reports),
        *await audit.entries(session, "forward", list(forwards)),
    ]
    rows.sort(key=lambda e: (e.at, e.id))
    actors = await _actors(session, {e.actor_id for e in rows if e.actor_id is not None})
    items = []
    for e in rows:
        item = audit.AuditEntryOut.model_validate(e)
        name, role = actors.get(e.actor_id, (None, None)) if e.actor_id is not None else (None, None)
        update: dict[str, object] = {"actor_name": name, "actor_role": role}
        if e.entity_type == "forward":
            update["data"] = {**item.data, "agency_code": forwards[e.entity_id]}
        items.append(item.model_copy(update=update))
    return TimelineOut(incident_id=incident_id, items=items)


async def _actors(session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, str]]:
    """user id -> (name, else username; role) of the people in a timeline."""
    if not ids:
        return {}
    found = await session.execute(
        select(User.id, User.full_name, User.username, User.role).where(User.id.in_(ids))
    )
    return {int(i): (full or username, role) for i, full, username, role in found}
