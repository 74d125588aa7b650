"""Pure decoders for the phone-app tracking protocols: OsmAnd (Traccar Client) and OwnTracks HTTP.

No FastAPI, no database: bytes / query parameters / parsed JSON in, :class:`DeviceFix` out, and
:class:`~jogo_dispatch.errors.InvalidInput` (with a specific ``code``) for anything malformed. No other
exception type escapes, whatever the payload.

Upstream behaviour followed (read from the public sources, not guessed):

* OsmAnd query/form decoding follows Traccar's ``OsmAndProtocolDecoder.decodeQuery``
  (traccar/traccar, ``src/main/java/org/traccar/protocol/OsmAndProtocolDecoder.java``) and its test
  ``OsmAndProtocolDecoderTest.testDecodeQuery``: ``id``/``deviceid``; ``valid`` is true for
  ``true`` (any case) or ``1``; ``timestamp`` is tried as a long first (``< Integer.MAX_VALUE`` =
  epoch seconds, otherwise epoch milliseconds), then, if it contains ``T``, as ISO 8601 *with* an
  offset (``DateUtil.parseDate`` uses ``ISO_ZONED_DATE_TIME``), otherwise as ``yyyy-MM-dd HH:mm:ss``;
  ``lat``/``lon`` or ``location=lat,lon``; ``speed`` in knots; ``bearing``/``heading``;
  ``altitude``; ``accuracy``; ``hdop``; ``batt`` (percent); ``charge``; empty values are skipped.
* The Traccar Client >= 9 JSON body follows ``OsmAndProtocolDecoder.decodeJson`` and
  https://traccar.org/osmand: ``device_id`` plus a ``location`` object in the background-geolocation
  SDK's shape (``coords.speed`` in m/s, negative ``speed``/``heading`` = unknown, ``battery.level``
  0..1 with -1 = unknown, ``extras`` merged into the attributes, ``extras.alarm`` honoured). The
  client's template (traccar/traccar-client ``lib/preferences.dart``) sends one location per request;
  the SDK's ``batchSync`` sends ``location`` as an array, which is accepted too.
* The JSON *array* of flat objects is the upload of traccar/traccar-client-sdk
  (``core/.../HttpUploader.kt`` with ``uploadJson``): the query keys with JSON-typed values, ``speed``
  still in knots and ``timestamp`` in epoch seconds.
* OwnTracks follows the booklet (owntracks.org/booklet/tech/json and /tech/http) and the apps'
  serialisers (owntracks/android ``MessageLocation.kt``, owntracks/ios ``OwnTracking.m``): ``vel`` in
  km/h, ``tst`` epoch seconds, ``bs`` 0=unknown 1=unplugged 2=charging 3=full, ``topic`` only in HTTP
  payloads, identity from ``X-Limit-U``/``X-Limit-D`` (or ``?u=&d=``) as the OwnTracks Recorder does.

Deliberate differences from Traccar (marked ``Unlike Traccar`` where they happen): ``yyyy-MM-dd
HH:mm:ss`` is read as UTC rather than in the server's zone; unrecognised query values stay verbatim
strings; a negative speed, bearing, accuracy or battery means unknown in every format, not only in
the JSON one; non-finite numbers, out-of-range coordinates and batteries above full are ``bad_field``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import orjson

from jogo_dispatch.errors import InvalidInput

__all__ = [
    "KNOT_TO_MPS",
    "KMH_TO_MPS",
    "DeviceFix",
    "OwnTracksMessage",
    "owntracks_identity",
    "parse_osmand_json",
    "parse_osmand_params",
    "parse_owntracks",
]

KNOT_TO_MPS = 1852.0 / 3600.0  # international knot, exact: 0.514444...
KMH_TO_MPS = 1000.0 / 3600.0

# Java's Integer.MAX_VALUE: Traccar multiplies by 1000 only when the value is strictly below it.
_SECONDS_LIMIT = 2_147_483_647

# What Java's Long.parseLong / Double.parseDouble accept, minus the NaN/Infinity/hex spellings that
# would smuggle non-finite or surprising values into the dispatch map.
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


@dataclass(frozen=True, slots=True)
class OwnTracksMessage:
    """An OwnTracks HTTP publish: its ``_type`` (None for an empty body) and, for locations, the fix."""

    msg_type: str | None
    fix: DeviceFix | None  # only for _type == "location"


# --------------------------------------------------------------------------------------------------
# shared value coercion


def _bad(field_name: str, message: str) -> NoReturn:
    raise InvalidInput(message, code="bad_field", details={"field": field_name})


def _number(value: Any, field_name: str) -> float:
    """A finite float from a JSON number or a decimal string; anything else is ``bad_field``."""
    # bool is an int subclass, and `true` where a number belongs is a client bug, not 1.0.
    if isinstance(value, bool):
        _bad(field_name, f"{field_name} must be a number")
    if isinstance(value, int):
        result = float(value)
    elif isinstance(value, float):
        result = value
    elif isinstance(value, str) and _DECIMAL_RE.fullmatch(value.strip()):
        result = float(value)
    else:
        _bad(field_name, f"{field_name} must be a number")
    if not math.isfinite(result):
        _bad(field_name, f"{field_name} must be finite")
    return result


def _optional_number(value: Any, field_name: str) -> float | None:
    return None if value is None else _number(value, field_name)


def _non_negative(value: float | None) -> float | None:
    # Unlike Traccar's query decoder, which stores them as sent: phones report -1 for "unknown"
    # speed, course, accuracy and battery (CoreLocation, the background-geolocation SDK, old
    # OwnTracks builds), so a negative one is never a measurement.
    return None if value is None or value < 0 else value


def _latitude(value: Any, field_name: str) -> float:
    lat = _number(value, field_name)
    if not -90.0 <= lat <= 90.0:
        _bad(field_name, f"{field_name} is out of range")
    return lat


def _longitude(value: Any, field_name: str) -> float:
    lon = _number(value, field_name)
    if not -180.0 <= lon <= 180.0:
        _bad(field_name, f"{field_name} is out of range")
    return lon


def _battery_pct(value: float | None, field_name: str, scale: float) -> float | None:
    """``value`` on a 0..``scale`` scale to percent; negative means unknown, above scale is garbage."""
    if value is None or value < 0:
        return None
    if value > scale:
        _bad(field_name, f"{field_name} is above {scale:g}")
    # round() so 0.79 * 100 reads 79.0, not 79.00000000000001 (Traccar truncates to int instead).
    return round(value * (100.0 / scale), 6)


def _identifier(value: Any, field_name: str) -> str | None:
    # The SDK's JSON array may carry a numeric id; a float or bool id is a client bug.
    if isinstance(value, bool) or not isinstance(value, str | int):
        _bad(field_name, f"{field_name} must be a string")
    text = str(value).strip()
    return text or None


def _missing_device_id() -> NoReturn:
    raise InvalidInput("the report carries no device id", code="missing_device_id")


def _parse_iso(value: str, field_name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _bad(field_name, f"{field_name} is not an ISO 8601 date-time")
    # Traccar's DateUtil.parseDate (ISO_ZONED_DATE_TIME) rejects a date-time with no offset rather
    # than guessing a zone, and so do we.
    if parsed.tzinfo is None:
        _bad(field_name, f"{field_name} has no UTC offset")
    return parsed.astimezone(UTC)


def _from_epoch(seconds: float, field_name: str) -> datetime:
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        _bad(field_name, f"{field_name} is out of range")


def _osmand_timestamp(value: Any) -> datetime:
    """Traccar's OsmAnd ``timestamp`` rules: integer seconds/milliseconds, ISO, or local format."""
    name = "timestamp"
    if isinstance(value, bool):
        _bad(name, "timestamp must be a number or a date-time string")
    if isinstance(value, float):
        if not math.isfinite(value):
            _bad(name, "timestamp must be finite")
        # Same seconds/milliseconds threshold as the integer case, so a float epoch is not 1000x off.
        return _from_epoch(value if value < _SECONDS_LIMIT else value / 1000.0, name)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        if not _INTEGER_RE.fullmatch(value):
            if "T" in value:
                return _parse_iso(value, name)
            try:
                naive = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                _bad(name, "timestamp is neither epoch, ISO 8601 nor yyyy-MM-dd HH:mm:ss")
            # Unlike Traccar, which uses the server JVM's default zone here, we read it as UTC.
            return naive.replace(tzinfo=UTC)
        number = int(value)
    else:
        _bad(name, "timestamp must be a number or a date-time string")
    millis = number * 1000 if number < _SECONDS_LIMIT else number
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        _bad(name, "timestamp is out of range")


def _traccar_bool(value: Any, field_name: str, *, one_is_true: bool = False) -> bool:
    """Java ``Boolean.parseBoolean`` (true iff "true", any case), optionally also accepting "1"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return one_is_true and value == 1
    if isinstance(value, str):
        return value.lower() == "true" or (one_is_true and value == "1")
    _bad(field_name, f"{field_name} must be a boolean")


def _string(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        _bad(field_name, f"{field_name} must be a string")
    return value


# --------------------------------------------------------------------------------------------------
# OsmAnd: query string / form body / SDK flat JSON objects


def _iter_pairs(
    params: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, Any]],
) -> Iterator[tuple[str, Any]]:
    if isinstance(params, Mapping):
        for key, value in params.items():
            # A list value is a repeated key (parse_qs style); Traccar iterates every value.
            if isinstance(value, list | tuple):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from params


def _decode_flat(pairs: Iterable[tuple[str, Any]]) -> DeviceFix:
    """One OsmAnd report from (key, value) pairs; values are strings or, from JSON, native types."""
    device_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    recorded_at: datetime | None = None
    accuracy: float | None = None
    speed: float | None = None
    heading: float | None = None
    altitude: float | None = None
    battery: float | None = None
    charging: bool | None = None
    valid: bool | None = None
    alarm: str | None = None
    attributes: dict[str, Any] = {}

    for key, value in pairs:
        if not isinstance(key, str):
            _bad(str(key), "parameter names must be strings")
        # Traccar skips empty values; a JSON null is the same "not sent".
        if value is None or value == "":
            continue
        match key:
            case "id" | "deviceid":
                device_id = _identifier(value, key)
            case "valid":
                valid = _traccar_bool(value, key, one_is_true=True)
            case "timestamp":
                recorded_at = _osmand_timestamp(value)
            case "lat":
                lat = _latitude(value, key)
            case "lon":
                lon = _longitude(value, key)
            case "location":
                parts = _string(value, key).split(",")
                if len(parts) < 2:
                    _bad(key, "location must be lat,lon")
                lat = _latitude(parts[0], key)
                lon = _longitude(parts[1], key)
            case "speed":
                knots = _non_negative(_number(value, key))
                speed = None if knots is None else knots * KNOT_TO_MPS
            case "bearing" | "heading":
                heading = _non_negative(_number(value, key))
            case "altitude":
                altitude = _number(value, key)
            case "accuracy":
                accuracy = _non_negative(_number(value, key))
            case "hdop":
                attributes["hdop"] = _number(value, key)
            case "batt":
                battery = _battery_pct(_number(value, key), key, 100.0)
            case "charge":
                charging = _traccar_bool(value, key)
            case "alarm":
                alarm = _string(value, key)
            case "cell" | "wifi":
                # Repeatable (one per tower / access point), so every value is kept in order.
                attributes.setdefault(key, []).append(value)
            case _:
                # Unlike Traccar, which coerces "12" to 12.0 and "true" to True, strings stay
                # verbatim: an IMEI or a zero-padded id must survive untouched.
                attributes[key] = value

    if device_id is None:
        _missing_device_id()
    # Like current Traccar, half a coordinate is no position at all.
    if lat is None or lon is None:
        lat = lon = None
    if valid is None and lat is not None:
        valid = True  # Traccar's default for a report that carries a position
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


def parse_osmand_params(
    params: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]],
) -> DeviceFix:
    """Decode an OsmAnd request's query string, or its form-encoded body when the URL has no query.

    ``params`` is a mapping of already URL-decoded values (a list value = a repeated key, as
    ``urllib.parse.parse_qs`` returns) or an iterable of ``(key, value)`` pairs such as Starlette's
    ``request.query_params.multi_items()``; with a plain mapping a repeated key keeps one value only.
    For single-valued keys the last occurrence wins, as in Traccar.

    ``speed`` arrives in knots and is returned in m/s. Missing ``id``/``deviceid`` raises
    ``InvalidInput(code="missing_device_id")``; an unparseable value raises
    ``InvalidInput(code="bad_field", details={"field": name})``. Missing ``lat``/``lon`` is not an
    error here: the fix comes back with ``lat = lon = None``.
    """
    return _decode_flat(_iter_pairs(params))


# --------------------------------------------------------------------------------------------------
# OsmAnd: Traccar Client >= 9 JSON (background-geolocation SDK shape)


def _sdk_location(location: Any, device_id: str, shared: Mapping[str, Any], where: str) -> DeviceFix:
    if not isinstance(location, dict):
        _bad(where, f"{where} must be an object")
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
                    recorded_at = _parse_iso(_string(value, f"{where}.timestamp"), f"{where}.timestamp")
            case "coords":
                if value is None:
                    continue
                if not isinstance(value, dict):
                    _bad(f"{where}.coords", "coords must be an object")
                valid = True
                for c_key, c_value in value.items():
                    name = f"{where}.coords.{c_key}"
                    if c_value is None:
                        continue
                    match c_key:
                        case "latitude":
                            lat = _latitude(c_value, name)
                        case "longitude":
                            lon = _longitude(c_value, name)
                        case "speed":
                            # Already m/s in this format, unlike the query string's knots.
                            speed = _non_negative(_number(c_value, name))
                        case "heading":
                            heading = _non_negative(_number(c_value, name))
                        case "accuracy":
                            accuracy = _non_negative(_number(c_value, name))
                        case "altitude":
                            altitude = _number(c_value, name)
                        case _:
                            attributes[c_key] = c_value  # speed_accuracy, floor, ...
            case "battery":
                if value is None:
                    continue
                if not isinstance(value, dict):
                    _bad(f"{where}.battery", "battery must be an object")
                level = _optional_number(value.get("level"), f"{where}.battery.level")
                battery = _battery_pct(level, f"{where}.battery.level", 1.0)
                is_charging = value.get("is_charging")
                if is_charging is not None and not isinstance(is_charging, bool):
                    _bad(f"{where}.battery.is_charging", "is_charging must be a boolean")
                charging = is_charging
            case "alarm":
                if value is not None:
                    alarm = _string(value, f"{where}.alarm")
            case "extras":
                if value is None:
                    continue
                if not isinstance(value, dict):
                    _bad(f"{where}.extras", "extras must be an object")
                extras = value
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
                alarm = _string(value, f"{where}.extras.alarm")
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
    device_id = None if raw_id is None else _identifier(raw_id, "device_id")
    if device_id is None:
        _missing_device_id()
    # Any other top-level key is an HttpConfig.params entry the app added; keep it on every fix.
    shared = {k: v for k, v in root.items() if k not in ("device_id", "location")}
    location = root.get("location")
    if location is None:
        _bad("location", "location is required")
    if isinstance(location, list):
        return [
            _sdk_location(item, device_id, shared, f"location[{index}]")
            for index, item in enumerate(location)
        ]
    return [_sdk_location(location, device_id, shared, "location")]


def _flat_item(item: Any, index: int) -> DeviceFix:
    if not isinstance(item, dict):
        _bad(f"[{index}]", "each array element must be an object")
    try:
        return _decode_flat(item.items())
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
      like :func:`parse_osmand_params` (speed in knots), values possibly numbers or booleans.
    * ``{"id": ..., "lat": ...}``: a single such flat object.

    Errors: no device id -> ``missing_device_id``; a value of the wrong type or out of range ->
    ``bad_field`` with ``details["field"]`` (and ``details["index"]`` for array elements). A missing
    coordinate or timestamp is not an error (``None``).
    """
    if isinstance(body, list):
        return [_flat_item(item, index) for index, item in enumerate(body)]
    if not isinstance(body, dict):
        _bad("body", "the JSON body must be an object or an array")
    # A flat object's "location" is the "lat,lon" string; the SDK's is an object or a list.
    if "device_id" in body or isinstance(body.get("location"), dict | list):
        return _decode_sdk(body)
    return [_decode_flat(body.items())]


# --------------------------------------------------------------------------------------------------
# OwnTracks HTTP mode

# Keys decoded into DeviceFix fields; everything else in a location message lands in attributes.
_OWNTRACKS_DECODED = frozenset({"_type", "lat", "lon", "tst", "acc", "alt", "vel", "cog", "batt", "bs"})


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def owntracks_identity(
    user: str | None, device: str | None, body_topic: str | None
) -> tuple[str | None, str | None]:
    """Resolve (user, device) for an OwnTracks publish.

    ``user``/``device`` come from the caller (``X-Limit-U``/``X-Limit-D`` headers, ``?u=&d=``, or
    an authenticating proxy) and always win. Missing parts are taken from the payload's ``topic``
    (``owntracks/<user>/<device>[/suffix]``; the first level may be any prefix and a leading ``/`` is
    allowed, as the OwnTracks Recorder accepts) but only when the topic agrees with whatever the
    caller did supply, so a client cannot pair an authenticated user with another user's topic.
    The topic is client-asserted: trust it only behind authentication.
    """
    user = _blank_to_none(user)
    device = _blank_to_none(device)
    if (user is None or device is None) and body_topic:
        parts = body_topic.lstrip("/").split("/")
        if len(parts) >= 3 and parts[1] and parts[2]:
            topic_user, topic_device = parts[1], parts[2]
            if user in (None, topic_user) and device in (None, topic_device):
                user, device = topic_user, topic_device
    return user, device


def _owntracks_fix(data: dict[str, Any], device_id: str) -> DeviceFix:
    lat_raw, lon_raw = data.get("lat"), data.get("lon")
    lat = None if lat_raw is None else _latitude(lat_raw, "lat")
    lon = None if lon_raw is None else _longitude(lon_raw, "lon")
    if lat is None or lon is None:
        lat = lon = None

    tst = _optional_number(data.get("tst"), "tst")
    # The apps treat tst <= 0 as "no fix time" (Android's isValidMessage requires tst > 0).
    recorded_at = _from_epoch(tst, "tst") if tst is not None and tst > 0 else None

    vel = _non_negative(_optional_number(data.get("vel"), "vel"))
    charging: bool | None = None
    bs = _optional_number(data.get("bs"), "bs")
    if bs is not None:
        if not bs.is_integer():
            _bad("bs", "bs must be an integer")
        # 3 = full means still on the charger; "charging" here means "on external power".
        charging = True if bs in (2, 3) else False if bs == 1 else None

    return DeviceFix(
        device_id=device_id,
        lat=lat,
        lon=lon,
        recorded_at=recorded_at,
        accuracy_m=_non_negative(_optional_number(data.get("acc"), "acc")),
        speed_mps=None if vel is None else vel * KMH_TO_MPS,
        heading_deg=_non_negative(_optional_number(data.get("cog"), "cog")),
        # Unlike acc/vel/cog, a negative altitude is real (below sea level), so -1 is kept.
        altitude_m=_optional_number(data.get("alt"), "alt"),
        battery_pct=_battery_pct(_optional_number(data.get("batt"), "batt"), "batt", 100.0),
        charging=charging,
        valid=True if lat is not None else None,
        alarm=None,  # OwnTracks has no alarm field
        attributes={k: v for k, v in data.items() if k not in _OWNTRACKS_DECODED},
    )


def parse_owntracks(
    body: bytes, *, user: str | None, device: str | None, topic_fallback: bool = True
) -> OwnTracksMessage:
    """Decode one OwnTracks HTTP-mode POST body.

    * Empty (or whitespace-only) body -> ``OwnTracksMessage(None, None)``: the booklet notes
      zero-length publishes happen and are best ignored.
    * Not JSON, or JSON that is not an object -> ``InvalidInput(code="invalid_json")``; no string
      ``_type`` -> ``bad_field``.
    * ``_type`` other than ``location`` (transition, waypoint(s), lwt, status, card, cmd, beacon,
      steps, encrypted, ...) -> ``OwnTracksMessage(type, None)``.
    * ``location`` -> a :class:`DeviceFix`: ``vel`` km/h -> m/s, ``tst`` epoch seconds, ``batt``
      percent, ``bs`` 2/3 -> charging, 1 -> not charging; a negative ``acc``/``vel``/``cog``/``batt``
      or a non-positive ``tst`` means unknown (None). Every other key (``tid``, ``topic``, ``t``,
      ``conn``, ``created_at``, ``vac``, ``m``, ``inregions``, ``SSID``...) is kept in attributes.

    Device identity: ``(user, device)`` from :func:`owntracks_identity` (the ``topic`` is consulted
    only when ``topic_fallback``). ``device_id`` is ``"<user>/<device>"`` when both are known, the
    Recorder's own key for a device. Otherwise it is the bare ``tid`` (the app's two-character tracker
    id, which defaults to the end of the topic): the only identity left, but not unique across a
    fleet, so deployments should send ``X-Limit-U``/``X-Limit-D``. With neither, a location raises
    ``missing_device_id``.
    """
    if not body.strip():
        return OwnTracksMessage(None, None)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the body is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("an OwnTracks message must be a JSON object", code="invalid_json")
    msg_type = data.get("_type")
    if not isinstance(msg_type, str) or not msg_type:
        _bad("_type", "_type must be a non-empty string")
    if msg_type != "location":
        return OwnTracksMessage(msg_type, None)

    topic = data.get("topic")
    body_topic = topic if topic_fallback and isinstance(topic, str) else None
    resolved_user, resolved_device = owntracks_identity(user, device, body_topic)
    if resolved_user is not None and resolved_device is not None:
        device_id = f"{resolved_user}/{resolved_device}"
    else:
        tid = data.get("tid")
        tid_text = _blank_to_none(tid) if isinstance(tid, str) else None
        if tid_text is None:
            _missing_device_id()
        device_id = tid_text
    return OwnTracksMessage(msg_type, _owntracks_fix(data, device_id))
