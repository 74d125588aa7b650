"""Open311 GeoReport v2 under ``/open311/v2``: the service catalogue, service requests and FixMyStreet's
service request updates, each in JSON (``.json``) and XML (``.xml``, the format the spec requires and
FixMyStreet speaks); the discovery document at ``/open311/discovery.{json,xml}`` (and under ``/v2``).

Every JSON answer is an array (a service definition and the discovery document are objects); errors are
``[{"code": <HTTP status>, "description": ...}]``, in XML ``<errors><error><code/><description/></error>
</errors>`` (400 bad input, 403 bad ``api_key``, 404 unknown service, request or jurisdiction, 429 rate
limited with ``Retry-After``). POSTs are form-encoded (or multipart: the first file uploaded is the report's photo); ``api_key`` may
come in the body or the query string.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.deps import Admin, Dispatcher, RuntimeDep, SessionDep
from jogo_dispatch.errors import AppError
from jogo_dispatch.open311 import catalogue, filing, keys, placing, service, updates, xml
from jogo_dispatch.open311.schemas import (
    OPEN311_ERRORS,
    PREFIX,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeysOut,
    DiscoveryOut,
    FiledRequestOut,
    FiledUpdateOut,
    NewApiKeyOut,
    PlaceIn,
    PublicNoteIn,
    RequestUpdateOut,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
    UnplacedList,
    error_response,
)
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.reports.schemas import ReportOut

router = APIRouter(route_class=IdempotentRoute, prefix=PREFIX, tags=["open311"], responses=OPEN311_ERRORS)
Lang = Annotated[Literal["id", "en"], Query(description="language of names and descriptions")]
Format = Literal["json", "xml"]
XML_ONLY: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {}}, "description": "GeoReport XML"}
}

FORM_MAX_FIELDS = 100
FORM_MAX_FILES = 10  # FixMyStreet may upload its photos (photo1, photo2…) beside media_url: the first is kept


def _dump(content: Any) -> Any:
    if isinstance(content, BaseModel):
        return content.model_dump(mode="json")
    if isinstance(content, list):
        return [_dump(c) for c in content]
    return content


def _error(fmt: Format, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    return (
        xml.errors(status, description, headers)
        if fmt == "xml"
        else error_response(status, description, headers)
    )


def _render(fmt: Format, root: str, content: Any, status: int = 200) -> Response:
    data = _dump(content)
    return xml.response(root, data, status) if fmt == "xml" else JSONResponse(data, status_code=status)


async def _answer(
    session: AsyncSession, fmt: Format, root: str, work: Awaitable[Any], status: int = 200
) -> Response:
    """Run ``work`` and render it; an error is rolled back here (the session would otherwise commit at the
    boundary) and told in Open311's shape."""
    try:
        content = await work
    except AppError as exc:
        await session.rollback()
        return _error(fmt, exc.status_code, exc.message, exc.headers or None)
    return _render(fmt, root, content, status)


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "id"


async def _form(request: Request) -> tuple[dict[str, str], dict[str, list[str]], bytes | None]:
    """The fields of a POST (form-encoded or multipart), with those of the query string the body does not
    have (clients put ``api_key`` in either): (last value of each, every value of each, the first file
    uploaded: the request's photo)."""
    form = await request.form(max_fields=FORM_MAX_FIELDS, max_files=FORM_MAX_FILES)
    multi: dict[str, list[str]] = {}
    photo: bytes | None = None
    for k, v in form.multi_items():
        if isinstance(v, str):
            multi.setdefault(k, []).append(v)
        elif photo is None:
            photo = await v.read()
    for k, v in request.query_params.multi_items():
        if k not in form:
            multi.setdefault(k, []).append(v)
    return {k: v[-1] for k, v in multi.items()}, multi, photo


# -- discovery ----------------------------------------------------------------------------------------------

discovery_router = APIRouter(route_class=IdempotentRoute, prefix="/open311", tags=["open311"])


async def _discovery(request: Request, rt: RuntimeDep, fmt: Format) -> Response:
    base = str(request.base_url).rstrip("/")
    return _render(fmt, "discovery", catalogue.discovery(base + PREFIX, rt.settings))


@discovery_router.get("/discovery.json", response_model=DiscoveryOut)
async def discovery_json(request: Request, rt: RuntimeDep) -> Response:
    """GeoReport's service discovery: the endpoint, its formats and the spec it follows."""
    return await _discovery(request, rt, "json")


@discovery_router.get("/discovery.xml", responses=XML_ONLY, response_class=Response)
async def discovery_xml(request: Request, rt: RuntimeDep) -> Response:
    return await _discovery(request, rt, "xml")


@router.get("/discovery.json", response_model=DiscoveryOut)
async def v2_discovery_json(request: Request, rt: RuntimeDep) -> Response:
    """The discovery document again, where clients given the endpoint look for it (``three``)."""
    return await _discovery(request, rt, "json")


@router.get("/discovery.xml", responses=XML_ONLY, response_class=Response)
async def v2_discovery_xml(request: Request, rt: RuntimeDep) -> Response:
    return await _discovery(request, rt, "xml")


# -- the service catalogue --------------------------------------------------------------------------------


async def _services(session: AsyncSession, fmt: Format, jurisdiction_id: str | None, lang: str) -> Response:
    if jurisdiction_id is not None and not catalogue.known_jurisdiction(jurisdiction_id):
        return _error(fmt, 404, f"unknown jurisdiction_id {jurisdiction_id!r}")
    return _render(fmt, "services", catalogue.open311_services(await catalogue.services_of(session), lang))


async def _definition(
    session: AsyncSession, fmt: Format, service_code: str, jurisdiction_id: str | None, lang: str
) -> Response:
    if jurisdiction_id is not None and not catalogue.known_jurisdiction(jurisdiction_id):
        return _error(fmt, 404, f"unknown jurisdiction_id {jurisdiction_id!r}")
    found = await catalogue.service_by_code(session, service_code)
    if found is None:
        return _error(fmt, 404, f"unknown service_code {service_code!r}")
    return _render(fmt, "service_definition", catalogue.open311_definition(found, lang))


@router.get("/services.json", response_model=list[ServiceOut])
async def open311_services(
    session: SessionDep, jurisdiction_id: str | None = None, lang: Lang = "id"
) -> Response:
    """Every service (= report category) a request can be filed under."""
    return await _services(session, "json", jurisdiction_id, lang)


@router.get("/services.xml", responses=XML_ONLY, response_class=Response)
async def open311_services_xml(request: Request, session: SessionDep) -> Response:
    """``<services><service>…</service></services>``."""
    return await _services(session, "xml", request.query_params.get("jurisdiction_id"), _lang(request))


@router.get("/services/{service_code}.json", response_model=ServiceDefinitionOut)
async def open311_service_definition(
    service_code: str, session: SessionDep, jurisdiction_id: str | None = None, lang: Lang = "id"
) -> Response:
    """The extra attributes a request of this service may carry."""
    return await _definition(session, "json", service_code, jurisdiction_id, lang)


@router.get("/services/{service_code}.xml", responses=XML_ONLY, response_class=Response)
async def open311_service_definition_xml(
    service_code: str, request: Request, session: SessionDep
) -> Response:
    """``<service_definition><service_code/><attributes><attribute>…`` (``variable``, ``code``,
    ``datatype``, ``required``, ``datatype_description``, ``order``, ``description``, ``values``)."""
    return await _definition(
        session, "xml", service_code, request.query_params.get("jurisdiction_id"), _lang(request)
    )


# -- service requests -------------------------------------------------------------------------------------

FORM_FIELDS = (
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
)
FORM_SCHEMA = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {k: {"type": "string"} for k in FORM_FIELDS},
}
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": FORM_SCHEMA}},
    }
}


async def _post_request(request: Request, rt: RuntimeDep, session: AsyncSession, fmt: Format) -> Response:
    try:
        flat, multi, photo = await _form(request)
    except Exception as exc:  # noqa: BLE001 - any unparseable body is the client's error
        return _error(fmt, 400, f"send the fields form-encoded: {exc}")
    client_ip = request.client.host if request.client else None
    try:
        filed, created = await filing.file_request(
            session,
            rt,
            flat,
            multi,
            photo=photo,
            user_agent=request.headers.get("user-agent"),
            client_ip=client_ip,
        )
    except AppError as exc:
        await session.rollback()
        return _error(fmt, exc.status_code, exc.message, exc.headers or None)
    return _render(fmt, "service_requests", filed, 201 if created else 200)


@router.post("/requests.json", status_code=201, response_model=list[FiledRequestOut], openapi_extra=FORM_BODY)
async def post_request(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    """File a service request (a citizen report) as an Open311 client does: form-encoded ``api_key``,
    ``service_code``, ``lat`` and ``long`` (or ``address_string``/``address_id`` alone: a dispatcher places
    it), the optional fields, ``attribute[code]=value``. Answers 201 ``[{"service_request_id",
    "service_notice", "account_id"}]``; a retry of the same request answers 200 with the same id."""
    return await _post_request(request, rt, session, "json")


@router.post(
    "/requests.xml", status_code=201, responses=XML_ONLY, response_class=Response, openapi_extra=FORM_BODY
)
async def post_request_xml(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    """``<service_requests><request><service_request_id/><service_notice/><account_id/></request>…``."""
    return await _post_request(request, rt, session, "xml")


@router.get("/requests.json", response_model=list[ServiceRequestOut])
async def get_requests(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    """Service requests: ``service_request_id`` (comma-separated; the other filters are then ignored), or
    ``service_code`` (comma-separated), ``status`` (open, closed), ``start_date``/``end_date`` (w3 date-times,
    at most 90 days apart; default the last 90 days); newest first, at most 1000. ``jurisdiction_id`` and
    ``lang`` (id, en) are accepted."""
    return await _answer(
        session, "json", "service_requests", service.list_requests(session, rt, _params(request))
    )


@router.get("/requests.xml", responses=XML_ONLY, response_class=Response)
async def get_requests_xml(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    """``<service_requests><request>…</request></service_requests>``."""
    return await _answer(
        session, "xml", "service_requests", service.list_requests(session, rt, _params(request))
    )


@router.get("/requests/{service_request_id}.json", response_model=list[ServiceRequestOut])
async def get_request(
    service_request_id: str, request: Request, rt: RuntimeDep, session: SessionDep
) -> Response:
    """One service request, as a one-element array."""
    work = service.get_request(session, rt, service_request_id, _params(request))
    return await _answer(session, "json", "service_requests", work)


@router.get("/requests/{service_request_id}.xml", responses=XML_ONLY, response_class=Response)
async def get_request_xml(
    service_request_id: str, request: Request, rt: RuntimeDep, session: SessionDep
) -> Response:
    work = service.get_request(session, rt, service_request_id, _params(request))
    return await _answer(session, "xml", "service_requests", work)


# -- FixMyStreet's service request updates ------------------------------------------------------------------


@router.get("/servicerequestupdates.json", response_model=list[RequestUpdateOut])
async def get_updates(request: Request, session: SessionDep) -> Response:
    """FixMyStreet's extension: our status changes and public notes of Open311 requests between
    ``start_date`` and ``end_date`` (w3, at most 90 days), oldest first, with FixMyStreet's status names
    (open, investigating, action_scheduled, in_progress, fixed, closed, not_councils_responsibility); with
    ``api_key``, only that key's requests."""
    return await _answer(
        session, "json", "service_request_updates", updates.list_updates(session, _params(request))
    )


@router.get("/servicerequestupdates.xml", responses=XML_ONLY, response_class=Response)
async def get_updates_xml(request: Request, session: SessionDep) -> Response:
    """``<service_request_updates><request_update><update_id/><service_request_id/><status/>
    <updated_datetime/><description/><media_url/></request_update>…``."""
    return await _answer(
        session, "xml", "service_request_updates", updates.list_updates(session, _params(request))
    )


async def _post_update(request: Request, rt: RuntimeDep, session: AsyncSession, fmt: Format) -> Response:
    try:
        flat, _, _ = await _form(request)
    except Exception as exc:  # noqa: BLE001 - any unparseable body is the client's error
        return _error(fmt, 400, f"send the fields form-encoded: {exc}")
    try:
        filed, created = await updates.post_update(session, rt, flat)
    except AppError as exc:
        await session.rollback()
        return _error(fmt, exc.status_code, exc.message, exc.headers or None)
    return _render(fmt, "service_request_updates", filed, 201 if created else 200)


@router.post("/servicerequestupdates.json", status_code=201, response_model=list[FiledUpdateOut])
async def post_update(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    """A citizen's update of a request this ``api_key`` filed (form-encoded ``service_request_id``,
    ``description``, ``status``, ``updated_datetime``, ``update_id``, ``media_url``, names, e-mail, phone):
    a note on its incident. ``[{"update_id"}]``; a retry of the same ``update_id`` answers 200 with it."""
    return await _post_update(request, rt, session, "json")


@router.post("/servicerequestupdates.xml", status_code=201, responses=XML_ONLY, response_class=Response)
async def post_update_xml(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    """``<service_request_updates><request_update><update_id/></request_update>…``."""
    return await _post_update(request, rt, session, "xml")


# -- the dispatchers' side ----------------------------------------------------------------------------------

staff_router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1/open311", tags=["open311"])


@staff_router.get("/unplaced", response_model=UnplacedList)
async def list_unplaced(session: SessionDep, _: Dispatcher) -> UnplacedList:
    """Requests filed with an address only, waiting to be placed on the map (oldest first)."""
    return UnplacedList(items=await placing.unplaced(session))


@staff_router.post("/requests/{report_id}/place", response_model=ReportOut)
async def place_request(
    report_id: Id, data: PlaceIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> ReportOut:
    """Put an address-only request where it happened (``{"lat", "lon", "address"?}``); audited. 409
    ``already_placed`` for one that is on the map."""
    report = await placing.place(session, rt.bus, me, report_id, data)
    return ReportOut.of(report)


@staff_router.post("/requests/{report_id}/public-notes", status_code=201, response_model=RequestUpdateOut)
async def post_public_note(
    report_id: Id, data: PublicNoteIn, session: SessionDep, me: Dispatcher
) -> RequestUpdateOut:
    """A note the Open311 clients get as an update of the request (``servicerequestupdates``); audited."""
    return await updates.public_note(session, me, report_id, data.text)


# -- API keys (admin) -------------------------------------------------------------------------------------

keys_router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1/api-keys", tags=["open311"])


@keys_router.get("", response_model=ApiKeysOut)
async def list_api_keys(session: SessionDep, _: Admin) -> ApiKeysOut:
    """Open311 API keys (never the keys themselves: only their first characters)."""
    return ApiKeysOut(items=[ApiKeyOut.model_validate(k) for k in await keys.api_keys(session)])


@keys_router.post("", response_model=NewApiKeyOut, status_code=201)
async def post_api_key(data: ApiKeyIn, session: SessionDep, me: Admin) -> NewApiKeyOut:
    """A new key for an Open311 client; ``key`` is in this answer only. Audited."""
    row, key = await keys.create_api_key(session, data.label, me.user_id)
    await session.flush()
    await session.refresh(row)
    return NewApiKeyOut(**ApiKeyOut.model_validate(row).model_dump(), key=key)


@keys_router.delete("/{key_id}", response_model=ApiKeyOut)
async def revoke_api_key(key_id: Id, session: SessionDep, me: Admin) -> ApiKeyOut:
    """Revoke a key: requests with it get 403 from now on. Audited."""
    return ApiKeyOut.model_validate(await keys.revoke_api_key(session, key_id, me.user_id))
