from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from jogo_dispatch.deps import Dispatcher, RuntimeDep, SessionDep
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.responders import service
from jogo_dispatch.responders.schemas import NearestOut
from jogo_dispatch.runtime import Runtime

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["responders"])

REASONS = {
    "no_position_data": "no officer has sent a position yet",
    "positions_too_old": "matching officers exist but their last fixes are too old (offline)",
    "outside_radius": "matching officers exist but none within max_distance_m",
    "none_available": "no officer matches the requested status and unit type",
}


@router.get("/responders/nearest", response_model=NearestOut)
async def nearest(
    rt: RuntimeDep,
    session: SessionDep,
    _: Dispatcher,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    k: Annotated[int, Query(ge=1, le=100)] = 5,
    unit_type: Literal["car", "motorbike", "foot"] | None = None,
    max_distance_m: Annotated[float | None, Query(gt=0)] = None,
    method: Literal["index", "postgis"] = "index",
) -> NearestOut:
    """The k nearest available officers that are not offline (a fix, or a heartbeat at the last position,
    younger than ``JOGO_OFFLINE_AFTER_S``), nearest first, with exact distance and ETA; each says the age
    of its fix (``position_age_s``), whether it is ``stale``, whether it takes offers on the phone app now
    (``can_offer``) and its ``channel`` (else a tracker app only: assign it by radio).

    ``method=postgis`` answers with PostGIS KNN instead of the in-memory H3 index (a cross-check)."""
    if method == "postgis":
        found = await service.search_postgis(session, rt.settings, lat, lon, k, unit_type, max_distance_m)
        reason = None if len(found) == k else _postgis_shortfall(rt, lat, lon, k, unit_type, max_distance_m)
    else:
        result = service.search(rt.index, rt.settings, lat, lon, k, unit_type, max_distance_m)
        found, reason = result.candidates, result.shortfall_reason
    return NearestOut(
        items=await service.responder_views(session, rt.settings, found),
        shortfall_reason=reason,
        shortfall=REASONS.get(reason) if reason else None,
        method=method,
    )


def _postgis_shortfall(
    rt: Runtime, lat: float, lon: float, k: int, unit_type: str | None, max_distance_m: float | None
) -> str | None:
    # The reason is the same fact whichever method found the officers: ask the index.
    return service.search(rt.index, rt.settings, lat, lon, k, unit_type, max_distance_m).shortfall_reason
