"""Travel-time estimate from straight-line distance.

Dispatch ranks by distance; the ETA is what the console shows next to each candidate. A road
network is deliberately out of scope here: a fixed detour factor over the geodesic is the usual
crow-flies correction and keeps this O(1) inside the nearest-responder hot loop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["DEFAULT_SPEEDS_MPS", "DEFAULT_DETOUR", "eta_seconds", "travel_seconds"]

# Urban averages including stops, not top speeds (Indonesian city traffic).
DEFAULT_SPEEDS_MPS: Mapping[str, float] = MappingProxyType({"car": 11.1, "motorbike": 9.7, "foot": 1.4})
DEFAULT_DETOUR = 1.35


def eta_seconds(
    distance_m: float,
    unit_type: str,
    speeds_mps: Mapping[str, float] = DEFAULT_SPEEDS_MPS,
    detour_factor: float = DEFAULT_DETOUR,
) -> float:
    """Seconds to cover ``distance_m`` of straight line: distance x detour / speed.

    Raises ValueError for an unknown unit type, a non-positive speed, a detour below 1 (a road is
    never shorter than the geodesic) or a negative / non-finite distance.
    """
    if not math.isfinite(distance_m) or distance_m < 0:
        raise ValueError(f"distance_m must be a finite non-negative number, got {distance_m!r}")
    if not math.isfinite(detour_factor) or detour_factor < 1.0:
        raise ValueError(f"detour_factor must be finite and >= 1, got {detour_factor!r}")
    try:
        speed = speeds_mps[unit_type]
    except KeyError:
        raise ValueError(f"unknown unit_type {unit_type!r}; known: {sorted(speeds_mps)}") from None
    if not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"speed for {unit_type!r} must be finite and > 0, got {speed!r}")
    return travel_seconds(distance_m, speed, detour_factor)


def travel_seconds(distance_m: float, speed_mps: float, detour_factor: float) -> float:
    """:func:`eta_seconds` without the checks, for callers that validated once (the index's hot loop).

    The one place the formula lives, so both paths give bit-for-bit the same figure.
    """
    return distance_m * detour_factor / speed_mps
