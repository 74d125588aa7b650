from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jogo_dispatch.accounts.phones import normalise_phone  # noqa: F401 - re-exported
from jogo_dispatch.platform.db import Id

Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Accuracy = Annotated[float, Field(ge=0, le=100_000)]


def _not_null_island(lat: float, lon: float, what: str) -> None:
    if lat == 0.0 and lon == 0.0:
        raise ValueError(f"{what} is (0, 0): the phone has no position fix")


class CitizenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=6, max_length=32, examples=["0812-3456-7890"])
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=6, max_length=200)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        return normalise_phone(v)


class ReportIn(BaseModel):
    """A citizen's report (JSON, or the same fields as multipart form fields plus a ``photo`` file)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(min_length=1, max_length=32, examples=["traffic_accident"])
    description: str = Field(min_length=1, max_length=2000)
    lat: Lat = Field(description="where it happened")
    lon: Lon
    reporter_lat: Lat = Field(description="where the reporting phone was")
    reporter_lon: Lon
    reporter_accuracy_m: Accuracy | None = None
    address: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _positions(self) -> ReportIn:
        _not_null_island(self.lat, self.lon, "the incident position")
        _not_null_island(self.reporter_lat, self.reporter_lon, "the reporter position")
        return self


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: Id | None = Field(None, description="link to this open incident instead of looking for one")
    note: str | None = Field(None, max_length=1000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["not_incident", "false"] = Field(
        description="not_incident: genuine but nothing for the command centre; "
        "false: a false report (a strike)"
    )
    note: str | None = Field(None, max_length=1000)


class SosIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Lat
    lon: Lon
    accuracy_m: Accuracy | None = None

    @model_validator(mode="after")
    def _position(self) -> SosIn:
        _not_null_island(self.lat, self.lon, "the position")
        return self


class SosLocationIn(SosIn):
    recorded_at: datetime | None = Field(None, description="when the phone took the fix (default: now)")

    @field_validator("recorded_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("recorded_at needs a time zone (e.g. ...Z or +07:00)")
        return v
