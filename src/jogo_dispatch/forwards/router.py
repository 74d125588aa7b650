"""Forwarding (dispatchers), the agency inbox (agency logins), agency logins and delivery (admins)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from jogo_dispatch.deps import Admin, Dispatcher, RuntimeDep, SessionDep, require_roles
from jogo_dispatch.forwards import service as forwards
from jogo_dispatch.forwards.schemas import AgencyUserIn, CloseIn, DeliveryIn, ForwardIn, NoteIn
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.security import Principal

router = APIRouter(prefix="/api/v1", tags=["forwards"])
AgencyLogin = Annotated[Principal, Depends(require_roles("agency"))]
InboxFilter = Literal["open", "unacknowledged", "all", "pending", "sent", "failed", "acknowledged", "closed"]


@router.post("/incidents/{incident_id}/forwards", status_code=201)
async def post_forwards(
    incident_id: Id,
    rt: RuntimeDep,
    session: SessionDep,
    me: Dispatcher,
    response: Response,
    data: ForwardIn | None = None,
) -> dict[str, Any]:
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
    if not result["created"]:
        response.status_code = 200
    return result


@router.get("/incidents/{incident_id}/forwards")
async def get_forwards(incident_id: Id, session: SessionDep, _: Dispatcher) -> dict[str, Any]:
    """Every forward of the incident: send state, failures, acknowledgement, notes and audit trail."""
    return {"incident_id": incident_id, "items": await forwards.of_incident(session, incident_id)}


@router.post("/forwards/{forward_id}/retry")
async def retry_forward(
    forward_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> dict[str, Any]:
    """Send a failed forward's webhook again (its attempts start over)."""
    f = await forwards.retry(session, rt.bus, forward_id, me.user_id)
    forwards.after_forwarding(session, rt)
    return forwards.forward_dict(f)


# -- the agency's inbox -----------------------------------------------------------------------------------


@router.get("/agency/inbox")
async def get_inbox(
    session: SessionDep,
    me: AgencyLogin,
    status: InboxFilter = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The forwards of the caller's agency, newest first (``open``: not closed)."""
    return await forwards.inbox(session, me, status, limit)


@router.get("/agency/forwards/{forward_id}")
async def get_agency_forward(forward_id: Id, session: SessionDep, me: AgencyLogin) -> dict[str, Any]:
    return await forwards.agency_view(session, me, forward_id)


@router.post("/agency/forwards/{forward_id}/ack")
async def ack_forward(forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin) -> dict[str, Any]:
    """The agency has taken it (again: no change; closed: 409)."""
    return forwards.forward_dict(await forwards.acknowledge(session, rt.bus, me, forward_id))


@router.post("/agency/forwards/{forward_id}/notes", status_code=201)
async def post_forward_note(
    forward_id: Id, data: NoteIn, session: SessionDep, me: AgencyLogin
) -> dict[str, Any]:
    return forwards.note_dict(await forwards.add_note(session, me, forward_id, data.text))


@router.post("/agency/forwards/{forward_id}/close")
async def close_forward(
    forward_id: Id, rt: RuntimeDep, session: SessionDep, me: AgencyLogin, data: CloseIn | None = None
) -> dict[str, Any]:
    """The agency is done with it (an optional closing ``note``)."""
    f = await forwards.close(session, rt.bus, me, forward_id, data.note if data else None)
    return forwards.forward_dict(f)


# -- agencies (admin) -------------------------------------------------------------------------------------


@router.post("/agencies/{agency_id}/users", status_code=201)
async def post_agency_user(
    agency_id: Id, data: AgencyUserIn, rt: RuntimeDep, session: SessionDep, me: Admin
) -> dict[str, Any]:
    """A login (role ``agency``) that sees and answers this agency's forwards only."""
    user, agency = await forwards.create_agency_user(
        session,
        rt.passwords,
        agency_id,
        username=data.username,
        password=data.password,
        full_name=data.full_name,
        actor_id=me.user_id,
    )
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "full_name": user.full_name,
        "agency_id": agency.id,
        "agency_code": agency.code,
    }


@router.get("/agencies/{agency_id}/users")
async def get_agency_users(agency_id: Id, session: SessionDep, _: Admin) -> dict[str, Any]:
    return {
        "agency_id": agency_id,
        "items": [
            {"id": u.id, "username": u.username, "full_name": u.full_name, "is_active": u.is_active}
            for u in await forwards.agency_users(session, agency_id)
        ],
    }


@router.put("/agencies/{agency_id}/delivery")
async def put_delivery(agency_id: Id, data: DeliveryIn, session: SessionDep, me: Admin) -> dict[str, Any]:
    """How the agency receives new forwards: ``inbox``, ``webhook`` (needs ``webhook_url``) or ``both``.
    Seeding the region pack again resets it to the pack's."""
    url = str(data.webhook_url) if data.webhook_url else None
    agency = await forwards.set_delivery(session, agency_id, data.delivery, url, me.user_id)
    return {
        "id": agency.id,
        "code": agency.code,
        "delivery": agency.delivery,
        "webhook_url": agency.webhook_url,
    }
