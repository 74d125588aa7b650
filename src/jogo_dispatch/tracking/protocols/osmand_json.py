"""OsmAnd JSON bodies: Traccar Client >= 9's nested location object, and the flat-object arrays.

The nested shape follows Traccar's ``OsmAndProtocolDecoder.decodeJson`` and
https://traccar.org/osmand: ``device_id`` plus a ``location`` object in the background-geolocation
SDK's shape (``coords.speed`` in m/s, negative ``speed``/``heading`` = unknown, ``battery.level``
0..1 with -1 = unknown, ``extras`` merged into the attributes, ``extras.alarm`` honoured). The
client's template (traccar/traccar-client ``lib/preferences.dart``) sends one location per request;
the SDK's ``batchSync`` sends ``location`` as an array, which is accepted too.

A JSON *array* of flat objects (or one flat object) uses the query keys with JSON-typed values and is
decoded by :func:`.osmand.decode_flat`, ``speed`` still in knots and ``timestamp`` in epoch seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.tracking.protocols.common import (
    DeviceFix,
    bad_field,
    battery_pct,
    identifier,
    latitude,
    longitude,
    missing_device_id,
    non_negative,
    number,
    optional_number,
    parse_iso,
    string,
)
from jogo_dispatch.tracking.protocols.osmand import decode_flat

__all__ = ["parse_osmand_json"]


def _nested(value: Any, where: str, key: str) -> dict[str, Any] | None:
    """The object under ``key`` of a location (None when it is null)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        bad_field(f"{where}.{key}", f"{key} must be an object")
    return value


def _sdk_location(location: Any, device_id: str, shared: Mapping[str, Any], where: str) -> DeviceFix:
    if not isinstance(location, dict):
        bad_field(where, f"{where} must be an object")
    attributes: dict[str, Any] = dict(shared)
    recorded_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy: float | None = None
    speed: float | None = None
    heading: float | None = None
    altitude: float | None = None
    battery: float | None = None
    charging: bool | None = None
    valid: bool | None = None
    alarm: str | None = None
    extras: dict[str, Any] = {}

    for key, value in location.items():
        match key:
            case "timestamp":
                if value is not None:
                    recorded_at = parse_iso(string(value, f"{where}.timestamp"), f"{where}.timestamp")
            case "coords":
                coords = _nested(value, where, key)
                if coords is None:
                    continue
                valid = True
                for c_key, c_value in coords.items():
                    name = f"{where}.coords.{c_key}"
                    if c_value is None:
                        continue
                    match c_key:
                        case "latitude":
                            lat = latitude(c_value, name)
                        case "longitude":
                            lon = longitude(c_value, name)
                        case "speed":
                            # Already m/s in this format, unlike the query string's knots.
                            speed = non_negative(number(c_value, name))
                        case "heading":
                            heading = non_negative(number(c_value, name))
                        case "accuracy":
                            accuracy = non_negative(number(c_value, name))
                        case "altitude":
                            altitude = number(c_value, name)
                        case _:
                            attributes[c_key] = c_value  # speed_accuracy, floor, ...
            case "battery":
                state = _nested(value, where, key)
                if state is None:
                    continue
                level = optional_number(state.get("level"), f"{where}.battery.level")
                battery = battery_pct(level, f"{where}.battery.level", 1.0)
                is_charging = state.get("is_charging")
                if is_charging is not None and not isinstance(is_charging, bool):
                    bad_field(f"{where}.battery.is_charging", "is_charging must be a boolean")
                charging = is_charging
            case "alarm":
                if value is not None:
                    alarm = string(value, f"{where}.alarm")
            case "extras":
                extras = _nested(value, where, key) or {}
            case "_":
                # The template's "&id=..&lat=.." string exists only so servers without JSON support
                # can form-decode the body; it repeats fields already decoded above.
                continue
            case _:
                attributes[key] = value  # event, is_moving, odometer, activity, mock, uuid, ...

    for key, value in extras.items():
        if value is None:
            continue
        if key == "alarm":
            # Traccar uses extras.alarm only when the location has no alarm of its own.
            if alarm is None:
                alarm = string(value, f"{where}.extras.alarm")
            continue
        attributes[key] = value  # extras win over same-named location keys, as in Traccar

    if lat is None or lon is None:
        lat = lon = None
        valid = None
    return DeviceFix(
        device_id=device_id,
        lat=lat,
        lon=lon,
        recorded_at=recorded_at,
        accuracy_m=accuracy,
        speed_mps=speed,
        heading_deg=heading,
        altitude_m=altitude,
        battery_pct=battery,
        charging=charging,
        valid=valid,
        alarm=alarm,
        attributes=attributes,
    )


def _decode_sdk(root: dict[str, Any]) -> list[DeviceFix]:
    raw_id = root.get("device_id")
    device_id = None if raw_id is None else identifier(raw_id, "device_id")
    if device_id is None:
        missing_device_id()
    # Any other top-level key is an HttpConfig.params entry the app added; keep it on every fix.
    shared = {k: v for k, v in root.items() if k not in ("device_id", "location")}
    location = root.get("location")
    if location is None:
        bad_field("location", "location is required")
    if isinstance(location, list):
        return [
            _sdk_location(item, device_id, shared, f"location[{index}]")
            for index, item in enumerate(location)
        ]
    return [_sdk_location(location, device_id, shared, "location")]


def _flat_item(item: Any, index: int) -> DeviceFix:
    if not isinstance(item, dict):
        bad_field(f"[{index}]", "each array element must be an object")
    try:
        return decode_flat(item.items())
    except InvalidInput as error:
        # Point at the element so a client can tell which of its buffered fixes was refused.
        details = dict(error.details) if isinstance(error.details, dict) else {}
        details["index"] = index
        raise InvalidInput(error.message, code=error.code, details=details) from None


def parse_osmand_json(body: Any) -> list[DeviceFix]:
    """Decode an already-parsed OsmAnd JSON body into its fixes (possibly several, possibly none).

    Accepted shapes:

    * ``{"device_id": ..., "location": {...}}``: Traccar Client >= 9 (coords speed in m/s,
      battery level 0..1). ``location`` may also be a list (the SDK's ``batchSync``); each element
      becomes a fix with the same ``device_id``.
    * ``[{"id": ..., "lat": ..., ...}, ...]``: traccar-client-sdk's JSON upload, each element decoded
      like :func:`~jogo_dispatch.tracking.protocols.parse_osmand_params` (speed in knots), values
      possibly numbers or booleans.
    * ``{"id": ..., "lat": ...}``: a single such flat object.

    Errors: no device id -> ``missing_device_id``; a value of the wrong type or out of range ->
    ``bad_field`` with ``details["field"]`` (and ``details["index"]`` for array elements). A missing
    coordinate or timestamp is not an error (``None``).
    """
    if isinstance(body, list):
        return [_flat_item(item, index) for index, item in enumerate(body)]
    if not isinstance(body, dict):
        bad_field("body", "the JSON body must be an object or an array")
    # A flat object's "location" is the "lat,lon" string; the SDK's is an object or a list.
    if "device_id" in body or isinstance(body.get("location"), dict | list):
        return _decode_sdk(body)
    return [decode_flat(body.items())]
