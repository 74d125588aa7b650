"""H3 helpers, the cell-radius lemma and the provable disks built on it."""

from __future__ import annotations

import math

import h3
import pytest
from h3.api import basic_int as h3i
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from jogo_dispatch.geo.cells import (
    RES_COARSE,
    RES_FINE,
    cell_boundary,
    cell_center,
    cell_int,
    cell_radius_m,
    cells_for_point,
    disk_covering_m,
    disk_walk,
    ring_cells,
)

GEOD = Geod(ellps="WGS84")

lats = st.floats(min_value=-90.0, max_value=90.0, allow_nan=False)
lons = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)


def _offset(lat: float, lon: float, azimuth: float, dist_m: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, dist_m)
    return float(lat2), float(lon2)


@st.composite
def tricky_points(draw: st.DrawFn, res: int) -> tuple[float, float]:
    """Anywhere, or close to the places where H3 is least regular."""
    kind = draw(st.sampled_from(["anywhere", "pentagon", "antimeridian", "polar", "malang"]))
    if kind == "anywhere":
        return draw(lats), draw(lons)
    if kind == "pentagon":
        base = cell_center(draw(st.sampled_from(sorted(h3i.get_pentagons(res)))))
    elif kind == "antimeridian":
        base = (draw(st.floats(-70, 70)), draw(st.sampled_from([179.999, -179.999])))
    elif kind == "polar":
        base = (draw(st.sampled_from([89.9, -89.9, 85.0, -85.0])), draw(st.floats(-180, 180)))
    else:
        base = (-7.97, 112.63)
    spread = 8 * h3i.average_hexagon_edge_length(res, "m")
    return _offset(*base, draw(st.floats(-180, 180)), draw(st.floats(0, spread)))


# -- plain helpers -------------------------------------------------------------------------------


def test_resolution_constants() -> None:
    assert (RES_FINE, RES_COARSE) == (9, 7)


@settings(max_examples=200, deadline=None)
@given(lats, lons, st.integers(0, 15))
def test_cell_int_is_h3_v4_string_cell_as_int(lat: float, lon: float, res: int) -> None:
    cell = cell_int(lat, lon, res)
    assert cell == h3.str_to_int(h3.latlng_to_cell(lat, lon, res))
    assert h3i.get_resolution(cell) == res
    assert 0 < cell < 2**63  # fits a signed BIGINT


@settings(max_examples=100, deadline=None)
@given(lats, lons)
def test_cells_for_point(lat: float, lon: float) -> None:
    fine, coarse = cells_for_point(lat, lon)
    assert fine == cell_int(lat, lon, 9) and coarse == cell_int(lat, lon, 7)
    assert h3i.get_resolution(fine) == 9 and h3i.get_resolution(coarse) == 7


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (0.0, 180.5), (math.nan, 0.0), (0.0, math.inf)])
def test_invalid_positions_rejected(lat: float, lon: float) -> None:
    with pytest.raises(ValueError):
        cell_int(lat, lon, 9)
    with pytest.raises(ValueError):
        disk_covering_m(lat, lon, 10.0)


def test_invalid_resolution_and_radius_rejected() -> None:
    with pytest.raises(ValueError):
        cell_int(0.0, 0.0, 16)
    with pytest.raises(ValueError):
        disk_covering_m(0.0, 0.0, -1.0)
    with pytest.raises(ValueError):
        ring_cells(cell_int(0.0, 0.0, 9), -1)


def test_ring_cells_sizes_membership_and_pentagons() -> None:
    cell = cell_int(-7.97, 112.63, 9)
    for k in range(4):
        disk = ring_cells(cell, k)
        assert len(disk) == 1 + 3 * k * (k + 1)
        assert cell in disk and disk == sorted(disk)
        assert set(disk) == set(h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(cell), k))
        assert all(h3i.grid_distance(cell, c) <= k for c in disk)
    pentagon = sorted(h3i.get_pentagons(9))[0]
    assert len(ring_cells(pentagon, 1)) == 6  # a pentagon has five neighbours


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(5, 11))
def test_centre_and_boundary_describe_the_cell(data: st.DataObject, res: int) -> None:
    lat, lon = data.draw(tricky_points(res))
    cell = cell_int(lat, lon, res)
    clat, clon = cell_center(cell)
    assert cell_int(clat, clon, res) == cell
    boundary = cell_boundary(cell)
    assert len(boundary) >= (5 if h3i.is_pentagon(cell) else 6)
    assert all(isinstance(v, tuple) and len(v) == 2 for v in boundary)
    radius = cell_radius_m(cell)
    edge = h3i.average_hexagon_edge_length(res, "m")
    assert 0.5 * edge < radius < 2.5 * edge
    for vlat, vlon in boundary:
        assert GEOD.inv(clon, clat, vlon, vlat)[2] <= radius


# -- the lemma everything rests on ---------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.data(), st.integers(5, 11))
def test_no_point_is_farther_from_its_cell_centre_than_the_radius(data: st.DataObject, res: int) -> None:
    lat, lon = data.draw(tricky_points(res))
    cell = cell_int(lat, lon, res)
    clat, clon = cell_center(cell)
    assert GEOD.inv(clon, clat, lon, lat)[2] <= cell_radius_m(cell)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(6, 10), st.integers(0, 4))
def test_disk_walk_bound_holds_for_points_outside_the_disk(data: st.DataObject, res: int, j: int) -> None:
    lat, lon = data.draw(tricky_points(res))
    walk = disk_walk(cell_int(lat, lon, res))
    edge = h3i.average_hexagon_edge_length(res, "m")
    azimuth = data.draw(st.floats(-180, 180))
    plat, plon = _offset(walk.lat, walk.lon, azimuth, data.draw(st.floats(0, 12 * edge)))
    inside = set(walk.cells_within(j))
    if cell_int(plat, plon, res) not in inside:
        assert GEOD.inv(walk.lon, walk.lat, plon, plat)[2] >= walk.bound(j)
    # and the bound is not vacuous: it grows by roughly an edge length per ring
    assert walk.bound(j + 2) > walk.bound(j) + edge


def test_disk_walk_rings_match_grid_disk_around_pentagons() -> None:
    for res in (7, 9):
        pentagon = sorted(h3i.get_pentagons(res))[5]
        neighbour = next(c for c in h3i.grid_ring(pentagon, 2))
        for origin in (pentagon, neighbour):
            walk = disk_walk(origin)
            walk.extend(5)
            for j in range(1, 6):
                expected = set(h3i.grid_disk(origin, j)) - set(h3i.grid_disk(origin, j - 1))
                assert set(walk.rings[j]) == expected
                assert walk.disk_sizes[j] == len(h3i.grid_disk(origin, j))
            assert all(b1 <= b2 for b1, b2 in zip(walk.bounds, walk.bounds[1:], strict=False))


# -- disk_covering_m -----------------------------------------------------------------------------


@settings(max_examples=250, deadline=None)
@given(
    st.data(),
    st.integers(6, 10),
    st.floats(0.0, 1.0),
    # (fraction of radius, azimuth): fraction 1.0 is frequent, since a miss would show at the rim
    st.lists(
        st.tuples(st.one_of(st.just(1.0), st.floats(0.0, 1.0)), st.floats(-180, 180)),
        min_size=1,
        max_size=30,
    ),
)
def test_disk_covering_has_no_false_negatives(
    data: st.DataObject, res: int, radius_edges: float, probes: list[tuple[float, float]]
) -> None:
    lat, lon = data.draw(tricky_points(res))
    edge = h3i.average_hexagon_edge_length(res, "m")
    radius = radius_edges * 6 * edge
    cover = disk_covering_m(lat, lon, radius, res)
    assert cover == sorted(set(cover))
    assert cell_int(lat, lon, res) in cover
    for fraction, azimuth in probes:
        plat, plon = _offset(lat, lon, azimuth, radius * fraction)
        if GEOD.inv(lon, lat, plon, plat)[2] <= radius:  # rounding can land a rim probe just outside
            assert cell_int(plat, plon, res) in cover


@pytest.mark.parametrize(("res", "radius"), [(9, 0.0), (9, 150.0), (9, 1000.0), (8, 3000.0), (10, 300.0)])
def test_disk_covering_is_not_wasteful(res: int, radius: float) -> None:
    cover = disk_covering_m(-7.97, 112.63, radius, res)
    # Cells that can overlap the disc: about pi (r + e)^2 / cell area. Conservative rim is fine,
    # but the covering must stay within a small factor of that, or duplicate checks get slow.
    edge = h3i.average_hexagon_edge_length(res, "m")
    area = h3i.average_hexagon_area(res, "m^2")
    ideal = math.pi * (radius + edge) ** 2 / area
    assert len(cover) <= 2 * ideal + 3


def test_disk_covering_radius_zero_is_the_cell_and_exact_cell_points_are_covered() -> None:
    lat, lon = -7.9666, 112.6326
    assert cell_int(lat, lon, 9) in disk_covering_m(lat, lon, 0.0)
    # A 50 m disc around a point on a cell corner must include every cell meeting at that corner.
    cell = cell_int(lat, lon, 9)
    vlat, vlon = cell_boundary(cell)[0]
    cover = disk_covering_m(vlat, vlon, 50.0)
    for az in range(0, 360, 30):
        plat, plon = _offset(vlat, vlon, az, 20.0)
        assert cell_int(plat, plon, 9) in cover


def test_disk_covering_refuses_absurd_disks() -> None:
    with pytest.raises(ValueError, match="coarser"):
        disk_covering_m(0.0, 0.0, 200_000.0, 12)


def test_disk_covering_whole_globe_at_res_0() -> None:
    cover = disk_covering_m(10.0, 10.0, 30_000_000.0, 0)
    assert len(cover) == 122  # every res-0 cell, and the walk stops once the disk is the globe
