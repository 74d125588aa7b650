"""The ping hot path (tracking.wire, filters.screen_columns, writer.encode_columns) answers exactly as the
per-ping path it replaces: the pydantic PingIn reading, the per-fix filters and the per-row COPY encoder."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jogo_dispatch.errors import InvalidInput, PayloadTooLarge
from jogo_dispatch.tracking.filters import REASONS, FilterConfig, Fix, LastFix, screen, screen_columns
from jogo_dispatch.tracking.schemas import parse_ping_items
from jogo_dispatch.tracking.wire import (
    EPOCH,
    ONE_US,
    PingFixes,
    decode_message,
    decode_pings,
    fast_columns,
    to_fixes,
)
from jogo_dispatch.tracking.writer import PingRow, encode_columns, encode_rows

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CFG = FilterConfig()


def _general(items: list[object]) -> tuple[list[tuple[int, Fix]], list[tuple[int, str]]]:
    return parse_ping_items(list(items))


def _as_pairs(body: bytes) -> tuple[list[tuple[int, Fix]], list[tuple[int, str]]]:
    decoded = decode_pings(body, 1000)
    if isinstance(decoded, PingFixes):  # a small request: fixes without numpy
        return decoded.fixes, decoded.rejected
    return list(zip(decoded.index.tolist(), to_fixes(decoded), strict=True)), decoded.rejected


times = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)).map(
        lambda d: d.isoformat()
    ),
    st.sampled_from(
        [
            "2026-06-01T11:59:00Z",
            "2026-06-01t11:59:00z",
            "2026-06-01 11:59:00+07:00",
            "2026-06-01T11:59:00",
            "2026-06-01T11:59",
            "2026-06-01",
            "2026-06-01T11:59:00.1234567Z",
            "2026-06-01T11:59:00.9999996+00:00",
            "2026-06-01T11:59:00,5Z",
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
            "20260601T115900Z",
            "1780315140",
            "not a time",
        ]
    ),
    st.integers(min_value=-(10**11), max_value=10**13),
    st.floats(min_value=-1e12, max_value=1e13, allow_nan=False),
    st.sampled_from([True, None, [], {}]),
)
numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-400, max_value=6000),
    st.integers(min_value=-500, max_value=6000),
    st.sampled_from(["1.5", "NaN", "Infinity", True, "x", 1e308]),
)
pings = st.fixed_dictionaries(
    {"lat": numbers, "lon": numbers, "recorded_at": times},
    optional={
        "accuracy_m": numbers,
        "speed_mps": numbers,
        "heading_deg": numbers,
        "altitude_m": numbers,
        "battery_pct": numbers,
        "note": st.just("extra keys are ignored"),
    },
)


@settings(max_examples=400, deadline=None)
@given(st.lists(pings, max_size=12))
def test_the_fast_decoder_reads_every_batch_as_pydantic_does(batch: list[dict[str, object]]) -> None:
    body = orjson.dumps(batch)
    assert _as_pairs(body) == _general(batch)


epoch_seconds = st.one_of(
    st.floats(min_value=0, max_value=2e10, exclude_max=True),
    st.floats(min_value=1.5e9, max_value=1.9e9).map(lambda t: round(t, 3)),  # phones: milliseconds
    st.integers(0, 2 * 10**9).map(lambda t: t + 0.9999995),  # a fraction that rounds up to a second
)


@settings(max_examples=300, deadline=None)
@given(st.lists(epoch_seconds, min_size=1, max_size=30))
def test_fractional_epoch_seconds_are_read_as_pydantic_reads_them(stamps: list[float]) -> None:
    batch = [{"lat": -7.9, "lon": 112.6, "recorded_at": t} for t in stamps]
    body = orjson.dumps(batch)
    assert _as_pairs(body) == _general(batch)


clean_numbers = st.one_of(st.none(), st.floats(0, 100), st.integers(0, 100))
clean_pings = st.fixed_dictionaries(
    {
        "lat": st.floats(-91, 91),
        "lon": st.floats(-181, 181),
        "recorded_at": st.one_of(
            st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=7))])).map(
                lambda d: d.isoformat()
            ),
            st.integers(-(10**10), 10**10),
        ),
    },
    optional={
        k: clean_numbers for k in ("accuracy_m", "speed_mps", "heading_deg", "altitude_m", "battery_pct")
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(clean_pings, max_size=30))
def test_plain_batches_take_the_fast_path_with_the_same_answers(batch: list[dict[str, object]]) -> None:
    body = orjson.dumps(batch)
    cols = fast_columns(body, 1000)
    outside = any(
        isinstance(p["recorded_at"], str) and p["recorded_at"][:4] in ("0001", "9999") for p in batch
    )
    assert cols is not None or outside
    assert _as_pairs(body) == _general(batch)


@settings(max_examples=200, deadline=None)
@given(pings)
def test_one_ping_object_reads_as_pydantic_does(ping: dict[str, object]) -> None:
    assert _as_pairs(orjson.dumps(ping)) == _general([ping])


def test_a_plain_batch_takes_the_fast_path_and_an_odd_one_does_not() -> None:
    good = [{"lat": -7.9, "lon": 112.6, "recorded_at": "2026-06-01T11:59:00.123456+00:00", "accuracy_m": 5}]
    assert fast_columns(orjson.dumps(good * 3), 1000) is not None
    assert fast_columns(orjson.dumps([{**good[0], "note": 1}]), 1000) is None  # unknown key
    assert fast_columns(orjson.dumps([{**good[0], "lat": "1.5"}]), 1000) is None  # a string for a number
    assert fast_columns(orjson.dumps([{**good[0], "heading_deg": 400}]), 1000) is None  # over the bound
    assert fast_columns(orjson.dumps(good * 3), 2) is None  # too many: the general path says so


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        (b"{not json", InvalidInput, "invalid_json"),
        (b'"a string"', InvalidInput, "bad_body"),
        (b'[{"lat":1,"lon":1,"recorded_at":0,"x":1e400}]', InvalidInput, "invalid_json"),
        (b'[{"lat":1,"lon":1,"recorded_at":0,"x":"\xff"}]', InvalidInput, "invalid_json"),
        (b"[" + b",".join([b'{"lat":1,"lon":1,"recorded_at":0}'] * 11) + b"]", PayloadTooLarge, None),
    ],
)
def test_whole_body_errors_are_those_of_before(body: bytes, error: type[Exception], code: str | None) -> None:
    with pytest.raises(error) as caught:
        decode_pings(body, 10)
    if code is not None:
        assert getattr(caught.value, "code", None) == code


def test_socket_messages_the_fast_path_takes() -> None:
    ping = {"lat": -7.9, "lon": 112.6, "recorded_at": 1780315140}
    fast = decode_message(orjson.dumps({"type": "pings", "seq": 7, "pings": [ping, ping]}), 1000)
    assert fast is not None and fast[0].seq == 7 and len(fast[1]) == 2
    one = decode_message(orjson.dumps({"type": "ping", "seq": "a", "ping": ping}), 1000)
    assert one is not None and len(one[1]) == 1
    for other in (
        {"type": "pong"},
        {"type": "pings", "seq": 1.5, "pings": [ping]},
        {"type": "pings", "pings": None},
        {"type": "pings", "pings": [ping], "extra": 1},
        {"type": "pings", "pings": [{**ping, "lat": "x"}]},
    ):
        assert decode_message(orjson.dumps(other), 1000) is None


# -- the batch filters ------------------------------------------------------------------------------------

fix_times = st.integers(min_value=-200, max_value=200).map(lambda s: NOW + timedelta(seconds=s))
fixes = st.builds(
    Fix,
    lat=st.one_of(st.floats(-8.0, -7.9), st.sampled_from([0.0, 91.0, -7.95])),
    lon=st.one_of(st.floats(112.5, 112.7), st.sampled_from([0.0, 200.0, 112.6])),
    recorded_at=st.one_of(fix_times, st.just(NOW - timedelta(days=400))),
    accuracy_m=st.one_of(st.none(), st.floats(0, 1000)),
)
lasts = st.one_of(
    st.none(),
    st.builds(LastFix, recorded_at=fix_times, lat=st.floats(-8.0, -7.9), lon=st.floats(112.5, 112.7)),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(fixes, min_size=1, max_size=40), lasts)
def test_the_batch_filters_answer_as_the_per_fix_filters(batch: list[Fix], last: LastFix | None) -> None:
    expected = screen(list(enumerate(batch)), last, NOW, CFG)
    t_us = np.array([(f.recorded_at - EPOCH) // ONE_US for f in batch], dtype=np.int64)
    lat = np.array([f.lat for f in batch], dtype=np.float64)
    lon = np.array([f.lon for f in batch], dtype=np.float64)
    acc = np.array([f.accuracy_m for f in batch], dtype=np.float64)
    codes = screen_columns(t_us, lat, lon, acc, last, NOW, CFG)
    if codes is None:  # a fix too fast: the caller runs the per-fix filters
        assert any(reason == "too_fast" for _, reason in expected.rejected)
        return
    got = [(i, REASONS[c]) for i, c in enumerate(codes.tolist()) if c]
    assert got == expected.rejected
    assert [i for i, c in enumerate(codes.tolist()) if not c] == sorted(i for i, _ in expected.accepted)


def _as_columns(batch: list[Fix]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.array([(f.recorded_at - EPOCH) // ONE_US for f in batch], dtype=np.int64),
        np.array([f.lat for f in batch], dtype=np.float64),
        np.array([f.lon for f in batch], dtype=np.float64),
        np.array([f.accuracy_m for f in batch], dtype=np.float64),
    )


@st.composite
def phone_batches(draw: st.DrawFn) -> tuple[list[Fix], LastFix | None]:
    """What a phone sends: fixes in time order, moving at speeds around the limit (so that the quick
    all-pass check of screen_columns and its exact rules both run), now and then one that breaks a rule."""
    steps = draw(
        st.lists(st.tuples(st.integers(1, 30), st.floats(0, 80), st.floats(0, 6.3)), min_size=1, max_size=40)
    )
    t = NOW - timedelta(seconds=draw(st.integers(0, 3000)))
    lat, lon = draw(st.floats(-8.0, -7.9)), draw(st.floats(112.5, 112.7))
    last = draw(st.one_of(st.none(), st.just(LastFix(t - timedelta(seconds=5), lat, lon))))
    batch = []
    for dt_s, speed, bearing in steps:
        t += timedelta(seconds=dt_s)
        metres = speed * dt_s
        lat += metres * math.cos(bearing) / 111_195
        lon += metres * math.sin(bearing) / (111_195 * math.cos(math.radians(lat)))
        batch.append(Fix(lat, lon, t, draw(st.one_of(st.none(), st.floats(0, 60))), None, None, None, None))
    if draw(st.booleans()):
        k = draw(st.integers(0, len(batch) - 1))
        f = batch[k]
        broken = draw(
            st.sampled_from(
                [
                    Fix(f.lat, f.lon, batch[k - 1].recorded_at, f.accuracy_m, None, None, None, None),
                    Fix(91.0, f.lon, f.recorded_at, None, None, None, None, None),
                    Fix(0.0, 0.0, f.recorded_at, None, None, None, None, None),
                    Fix(f.lat, f.lon, f.recorded_at, 5000.0, None, None, None, None),
                    Fix(f.lat, f.lon, NOW + timedelta(hours=1), None, None, None, None, None),
                    Fix(f.lat, math.nan, f.recorded_at, None, None, None, None, None),
                ]
            )
        )
        batch[k] = broken
    return batch, last


@settings(max_examples=800, deadline=None)
@given(phone_batches())
def test_phone_batches_in_time_order_answer_as_the_per_fix_filters(
    case: tuple[list[Fix], LastFix | None],
) -> None:
    batch, last = case
    expected = screen(list(enumerate(batch)), last, NOW, CFG)
    codes = screen_columns(*_as_columns(batch), last, NOW, CFG)
    if codes is None:
        assert any(reason == "too_fast" for _, reason in expected.rejected)
        return
    assert [(i, REASONS[c]) for i, c in enumerate(codes.tolist()) if c] == expected.rejected
    assert [i for i, c in enumerate(codes.tolist()) if not c] == sorted(i for i, _ in expected.accepted)


# -- the COPY rows ----------------------------------------------------------------------------------------


def test_column_encoding_is_byte_for_byte_the_row_encoding() -> None:
    received = NOW + timedelta(microseconds=17)
    values = [
        (-7.9, 112.6, 5.0, None, 90.0, None, 80.0),
        (-7.91, 112.61, None, 1.5, None, 450.0, None),
    ]
    t = [NOW - timedelta(seconds=3, microseconds=1), NOW - timedelta(seconds=1)]
    for device_id in (None, 42):
        rows = [
            PingRow(9, t[k], received, v[0], v[1], v[2], v[3], v[4], v[5], v[6], device_id, "api")
            for k, v in enumerate(values)
        ]
        col = [np.array([v[j] for v in values], dtype=np.float64) for j in range(7)]
        t_us = np.array([(x - EPOCH) // ONE_US for x in t], dtype=np.int64)
        fast = encode_columns(9, t_us, received, col[0], col[1], col[2:], device_id, "api")
        slow = encode_rows(rows)
        assert fast.payload == slow.payload
        assert fast.row_keys() == slow.row_keys() and fast.days == slow.days
        # The direct path's columns: a measurement known for some rows only is NULL in the others.
        mixed = encode_columns(9, t_us, received, col[0], col[1], col[2:], device_id, "api", fresh=True)
        assert mixed.direct is not None and mixed.direct == encode_rows(rows, fresh=True).direct
        whole = [np.where(np.isnan(c), 1.0, c) if j != 3 else np.full(2, np.nan) for j, c in enumerate(col)]
        rows = [
            PingRow(
                9, t[k], received, *(None if np.isnan(c[k]) else float(c[k]) for c in whole), device_id, "api"
            )
            for k in range(2)
        ]
        fast = encode_columns(9, t_us, received, whole[0], whole[1], whole[2:], device_id, "api", fresh=True)
        slow = encode_rows(rows, fresh=True)
        assert fast.direct is not None and fast.direct == slow.direct
        assert fast.newest == slow.newest and list(fast.newest) == [9]
        assert fast.stage_payload() == slow.stage_payload()


def test_unknown_measurements_travel_as_nan_and_are_refused_as_input() -> None:
    # The writer's NULLIF(x, 'NaN') is only sound because no decoder lets a NaN through.
    assert fast_columns(b'[{"lat":1,"lon":1,"recorded_at":0,"accuracy_m":NaN}]', 10) is None
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(b"NaN")
    assert math.isnan(float("nan"))


def test_the_docs_still_describe_the_body_and_the_answer(app) -> None:
    """The route reads the bytes itself; PingIn and IngestOut still say what goes in and comes out."""
    op = app.openapi()["paths"]["/api/v1/pings"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert body[0]["properties"].keys() >= {"lat", "lon", "recorded_at", "accuracy_m", "battery_pct"}
    assert body[1]["type"] == "array" and body[1]["maxItems"] == 1000
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/IngestOut")


@pytest.mark.parametrize(
    "odd",
    [
        "2026-06-01T11:59:00.9999996+00:00",  # a 7th fraction digit: pydantic truncates, msgspec would round
        "2026-06-01T11:59:00.123",  # naive: UTC, as PingIn reads it
        "2100-01-01T00:00:00Z",  # beyond where float timestamps are exact to the microsecond
        "1800-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00+05:00",  # no UTC instant: invalid
    ],
)
def test_one_odd_time_in_a_batch_is_read_as_pydantic_reads_it(odd: str) -> None:
    batch = [
        {"lat": -7.9, "lon": 112.6, "recorded_at": f"2026-06-01T11:59:{s:02d}.123456+07:00"}
        for s in range(12)
    ]
    batch[5]["recorded_at"] = odd
    assert _as_pairs(orjson.dumps(batch)) == _general(batch)
