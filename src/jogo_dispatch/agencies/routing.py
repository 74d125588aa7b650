"""Where a report goes: the police sector around the point, the agencies its category is routed to there, and
the nearest hospitals when someone may be hurt.

Pure: no database, no FastAPI. The same ``Pack`` is built from a region pack file (``regions.packs``) or from
the database (``agencies.repository``), so what the API answers is what the tests check against shapely.

Rules are data. A rule says: for reports of ``category`` (optionally only inside sector ``sector``), send to
``agency`` in a ``role``:

* ``responsible``   the agencies that must handle it;
* ``always_notify`` agencies told every time (Jasa Raharja for road crashes, the local Polsek picket);
* ``hospital``      the category needs hospitals: ``@nearest`` = the nearest ones, or a named hospital.

``@sector`` in a responsible/always-notify rule stands for the police agency of the sector around the point.
For a given role, rules bound to the point's sector replace the region-wide ones (a jurisdiction can route a
category differently).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

from jogo_dispatch.geo.distance import geodesic_m, geodesic_many_m

AGENCY_KINDS = ("police_unit", "government", "hospital", "utility", "insurer", "fire")
DELIVERIES = ("inbox", "webhook", "both")
ROLES = ("responsible", "always_notify", "hospital")
SECTOR_POLICE = "@sector"
NEAREST_HOSPITALS = "@nearest"


class UnknownCategory(ValueError):
    pass


def as_multipolygon(geom: shapely.Geometry) -> MultiPolygon | None:
    """A sector's outline as a MultiPolygon (a lone Polygon is wrapped); None for any other geometry."""
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    return geom if isinstance(geom, MultiPolygon) else None


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    group: str = "other"
    name_id: str = ""
    name_en: str = ""
    default_priority: int | None = None
    description_id: str = ""
    description_en: str = ""
    keywords: tuple[str, ...] = ()
    attributes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    kind: str
    lat: float | None = None
    lon: float | None = None
    phone: str | None = None
    address: str | None = None
    delivery: str = "inbox"
    webhook_url: str | None = None
    active: bool = True
    approximate: bool = False
    source_note: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Sector:
    code: str
    name: str
    police_agency: str | None
    geometry: MultiPolygon
    approximate: bool = False
    source_note: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    category: str
    agency: str
    role: str
    sector: str | None = None
    priority: int = 100
    active: bool = True
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SectorHit:
    sector: Sector
    inside: bool
    distance_m: float


@dataclass(frozen=True, slots=True)
class Target:
    agency: Agency
    distance_m: float | None
    rule_id: int | None = None


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    region: str
    category: str
    lat: float
    lon: float
    injured: bool
    sector: SectorHit | None
    responsible: list[Target]
    always_notify: list[Target]
    hospitals: list[Target]
    reasons: list[str]


@functools.cache
def _to_metric(epsg: int) -> Transformer:
    return Transformer.from_crs(4326, epsg, always_xy=True)


def utm_epsg(lat: float, lon: float) -> int:
    """The WGS84 UTM zone of a point (Malang and Cilacap are both in 49S)."""
    zone = min(60, int((lon + 180.0) // 6.0) + 1)
    return (32700 if lat < 0 else 32600) + zone


class Pack:
    """One region's sectors, agencies, rules and categories, with geometry prepared for look-ups."""

    def __init__(
        self,
        region: str,
        sectors: Iterable[Sector],
        agencies: Iterable[Agency],
        rules: Iterable[Rule],
        categories: Iterable[Category],
        *,
        name: str | None = None,
        source_note: str | None = None,
    ) -> None:
        self.region = region
        self.name = name or region
        self.source_note = source_note
        self.sectors: tuple[Sector, ...] = tuple(sorted(sectors, key=lambda s: s.code))
        self.agencies: dict[str, Agency] = {a.code: a for a in agencies}
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.categories: dict[str, Category] = {c.code: c for c in categories}
        self._geoms = [s.geometry for s in self.sectors]
        shapely.prepare(self._geoms)
        self._sector_by_code = {s.code: s for s in self.sectors}
        # Distances to polygons are measured in one UTM zone for the whole region: at city scale its
        # scale error (< 0.04 %) is far below what the approximate boundaries can resolve.
        if self.sectors:
            west, south, east, north = shapely.total_bounds(self._geoms)
            self._metric: Transformer | None = _to_metric(utm_epsg((south + north) / 2, (west + east) / 2))
            self._projected = [shapely.transform(g, self._project_xy) for g in self._geoms]
        else:
            self._metric, self._projected = None, []
        self.hospitals: tuple[Agency, ...] = tuple(
            a
            for a in sorted(self.agencies.values(), key=lambda a: a.code)
            if a.kind == "hospital" and a.active and a.lat is not None and a.lon is not None
        )
        self._h_lats = np.array([h.lat for h in self.hospitals], dtype=np.float64)
        self._h_lons = np.array([h.lon for h in self.hospitals], dtype=np.float64)

    def _project_xy(self, coords: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        assert self._metric is not None
        x, y = self._metric.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def sector(self, code: str) -> Sector | None:
        return self._sector_by_code.get(code)

    # -- where -------------------------------------------------------------------------------------------

    def locate(self, lat: float, lon: float) -> SectorHit | None:
        """The sector whose polygon covers the point (on a shared edge: the lowest code); otherwise the
        nearest sector by distance to its polygon. None only when the pack has no sectors."""
        if not self.sectors:
            return None
        point = Point(lon, lat)
        covering = shapely.covers(self._geoms, point)
        if covering.any():
            return SectorHit(self.sectors[int(np.argmax(covering))], True, 0.0)
        p = shapely.transform(point, self._project_xy)
        distances = shapely.distance(self._projected, p)
        best = int(np.argmin(distances))  # argmin keeps the first (lowest code) on ties
        return SectorHit(self.sectors[best], False, float(distances[best]))

    def nearest_hospitals(self, lat: float, lon: float, n: int) -> list[Target]:
        """The n nearest active hospitals by exact geodesic distance, nearest first (ties: by code)."""
        if n <= 0 or not self.hospitals:
            return []
        d = geodesic_many_m(lat, lon, self._h_lats, self._h_lons)
        order = np.lexsort((np.arange(len(d)), d))[:n]
        return [Target(self.hospitals[i], float(d[i])) for i in order]


def _distance(agency: Agency, lat: float, lon: float) -> float | None:
    if agency.lat is None or agency.lon is None:
        return None
    return geodesic_m(lat, lon, agency.lat, agency.lon)


def rules_in_force(pack: Pack, category: str, role: str, sector: str | None) -> list[Rule]:
    """Active rules of one category and role at a place: the sector's own rules when it has any for the role,
    else the region-wide ones; by priority, then agency code."""
    candidates = [r for r in pack.rules if r.active and r.category == category and r.role == role]
    local = [r for r in candidates if sector is not None and r.sector == sector]
    chosen = local or [r for r in candidates if r.sector is None]
    return sorted(chosen, key=lambda r: (r.priority, r.agency))


def route(
    category: str, lat: float, lon: float, pack: Pack, *, injured: bool = False, hospitals: int = 3
) -> RoutingDecision:
    """The sector around the point, the agencies the category's rules name there (the sector's police when
    none is left), and the ``hospitals`` nearest hospitals when the category calls for them or someone is
    ``injured``; ``reasons`` says why each was chosen or skipped."""
    if category not in pack.categories:
        raise UnknownCategory(category)
    reasons: list[str] = []
    hit = pack.locate(lat, lon)
    sector = hit.sector if hit else None
    if hit is None:
        reasons.append("the region has no police sectors")
    elif hit.inside:
        reasons.append(f"point is inside sector {hit.sector.name} ({hit.sector.code})")
    else:
        reasons.append(
            f"point is outside every sector; nearest is {hit.sector.name} ({hit.sector.code}) "
            f"at {hit.distance_m:.0f} m"
        )
    sector_code = sector.code if sector else None

    def resolve(rule: Rule) -> Agency | None:
        code = rule.agency
        if code == SECTOR_POLICE:
            if sector is None or sector.police_agency is None:
                reasons.append(f"{rule.role} rule {SECTOR_POLICE}: no sector police agency")
                return None
            code = sector.police_agency
        agency = pack.agencies.get(code)
        if agency is None or not agency.active:
            reasons.append(
                f"{rule.role} rule for {category} skipped: agency {code} is "
                f"{'unknown' if agency is None else 'inactive'}"
            )
            return None
        return agency

    picked: dict[str, list[Target]] = {"responsible": [], "always_notify": []}
    seen: set[str] = set()
    for role in ("responsible", "always_notify"):
        for rule in rules_in_force(pack, category, role, sector_code):
            agency = resolve(rule)
            if agency is None or agency.code in seen:
                continue
            seen.add(agency.code)
            picked[role].append(Target(agency, _distance(agency, lat, lon), rule.id))
            scope = f"sector {rule.sector}" if rule.sector else "region-wide"
            reasons.append(
                f"{category} -> {role} {agency.code} ({scope} rule"
                f"{'' if rule.id is None else f' #{rule.id}'}, priority {rule.priority})"
            )
    if not picked["responsible"] and sector is not None and sector.police_agency:
        fallback = pack.agencies.get(sector.police_agency)
        if fallback is not None and fallback.active:
            # Moved up if a rule had it among the notified.
            picked["always_notify"] = [t for t in picked["always_notify"] if t.agency.code != fallback.code]
            picked["responsible"].append(Target(fallback, _distance(fallback, lat, lon)))
            reasons.append(f"no responsible agency for {category}; sent to the sector police {fallback.code}")

    chosen_hospitals = _hospitals(pack, category, lat, lon, sector_code, injured, hospitals, reasons)
    return RoutingDecision(
        pack.region,
        category,
        lat,
        lon,
        injured,
        hit,
        picked["responsible"],
        picked["always_notify"],
        chosen_hospitals,
        reasons,
    )


def _hospitals(
    pack: Pack,
    category: str,
    lat: float,
    lon: float,
    sector: str | None,
    injured: bool,
    n: int,
    reasons: list[str],
) -> list[Target]:
    rules = rules_in_force(pack, category, "hospital", sector)
    want_nearest = injured or any(r.agency == NEAREST_HOSPITALS for r in rules)
    chosen: dict[str, Target] = {}
    if want_nearest:
        for t in pack.nearest_hospitals(lat, lon, n):
            chosen[t.agency.code] = t
        why = "someone is reported injured" if injured else f"{category} may involve injuries"
        reasons.append(f"{len(chosen)} nearest hospital(s): {why}")
    for rule in rules:
        if rule.agency == NEAREST_HOSPITALS or rule.agency in chosen:
            continue
        h = pack.agencies.get(rule.agency)
        if h is None or not h.active or h.kind != "hospital":
            reasons.append(f"hospital rule skipped: {rule.agency} is not an active hospital")
            continue
        chosen[h.code] = Target(h, _distance(h, lat, lon), rule.id)
        reasons.append(f"{category} -> hospital {h.code} (named in a rule)")
    far = math.inf
    return sorted(
        chosen.values(), key=lambda t: (far if t.distance_m is None else t.distance_m, t.agency.code)
    )


# -- checks shared by pack loading and the rules API ----------------------------------------------------


def rule_problem(rule: Rule, pack: Pack) -> str | None:
    """Why ``rule`` cannot work in ``pack`` (None when it can)."""
    if rule.role not in ROLES:
        return f"role must be one of {', '.join(ROLES)}"
    if rule.category not in pack.categories:
        return f"unknown category {rule.category!r}"
    if rule.sector is not None and pack.sector(rule.sector) is None:
        return f"unknown sector {rule.sector!r} in region {pack.region}"
    if rule.role == "hospital":
        if rule.agency == NEAREST_HOSPITALS:
            return None
        agency = pack.agencies.get(rule.agency)
        if agency is None or agency.kind != "hospital":
            return f"a hospital rule names {NEAREST_HOSPITALS} or a hospital of region {pack.region}"
        return None
    if rule.agency == NEAREST_HOSPITALS:
        return f"{NEAREST_HOSPITALS} is only for hospital rules"
    if rule.agency != SECTOR_POLICE and rule.agency not in pack.agencies:
        return f"unknown agency {rule.agency!r} in region {pack.region}"
    return None


def pack_problems(pack: Pack) -> list[str]:
    """Everything wrong with a pack: invalid or overlapping sector polygons, dangling references, kinds."""
    problems: list[str] = []
    for s in pack.sectors:
        if not s.geometry.is_valid:
            problems.append(f"sector {s.code}: invalid polygon ({shapely.is_valid_reason(s.geometry)})")
        if s.police_agency is not None and s.police_agency not in pack.agencies:
            problems.append(f"sector {s.code}: unknown police agency {s.police_agency}")
    problems.extend(_overlaps(pack.sectors))
    for a in pack.agencies.values():
        if a.kind not in AGENCY_KINDS:
            problems.append(f"agency {a.code}: kind must be one of {', '.join(AGENCY_KINDS)}")
        if a.delivery not in DELIVERIES:
            problems.append(f"agency {a.code}: delivery must be one of {', '.join(DELIVERIES)}")
        if a.delivery != "inbox" and not a.webhook_url:
            problems.append(f"agency {a.code}: delivery {a.delivery} needs a webhook_url")
        if a.kind == "hospital" and (a.lat is None or a.lon is None):
            problems.append(f"agency {a.code}: a hospital needs coordinates")
    for i, rule in enumerate(pack.rules):
        why = rule_problem(rule, pack)
        if why:
            problems.append(f"rule {i} ({rule.category} -> {rule.agency}): {why}")
    return problems


def _overlaps(sectors: Sequence[Sector]) -> list[str]:
    # Interiors meeting in two dimensions is an overlap; sharing an edge or a vertex is not.
    return [
        f"sectors {a.code} and {b.code} overlap"
        for i, a in enumerate(sectors)
        for b in sectors[i + 1 :]
        if shapely.relate_pattern(a.geometry, b.geometry, "2********")
    ]
