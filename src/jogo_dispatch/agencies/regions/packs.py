"""Region packs: the data files next to this module, read into ``agencies.routing.Pack``.

``<region>.json`` holds a region's police sectors (a GeoJSON FeatureCollection of MultiPolygons), its
agencies and hospitals, and its routing rules; ``categories.json`` the report categories every region shares
(their codes are also the Open311 ``service_code``: open311.catalogue serves them). Coordinates that are approximations say so on every
feature (``"approximate": true`` and a ``source_note``). ``jogo-dispatch seed --region R`` loads a pack into
the database, where admins then edit the rules.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from shapely.geometry import shape

from jogo_dispatch.agencies.routing import (
    Agency,
    Category,
    Pack,
    Rule,
    Sector,
    as_multipolygon,
    pack_problems,
)

PACK_DIR = Path(__file__).resolve().parent
CATEGORIES_FILE = "categories.json"


class PackError(ValueError):
    pass


def available() -> list[str]:
    return sorted(p.stem for p in PACK_DIR.glob("*.json") if p.name != CATEGORIES_FILE)


@functools.cache
def categories() -> tuple[Category, ...]:
    data = json.loads((PACK_DIR / CATEGORIES_FILE).read_text(encoding="utf-8"))
    return tuple(
        Category(
            code=c["code"],
            group=c["group"],
            name_id=c.get("name_id", ""),
            name_en=c.get("name_en", ""),
            default_priority=c.get("default_priority"),
            description_id=c.get("description_id", ""),
            description_en=c.get("description_en", ""),
            keywords=tuple(c.get("keywords", ())),
            attributes=tuple(c.get("attributes", ())),
        )
        for c in data["categories"]
    )


@functools.cache
def load(region: str) -> Pack:
    """The pack of ``region`` as shipped (cached: packs are immutable). Raises PackError if it is unknown
    or broken."""
    if region not in available():
        raise PackError(f"no region pack {region!r}; available: {', '.join(available())}")
    pack = parse(json.loads((PACK_DIR / f"{region}.json").read_text(encoding="utf-8")))
    problems = pack_problems(pack)
    if problems:
        raise PackError(f"region pack {region} is broken: " + "; ".join(problems))
    return pack


def parse(data: dict[str, Any]) -> Pack:
    region = data["region"]
    sectors = []
    for feature in data["sectors"]["features"]:
        props = feature["properties"]
        geom = as_multipolygon(shape(feature["geometry"]))
        if geom is None:
            raise PackError(f"sector {props.get('code')}: geometry must be a (Multi)Polygon")
        sectors.append(
            Sector(
                code=props["code"],
                name=props["name"],
                police_agency=props.get("police_agency"),
                geometry=geom,
                approximate=bool(props.get("approximate", False)),
                source_note=props.get("source_note"),
            )
        )
    agencies = [
        Agency(
            code=a["code"],
            name=a["name"],
            kind=a["kind"],
            lat=a.get("lat"),
            lon=a.get("lon"),
            phone=a.get("phone"),
            address=a.get("address"),
            delivery=a.get("delivery", "inbox"),
            webhook_url=a.get("webhook_url"),
            active=a.get("active", True),
            approximate=bool(a.get("approximate", False)),
            source_note=a.get("source_note"),
        )
        for a in data["agencies"]
    ]
    rules = [
        Rule(
            category=r["category"],
            agency=r["agency"],
            role=r["role"],
            sector=r.get("sector"),
            priority=int(r.get("priority", 100)),
            active=r.get("active", True),
        )
        for r in data["rules"]
    ]
    return Pack(
        region,
        sectors,
        agencies,
        rules,
        categories(),
        name=data.get("name"),
        source_note=data.get("source_note"),
    )
