"""The agency's side of a forward: its inbox, acknowledging, notes and closing. An agency login sees its own
agency's forwards only; another agency's forward does not exist for it. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import repository as incidents_repo
from jogo_dispatch.errors import Conflict, Forbidden, NotFound
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.lifecycle import announce, check_move, record_change
from jogo_dispatch.forwards.models import Forward, ForwardNote
from jogo_dispatch.forwards.schemas import (
    AgencyForwardOut,
    InboxItem,
    InboxOut,
    IncidentSummary,
    NoteOut,
)
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.platform.security import Principal


async def agency_of(session: AsyncSession, who: Principal) -> int:
    """The agency an ``agency`` login acts for (403 when the login is not linked to one)."""
    agency_id = await repo.agency_of_user(session, who.user_id)
    if agency_id is None:
        raise Forbidden(
            "this login is not linked to an agency (POST /api/v1/agencies/{id}/users)",
            code="not_agency_member",
        )
    return agency_id


async def _own(session: AsyncSession, who: Principal, forward_id: int, *, lock: bool) -> Forward:
    """A forward of the caller's agency; another agency's forward does not exist for them (404)."""
    agency_id = await agency_of(session, who)
    f = await repo.forward(session, forward_id, lock=lock)
    if f is None or f.agency_id != agency_id:
        raise NotFound(f"forward {forward_id} not found", code="forward_not_found")
    return f


INBOX_FILTERS: dict[str, tuple[str, ...] | None] = {
    "open": repo.OPEN_STATUSES,
    "unacknowledged": repo.UNACKNOWLEDGED,
    "all": None,
    **{s: (s,) for s in ("pending", "sent", "failed", "acknowledged", "closed")},
}


async def inbox(session: AsyncSession, who: Principal, status: str, limit: int) -> InboxOut:
    agency_id = await agency_of(session, who)
    rows = await repo.inbox(session, agency_id, INBOX_FILTERS[status], limit)
    return InboxOut(
        agency_id=agency_id,
        items=[InboxItem.of(f, incident=IncidentSummary.model_validate(i)) for f, i in rows],
    )


async def agency_view(session: AsyncSession, who: Principal, forward_id: int) -> AgencyForwardOut:
    f = await _own(session, who, forward_id, lock=False)
    incident = await incidents_repo.incident(session, f.incident_id)
    assert incident is not None
    return AgencyForwardOut.of(
        f,
        incident=IncidentSummary.model_validate(incident),
        notes=[NoteOut.model_validate(n) for n in await repo.notes(session, [f.id])],
    )


async def _answer(
    session: AsyncSession, bus: EventBus, who: Principal, forward_id: int, to: str, note: str | None = None
) -> Forward:
    """The agency moves its forward to ``to`` (``acknowledged`` or ``closed``); already there: no change."""
    f = await _own(session, who, forward_id, lock=True)
    if f.status == to:
        return f
    check_move(f.status, to)
    now, previous = utcnow(), f.status
    f.status, f.updated_at = to, now
    if to == "acknowledged":
        f.acknowledged_at, f.acknowledged_by = now, who.user_id
    else:
        f.closed_at, f.closed_by = now, who.user_id
    if note:
        session.add(ForwardNote(forward_id=f.id, author_id=who.user_id, text=note, created_at=now))
    record_change(session, f, to, previous, who.user_id, note, at=now)
    await session.flush()
    announce(session, bus, f)
    return f


async def acknowledge(session: AsyncSession, bus: EventBus, who: Principal, forward_id: int) -> Forward:
    """The agency has seen it. Acknowledging again changes nothing; a closed forward answers 409."""
    return await _answer(session, bus, who, forward_id, "acknowledged")


async def close(
    session: AsyncSession, bus: EventBus, who: Principal, forward_id: int, note: str | None
) -> Forward:
    """The agency is done with it, with an optional closing note (closing again changes nothing)."""
    return await _answer(session, bus, who, forward_id, "closed", note)


async def add_note(session: AsyncSession, who: Principal, forward_id: int, text: str) -> ForwardNote:
    f = await _own(session, who, forward_id, lock=False)
    if f.status == "closed":
        raise Conflict(f"forward {forward_id} is closed", code="forward_closed")
    note = ForwardNote(forward_id=f.id, author_id=who.user_id, text=text, created_at=utcnow())
    session.add(note)
    await session.flush()
    record_change(session, f, "note", f.status, who.user_id, data={"note_id": note.id})
    return note
