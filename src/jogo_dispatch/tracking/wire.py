"""The ping hot path's wire format: request bytes straight into columns (msgspec structs, numpy arrays).

``POST /api/v1/pings`` and the officer websocket decode here, never through per-ping pydantic objects.
The answers are exactly those of :class:`~jogo_dispatch.tracking.schemas.PingIn` (which still documents
the body in OpenAPI): the fast decoder takes only what it reads exactly as pydantic does (the eight
known fields, finite numbers within the model's bounds, RFC 3339 times with at most microseconds, epoch
seconds as whole numbers); anything else in a request (an unknown key, a string where a number goes, a
bad value, a time pydantic reads otherwise) sends that one request through the pydantic path, which
answers it item by item as before. A phone's normal request never leaves the fast path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, cast

import msgspec
import numpy as np
import numpy.typing as npt
from pydantic import TypeAdapter, ValidationError

from jogo_dispatch.errors import InvalidInput, PayloadTooLarge
from jogo_dispatch.platform.body_limit import parse_json
from jogo_dispatch.tracking.filters import VECTOR_MIN, Fix
from jogo_dispatch.tracking.schemas import parse_ping_items

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
# The UTC instants a datetime can hold: a time outside them (year 1 or 9999 with an offset) is refused
# by pydantic as out of range; the fast path leaves it to that answer.
_MIN_US = (datetime.min.replace(tzinfo=UTC) - EPOCH) // ONE_US
_MAX_US = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_US
# pydantic reads an epoch number above this as milliseconds; the fast path takes whole seconds below it.
_EPOCH_SECONDS_LIMIT = 2e10


# PingIn's bounds, checked by msgspec as it decodes (a number outside them means: the pydantic path, for
# pydantic's own words). A JSON number too large for a double decodes as infinity: "finite" refuses it.
_MAX_DOUBLE = 1.7976931348623157e308
_Finite = Annotated[float, msgspec.Meta(ge=-_MAX_DOUBLE, le=_MAX_DOUBLE)]
_NonNegative = Annotated[float, msgspec.Meta(ge=0, le=_MAX_DOUBLE)]
_Heading = Annotated[float, msgspec.Meta(ge=0, le=360)]
_Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class WirePing(msgspec.Struct, forbid_unknown_fields=True):
    """One ping as ``PingIn`` reads it, for the fast path (an unknown key means: the pydantic path)."""

    lat: _Finite
    lon: _Finite
    recorded_at: str | float  # the text is read as a datetime a whole batch at once (msgspec.convert)
    accuracy_m: _NonNegative | None = None
    speed_mps: _NonNegative | None = None
    heading_deg: _Heading | None = None
    altitude_m: _Finite | None = None
    battery_pct: _Percent | None = None


_ONE = msgspec.json.Decoder(WirePing)
_MANY = msgspec.json.Decoder(list[WirePing])
_DATETIME = TypeAdapter(datetime)

Seq = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # orjson reads these as ints too


class PingsMessage(msgspec.Struct, forbid_unknown_fields=True):
    """The officer socket's ``pings`` message; any other shape is read by the general path."""

    type: Literal["pings", "ping"]
    seq: Seq | str | None = None
    pings: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    ping: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_MESSAGE = msgspec.json.Decoder(PingsMessage)


@dataclass(slots=True)
class PingColumns:
    """A request's well-formed pings as columns (None is NaN), and the items refused while decoding.

    ``index``: each row's position in the request; ``t_us``: recorded_at, microseconds since the Unix
    epoch (UTC). ``attributes``/``approximate`` only for the phone protocols (None: all None)."""

    index: I64
    t_us: I64
    lat: F64
    lon: F64
    accuracy_m: F64
    speed_mps: F64
    heading_deg: F64
    altitude_m: F64
    battery_pct: F64
    rejected: list[tuple[int, str]]
    count: int  # items in the request, refused ones included
    attributes: list[str | None] | None = None
    approximate: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.index)

    def take(self, mask: npt.NDArray[np.bool_]) -> PingColumns:
        pick = np.flatnonzero(mask)
        return PingColumns(
            self.index[pick],
            self.t_us[pick],
            self.lat[pick],
            self.lon[pick],
            self.accuracy_m[pick],
            self.speed_mps[pick],
            self.heading_deg[pick],
            self.altitude_m[pick],
            self.battery_pct[pick],
            self.rejected,
            self.count,
            None if self.attributes is None else [self.attributes[i] for i in pick.tolist()],
            None if self.approximate is None else [self.approximate[i] for i in pick.tolist()],
        )


@dataclass(slots=True)
class PingFixes:
    """A request's well-formed pings as fixes: a small request (numpy's set-up would cost more than it
    saves) or one the pydantic path read. ``fixes``: (index in the request, fix)."""

    fixes: list[tuple[int, Fix]]
    rejected: list[tuple[int, str]]
    count: int

    def __len__(self) -> int:
        return len(self.fixes)


Decoded = PingColumns | PingFixes


class _Slow(Exception):
    """This request needs the pydantic path for its exact answers."""


def fast_columns(body: bytes | str, max_batch: int) -> Decoded | None:
    """One ping object or an array of them, straight from the bytes; None when the request is not one the
    fast path reads exactly as ``PingIn`` does (then the caller takes the general path, which answers
    it as before). Only ASCII without escapes: anything else is rare enough for the general path."""
    if not body.isascii() or ("\\" in body if isinstance(body, str) else b"\\" in body):
        return None
    stripped = body.lstrip()
    first = stripped[:1]
    try:
        if first in (b"[", "["):
            pings = _MANY.decode(body)
            if len(pings) > max_batch:
                return None
        elif first in (b"{", "{"):
            pings = [_ONE.decode(body)]
        else:
            return None
        if len(pings) < VECTOR_MIN:
            return PingFixes([(i, _fix(p)) for i, p in enumerate(pings)], [], len(pings))
        return _columns(pings)
    except (msgspec.DecodeError, msgspec.ValidationError, _Slow):
        return None


def decode_pings(body: bytes, max_batch: int) -> Decoded:
    """A ``POST /api/v1/pings`` body into columns, with the same answers as before: ``invalid_json`` and
    ``bad_body`` (400), too many pings (413), per-item ``invalid: ...`` and ``out_of_range``."""
    cols = fast_columns(body, max_batch)
    if cols is not None:
        return cols
    parsed = parse_json(body)
    if not isinstance(parsed, list | dict):
        raise InvalidInput("body must be a ping object or an array of pings", code="bad_body")
    items: list[Any] = parsed if isinstance(parsed, list) else [parsed]
    if len(items) > max_batch:
        raise PayloadTooLarge(f"at most {max_batch} pings per request", details={"limit": max_batch})
    return general_items(items)


def decode_message(raw: str | bytes, max_batch: int) -> tuple[PingsMessage, Decoded] | None:
    """A plain officer-socket ``pings`` message the fast path reads exactly, else None (the general
    path then reads the message as before)."""
    if not raw.isascii():
        return None
    try:
        msg = _MESSAGE.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    items = msg.pings if not isinstance(msg.pings, msgspec.UnsetType) else msg.ping
    if isinstance(items, msgspec.UnsetType):
        return None
    cols = fast_columns(bytes(items), max_batch)
    return None if cols is None else (msg, cols)


def general_items(items: list[Any]) -> PingFixes:
    """Already-parsed items, validated by ``PingIn`` one request at a time (item by item on errors)."""
    fixes, rejected = parse_ping_items(items)
    return PingFixes(fixes, rejected, len(items))


def _floats(values: Sequence[float | None]) -> F64:
    # None becomes NaN (a JSON body cannot carry NaN itself, and the fast path refuses infinities).
    return np.array(values, dtype=np.float64)


def _columns(pings: list[WirePing]) -> PingColumns:
    # The numbers are within PingIn's bounds already (the struct's constraints): only the times are read.
    n = len(pings)
    times = [p.recorded_at for p in pings]
    t_us = _vector_micros(times)
    if t_us is None:
        t_us = np.fromiter(map(_micros, times), np.int64, n)
    return PingColumns(
        np.arange(n, dtype=np.int64),
        t_us,
        _floats([p.lat for p in pings]),
        _floats([p.lon for p in pings]),
        _floats([p.accuracy_m for p in pings]),
        _floats([p.speed_mps for p in pings]),
        _floats([p.heading_deg for p in pings]),
        _floats([p.altitude_m for p in pings]),
        _floats([p.battery_pct for p in pings]),
        [],
        n,
    )


def _fix(p: WirePing) -> Fix:
    """One ping as PingIn reads it, without numpy (``_Slow`` when pydantic would answer otherwise)."""
    if isinstance(p.recorded_at, str):
        value = _datetime(p.recorded_at)
        if value.tzinfo is None:
            when = value.replace(tzinfo=UTC)
        else:
            try:
                when = value.astimezone(UTC)
            except OverflowError:
                raise _Slow from None
    else:
        when = to_datetime(_epoch_micros(p.recorded_at))
    return Fix(p.lat, p.lon, when, p.accuracy_m, p.speed_mps, p.heading_deg, p.altitude_m, p.battery_pct)


def _finer_than_micros(text: str) -> bool:
    """A 7th fraction digit: msgspec rounds it where pydantic truncates it, so pydantic reads that text."""
    return len(text) > 26 and text[19] == "." and "0" <= text[26] <= "9"


def _datetime(text: str) -> datetime:
    """RFC 3339 as msgspec reads it ("YYYY-MM-DDTHH:MM:SS", then an optional fraction and offset)."""
    if _finer_than_micros(text):
        raise _Slow
    try:
        return msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        raise _Slow from None


def _epoch_micros(value: float) -> int:
    if value.is_integer() and abs(value) <= _EPOCH_SECONDS_LIMIT:
        return int(value) * 1_000_000
    if 0 <= value < _EPOCH_SECONDS_LIMIT:
        # pydantic's reading of fractional epoch seconds: the whole seconds, plus the fraction in
        # microseconds rounded half away from zero (a fraction that rounds to 10**6 carries over).
        whole = math.floor(value)
        fraction_us = (value - whole) * 1e6  # both steps exact below 2**52
        rounded = math.floor(fraction_us)
        return whole * 1_000_000 + rounded + (fraction_us - rounded >= 0.5)
    try:
        return (_DATETIME.validate_python(value) - EPOCH) // ONE_US
    except ValidationError:
        raise _Slow from None


_AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
# Within this many seconds of the epoch (1900..2039), float timestamps round-trip to the exact microsecond.
_EXACT_TIMESTAMP_S = 2.2e9


def _vector_micros(times: list[str | float]) -> I64 | None:
    """:func:`_micros` for a whole batch of zone-aware RFC 3339 times, or of epoch seconds from 1970 on,
    at once; None when it is not that batch (then each is read on its own)."""
    kinds = set(map(type, times))
    if kinds == {float}:
        return _vector_epoch_micros(np.array(times, dtype=np.float64))
    if kinds != {str}:
        return None
    texts = cast(list[str], times)
    if any(map(_finer_than_micros, texts)):
        raise _Slow
    try:
        aware = msgspec.convert(times, list[_AwareDatetime])
    except msgspec.ValidationError:
        return None  # a naive time, or one msgspec does not read: each on its own
    seconds = np.array(list(map(datetime.timestamp, aware)), dtype=np.float64)
    if not (np.abs(seconds) < _EXACT_TIMESTAMP_S).all():
        return None
    # timestamp() divides the exact microseconds by 10**6 (correctly rounded); scaling back is within half
    # a microsecond below 2**51 µs, so rounding gives them back exactly.
    return np.rint(seconds * 1e6).astype(np.int64)


def _vector_epoch_micros(seconds: F64) -> I64 | None:
    """:func:`_epoch_micros` for a batch of epoch seconds in [0, 2e10), the same arithmetic a column at
    a time; None for any other batch."""
    if not ((seconds >= 0) & (seconds < _EPOCH_SECONDS_LIMIT)).all():
        return None
    whole = np.floor(seconds)
    fraction_us = (seconds - whole) * 1e6
    rounded = np.floor(fraction_us)
    us = rounded.astype(np.int64) + (fraction_us - rounded >= 0.5)
    return whole.astype(np.int64) * 1_000_000 + us


def _micros(text: str | float) -> int:
    """recorded_at in microseconds since the epoch, exactly as pydantic reads it; ``_Slow`` otherwise."""
    if isinstance(text, str):
        value = _datetime(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        us = (value - EPOCH) // ONE_US
        if not _MIN_US <= us <= _MAX_US:
            raise _Slow
        return us
    return _epoch_micros(text)


def from_fixes(
    index: Sequence[int],
    fixes: Sequence[Fix],
    rejected: list[tuple[int, str]],
    count: int,
) -> PingColumns:
    """Columns of already-built fixes (the pydantic path, the phone protocols)."""
    n = len(fixes)
    approx = [f.approximate for f in fixes]
    attrs = [f.attributes for f in fixes]
    return PingColumns(
        np.array(index, dtype=np.int64).reshape(n),
        np.fromiter(((f.recorded_at - EPOCH) // ONE_US for f in fixes), np.int64, n),
        _floats([f.lat for f in fixes]).reshape(n),
        _floats([f.lon for f in fixes]).reshape(n),
        _floats([f.accuracy_m for f in fixes]).reshape(n),
        _floats([f.speed_mps for f in fixes]).reshape(n),
        _floats([f.heading_deg for f in fixes]).reshape(n),
        _floats([f.altitude_m for f in fixes]).reshape(n),
        _floats([f.battery_pct for f in fixes]).reshape(n),
        rejected,
        count,
        attrs if any(a is not None for a in attrs) else None,
        approx if any(a is not None for a in approx) else None,
    )


def to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def to_fixes(cols: PingColumns) -> list[Fix]:
    """Back to per-ping objects: only for the exact per-officer filters of an unusual batch."""

    def opt(v: float) -> float | None:
        return None if v != v else v

    out = []
    attrs, approx = cols.attributes, cols.approximate
    for k, (t, la, lo, acc, sp, hd, alt, bt) in enumerate(
        zip(
            cols.t_us.tolist(),
            cols.lat.tolist(),
            cols.lon.tolist(),
            cols.accuracy_m.tolist(),
            cols.speed_mps.tolist(),
            cols.heading_deg.tolist(),
            cols.altitude_m.tolist(),
            cols.battery_pct.tolist(),
            strict=True,
        )
    ):
        out.append(
            Fix(
                opt(la),
                opt(lo),
                to_datetime(t),
                opt(acc),
                opt(sp),
                opt(hd),
                opt(alt),
                opt(bt),
                None if attrs is None else attrs[k],
                None if approx is None else approx[k],
            )
        )
    return out
