"""The agency's side of a forward: its inbox, acknowledging, starting work, notes (with an optional photo)
and closing with an outcome. An agency login sees its own agency's forwards only; another agency's forward
does not exist for it. Every change is audited, announced live (``forward``, ``forward_note``) and, for a
close, may ask the dispatchers to resolve the incident (``forwards.closing``). Flushes, never commits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import repository as incidents_repo
from jogo_dispatch.errors import Conflict, Forbidden, NotFound
from jogo_dispatch.forwards import closing, sla
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.lifecycle import announce, check_move, record_change
from jogo_dispatch.forwards.models import Forward, ForwardNote
from jogo_dispatch.forwards.schemas import (
    AgencyForwardOut,
    ForwardNoteEvent,
    InboxItem,
    InboxOut,
    IncidentForAgency,
    IncidentSummary,
    NoteOut,
)
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import EventBus, ForwardNoted
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import photos
from jogo_dispatch.settings import Settings

COMMAND_CENTRE = frozenset({"dispatcher", "admin"})


async def agency_of(session: AsyncSession, who: Principal) -> int:
    """The agency an ``agency`` login acts for (403 when the login is not linked to one)."""
    agency_id = await repo.agency_of_user(session, who.user_id)
    if agency_id is None:
        raise Forbidden(
            "this login is not linked to an agency (POST /api/v1/agencies/{id}/users)",
            code="not_agency_member",
        )
    return agency_id


def _not_found(forward_id: int) -> NotFound:
    return NotFound(f"forward {forward_id} not found", code="forward_not_found")


async def _own(session: AsyncSession, who: Principal, forward_id: int, *, lock: bool) -> Forward:
    """A forward of the caller's agency; another agency's forward does not exist for them (404)."""
    agency_id = await agency_of(session, who)
    f = await repo.forward(session, forward_id, lock=lock)
    if f is None or f.agency_id != agency_id:
        raise _not_found(forward_id)
    return f


async def visible(session: AsyncSession, who: Principal, forward_id: int) -> Forward:
    """A forward as the caller may read it: the command centre any, an agency its own (else 404)."""
    if who.role in COMMAND_CENTRE:
        f = await repo.forward(session, forward_id)
        if f is None:
            raise _not_found(forward_id)
        return f
    if who.role == "agency":
        return await _own(session, who, forward_id, lock=False)
    raise Forbidden("this needs one of the roles: dispatcher, admin, agency", code="wrong_role")


INBOX_FILTERS: dict[str, tuple[str, ...] | None] = {
    "open": repo.OPEN_STATUSES,
    "unacknowledged": repo.UNACKNOWLEDGED,
    "all": None,
    **{s: (s,) for s in ("pending", "sent", "failed", "acknowledged", "in_progress", "closed")},
}


async def inbox(
    session: AsyncSession, settings: Settings, who: Principal, status: str, limit: int
) -> InboxOut:
    agency_id = await agency_of(session, who)
    agency = await repo.agency(session, agency_id)
    assert agency is not None
    slas = await sla.of(session, settings, [agency_id])
    rows = await repo.inbox(session, agency_id, INBOX_FILTERS[status], limit)
    return InboxOut(
        agency_id=agency_id,
        agency_code=agency.code,
        agency_name=agency.name,
        ack_minutes=slas.minutes(agency_id),
        items=[
            InboxItem.of(f, incident=IncidentSummary.model_validate(i), ack_due_at=slas.due(f))
            for f, i in rows
        ],
    )


async def notes_of(session: AsyncSession, forward_ids: list[int]) -> list[NoteOut]:
    return [NoteOut.of(n, name) for n, name in await repo.notes(session, forward_ids)]


async def agency_view(
    session: AsyncSession, settings: Settings, who: Principal, forward_id: int
) -> AgencyForwardOut:
    f = await _own(session, who, forward_id, lock=False)
    incident = await incidents_repo.incident(session, f.incident_id)
    assert incident is not None
    photo_reports = (await incidents_repo.photo_reports(session, [incident.id])).get(incident.id, [])
    slas = await sla.of(session, settings, [f.agency_id])
    return AgencyForwardOut.of(
        f,
        incident=IncidentForAgency.model_validate(
            {
                **IncidentSummary.model_validate(incident).model_dump(),
                "photos": [f"/api/v1/reports/{r}/photo" for r in photo_reports],
            }
        ),
        notes=await notes_of(session, [f.id]),
        ack_due_at=slas.due(f),
    )


async def _agency_code(session: AsyncSession, agency_id: int) -> str:
    agency = await repo.agency(session, agency_id)
    return agency.code if agency else f"agency {agency_id}"


async def _answer(
    session: AsyncSession,
    bus: EventBus,
    who: Principal,
    forward_id: int,
    to: str,
    note: str | None = None,
    outcome: str | None = None,
) -> Forward:
    """The agency moves its forward to ``to`` (``acknowledged``, ``in_progress`` or ``closed``); already
    there: no change."""
    f = await _own(session, who, forward_id, lock=True)
    if f.status == to:
        return f
    check_move(f.status, to)
    now, previous = utcnow(), f.status
    f.status, f.updated_at = to, now
    if f.acknowledged_at is None:  # starting or closing without acknowledging first acknowledges too
        f.acknowledged_at, f.acknowledged_by = now, who.user_id
    if to == "in_progress":
        f.started_at, f.started_by = now, who.user_id
    elif to == "closed":
        f.closed_at, f.closed_by, f.outcome = now, who.user_id, outcome
    if note:
        session.add(ForwardNote(forward_id=f.id, author_id=who.user_id, text=note, created_at=now))
    record_change(session, f, to, previous, who.user_id, note, {"outcome": outcome} if outcome else None, now)
    await session.flush()
    code = await _agency_code(session, f.agency_id)
    announce(session, bus, f, code)
    if to == "closed":
        await closing.after_close(session, bus, f, code)
    return f


async def acknowledge(session: AsyncSession, bus: EventBus, who: Principal, forward_id: int) -> Forward:
    """The agency has seen it. Acknowledging again changes nothing; a closed forward answers 409."""
    return await _answer(session, bus, who, forward_id, "acknowledged")


async def start(
    session: AsyncSession, bus: EventBus, who: Principal, forward_id: int, note: str | None
) -> Forward:
    """The agency is on it (on the way, working), with an optional note; again: no change."""
    return await _answer(session, bus, who, forward_id, "in_progress", note)


async def close(
    session: AsyncSession, bus: EventBus, who: Principal, forward_id: int, outcome: str, note: str | None
) -> Forward:
    """The agency is done with it: an outcome and an optional closing note (closing again changes
    nothing)."""
    return await _answer(session, bus, who, forward_id, "closed", note, outcome)


async def add_note(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    who: Principal,
    forward_id: int,
    text: str,
    photo: photos.Photo | None = None,
) -> NoteOut:
    """A note on the agency's own open forward, with an optional photo (checked like report photos and
    stored beside them); on the incident's timeline and live to the command centre as ``forward_note``."""
    f = await _own(session, who, forward_id, lock=False)
    if f.status == "closed":
        raise Conflict(f"forward {forward_id} is closed", code="forward_closed")
    if photo is not None:
        await asyncio.to_thread(photos.store, photo, photo_dir(settings))
    note = ForwardNote(
        forward_id=f.id,
        author_id=who.user_id,
        text=text,
        photo_sha256=photo.sha256 if photo else None,
        photo_type=photo.kind if photo else None,
        created_at=utcnow(),
    )
    session.add(note)
    await session.flush()
    out = NoteOut.of(note, await repo.author_name(session, who.user_id))
    record_change(
        session,
        f,
        "note",
        f.status,
        who.user_id,
        text[:1000],
        {"note_id": note.id, **({"photo_url": out.photo_url} if out.photo_url else {})},
        note.created_at,
    )
    event = ForwardNoteEvent(
        **out.model_dump(),
        incident_id=f.incident_id,
        agency_id=f.agency_id,
        agency_code=await _agency_code(session, f.agency_id),
    ).model_dump(mode="json")
    after_commit(session, lambda: bus.publish(ForwardNoted(note=event)))
    return out


def photo_dir(settings: Settings) -> Path:
    return settings.data_dir / "photos"


async def note_photo(
    session: AsyncSession, settings: Settings, who: Principal, forward_id: int, note_id: int
) -> tuple[Path, str]:
    """The photo of a note, for the command centre and the forward's own agency (anyone else: 404)."""
    f = await visible(session, who, forward_id)
    n = await repo.note(session, note_id)
    if n is None or n.forward_id != f.id or n.photo_sha256 is None or n.photo_type is None:
        raise NotFound(f"note {note_id} of forward {forward_id} has no photo", code="no_photo")
    path = photos.path_of(photo_dir(settings), n.photo_sha256, n.photo_type)
    if not path.is_file():
        raise NotFound(f"the photo of note {note_id} is missing from storage", code="photo_missing")
    return path, photos.MEDIA_TYPES[n.photo_type]
