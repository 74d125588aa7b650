from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Accuracy = Annotated[float, Field(ge=0, le=100_000)]

_PHONE_NOISE = re.compile(r"[\s\-().]")
_INDONESIAN = re.compile(r"^\+62[1-9]\d{7,11}$")
_INTERNATIONAL = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_phone(raw: str) -> str:
    """E.164 form of a phone number as people type it in Indonesia: ``0812-3456-789``, ``62812...``,
    ``+62 (0)812 ...`` and ``812...`` all become ``+62812...``; other countries must start with ``+``
    (or ``00``). Raises ValueError for anything that is not a plausible number."""
    s = _PHONE_NOISE.sub("", raw.strip())
    if s.startswith("00"):
        s = "+" + s[2:]
    if s.startswith("+620"):  # "+62 (0)812..." with the trunk zero kept
        s = "+62" + s[4:]
    elif s.startswith("+"):
        pass
    elif s.startswith("62"):
        s = "+" + s
    elif s.startswith("0"):
        s = "+62" + s[1:]
    elif s.startswith("8"):  # mobile number typed after a printed "+62" / "0"
        s = "+62" + s
    else:
        raise ValueError("not a phone number")
    pattern = _INDONESIAN if s.startswith("+62") else _INTERNATIONAL
    if not pattern.match(s):
        raise ValueError("not a valid phone number (Indonesian numbers: 0812..., 62812... or +62812...)")
    return s


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

    incident_id: int | None = Field(None, description="link to this open incident instead of looking for one")
    note: str | None = Field(None, max_length=1000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["not_incident", "false"] = Field(
        description="not_incident: genuine but nothing for the command centre; false: a false report (a strike)")
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
