"""Forwarding (dispatchers), the agency inbox (agency logins), agency logins and delivery (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse

from jogo_dispatch.deps import Admin, Dispatcher, RuntimeDep, SessionDep, Watcher, require_roles
from jogo_dispatch.forwards import agency_admin, forms, inbox, sla
from jogo_dispatch.forwards import service as forwards
from jogo_dispatch.forwards.schemas import (
    AgencyForwardOut,
    AgencyUserCreated,
    AgencyUserIn,
    AgencyUserOut,
    AgencyUsersOut,
    CloseIn,
    DeliveryIn,
    DeliveryOut,
    ForwardIn,
    ForwardingOut,
    ForwardOut,
    InboxOut,
    IncidentForwardsOut,
    NoteOut,
    SlaIn,
    SlaOut,
    StartIn,
)
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import Principal

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["forwards"])
AgencyLogin = Annotated[Principal, Depends(require_roles("agency"))]
InboxFilter = Literal[
    "open", "unacknowledged", "all", "pending", "sent", "failed", "acknowledged", "in_progress", "closed"
]


@router.post(
    "/incidents/{incident_id}/forwards",
    status_code=201,
    responses={
        200: {
            "model": ForwardingOut,
            "description": "Nothing new: every agency already had a forward (idempotent repeat)",
        }
    },
)
async def post_forwards(
    incident_id: Id,
    rt: RuntimeDep,
    session: SessionDep,
    me: Dispatcher,
    response: Response,
    data: ForwardIn | None = None,
) -> ForwardingOut:
    """Forward the incident to ``agency_ids`` or, without them, to its routing targets. One forward per
    incident and agency: forwarding again to an agency is idempotent (the existing forward comes back in
    ``forwards`` but not in ``created``, and the answer is 200 when nothing was created; a ``failed`` one is
    queued again, ``requeued``). Inbox agencies see it at once; webhook agencies get the incident as JSON and
    as a CAP 1.2 alert, with retries. The caller's phone goes to the agencies only with
    ``include_caller_phone``."""
    data = data or ForwardIn()
    result = await forwards.forward_incident(
        session,
        rt.bus,
        rt.settings,
        incident_id,
        agency_ids=data.agency_ids,
        note=data.note,
        injured=data.injured,
        actor_id=me.user_id,
        include_caller_phone=data.include_caller_phone,
    )
    forwards.after_forwarding(session, rt)
    if not result.created:
        response.status_code = 200
    return result


@router.get("/incidents/{incident_id}/forwards")
async def get_forwards(
    incident_id: Id, rt: RuntimeDep, session: SessionDep, _: Dispatcher
) -> IncidentForwardsOut:
    """Every forward of the incident: send state, failures, acknowledgement (and when it falls due under
    the agency's SLA), progress, outcome, notes and audit trail."""
    return IncidentForwardsOut(
        incident_id=incident_id, items=await forwards.of_incident(session, rt.settings, incident_id)
    )


@router.post("/forwards/{forward_id}/retry")
async def retry_forward(forward_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher) -> ForwardOut:
    """Send a failed forward's webhook again (its attempts start over)."""
    f = await forwards.retry(session, rt.bus, forward_id, me.user_id)
    forwards.after_forwarding(session, rt)
    return ForwardOut.of(f)


# -- the agency's inbox -----------------------------------------------------------------------------------


@router.get("/agency/inbox")
async def get_inbox(
    rt: RuntimeDep,
    session: SessionDep,
    me: AgencyLogin,
    status: InboxFilter = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InboxOut:
    """The forwards of the caller's agency, newest first (``open``: not closed), with the agency's SLA."""
    return await inbox.inbox(session, rt.settings, me, status, limit)


@router.get("/agency/forwards/{forward_id}")
async def get_agency_forward(
    forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin
) -> AgencyForwardOut:
    """The forward with its incident (what, where, photos), its own notes and, only when the dispatcher
    chose to include it, the caller's phone."""
    return await inbox.agency_view(session, rt.settings, me, forward_id)


@router.post("/agency/forwards/{forward_id}/ack")
async def ack_forward(forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin) -> ForwardOut:
    """The agency has taken it (again: no change; closed: 409)."""
    return ForwardOut.of(await inbox.acknowledge(session, rt.bus, me, forward_id))


@router.post("/agency/forwards/{forward_id}/start")
async def start_forward(
    forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin, data: StartIn | None = None
) -> ForwardOut:
    """The agency is on it: on the way, working (``in_progress``; acknowledges too). Again: no change."""
    f = await inbox.start(session, rt.bus, me, forward_id, data.note if data else None)
    return ForwardOut.of(f)


@router.post("/agency/forwards/{forward_id}/notes", status_code=201, openapi_extra=forms.NOTE_BODY_OPENAPI)
async def post_forward_note(
    forward_id: Id, request: Request, rt: RuntimeDep, session: SessionDep, me: AgencyLogin
) -> NoteOut:
    """A note, JSON ``{"text"}`` or a form with an optional ``photo`` (JPEG/PNG, checked as report photos
    are); on the incident's timeline and live to the command centre (``forward_note``)."""
    data, photo = await forms.read_note(request, rt.settings)
    return await inbox.add_note(session, rt.bus, rt.settings, me, forward_id, data.text, photo)


@router.post("/agency/forwards/{forward_id}/close")
async def close_forward(
    forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin, data: CloseIn | None = None
) -> ForwardOut:
    """The agency is done with it: an ``outcome`` (default ``resolved``) and an optional closing ``note``.
    Handing it back (``not_responsible``, ``referred``) alerts the dispatchers to send someone else; the
    last forward closed with no police unit on the incident asks them to resolve it."""
    data = data or CloseIn()
    f = await inbox.close(session, rt.bus, me, forward_id, data.outcome, data.note)
    return ForwardOut.of(f)


@router.get(
    "/forwards/{forward_id}/notes/{note_id}/photo",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
async def get_note_photo(
    forward_id: Id, note_id: Id, rt: RuntimeDep, session: SessionDep, me: Watcher
) -> Response:
    """A note's photo: for the command centre, and for the forward's own agency (any other is 404)."""
    path, media_type = await inbox.note_photo(session, rt.settings, me, forward_id, note_id)
    return FileResponse(path, media_type=media_type)


# -- agencies (admin) -------------------------------------------------------------------------------------


@router.post("/agencies/{agency_id}/users", status_code=201)
async def post_agency_user(
    agency_id: Id, data: AgencyUserIn, rt: RuntimeDep, session: SessionDep, me: Admin
) -> AgencyUserCreated:
    """A login (role ``agency``) that sees and answers this agency's forwards only."""
    user, agency = await agency_admin.create_agency_user(
        session,
        rt.passwords,
        agency_id,
        username=data.username,
        password=data.password,
        full_name=data.full_name,
        actor_id=me.user_id,
    )
    return AgencyUserCreated(
        id=user.id,
        username=user.username,
        role=user.role,
        full_name=user.full_name,
        agency_id=agency.id,
        agency_code=agency.code,
    )


@router.get("/agencies/{agency_id}/users")
async def get_agency_users(agency_id: Id, session: SessionDep, _: Admin) -> AgencyUsersOut:
    users = await agency_admin.agency_users(session, agency_id)
    return AgencyUsersOut(agency_id=agency_id, items=[AgencyUserOut.model_validate(u) for u in users])


@router.put("/agencies/{agency_id}/delivery")
async def put_delivery(agency_id: Id, data: DeliveryIn, session: SessionDep, me: Admin) -> DeliveryOut:
    """How the agency receives new forwards: ``inbox``, ``webhook`` (needs ``webhook_url``) or ``both``.
    Seeding the region pack again resets it to the pack's."""
    url = str(data.webhook_url) if data.webhook_url else None
    agency = await agency_admin.set_delivery(session, agency_id, data.delivery, url, me.user_id)
    return DeliveryOut.model_validate(agency)


@router.get("/agencies/{agency_id}/sla")
async def get_sla(agency_id: Id, rt: RuntimeDep, session: SessionDep, _: Dispatcher) -> SlaOut:
    """How soon the agency must acknowledge a forward (its own minutes, else the default)."""
    return await sla.get(session, rt.settings, agency_id)


@router.put("/agencies/{agency_id}/sla")
async def put_sla(agency_id: Id, data: SlaIn, rt: RuntimeDep, session: SessionDep, me: Admin) -> SlaOut:
    """``{"ack_minutes": N}``: the agency acknowledges within N minutes (1..10080) or the dispatchers are
    alerted (``forward_unacknowledged``); ``null`` goes back to the default (``JOGO_FORWARD_ACK_TIMEOUT_S``).
    Open forwards are judged by the new SLA at once. Audited."""
    return await sla.put(session, rt.settings, agency_id, data.ack_minutes, me.user_id)
