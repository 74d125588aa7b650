"""Open311 GeoReport v2 under ``/open311/v2``: the service catalogue and service requests (JSON only;
``.xml`` requests answer 400).

Every answer is an array; errors are ``[{"code": <HTTP status>, "description": ...}]`` (400 bad input, 403
bad ``api_key``, 404 unknown service, request or jurisdiction, 429 rate limited with ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.deps import Admin, RuntimeDep, SessionDep
from jogo_dispatch.errors import AppError
from jogo_dispatch.open311 import catalogue, filing, keys, service
from jogo_dispatch.open311.schemas import (
    OPEN311_ERRORS,
    PREFIX,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeysOut,
    FiledRequestOut,
    NewApiKeyOut,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
    error_response,
)
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute

router = APIRouter(route_class=IdempotentRoute, prefix=PREFIX, tags=["open311"], responses=OPEN311_ERRORS)
T = TypeVar("T")
Lang = Annotated[Literal["id", "en"], Query(description="language of names and descriptions")]


FORM_MAX_FIELDS = 100


# -- the service catalogue --------------------------------------------------------------------------------


def _unknown_jurisdiction(jurisdiction_id: str | None) -> JSONResponse | None:
    if jurisdiction_id is not None and not catalogue.known_jurisdiction(jurisdiction_id):
        return error_response(404, f"unknown jurisdiction_id {jurisdiction_id!r}")
    return None


@router.get("/services.json", response_model=list[ServiceOut])
async def open311_services(
    session: SessionDep, jurisdiction_id: str | None = None, lang: Lang = "id"
) -> list[ServiceOut] | JSONResponse:
    """Every service (= report category) a request can be filed under."""
    if refused := _unknown_jurisdiction(jurisdiction_id):
        return refused
    return catalogue.open311_services(await catalogue.services_of(session), lang)


@router.get("/services/{service_code}.json", response_model=ServiceDefinitionOut)
async def open311_service_definition(
    service_code: str, session: SessionDep, jurisdiction_id: str | None = None, lang: Lang = "id"
) -> ServiceDefinitionOut | JSONResponse:
    """The extra attributes a request of this service may carry."""
    if refused := _unknown_jurisdiction(jurisdiction_id):
        return refused
    found = await catalogue.service_by_code(session, service_code)
    if found is None:
        return error_response(404, f"unknown service_code {service_code!r}")
    return catalogue.open311_definition(found, lang)


# -- service requests -------------------------------------------------------------------------------------


async def _answer(session: AsyncSession, work: Awaitable[T]) -> T | JSONResponse:
    """Run ``work``; an error is rolled back here (the session would otherwise commit at the boundary) and
    told in Open311's shape."""
    try:
        return await work
    except AppError as exc:
        await session.rollback()
        return error_response(exc.status_code, exc.message, exc.headers or None)


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


FORM_FIELDS = (
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
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


@router.post(
    "/requests.json",
    status_code=201,
    response_model=list[FiledRequestOut],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": FORM_SCHEMA}},
        }
    },
)
async def post_request(
    request: Request, rt: RuntimeDep, session: SessionDep
) -> list[FiledRequestOut] | JSONResponse:
    """File a service request (a citizen report) as an Open311 client does: form-encoded ``api_key``,
    ``service_code``, ``lat``, ``long`` and the optional fields, ``attribute[code]=value``. Answers 201
    ``[{"service_request_id", "service_notice", "account_id"}]``."""
    try:
        form = await request.form(max_fields=FORM_MAX_FIELDS, max_files=0)
    except Exception as exc:  # noqa: BLE001 - any unparseable body is the client's error
        return error_response(400, f"send the fields form-encoded: {exc}")
    multi: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            multi.setdefault(k, []).append(v)
    flat = {k: v[-1] for k, v in multi.items()}
    client_ip = request.client.host if request.client else None
    return await _answer(
        session,
        filing.file_request(
            session, rt, flat, multi, user_agent=request.headers.get("user-agent"), client_ip=client_ip
        ),
    )


@router.get("/requests.json", response_model=list[ServiceRequestOut])
async def get_requests(
    request: Request, rt: RuntimeDep, session: SessionDep
) -> list[ServiceRequestOut] | JSONResponse:
    """Service requests: ``service_request_id`` (comma-separated; the other filters are then ignored), or
    ``service_code`` (comma-separated), ``status`` (open, closed), ``start_date``/``end_date`` (w3 date-times,
    at most 90 days apart; default the last 90 days); newest first, at most 1000. ``jurisdiction_id`` and
    ``lang`` (id, en) are accepted."""
    return await _answer(session, service.list_requests(session, rt, _params(request)))


@router.get("/requests/{service_request_id}.json", response_model=list[ServiceRequestOut])
async def get_request(
    service_request_id: str, request: Request, rt: RuntimeDep, session: SessionDep
) -> list[ServiceRequestOut] | JSONResponse:
    """One service request, as a one-element array."""
    return await _answer(session, service.get_request(session, rt, service_request_id, _params(request)))


@router.api_route("/requests.xml", methods=["GET", "POST"], include_in_schema=False)
@router.get("/requests/{service_request_id}.xml", include_in_schema=False)
async def xml_not_served(service_request_id: str | None = None) -> JSONResponse:
    return error_response(400, "this endpoint serves JSON only: use .json")


# -- API keys (admin) -------------------------------------------------------------------------------------

keys_router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1/api-keys", tags=["open311"])


@keys_router.get("", response_model=ApiKeysOut)
async def list_api_keys(session: SessionDep, _: Admin) -> ApiKeysOut:
    """Open311 API keys (never the keys themselves: only their first characters)."""
    return ApiKeysOut(items=[ApiKeyOut.model_validate(k) for k in await keys.api_keys(session)])


@keys_router.post("", response_model=NewApiKeyOut, status_code=201)
async def post_api_key(data: ApiKeyIn, session: SessionDep, _: Admin) -> NewApiKeyOut:
    """A new key for an Open311 client; ``key`` is in this answer only."""
    row, key = await keys.create_api_key(session, data.label)
    await session.flush()
    await session.refresh(row)
    return NewApiKeyOut(**ApiKeyOut.model_validate(row).model_dump(), key=key)


@keys_router.delete("/{key_id}", response_model=ApiKeyOut)
async def revoke_api_key(key_id: Id, session: SessionDep, _: Admin) -> ApiKeyOut:
    """Revoke a key: requests with it get 403 from now on."""
    return ApiKeyOut.model_validate(await keys.revoke_api_key(session, key_id))
