from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from jogo_dispatch.deps import CurrentUser, Dispatcher, RuntimeDep, SessionDep
from jogo_dispatch.errors import Forbidden
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import citizens, service, sos
from jogo_dispatch.reports.deps import Citizen
from jogo_dispatch.reports.schemas import (
    CitizenCreate,
    CitizenOut,
    ReportDetailOut,
    ReportList,
    ReportOut,
    ReportQueue,
    SosOut,
)

# Filing reports, their review and SOS presses are dispatch's intake (dispatch.intake_router).
router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["reports"])

WATCHERS = ("dispatcher", "admin", "agency")


@router.post("/citizens", status_code=201)
async def register(data: CitizenCreate, rt: RuntimeDep, session: SessionDep) -> CitizenOut:
    """Sign up as a citizen (no login needed) with a mobile number of the deployment's countries
    (``JOGO_PHONE_REGIONS``); any other number is 400 ``bad_phone``. Log in afterwards at
    ``/api/v1/auth/token`` with the phone number as typed or in its normalised form (``+62...``)."""
    user = await citizens.register_citizen(session, rt.passwords, data, rt.settings.phone_regions)
    return CitizenOut(
        id=user.id, username=user.username, phone=user.phone, name=user.full_name, role=user.role
    )


@router.get("/reports/mine")
async def my_reports(session: SessionDep, me: Citizen) -> ReportList:
    """The caller's reports, newest first, with how each is progressing (``incident_status``)."""
    return ReportList(items=await service.my_reports(session, me.user_id))


@router.get("/reports")
async def list_reports(
    session: SessionDep,
    _: Dispatcher,
    status: Literal["received", "verified", "rejected", "false", "all"] = "received",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ReportQueue:
    """The verification queue (``status=received``: most urgent category first, then oldest) or the
    reports in another state, with what is needed to trace the reporter."""
    return ReportQueue(items=await service.list_reports(session, None if status == "all" else status, limit))


def _may_view(me: Principal) -> None:
    if me.role not in (*WATCHERS, "citizen"):
        raise Forbidden("this needs one of the roles: citizen, dispatcher, admin, agency", code="wrong_role")


@router.get("/reports/{report_id}")
async def get_report(report_id: Id, session: SessionDep, me: CurrentUser) -> ReportDetailOut | ReportOut:
    """A report: its author sees it as in ``/reports/mine``, dispatchers see everything; an agency sees the
    reports of incidents forwarded to it, as their author does (others are 404)."""
    _may_view(me)
    report = await service.get_report(session, report_id, me)
    return await service.report_view(session, report, me)


@router.get(
    "/reports/{report_id}/photo",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
async def get_photo(report_id: Id, rt: RuntimeDep, session: SessionDep, me: CurrentUser) -> Response:
    _may_view(me)
    report = await service.get_report(session, report_id, me)
    path, media_type = service.photo_file(rt.settings, report)
    return FileResponse(path, media_type=media_type)


@router.get("/sos/{sos_id}")
async def get_sos(sos_id: Id, session: SessionDep, me: CurrentUser) -> SosOut:
    """An SOS with its trail: for its caller, for dispatchers, and for an agency the SOS was forwarded to."""
    _may_view(me)
    return await sos.sos_view(session, me, sos_id)
