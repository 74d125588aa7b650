from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from jogo_dispatch.deps import Admin, CurrentOfficer, Dispatcher, RuntimeDep, SessionDep
from jogo_dispatch.errors import InvalidInput, NotFound
from jogo_dispatch.platform.body_limit import read_body
from jogo_dispatch.platform.db import Id, after_commit
from jogo_dispatch.platform.events import CredentialsChanged
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.time_window import QueryTime
from jogo_dispatch.tracking import repository as repo
from jogo_dispatch.tracking import service
from jogo_dispatch.tracking.schemas import (
    DeviceCreate,
    DeviceCreated,
    DeviceOut,
    IngestOut,
    OfficerCreate,
    OfficerOut,
    PingIn,
    PositionsOut,
    StatusIn,
    TrackOut,
)
from jogo_dispatch.tracking.wire import decode_pings

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["tracking"])


@router.post(
    "/pings",
    response_model=IngestOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            PingIn.model_json_schema(),
                            {"type": "array", "items": PingIn.model_json_schema(), "maxItems": 1000},
                        ]
                    }
                }
            },
        }
    },
)
async def post_pings(request: Request, rt: RuntimeDep, me: CurrentOfficer) -> Response:
    """One ping or an array of up to 1000; answered only after the accepted pings are committed."""
    # Read from the bytes (tracking.wire), not through a body parameter: PingIn above documents the body.
    cols = decode_pings(await read_body(request, rt.settings.max_body_bytes), rt.settings.max_batch)
    if me.officer_id is None:
        raise InvalidInput("this login is not linked to an officer", code="not_an_officer")
    result = await rt.ingest.submit_columns(
        cols, officer_id=me.officer_id, source="api", device_id=me.device_id
    )
    # IngestOut's JSON, written at once: validating the answer we just built would cost more than the batch.
    return Response(
        orjson.dumps(
            {"accepted": result.accepted, "rejected": [{"index": i, "reason": r} for i, r in result.rejected]}
        ),
        media_type="application/json",
    )


@router.get("/officers", response_model=list[OfficerOut])
async def get_officers(
    rt: RuntimeDep,
    session: SessionDep,
    _: Dispatcher,
    q: Annotated[str | None, Query(max_length=100, description="badge or name contains (any case)")] = None,
) -> list[OfficerOut]:
    """Officers with their latest fix and presence; ``q`` finds them by badge or name (an exact badge
    first)."""
    return await service.list_officers(session, rt.settings, q)


# ``:int`` so that the admin console's /officers/roster and /officers/export.csv (another router,
# included later) are not taken for an officer id.
@router.get("/officers/{officer_id:int}", response_model=OfficerOut)
async def get_officer(officer_id: Id, rt: RuntimeDep, session: SessionDep, _: Dispatcher) -> OfficerOut:
    """One officer as ``GET /officers`` shows it: latest fix, presence, ``position_age_s``."""
    return await service.get_officer(session, rt.settings, officer_id)


@router.post("/officers", response_model=OfficerOut, status_code=201)
async def post_officer(data: OfficerCreate, rt: RuntimeDep, session: SessionDep, me: Admin) -> OfficerOut:
    officer = await service.create_officer(session, rt.passwords, data, me.user_id)
    return OfficerOut.model_validate(officer, from_attributes=True)


@router.get("/officers/{officer_id}/track")
async def get_track(
    officer_id: Id,
    session: SessionDep,
    _: Dispatcher,
    since: QueryTime | None = None,
    until: QueryTime | None = None,
) -> TrackOut:
    """GeoJSON FeatureCollection: the LineString of the track, then each fix as a Point."""
    return await service.track_geojson(session, officer_id, since, until)


@router.get("/positions")
async def get_positions(
    rt: RuntimeDep,
    session: SessionDep,
    _: Dispatcher,
    bbox: str = Query(
        ...,
        description="w,s,e,n in degrees (w <= e, s <= n)",
        examples=["112.58,-8.02,112.70,-7.90"],
        pattern=service.BBOX,
    ),
) -> PositionsOut:
    """GeoJSON FeatureCollection of the latest position of every officer inside the box."""
    return await service.positions_geojson(session, rt.settings, bbox)


@router.put("/officers/{officer_id}/status", response_model=OfficerOut)
async def put_officer_status(
    officer_id: Id, data: StatusIn, rt: RuntimeDep, session: SessionDep, _: Dispatcher
) -> OfficerOut:
    await service.set_status(session, rt.bus, officer_id, data.status)
    return await service.get_officer(session, rt.settings, officer_id)


@router.put("/me/status", response_model=OfficerOut)
async def put_my_status(
    data: StatusIn, rt: RuntimeDep, session: SessionDep, me: CurrentOfficer
) -> OfficerOut:
    if me.officer_id is None:
        raise InvalidInput("this login is not linked to an officer", code="not_an_officer")
    await service.set_status(session, rt.bus, me.officer_id, data.status)
    return await service.get_officer(session, rt.settings, me.officer_id)


@router.get("/officers/{officer_id}/devices", response_model=list[DeviceOut])
async def get_devices(officer_id: Id, session: SessionDep, _: Admin) -> list[DeviceOut]:
    if await repo.officer(session, officer_id) is None:
        raise NotFound(f"officer {officer_id} not found")
    return [
        DeviceOut.model_validate(d, from_attributes=True) for d in await repo.devices_of(session, officer_id)
    ]


@router.post("/officers/{officer_id}/devices", response_model=DeviceCreated, status_code=201)
async def post_device(officer_id: Id, data: DeviceCreate, session: SessionDep, me: Admin) -> DeviceCreated:
    device, token = await service.register_device(session, officer_id, data, me.user_id)
    return DeviceCreated(**DeviceOut.model_validate(device, from_attributes=True).model_dump(), token=token)


@router.delete("/officers/{officer_id}/devices/{device_id}", response_model=DeviceOut)
async def delete_device(
    officer_id: Id, device_id: Id, rt: RuntimeDep, session: SessionDep, me: Admin
) -> DeviceOut:
    device = await service.revoke_device(session, officer_id, device_id, me.user_id)
    after_commit(session, lambda: rt.bus.publish(CredentialsChanged(device_id=device_id)))
    return DeviceOut.model_validate(device, from_attributes=True)
