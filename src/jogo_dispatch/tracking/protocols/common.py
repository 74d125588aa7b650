"""What every phone protocol decoder shares: the :class:`DeviceFix` they all produce and the value
coercion that turns one client-sent value into a checked field or an ``InvalidInput``.

Kept in one place so that a number, a coordinate or a battery level means the same thing whichever
app sent it (e.g. a negative speed is "unknown" in every format, not only in the one whose upstream
documents it). The names are public within the package but not re-exported by it: they are the
decoders' vocabulary, not an API for callers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from jogo_dispatch.errors import InvalidInput

__all__ = [
    "EPOCH",
    "DeviceFix",
    "bad_field",
    "battery_pct",
    "from_epoch",
    "identifier",
    "latitude",
    "longitude",
    "missing_device_id",
    "non_negative",
    "number",
    "optional_number",
    "parse_iso",
    "string",
]

# What Java's Double.parseDouble accepts, minus the NaN/Infinity/hex spellings that would smuggle
# non-finite or surprising values into the dispatch map.
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DeviceFix:
    """One decoded position report, in SI units, whatever protocol it arrived by."""

    device_id: str
    lat: float | None
    lon: float | None
    recorded_at: datetime | None  # tz-aware UTC; None = caller uses server time
    accuracy_m: float | None = None
    speed_mps: float | None = None  # always m/s here
    heading_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None  # 0..100
    charging: bool | None = None
    valid: bool | None = None
    alarm: str | None = None  # e.g. "sos"
    attributes: dict[str, Any] = field(default_factory=dict)  # every other key, kept


def bad_field(field_name: str, message: str) -> NoReturn:
    raise InvalidInput(message, code="bad_field", details={"field": field_name})


def missing_device_id() -> NoReturn:
    raise InvalidInput("the report carries no device id", code="missing_device_id")


def number(value: Any, field_name: str) -> float:
    """A finite float from a JSON number or a decimal string; anything else is ``bad_field``."""
    # bool is an int subclass, and `true` where a number belongs is a client bug, not 1.0.
    if isinstance(value, bool):
        bad_field(field_name, f"{field_name} must be a number")
    if isinstance(value, int):
        result = float(value)
    elif isinstance(value, float):
        result = value
    elif isinstance(value, str) and _DECIMAL_RE.fullmatch(value.strip()):
        # float() of the stripped text: str.strip drops more (e.g. \x1f) than float() itself accepts
        result = float(value.strip())
    else:
        bad_field(field_name, f"{field_name} must be a number")
    if not math.isfinite(result):
        bad_field(field_name, f"{field_name} must be finite")
    return result


def optional_number(value: Any, field_name: str) -> float | None:
    return None if value is None else number(value, field_name)


def non_negative(value: float | None) -> float | None:
    # Unlike Traccar's query decoder, which stores them as sent: phones report -1 for "unknown"
    # speed, course, accuracy and battery (CoreLocation, the background-geolocation SDK, old
    # OwnTracks builds), so a negative one is never a measurement.
    return None if value is None or value < 0 else value


def latitude(value: Any, field_name: str) -> float:
    lat = number(value, field_name)
    if not -90.0 <= lat <= 90.0:
        bad_field(field_name, f"{field_name} is out of range")
    return lat


def longitude(value: Any, field_name: str) -> float:
    lon = number(value, field_name)
    if not -180.0 <= lon <= 180.0:
        bad_field(field_name, f"{field_name} is out of range")
    return lon


def battery_pct(value: float | None, field_name: str, scale: float) -> float | None:
    """``value`` on a 0..``scale`` scale to percent; negative means unknown, above scale is garbage."""
    if value is None or value < 0:
        return None
    if value > scale:
        bad_field(field_name, f"{field_name} is above {scale:g}")
    # round() so 0.79 * 100 reads 79.0, not 79.00000000000001 (Traccar truncates to int instead).
    return round(value * (100.0 / scale), 6)


def identifier(value: Any, field_name: str) -> str | None:
    # The SDK's JSON array may carry a numeric id; a float or bool id is a client bug.
    if isinstance(value, bool) or not isinstance(value, str | int):
        bad_field(field_name, f"{field_name} must be a string")
    text = str(value).strip()
    return text or None


def string(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        bad_field(field_name, f"{field_name} must be a string")
    return value


def parse_iso(value: str, field_name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        bad_field(field_name, f"{field_name} is not an ISO 8601 date-time")
    # Traccar's DateUtil.parseDate (ISO_ZONED_DATE_TIME) rejects a date-time with no offset rather
    # than guessing a zone, and so do we.
    if parsed.tzinfo is None:
        bad_field(field_name, f"{field_name} has no UTC offset")
    return parsed.astimezone(UTC)


def from_epoch(seconds: float, field_name: str) -> datetime:
    try:
        return EPOCH + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        bad_field(field_name, f"{field_name} is out of range")
