"""Conformance tests: requests literally as the public phone apps send them.

Sources of the literal payloads: Traccar's OsmAndProtocolDecoderTest (query and JSON cases), the
Traccar Client templates (traccar-client-android ProtocolFormatter.kt, traccar-client-ios
ProtocolFormatter.swift, traccar-client lib/preferences.dart), traccar-client-sdk HttpUploader.kt,
OsmAnd's LiveSender URL placeholders, and the OwnTracks booklet / app serialisers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.tracking.protocols import (
    DeviceFix,
    OwnTracksMessage,
    owntracks_identity,
    parse_osmand_json,
    parse_osmand_params,
    parse_owntracks,
)


def query(url: str) -> list[tuple[str, str]]:
    """What the HTTP layer hands over: the URL-decoded (key, value) pairs, repeats kept."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@contextmanager
def raises_code(code: str, field: str | None = None) -> Iterator[None]:
    with pytest.raises(InvalidInput) as info:
        yield
    assert info.value.code == code, info.value.body()
    if field is not None:
        assert info.value.details["field"] == field, info.value.body()


# ------------------------------------------------------------------------------------------------
# OsmAnd query string / form body


def test_traccar_client_android_classic_query() -> None:
    fix = parse_osmand_params(
        query(
            "http://dispatch.example:5055/?id=123456&timestamp=1700000000&lat=-7.9666&lon=112.6326"
            "&speed=10.0&bearing=90.0&altitude=450.0&accuracy=5.0&batt=87.0&charge=true"
        )
    )
    assert fix.speed_mps == pytest.approx(5.14444, abs=1e-5)  # 10 knots
    assert replace(fix, speed_mps=None) == DeviceFix(
        device_id="123456",
        lat=-7.9666,
        lon=112.6326,
        recorded_at=utc(2023, 11, 14, 22, 13, 20),
        accuracy_m=5.0,
        speed_mps=None,
        heading_deg=90.0,
        altitude_m=450.0,
        battery_pct=87.0,
        charging=True,
        valid=True,
        alarm=None,
        attributes={},
    )


def test_traccar_client_android_sos_with_mock_location_keeps_extras() -> None:
    # ProtocolFormatter.kt appends mock=true for mock providers and alarm=sos for the SOS button.
    fix = parse_osmand_params(
        query(
            "http://dispatch.example:5055?id=868686&timestamp=1700000000&lat=-7.9666&lon=112.6326"
            "&speed=0.0&bearing=0.0&altitude=0.0&accuracy=0.0&batt=42.0&mock=true&alarm=sos"
        )
    )
    assert fix.alarm == "sos"
    assert fix.attributes == {"mock": True}  # typed back as Traccar does
    assert fix.battery_pct == 42.0
    assert fix.speed_mps == 0.0
    assert fix.charging is None


def test_traccar_client_ios_classic_query() -> None:
    # ProtocolFormatter.swift: lat/lon with %.06f, no accuracy, speed already in knots.
    fix = parse_osmand_params(
        query(
            "https://dispatch.example:5055?id=ios-77&timestamp=1700000000&lat=-7.966600&lon=112.632600"
            "&speed=19.4384&bearing=181.5&altitude=452.25&batt=0.55"
        )
    )
    assert fix.device_id == "ios-77"
    assert (fix.lat, fix.lon) == (-7.9666, 112.6326)
    assert fix.speed_mps == pytest.approx(10.0, abs=1e-4)
    assert fix.heading_deg == 181.5
    assert fix.accuracy_m is None
    assert fix.battery_pct == 0.55


def test_osmand_app_location_param_and_millisecond_timestamp() -> None:
    # OsmAnd's online-tracking template rendered: {2} is Location.getTime() in milliseconds.
    fix = parse_osmand_params(
        query(
            "http://dispatch.example:5055/?id=osmand-7&location=-7.96660,112.63260"
            "&timestamp=1700000000123&hdop=4.0&altitude=452.0&speed=3.5&bearing=270.0"
        )
    )
    assert (fix.lat, fix.lon) == (-7.9666, 112.6326)
    assert fix.recorded_at == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert fix.attributes == {"hdop": 4.0}
    assert fix.speed_mps == pytest.approx(3.5 * 0.514444, abs=1e-5)  # read as knots, like Traccar
    assert fix.heading_deg == 270.0


def test_traccar_test_millisecond_timestamp_with_hdop() -> None:
    fix = parse_osmand_params(
        query(
            "/?id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0&altitude=224.0&speed=0.0"
        )
    )
    assert fix.recorded_at == datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=UTC)
    assert fix.attributes == {"hdop": 6.0}
    assert fix.altitude_m == 224.0


def test_iso_timestamp() -> None:
    fix = parse_osmand_params(
        query("/?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0")
    )
    assert fix.recorded_at == utc(2016, 1, 27, 18, 55, 47)
    offset = parse_osmand_params({"id": "1", "timestamp": "2016-01-27T20:55:47.250+02:00"})
    assert offset.recorded_at == datetime(2016, 1, 27, 18, 55, 47, 250000, tzinfo=UTC)
    assert offset.recorded_at.utcoffset() == UTC.utcoffset(None)


def test_local_format_timestamp_is_utc() -> None:
    fix = parse_osmand_params(
        query(
            "/?lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11"
            "&altitude=384.7&speed=0.0&id=353861053849681"
        )
    )
    assert fix.device_id == "353861053849681"
    assert fix.recorded_at == utc(2014, 6, 4, 9, 10, 11)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2147483646", utc(2038, 1, 19, 3, 14, 6)),  # last value read as seconds
        ("2147483647", datetime(1970, 1, 25, 20, 31, 23, 647000, tzinfo=UTC)),  # == MAX: milliseconds
        ("2147483648", datetime(1970, 1, 25, 20, 31, 23, 648000, tzinfo=UTC)),
        ("0", utc(1970, 1, 1)),
        ("+1700000000", utc(2023, 11, 14, 22, 13, 20)),
    ],
)
def test_timestamp_seconds_milliseconds_boundary(raw: str, expected: datetime) -> None:
    assert parse_osmand_params({"id": "1", "timestamp": raw}).recorded_at == expected


def test_deviceid_alias_heading_alias_and_unknown_keys_typed_like_traccar() -> None:
    fix = parse_osmand_params(
        query("/?lat=60.0&lon=30.0&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid=123456")
    )
    assert fix.device_id == "123456"
    assert fix.heading_deg == 0.0
    assert fix.recorded_at is None  # caller falls back to server time
    assert fix.attributes == {"vacc": 0, "hacc": 0}


def test_extra_obd_keys_are_typed_and_zero_padded_ids_survive_as_strings() -> None:
    fix = parse_osmand_params(
        query(
            "/?id=123456789012345&timestamp=1504763810&lat=40.7232948571&lon=-74.0061408571"
            "&bearing=7.19889788244&speed=40&ignition=true&rpm=933&fuel=24&imei=0356938035643809"
            "&driverUniqueId=007"
        )
    )
    assert fix.attributes == {
        "ignition": True,
        "rpm": 933,
        "fuel": 24,
        "imei": "0356938035643809",
        "driverUniqueId": "007",
    }
    assert fix.speed_mps == pytest.approx(20.5778, abs=1e-4)
    assert fix.recorded_at == utc(2017, 9, 7, 5, 56, 50)


def test_cell_and_wifi_without_position() -> None:
    fix = parse_osmand_params(
        query(
            "/?id=123456&timestamp=1377177267&cell=257,02,16,2224&cell=257,02,16,2223,-90"
            "&wifi=00-14-22-01-23-45,-80&wifi=00-1C-B3-09-85-15,-70"
        )
    )
    assert (fix.lat, fix.lon, fix.valid) == (None, None, None)
    assert fix.recorded_at == utc(2013, 8, 22, 13, 14, 27)
    assert fix.attributes == {
        "cell": ["257,02,16,2224", "257,02,16,2223,-90"],
        "wifi": ["00-14-22-01-23-45,-80", "00-1C-B3-09-85-15,-70"],
    }


def test_form_body_and_parse_qs_mapping() -> None:
    body = "id=form-1&lat=-6.2&lon=106.8&timestamp=1700000000&speed=1.0&charge=false&valid=1"
    from_pairs = parse_osmand_params(parse_qsl(body))
    from_mapping = parse_osmand_params(parse_qs(body))
    from_plain = parse_osmand_params(dict(parse_qsl(body)))
    assert from_pairs == from_mapping == from_plain
    assert from_pairs.charging is False
    assert from_pairs.valid is True
    assert from_pairs.speed_mps == pytest.approx(0.514444, abs=1e-6)


# traccar-client-sdk HttpUploader.kt without uploadJson (the Traccar Client 10.x default): a form-encoded
# POST, numbers written with toString(), battery keys from the battery processor.
SDK_FORM_FIX = (
    "id=48241179&lat=-7.9666&lon=112.6326&timestamp=1700000000&accuracy=5.0&altitude=450.0&speed=19.44"
    "&bearing=90.0&batt=87&charge=true&battery_health=good&battery_voltage=4123&battery_temp=31.5"
)
# Its heartbeat while stationary when no fix could be had: Position(time = now), battery added.
SDK_FORM_HEARTBEAT = (
    "id=48241179&timestamp=1700000300&batt=86&charge=false&battery_health=good&battery_voltage=4101"
)


def test_traccar_client_10_form_body_keeps_numbers_numbers():
    fix = parse_osmand_params(parse_qsl(SDK_FORM_FIX))
    assert (fix.device_id, fix.lat, fix.lon, fix.battery_pct, fix.charging) == (
        "48241179",
        -7.9666,
        112.6326,
        87.0,
        True,
    )
    assert fix.speed_mps == pytest.approx(10.0008, abs=1e-4)  # knots
    assert fix.attributes == {"battery_health": "good", "battery_voltage": 4123, "battery_temp": 31.5}
    assert type(fix.attributes["battery_voltage"]) is int


def test_traccar_client_10_heartbeat_has_no_position_but_battery_and_time():
    fix = parse_osmand_params(parse_qsl(SDK_FORM_HEARTBEAT))
    assert (fix.lat, fix.lon, fix.valid) == (None, None, None)
    assert fix.recorded_at == utc(2023, 11, 14, 22, 18, 20)
    assert (fix.battery_pct, fix.charging) == (86.0, False)
    assert fix.attributes == {"battery_health": "good", "battery_voltage": 4101}


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("933", 933),
        ("-12", -12),
        ("0", 0),
        ("24.5", 24.5),
        ("-0.25", -0.25),
        ("true", True),
        ("false", False),
        ("True", "True"),  # Traccar's switch is on "true" and "false" only
        ("007", "007"),
        ("1e5", "1e5"),
        ("1234567890123456", "1234567890123456"),  # 16 digits: not exact as a double, stays text
        ("12.", "12."),
        ("R-12", "R-12"),
        (" 5", " 5"),
    ],
)
def test_query_values_are_typed_only_when_plainly_numbers_or_booleans(raw, typed):
    attributes = parse_osmand_params({"id": "1", "extra": raw}).attributes
    assert attributes == {"extra": typed} and type(attributes["extra"]) is type(typed)


def test_identifier_keys_stay_strings_and_json_strings_stay_strings():
    assert parse_osmand_params({"id": "1", "imei": "356938035643809"}).attributes == {
        "imei": "356938035643809"
    }
    [fix] = parse_osmand_json([{"id": "1", "rpm": "933", "mock": "true", "n": 933}])
    assert fix.attributes == {"rpm": "933", "mock": "true", "n": 933}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False), ("yes", False)],
)
def test_valid_flag_follows_boolean_parse_or_one(raw: str, expected: bool) -> None:
    assert parse_osmand_params({"id": "1", "lat": "1", "lon": "2", "valid": raw}).valid is expected


def test_valid_defaults_true_only_with_a_position() -> None:
    assert parse_osmand_params({"id": "1", "lat": "1", "lon": "2"}).valid is True
    assert parse_osmand_params({"id": "1"}).valid is None


def test_missing_coordinates_are_not_an_error_and_half_a_pair_is_dropped() -> None:
    only_lat = parse_osmand_params({"id": "1", "lat": "10.5"})
    assert (only_lat.lat, only_lat.lon) == (None, None)
    assert only_lat.device_id == "1"


def test_empty_values_are_skipped() -> None:
    fix = parse_osmand_params(query("/?id=5&lat=1&lon=2&speed=&bearing=&batt=&timestamp="))
    assert (fix.speed_mps, fix.heading_deg, fix.battery_pct, fix.recorded_at) == (None, None, None, None)


def test_negative_speed_bearing_accuracy_battery_mean_unknown() -> None:
    fix = parse_osmand_params({"id": "1", "speed": "-1", "bearing": "-1", "accuracy": "-1", "batt": "-1"})
    assert (fix.speed_mps, fix.heading_deg, fix.accuracy_m, fix.battery_pct) == (None, None, None, None)


def test_missing_or_blank_id() -> None:
    with raises_code("missing_device_id"):
        parse_osmand_params(query("/?timestamp=1377177267&lat=60.0&lon=30.0"))
    with raises_code("missing_device_id"):
        parse_osmand_params(query("/?id=&lat=60.0&lon=30.0"))
    with raises_code("missing_device_id"):
        parse_osmand_params({"id": "   "})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "abc"}, "lat"),
        ({"lat": "NaN"}, "lat"),
        ({"lon": "Infinity"}, "lon"),
        ({"accuracy": "1e999"}, "accuracy"),  # matches the number syntax but overflows to inf
        ({"lat": "91"}, "lat"),
        ({"lon": "-180.5"}, "lon"),
        ({"location": "60.0"}, "location"),
        ({"location": "60.0;30.0"}, "location"),
        ({"speed": "fast"}, "speed"),
        ({"bearing": "1_000"}, "bearing"),
        ({"altitude": "0x10"}, "altitude"),
        ({"hdop": "high"}, "hdop"),
        ({"batt": "150"}, "batt"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2016-01-27T18:55:47"}, "timestamp"),  # no offset: Traccar refuses too
        ({"timestamp": "2016-13-40 99:00:00"}, "timestamp"),
        ({"timestamp": "99999999999999999999999"}, "timestamp"),
    ],
)
def test_unparseable_values(params: dict[str, str], field: str) -> None:
    with raises_code("bad_field", field):
        parse_osmand_params({"id": "1", **params})


# ------------------------------------------------------------------------------------------------
# OsmAnd JSON: Traccar Client >= 9 (background-geolocation SDK)

ANDROID_CLIENT_9 = (
    b'{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,'
    b'"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,'
    b'"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},'
    b'"activity":{"type":"still"},"extras":{},'
    b'"_":"&id=48241179&lat=37.4219983&lon=-122.084&timestamp=2025-06-15T13:45:12.862Z&"},'
    b'"device_id":"48241179"}'
)

IOS_SIMULATOR_CLIENT_9 = (
    b'{"location":{"extras":{},"mock":true,"coords":{"speed_accuracy":-1,"speed":-1,'
    b'"longitude":-122.406417,"ellipsoidal_altitude":0,"floor":null,"heading_accuracy":-1,'
    b'"latitude":37.785834000000001,"accuracy":5,"altitude_accuracy":-1,"altitude":0,"heading":-1},'
    b'"is_moving":false,"age":188,"odometer":0,"uuid":"2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8",'
    b'"event":"motionchange","battery":{"level":-1,"is_charging":false},'
    b'"activity":{"type":"unknown","confidence":100},"timestamp":"2025-05-09T04:11:30.579Z"},'
    b'"device_id":"658765"}'
)

MOVING_CLIENT_9 = (
    b'{"location":{"event":"motionchange","is_moving":false,"uuid":"0e9a2473-a9a7-4c00-997b-fb97d2154e75",'
    b'"timestamp":"2021-07-21T08:06:34.444Z","odometer":0,"coords":{"latitude":-6.1148096,'
    b'"longitude":106.6837015,"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,"heading":63,'
    b'"heading_accuracy":0.28,"altitude":35.7,"altitude_accuracy":3.8},'
    b'"activity":{"type":"still","confidence":100},"battery":{"is_charging":false,"level":0.79},'
    b'"extras":{}},"device_id":"8737767034"}'
)


def test_traccar_client_9_android_body() -> None:
    [fix] = parse_osmand_json(orjson.loads(ANDROID_CLIENT_9))
    assert fix == DeviceFix(
        device_id="48241179",
        lat=37.4219983,
        lon=-122.084,
        recorded_at=datetime(2025, 6, 15, 13, 45, 12, 862000, tzinfo=UTC),
        accuracy_m=5.0,
        speed_mps=0.0,
        heading_deg=None,  # -1 = unknown
        altitude_m=5.0,
        battery_pct=100.0,  # level 1 on the 0..1 scale
        charging=False,
        valid=True,
        alarm=None,
        attributes={
            "is_moving": False,
            "odometer": 0,
            "event": "motionchange",
            "activity": {"type": "still"},
        },
    )


def test_traccar_client_9_ios_simulator_unknowns() -> None:
    [fix] = parse_osmand_json(orjson.loads(IOS_SIMULATOR_CLIENT_9))
    assert fix.device_id == "658765"
    assert (fix.speed_mps, fix.heading_deg, fix.battery_pct) == (None, None, None)
    assert fix.charging is False
    assert fix.lat == pytest.approx(37.785834)
    assert fix.recorded_at == datetime(2025, 5, 9, 4, 11, 30, 579000, tzinfo=UTC)
    assert fix.attributes["mock"] is True
    assert fix.attributes["uuid"] == "2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8"
    assert fix.attributes["speed_accuracy"] == -1
    assert fix.attributes["altitude_accuracy"] == -1
    assert "floor" not in fix.attributes  # null means not measured


def test_traccar_client_9_speed_is_already_mps_and_battery_fraction_becomes_percent() -> None:
    [fix] = parse_osmand_json(orjson.loads(MOVING_CLIENT_9))
    assert fix.speed_mps == 18.67  # no knot conversion in the JSON format
    assert fix.heading_deg == 63.0
    assert fix.battery_pct == 79.0
    assert fix.accuracy_m == 3.8
    assert fix.altitude_m == 35.7
    assert fix.attributes["heading_accuracy"] == 0.28


def test_traccar_client_9_extras_become_attributes() -> None:
    body = orjson.loads(ANDROID_CLIENT_9)
    body["location"]["extras"] = {
        "device_string_test": "long_device_id",
        "device_bool_test": True,
        "device_integer_test": 1,
        "device_double_test": 1.345,
        "heartbeat": True,
        "event": "overridden",
    }
    [fix] = parse_osmand_json(body)
    assert fix.attributes["device_string_test"] == "long_device_id"
    assert fix.attributes["device_bool_test"] is True
    assert fix.attributes["device_integer_test"] == 1
    assert fix.attributes["device_double_test"] == 1.345
    assert fix.attributes["heartbeat"] is True
    assert fix.attributes["event"] == "overridden"


def test_traccar_client_9_sos_alarm_from_extras_and_location() -> None:
    body = orjson.loads(ANDROID_CLIENT_9)
    body["location"]["extras"] = {"alarm": "sos"}
    [fix] = parse_osmand_json(body)
    assert fix.alarm == "sos"
    assert "alarm" not in fix.attributes

    body["location"]["alarm"] = "fall"
    [fix] = parse_osmand_json(body)
    assert fix.alarm == "fall"  # the location's own alarm wins, as in Traccar


def test_sdk_batch_sync_location_array() -> None:
    body = orjson.loads(ANDROID_CLIENT_9)
    first = body["location"]
    second = dict(first, timestamp="2025-06-15T13:46:12.862Z", coords=dict(first["coords"], latitude=37.5))
    body["location"] = [first, second]
    fixes = parse_osmand_json(body)
    assert [f.device_id for f in fixes] == ["48241179", "48241179"]
    assert [f.lat for f in fixes] == [37.4219983, 37.5]
    assert fixes[1].recorded_at == datetime(2025, 6, 15, 13, 46, 12, 862000, tzinfo=UTC)
    assert parse_osmand_json({"device_id": "1", "location": []}) == []


def test_json_without_coords_or_timestamp_parses_to_none() -> None:
    [fix] = parse_osmand_json({"device_id": "9", "location": {"event": "heartbeat"}})
    assert (fix.lat, fix.lon, fix.recorded_at, fix.valid) == (None, None, None, None)
    [half] = parse_osmand_json({"device_id": "9", "location": {"coords": {"latitude": 1.0, "speed": 2}}})
    assert (half.lat, half.lon, half.valid, half.speed_mps) == (None, None, None, 2.0)


def test_top_level_http_params_are_kept_on_every_fix() -> None:
    [fix] = parse_osmand_json({"device_id": "9", "unit": "R-12", "location": {"coords": {}}})
    assert fix.attributes == {"unit": "R-12"}


# ------------------------------------------------------------------------------------------------
# OsmAnd JSON: traccar-client-sdk flat-object array (HttpUploader with uploadJson)

SDK_BATCH = (
    b'[{"id":"123456","imei":"356938035643809","lat":-7.9666,"lon":112.6326,"timestamp":1700000000,'
    b'"accuracy":5.0,"altitude":450.0,"speed":19.44,"bearing":90.0,"batt":87,"charge":true,'
    b'"battery_health":"good","battery_voltage":4123,"battery_temp":31.5,"unit":"R-12"},'
    b'{"id":"123456","lat":-7.9667,"lon":112.6327,"timestamp":1700000030,"speed":0.0,"alarm":"sos",'
    b'"charge":false}]'
)


def test_sdk_flat_batch_array() -> None:
    first, second = parse_osmand_json(orjson.loads(SDK_BATCH))
    assert first.device_id == "123456"
    assert first.recorded_at == utc(2023, 11, 14, 22, 13, 20)
    assert first.speed_mps == pytest.approx(10.0008, abs=1e-4)  # knots, as in the query string
    assert first.battery_pct == 87.0
    assert first.charging is True
    assert first.valid is True
    assert first.attributes == {
        "imei": "356938035643809",
        "battery_health": "good",
        "battery_voltage": 4123,
        "battery_temp": 31.5,
        "unit": "R-12",
    }
    assert second.alarm == "sos"
    assert second.charging is False
    assert second.recorded_at == utc(2023, 11, 14, 22, 13, 50)


def test_flat_json_numbers_follow_the_same_timestamp_rule() -> None:
    fixes = parse_osmand_json(
        [
            {"id": 77, "timestamp": 2147483646},
            {"id": "77", "timestamp": 2147483647},
            {"id": "77", "timestamp": 1700000000123},
            {"id": "77", "timestamp": 1700000000.5},
        ]
    )
    assert [f.recorded_at for f in fixes] == [
        utc(2038, 1, 19, 3, 14, 6),
        datetime(1970, 1, 25, 20, 31, 23, 647000, tzinfo=UTC),
        datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
        datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC),
    ]
    assert fixes[0].device_id == "77"


def test_single_flat_json_object() -> None:
    [fix] = parse_osmand_json({"deviceid": "55", "location": None, "lat": 1, "lon": 2})
    # "location": null is the flat key, not the SDK object: nothing to decode.
    assert (fix.device_id, fix.lat, fix.lon) == ("55", 1.0, 2.0)


def test_missing_device_id_in_json() -> None:
    with raises_code("missing_device_id"):
        parse_osmand_json({"location": {"coords": {"latitude": 1, "longitude": 2}}})
    with raises_code("missing_device_id"):
        parse_osmand_json({"device_id": "", "location": {}})
    with raises_code("missing_device_id"):
        parse_osmand_json({"lat": 1, "lon": 2})
    with pytest.raises(InvalidInput) as info:
        parse_osmand_json([{"id": "1"}, {"lat": 1}])
    assert info.value.code == "missing_device_id"
    assert info.value.details == {"index": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("a string", "body"),
        (42, "body"),
        (None, "body"),
        ({"device_id": "1", "location": "here"}, "location"),
        ({"device_id": "1"}, "location"),
        ({"device_id": {"x": 1}, "location": {}}, "device_id"),
        ({"device_id": 1.5, "location": {}}, "device_id"),
        ({"device_id": "1", "location": [{}, 7]}, "location[1]"),
        ({"device_id": "1", "location": {"coords": [1, 2]}}, "location.coords"),
        ({"device_id": "1", "location": {"coords": {"latitude": "north"}}}, "location.coords.latitude"),
        ({"device_id": "1", "location": {"coords": {"latitude": True}}}, "location.coords.latitude"),
        ({"device_id": "1", "location": {"coords": {"longitude": 200}}}, "location.coords.longitude"),
        ({"device_id": "1", "location": {"coords": {"speed": {}}}}, "location.coords.speed"),
        # json.loads (unlike orjson) turns NaN / Infinity literals into floats.
        ({"device_id": "1", "location": {"coords": {"speed": float("nan")}}}, "location.coords.speed"),
        ({"device_id": "1", "location": {"coords": {"altitude": float("-inf")}}}, "location.coords.altitude"),
        ({"device_id": "1", "location": {"battery": 0.5}}, "location.battery"),
        ({"device_id": "1", "location": {"battery": {"level": "full"}}}, "location.battery.level"),
        ({"device_id": "1", "location": {"battery": {"level": 87}}}, "location.battery.level"),
        ({"device_id": "1", "location": {"battery": {"is_charging": "yes"}}}, "location.battery.is_charging"),
        ({"device_id": "1", "location": {"timestamp": 1700000000}}, "location.timestamp"),
        ({"device_id": "1", "location": {"timestamp": "soon"}}, "location.timestamp"),
        ({"device_id": "1", "location": {"extras": ["sos"]}}, "location.extras"),
        ({"device_id": "1", "location": {"extras": {"alarm": 1}}}, "location.extras.alarm"),
        ({"device_id": "1", "location": {"alarm": False}}, "location.alarm"),
        ([{"id": "1"}, "x"], "[1]"),
        ([{"id": "1", "lat": [1]}], "lat"),
        ([{"id": "1", "lat": True}], "lat"),
        ([{"id": "1", "timestamp": False}], "timestamp"),
        ([{"id": "1", "charge": {}}], "charge"),
        ([{"id": "1", "location": 5}], "location"),
        ([{"id": ["1"]}], "id"),
    ],
)
def test_json_garbage_is_invalid_input(body: Any, field: str) -> None:
    with raises_code("bad_field", field):
        parse_osmand_json(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
osmand_keys = st.sampled_from(
    [
        "id",
        "deviceid",
        "lat",
        "lon",
        "location",
        "timestamp",
        "speed",
        "bearing",
        "batt",
        "charge",
        "valid",
        "alarm",
        "coords",
        "battery",
        "extras",
        "latitude",
        "longitude",
        "level",
        "is_charging",
    ]
)
shaped = st.recursive(
    json_values,
    lambda children: (
        st.dictionaries(osmand_keys | st.text(max_size=6), children, max_size=6)
        | st.lists(children, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    body=shaped
    | st.fixed_dictionaries({"device_id": shaped, "location": shaped})
    | st.fixed_dictionaries({"device_id": st.just("1"), "location": st.dictionaries(osmand_keys, shaped)})
    | st.lists(st.dictionaries(osmand_keys, json_values | st.text(max_size=12)), max_size=3)
)
def test_osmand_json_never_raises_anything_but_invalid_input(body: Any) -> None:
    try:
        fixes = parse_osmand_json(body)
    except InvalidInput as error:
        assert error.code in {"bad_field", "missing_device_id"}
    else:
        assert all(isinstance(f, DeviceFix) and f.device_id for f in fixes)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(osmand_keys, st.text(max_size=24), max_size=8))
@example({"lat": "0\x1f"})  # str.strip drops \x1f, float() does not accept it
def test_osmand_params_never_raise_anything_but_invalid_input(params: dict[str, str]) -> None:
    try:
        fix = parse_osmand_params(params)
    except InvalidInput as error:
        assert error.code in {"bad_field", "missing_device_id"}
    else:
        assert fix.recorded_at is None or fix.recorded_at.tzinfo is UTC


# ------------------------------------------------------------------------------------------------
# OwnTracks HTTP mode

ANDROID_LOCATION = (
    b'{"_type":"location","_id":"3c8e0ac2","acc":14,"alt":132,"batt":85,"bs":1,"conn":"m",'
    b'"created_at":1700000005,"lat":-7.9666,"lon":112.6326,"m":1,"t":"u","tid":"ph",'
    b'"topic":"owntracks/jane/phone","tst":1700000000,"vac":2,"vel":36}'
)

IOS_LOCATION = (
    b'{"_type":"location","acc":5,"alt":460,"batt":100,"bs":3,"cog":270,"conn":"w",'
    b'"created_at":1700000002,"inregions":["Polres Malang"],"lat":-7.966600,"lon":112.632600,"m":2,'
    b'"p":99.214,"ssid":"POLRES","bssid":"aa:bb:cc:dd:ee:ff","tid":"JP","topic":"owntracks/jp/iphone",'
    b'"tst":1700000000,"vac":3,"vel":54,"ver":"18.4.1"}'
)


def test_owntracks_android_location_with_headers() -> None:
    message = parse_owntracks(ANDROID_LOCATION, user="jane", device="phone")
    assert message.msg_type == "location"
    assert message.fix == DeviceFix(
        device_id="jane/phone",
        lat=-7.9666,
        lon=112.6326,
        recorded_at=utc(2023, 11, 14, 22, 13, 20),
        accuracy_m=14.0,
        speed_mps=10.0,  # 36 km/h
        heading_deg=None,
        altitude_m=132.0,
        battery_pct=85.0,
        charging=False,  # bs 1 = unplugged
        valid=True,
        alarm=None,
        attributes={
            "_id": "3c8e0ac2",
            "conn": "m",
            "created_at": 1700000005,
            "m": 1,
            "t": "u",
            "tid": "ph",
            "topic": "owntracks/jane/phone",
            "vac": 2,
        },
    )


def test_owntracks_ios_location_identity_from_topic() -> None:
    message = parse_owntracks(IOS_LOCATION, user=None, device=None)
    fix = message.fix
    assert fix is not None
    assert fix.device_id == "jp/iphone"
    assert fix.speed_mps == pytest.approx(15.0)  # 54 km/h
    assert fix.heading_deg == 270.0
    assert fix.charging is True  # bs 3 = full, still on external power
    assert fix.battery_pct == 100.0
    assert fix.attributes["inregions"] == ["Polres Malang"]
    assert fix.attributes["tid"] == "JP"
    assert fix.attributes["p"] == 99.214


def test_owntracks_minus_one_fields_mean_unknown() -> None:
    body = (
        b'{"_type":"location","lat":51.0626,"lon":13.6028,"tst":1376715317,"acc":-1,"vel":-1,'
        b'"cog":-1,"batt":-1,"alt":-1,"tid":"ab"}'
    )
    fix = parse_owntracks(body, user="u", device="d").fix
    assert fix is not None
    assert (fix.accuracy_m, fix.speed_mps, fix.heading_deg, fix.battery_pct) == (None, None, None, None)
    assert fix.altitude_m == -1.0  # altitude below sea level is real, so -1 m is kept
    assert fix.recorded_at == utc(2013, 8, 17, 4, 55, 17)


@pytest.mark.parametrize(("bs", "charging"), [(0, None), (1, False), (2, True), (3, True)])
def test_owntracks_battery_status(bs: int, charging: bool | None) -> None:
    body = orjson.dumps({"_type": "location", "lat": 1, "lon": 2, "tst": 1, "bs": bs, "tid": "ab"})
    fix = parse_owntracks(body, user=None, device=None).fix
    assert fix is not None
    assert fix.charging is charging


def test_owntracks_pre_numeric_string_payload() -> None:
    # Android < 0.5.11 and iOS < 8.0 sent every number as a string.
    body = b'{"_type":"location","lat":"51.0626","lon":"13.6028","tst":"1376715317","acc":"75","batt":"80"}'
    fix = parse_owntracks(body, user="old", device="n4").fix
    assert fix is not None
    assert (fix.lat, fix.lon, fix.accuracy_m, fix.battery_pct) == (51.0626, 13.6028, 75.0, 80.0)
    assert fix.recorded_at == utc(2013, 8, 17, 4, 55, 17)


def test_owntracks_location_without_coordinates() -> None:
    fix = parse_owntracks(b'{"_type":"location","tid":"zz","tst":1700000000}', user=None, device=None).fix
    assert fix is not None
    assert (fix.device_id, fix.lat, fix.lon, fix.valid) == ("zz", None, None, None)
    assert fix.recorded_at == utc(2023, 11, 14, 22, 13, 20)


@pytest.mark.parametrize(
    "body",
    [
        b'{"_type":"location","tid":"zz","lat":1,"lon":2,"tst":0}',
        b'{"_type":"location","tid":"zz","lat":1,"lon":2,"tst":-5}',
        b'{"_type":"location","tid":"zz","lat":1,"lon":2}',
        b'{"_type":"location","tid":"zz","lat":1,"lon":2,"tst":null}',
    ],
)
def test_owntracks_location_without_a_positive_tst_is_refused_as_the_app_does(body: bytes) -> None:
    # owntracks/android MessageLocationDeserializer: "missing 'tst'", "'tst' must be non-zero".
    with raises_code("bad_field", "tst"):
        parse_owntracks(body, user="u", device="d")


def test_owntracks_encrypted_message_hands_back_its_data() -> None:
    message = parse_owntracks(b'{"_type":"encrypted","data":"c2VjcmV0"}', user="jane", device="phone")
    assert message == OwnTracksMessage("encrypted", None, "c2VjcmV0")
    for body in (
        b'{"_type":"encrypted"}',
        b'{"_type":"encrypted","data":""}',
        b'{"_type":"encrypted","data":7}',
    ):
        with raises_code("bad_field", "data"):
            parse_owntracks(body, user="jane", device="phone")


def test_owntracks_device_id_precedence() -> None:
    # Headers win over the topic.
    fix = parse_owntracks(IOS_LOCATION, user="brigadir", device="hp-1").fix
    assert fix is not None and fix.device_id == "brigadir/hp-1"
    # Topic ignored when fallback is off: the tracker id is all that is left.
    fix = parse_owntracks(IOS_LOCATION, user=None, device=None, topic_fallback=False).fix
    assert fix is not None and fix.device_id == "JP"
    # A topic naming another user does not complete a partial header identity.
    fix = parse_owntracks(IOS_LOCATION, user="someone-else", device=None).fix
    assert fix is not None and fix.device_id == "JP"
    # One header plus an agreeing topic completes the pair.
    fix = parse_owntracks(IOS_LOCATION, user="jp", device=None).fix
    assert fix is not None and fix.device_id == "jp/iphone"


def test_owntracks_no_identity_at_all() -> None:
    with raises_code("missing_device_id"):
        parse_owntracks(b'{"_type":"location","lat":1,"lon":2,"tst":1}', user=None, device=None)
    with raises_code("missing_device_id"):
        parse_owntracks(b'{"_type":"location","lat":1,"lon":2,"tid":"  "}', user="only-user", device=None)


@pytest.mark.parametrize(
    ("user", "device", "topic", "expected"),
    [
        ("u", "d", "owntracks/x/y", ("u", "d")),
        (None, None, "owntracks/jane/phone", ("jane", "phone")),
        (None, None, "/owntracks/jane/phone", ("jane", "phone")),
        (None, None, "owntracks/jane/phone/event", ("jane", "phone")),
        (None, None, "tracking/jane/phone", ("jane", "phone")),
        (None, "phone", "owntracks/jane/phone", ("jane", "phone")),
        (None, "tablet", "owntracks/jane/phone", (None, "tablet")),
        ("  ", "", "owntracks/jane/phone", ("jane", "phone")),
        (None, None, "owntracks/jane", (None, None)),
        (None, None, "owntracks//phone", (None, None)),
        (None, None, None, (None, None)),
    ],
)
def test_owntracks_identity(
    user: str | None, device: str | None, topic: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert owntracks_identity(user, device, topic) == expected


@pytest.mark.parametrize(
    ("body", "msg_type"),
    [
        (
            b'{"_type":"transition","wtst":1425042603,"lat":12.34,"lon":44.5,"tst":1427634603,"acc":130,'
            b'"tid":"JP","event":"enter","desc":"Polsek Klojen","t":"c"}',
            "transition",
        ),
        (b'{"_type":"lwt","tst":1380738247}', "lwt"),
        (
            b'{"_type":"waypoint","desc":"Polres","lat":-7.97,"lon":112.63,"rad":150,"tst":1700000000,'
            b'"rid":"6da9cf"}',
            "waypoint",
        ),
        (b'{"_type":"waypoints","waypoints":[{"_type":"waypoint","desc":"x","tst":1}]}', "waypoints"),
        (b'{"_type":"status","iOS":{"version":"18.4.1"},"topic":"owntracks/jp/iphone"}', "status"),
        (b'{"_type":"card","name":"Brigadir J","tid":"JP"}', "card"),
        (b'{"_type":"cmd","action":"reportLocation"}', "cmd"),
        (b'{"_type":"beacon","uuid":"x","major":1,"minor":2,"prox":1}', "beacon"),
        (b'{"_type":"steps","steps":1234,"from":1,"to":2}', "steps"),
    ],
)
def test_owntracks_non_location_messages(body: bytes, msg_type: str) -> None:
    assert parse_owntracks(body, user="jane", device="phone") == OwnTracksMessage(msg_type, None)


@pytest.mark.parametrize("body", [b"", b"   \r\n"])
def test_owntracks_empty_body(body: bytes) -> None:
    assert parse_owntracks(body, user=None, device=None) == OwnTracksMessage(None, None)


@pytest.mark.parametrize(
    "body", [b"not json", b"{", b"\xff\xfe\x00", b'{"_type":"location",}', b"[1,2]", b'"location"']
)
def test_owntracks_invalid_json(body: bytes) -> None:
    with raises_code("invalid_json"):
        parse_owntracks(body, user="u", device="d")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"lat":1}', "_type"),
        (b'{"_type":5}', "_type"),
        (b'{"_type":""}', "_type"),
        (b'{"_type":"location","lat":"north","lon":2}', "lat"),
        (b'{"_type":"location","lat":91,"lon":2}', "lat"),
        (b'{"_type":"location","lat":1,"lon":[2]}', "lon"),
        (b'{"_type":"location","tst":"today"}', "tst"),
        (b'{"_type":"location","tst":1e300}', "tst"),
        (b'{"_type":"location","vel":true}', "vel"),
        (b'{"_type":"location","batt":150}', "batt"),
        (b'{"_type":"location","bs":"charging"}', "bs"),
        (b'{"_type":"location","bs":2.5}', "bs"),
        (b'{"_type":"location","acc":{}}', "acc"),
    ],
)
def test_owntracks_bad_fields(body: bytes, field: str) -> None:
    with raises_code("bad_field", field):
        parse_owntracks(body, user="u", device="d")


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=64)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.dictionaries(
        st.sampled_from(
            ["_type", "lat", "lon", "tst", "acc", "alt", "vel", "cog", "batt", "bs", "tid", "topic"]
        ),
        json_values | st.just("location"),
    ).map(lambda value: json.dumps(value).encode())
)
def test_owntracks_never_raises_anything_but_invalid_input(body: bytes) -> None:
    try:
        message = parse_owntracks(body, user=None, device=None)
    except InvalidInput as error:
        assert error.code in {"invalid_json", "bad_field", "missing_device_id"}
    else:
        assert message.fix is None or message.msg_type == "location"
