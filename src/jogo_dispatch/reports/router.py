from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from jogo_dispatch.deps import CurrentUser, Dispatcher, ReportRateLimit, RuntimeDep, SessionDep, SosRateLimit
from jogo_dispatch.errors import Forbidden, InvalidInput
from jogo_dispatch.platform.body_limit import parse_json, read_body
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import photos, service
from jogo_dispatch.reports.deps import ActiveCitizen, Citizen
from jogo_dispatch.reports.schemas import CitizenCreate, RejectIn, ReportIn, SosIn, SosLocationIn, VerifyIn

router = APIRouter(prefix="/api/v1", tags=["reports"])

FORM_FIELDS_BYTES = 64 * 1024  # room for the text fields next to the photo in a multipart body
WATCHERS = ("dispatcher", "admin", "agency")
# Forms send an empty string for an optional field left blank.
OPTIONAL_FIELDS = frozenset({"address", "reporter_accuracy_m"})


def _device(request: Request) -> tuple[str | None, str | None, str | None]:
    client = request.client.host if request.client else None
    return request.headers.get("x-device-id"), request.headers.get("user-agent"), client


def _validate(data: Any) -> ReportIn:
    try:
        return ReportIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def _form(request: Request, body: bytes) -> tuple[dict[str, Any], bytes | None]:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(
        max_files=1, max_fields=20, max_part_size=FORM_FIELDS_BYTES
    )
    try:
        fields: dict[str, Any] = {}
        photo: bytes | None = None
        for key, value in form.multi_items():
            if key == "photo":
                if not isinstance(value, UploadFile):
                    raise InvalidInput("photo must be a file part", code="bad_photo")
                photo = await value.read()
            elif isinstance(value, str):
                fields[key] = None if value == "" and key in OPTIONAL_FIELDS else value
            else:
                raise InvalidInput(f"unexpected file in field {key!r}", code="bad_body")
        return fields, photo
    finally:
        await form.close()


@router.post("/citizens", status_code=201)
async def register(data: CitizenCreate, rt: RuntimeDep, session: SessionDep) -> dict[str, Any]:
    """Sign up as a citizen (no login needed). Log in afterwards at ``/api/v1/auth/token`` with the phone
    number in its normalised form (``+62...``) as the username."""
    user = await service.register_citizen(session, rt.passwords, data)
    return {
        "id": user.id,
        "username": user.username,
        "phone": user.phone,
        "name": user.full_name,
        "role": user.role,
    }


@router.post(
    "/reports",
    status_code=201,
    dependencies=[ReportRateLimit],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ReportIn.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["category", "description", "lat", "lon", "reporter_lat", "reporter_lon"],
                        "properties": {
                            **{k: {"type": "string"} for k in ReportIn.model_fields},
                            "photo": {"type": "string", "format": "binary", "description": "JPEG or PNG"},
                        },
                    }
                },
            },
        }
    },
)
async def post_report(
    request: Request, rt: RuntimeDep, session: SessionDep, me: ActiveCitizen
) -> dict[str, Any]:
    """Report an incident, as JSON or as a form (multipart with an optional ``photo``, JPEG/PNG). The device
    (``X-Device-Id``, User-Agent) and the reporter's position are kept. A report of the same category
    near an open incident is linked to it at once (``incident_id``)."""
    settings = rt.settings
    body = await read_body(request, settings.photo_max_bytes + FORM_FIELDS_BYTES)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    photo_bytes: bytes | None = None
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields, photo_bytes = await _form(request, body)
    elif content_type in ("application/json", ""):
        fields = parse_json(body)
    else:
        raise InvalidInput(
            "send application/json or a form (multipart/form-data for a photo)", code="unsupported_media_type"
        )
    data = _validate(fields)
    photo = None
    if photo_bytes is not None:
        photo = await asyncio.to_thread(
            photos.validate, photo_bytes, settings.photo_max_bytes, settings.photo_max_pixels
        )
    device_id, user_agent, client_ip = _device(request)
    report, duplicate = await service.create_report(
        session,
        rt.bus,
        settings,
        me,
        data,
        photo=photo,
        device_id=device_id,
        user_agent=user_agent,
        client_ip=client_ip,
    )
    return {
        **service.report_dict(report, duplicate.status if duplicate else None),
        "duplicate": duplicate is not None,
    }


@router.get("/reports/mine")
async def my_reports(session: SessionDep, me: Citizen) -> dict[str, Any]:
    """The caller's reports, newest first, with how each is progressing (``incident_status``)."""
    return {"items": await service.my_reports(session, me.user_id)}


@router.get("/reports")
async def list_reports(
    session: SessionDep,
    _: Dispatcher,
    status: Literal["received", "verified", "rejected", "false", "all"] = "received",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The verification queue (``status=received``: most urgent category first, then oldest) or the
    reports in another state, with what is needed to trace the reporter."""
    return {"items": await service.list_reports(session, None if status == "all" else status, limit)}


def _may_view(me: Principal) -> None:
    if me.role not in (*WATCHERS, "citizen"):
        raise Forbidden("this needs one of the roles: citizen, dispatcher, admin, agency", code="wrong_role")


@router.get("/reports/{report_id}")
async def get_report(report_id: Id, session: SessionDep, me: CurrentUser) -> dict[str, Any]:
    """A report: its author sees it as in ``/reports/mine``, dispatchers see everything."""
    _may_view(me)
    report = await service.get_report(session, report_id, me)
    if me.role == "citizen":
        incident_status = (await service.report_view(session, report))["incident_status"]
        return service.report_dict(report, incident_status)
    return await service.report_view(session, report)


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


@router.post("/reports/{report_id}/verify")
async def verify(
    report_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher, data: VerifyIn | None = None
) -> dict[str, Any]:
    """The report is real: it is linked to the incident named, to the open incident it belongs to, or to a
    new incident (status ``verified``)."""
    data = data or VerifyIn()
    report, incident = await service.verify(
        session,
        rt.bus,
        rt.settings,
        report_id,
        me.user_id,
        data.incident_id,
        data.note,
        hooks=rt.hooks.report_verified,
    )
    return {**service.report_dict(report, incident.status), "incident_id": incident.id}


@router.post("/reports/{report_id}/reject")
async def reject(
    report_id: Id, data: RejectIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> dict[str, Any]:
    """``not_incident``: genuine but nothing for the command centre. ``false``: a false report, recorded
    against the reporter."""
    report = await service.reject(
        session, rt.bus, report_id, me.user_id, data.reason, data.note, rt.hooks.false_report
    )
    return service.report_dict(report)


@router.post(
    "/sos",
    status_code=201,
    dependencies=[SosRateLimit],
    responses={200: {"description": "The caller's SOS is still open: that one, at the new position"}},
)
async def post_sos(
    data: SosIn, request: Request, response: Response, rt: RuntimeDep, session: SessionDep, me: ActiveCitizen
) -> dict[str, Any]:
    """One press: a priority-1 incident at the caller's position, shown to the dispatchers at once with the
    nearest available officers. While that SOS is open, pressing again returns it (200) with the new
    position instead of opening another."""
    device_id, user_agent, _ = _device(request)
    body, created = await service.start_sos(
        session, rt.bus, rt.index, rt.settings, me, data, device_id=device_id, user_agent=user_agent
    )
    if not created:
        response.status_code = 200
    return body


@router.post("/sos/{sos_id}/location")
async def post_sos_location(
    sos_id: Id, data: SosLocationIn, rt: RuntimeDep, session: SessionDep, me: Citizen
) -> dict[str, Any]:
    """The caller's live position: kept as a trail; the incident follows the newest fix."""
    return await service.sos_location(session, rt.bus, rt.settings, me, sos_id, data)


@router.get("/sos/{sos_id}")
async def get_sos(sos_id: Id, session: SessionDep, me: CurrentUser) -> dict[str, Any]:
    """An SOS with its trail: for its caller and for dispatchers."""
    _may_view(me)
    return await service.sos_view(session, me, sos_id)
