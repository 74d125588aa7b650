"""OsmAnd's flat key set: the query string, the form body, and the flat JSON objects that reuse it.

Follows Traccar's ``OsmAndProtocolDecoder.decodeQuery`` (traccar/traccar,
``src/main/java/org/traccar/protocol/OsmAndProtocolDecoder.java``) and its test
``OsmAndProtocolDecoderTest.testDecodeQuery``: ``id``/``deviceid``; ``valid`` is true for ``true``
(any case) or ``1``; ``timestamp`` is tried as a long first (``< Integer.MAX_VALUE`` = epoch seconds,
otherwise epoch milliseconds), then, if it contains ``T``, as ISO 8601 *with* an offset
(``DateUtil.parseDate`` uses ``ISO_ZONED_DATE_TIME``), otherwise as ``yyyy-MM-dd HH:mm:ss``;
``lat``/``lon`` or ``location=lat,lon``; ``speed`` in knots; ``bearing``/``heading``; ``altitude``;
``accuracy``; ``hdop``; ``batt`` (percent); ``charge``; empty values are skipped; any other key is
kept as a number when ``Double.parseDouble`` reads it, as a boolean for ``true``/``false``, else as the
string (below, how we keep identifiers intact).

The Traccar Client 10.x (traccar/traccar-client-sdk ``HttpUploader.kt``, its default: a form-encoded
POST) sends its numbers this way: ``battery_voltage=4123``, ``battery_temp=31.5``, ``charge=true``;
without a location fix (its heartbeat) only ``id``, ``timestamp`` and the battery keys.

The same keys arrive as JSON-typed values in traccar/traccar-client-sdk's upload
(``core/.../HttpUploader.kt`` with ``uploadJson``), which :mod:`.osmand_json` hands to
:func:`decode_flat`; hence the decoder accepts native numbers and booleans as well as strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from jogo_dispatch.tracking.protocols.common import (
    EPOCH,
    DeviceFix,
    bad_field,
    battery_pct,
    from_epoch,
    identifier,
    latitude,
    longitude,
    missing_device_id,
    non_negative,
    number,
    parse_iso,
    string,
)

__all__ = ["KNOT_TO_MPS", "decode_flat", "parse_osmand_params"]

KNOT_TO_MPS = 1852.0 / 3600.0  # international knot, exact: 0.514444...

# Java's Integer.MAX_VALUE: Traccar multiplies by 1000 only when the value is strictly below it.
_SECONDS_LIMIT = 2_147_483_647

# What Java's Long.parseLong accepts: tells an epoch timestamp from a date-time string.
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")

# A query value that is plainly a number: no leading zero (a zero-padded id stays a string), at most 15
# integer digits (exact as a double, so no long serial number turns into a rounded float), no exponent.
_PLAIN_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(\.[0-9]+)?")
# Keys whose values are identifiers however numeric they look (Traccar keeps driverUniqueId a string).
_IDENTIFIER_KEYS = frozenset({"imei", "driverUniqueId", "iccid", "imsi", "serial"})


def _osmand_timestamp(value: Any) -> datetime:
    """Traccar's OsmAnd ``timestamp`` rules: integer seconds/milliseconds, ISO, or local format."""
    name = "timestamp"
    if isinstance(value, bool):
        bad_field(name, "timestamp must be a number or a date-time string")
    if isinstance(value, float):
        if not math.isfinite(value):
            bad_field(name, "timestamp must be finite")
        # Same seconds/milliseconds threshold as the integer case, so a float epoch is not 1000x off.
        return from_epoch(value if value < _SECONDS_LIMIT else value / 1000.0, name)
    if isinstance(value, int):
        epoch = value
    elif isinstance(value, str):
        if not _INTEGER_RE.fullmatch(value):
            if "T" in value:
                return parse_iso(value, name)
            try:
                naive = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                bad_field(name, "timestamp is neither epoch, ISO 8601 nor yyyy-MM-dd HH:mm:ss")
            # Unlike Traccar, which uses the server JVM's default zone here, we read it as UTC.
            return naive.replace(tzinfo=UTC)
        epoch = int(value)
    else:
        bad_field(name, "timestamp must be a number or a date-time string")
    # Integer milliseconds rather than from_epoch's float seconds, so millisecond epochs stay exact.
    millis = epoch * 1000 if epoch < _SECONDS_LIMIT else epoch
    try:
        return EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        bad_field(name, "timestamp is out of range")


def _query_value(key: str, value: Any) -> Any:
    """A query or form value as Traccar types it (a number, ``true``/``false``), when it plainly is one."""
    if not isinstance(value, str) or key in _IDENTIFIER_KEYS:
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    match = _PLAIN_NUMBER_RE.fullmatch(value)
    if match is None:
        return value
    return float(value) if match.group(1) else int(value)


def _traccar_bool(value: Any, field_name: str, *, one_is_true: bool = False) -> bool:
    """Java ``Boolean.parseBoolean`` (true iff "true", any case), optionally also accepting "1"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return one_is_true and value == 1
    if isinstance(value, str):
        return value.lower() == "true" or (one_is_true and value == "1")
    bad_field(field_name, f"{field_name} must be a boolean")


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


def decode_flat(pairs: Iterable[tuple[str, Any]], *, text_values: bool = False) -> DeviceFix:
    """One OsmAnd report from (key, value) pairs; values are strings or, from JSON, native types.
    ``text_values``: they came from a query or form (all text), so unknown keys' numbers and booleans
    are typed back as Traccar does; JSON values keep the type they were sent with."""
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
            bad_field(str(key), "parameter names must be strings")
        # Traccar skips empty values; a JSON null is the same "not sent".
        if value is None or value == "":
            continue
        match key:
            case "id" | "deviceid":
                device_id = identifier(value, key)
            case "valid":
                valid = _traccar_bool(value, key, one_is_true=True)
            case "timestamp":
                recorded_at = _osmand_timestamp(value)
            case "lat":
                lat = latitude(value, key)
            case "lon":
                lon = longitude(value, key)
            case "location":
                parts = string(value, key).split(",")
                if len(parts) < 2:
                    bad_field(key, "location must be lat,lon")
                lat = latitude(parts[0], key)
                lon = longitude(parts[1], key)
            case "speed":
                knots = non_negative(number(value, key))
                speed = None if knots is None else knots * KNOT_TO_MPS
            case "bearing" | "heading":
                heading = non_negative(number(value, key))
            case "altitude":
                altitude = number(value, key)
            case "accuracy":
                accuracy = non_negative(number(value, key))
            case "hdop":
                attributes["hdop"] = number(value, key)
            case "batt":
                battery = battery_pct(number(value, key), key, 100.0)
            case "charge":
                charging = _traccar_bool(value, key)
            case "alarm":
                alarm = string(value, key)
            case "cell" | "wifi":
                # Repeatable (one per tower / access point), so every value is kept in order.
                attributes.setdefault(key, []).append(value)
            case _:
                # Like Traccar, "933" is 933 and "true" True; unlike it, "007" or an IMEI stay strings,
                # and a JSON string stays the string it was sent as.
                attributes[key] = _query_value(key, value) if text_values else value

    if device_id is None:
        missing_device_id()
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
    return decode_flat(_iter_pairs(params), text_values=True)
