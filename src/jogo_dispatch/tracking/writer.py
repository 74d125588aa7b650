"""The one writer of GPS fixes: group-commits pings from concurrent requests with COPY.

Requests hand their screened fixes to ``submit`` and wait; the writer task takes everything queued
since its last commit as one batch, COPYs it into a staging table, inserts it into ``pings``
(duplicates by (officer_id, recorded_at) are skipped), moves ``officer_positions`` once per officer,
commits, and only then answers the waiting requests and runs the after-commit hooks (responder
index, live feed). An acknowledged ping is therefore always durable. A batch that cannot hold a stored
row (the direct path) skips the staging table: its rows (one binary array per column, unnested), the
positions statement and the commit go in one round trip. With ``connections`` > 1
(JOGO_WRITER_CONNECTIONS) as many such tasks take from the one queue, each on its own connection.

Approximate reports (``PingRow.approximate`` set: the phone said the fix is invalid, or it sent no fix
at all) go to history only and never move ``officer_positions``; one without coordinates is stored at
the officer's last known position (and not at all before the officer has one). Each, when newer than
everything the officer reported before, refreshes the position's ``seen_at`` (presence) and battery.
One row per officer and time: a fix that comes after an approximate report of the same time replaces
it; anything else of a time already stored is a duplicate. These extra statements run only for the
batches that need them: a batch of plain fixes costs what it did.

When the database goes away the writer answers every waiting request with a 503 at once (never a
hang), refuses new pings while it reconnects (``healthy`` is false, so ``/readyz`` says not ready),
and reconnects by itself. A batch whose commit was cut off may or may not be stored; the phone
resends it and the duplicates come back as ``duplicate``, which it may treat as acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import struct
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import orjson
import psycopg
import structlog
from prometheus_client import Counter, Histogram
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types import TypeInfo

from jogo_dispatch.errors import Unavailable
from jogo_dispatch.platform.db import CONNECT_OPTIONS, is_unreachable
from jogo_dispatch.tracking import partitions

log = structlog.get_logger(__name__)

BATCH_ROWS = Histogram(
    "jogo_writer_batch_rows", "pings per group commit", buckets=(1, 10, 100, 1000, 5000, 20000)
)
COMMIT_SECONDS = Histogram("jogo_writer_commit_seconds", "time to write and commit one batch")
PINGS_STORED = Counter("jogo_pings_stored_total", "pings committed to history")
DIRECT_COMMITS = Counter(
    "jogo_writer_direct_commits_total", "group commits inserted straight into pings (no staging table)"
)
DIRECT_MISSES = Counter(
    "jogo_writer_direct_misses_total", "group commits whose direct insert met a stored row and went staged"
)
WRITER_FAILURES = Counter("jogo_writer_failures_total", "batches or health checks that lost the database")

# Longest one group commit may take before the connection is given up as hung (a healthy batch of
# 5000 rows takes well under a second).
WRITE_TIMEOUT_S = 30.0
# When no pings arrive the connection is checked this often, so that a database restart is noticed
# (and the writer reconnected) before the next ping has to fail on a dead connection.
IDLE_CHECK_S = 1.0
RECONNECT_MAX_DELAY_S = 1.0


@dataclass(slots=True)  # not frozen: creating frozen instances costs ~5x on the ingest hot path
class PingRow:
    officer_id: int
    recorded_at: datetime
    received_at: datetime
    lat: float | None  # None only for an approximate report without a fix (placed by the writer)
    lon: float | None
    accuracy_m: float | None
    speed_mps: float | None
    heading_deg: float | None
    altitude_m: float | None
    battery_pct: float | None
    device_id: int | None
    source: str
    attributes: str | None = None  # JSON text, already encoded by the caller
    approximate: str | None = None  # why it may not move the latest position (filters.INVALID, ...)


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """An officer's latest position moved (published after commit)."""

    officer_id: int
    lat: float
    lon: float
    recorded_at: datetime
    speed_mps: float | None
    heading_deg: float | None
    accuracy_m: float | None
    battery_pct: float | None
    status: str
    unit_type: str


AfterCommit = Callable[[Sequence[PositionUpdate]], None]
# An officer's newest fix of a batch as the positions statement reads it (a JSON object; None = unknown).
NewestFix = dict[str, int | float | None]

_STAGE_COLUMNS = (
    "officer_id, recorded_at, received_at, lat, lon, accuracy_m, speed_mps, heading_deg, "
    "altitude_m, battery_pct, device_id, source, attributes, approximate"
)
_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS ping_stage (
    officer_id bigint, recorded_at timestamptz, received_at timestamptz, lat float8, lon float8,
    accuracy_m float8, speed_mps float8, heading_deg float8, altitude_m float8, battery_pct float8,
    device_id bigint, source text, attributes text, approximate text
) ON COMMIT DELETE ROWS
"""
# The rows as the statements read them. The COPY rows are encoded a whole request at a time with one
# fixed layout (numpy), so an unknown measurement travels as NaN (pings never carry a NaN: the decoders
# refuse it) and becomes NULL here.
_CREATE_STAGED_VIEW = """
CREATE OR REPLACE TEMP VIEW ping_staged AS
SELECT officer_id, recorded_at, received_at, lat, lon, NULLIF(accuracy_m, 'NaN') AS accuracy_m,
       NULLIF(speed_mps, 'NaN') AS speed_mps, NULLIF(heading_deg, 'NaN') AS heading_deg,
       NULLIF(altitude_m, 'NaN') AS altitude_m, NULLIF(battery_pct, 'NaN') AS battery_pct, device_id,
       source, attributes, approximate
FROM ping_stage
"""
_INSERT_PINGS = """
INSERT INTO pings (officer_id, recorded_at, received_at, geog, accuracy_m, speed_mps, heading_deg,
                   altitude_m, battery_pct, device_id, source, attributes, approximate)
SELECT officer_id, recorded_at, received_at,
       ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
       accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, device_id, source, attributes::jsonb,
       approximate
FROM ping_staged
ORDER BY officer_id, recorded_at  -- key order: two commits meeting the same keys wait, never deadlock
ON CONFLICT DO NOTHING
"""
# Only for a batch with reports without a fix: each at its officer's last known position (after this
# batch's own fixes moved it); one whose officer has no position yet is not stored.
_PLACE_LAST_KNOWN = """
UPDATE ping_stage s SET lat = ST_Y(p.geog::geometry), lon = ST_X(p.geog::geometry)
FROM officer_positions p WHERE s.lat IS NULL AND p.officer_id = s.officer_id
"""
_DROP_UNPLACED = "DELETE FROM ping_stage WHERE lat IS NULL"
# Only when the store refused some rows: a fix replaces an approximate report of the same officer and time
# (not an ON CONFLICT DO UPDATE: that fails outright when one batch holds the same key twice).
_SUPERSEDE = """
UPDATE pings p SET received_at = s.received_at, geog = ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)::geography,
       accuracy_m = s.accuracy_m, speed_mps = s.speed_mps, heading_deg = s.heading_deg,
       altitude_m = s.altitude_m, battery_pct = s.battery_pct, device_id = s.device_id, source = s.source,
       attributes = s.attributes::jsonb, approximate = NULL
FROM ping_staged s
WHERE p.officer_id = s.officer_id AND p.recorded_at = s.recorded_at
  AND p.approximate IS NOT NULL AND s.approximate IS NULL
"""
# Only when the store refused some rows as duplicates: which staged rows are the stored ones. A row
# is ours when its received_at matches (each request stamps its own).
_INSERTED_KEYS = """
SELECT s.officer_id, s.recorded_at FROM ping_stage s
JOIN pings p ON p.officer_id = s.officer_id AND p.recorded_at = s.recorded_at AND p.received_at = s.received_at
"""
# Each officer's newest fix of ``{fixes}`` moves its position, unless a newer one is stored already; the
# rows are locked in officer order, so two commits moving the same officers wait instead of deadlocking.
_UPSERT_TEMPLATE = """
WITH moved AS (
INSERT INTO officer_positions AS p (officer_id, geog, recorded_at, received_at, accuracy_m, speed_mps,
                                    heading_deg, altitude_m, battery_pct)
SELECT DISTINCT ON (s.officer_id) s.officer_id, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)::geography,
       s.recorded_at, s.received_at, s.accuracy_m, s.speed_mps, s.heading_deg, s.altitude_m, s.battery_pct
FROM {fixes} JOIN officers o ON o.id = s.officer_id
ORDER BY s.officer_id, s.recorded_at DESC
ON CONFLICT (officer_id) DO UPDATE SET
    geog = EXCLUDED.geog, recorded_at = EXCLUDED.recorded_at, received_at = EXCLUDED.received_at,
    accuracy_m = EXCLUDED.accuracy_m, speed_mps = EXCLUDED.speed_mps, heading_deg = EXCLUDED.heading_deg,
    altitude_m = EXCLUDED.altitude_m, battery_pct = EXCLUDED.battery_pct
WHERE p.recorded_at < EXCLUDED.recorded_at
RETURNING p.officer_id, ST_Y(p.geog::geometry) AS lat, ST_X(p.geog::geometry) AS lon, p.recorded_at,
          p.speed_mps, p.heading_deg, p.accuracy_m, p.battery_pct
)
SELECT m.*, o.status, o.unit_type FROM moved m JOIN officers o ON o.id = m.officer_id
"""
# From the staging table (its fixes, not its approximate reports).
_UPSERT_POSITIONS = _UPSERT_TEMPLATE.format(fixes="(SELECT * FROM ping_staged WHERE approximate IS NULL) s")
# The direct path's: from a JSON parameter, times in Unix µs (exact).
_UPSERT_NEWEST = _UPSERT_TEMPLATE.format(
    fixes="""(
    SELECT officer_id, timestamptz 'epoch' + recorded_us * interval '1 microsecond' AS recorded_at,
           timestamptz 'epoch' + received_us * interval '1 microsecond' AS received_at, lat, lon,
           accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct
    FROM json_to_recordset(%s::json) AS j(officer_id bigint, recorded_us bigint, received_us bigint,
         lat float8, lon float8, accuracy_m float8, speed_mps float8, heading_deg float8, altitude_m float8,
         battery_pct float8)
) s"""
)
_PINGS_COLUMNS = (
    "officer_id, recorded_at, received_at, geog, accuracy_m, speed_mps, heading_deg, altitude_m, "
    "battery_pct, device_id, source"
)
_ARRAY_TYPES = ("int8", "timestamptz", "timestamptz", "geography", *["float8"] * 5, "int8", "text")
_ARRAY_HEADER = struct.Struct(">iiiii")  # dimensions, may hold NULLs, element type, length, lower bound


@functools.lru_cache(maxsize=64)
def _insert_direct(table: str) -> str:
    """The direct path's rows: one binary array parameter per column, unnested into ``table``."""
    arrays = ", ".join(f"%s::{kind}[]" for kind in _ARRAY_TYPES)
    return f"INSERT INTO {table} ({_PINGS_COLUMNS}) SELECT * FROM unnest({arrays})"


class _BinaryArray:
    """A PostgreSQL array in its binary form, sent as is (the statement's cast names its type)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class _BinaryArrayDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return cast(_BinaryArray, obj).data


# Only for a batch with approximate reports: the latest of each officer, when later than anything it
# reported before, refreshes presence (seen_at) and battery; the position and its time stay the fix's.
_REFRESH_SEEN = """
WITH latest AS (
SELECT DISTINCT ON (officer_id) officer_id, recorded_at, battery_pct FROM ping_staged
WHERE approximate IS NOT NULL
ORDER BY officer_id, recorded_at DESC
), seen AS (
UPDATE officer_positions p SET seen_at = l.recorded_at, battery_pct = coalesce(l.battery_pct, p.battery_pct)
FROM latest l
WHERE p.officer_id = l.officer_id AND l.recorded_at > greatest(p.recorded_at, p.seen_at)
RETURNING p.officer_id, ST_Y(p.geog::geometry) AS lat, ST_X(p.geog::geometry) AS lon, p.recorded_at,
          p.speed_mps, p.heading_deg, p.accuracy_m, p.battery_pct
)
SELECT s.*, o.status, o.unit_type FROM seen s JOIN officers o ON o.id = s.officer_id
"""


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = b"\xff\xff"
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01, where binary timestamptz counts from, in Unix µs
_DAY_US = 86_400_000_000
_US = timedelta(microseconds=1)
_NULL = struct.pack(">i", -1)
_NAN = struct.pack(">id", 8, math.nan)
_F8 = struct.Struct(">id")
_I8 = struct.Struct(">iq")
_ROW_HEAD = struct.Struct(">hiqiqiq")  # field count, officer_id, recorded_at, received_at
_FLOAT_COLUMNS = ("accuracy_m", "speed_mps", "heading_deg", "altitude_m", "battery_pct")


@dataclass(slots=True)
class EncodedRows:
    """One request's rows, already in binary COPY form for ``ping_stage`` (what the writer task sends
    as is), and what answering it needs: each row's key (officer, recorded_at in Unix µs)."""

    payload: bytes | None  # None until ``stage_payload`` builds it (see ``build``)
    count: int
    officer_ids: npt.NDArray[np.int64]
    t_us: npt.NDArray[np.int64]
    days: set[date]
    approximate: bool = False
    unplaced: bool = False
    # The same rows as ``pings`` columns (see _direct_columns), when the request guessed that none of
    # them is stored yet (each newer than its officer's latest fix): then the writer inserts them
    # straight into ``pings``. A wrong guess costs one rolled-back statement; the staged path then answers
    # as ever.
    direct: DirectColumns | None = None
    # On the direct path: each officer's newest fix (recorded_at µs, the fix as the positions statement
    # reads it), what moves the positions.
    newest: dict[int, tuple[int, NewestFix]] = field(default_factory=dict)
    # Builds ``payload`` when the staged path needs it: a request on the direct path never does.
    build: Callable[[], bytes] | None = None

    def stage_payload(self) -> bytes:
        if self.payload is None:
            assert self.build is not None
            self.payload = self.build()
        return self.payload

    def row_keys(self) -> list[tuple[int, int]]:
        return list(zip(self.officer_ids.tolist(), self.t_us.tolist(), strict=True))


def _days(t_us: npt.NDArray[np.int64]) -> set[date]:
    if len(t_us) == 0:
        return set()
    first, last = int(t_us.min()) // _DAY_US, int(t_us.max()) // _DAY_US
    numbers = [first] if first == last else np.unique(t_us // _DAY_US).tolist()
    return {(_UNIX_EPOCH + timedelta(days=d)).date() for d in numbers}


def encode_columns(
    officer_id: int,
    t_us: npt.NDArray[np.int64],
    received_at: datetime,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    floats: Sequence[npt.NDArray[np.float64]],
    device_id: int | None,
    source: str,
    *,
    fresh: bool = False,
) -> EncodedRows:
    """One officer's fixes (with coordinates, no attributes, not approximate) as binary COPY rows, a whole
    column at a time: no object per ping. ``floats``: accuracy, speed, heading, altitude, battery
    (NaN = unknown). ``fresh``: the caller expects none of them to be stored already (see
    ``EncodedRows.direct``)."""
    n = len(t_us)
    src = source.encode()
    received_us = (received_at - _UNIX_EPOCH) // _US

    def build() -> bytes:
        return _stage_rows(officer_id, t_us, received_us, lat, lon, floats, device_id, src)

    encoded = EncodedRows(None, n, np.full(n, officer_id, dtype=np.int64), t_us, _days(t_us), build=build)
    if not (fresh and n):
        encoded.payload = build()
    else:
        devices = _NULL * n if device_id is None else _i8_elements(device_id, n)
        sources = _text_elements(src, n)
        encoded.direct = _direct_columns(officer_id, t_us, received_us, lat, lon, floats, devices, sources)
        k = int(np.argmax(t_us))  # the first of the newest: ties are duplicates, never both stored
        measured = [None if math.isnan(v) else v for v in (float(f[k]) for f in floats)]
        newest = _newest_fix(officer_id, int(t_us[k]), received_us, float(lat[k]), float(lon[k]), measured)
        encoded.newest[officer_id] = (int(t_us[k]), newest)
    return encoded


def _text_elements(value: bytes, n: int) -> bytes:
    out = np.empty(n, dtype=[("n", ">i4"), ("v", f"S{len(value)}")])
    out["n"] = len(value)
    out["v"] = value
    return out.tobytes()


def _newest_fix(
    officer_id: int,
    recorded_us: int,
    received_us: int,
    lat: float | None,
    lon: float | None,
    floats: Sequence[float | None],
) -> NewestFix:
    return {
        "officer_id": officer_id,
        "recorded_us": recorded_us,
        "received_us": received_us,
        "lat": lat,
        "lon": lon,
        **dict(zip(_FLOAT_COLUMNS, floats, strict=True)),
    }


_F8_FIELD = [("n", ">i4"), ("v", ">f8")]
_I8_FIELD = [("n", ">i4"), ("v", ">i8")]


@functools.lru_cache(maxsize=256)
def _stage_dtype(has_device: bool, source_len: int) -> np.dtype[Any]:
    return np.dtype(
        [
            ("nfields", ">i2"),
            ("officer_id", _I8_FIELD),
            ("recorded_at", _I8_FIELD),
            ("received_at", _I8_FIELD),
            ("lat", _F8_FIELD),
            ("lon", _F8_FIELD),
            *((name, _F8_FIELD) for name in _FLOAT_COLUMNS),
            ("device_id", _I8_FIELD if has_device else [("n", ">i4")]),
            ("source", [("n", ">i4"), ("v", f"S{source_len}")]),
            ("attributes", ">i4"),
            ("approximate", ">i4"),
        ]
    )


# The direct path's rows go as one binary array per column of ``pings`` (what unnest() reads): each
# element is its length and value, or -1 for NULL, so a request's elements are simply joined to the
# others' and a header with the total count is put in front.
_ELEMENT_I8 = np.dtype([("n", ">i4"), ("v", ">i8")])
_ELEMENT_F8 = np.dtype([("n", ">i4"), ("v", ">f8")])
# geography's binary input is (E)WKB: a little-endian point with SRID 4326 (its length is big-endian)
_ELEMENT_POINT = np.dtype(
    [("n", ">i4"), ("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")]
)
# The same a row at a time: the length and EWKB header, then x and y.
_POINT_HEAD = struct.pack(">i", 25) + struct.pack("<BII", 1, 0x20000001, 4326)
_XY = struct.Struct("<dd")
DirectColumns = tuple[bytes, ...]  # the elements of each of _PINGS_COLUMNS, in that order


def _i8_elements(values: npt.NDArray[np.int64] | int, n: int) -> bytes:
    out = np.empty(n, dtype=_ELEMENT_I8)
    out["n"] = 8
    out["v"] = values
    return out.tobytes()


def _f8_elements(values: npt.NDArray[np.float64]) -> bytes:
    """NaN (unknown) becomes NULL."""
    unknown = np.isnan(values)
    if unknown.all():
        return _NULL * len(values)
    out = np.empty(len(values), dtype=_ELEMENT_F8)
    out["n"] = 8
    out["v"] = values
    if not unknown.any():
        return out.tobytes()
    known, size = out.tobytes(), _ELEMENT_F8.itemsize
    return b"".join(_NULL if u else known[size * i : size * (i + 1)] for i, u in enumerate(unknown.tolist()))


def _point_elements(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> bytes:
    out = np.empty(len(lon), dtype=_ELEMENT_POINT)
    out["n"] = 25
    out["order"] = 1
    out["type"] = 0x20000001  # point, with an SRID
    out["srid"] = 4326
    out["x"] = lon
    out["y"] = lat
    return out.tobytes()


def _direct_columns(
    officer_ids: npt.NDArray[np.int64] | int,
    t_us: npt.NDArray[np.int64],
    received_us: npt.NDArray[np.int64] | int,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    floats: Sequence[npt.NDArray[np.float64]],
    devices: bytes,
    sources: bytes,
) -> DirectColumns:
    n = len(t_us)
    return (
        _i8_elements(officer_ids, n),
        _i8_elements(t_us - _PG_EPOCH_US, n),
        _i8_elements(np.subtract(received_us, _PG_EPOCH_US), n),
        _point_elements(lon, lat),
        *(_f8_elements(values) for values in floats),
        devices,
        sources,
    )


def _stage_rows(
    officer_id: int,
    t_us: npt.NDArray[np.int64],
    received_us: int,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    floats: Sequence[npt.NDArray[np.float64]],
    device_id: int | None,
    src: bytes,
) -> bytes:
    template = _stage_template(device_id is not None, src)
    rows = _from_template(template, len(t_us), officer_id, t_us, received_us, device_id)
    rows["lat"]["v"] = lat
    rows["lon"]["v"] = lon
    for name, values in zip(_FLOAT_COLUMNS, floats, strict=True):
        rows[name]["v"] = values
    return rows.tobytes()


# A row's constant parts (field count, lengths, NULLs, point header, source) are written once per layout
# into a template; a batch copies it into every row and then fills only the values (each numpy
# assignment costs about as much as a hundred rows' worth of copying). Keyed by layout, never by officer
# or device: a hundred thousand phones share a handful of templates.
@functools.lru_cache(maxsize=256)
def _stage_template(has_device: bool, src: bytes) -> npt.NDArray[Any]:
    row = np.zeros(1, dtype=_stage_dtype(has_device, len(src)))
    _fill_common(row, 14, has_device, src)
    for name in ("lat", "lon", *_FLOAT_COLUMNS):
        row[name]["n"] = 8
    row["attributes"] = -1
    row["approximate"] = -1
    return row


def _fill_common(row: npt.NDArray[Any], nfields: int, has_device: bool, src: bytes) -> None:
    """The constant fields of a row: the field count, lengths, device NULL and source."""
    row["nfields"] = nfields
    for name in ("officer_id", "recorded_at", "received_at"):
        row[name]["n"] = 8
    row["device_id"]["n"] = 8 if has_device else -1
    row["source"]["n"] = len(src)
    row["source"]["v"] = src


def _from_template(
    template: npt.NDArray[Any],
    n: int,
    officer_id: int,
    t_us: npt.NDArray[np.int64],
    received_us: int,
    device_id: int | None,
) -> npt.NDArray[Any]:
    rows = np.repeat(template, n)
    rows["officer_id"]["v"] = officer_id
    rows["recorded_at"]["v"] = t_us - _PG_EPOCH_US
    rows["received_at"]["v"] = received_us - _PG_EPOCH_US
    if device_id is not None:
        rows["device_id"]["v"] = device_id
    return rows


def _stage_row(
    officer_id: int,
    recorded_us: int,
    received_us: int,
    lat: float | None,
    lon: float | None,
    floats: Sequence[float | None],
    device_id: int | None,
    source: str,
    attributes: str | None,
    approximate: str | None,
) -> bytes:
    """One row in ``ping_stage``'s binary COPY form."""
    return b"".join(
        (
            _ROW_HEAD.pack(14, 8, officer_id, 8, recorded_us - _PG_EPOCH_US, 8, received_us - _PG_EPOCH_US),
            _NULL if lat is None else _F8.pack(8, lat),
            _NULL if lon is None else _F8.pack(8, lon),
            *(_float(v) for v in floats),
            _NULL if device_id is None else _I8.pack(8, device_id),
            _text(source),
            _text(attributes),
            _text(approximate),
        )
    )


def _text(value: str | None) -> bytes:
    if value is None:
        return _NULL
    data = value.encode()
    return struct.pack(">i", len(data)) + data


def _float(value: float | None) -> bytes:
    return _NAN if value is None else _F8.pack(8, value)


def encode_rows(rows: Sequence[PingRow], *, fresh: bool = False) -> EncodedRows:
    """Rows of any kind (approximate, without coordinates, with attributes), one at a time. ``fresh``:
    the caller expects none of them to be stored already (see ``EncodedRows.direct``)."""
    parts = []
    t_us = np.empty(len(rows), dtype=np.int64)
    approximate = unplaced = False
    for k, r in enumerate(rows):
        rec = (r.recorded_at - _UNIX_EPOCH) // _US
        t_us[k] = rec
        if r.approximate is not None:
            approximate = True
            unplaced = unplaced or r.lat is None
        parts.append(
            _stage_row(
                r.officer_id,
                rec,
                (r.received_at - _UNIX_EPOCH) // _US,
                r.lat,
                r.lon,
                (r.accuracy_m, r.speed_mps, r.heading_deg, r.altitude_m, r.battery_pct),
                r.device_id,
                r.source,
                r.attributes,
                r.approximate,
            )
        )
    oids = np.fromiter((r.officer_id for r in rows), np.int64, len(rows))
    encoded = EncodedRows(b"".join(parts), len(rows), oids, t_us, _days(t_us), approximate, unplaced)
    if (
        fresh
        and rows
        and all(r.approximate is None and r.attributes is None and r.lat is not None for r in rows)
    ):
        encoded.direct = _rows_columns(rows, t_us)
        for k, r in enumerate(rows):  # each officer's newest (the first of it: ties are duplicates)
            seen = encoded.newest.get(r.officer_id)
            if seen is None or seen[0] < t_us[k]:
                measured = (r.accuracy_m, r.speed_mps, r.heading_deg, r.altitude_m, r.battery_pct)
                rec, got = int(t_us[k]), (r.received_at - _UNIX_EPOCH) // _US
                encoded.newest[r.officer_id] = (
                    rec,
                    _newest_fix(r.officer_id, rec, got, r.lat, r.lon, measured),
                )
    return encoded


def _rows_columns(rows: Sequence[PingRow], t_us: npt.NDArray[np.int64]) -> DirectColumns:
    """:func:`_direct_columns` of rows of any officers, devices and sources (all with a fix), a row at a
    time: this path serves small requests, where a numpy call per column would cost more."""
    columns: list[list[bytes]] = [[] for _ in range(11)]
    for r, recorded in zip(rows, t_us.tolist(), strict=True):
        assert r.lat is not None and r.lon is not None
        received = (r.received_at - _UNIX_EPOCH) // _US
        values = (
            _I8.pack(8, r.officer_id),
            _I8.pack(8, recorded - _PG_EPOCH_US),
            _I8.pack(8, received - _PG_EPOCH_US),
            _POINT_HEAD + _XY.pack(r.lon, r.lat),
            *(
                _NULL if v is None else _F8.pack(8, v)
                for v in (r.accuracy_m, r.speed_mps, r.heading_deg, r.altitude_m, r.battery_pct)
            ),
            _NULL if r.device_id is None else _I8.pack(8, r.device_id),
            _text(r.source),
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return tuple(b"".join(column) for column in columns)


@dataclass(slots=True)
class _Pending:
    rows: EncodedRows
    done: asyncio.Future[list[bool]]


@dataclass(eq=False)
class _Lane:
    """One connection of the writer, with the task that commits on it."""

    number: int
    conn: psycopg.AsyncConnection | None = None
    task: asyncio.Task[None] | None = None
    healthy: bool = False
    committing: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # work arrived, or a commit ended
    used_at: float = 0.0  # monotonic time the connection last answered (a commit, an idle check)


# A second commit is worth its fixed cost (round trips, a WAL flush) once this many rows wait: below it
# they wait for the commit in flight and go with the next one, as on a single connection.
OVERLAP_MIN_ROWS = 200
# Event-loop turns a commit starting on an idle writer waits for requests being read to join it (with 2
# the commits of single pings halved in size and cost 10 % more CPU per request; 6 restores the ~30 rows
# of the queue this replaced).
GATHER_TURNS = 6


class PingWriter:
    """Group commits on ``connections`` connections taking from one queue. A light load (single pings)
    goes one commit at a time, each taking everything queued. A backlog of ``OVERLAP_MIN_ROWS`` or more
    is shared out: a burst is split between the idle connections and committed in parallel (PostgreSQL's
    work for it on as many cores), and rows arriving during a commit go out on another connection
    instead of waiting for it. Each commit answers its own requests (a request is never split); the
    positions statement takes its row locks in officer order, so two commits moving the same officers
    wait for each other instead of deadlocking."""

    def __init__(
        self, conninfo: str, *, max_batch: int = 5000, queue_max: int = 200_000, connections: int = 2
    ) -> None:
        if connections < 1:
            raise ValueError("the writer needs at least one connection")
        self._conninfo = conninfo
        self._max_batch = max_batch
        self._pending: deque[_Pending] = deque()  # accepted, not yet taken by a commit
        self._pending_rows = 0
        self._queue_max = queue_max
        self._queued_rows = 0  # accepted and not yet answered (pending or being committed)
        self._drained = asyncio.Event()  # set while no accepted ping waits for its commit
        self._drained.set()
        self._closing = False
        self._lanes = [_Lane(n) for n in range(connections)]
        self._array_oids: tuple[int, ...] = ()  # element types of the direct path's arrays (PostGIS's vary)
        self._known_days: set[date] = set()
        self._hooks: list[AfterCommit] = []

    @property
    def healthy(self) -> bool:
        """A connection is up: pings are taken (a lost connection reconnects while the others write)."""
        return any(lane.healthy for lane in self._lanes)

    def add_after_commit(self, hook: AfterCommit) -> None:
        self._hooks.append(hook)

    async def start(self) -> None:
        for lane in self._lanes:
            await self._connect(lane)
        for lane in self._lanes:
            lane.task = asyncio.create_task(self._run(lane), name=f"ping-writer-{lane.number}")

    async def stop(self) -> None:
        self._closing = True
        if any(lane.task for lane in self._lanes):
            # Answer every ping accepted before shutting down (the batches being written included), then stop.
            await self._drained.wait()
        for lane in self._lanes:
            if lane.task:
                lane.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
            if lane.conn:
                await lane.conn.close()

    async def submit(self, rows: Sequence[PingRow], *, fresh: bool = False) -> list[bool]:
        """Wait until ``rows`` are committed; returns, per row, whether it was new (not a duplicate).
        ``fresh``: the caller expects none of them to be stored already (it may be wrong)."""
        if not rows:
            return []
        return await self.submit_encoded(encode_rows(rows, fresh=fresh))

    async def submit_encoded(self, rows: EncodedRows) -> list[bool]:
        """:meth:`submit` for rows the caller encoded (:func:`encode_columns`, :func:`encode_rows`)."""
        if not rows.count:
            return []
        if self._closing:
            raise Unavailable(
                "server shutting down, nothing was stored; retry",
                code="shutting_down",
                headers={"Retry-After": "1"},
            )
        if not self.healthy:
            raise Unavailable(
                "database unavailable, nothing was stored; retry",
                code="store_unavailable",
                headers={"Retry-After": "1"},
            )
        if self._queued_rows + rows.count > self._queue_max:
            raise Unavailable(
                "ingest queue full, retry shortly", code="ingest_backlog", headers={"Retry-After": "1"}
            )
        done: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._queued_rows += rows.count
        self._drained.clear()
        self._pending.append(_Pending(rows, done))
        self._pending_rows += rows.count
        self._wake_all()
        return await done

    def _wake_all(self) -> None:
        for lane in self._lanes:
            lane.wake.set()

    def _share(self, lane: _Lane) -> int:
        """How many of the pending rows this idle lane takes now (0: none, it waits)."""
        waiting = self._pending_rows
        if not waiting or not lane.healthy:
            return 0
        if self._in_flight() and waiting < OVERLAP_MIN_ROWS:
            return 0  # the next commit takes them along
        if waiting < 2 * OVERLAP_MIN_ROWS:
            return waiting
        idle = sum(1 for other in self._lanes if other.healthy and not other.committing)
        return -(-waiting // idle)

    def _in_flight(self) -> bool:
        """A commit is under way (a lane reconnecting is not committing anything)."""
        return any(lane.committing and lane.healthy for lane in self._lanes)

    def _take(self, rows: int) -> list[_Pending]:
        """Whole requests from the front of the queue, up to ``rows`` (at least one)."""
        batch = [self._pending.popleft()]
        taken = batch[0].rows.count
        while self._pending and taken < rows and taken + self._pending[0].rows.count <= self._max_batch:
            item = self._pending.popleft()
            batch.append(item)
            taken += item.rows.count
        self._pending_rows -= taken
        return batch

    async def _connect(self, lane: _Lane) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=False,
            application_name=f"jogo-ping-writer-{lane.number}",  # which one it is in pg_stat_activity
            **CONNECT_OPTIONS,
        )
        lane.conn = conn
        conn.adapters.register_dumper(_BinaryArray, _BinaryArrayDumper)
        if not self._array_oids:  # geography is PostGIS's: its OID is this database's own
            geography = await TypeInfo.fetch(conn, "geography")
            if geography is None:
                raise RuntimeError("PostGIS's geography type is missing")
            self._array_oids = tuple(
                geography.oid if kind == "geography" else postgres.types[kind].oid for kind in _ARRAY_TYPES
            )
        await conn.execute(_CREATE_STAGE)
        await conn.execute(_CREATE_STAGED_VIEW)
        await conn.execute("SET synchronous_commit = on")
        await conn.commit()
        self._known_days |= set(await partitions.existing_partition_days(conn))
        await conn.commit()
        lane.healthy = True

    async def _run(self, lane: _Lane) -> None:
        lane.used_at = time.monotonic()
        while True:
            share = self._share(lane)
            if not share:
                # A connection left unused this long is checked, so that a database restart is noticed
                # before a batch has to fail on it (a busy writer's other connections too).
                unused_for = time.monotonic() - lane.used_at
                if unused_for >= IDLE_CHECK_S:
                    await self._check_idle(lane)
                    lane.used_at = time.monotonic()
                    continue
                lane.wake.clear()  # no await since the check: a wake-up cannot be missed
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_CHECK_S - unused_for):
                        await lane.wake.wait()
                continue
            if not self._in_flight():
                # Nothing in flight: first let the requests already read reach the queue (a few turns
                # of the event loop, no timer), so that they share this commit instead of the next.
                for _ in range(GATHER_TURNS):
                    await asyncio.sleep(0)
                share = self._share(lane)
                if not share:
                    continue
            batch = self._take(share)
            lane.committing = True
            try:
                await self._commit_batch(lane, batch)
            finally:
                lane.committing = False
                lane.used_at = time.monotonic()
                self._wake_all()  # what waited for this commit may go now

    async def _commit_batch(self, lane: _Lane, batch: list[_Pending]) -> None:
        rows = sum(item.rows.count for item in batch)
        try:
            inserted, moved = await asyncio.wait_for(self._write(lane, batch), WRITE_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - every waiter must be answered
            _answer_failed(batch)
            self._release(rows)
            await self._recover(lane, exc)
            return
        # The same ping may come twice in one batch (a phone resending on a second socket): only the
        # first copy is new, the other is answered as a duplicate.
        if inserted is None:  # every row was new
            for item in batch:
                if not item.done.done():
                    item.done.set_result([True] * item.rows.count)
        else:
            fresh = set(inserted)
            for item in batch:
                if not item.done.done():
                    item.done.set_result([_take(fresh, key) for key in item.rows.row_keys()])
        self._release(rows)
        self._after_commit(moved)

    def _release(self, rows: int) -> None:
        # Called once the released requests are answered: "drained" means every waiter has its answer.
        self._queued_rows -= rows
        if self._queued_rows == 0:
            self._drained.set()

    async def _recover(self, lane: _Lane, exc: Exception) -> None:
        conn = lane.conn
        if conn is not None and not conn.broken and not conn.closed and not _connection_problem(exc):
            # The database refused this batch only (a bad row, a missing partition): the connection is fine.
            try:
                await asyncio.wait_for(conn.rollback(), WRITE_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - then it is not fine after all
                pass
            else:
                log.error("ping batch failed", error=str(exc))
                return
        self._lost(lane, exc)
        await self._reconnect(lane)

    async def _check_idle(self, lane: _Lane) -> None:
        assert lane.conn is not None
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await lane.conn.execute("SELECT 1")
                await lane.conn.rollback()
        except Exception as exc:  # noqa: BLE001 - a dead connection is replaced
            self._lost(lane, exc)
            await self._reconnect(lane)

    async def _write(
        self, lane: _Lane, batch: list[_Pending]
    ) -> tuple[set[tuple[int, int]] | None, list[PositionUpdate]]:
        """Store one group commit; returns the keys (officer, recorded_at µs) stored, or None when every
        row was, and the positions that moved."""
        assert lane.conn is not None
        started = time.perf_counter()
        conn = lane.conn
        total = sum(item.rows.count for item in batch)
        days: set[date] = set()
        for item in batch:
            days |= item.rows.days
        days -= self._known_days
        if days:
            await partitions.ensure_partitions(conn, days)
        if all(item.rows.direct is not None for item in batch):
            try:
                moved = await self._write_direct(conn, batch)
            except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
                # Some row was stored already (a resend, another commit): the staged path sorts it out.
                await conn.rollback()
                DIRECT_MISSES.inc()
                if days:  # created in the transaction just rolled back
                    await partitions.ensure_partitions(conn, days)
            else:
                DIRECT_COMMITS.inc()
                self._known_days |= days
                BATCH_ROWS.observe(total)
                COMMIT_SECONDS.observe(time.perf_counter() - started)
                PINGS_STORED.inc(total)
                return None, moved
        approximate = any(item.rows.approximate for item in batch)
        unplaced = any(item.rows.unplaced for item in batch)
        inserted: set[tuple[int, int]] | None = None
        async with conn.cursor() as cur:
            # Binary COPY of rows the requests encoded: the writer only sends them.
            async with cur.copy(f"COPY ping_stage ({_STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
                await copy.write(
                    b"".join([_COPY_HEADER, *(item.rows.stage_payload() for item in batch), _COPY_TRAILER])
                )
            # The fixes move the positions first, so that a report without a fix in the same batch is
            # placed where its officer is now.
            await cur.execute(_UPSERT_POSITIONS)
            moved = [PositionUpdate(*row) for row in await cur.fetchall()]
            staged = total
            if unplaced:
                await cur.execute(_PLACE_LAST_KNOWN)
                await cur.execute(_DROP_UNPLACED)
                staged -= cur.rowcount
            await cur.execute(_INSERT_PINGS)
            stored = cur.rowcount
            if stored != total:
                if stored < staged:
                    await cur.execute(_SUPERSEDE)
                await cur.execute(_INSERTED_KEYS)
                inserted = {(oid, (ts - _UNIX_EPOCH) // _US) for oid, ts in await cur.fetchall()}
                stored = len(inserted)
            if approximate:
                await cur.execute(_REFRESH_SEEN)
                moved.extend(PositionUpdate(*row) for row in await cur.fetchall())
        await conn.commit()
        self._known_days |= days
        BATCH_ROWS.observe(total)
        COMMIT_SECONDS.observe(time.perf_counter() - started)
        PINGS_STORED.inc(stored)
        return inserted, moved

    async def _write_direct(
        self, conn: psycopg.AsyncConnection, batch: list[_Pending]
    ) -> list[PositionUpdate]:
        """The rows straight into ``pings`` (into the day's partition when the batch is all one day), the
        positions statement and the commit, in one round trip. Raises UniqueViolation when a row was
        stored already (DeadlockDetected, rarely, when another commit holds the same keys the other way)."""
        days: set[date] = set()
        newest: dict[int, tuple[int, NewestFix]] = {}
        for item in batch:
            days |= item.rows.days
            for officer_id, latest in item.rows.newest.items():
                seen = newest.get(officer_id)
                if seen is None or seen[0] < latest[0]:
                    newest[officer_id] = latest
        table = partitions.partition_name(next(iter(days))) if len(days) == 1 else "pings"
        count = sum(item.rows.count for item in batch)
        columns = [
            [item.rows.direct[j] for item in batch if item.rows.direct] for j in range(len(_ARRAY_TYPES))
        ]
        arrays = [
            _BinaryArray(_ARRAY_HEADER.pack(1, 1, oid, count, 1) + b"".join(elements))
            for oid, elements in zip(self._array_oids, columns, strict=True)
        ]
        # Each officer's newest fix as one JSON parameter (array parameters built in Python would cost
        # more than the statement).
        fixes = orjson.dumps([fix for _, fix in newest.values()]).decode()
        # The rows, the positions and the commit in one round trip.
        async with conn.cursor() as rows, conn.cursor() as positions:
            async with conn.pipeline():
                await rows.execute(_insert_direct(table), arrays)
                await positions.execute(_UPSERT_NEWEST, (fixes,))
                await conn.commit()
            return [PositionUpdate(*row) for row in await positions.fetchall()]

    def _lost(self, lane: _Lane, exc: BaseException) -> None:
        """This connection is gone. When it was the last one up, refuse new pings and answer everything
        queued: reconnecting may take long, and no request may wait on it meanwhile."""
        lane.healthy = False
        WRITER_FAILURES.inc()
        queued: list[_Pending] = []
        if not self.healthy:
            queued, self._pending_rows = list(self._pending), 0
            self._pending.clear()
        log.error(
            "ping writer lost the database",
            error=str(exc) or type(exc).__name__,
            connection=lane.number,
            queued_requests=len(queued),
        )
        _fail_waiting(queued, "database unavailable, nothing was stored; retry", "store_unavailable")
        self._release(sum(item.rows.count for item in queued))

    async def _reconnect(self, lane: _Lane) -> None:
        delay = 0.1
        while True:
            if lane.conn is not None:
                with contextlib.suppress(Exception):
                    await lane.conn.close()
            try:
                await self._connect(lane)
                log.info("ping writer reconnected", connection=lane.number)
                return
            except Exception as exc:  # noqa: BLE001
                log.warning("ping writer reconnect failed", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY_S)

    def _after_commit(self, moved: list[PositionUpdate]) -> None:
        if not moved:
            return
        for hook in self._hooks:
            try:
                hook(moved)
            except Exception:  # noqa: BLE001 - a broken subscriber must not stop ingest
                log.exception("after-commit hook failed")


def _take(fresh: set[tuple[int, int]], key: tuple[int, int]) -> bool:
    if key in fresh:
        fresh.discard(key)
        return True
    return False


def _connection_problem(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or is_unreachable(exc)


def _answer_failed(batch: list[_Pending]) -> None:
    # The commit may have been cut off after the server applied it: resending is safe.
    _fail_waiting(
        batch,
        "the pings may not have been stored; resend them (a stored one comes back as duplicate)",
        "store_failed",
    )


def _fail_waiting(items: list[_Pending], message: str, code: str) -> None:
    """Answer every request still waiting with a 503 (each its own exception: they are raised apart)."""
    for item in items:
        if not item.done.done():
            item.done.set_exception(Unavailable(message, code=code, headers={"Retry-After": "1"}))
