"""What the alerts API and the live feed say about an alert."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from jogo_dispatch.platform.json_types import IsoDatetime


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    message: str
    officer_id: int | None
    incident_id: int | None
    lat: float | None
    lon: float | None
    data: dict[str, Any]
    created_at: IsoDatetime | None
    acknowledged_at: IsoDatetime | None
