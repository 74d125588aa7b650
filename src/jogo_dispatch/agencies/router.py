from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from jogo_dispatch.agencies import repository as repo
from jogo_dispatch.agencies import service
from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.agencies.schemas import (
    AgencyOut,
    AppealIn,
    AppealOut,
    CategoryOut,
    DecisionIn,
    RouteOut,
    RuleIn,
    RuleOut,
    WarningsOut,
)
from jogo_dispatch.deps import Admin, CurrentUser, Dispatcher, RuntimeDep, SessionDep, Watcher, require_roles
from jogo_dispatch.open311.schemas import OPEN311_ERRORS, PREFIX, error_response
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.security import Principal

router = APIRouter(prefix="/api/v1", tags=["agencies"])
Citizen = Annotated[Principal, Depends(require_roles("citizen"))]
Region = Annotated[str | None, Query(max_length=32, description="default: the deployment's region")]
Lang = Annotated[Literal["id", "en"], Query(description="language of names and descriptions")]


@router.get("/agencies", response_model=list[AgencyOut])
async def get_agencies(
    rt: RuntimeDep,
    session: SessionDep,
    _: Watcher,
    region: Region = None,
    kind: Literal["police_unit", "government", "hospital", "utility", "insurer", "fire"] | None = None,
) -> list[AgencyOut]:
    region = region or rt.settings.region
    found = await repo.agencies(session, region, kind)
    return [AgencyOut(region=region, **dataclasses.asdict(a)) for a in found]


@router.get("/police-sectors")
async def get_police_sectors(
    rt: RuntimeDep, session: SessionDep, _: Watcher, region: Region = None
) -> dict[str, Any]:
    """GeoJSON FeatureCollection of the region's police sectors (jurisdiction MultiPolygons)."""
    return {
        "type": "FeatureCollection",
        "features": await repo.sectors_geojson(session, region or rt.settings.region),
    }


@router.get("/categories", response_model=list[CategoryOut])
async def get_categories(session: SessionDep) -> list[CategoryOut]:
    """The report categories citizens pick from (public)."""
    return [
        CategoryOut(
            code=c.code,
            name_id=c.name_id,
            name_en=c.name_en,
            group=c.group,
            description_id=c.description_id,
            description_en=c.description_en,
        )
        for c in await repo.catalogue(session)
    ]


@router.get("/route", response_model=RouteOut)
async def get_route(
    rt: RuntimeDep,
    session: SessionDep,
    _: Dispatcher,
    category: Annotated[str, Query(min_length=1, max_length=64)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    injured: bool = False,
    region: Region = None,
    hospitals: Annotated[int | None, Query(ge=0, le=20)] = None,
) -> RouteOut:
    """Where a report of this category at this point goes: its police sector, the responsible and
    always-notified agencies, and the nearest hospitals when someone may be hurt, with the reasons."""
    decision = await service.route_for(
        session, rt.settings, category, lat, lon, injured=injured, region=region, hospitals=hospitals
    )
    return RouteOut.of(decision)


# -- routing rules (admin) --------------------------------------------------------------------------------


@router.get("/routing-rules", response_model=list[RuleOut])
async def get_rules(
    rt: RuntimeDep, session: SessionDep, _: Admin, region: Region = None, category: str | None = None
) -> list[RuleOut]:
    found = await repo.rules(session, region or rt.settings.region, category)
    return [RuleOut.model_validate(r) for r in found]


@router.post("/routing-rules", response_model=RuleOut, status_code=201)
async def post_rule(data: RuleIn, rt: RuntimeDep, session: SessionDep, me: Admin) -> RuleOut:
    return RuleOut.model_validate(await service.create_rule(session, rt.settings, data, me.user_id))


@router.put("/routing-rules/{rule_id}", response_model=RuleOut)
async def put_rule(rule_id: Id, data: RuleIn, session: SessionDep, me: Admin) -> RuleOut:
    return RuleOut.model_validate(await service.update_rule(session, rule_id, data, me.user_id))


@router.delete("/routing-rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: Id, session: SessionDep, me: Admin) -> Response:
    await service.delete_rule(session, rule_id, me.user_id)
    return Response(status_code=204)


# -- warnings and appeals ---------------------------------------------------------------------------------


@router.get("/me/warnings", response_model=WarningsOut)
async def my_warnings(rt: RuntimeDep, session: SessionDep, me: CurrentUser) -> WarningsOut:
    """The caller's strikes for false reports, each with the warning it gave, and whether the account is
    blocked from sending reports and SOS."""
    return WarningsOut.model_validate(
        await service.warnings(session, rt.settings, me.user_id), from_attributes=True
    )


@router.post("/appeals", response_model=AppealOut, status_code=201)
async def post_appeal(data: AppealIn, rt: RuntimeDep, session: SessionDep, me: Citizen) -> AppealOut:
    """A blocked citizen asks for the account to be reopened (one pending appeal at a time)."""
    return AppealOut.model_validate(await service.file_appeal(session, rt.bus, me.user_id, data.text))


@router.get("/appeals", response_model=list[AppealOut])
async def get_appeals(
    session: SessionDep,
    _: Dispatcher,
    status: Literal["pending", "upheld", "granted"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AppealOut]:
    """Appeals, oldest first (``status=pending`` is the review queue)."""
    return [AppealOut.model_validate(a) for a in await service.list_appeals(session, status, limit)]


@router.post("/appeals/{appeal_id}/decide", response_model=AppealOut)
async def decide_appeal(
    appeal_id: Id, data: DecisionIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> AppealOut:
    """``grant`` reopens the account and clears its strikes; ``uphold`` keeps it blocked."""
    appeal = await service.decide_appeal(session, rt.bus, appeal_id, data.decision, data.note, me.user_id)
    return AppealOut.model_validate(appeal)


# -- Open311 GeoReport v2: the service catalogue ----------------------------------------------------------

open311_router = APIRouter(prefix=PREFIX, tags=["open311"], responses=OPEN311_ERRORS)


@open311_router.get("/services.json")
async def open311_services(session: SessionDep, jurisdiction_id: str | None = None, lang: Lang = "id") -> Any:
    """Every service (= report category) a request can be filed under."""
    if jurisdiction_id is not None and jurisdiction_id not in packs.available():
        return error_response(404, f"unknown jurisdiction_id {jurisdiction_id!r}")
    return packs.open311_services(tuple(await repo.catalogue(session)), lang)


@open311_router.get("/services/{service_code}.json")
async def open311_service_definition(
    service_code: str, session: SessionDep, jurisdiction_id: str | None = None, lang: Lang = "id"
) -> Any:
    """The extra attributes a request of this service may carry."""
    if jurisdiction_id is not None and jurisdiction_id not in packs.available():
        return error_response(404, f"unknown jurisdiction_id {jurisdiction_id!r}")
    found = next((c for c in await repo.catalogue(session) if c.code == service_code), None)
    if found is None:
        return error_response(404, f"unknown service_code {service_code!r}")
    return packs.open311_definition(found, lang)
