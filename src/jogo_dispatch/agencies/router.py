from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from jogo_dispatch.agencies import repository as repo
from jogo_dispatch.agencies import service
from jogo_dispatch.agencies.schemas import (
    AgencyOut,
    CategoryOut,
    RouteOut,
    RuleIn,
    RuleOut,
    SectorCollectionOut,
)
from jogo_dispatch.deps import Admin, Dispatcher, RuntimeDep, SessionDep, Watcher
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["agencies"])
Region = Annotated[str | None, Query(max_length=32, description="default: the deployment's region")]


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


@router.get("/police-sectors", response_model=SectorCollectionOut)
async def get_police_sectors(
    rt: RuntimeDep, session: SessionDep, _: Watcher, region: Region = None
) -> SectorCollectionOut:
    """GeoJSON FeatureCollection of the region's police sectors (jurisdiction MultiPolygons)."""
    region = region or rt.settings.region
    return SectorCollectionOut.of(await repo.sector_shapes(session, region), region)


@router.get("/categories", response_model=list[CategoryOut])
async def get_categories(session: SessionDep) -> list[CategoryOut]:
    """The report categories citizens pick from (public), with the priority their incidents get."""
    return [
        CategoryOut(
            code=c.code,
            name_id=c.name_id,
            name_en=c.name_en,
            group=c.group,
            description_id=c.description_id,
            description_en=c.description_en,
            default_priority=c.default_priority,
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
