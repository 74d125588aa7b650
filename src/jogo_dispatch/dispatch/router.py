from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from jogo_dispatch.deps import CurrentOfficer, CurrentUser, Dispatcher, RuntimeDep, SessionDep, Watcher
from jogo_dispatch.dispatch import batch, merge, offers, service, stats, views
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.lifecycle import FINAL, INCIDENT_STATUSES, IncidentStatus, OfferStatus
from jogo_dispatch.dispatch.schemas import (
    AgencyIncidentList,
    AgencyIncidentOut,
    BatchIn,
    BatchOut,
    DeclinedOut,
    DispatchIn,
    IncidentDetailOut,
    IncidentList,
    IncidentOut,
    MergeIn,
    OfferAnswerIn,
    OfferList,
    OfferOut,
    OfferWithIncident,
    SplitIn,
    StatsOut,
    StatusChangeIn,
    TimelineOut,
)
from jogo_dispatch.errors import Forbidden, InvalidInput
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.time_window import QueryTime

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["dispatch"])

OFFER_FILTERS = {
    "pending": [OfferStatus.PENDING.value],
    "active": [OfferStatus.PENDING.value, OfferStatus.ACCEPTED.value],
    "all": [s.value for s in OfferStatus],
}


_ONE_STATUS = f"({'|'.join(INCIDENT_STATUSES)})"
STATUS_FILTER = f"^(open|all| *{_ONE_STATUS} *(, *{_ONE_STATUS} *)*)$"


def _statuses(status: str | None) -> list[str] | None:
    if status is None or status == "all":
        return None
    if status == "open":
        return [s.value for s in IncidentStatus if s not in FINAL]
    wanted = [s.strip() for s in status.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in INCIDENT_STATUSES]
    if unknown or not wanted:
        raise InvalidInput(
            f"unknown status {', '.join(unknown) or status!r}",
            code="bad_status",
            details={"allowed": [*INCIDENT_STATUSES, "open", "all"]},
        )
    return wanted


@router.get("/incidents")
async def list_incidents(
    session: SessionDep,
    me: Watcher,
    status: Annotated[
        str | None,
        Query(description="a status, several comma-separated, 'open' or 'all'", pattern=STATUS_FILTER),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> IncidentList | AgencyIncidentList:
    """Incidents, most urgent first, then newest (an agency: those forwarded to it, as it sees them)."""
    found = await repo.list_incidents(
        session, _statuses(status), limit, forwarded_to=service.forwarded_to(me)
    )
    if me.role == "agency":
        return AgencyIncidentList(items=await views.agency_views(session, found))
    return IncidentList(items=await views.incident_views(session, found))


@router.get("/incidents/{incident_id}", response_model_exclude_unset=True)
async def get_incident(
    incident_id: Id, rt: RuntimeDep, session: SessionDep, me: Watcher
) -> IncidentDetailOut | AgencyIncidentOut:
    """The incident with its CAD timestamps, reports and offers; while it waits for an officer, also the
    nearest available ones. An agency reads only incidents forwarded to it (others are 404), and of those
    what its work needs (``AgencyIncidentOut``)."""
    incident = await service.visible_incident(session, me, incident_id)
    if me.role == "agency":
        [seen] = await views.agency_views(session, [incident])
        return seen
    return await views.incident_detail(session, rt.index, rt.settings, incident)


@router.get("/incidents/{incident_id}/timeline")
async def get_timeline(incident_id: Id, session: SessionDep, me: Watcher) -> TimelineOut:
    """Every audited change of the incident, its offers and its reports, oldest first (an agency: only of
    incidents forwarded to it)."""
    await service.visible_incident(session, me, incident_id)
    return await stats.timeline(session, incident_id, agency=me.role == "agency", login_id=me.user_id)


@router.post("/incidents/{incident_id}/status")
async def post_status(
    incident_id: Id, data: StatusChangeIn, rt: RuntimeDep, session: SessionDep, me: CurrentUser
) -> IncidentOut:
    """Progress of an incident: the assigned officer reports ``en_route``, ``on_scene``, ``resolved``; a
    dispatcher may also ``verify`` and ``cancel``. Resolving or cancelling frees the officer."""
    if me.role not in ("officer", "dispatcher", "admin"):
        raise Forbidden("this needs one of the roles: officer, dispatcher, admin", code="wrong_role")
    incident = await service.change_status(session, rt.bus, me, incident_id, data.status, data.reason)
    return await views.incident_view(session, incident)


@router.post("/incidents/{incident_id}/dispatch", status_code=201)
async def post_dispatch(
    incident_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher, data: DispatchIn | None = None
) -> OfferOut:
    """Offer the incident to ``officer_id`` or, without one, to the nearest available officer. The officer
    has ``offer_timeout_s`` to accept; a decline or silence passes it to the next nearest."""
    offer = await offers.dispatch(
        session,
        rt.bus,
        rt.index,
        rt.settings,
        incident_id,
        data.officer_id if data else None,
        me.user_id,
    )
    return OfferOut.model_validate(offer)


@router.post("/incidents/{incident_id}/merge")
async def post_merge(
    incident_id: Id, data: MergeIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> IncidentOut:
    """Fold ``other_incident_id`` into this incident (its reports move here; it is cancelled)."""
    kept = await merge.merge(session, rt.bus, incident_id, data.other_incident_id, me.user_id, data.reason)
    return await views.incident_view(session, kept)


@router.post("/incidents/{incident_id}/split", status_code=201)
async def post_split(
    incident_id: Id, data: SplitIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> IncidentOut:
    """Move ``report_ids`` to a new incident; returns the new incident."""
    created = await merge.split(
        session, rt.bus, rt.settings, incident_id, data.report_ids, me.user_id, data.reason
    )
    return await views.incident_view(session, created)


@router.get("/me/offers")
async def my_offers(
    session: SessionDep,
    me: CurrentOfficer,
    status: Literal["pending", "active", "all"] = "active",
) -> OfferList:
    """The calling officer's offers (default: pending and accepted), newest first, each with its incident."""
    if me.officer_id is None:
        raise InvalidInput("this login is not linked to an officer", code="not_an_officer")
    return OfferList(items=await offers.of_officer(session, me.officer_id, OFFER_FILTERS[status]))


@router.post("/offers/{offer_id}/accept")
async def accept_offer(
    offer_id: Id, rt: RuntimeDep, session: SessionDep, me: CurrentOfficer
) -> OfferWithIncident:
    offer, incident = await offers.accept(session, rt.bus, offer_id, me.officer_id, me.user_id)
    return offers.with_incident(offer, await views.incident_view(session, incident))


@router.post("/offers/{offer_id}/decline")
async def decline_offer(
    offer_id: Id, rt: RuntimeDep, session: SessionDep, me: CurrentOfficer, data: OfferAnswerIn | None = None
) -> DeclinedOut:
    offer, following = await offers.decline(
        session,
        rt.bus,
        rt.index,
        rt.settings,
        offer_id,
        me.officer_id,
        me.user_id,
        data.reason if data else None,
    )
    next_offer = OfferOut.model_validate(following) if following else None
    return DeclinedOut.model_validate(
        {**OfferOut.model_validate(offer).model_dump(), "next_offer": next_offer}
    )


@router.post("/offers/{offer_id}/cancel")
async def cancel_offer(
    offer_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher, data: OfferAnswerIn | None = None
) -> OfferOut:
    """Withdraw a pending offer (e.g. to send someone else)."""
    offer = await offers.cancel(session, rt.bus, offer_id, me.user_id, data.reason if data else None)
    return OfferOut.model_validate(offer)


@router.post("/dispatch/batch")
async def post_batch(
    rt: RuntimeDep, session: SessionDep, me: Dispatcher, data: BatchIn | None = None
) -> BatchOut:
    """Assign all waiting verified incidents at once, minimising the total priority-weighted ETA; with
    ``{"apply": true}`` the proposed pairs become offers."""
    data = data or BatchIn()
    return await batch.batch(
        session,
        rt.bus,
        rt.index,
        rt.settings,
        apply=data.apply,
        method=data.method,
        actor_id=me.user_id,
    )


@router.get("/stats")
async def get_stats(
    session: SessionDep, _: Dispatcher, since: QueryTime | None = None, until: QueryTime | None = None
) -> StatsOut:
    """KPIs over incidents received in [since, until) (default: the last 7 days; merged-away incidents are
    not counted): counts by category, status and police sector, and median / p90 seconds from received to
    verified, to dispatched (the accepted offer made) and to on scene."""
    return await stats.stats(session, since, until)
