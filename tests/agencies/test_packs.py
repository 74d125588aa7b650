"""The region packs as shipped: valid, non-overlapping jurisdiction polygons covering the city core, the
agencies the two source systems name, and every approximation labelled as one."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point

from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.agencies.routing import AGENCY_KINDS, Agency, Pack, Rule, Sector, pack_problems
from jogo_dispatch.open311 import catalogue

GEOD = Geod(ellps="WGS84")
AGENCY_CODES = {
    "DLH",
    "PLN",
    "DISHUB",
    "SATPOL_PP",
    "BPBD",
    "PUPR",
    "JASA_RAHARJA",
    "DINKES",
    "DAMKAR",
    "PDAM",
    "SATLANTAS",
    "SATRESKRIM",
    "SAMAPTA",
}


def km2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def disc(lat: float, lon: float, radius_m: float) -> shapely.Geometry:
    """A geodesic disc as a lon/lat polygon (buffered in an azimuthal equidistant projection)."""
    aeqd = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84"
    back = Transformer.from_crs(aeqd, 4326, always_xy=True)
    return shapely.transform(
        Point(0, 0).buffer(radius_m, 64), lambda xy: np.column_stack(back.transform(*xy.T))
    )


def test_both_regions_ship_and_load():
    assert packs.available() == ["cilacap", "malang"]
    for region in packs.available():
        pack = packs.load(region)
        assert pack.region == region and pack_problems(pack) == []


@pytest.mark.parametrize("region", ["malang", "cilacap"])
def test_sector_polygons_are_a_valid_coverage(region):
    pack = packs.load(region)
    geoms = [s.geometry for s in pack.sectors]
    assert all(g.geom_type == "MultiPolygon" and g.is_valid and not g.is_empty for g in geoms)
    # No overlap between any two sectors (interiors never meet), and shared edges match vertex for vertex.
    for i, a in enumerate(geoms):
        for b in geoms[i + 1 :]:
            assert not shapely.relate_pattern(a, b, "2********")
            assert a.intersection(b).area == 0
    assert shapely.coverage_is_valid(geoms)
    # Without holes or gaps between them: their union is a single polygon.
    assert shapely.union_all(geoms).geom_type == "Polygon"


def test_malang_sectors_follow_the_five_kecamatan_and_cover_the_core(malang):
    assert {s.code: s.name for s in malang.sectors} == {
        "KLOJEN": "Klojen",
        "BLIMBING": "Blimbing",
        "LOWOKWARU": "Lowokwaru",
        "SUKUN": "Sukun",
        "KEDUNGKANDANG": "Kedungkandang",
    }
    union = shapely.union_all([s.geometry for s in malang.sectors])
    # Everything within 3 km of the Alun-Alun is inside some sector.
    assert union.covers(disc(-7.9826, 112.6308, 3000))
    # Kota Malang is about 110 km2; the approximate outline stays within a third of that.
    assert 100 < km2(union) < 145
    sizes = {s.code: km2(s.geometry) for s in malang.sectors}
    assert max(sizes, key=sizes.get) == "KEDUNGKANDANG" and min(sizes, key=sizes.get) == "KLOJEN"
    for s in malang.sectors:
        assert s.police_agency == f"POLSEK_{s.code}"
        assert malang.agencies[s.police_agency].kind == "police_unit"


def test_cilacap_sectors_cover_the_town(cilacap):
    assert {"CILACAP_SELATAN", "CILACAP_TENGAH", "CILACAP_UTARA"} <= {s.code for s in cilacap.sectors}
    assert len(cilacap.sectors) >= 5
    union = shapely.union_all([s.geometry for s in cilacap.sectors])
    assert union.covers(disc(-7.7100, 109.0150, 1500))


@pytest.mark.parametrize("region", ["malang", "cilacap"])
def test_agencies_hospitals_and_rules(region):
    pack = packs.load(region)
    codes = set(pack.agencies)
    assert codes >= AGENCY_CODES
    assert {a.kind for a in pack.agencies.values()} == set(AGENCY_KINDS)
    assert pack.agencies["DAMKAR"].kind == "fire" and pack.agencies["JASA_RAHARJA"].kind == "insurer"
    assert pack.agencies["PLN"].kind == "utility"
    union = shapely.union_all([s.geometry for s in pack.sectors])
    for h in pack.hospitals:
        # Within a degree of the sectors: a swapped or mistyped coordinate lands far away.
        assert union.distance(Point(h.lon, h.lat)) < 1.0, h.code
    routed = {r.category for r in pack.rules}
    assert routed == set(pack.categories), "every category has at least one rule"


def test_malang_has_the_nine_integrated_hospitals(malang):
    names = {h.name for h in malang.hospitals}
    assert len(malang.hospitals) == 9
    for expected in (
        "RSUD dr. Saiful Anwar",
        "RS Lavalette",
        "RS Panti Waluya Sawahan",
        "RS Persada Hospital",
        "RSI Aisyiyah Malang",
        "RS Panti Nirmala",
        "RS Hermina Tangkubanprahu",
        "RS Permata Bunda",
        "RSI Unisma",
    ):
        assert expected in names
    union = shapely.union_all([s.geometry for s in malang.sectors])
    assert all(union.covers(Point(h.lon, h.lat)) for h in malang.hospitals)


def test_cilacap_has_rsud_cilacap(cilacap):
    assert "RSUD Cilacap" in {h.name for h in cilacap.hospitals} and len(cilacap.hospitals) >= 5


@pytest.mark.parametrize("region", ["malang", "cilacap"])
def test_every_feature_says_it_is_approximate(region):
    data = json.loads((packs.PACK_DIR / f"{region}.json").read_text())
    assert data["approximate"] is True and data["source_note"]
    for f in data["sectors"]["features"]:
        assert f["properties"]["approximate"] is True and len(f["properties"]["source_note"]) > 40
    for a in data["agencies"]:
        assert a["approximate"] is True and a["source_note"], a["code"]


def test_pack_problems_catches_broken_data(malang):
    klojen = malang.sector("KLOJEN")
    bowtie = shapely.MultiPolygon([shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])])
    broken = Pack(
        "x",
        [klojen, Sector("COPY", "Copy", "NOBODY", klojen.geometry), Sector("BAD", "Bad", None, bowtie)],
        [
            Agency("H", "Hospital without a place", "hospital"),
            Agency("W", "Hook", "government", delivery="webhook"),
            Agency("Q", "Odd", "church"),
        ],
        [
            Rule("fire", "NOWHERE", "responsible"),
            Rule("fire", "W", "hospital"),
            Rule("fire", "W", "boss"),
            Rule("nope", "W", "responsible"),
            Rule("fire", "@nearest", "responsible"),
            Rule("fire", "W", "responsible", sector="ATLANTIS"),
        ],
        malang.categories.values(),
    )
    problems = "\n".join(pack_problems(broken))
    for expected in (
        "sectors COPY and KLOJEN overlap",
        "sector BAD: invalid polygon",
        "unknown police agency NOBODY",
        "H: a hospital needs coordinates",
        "W: delivery webhook needs a webhook_url",
        "Q: kind must be one of",
        "unknown agency 'NOWHERE'",
        "a hospital rule names @nearest",
        "role must be one of",
        "unknown category 'nope'",
        "@nearest is only for hospital rules",
        "unknown sector 'ATLANTIS'",
    ):
        assert expected in problems, expected
    assert "POLSEK_KLOJEN" in problems  # KLOJEN's Polsek is not among this pack's agencies


def test_polygons_in_pack_cover_their_police_stations():
    for region in packs.available():
        pack = packs.load(region)
        for s in pack.sectors:
            station = pack.agencies[s.police_agency]
            assert s.geometry.covers(Point(station.lon, station.lat)), (region, s.code)


def test_unknown_region_is_refused():
    with pytest.raises(packs.PackError, match="available: cilacap, malang"):
        packs.load("atlantis")


def test_open311_catalogue_follows_georeport_v2():
    services = catalogue.open311_services(packs.categories(), "en")
    assert {s["service_code"] for s in services} == {c.code for c in packs.categories()}
    for s in services:
        assert set(s) == {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        }
        assert isinstance(s["service_code"], str) and s["type"] == "realtime"
    crime = next(c for c in packs.categories() if c.code == "crime")
    assert next(s for s in services if s["service_code"] == "crime")["metadata"] is True
    definition = catalogue.open311_definition(crime, "id")
    attr = definition["attributes"][0]
    assert definition["service_code"] == "crime" and attr["code"] == "injured" and attr["order"] == 1
    assert attr["datatype"] == "singlevaluelist" and {v["key"] for v in attr["values"]} == {"yes", "no"}
    assert attr["description"] == "Ada korban luka?"
