"""Queries of the agencies domain: sectors, agencies, rules and the category catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import shapely
from geoalchemy2 import Geography, Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import Row, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies import routing
from jogo_dispatch.agencies.models import Agency, PoliceSector, RoutingRule
from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.reports.models import Category as CatalogueRow

Counts = tuple[int, int]

# -- reading a region ----------------------------------------------------------------------------------------


def _outline(code: str, wkb: bytes) -> MultiPolygon:
    geom = routing.as_multipolygon(shapely.from_wkb(wkb))
    if geom is None:  # the column is MULTIPOLYGON: only a broken database gets here
        raise ValueError(f"police sector {code}: stored geometry is not a MultiPolygon")
    return geom


async def sectors(session: AsyncSession, region: str) -> list[routing.Sector]:
    rows = await session.execute(
        select(
            PoliceSector.id,
            PoliceSector.code,
            PoliceSector.name,
            PoliceSector.police_agency,
            func.ST_AsBinary(PoliceSector.geom).label("wkb"),
            PoliceSector.approximate,
            PoliceSector.source_note,
        )
        .where(PoliceSector.region == region)
        .order_by(PoliceSector.code)
    )
    return [
        routing.Sector(
            code=r.code,
            name=r.name,
            police_agency=r.police_agency,
            geometry=_outline(r.code, bytes(r.wkb)),
            approximate=r.approximate,
            source_note=r.source_note,
            id=r.id,
        )
        for r in rows
    ]


async def agencies(session: AsyncSession, region: str, kind: str | None = None) -> list[routing.Agency]:
    point = cast(Agency.geog, Geometry)
    q = (
        select(Agency, func.ST_Y(point).label("lat"), func.ST_X(point).label("lon"))
        .where(Agency.region == region)
        .order_by(Agency.kind, Agency.code)
    )
    if kind is not None:
        q = q.where(Agency.kind == kind)
    return [
        routing.Agency(
            code=a.code,
            name=a.name,
            kind=a.kind,
            lat=lat,
            lon=lon,
            phone=a.phone,
            address=a.address,
            delivery=a.delivery,
            webhook_url=a.webhook_url,
            active=a.active,
            approximate=a.approximate,
            source_note=a.source_note,
            id=a.id,
        )
        for a, lat, lon in await session.execute(q)
    ]


async def rules(session: AsyncSession, region: str, category: str | None = None) -> list[RoutingRule]:
    q = select(RoutingRule).where(RoutingRule.region == region)
    if category is not None:
        q = q.where(RoutingRule.category == category)
    return list(
        await session.scalars(
            q.order_by(RoutingRule.category, RoutingRule.role, RoutingRule.priority, RoutingRule.id)
        )
    )


def rule_view(r: RoutingRule) -> routing.Rule:
    return routing.Rule(
        category=r.category,
        agency=r.agency_code,
        role=r.role,
        sector=r.sector_code,
        priority=r.priority,
        active=r.active,
        id=r.id,
    )


async def rule(session: AsyncSession, rule_id: int) -> RoutingRule | None:
    return await session.get(RoutingRule, rule_id)


async def catalogue(session: AsyncSession, *, active_only: bool = True) -> list[routing.Category]:
    """Categories of the catalogue table (what citizens pick from), with their Open311 metadata from the
    category file."""
    meta = {c.code: c for c in packs.categories()}
    q = select(CatalogueRow).order_by(CatalogueRow.sort_order, CatalogueRow.code)
    out = []
    for row in await session.scalars(q.where(CatalogueRow.active) if active_only else q):
        m = meta.get(row.code) or routing.Category(row.code)
        out.append(
            routing.Category(
                code=row.code,
                group=m.group,
                name_id=row.name_id,
                name_en=row.name_en,
                default_priority=row.default_priority,
                description_id=m.description_id or row.name_id,
                description_en=m.description_en or row.name_en,
                keywords=m.keywords,
                attributes=m.attributes,
            )
        )
    return out


async def load_pack(session: AsyncSession, region: str, *, sectors_only: bool = False) -> routing.Pack:
    found = await sectors(session, region)
    if sectors_only:
        return routing.Pack(region, found, (), (), ())
    # Routing knows every category ever offered, inactive ones too: incidents filed before a category was
    # withdrawn must still be forwarded.
    known = {c.code: c for c in packs.categories()}
    known.update({c.code: c for c in await catalogue(session, active_only=False)})
    return routing.Pack(
        region,
        found,
        await agencies(session, region),
        [rule_view(r) for r in await rules(session, region)],
        known.values(),
    )


async def sector_shapes(session: AsyncSession, region: str) -> list[Row[Any]]:
    """The region's sectors with their outline as GeoJSON text (6 decimals)."""
    rows = await session.execute(
        select(
            PoliceSector.id,
            PoliceSector.code,
            PoliceSector.name,
            PoliceSector.police_agency,
            PoliceSector.approximate,
            PoliceSector.source_note,
            func.ST_AsGeoJSON(PoliceSector.geom, 6).label("geometry"),
        )
        .where(PoliceSector.region == region)
        .order_by(PoliceSector.code)
    )
    return list(rows)


# -- loading a region pack (idempotent upserts by code) ------------------------------------------------------


async def _upsert(session: AsyncSession, model: Any, rows: list[dict[str, Any]], key: str) -> Counts:
    """Insert ``rows``, updating those whose unique ``key`` exists; returns (inserted, updated)."""
    if not rows:
        return 0, 0
    stmt = insert(model).values(rows)
    stmt = stmt.on_conflict_do_update(
        constraint=key, set_={**{c: stmt.excluded[c] for c in rows[0]}, "updated_at": func.now()}
    )
    # xmax = 0 marks a row this statement inserted rather than updated.
    flags: list[bool] = list((await session.execute(stmt.returning(literal_column("xmax = 0")))).scalars())
    return sum(flags), len(flags) - sum(flags)


async def upsert_sectors(session: AsyncSession, region: str, items: Sequence[routing.Sector]) -> Counts:
    rows = [
        {
            "region": region,
            "code": s.code,
            "name": s.name,
            "police_agency": s.police_agency,
            "geom": from_shape(s.geometry, srid=4326),
            "approximate": s.approximate,
            "source_note": s.source_note,
        }
        for s in items
    ]
    return await _upsert(session, PoliceSector, rows, "uq_police_sectors_region_code")


def _geog(lat: float | None, lon: float | None) -> Any:
    if lat is None or lon is None:
        return None
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)


async def upsert_agencies(session: AsyncSession, region: str, items: Sequence[routing.Agency]) -> Counts:
    rows = [
        {
            "region": region,
            "code": a.code,
            "name": a.name,
            "kind": a.kind,
            "geog": _geog(a.lat, a.lon),
            "phone": a.phone,
            "address": a.address,
            "delivery": a.delivery,
            "webhook_url": a.webhook_url,
            "active": a.active,
            "approximate": a.approximate,
            "source_note": a.source_note,
        }
        for a in items
    ]
    return await _upsert(session, Agency, rows, "uq_agencies_region_code")


async def upsert_rules(session: AsyncSession, region: str, items: Sequence[routing.Rule]) -> Counts:
    rows = [
        {
            "region": region,
            "category": r.category,
            "agency_code": r.agency,
            "role": r.role,
            "sector_code": r.sector,
            "priority": r.priority,
            "active": r.active,
        }
        for r in items
    ]
    return await _upsert(session, RoutingRule, rows, "uq_routing_rules_key")


async def add_missing_categories(session: AsyncSession, items: Iterable[routing.Category]) -> int:
    """Categories a pack adds to the catalogue; rows that exist are left as they are."""
    rows = [
        {
            "code": c.code,
            "name_id": c.name_id,
            "name_en": c.name_en,
            "default_priority": c.default_priority,
            "sort_order": 100,
        }
        for c in items
        if c.name_id and c.name_en and c.default_priority
    ]
    if not rows:
        return 0
    stmt = insert(CatalogueRow).values(rows).on_conflict_do_nothing(index_elements=["code"])
    return len((await session.execute(stmt.returning(CatalogueRow.code))).all())
