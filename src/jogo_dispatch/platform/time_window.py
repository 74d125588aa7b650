"""``[since, until)`` windows from optional query parameters, refused with a clear 400 when unusable."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.platform.db import utcnow

# RFC 3339 as the schema's "format: date-time" says (ASCII digits; the offset may be left out, which is then
# refused with 400 bad_time_range). Without this, pydantic would also take "1700000000" or "2026-01-01".
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z")
    return value


QueryTime = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A date-time query parameter: an RFC 3339 string only."""


def window(
    since: datetime | None, until: datetime | None, *, default: timedelta, max_span: timedelta, what: str
) -> tuple[datetime, datetime]:
    """``until`` defaults to now and ``since`` to ``default`` before it. Both need a time zone (a naive time
    cannot be compared with an aware one), ``since`` comes first, and they are at most ``max_span`` apart;
    otherwise 400 ``bad_time_range``."""
    if (since is not None and since.tzinfo is None) or (until is not None and until.tzinfo is None):
        raise InvalidInput("since and until need a time zone (e.g. ...Z or +07:00)", code="bad_time_range")
    try:
        since, until = (None if t is None else t.astimezone(UTC) for t in (since, until))
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise InvalidInput("since or until is out of range", code="bad_time_range") from None
    until = until or utcnow()
    if since is None:
        try:
            since = until - default
        except OverflowError:  # until within `default` of year 1
            raise InvalidInput("until is too early", code="bad_time_range") from None
    if since >= until:
        raise InvalidInput("since must be before until", code="bad_time_range")
    if until - since > max_span:
        raise InvalidInput(
            f"{what} covers at most {max_span.days} days",
            code="bad_time_range",
            details={"max_days": max_span.days},
        )
    return since, until
