"""The routes of incident intake: filing a report (linked at once to a duplicate incident), verifying or
rejecting it, and the SOS button. They keep the reports tag: to a client they are about reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from jogo_dispatch.deps import (
    Dispatcher,
    ReportRateLimit,
    RuntimeDep,
    SessionDep,
    SosRateLimit,
    require_roles,
)
from jogo_dispatch.dispatch import intake, sos
from jogo_dispatch.dispatch.schemas import EvidenceOut, SosLocatedOut, SosStartedOut, UnmarkFalseIn
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import forms
from jogo_dispatch.reports.deps import ActiveCitizen, Citizen
from jogo_dispatch.reports.schemas import (
    FiledReportOut,
    RejectIn,
    ReportOut,
    SosEndIn,
    SosIn,
    SosLocationIn,
    SosOut,
    VerifyIn,
)

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["reports"])

# Who may end an SOS: its caller (another citizen's is 404), or the command centre.
SosEnder = Annotated[Principal, Depends(require_roles("citizen", "dispatcher", "admin"))]


@router.post(
    "/reports", status_code=201, dependencies=[ReportRateLimit], openapi_extra=forms.REPORT_BODY_OPENAPI
)
async def post_report(
    request: Request, rt: RuntimeDep, session: SessionDep, me: ActiveCitizen
) -> FiledReportOut:
    """Report an incident, as JSON or as a form (multipart with an optional ``photo``, JPEG/PNG). The device
    (``X-Device-Id``, User-Agent) and the reporter's position are kept. A report of the same category
    near an open incident is linked to it at once (``incident_id``)."""
    data, photo = await forms.read_report(request, rt.settings)
    device_id, user_agent, client_ip = forms.device(request)
    report, duplicate = await intake.create_report(
        session,
        rt.bus,
        rt.settings,
        me,
        data,
        photo=photo,
        device_id=device_id,
        user_agent=user_agent,
        client_ip=client_ip,
    )
    filed = ReportOut.of(report, duplicate.status if duplicate else None)
    return FiledReportOut.model_validate({**filed.model_dump(), "duplicate": duplicate is not None})


@router.post("/reports/{report_id}/verify")
async def verify(
    report_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher, data: VerifyIn | None = None
) -> ReportOut:
    """The report is real: it is linked to the incident named, to the open incident it belongs to, or to a
    new incident (status ``verified``)."""
    data = data or VerifyIn()
    report, incident = await intake.verify(
        session,
        rt.bus,
        rt.settings,
        report_id,
        me.user_id,
        data.incident_id,
        data.note,
        hooks=rt.hooks.report_verified,
    )
    return ReportOut.of(report, incident.status)


@router.post("/reports/{report_id}/reject")
async def reject(
    report_id: Id, data: RejectIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> ReportOut:
    """``not_incident``: genuine but nothing for the command centre. ``false``: a false report, recorded
    against the reporter."""
    report = await intake.reject(
        session, rt.bus, report_id, me.user_id, data.reason, data.note, rt.hooks.false_report
    )
    return ReportOut.of(report)


@router.get("/reports/{report_id}/evidence")
async def get_evidence(report_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher) -> EvidenceOut:
    """The report with its photo URL, the distance between the phone and the reported place
    (``report.reporter_distance_m``), the reporter's record and the open incidents it may duplicate."""
    return await intake.evidence(session, rt.settings, me, report_id)


@router.post("/reports/{report_id}/unmark-false")
async def unmark_false(
    report_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher, data: UnmarkFalseIn | None = None
) -> ReportOut:
    """Withdraw a false marking (409 ``report_not_false`` for a report not marked false): the report is
    back in the verification queue, the reporter's strike is removed (an account blocked by it is open
    again); audited."""
    report = await intake.unmark_false(
        session,
        rt.bus,
        report_id,
        me.user_id,
        data.reason if data else None,
        rt.hooks.false_report_withdrawn,
    )
    return ReportOut.of(report)


@router.post(
    "/sos",
    status_code=201,
    dependencies=[SosRateLimit],
    responses={200: {"description": "The caller's SOS is still open: that one, at the new position"}},
)
async def post_sos(
    data: SosIn, request: Request, response: Response, rt: RuntimeDep, session: SessionDep, me: Citizen
) -> SosStartedOut:
    """One press: a priority-1 incident at the caller's position, shown to the dispatchers at once with the
    nearest available officers. While that SOS is open, pressing again returns it (200) with the new
    position instead of opening another. An account blocked for false reports is still heard: its SOS is
    marked with the account's record (``caller_record`` in the incident's data) and limited to
    ``JOGO_SOS_LIMIT_BLOCKED_PER_ACCOUNT`` presses per window."""
    device_id, user_agent, _ = forms.device(request)
    caller = await sos.screen_caller(session, rt.limiter, rt.settings, me)
    started, created = await sos.start_sos(
        session,
        rt.bus,
        rt.index,
        rt.settings,
        me,
        data,
        device_id=device_id,
        user_agent=user_agent,
        caller=caller,
    )
    if not created:
        response.status_code = 200
    return started


@router.post("/sos/{sos_id}/location")
async def post_sos_location(
    sos_id: Id, data: SosLocationIn, rt: RuntimeDep, session: SessionDep, me: Citizen
) -> SosLocatedOut:
    """The caller's live position: kept as a trail; the incident follows the newest fix."""
    return await sos.sos_location(session, rt.bus, rt.settings, me, sos_id, data)


@router.post("/sos/{sos_id}/end")
async def end_sos(
    sos_id: Id, rt: RuntimeDep, session: SessionDep, me: SosEnder, data: SosEndIn | None = None
) -> SosOut:
    """End the SOS (the caller is safe, or pressed by mistake): its phone stops sending, the incident's
    timeline records it and the live map shows a ``sos_ended`` event; the incident stays open for the
    dispatcher to close. Ending it again answers the same (200). Afterwards ``/location`` is 409
    ``sos_ended`` and a new press opens a new SOS."""
    return await sos.end_sos(session, rt.bus, me, sos_id, (data or SosEndIn()).reason)
