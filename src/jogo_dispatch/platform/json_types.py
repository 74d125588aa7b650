"""Field types for response models that keep the service's JSON forms.

Pydantic writes a UTC datetime as ``2026-01-01T00:00:00Z``; the service has always answered with
``datetime.isoformat()`` (``2026-01-01T00:00:00+00:00``), and clients parse that. ``IsoDatetime`` keeps it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def _isoformat(t: datetime) -> str:
    return t.isoformat()


IsoDatetime = Annotated[
    datetime,
    PlainSerializer(_isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
