"""Distances: exact geodesic, and the spherical bounds the index's pruning relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from jogo_dispatch.geo.distance import (
    SPHERE_HI,
    SPHERE_LO,
    chord2_to_lower_m,
    chord2_to_upper_m,
    geodesic_m,
    geodesic_many_m,
    haversine_m,
    haversine_pairs_m,
    lower_m_to_chord2,
    unit_vector,
)

REFERENCE = Geod(ellps="WGS84")  # an independent instance, not the module's

lats = st.floats(min_value=-90.0, max_value=90.0, allow_nan=False)
lons = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)


def _reference_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(REFERENCE.inv(lon1, lat1, lon2, lat2)[2])


def _chord2(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    a = unit_vector(lat1, lon1)
    b = unit_vector(lat2, lon2)
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))


def test_flinders_peak_to_buninyong_matches_published_value() -> None:
    # Vincenty's (1975) classic test line on the GRS80/WGS84 ellipsoid: 54 972.271 m.
    lat1 = -(37 + 57 / 60 + 3.72030 / 3600)
    lon1 = 144 + 25 / 60 + 29.52440 / 3600
    lat2 = -(37 + 39 / 60 + 10.15610 / 3600)
    lon2 = 143 + 55 / 60 + 35.38390 / 3600
    assert geodesic_m(lat1, lon1, lat2, lon2) == pytest.approx(54972.271, abs=0.01)


def test_known_malang_distance_and_symmetry() -> None:
    # Alun-alun Malang to Stasiun Malang Kota Baru, roughly 700 m apart.
    d = geodesic_m(-7.9826, 112.6308, -7.9772, 112.6370)
    assert 800 < d < 950
    assert geodesic_m(-7.9772, 112.6370, -7.9826, 112.6308) == pytest.approx(d, rel=1e-12)
    assert geodesic_m(-7.9826, 112.6308, -7.9826, 112.6308) == 0.0


def test_quarter_meridian() -> None:
    # Equator to pole along a meridian: 10 001 965.729 m on WGS84.
    assert geodesic_m(0.0, 0.0, 90.0, 0.0) == pytest.approx(10001965.729, abs=0.01)


@settings(max_examples=300, deadline=None)
@given(lats, lons, lats, lons)
def test_geodesic_agrees_with_pyproj(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    ref = _reference_m(lat1, lon1, lat2, lon2)
    assert geodesic_m(lat1, lon1, lat2, lon2) == pytest.approx(ref, rel=1e-3, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(lats, lons, st.lists(st.tuples(lats, lons), min_size=0, max_size=40))
def test_geodesic_many_is_elementwise_identical(
    lat: float, lon: float, pts: list[tuple[float, float]]
) -> None:
    arr_lat = np.array([p[0] for p in pts], dtype=np.float64)
    arr_lon = np.array([p[1] for p in pts], dtype=np.float64)
    many = geodesic_many_m(lat, lon, arr_lat, arr_lon)
    assert many.shape == (len(pts),)
    for i, (plat, plon) in enumerate(pts):
        # Bit-for-bit: the index ranks with one and the reference with the other.
        assert many[i] == geodesic_m(lat, lon, plat, plon)
        assert many[i] == pytest.approx(_reference_m(lat, lon, plat, plon), rel=1e-3, abs=1e-6)


def test_geodesic_many_keeps_shape_and_rejects_mismatch() -> None:
    grid_lat = np.full((2, 3), -7.95)
    grid_lon = np.linspace(112.6, 112.7, 6).reshape(2, 3)
    out = geodesic_many_m(-7.95, 112.6, grid_lat, grid_lon)
    assert out.shape == (2, 3)
    assert out[0, 0] == 0.0 and np.all(np.diff(out.ravel()) > 0)
    with pytest.raises(ValueError):
        geodesic_many_m(0.0, 0.0, np.zeros(3), np.zeros(4))


@settings(max_examples=400, deadline=None)
@given(
    lats,
    lons,
    st.one_of(
        st.tuples(lats, lons),
        # short hops, where rounding matters most
        st.tuples(st.floats(-1e-3, 1e-3), st.floats(-1e-3, 1e-3)).map(lambda d: (d[0], d[1], "delta")),
    ),
)
def test_spherical_bounds_bracket_the_geodesic(lat: float, lon: float, other: tuple) -> None:  # type: ignore[type-arg]
    if len(other) == 3:
        lat2 = min(90.0, max(-90.0, lat + other[0]))
        lon2 = min(180.0, max(-180.0, lon + other[1]))
    else:
        lat2, lon2 = other
    exact = _reference_m(lat, lon, lat2, lon2)
    hav = haversine_m(lat, lon, lat2, lon2)
    if hav > 19_000_000:
        return  # near-antipodal: the geodesic solver itself is ill-conditioned there
    assert SPHERE_LO * hav - 1e-6 <= exact <= SPHERE_HI * hav + 1e-6
    c2 = _chord2(lat, lon, lat2, lon2)
    assert chord2_to_lower_m(c2) <= exact + 1e-9
    assert exact <= chord2_to_upper_m(c2) + 1e-9
    # lower_m_to_chord2 is the inverse used to prune: a point exactly `exact` away is never pruned
    # from a search of radius `exact`.
    assert c2 <= lower_m_to_chord2(exact)


def test_spherical_ratio_constants_are_tight_enough_to_matter() -> None:
    # The bracket must be narrow (it decides how many exact solves survive pruning) and must
    # contain the extreme ratios, found along the equator (east-west vs north-south) and at a pole.
    assert 0.994 < SPHERE_LO < 0.9945 and 1.0044 < SPHERE_HI < 1.005
    ns = _reference_m(-0.05, 10.0, 0.05, 10.0) / haversine_m(-0.05, 10.0, 0.05, 10.0)
    polar = _reference_m(89.95, 0.0, 89.95, 180.0) / haversine_m(89.95, 0.0, 89.95, 180.0)
    assert SPHERE_LO <= ns < SPHERE_LO + 1e-4
    assert SPHERE_HI - 1e-4 < polar <= SPHERE_HI


def test_haversine_pairs_matches_scalar() -> None:
    a = haversine_pairs_m([-7.9, 10.0], [112.6, -170.0], [-8.0, 10.5], [112.7, 179.0])
    assert a[0] == pytest.approx(haversine_m(-7.9, 112.6, -8.0, 112.7), rel=1e-12)
    assert a[1] == pytest.approx(haversine_m(10.0, -170.0, 10.5, 179.0), rel=1e-12)
    # across the antimeridian the short way round, not 349 degrees
    assert a[1] < 1_300_000


def test_lower_m_to_chord2_saturates() -> None:
    assert lower_m_to_chord2(math.inf) == math.inf
    assert lower_m_to_chord2(30_000_000.0) == math.inf
    assert lower_m_to_chord2(0.0) > 0.0
