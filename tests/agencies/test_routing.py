"""routing.route against shapely and pyproj directly: literal places, then properties over random points."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point

from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.agencies.routing import Agency, Pack, Rule, UnknownCategory, route, rule_problem
from jogo_dispatch.geo.distance import geodesic_m

MALANG_PLACES = [
    ("Alun-Alun Merdeka", -7.9826, 112.6308, "KLOJEN"),
    ("Balai Kota / Tugu", -7.9771, 112.6340, "KLOJEN"),
    ("Stadion Gajayana", -7.9754, 112.6245, "KLOJEN"),
    ("Pasar Besar", -7.9881, 112.6320, "KLOJEN"),
    ("Universitas Brawijaya", -7.9524, 112.6144, "LOWOKWARU"),
    ("Unisma, Dinoyo", -7.9367, 112.6077, "LOWOKWARU"),
    ("Tlogomas", -7.9250, 112.6000, "LOWOKWARU"),
    ("Terminal Arjosari", -7.9333, 112.6585, "BLIMBING"),
    ("Polowijen", -7.9250, 112.6480, "BLIMBING"),
    ("Sawojajar", -7.9750, 112.6650, "KEDUNGKANDANG"),
    ("Madyopuro", -7.9660, 112.6720, "KEDUNGKANDANG"),
    ("Tlogowaru", -8.0380, 112.6500, "KEDUNGKANDANG"),
    ("Bandulan", -7.9780, 112.5980, "SUKUN"),
    ("Bandungrejosari", -8.0150, 112.6150, "SUKUN"),
]
CILACAP_PLACES = [
    ("Benteng Pendem", -7.7457, 109.0188, "CILACAP_SELATAN"),
    ("Alun-alun Cilacap", -7.7265, 109.0090, "CILACAP_SELATAN"),
    ("Sidanegara", -7.7050, 109.0150, "CILACAP_TENGAH"),
    ("Gumilir", -7.6800, 109.0350, "CILACAP_UTARA"),
    ("Jeruklegi", -7.6170, 109.0220, "JERUKLEGI"),
    ("Kesugihan", -7.6230, 109.1150, "KESUGIHAN"),
    ("Adipala", -7.6570, 109.1490, "ADIPALA"),
]


def codes(targets):
    return [t.agency.code for t in targets]


@pytest.mark.parametrize(("place", "lat", "lon", "sector"), MALANG_PLACES)
def test_malang_places_fall_in_their_kecamatan(malang, place, lat, lon, sector):
    hit = malang.locate(lat, lon)
    assert hit.sector.code == sector and hit.inside and hit.distance_m == 0
    assert malang.sector(sector).geometry.covers(Point(lon, lat))


@pytest.mark.parametrize(("place", "lat", "lon", "sector"), CILACAP_PLACES)
def test_cilacap_places_fall_in_their_kecamatan(cilacap, place, lat, lon, sector):
    assert cilacap.locate(lat, lon).sector.code == sector


def test_traffic_accident_at_the_alun_alun(malang):
    d = route("traffic_accident", -7.9826, 112.6308, malang)
    assert d.sector.sector.code == "KLOJEN" and d.sector.inside
    assert codes(d.responsible) == ["SATLANTAS"]
    assert codes(d.always_notify) == ["JASA_RAHARJA", "POLSEK_KLOJEN"]
    assert len(d.hospitals) == 3
    # The three nearest of the nine, by exact geodesic distance.
    brute = sorted(malang.hospitals, key=lambda h: geodesic_m(-7.9826, 112.6308, h.lat, h.lon))[:3]
    assert codes(d.hospitals) == [h.code for h in brute]
    assert any("inside sector Klojen" in r for r in d.reasons)
    assert any("nearest hospital" in r for r in d.reasons)


@pytest.mark.parametrize(
    ("category", "responsible", "notify", "hospitals"),
    [
        ("fallen_tree", ["DLH"], [], False),
        ("power_outage", ["PLN"], [], False),
        ("traffic_jam", ["DISHUB", "SATLANTAS"], [], False),
        ("flood_landslide", ["BPBD"], [], False),
        ("road_damage", ["PUPR"], [], False),
        ("public_order", ["SATPOL_PP", "SAMAPTA"], ["POLSEK_LOWOKWARU"], False),
        ("fire", ["DAMKAR"], ["POLSEK_LOWOKWARU"], True),
        ("medical", ["DINKES"], [], True),
        ("crime", ["SATRESKRIM", "POLSEK_LOWOKWARU"], [], False),
        ("water_outage", ["PDAM"], [], False),
        ("other", ["POLSEK_LOWOKWARU"], [], False),
    ],
)
@pytest.mark.parametrize("region", ["malang", "cilacap"])
def test_categories_go_to_their_agencies(region, category, responsible, notify, hospitals):
    pack = packs.load(region)
    lat, lon = (-7.9524, 112.6144) if region == "malang" else (-7.6800, 109.0350)  # UB / Gumilir
    local = "POLSEK_LOWOKWARU" if region == "malang" else "POLSEK_CILACAP_UTARA"
    d = route(category, lat, lon, pack)
    assert codes(d.responsible) == [local if c == "POLSEK_LOWOKWARU" else c for c in responsible]
    assert codes(d.always_notify) == [local if c == "POLSEK_LOWOKWARU" else c for c in notify]
    assert bool(d.hospitals) is hospitals


def test_injured_flag_adds_hospitals_to_a_crime(malang):
    assert route("crime", -7.9524, 112.6144, malang).hospitals == []
    d = route("crime", -7.9524, 112.6144, malang, injured=True, hospitals=2)
    assert len(d.hospitals) == 2 and d.hospitals[0].distance_m <= d.hospitals[1].distance_m
    assert any("injured" in r for r in d.reasons)


def test_point_outside_every_sector_goes_to_the_nearest(malang):
    # Abdul Rachman Saleh airport, Pakis (Kabupaten Malang), east of the city.
    d = route("crime", -7.9266, 112.7145, malang)
    assert not d.sector.inside and d.sector.distance_m > 1000
    assert d.sector.sector.code in {"BLIMBING", "KEDUNGKANDANG"}
    assert "POLSEK_" + d.sector.sector.code in codes(d.responsible)
    assert any("outside every sector" in r for r in d.reasons)


def with_rules(pack: Pack, rules, agencies=None) -> Pack:
    return Pack(
        pack.region, pack.sectors, agencies or pack.agencies.values(), rules, pack.categories.values()
    )


def test_sector_rules_replace_region_wide_ones_there_only(malang):
    rules = [*malang.rules, Rule("fallen_tree", "PUPR", "responsible", sector="SUKUN", priority=5, id=77)]
    pack = with_rules(malang, rules)
    in_sukun = route("fallen_tree", -7.9780, 112.5980, pack)
    assert codes(in_sukun.responsible) == ["PUPR"] and in_sukun.responsible[0].rule_id == 77
    assert any("sector SUKUN rule #77" in r for r in in_sukun.reasons)
    assert codes(route("fallen_tree", -7.9826, 112.6308, pack).responsible) == ["DLH"]


def test_inactive_rules_and_agencies_are_skipped(malang):
    rules = [dataclasses.replace(r, active=False) if r.agency == "JASA_RAHARJA" else r for r in malang.rules]
    assert "JASA_RAHARJA" not in codes(
        route("traffic_accident", -7.98, 112.63, with_rules(malang, rules)).always_notify
    )
    agencies = [
        dataclasses.replace(a, active=False) if a.code == "DLH" else a for a in malang.agencies.values()
    ]
    d = route("fallen_tree", -7.9826, 112.6308, with_rules(malang, malang.rules, agencies))
    # Nobody responsible is left: the sector's Polsek takes it.
    assert codes(d.responsible) == ["POLSEK_KLOJEN"]
    assert any("DLH is inactive" in r for r in d.reasons) and any(
        "sent to the sector police" in r for r in d.reasons
    )


def test_agency_named_twice_is_listed_once(malang):
    rules = [*malang.rules, Rule("crime", "@sector", "always_notify")]
    d = route("crime", -7.9826, 112.6308, with_rules(malang, rules))
    assert codes(d.responsible) == ["SATRESKRIM", "POLSEK_KLOJEN"] and d.always_notify == []


def test_a_named_hospital_joins_the_nearest_ones(malang):
    rules = [*malang.rules, Rule("fire", "RSI_UNISMA", "hospital")]
    d = route("fire", -8.03, 112.66, with_rules(malang, rules), hospitals=2)
    assert "RSI_UNISMA" in codes(d.hospitals) and len(d.hospitals) == 3
    distances = [t.distance_m for t in d.hospitals]
    assert distances == sorted(distances) and codes(d.hospitals)[-1] == "RSI_UNISMA"


def test_unknown_category(malang):
    with pytest.raises(UnknownCategory):
        route("alien_landing", -7.98, 112.63, malang)


def test_rule_problem(malang):
    assert rule_problem(Rule("fire", "DAMKAR", "responsible"), malang) is None
    assert rule_problem(Rule("fire", "@sector", "always_notify", sector="SUKUN"), malang) is None
    assert rule_problem(Rule("fire", "RSSA", "hospital"), malang) is None
    assert "hospital rule" in rule_problem(Rule("fire", "DAMKAR", "hospital"), malang)
    assert "unknown agency" in rule_problem(Rule("fire", "DAMKAR_X", "responsible"), malang)


# -- properties --------------------------------------------------------------------------------------------


def region_points(pack: Pack, margin: float = 0.06):
    """Points over the sectors' bounding box widened by ~6 km, so some fall outside every sector."""
    w, s, e, n = shapely.total_bounds([x.geometry for x in pack.sectors])
    return st.tuples(st.floats(s - margin, n + margin), st.floats(w - margin, e + margin))


def aeqd_distances(pack: Pack, lat: float, lon: float) -> np.ndarray:
    """Distance from the point to each sector in an azimuthal equidistant projection centred on the point
    (exact geodesic distance from the centre; a projection independent of the one routing uses)."""
    to_aeqd = Transformer.from_crs(4326, f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84", always_xy=True)
    projected = [
        shapely.transform(s.geometry, lambda xy: np.column_stack(to_aeqd.transform(*xy.T)))
        for s in pack.sectors
    ]
    return shapely.distance(projected, Point(0, 0))


PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("region", ["malang", "cilacap"])
def test_chosen_sector_contains_the_point_or_is_the_nearest(region):
    pack = packs.load(region)

    @PROPERTY
    @given(region_points(pack))
    def check(point):
        lat, lon = point
        hit = pack.locate(lat, lon)
        covering = [s.code for s in pack.sectors if s.geometry.covers(Point(lon, lat))]
        if covering:
            assert hit.inside and hit.sector.code == min(covering) and hit.distance_m == 0
            return
        assert not hit.inside
        d = aeqd_distances(pack, lat, lon)
        chosen = [s.code for s in pack.sectors].index(hit.sector.code)
        assert d[chosen] <= d.min() * 1.001 + 1.0
        assert hit.distance_m == pytest.approx(d[chosen], rel=2e-3, abs=1.0)

    check()


@pytest.mark.parametrize("region", ["malang", "cilacap"])
def test_hospitals_are_the_nearest_sorted_by_geodesic_distance(region):
    pack = packs.load(region)

    @PROPERTY
    @given(
        region_points(pack, margin=0.3),
        st.integers(0, 12),
        st.sampled_from(sorted(pack.categories)),
        st.booleans(),
    )
    def check(point, n, category, injured):
        lat, lon = point
        d = route(category, lat, lon, pack, injured=injured, hospitals=n)
        assert d.sector.sector == pack.locate(lat, lon).sector
        if not (injured or category in {"traffic_accident", "fire", "medical"}):
            assert d.hospitals == []
            return
        got = [t.distance_m for t in d.hospitals]
        assert got == sorted(got) and len(got) == min(n, len(pack.hospitals))
        brute = sorted(geodesic_m(lat, lon, h.lat, h.lon) for h in pack.hospitals)[:n]
        assert got == pytest.approx(brute, abs=1e-6)
        for t in d.responsible + d.always_notify:
            assert t.agency.active and t.agency.code in pack.agencies

    check()


def test_agencies_without_coordinates_have_no_distance(malang):
    agencies = [*malang.agencies.values(), Agency("NOWHERE", "Mobile unit", "government")]
    rules = [*malang.rules, Rule("road_damage", "NOWHERE", "always_notify")]
    d = route("road_damage", -7.98, 112.63, with_rules(malang, rules, agencies))
    assert d.always_notify[0].agency.code == "NOWHERE" and d.always_notify[0].distance_m is None
    assert d.responsible[0].distance_m == pytest.approx(
        geodesic_m(-7.98, 112.63, d.responsible[0].agency.lat, d.responsible[0].agency.lon)
    )


def test_sector_police_moves_up_when_nobody_responsible_is_left(malang):
    off = {"SATPOL_PP", "SAMAPTA"}
    agencies = [dataclasses.replace(a, active=a.code not in off) for a in malang.agencies.values()]
    d = route("public_order", -7.9826, 112.6308, with_rules(malang, malang.rules, agencies))
    assert codes(d.responsible) == ["POLSEK_KLOJEN"] and d.always_notify == []
