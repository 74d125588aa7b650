"""The incident desk's HTTP layer: call-taking, on-view, notes, edits and assigning by radio."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from jogo_dispatch.deps import CurrentOfficer, Dispatcher, RuntimeDep, SessionDep, require_roles
from jogo_dispatch.dispatch import backup, desk, timers, views
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.schemas import (
    AssignIn,
    BackupIn,
    BackupOut,
    IncidentCreatedOut,
    IncidentCreateIn,
    IncidentOut,
    IncidentPatchIn,
    NoteIn,
    NoteOut,
    OfferOut,
    PanicIn,
    WelfareIn,
)
from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.platform.db import Id, utcnow
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.tracking import repository as tracking_repo
from jogo_dispatch.tracking.devices import KnownDevice
from jogo_dispatch.tracking.phones import officer_distress
from jogo_dispatch.tracking.protocols import DeviceFix

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["dispatch"])

CallTaker = Annotated[Principal, Depends(require_roles("dispatcher", "admin", "officer"))]
NoteTaker = Annotated[Principal, Depends(require_roles("dispatcher", "admin", "officer", "agency"))]


@router.post("/incidents", status_code=201)
async def post_incident(
    data: IncidentCreateIn, rt: RuntimeDep, session: SessionDep, me: CallTaker
) -> IncidentCreatedOut:
    """A call taken at the desk (``source``: phone, radio, walk_in, other): a ``verified`` incident with
    the nearest responders (ranked by ETA) and, when open incidents of its category are near, the
    ``link_candidates`` to link the call to instead. An officer's own incident (on view, ``source`` =
    ``officer``) is assigned to them at once, on scene."""
    return await desk.take_call(session, rt.bus, rt.index, rt.settings, me, data)


@router.patch("/incidents/{incident_id}")
async def patch_incident(
    incident_id: Id, data: IncidentPatchIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> IncidentOut:
    """Edit category, priority, location, address or description, naming the ``version`` seen: ``409
    stale_incident`` (with the incident as it is now) when it changed since. Audited field by field."""
    incident = await desk.edit(session, rt.bus, rt.settings, me, incident_id, data)
    return await views.incident_view(session, incident)


@router.post("/incidents/{incident_id}/notes", status_code=201)
async def post_note(
    incident_id: Id, data: NoteIn, rt: RuntimeDep, session: SessionDep, me: NoteTaker
) -> NoteOut:
    """A narrative note by a dispatcher, an officer on the incident or an agency it was forwarded to
    (any other incident is 404 for them); listed in the incident and its timeline, live as
    ``incident_note``."""
    note = await desk.add_note(session, rt.bus, me, incident_id, data.text)
    return NoteOut.model_validate(note)


@router.post("/incidents/{incident_id}/assign")
async def post_assign(
    incident_id: Id, data: AssignIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> OfferOut:
    """Give a waiting incident to an officer directly, without an offer (by radio: for officers whose
    tracker app takes no offers). A pending offer to another officer is withdrawn; audited."""
    offer = await desk.assign(session, rt.bus, rt.index, rt.settings, me, incident_id, data)
    return OfferOut.model_validate(offer)


@router.post("/incidents/{incident_id}/backup", status_code=201)
async def post_backup(
    incident_id: Id, rt: RuntimeDep, session: SessionDep, me: CallTaker, data: BackupIn | None = None
) -> BackupOut:
    """An officer on the incident (or a dispatcher) asks for ``units`` more (default 1): the nearest
    available officers get offers, the dispatchers a ``backup_requested`` alert; audited."""
    data = data or BackupIn()
    incident, offers = await backup.request_backup(
        session, rt.bus, rt.index, rt.settings, me, incident_id, data.units, data.reason
    )
    return BackupOut(
        incident=await views.incident_view(session, incident),
        offers=[OfferOut.model_validate(o) for o in offers],
    )


@router.post("/me/panic", status_code=201)
async def post_panic(
    rt: RuntimeDep, session: SessionDep, me: CurrentOfficer, data: PanicIn | None = None
) -> IncidentOut:
    """The officer app's panic button (as Traccar's ``alarm=sos``): a priority-1 officer-in-distress
    incident at the officer, offered at once to the two nearest available units, and an alarm on every
    dispatcher's map until acknowledged. Pressing again moves the open one."""
    assert me.officer_id is not None
    officer = await tracking_repo.officer(session, me.officer_id)
    lat, lon = (data.lat, data.lon) if data is not None else (None, None)
    if lat is None and rt.index.get(me.officer_id) is None:
        raise InvalidInput("no position known for this officer: send lat and lon", code="no_position")
    fix = DeviceFix(device_id="app", lat=lat, lon=lon, recorded_at=utcnow(), alarm="sos")
    await officer_distress(
        rt, KnownDevice(me.device_id or 0, me.officer_id, officer.badge if officer else ""), fix
    )
    incident = await repo.open_officer_sos(session, me.officer_id)
    assert incident is not None
    return await views.incident_view(session, incident)


@router.post("/offers/{offer_id}/welfare")
async def post_welfare(
    offer_id: Id, rt: RuntimeDep, session: SessionDep, me: CurrentOfficer, data: WelfareIn | None = None
) -> OfferOut:
    """The officer answers the welfare check of their unit ("Aman?" / "Safe?"): ``safe`` (default) starts
    the interval again; ``false`` raises ``officer_needs_help`` at once. Also ``{"type": "welfare_answer",
    "offer_id", "safe"}`` on the stream socket."""
    unit = await timers.answer_welfare(session, rt.bus, offer_id, me.officer_id, (data or WelfareIn()).safe)
    return OfferOut.model_validate(unit)
