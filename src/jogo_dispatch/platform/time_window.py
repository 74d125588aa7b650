"""``[since, until)`` windows from optional query parameters, refused with a clear 400 when unusable."""

from __future__ import annotations

from datetime import datetime, timedelta

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.platform.db import utcnow


def window(
    since: datetime | None, until: datetime | None, *, default: timedelta, max_span: timedelta, what: str
) -> tuple[datetime, datetime]:
    """``until`` defaults to now and ``since`` to ``default`` before it. Both need a time zone (a naive time
    cannot be compared with an aware one), ``since`` comes first, and they are at most ``max_span`` apart;
    otherwise 400 ``bad_time_range``."""
    if (since is not None and since.tzinfo is None) or (until is not None and until.tzinfo is None):
        raise InvalidInput("since and until need a time zone (e.g. ...Z or +07:00)", code="bad_time_range")
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
