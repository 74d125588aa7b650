from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from jogo_dispatch.platform.json_types import IsoDatetime
from jogo_dispatch.tracking.filters import Fix


class PingIn(BaseModel):
    """One fix as sent to ``POST /api/v1/pings``."""

    # "NaN" and "Infinity" (as strings or JSON extensions) are refused, never stored.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    lat: float
    lon: float
    recorded_at: datetime = Field(description="ISO 8601, or epoch seconds")
    accuracy_m: float | None = Field(None, ge=0)
    speed_mps: float | None = Field(None, ge=0)
    heading_deg: float | None = Field(None, ge=0, le=360)
    altitude_m: float | None = None
    battery_pct: float | None = Field(None, ge=0, le=100)

    @field_validator("recorded_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        try:
            return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 with an offset: no UTC time exists for it
            raise ValueError("recorded_at is out of range") from None

    def to_fix(self) -> Fix:
        return Fix(
            self.lat,
            self.lon,
            self.recorded_at,
            self.accuracy_m,
            self.speed_mps,
            self.heading_deg,
            self.altitude_m,
            self.battery_pct,
        )


_PING = TypeAdapter(PingIn)
_PINGS = TypeAdapter(list[PingIn])


def parse_ping_items(items: list[Any]) -> tuple[list[tuple[int, Fix]], list[tuple[int, str]]]:
    """Validate the batch in one call (the common, all-good case); when anything is wrong, validate each
    item on its own, so one bad ping never costs the others."""
    try:
        pings = _PINGS.validate_python(items)
    except ValidationError:
        return _parse_one_by_one(items)
    fixes = []
    rejected = []
    for index, ping in enumerate(pings):
        if math.isfinite(ping.lat) and math.isfinite(ping.lon):
            fixes.append((index, ping.to_fix()))
        else:
            rejected.append((index, "out_of_range"))
    return fixes, rejected


def _parse_one_by_one(items: list[Any]) -> tuple[list[tuple[int, Fix]], list[tuple[int, str]]]:
    fixes: list[tuple[int, Fix]] = []
    rejected: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        try:
            ping = _PING.validate_python(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            rejected.append((index, f"invalid: {'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}"))
            continue
        if not (math.isfinite(ping.lat) and math.isfinite(ping.lon)):
            rejected.append((index, "out_of_range"))
            continue
        fixes.append((index, ping.to_fix()))
    return fixes, rejected


class Rejection(BaseModel):
    index: int
    reason: str


class IngestOut(BaseModel):
    accepted: int
    rejected: list[Rejection]


Presence = Literal["online", "stale", "offline"]


class OfficerOut(BaseModel):
    id: int
    badge: str
    name: str
    unit_type: str
    status: str
    sector: str | None
    lat: float | None = None
    lon: float | None = None
    recorded_at: datetime | None = None
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    battery_pct: float | None = None
    online: bool = Field(False, description="dispatchable: presence online or stale")
    presence: Presence = Field(
        "offline",
        description="online; stale: no fix for longer than JOGO_STALE_AFTER_S (still dispatched, it may have "
        "moved since); offline: nothing from the phone (no fix, no heartbeat) for longer than "
        "JOGO_OFFLINE_AFTER_S, never dispatched",
    )
    position_age_s: float | None = Field(None, description="age of the last fix (null: none yet)")
    low_battery: bool = False


class OfficerProperties(OfficerOut):
    """An officer as a position's properties: where it is goes in the geometry."""

    lat: float | None = Field(None, exclude=True)
    lon: float | None = Field(None, exclude=True)


# -- GeoJSON (RFC 7946): coordinates are [lon, lat] ------------------------------------------------------


class Point(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class LineString(BaseModel):
    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


class PositionFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: Point
    properties: OfficerProperties


class PositionsOut(BaseModel):
    """The latest position of every officer inside a box."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PositionFeature]


class FixProperties(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    recorded_at: IsoDatetime
    accuracy_m: float | None
    speed_mps: float | None
    heading_deg: float | None
    altitude_m: float | None
    battery_pct: float | None
    source: str
    approximate: str | None = Field(
        None,
        description="null for a fix; else why it is history only and never the position dispatch uses: "
        "invalid (the phone said valid=false) or last_known (no fix: a heartbeat or a cell/Wi-Fi-only "
        "message, shown at the last known position)",
    )


class FixFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: Point
    properties: FixProperties


class TrackProperties(BaseModel):
    officer_id: int
    since: IsoDatetime
    until: IsoDatetime
    points: int
    truncated: bool = Field(description="the track has more fixes than one answer carries")


class TrackFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: LineString
    properties: TrackProperties


class TrackOut(BaseModel):
    """An officer's track: the LineString first, then each fix as a Point."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[TrackFeature | FixFeature]


class OfficerCreate(BaseModel):
    badge: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    unit_type: Literal["car", "motorbike", "foot"]
    password: str = Field(min_length=6, max_length=200)
    sector: str | None = Field(None, max_length=100)
    device_id: str | None = Field(None, min_length=1, max_length=128)


class StatusIn(BaseModel):
    status: Literal["available", "busy", "off_duty"]


class DeviceCreate(BaseModel):
    identifier: str = Field(min_length=1, max_length=128)
    label: str | None = Field(None, max_length=100)


class DeviceOut(BaseModel):
    id: int
    officer_id: int
    identifier: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None
    owntracks_key_set: bool = Field(
        False, description="an OwnTracks payload key is set for this phone (the key itself is never returned)"
    )


class DeviceCreated(DeviceOut):
    token: str = Field(description="long-lived bearer token for the phone; shown only once")
