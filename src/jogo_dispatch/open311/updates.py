"""FixMyStreet's service request updates (its GeoReport v2 extension), for requests filed through Open311.

* ``GET servicerequestupdates``: our status changes (read from the audit log: the report's review, its
  incident's lifecycle steps) and the dispatchers' public notes, with FixMyStreet's status names, between
  ``start_date`` and ``end_date`` (at most 90 days; FixMyStreet asks for the last two hours). With an
  ``api_key``, only that key's requests. ``update_id`` is ``s<audit id>`` for a status change and
  ``n<note id>`` for a note. What dispatchers write on the incident stays internal; citizens' updates are
  not sent back.
* ``POST servicerequestupdates``: a citizen's update of a request the same API key filed arrives as a note
  on its incident (with an audited ``note`` entry on the incident's timeline, live as ``incident_note``), or,
  before there is an incident, as an audited ``note`` on the report. The client's ``update_id`` makes a
  retry return the same update. Its ``status`` (e.g. FixMyStreet's ``CLOSED`` when the citizen says it is
  fixed) is written into the note; it never changes our status.
* Dispatchers publish a note for the clients with ``POST /api/v1/open311/requests/{id}/public-notes``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch.models import Incident, IncidentNote
from jogo_dispatch.dispatch.schemas import NoteOut
from jogo_dispatch.errors import AppError, InvalidInput, NotFound
from jogo_dispatch.open311 import catalogue, keys, service
from jogo_dispatch.open311 import repository as repo
from jogo_dispatch.open311.models import ApiKey, Open311Request, Open311Update
from jogo_dispatch.open311.schemas import FiledUpdateOut, RequestUpdateOut
from jogo_dispatch.platform import audit, ratelimit
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import IncidentNoted
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import repository as reports_repo
from jogo_dispatch.reports.models import Report
from jogo_dispatch.runtime import Runtime

MAX_TEXT = 2000
_STATUS = re.compile(r"[A-Za-z_ ]{1,32}")

# Our state -> (FixMyStreet's status name, what the update says).
REPORT_STATUS = {
    "received": ("open", "Dibuka kembali, menunggu verifikasi. / Reopened: awaiting verification."),
    "verified": ("investigating", "Diverifikasi oleh pusat komando. / Verified by the command centre."),
    "rejected": (
        "not_councils_responsibility",
        "Bukan kejadian untuk pusat komando. / Not an incident for the command centre.",
    ),
    "false": ("closed", "Ditutup. / Closed."),
}
INCIDENT_STATUS = {
    "verified": ("investigating", "Diverifikasi oleh pusat komando. / Verified by the command centre."),
    "dispatched": ("action_scheduled", "Petugas ditugaskan. / An officer has been dispatched."),
    "en_route": ("in_progress", "Petugas dalam perjalanan. / An officer is on the way."),
    "on_scene": ("in_progress", "Petugas di lokasi. / An officer is on scene."),
    "resolved": ("fixed", "Selesai ditangani. / Resolved."),
    "cancelled": (
        "closed",
        "Dibatalkan atau digabung dengan laporan lain. / Cancelled or merged with another report.",
    ),
}


def status_now(report_status: str, incident_status: str | None) -> str:
    """FixMyStreet's name for where a request stands now."""
    if report_status != "verified" or incident_status is None:
        return REPORT_STATUS.get(report_status, ("open", ""))[0]
    return INCIDENT_STATUS.get(incident_status, ("investigating", ""))[0]


def _status_update(entry: Any, report_id: int) -> RequestUpdateOut | None:
    table = REPORT_STATUS if entry.entity_type == "report" else INCIDENT_STATUS
    found = table.get(entry.to_state or "")
    if found is None:
        return None
    return RequestUpdateOut(
        update_id=f"s{entry.id}",
        service_request_id=str(report_id),
        status=found[0],
        updated_datetime=entry.at,
        description=found[1],
    )


async def list_updates(session: AsyncSession, params: dict[str, str]) -> list[RequestUpdateOut]:
    """``GET servicerequestupdates``: oldest first, at most 1000."""
    catalogue.check_jurisdiction(params.get("jurisdiction_id"))
    key = await keys.authenticate(session, params["api_key"]) if params.get("api_key") else None
    start, end = service.span(
        service.when(params.get("start_date"), "start_date"), service.when(params.get("end_date"), "end_date")
    )
    key_id = key.id if key else None
    out: list[RequestUpdateOut] = []
    for row in await repo.status_entries(session, start, end, key_id, service.MAX_RESULTS):
        update = _status_update(row.AuditEntry, row.report_id)
        if update is not None:
            out.append(update)
    for note in await repo.public_notes(session, start, end, key_id, service.MAX_RESULTS):
        out.append(
            RequestUpdateOut(
                update_id=f"n{note.id}",
                service_request_id=str(note.report_id),
                status=note.status or "open",
                updated_datetime=note.created_at,
                description=note.description,
                media_url=note.media_url,
            )
        )
    out.sort(key=lambda u: (u.updated_datetime, u.update_id))
    return out[: service.MAX_RESULTS]


# --- a citizen's update ------------------------------------------------------------------------------------


def _field(form: dict[str, str], name: str, max_len: int) -> str | None:
    value = (form.get(name) or "").strip()
    if len(value) > max_len:
        raise InvalidInput(f"{name} is longer than {max_len} characters", code="bad_field")
    return value or None


async def _own_request(
    session: AsyncSession, key: ApiKey, raw_id: str | None
) -> tuple[Report, Open311Request]:
    """The report behind ``service_request_id``, filed through Open311 with this key (else 404)."""
    if not raw_id:
        raise InvalidInput("service_request_id is required", code="bad_id")
    wanted = service.request_id(raw_id.strip())
    found = await repo.request_of_key(session, wanted, key.id) if wanted is not None else None
    if found is None:
        raise NotFound(f"service_request_id {raw_id!r} not found", code="request_not_found")
    return found


def _note_text(
    form: dict[str, str], description: str | None, status: str | None, media_url: str | None
) -> str:
    name = " ".join(
        p for p in (_field(form, "first_name", 100), _field(form, "last_name", 100)) if p and p != "-"
    )
    parts = [f"Pembaruan warga (Open311{': ' + name if name else ''}) / Citizen update: {description or '-'}"]
    if status:
        parts.append(f"[status dari warga / citizen's status: {status}]")
    if media_url:
        parts.append(media_url)
    return " ".join(parts)[:MAX_TEXT]


async def post_update(
    session: AsyncSession, rt: Runtime, form: dict[str, str]
) -> tuple[list[FiledUpdateOut], bool]:
    """``POST servicerequestupdates``: returns the answer and whether a new update was stored (False: a retry
    of the same ``update_id``)."""
    key = await keys.authenticate(session, form.get("api_key"))
    catalogue.check_jurisdiction(_field(form, "jurisdiction_id", 32))
    report, _ = await _own_request(session, key, form.get("service_request_id"))
    description = _field(form, "description", 4000)
    status = _field(form, "status", 32)
    if status and not _STATUS.fullmatch(status):
        raise InvalidInput("status is not a status name (e.g. OPEN, CLOSED, FIXED)", code="bad_status")
    media_url = _field(form, "media_url", 1000)
    if media_url and not media_url.startswith(("http://", "https://")):
        raise InvalidInput("media_url must be an http(s) URL", code="bad_field")
    if not (description or status or media_url):
        raise InvalidInput("an update needs a description, a status or a media_url", code="empty_update")
    said_at = service.when(form.get("updated_datetime"), "updated_datetime")
    client_id = _field(form, "update_id", 100)
    if client_id is not None:
        await repo.lock_filing(session, f"update:{key.id}:{client_id}")
        earlier = await repo.update_by_client_id(session, key.id, client_id)
        if earlier is not None:
            if earlier.report_id != report.id:
                raise InvalidInput(f"update_id {client_id!r} was used for another request", code="bad_id")
            return [FiledUpdateOut(update_id=f"c{earlier.id}")], False
    limit = ratelimit.Limit(
        f"open311-update:key:{key.id}",
        rt.settings.open311_limit_per_key,
        rt.settings.report_limit_window_s,
        "api key",
    )
    taken = await rt.limiter.check([limit])
    try:
        row = Open311Update(
            report_id=report.id,
            kind="citizen",
            api_key_id=key.id,
            client_update_id=client_id,
            status=status,
            description=description or "",
            media_url=media_url,
            first_name=_field(form, "first_name", 100),
            last_name=_field(form, "last_name", 100),
            email=_field(form, "email", 254),
            phone=_field(form, "phone", 32),
            updated_at=said_at,
            created_at=utcnow(),
        )
        session.add(row)
        await session.flush()
        await _note(session, rt, report, row, _note_text(form, description, status, media_url))
    except AppError:
        await rt.limiter.refund(taken)
        raise
    return [FiledUpdateOut(update_id=f"c{row.id}")], True


async def _note(session: AsyncSession, rt: Runtime, report: Report, row: Open311Update, text: str) -> None:
    """The update on the dispatcher's timeline: a note on the incident (as the desk writes one), or an
    audited note on the report while it has no incident."""
    incident = await session.get(Incident, report.incident_id) if report.incident_id else None
    if incident is None:
        audit.record(
            session,
            "report",
            report.id,
            "note",
            from_state=report.status,
            to_state=report.status,
            actor_id=report.citizen_id,
            reason=text[:1000],
            data={"open311_update_id": row.id, "author_role": "citizen"},
            at=row.created_at,
        )
        return
    name = " ".join(p for p in (row.first_name, row.last_name) if p and p != "-") or None
    note = IncidentNote(
        incident_id=incident.id,
        author_id=report.citizen_id,
        author_role="citizen",
        author_name=name or "Open311",
        text=text,
        created_at=row.created_at,
    )
    session.add(note)
    await session.flush()
    row.incident_note_id = note.id
    audit.record(
        session,
        "incident",
        incident.id,
        "note",
        from_state=incident.status,
        to_state=incident.status,
        actor_id=report.citizen_id,
        reason=text[:1000],
        data={"note_id": note.id, "author_role": "citizen", "open311_update_id": row.id},
        at=note.created_at,
    )
    agencies = await reports_repo.agencies_forwarded(session, incident.id)
    payload = NoteOut.model_validate(note).model_dump(mode="json")
    after_commit(session, lambda: rt.bus.publish(IncidentNoted(note=payload, agency_ids=agencies)))


# --- a dispatcher's public note ----------------------------------------------------------------------------


async def public_note(session: AsyncSession, me: Principal, report_id: int, text: str) -> RequestUpdateOut:
    """A note the Open311 clients get as an update of the request (e.g. "the road is open again")."""
    found = await repo.request_with_incident(session, report_id)
    if found is None:
        raise NotFound(f"no Open311 request {report_id}", code="request_not_found")
    report, incident_status = found
    now = utcnow()
    row = Open311Update(
        report_id=report.id,
        kind="public_note",
        author_id=me.user_id or None,
        status=status_now(report.status, incident_status),
        description=text.strip(),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        "report",
        report.id,
        "open311_public_note",
        from_state=report.status,
        to_state=report.status,
        actor_id=me.user_id,
        reason=row.description[:1000],
        data={"open311_update_id": row.id},
        at=now,
    )
    return RequestUpdateOut(
        update_id=f"n{row.id}",
        service_request_id=str(report.id),
        status=row.status or "open",
        updated_datetime=now,
        description=row.description,
    )
