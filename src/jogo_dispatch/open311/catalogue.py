"""Open311 GeoReport v2 service catalogue: every report category is a service (service_code = category
code), its Open311 metadata (keywords, extra attributes) read from the category file of the region packs."""

from __future__ import annotations

import functools
import json

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies import repository as agencies_repo
from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.agencies.routing import Category
from jogo_dispatch.errors import NotFound
from jogo_dispatch.open311.schemas import (
    DiscoveryEndpointOut,
    DiscoveryOut,
    ServiceAttributeOut,
    ServiceDefinitionOut,
    ServiceOut,
)
from jogo_dispatch.settings import Settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When what the endpoint serves last changed (XML, FixMyStreet's updates, address-only requests).
CHANGESET = "2026-12-03T00:00:00Z"
FORMATS = ["text/xml", "application/json"]


def known_jurisdiction(jurisdiction_id: str) -> bool:
    """A jurisdiction_id is a region with a pack."""
    return jurisdiction_id in packs.available()


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    if jurisdiction_id and not known_jurisdiction(jurisdiction_id):
        raise NotFound(f"jurisdiction_id {jurisdiction_id!r} not found", code="jurisdiction_not_found")


@functools.cache
def centre_of(region: str) -> tuple[float, float]:
    """(lat, lon) of the region's centre as its pack gives it: where a request filed with an address only
    stands until a dispatcher places it."""
    data = json.loads((packs.PACK_DIR / f"{region}.json").read_text(encoding="utf-8"))
    return float(data["centre"]["lat"]), float(data["centre"]["lon"])


async def services_of(session: AsyncSession) -> tuple[Category, ...]:
    """The active categories of the catalogue table, with their Open311 metadata."""
    return tuple(await agencies_repo.catalogue(session))


async def service_by_code(session: AsyncSession, code: str) -> Category | None:
    return next((c for c in await services_of(session) if c.code == code), None)


def _text(c: Category, field: str, lang: str) -> str:
    return str(getattr(c, f"{field}_{'en' if lang == 'en' else 'id'}"))


def open311_services(cats: tuple[Category, ...], lang: str = "id") -> list[ServiceOut]:
    """``GET services.json``: one entry per category (service_code = category code)."""
    return [
        ServiceOut(
            service_code=c.code,
            service_name=_text(c, "name", lang),
            description=_text(c, "description", lang),
            metadata=bool(c.attributes),
            type="realtime",
            keywords=", ".join(c.keywords),
            group=c.group,
        )
        for c in cats
    ]


def open311_definition(c: Category, lang: str = "id") -> ServiceDefinitionOut:
    """``GET services/{service_code}.json``: the extra attributes a request of this service may carry."""
    suffix = "en" if lang == "en" else "id"
    return ServiceDefinitionOut(
        service_code=c.code,
        attributes=[
            ServiceAttributeOut(
                variable=True,
                code=a["code"],
                datatype=a["datatype"],
                required=bool(a.get("required", False)),
                datatype_description=None,
                order=order,
                description=a[f"description_{suffix}"],
                values=[{"key": v["key"], "name": v[f"name_{suffix}"]} for v in a.get("values", ())],
            )
            for order, a in enumerate(c.attributes, start=1)
        ],
    )


def discovery(endpoint_url: str, settings: Settings) -> DiscoveryOut:
    """GeoReport's service discovery document: our one endpoint, its formats and the spec."""
    return DiscoveryOut(
        changeset=CHANGESET,
        contact=f"{settings.open311_agency_name}: ask the command centre's administrators.",
        key_service="API keys are issued by the command centre's administrators (POST /api/v1/api-keys).",
        endpoints=[
            DiscoveryEndpointOut(
                specification=SPECIFICATION,
                url=endpoint_url,
                changeset=CHANGESET,
                type="production" if settings.env == "production" else "test",
                formats=list(FORMATS),
            )
        ],
    )
