"""Pure geospatial core: distances, H3 cells, ETAs and the nearest-responder index.

No database or web imports here; the service layers build on these functions.
"""

from jogo_dispatch.geo.cells import (
    RES_COARSE,
    RES_FINE,
    cell_boundary,
    cell_center,
    cell_int,
    cells_for_point,
    disk_covering_m,
    ring_cells,
)
from jogo_dispatch.geo.distance import geodesic_m, geodesic_many_m
from jogo_dispatch.geo.eta import DEFAULT_DETOUR, DEFAULT_SPEEDS_MPS, eta_seconds
from jogo_dispatch.geo.index import (
    Candidate,
    NearestResult,
    Responder,
    ResponderIndex,
    brute_force_nearest,
)

__all__ = [
    "RES_COARSE",
    "RES_FINE",
    "cell_boundary",
    "cell_center",
    "cell_int",
    "cells_for_point",
    "disk_covering_m",
    "ring_cells",
    "geodesic_m",
    "geodesic_many_m",
    "DEFAULT_DETOUR",
    "DEFAULT_SPEEDS_MPS",
    "eta_seconds",
    "Candidate",
    "NearestResult",
    "Responder",
    "ResponderIndex",
    "brute_force_nearest",
]
