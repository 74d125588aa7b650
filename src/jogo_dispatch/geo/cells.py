"""H3 helpers (v4 API, cells as 64-bit ints so they fit BIGINT columns), and provable cell disks.

The central piece is :class:`DiskWalk`: for an origin cell it lists the H3 rings around it and,
for each disk radius ``j``, a lower bound on the WGS84 distance from the origin cell's centre to
any point lying in a cell *outside* that disk. Both :func:`disk_covering_m` and the responder
index's ring walk stop on that bound, so neither ever misses a point. Why the bound holds:

1. H3 cells tile the sphere and cells that touch (share an edge or a vertex) are grid neighbours,
   so along any continuous path the grid distance from the origin changes by at most one per cell
   crossed. A path from inside the origin cell to a cell at grid distance > j therefore passes
   through some cell at distance exactly j + 1; in particular the shortest geodesic does, and
   d(q, p) >= d(q, x) for the point x where it does.
2. For a point x in cell c: d(centre0, x) >= d(centre0, centre_c) - radius(c), where radius(c)
   bounds the distance from the cell's centre to any of its points (:func:`cell_radius_m`). So
   bound(j) = min over ring j+1 of (d(centre0, centre_c) - radius(c)) is valid, and since the set
   of cells outside the disk only shrinks as j grows, so is the running maximum.
3. A query point q inside the origin cell is at most d(q, centre0) closer: its bound is
   bound(j) - d(q, centre0).

Distances here are computed on the sphere and converted with the rigorous ratio bounds of
:mod:`jogo_dispatch.geo.distance` (lower bounds scaled by SPHERE_LO, upper by SPHERE_HI), which is
cheap in numpy and costs < 1 % of tightness. Nothing assumes a regular hexagon: every cell is
measured as it is, so latitude-dependent size, face distortion and pentagons are handled as they
come.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import numpy.typing as npt
from h3.api import basic_int as h3i

from jogo_dispatch.geo.distance import (
    SPHERE_HI,
    SPHERE_LO,
    SPHERE_RADIUS_M,
    geodesic_m,
    haversine_pairs_m,
    unit_vector,
)

__all__ = [
    "RES_FINE",
    "RES_COARSE",
    "cell_int",
    "cells_for_point",
    "ring_cells",
    "disk_covering_m",
    "cell_center",
    "cell_boundary",
    "cell_radius_m",
    "DiskWalk",
    "disk_walk",
    "clear_caches",
    "check_latlon",
]

RES_FINE = 9  # ~0.1 km^2 cells: duplicate-report detection, per-point DB column
RES_COARSE = 7  # ~5 km^2 cells: district-level aggregation, per-point DB column

# An H3 cell is a spherical polygon whose edges are great-circle arcs (straight lines in H3's
# gnomonic face projections), so on the sphere no point is farther from the centre than its
# farthest vertex; SPHERE_HI turns that into an ellipsoidal upper bound. The 5 % + 2 m on top
# absorbs latlng_to_cell's rounding at borders and H3's approximations at icosahedron-face seams.
# An empirical sweep (300k random points per resolution 7-10, plus dense sampling around all 12
# pentagons) never saw a point beyond 0.9994 of the vertex radius from its cell's centre.
_RADIUS_FACTOR = 1.05
_RADIUS_PAD_M = 2.0

_CACHE_LOCK = threading.Lock()
_RADIUS_CACHE: dict[int, float] = {}
_RADIUS_CACHE_MAX = 500_000
_WALK_CACHE: dict[int, DiskWalk] = {}
# Walks are bounded by the number of ring cells they hold, not by their count, since a walk that
# went far out (a query in an empty region) can hold thousands of cells.
_WALK_CACHE_MAX_CELLS = 1_000_000
_walk_cache_cells = 0
_MAX_COVERING_CELLS = 100_000


def check_latlon(lat: float, lon: float) -> None:
    """Raise ValueError unless (lat, lon) is a finite WGS84 position in degrees."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"non-finite position ({lat!r}, {lon!r})")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat!r} outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon!r} outside [-180, 180]")


def _check_res(res: int) -> None:
    if not 0 <= res <= 15:
        raise ValueError(f"H3 resolution must be in 0..15, got {res!r}")


def cell_int(lat: float, lon: float, res: int) -> int:
    """The H3 cell holding (lat, lon) at ``res``, as the int ``str_to_int(latlng_to_cell(...))``."""
    check_latlon(lat, lon)
    _check_res(res)
    return int(h3i.latlng_to_cell(lat, lon, res))


def cells_for_point(lat: float, lon: float) -> tuple[int, int]:
    """(res-9 cell, res-7 cell) for a point, for the BIGINT columns.

    Both come from the point itself: an H3 parent does not exactly contain its children, so
    ``cell_to_parent(fine, 7)`` can differ from the res-7 cell the point actually lies in.
    """
    return cell_int(lat, lon, RES_FINE), cell_int(lat, lon, RES_COARSE)


def ring_cells(cell: int, k: int) -> list[int]:
    """All cells within grid distance ``k`` of ``cell`` (H3 grid_disk), sorted for determinism."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k!r}")
    return sorted(int(c) for c in h3i.grid_disk(cell, k))


def cell_center(cell: int) -> tuple[float, float]:
    """(lat, lon) of the cell's centre in degrees."""
    lat, lon = h3i.cell_to_latlng(cell)
    return float(lat), float(lon)


def cell_boundary(cell: int) -> list[tuple[float, float]]:
    """The cell's vertices as (lat, lon) degrees, counter-clockwise, not closed."""
    return [(float(lat), float(lon)) for lat, lon in h3i.cell_to_boundary(cell)]


def _vertex_radii_m(cells: list[int]) -> npt.NDArray[np.float64]:
    """Conservative radii for many cells in one vectorised pass (no cache)."""
    centre_lat: list[float] = []
    centre_lon: list[float] = []
    vert_lat: list[float] = []
    vert_lon: list[float] = []
    owner: list[int] = []
    for i, cell in enumerate(cells):
        clat, clon = h3i.cell_to_latlng(cell)
        for vlat, vlon in h3i.cell_to_boundary(cell):
            centre_lat.append(clat)
            centre_lon.append(clon)
            vert_lat.append(vlat)
            vert_lon.append(vlon)
            owner.append(i)
    dist = haversine_pairs_m(centre_lat, centre_lon, vert_lat, vert_lon)
    radii = np.zeros(len(cells), dtype=np.float64)
    np.maximum.at(radii, np.asarray(owner, dtype=np.intp), dist)
    return radii * (SPHERE_HI * _RADIUS_FACTOR) + _RADIUS_PAD_M


def _radii_m(cells: list[int]) -> npt.NDArray[np.float64]:
    """:func:`cell_radius_m` for many cells, computing the uncached ones in one batch."""
    out = np.empty(len(cells), dtype=np.float64)
    missing: list[int] = []
    where: list[int] = []
    for i, cell in enumerate(cells):
        cached = _RADIUS_CACHE.get(cell)
        if cached is None:
            missing.append(cell)
            where.append(i)
        else:
            out[i] = cached
    if missing:
        fresh = _vertex_radii_m(missing)
        out[where] = fresh
        with _CACHE_LOCK:
            if len(_RADIUS_CACHE) + len(missing) > _RADIUS_CACHE_MAX:
                _RADIUS_CACHE.clear()
            _RADIUS_CACHE.update(zip(missing, fresh.tolist(), strict=True))
    return out


def _unit_vectors(points: list[tuple[float, float]]) -> npt.NDArray[np.float64]:
    """3 x n unit vectors for (lat, lon) degree pairs, laid out for column gathers."""
    if not points:
        return np.zeros((3, 0), dtype=np.float64)
    ll = np.radians(np.asarray(points, dtype=np.float64))
    cos_lat = np.cos(ll[:, 0])
    return np.ascontiguousarray(
        np.stack([cos_lat * np.cos(ll[:, 1]), cos_lat * np.sin(ll[:, 1]), np.sin(ll[:, 0])])
    )


def cell_radius_m(cell: int) -> float:
    """A conservative WGS84 circumradius: no point of the cell is farther from its centre.

    Farthest boundary vertex (distortion vertices included) on the sphere, scaled to an ellipsoidal
    upper bound, times a safety factor; see the module docstring for why vertices suffice.
    """
    return float(_radii_m([cell])[0])


class DiskWalk:
    """Rings around one origin cell with provable distance bounds; extended lazily, cached.

    ``rings[j]`` are the cells at grid distance exactly ``j``; ``disk_sizes[j]`` counts the cells at
    distance <= j; ``bound(j)`` is a lower bound (metres) on the distance from the origin's centre
    (``lat``, ``lon``) to any point in a cell at grid distance > j. ``ring_xyz[j]`` (3 x n unit
    vectors of the ring's cell centres) and ``ring_radii[j]`` let a caller bound the distance from
    its own point to each cell. Readers may run concurrently with an extension: lists only ever
    grow, and a ring's arrays are published before the bound that relies on them.
    """

    __slots__ = ("origin", "lat", "lon", "rings", "ring_xyz", "ring_radii", "disk_sizes", "bounds", "_lock")

    def __init__(self, origin: int) -> None:
        self.origin = origin
        self.lat, self.lon = cell_center(origin)
        self.rings: list[list[int]] = [[origin]]
        self.ring_xyz: list[npt.NDArray[np.float64]] = [_unit_vectors([(self.lat, self.lon)])]
        self.ring_radii: list[npt.NDArray[np.float64]] = [_radii_m([origin])]
        self.disk_sizes: list[int] = [1]
        self.bounds: list[float] = []
        self._lock = threading.Lock()

    def bound(self, j: int) -> float:
        """Lower bound on distance from the origin centre to any cell outside the disk of radius j."""
        bounds = self.bounds
        if j < len(bounds):
            return bounds[j]
        self.extend(j)
        return self.bounds[j]

    def disk_size(self, j: int) -> int:
        if j >= len(self.disk_sizes):
            self.extend(j)
        return self.disk_sizes[j]

    def extend(self, j: int) -> None:
        """Make ``bound(j)`` (hence rings up to ``j + 1``) available."""
        global _walk_cache_cells
        with self._lock:
            added = 0
            while len(self.bounds) <= j:
                nxt = len(self.bounds) + 1  # bound(nxt - 1) needs ring nxt
                # Rings are only ever appended here, one per bound, so ring ``nxt`` is new.
                ring = sorted(int(c) for c in h3i.grid_ring(self.origin, nxt))
                centres = [h3i.cell_to_latlng(c) for c in ring]
                radii = _radii_m(ring)
                self.ring_xyz.append(_unit_vectors(centres))
                self.ring_radii.append(radii)
                self.rings.append(ring)
                self.disk_sizes.append(self.disk_sizes[-1] + len(ring))
                added += len(ring)
                if not ring:
                    # The disk already covers the globe (coarse res): nothing lies outside it.
                    self.bounds.append(math.inf)
                    continue
                centre_dist = haversine_pairs_m(
                    self.lat, self.lon, [c[0] for c in centres], [c[1] for c in centres]
                )
                # Lower bound on the ellipsoidal centre distance, minus an upper bound on the radius.
                ring_bound = float(np.min(centre_dist * SPHERE_LO - radii))
                previous = self.bounds[-1] if self.bounds else -math.inf
                self.bounds.append(max(previous, ring_bound))
        if added:
            with _CACHE_LOCK:
                _walk_cache_cells += added

    def cells_within(self, j: int) -> list[int]:
        """All cells of the disk of radius ``j`` (rings 0..j), ring by ring."""
        if j >= len(self.rings):
            self.extend(j)
        out: list[int] = []
        for ring in self.rings[: j + 1]:
            out.extend(ring)
        return out


def clear_caches() -> None:
    """Drop every cached walk and cell radius (tests; or to hand memory back after a burst)."""
    global _walk_cache_cells
    with _CACHE_LOCK:
        _WALK_CACHE.clear()
        _RADIUS_CACHE.clear()
        _walk_cache_cells = 0


def disk_walk(cell: int) -> DiskWalk:
    """The shared, cached :class:`DiskWalk` for ``cell``."""
    global _walk_cache_cells
    walk = _WALK_CACHE.get(cell)
    if walk is not None:
        return walk
    walk = DiskWalk(cell)
    with _CACHE_LOCK:
        if _walk_cache_cells >= _WALK_CACHE_MAX_CELLS:
            # Crude but O(1) amortised: drop everything; hot cells are rebuilt on next use.
            _WALK_CACHE.clear()
            _walk_cache_cells = 0
        _WALK_CACHE[cell] = walk
        _walk_cache_cells += 1
    return walk


def disk_covering_m(lat: float, lon: float, radius_m: float, res: int = RES_FINE) -> list[int]:
    """Every ``res`` cell that could hold a point within ``radius_m`` of (lat, lon), sorted.

    Conservative by construction (no false negatives; a few extra cells at the rim): grows the
    grid disk around the point's cell until the provable distance to anything outside exceeds
    ``radius_m``, then drops the disk's cells that are provably farther than ``radius_m`` too.
    """
    check_latlon(lat, lon)
    _check_res(res)
    if not math.isfinite(radius_m) or radius_m < 0:
        raise ValueError(f"radius_m must be finite and >= 0, got {radius_m!r}")
    walk = disk_walk(int(h3i.latlng_to_cell(lat, lon, res)))
    # Exact distance to the centre plus a hair: bound(j) - dq must stay a *lower* bound.
    dq = geodesic_m(lat, lon, walk.lat, walk.lon) * (1.0 + 1e-9) + 1e-3
    j = 0
    while walk.bound(j) - dq <= radius_m:
        j += 1
        if walk.disk_size(j) > _MAX_COVERING_CELLS:
            raise ValueError(
                f"a {radius_m} m disk needs more than {_MAX_COVERING_CELLS} cells at res {res}; "
                "use a coarser resolution"
            )
    cells = walk.cells_within(j)
    xyz = np.hstack(walk.ring_xyz[: j + 1])
    radii = np.concatenate(walk.ring_radii[: j + 1])
    q = np.array(unit_vector(lat, lon)).reshape(3, 1)
    half_chord = np.sqrt(np.sum((xyz - q) ** 2, axis=0)) / 2.0
    # Each cell's nearest possible point: sphere distance to its centre, scaled down to a geodesic
    # lower bound, minus the cell's conservative radius.
    lower = SPHERE_LO * SPHERE_RADIUS_M * 2.0 * np.arcsin(np.minimum(1.0, half_chord)) * (1.0 - 1e-9)
    keep = lower - 1e-3 - radii <= radius_m
    return sorted(c for c, k in zip(cells, keep.tolist(), strict=True) if k)
