"""Forwarding (dispatchers), the agency inbox (agency logins), agency logins and delivery (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from jogo_dispatch.deps import Admin, Dispatcher, RuntimeDep, SessionDep, require_roles
from jogo_dispatch.forwards import agency_admin, inbox
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
    NoteIn,
    NoteOut,
)
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import Principal

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["forwards"])
AgencyLogin = Annotated[Principal, Depends(require_roles("agency"))]
InboxFilter = Literal["open", "unacknowledged", "all", "pending", "sent", "failed", "acknowledged", "closed"]


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
    as a CAP 1.2 alert, with retries."""
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
    )
    forwards.after_forwarding(session, rt)
    if not result.created:
        response.status_code = 200
    return result


@router.get("/incidents/{incident_id}/forwards")
async def get_forwards(incident_id: Id, session: SessionDep, _: Dispatcher) -> IncidentForwardsOut:
    """Every forward of the incident: send state, failures, acknowledgement, notes and audit trail."""
    return IncidentForwardsOut(
        incident_id=incident_id, items=await forwards.of_incident(session, incident_id)
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
    session: SessionDep,
    me: AgencyLogin,
    status: InboxFilter = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InboxOut:
    """The forwards of the caller's agency, newest first (``open``: not closed)."""
    return await inbox.inbox(session, me, status, limit)


@router.get("/agency/forwards/{forward_id}")
async def get_agency_forward(forward_id: Id, session: SessionDep, me: AgencyLogin) -> AgencyForwardOut:
    return await inbox.agency_view(session, me, forward_id)


@router.post("/agency/forwards/{forward_id}/ack")
async def ack_forward(forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin) -> ForwardOut:
    """The agency has taken it (again: no change; closed: 409)."""
    return ForwardOut.of(await inbox.acknowledge(session, rt.bus, me, forward_id))


@router.post("/agency/forwards/{forward_id}/notes", status_code=201)
async def post_forward_note(forward_id: Id, data: NoteIn, session: SessionDep, me: AgencyLogin) -> NoteOut:
    return NoteOut.model_validate(await inbox.add_note(session, me, forward_id, data.text))


@router.post("/agency/forwards/{forward_id}/close")
async def close_forward(
    forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin, data: CloseIn | None = None
) -> ForwardOut:
    """The agency is done with it (an optional closing ``note``)."""
    f = await inbox.close(session, rt.bus, me, forward_id, data.note if data else None)
    return ForwardOut.of(f)


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
