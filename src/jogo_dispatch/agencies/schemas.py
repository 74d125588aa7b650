from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jogo_dispatch.agencies.routing import RoutingDecision, Target

Role = Literal["responsible", "always_notify", "hospital"]
Code = Annotated[str, Field(min_length=1, max_length=64)]


class AgencyOut(BaseModel):
    id: int
    region: str
    code: str
    name: str
    kind: str
    lat: float | None
    lon: float | None
    phone: str | None
    address: str | None
    delivery: str
    webhook_url: str | None
    active: bool
    approximate: bool
    source_note: str | None


class RuleIn(BaseModel):
    """``agency_code``: an agency of the region, ``@sector`` (the police agency of the sector around the
    point) or, for role ``hospital``, ``@nearest`` (the nearest hospitals)."""

    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(None, max_length=32, description="default: the deployment's region")
    category: Code
    agency_code: Code
    role: Role
    sector_code: str | None = Field(
        None, min_length=1, max_length=64, description="only inside this sector; null = the whole region"
    )
    priority: int = Field(100, ge=0, le=10_000, description="lower first")
    active: bool = True


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    region: str
    category: str
    agency_code: str
    role: Role
    sector_code: str | None
    priority: int
    active: bool
    created_at: datetime
    updated_at: datetime


class SectorOut(BaseModel):
    id: int | None
    code: str
    name: str
    police_agency: str | None
    inside: bool
    distance_m: float


class TargetOut(BaseModel):
    agency_id: int | None
    code: str
    name: str
    kind: str
    phone: str | None
    delivery: str
    lat: float | None
    lon: float | None
    distance_m: float | None
    rule_id: int | None

    @classmethod
    def of(cls, t: Target) -> TargetOut:
        a = t.agency
        return cls(
            agency_id=a.id,
            code=a.code,
            name=a.name,
            kind=a.kind,
            phone=a.phone,
            delivery=a.delivery,
            lat=a.lat,
            lon=a.lon,
            distance_m=t.distance_m,
            rule_id=t.rule_id,
        )


class RouteOut(BaseModel):
    region: str
    category: str
    lat: float
    lon: float
    injured: bool
    sector: SectorOut | None
    responsible: list[TargetOut]
    always_notify: list[TargetOut]
    hospitals: list[TargetOut]
    reasons: list[str]

    @classmethod
    def of(cls, d: RoutingDecision) -> RouteOut:
        sector = None
        if d.sector is not None:
            s = d.sector.sector
            sector = SectorOut(
                id=s.id,
                code=s.code,
                name=s.name,
                police_agency=s.police_agency,
                inside=d.sector.inside,
                distance_m=d.sector.distance_m,
            )
        return cls(
            region=d.region,
            category=d.category,
            lat=d.lat,
            lon=d.lon,
            injured=d.injured,
            sector=sector,
            responsible=[TargetOut.of(t) for t in d.responsible],
            always_notify=[TargetOut.of(t) for t in d.always_notify],
            hospitals=[TargetOut.of(t) for t in d.hospitals],
            reasons=d.reasons,
        )


class CategoryOut(BaseModel):
    code: str
    name_id: str
    name_en: str
    group: str
    description_id: str
    description_en: str
    default_priority: int = Field(
        ge=1, le=5, description="the priority an incident of this category gets unless set (1 = most urgent)"
    )


Number = int | float  # as PostGIS wrote it: an integral coordinate stays an integer in the JSON


class MultiPolygonOut(BaseModel):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[list[Number]]]]


class SectorPropertiesOut(BaseModel):
    code: str
    name: str
    police_agency: str | None
    region: str
    approximate: bool
    source_note: str | None


class SectorFeatureOut(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: MultiPolygonOut
    properties: SectorPropertiesOut


class SectorCollectionOut(BaseModel):
    """GeoJSON FeatureCollection of police sectors."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[SectorFeatureOut]

    @classmethod
    def of(cls, rows: Iterable[Any], region: str) -> SectorCollectionOut:
        """From ``repository.sector_shapes`` rows."""
        return cls(
            features=[
                SectorFeatureOut(
                    id=r.id,
                    geometry=MultiPolygonOut.model_validate_json(r.geometry),
                    properties=SectorPropertiesOut(
                        code=r.code,
                        name=r.name,
                        police_agency=r.police_agency,
                        region=region,
                        approximate=r.approximate,
                        source_note=r.source_note,
                    ),
                )
                for r in rows
            ]
        )
