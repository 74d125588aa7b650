"""Distances on the WGS84 ellipsoid, plus cheap spherical bounds for pruning.

Exact distances come from pyproj's geodesic solver (Karney's algorithm, nanometre accuracy).
It costs about 1 µs per pair, so hot loops first rank candidates by a spherical chord, which is
a few ns per element in numpy, and only solve the geodesic for the handful that survive. The
spherical figure is turned into a *guaranteed* interval around the geodesic distance with the
ratio bounds below, which is what keeps that pruning exact.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from pyproj import Geod

__all__ = [
    "GEOD",
    "SPHERE_RADIUS_M",
    "SPHERE_LO",
    "SPHERE_HI",
    "geodesic_m",
    "geodesic_many_m",
    "haversine_m",
    "haversine_pairs_m",
    "unit_vector",
    "chord2_to_upper_m",
    "chord2_to_lower_m",
    "lower_m_to_chord2",
]

# Built once: Geod() parses the ellipsoid definition through PROJ, which is far slower than a solve.
GEOD = Geod(ellps="WGS84")

_A = 6378137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)
SPHERE_RADIUS_M = 6371008.8
# The ellipsoid's line element is ds^2 = M^2 dphi^2 + N^2 cos^2(phi) dlambda^2, the sphere's (same
# lat/lon read as spherical coordinates) is R^2 (dphi^2 + cos^2(phi) dlambda^2). M and N both lie in
# [a(1-e^2), a/sqrt(1-e^2)] (M at the equator is the smallest, both at the pole the largest), so
# every curve's length, hence the shortest one, is scaled by a factor inside [M_min/R, N_max/R]:
#   SPHERE_LO * sphere_distance <= geodesic_distance <= SPHERE_HI * sphere_distance.
# Widened by 1e-6 so floating-point rounding never makes the bounds lie.
SPHERE_LO = _A * (1.0 - _E2) / SPHERE_RADIUS_M * (1.0 - 1e-6)
SPHERE_HI = _A / math.sqrt(1.0 - _E2) / SPHERE_RADIUS_M * (1.0 + 1e-6)
# Absolute slack (metres) for rounding in chord arithmetic at tiny separations.
_ABS_SLACK_M = 1e-3


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Exact WGS84 geodesic distance in metres between two points given in degrees."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


def geodesic_many_m(
    lat: float, lon: float, lats: npt.ArrayLike, lons: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Exact WGS84 geodesic distances in metres from one point to each of many points.

    Element ``i`` is bit-for-bit what ``geodesic_m(lat, lon, lats[i], lons[i])`` returns (the same
    solver runs per element), so callers may mix the two and still compare for equality.
    """
    la = np.asarray(lats, dtype=np.float64)
    lo = np.asarray(lons, dtype=np.float64)
    if la.shape != lo.shape:
        raise ValueError(f"lats and lons differ in shape: {la.shape} != {lo.shape}")
    if la.size == 0:
        return np.zeros(la.shape, dtype=np.float64)
    flat_la = np.ascontiguousarray(la.ravel())
    flat_lo = np.ascontiguousarray(lo.ravel())
    _, _, dist = GEOD.inv(
        np.full(flat_la.shape, float(lon)), np.full(flat_la.shape, float(lat)), flat_lo, flat_la
    )
    return np.asarray(dist, dtype=np.float64).reshape(la.shape)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean-radius sphere; within [SPHERE_LO, SPHERE_HI] of geodesic."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2.0) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2.0) ** 2
    )
    return 2.0 * SPHERE_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_pairs_m(
    lats1: npt.ArrayLike, lons1: npt.ArrayLike, lats2: npt.ArrayLike, lons2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Vectorised (broadcasting) :func:`haversine_m`."""
    p1 = np.radians(np.asarray(lats1, dtype=np.float64))
    p2 = np.radians(np.asarray(lats2, dtype=np.float64))
    dl = np.radians(np.asarray(lons2, dtype=np.float64) - np.asarray(lons1, dtype=np.float64))
    h = np.sin((p2 - p1) / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return np.asarray(2.0 * SPHERE_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0))), dtype=np.float64)


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """Point on the unit sphere; squared chord between two of these ranks like distance."""
    p = math.radians(lat)
    la = math.radians(lon)
    cp = math.cos(p)
    return (cp * math.cos(la), cp * math.sin(la), math.sin(p))


def chord2_to_upper_m(chord2: float) -> float:
    """An upper bound on the geodesic distance between two points with this squared unit chord."""
    half = math.sqrt(max(chord2, 0.0)) / 2.0
    angle = 2.0 * math.asin(min(1.0, half))
    return SPHERE_HI * SPHERE_RADIUS_M * angle * (1.0 + 1e-9) + _ABS_SLACK_M


def chord2_to_lower_m(chord2: float) -> float:
    """A lower bound on the geodesic distance between two points with this squared unit chord."""
    half = math.sqrt(max(chord2, 0.0)) / 2.0
    angle = 2.0 * math.asin(min(1.0, half))
    return max(0.0, SPHERE_LO * SPHERE_RADIUS_M * angle * (1.0 - 1e-9) - _ABS_SLACK_M)


def lower_m_to_chord2(metres: float) -> float:
    """Largest squared chord whose lower-bound distance can still be <= ``metres``.

    A point with ``chord2 > lower_m_to_chord2(x)`` is provably farther than ``x`` metres away.
    """
    if metres == math.inf:
        return math.inf
    angle = (metres + _ABS_SLACK_M) / (SPHERE_LO * SPHERE_RADIUS_M) * (1.0 + 1e-9)
    if angle >= math.pi:
        return math.inf
    return (2.0 * math.sin(angle / 2.0)) ** 2 * (1.0 + 1e-9)
