"""What the nearest-responder search answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from jogo_dispatch.geo.index import Candidate
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.json_types import IsoDatetime


class CandidateOut(BaseModel):
    officer_id: int
    badge: str
    name: str
    unit_type: str
    status: str
    lat: float
    lon: float
    distance_m: float
    eta_s: float
    last_seen: IsoDatetime
    position_age_s: float = Field(description="age of the position (when the last fix was taken)")
    stale: bool = Field(description="no fix for longer than JOGO_STALE_AFTER_S: it may have moved since")

    @classmethod
    def of(
        cls, c: Candidate, names: dict[int, tuple[str, str]], stale_after_s: float = float("inf")
    ) -> CandidateOut:
        badge, name = names.get(c.officer_id, ("", ""))
        age = max(0.0, (utcnow() - c.last_seen).total_seconds())
        return cls(
            officer_id=c.officer_id,
            badge=badge,
            name=name,
            unit_type=c.unit_type,
            status=c.status,
            lat=c.lat,
            lon=c.lon,
            distance_m=round(c.distance_m, 2),
            eta_s=round(c.eta_s, 1),
            last_seen=c.last_seen,
            position_age_s=round(age, 1),
            stale=age > stale_after_s,
        )


class ResponderOut(CandidateOut):
    """A responder and how it is reached: whether it takes offers on the phone app now (``can_offer``) or
    reports its place through a tracker app only (Traccar Client, OsmAnd, OwnTracks: assign it by radio)."""

    can_offer: bool
    channel: str | None = Field(description="protocol of its latest report: api, ws, osmand, owntracks")


class NearestOut(BaseModel):
    items: list[ResponderOut]
    shortfall_reason: str | None
    shortfall: str | None
    method: Literal["index", "postgis"]
