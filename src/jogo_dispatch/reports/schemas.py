from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from jogo_dispatch.accounts.phones import normalise_phone  # noqa: F401 - re-exported
from jogo_dispatch.geo.distance import geodesic_m
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.json_types import IsoDatetime
from jogo_dispatch.reports.models import Report

Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Accuracy = Annotated[float, Field(ge=0, le=100_000)]


# Checks of our own raise PydanticCustomError: its type is the ``code`` of the 422's detail, which the
# phone app translates (a plain ValueError would only say ``value_error``).


def _not_null_island(lat: float, lon: float, what: str) -> None:
    if lat == 0.0 and lon == 0.0:
        raise PydanticCustomError(
            "no_position_fix", "{what} is (0, 0): the phone has no position fix", {"what": what}
        )


class CitizenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(
        min_length=1,
        max_length=32,
        examples=["0812-3456-7890"],
        description="a mobile number of the deployment's countries (JOGO_PHONE_REGIONS, default ID) as "
        "people type it; anything else is 400 bad_phone",
    )
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=6, max_length=200)


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


class SosEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(None, max_length=500, examples=["saya sudah aman"], description="why it ended")


class SosLocationIn(SosIn):
    recorded_at: datetime | None = Field(None, description="when the phone took the fix (default: now)")

    @field_validator("recorded_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        if v.tzinfo is None:
            raise PydanticCustomError(
                "timezone_required", "recorded_at needs a time zone (e.g. ...Z or +07:00)"
            )
        try:
            return v.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 with an offset: no UTC time exists for it
            raise PydanticCustomError(
                "datetime_out_of_range", "recorded_at is outside the years 1 to 9999 in UTC"
            ) from None


# --- responses ---------------------------------------------------------------------------------------------


class CitizenOut(BaseModel):
    id: int
    username: str
    phone: str | None
    name: str | None
    role: str


class ReportEventOut(BaseModel):
    """The ``report`` event: what the live map shows of a report."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str
    status: str
    lat: float
    lon: float
    description: str
    created_at: IsoDatetime
    incident_id: int | None


class ReportOut(ReportEventOut):
    """What the citizen sees of their own report."""

    address: str | None
    h3_r9: int
    h3_r7: int
    incident_status: str | None
    has_photo: bool
    reviewed_at: IsoDatetime | None

    @classmethod
    def of(cls, r: Report, incident_status: str | None = None) -> Self:
        return cls.model_validate(
            {
                **ReportEventOut.model_validate(r).model_dump(),
                "address": r.address,
                "h3_r9": r.h3_r9,
                "h3_r7": r.h3_r7,
                "incident_status": incident_status,
                "has_photo": r.photo_sha256 is not None,
                "reviewed_at": r.reviewed_at,
            }
        )


class FiledReportOut(ReportOut):
    duplicate: bool = Field(description="linked at once to an open incident of its category nearby")


class ReportDetailOut(ReportOut):
    """What a dispatcher sees: everything needed to judge and, for a hoax, to trace it."""

    priority: int | None
    citizen_id: int | None
    reporter_phone: str | None
    reporter_lat: float
    reporter_lon: float
    reporter_accuracy_m: float | None
    reporter_distance_m: float
    device_id: str | None
    user_agent: str | None
    client_ip: str | None
    photo_sha256: str | None
    photo_type: str | None
    review_note: str | None
    reviewed_by: int | None
    media_url: str | None = Field(None, description="the photo or video link an Open311 client sent")
    location_pending: bool = Field(
        False,
        description="filed through Open311 with an address only: it stands at the region's centre until a "
        "dispatcher places it (POST /api/v1/open311/requests/{id}/place)",
    )

    @classmethod
    def of_report(
        cls,
        r: Report,
        incident_status: str | None,
        reporter_phone: str | None,
        priority: int | None,
        *,
        media_url: str | None = None,
        location_pending: bool = False,
    ) -> Self:
        return cls.model_validate(
            {
                **ReportOut.of(r, incident_status).model_dump(),
                "priority": priority,
                "citizen_id": r.citizen_id,
                "reporter_phone": reporter_phone,
                "reporter_lat": r.reporter_lat,
                "reporter_lon": r.reporter_lon,
                "reporter_accuracy_m": r.reporter_accuracy_m,
                "reporter_distance_m": round(geodesic_m(r.lat, r.lon, r.reporter_lat, r.reporter_lon), 1),
                "device_id": r.device_id,
                "user_agent": r.user_agent,
                "client_ip": r.client_ip,
                "photo_sha256": r.photo_sha256,
                "photo_type": r.photo_type,
                "review_note": r.review_note,
                "reviewed_by": r.reviewed_by,
                "media_url": media_url,
                "location_pending": location_pending,
            }
        )


class ReportList(BaseModel):
    items: list[ReportOut]


class ReportQueue(BaseModel):
    items: list[ReportDetailOut]


class TrailPoint(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    lat: float
    lon: float
    accuracy_m: float | None
    recorded_at: IsoDatetime


class SosOut(BaseModel):
    sos_id: int
    incident_id: int
    status: str | None = Field(description="the status of the SOS incident")
    created_at: IsoDatetime
    trail: list[TrailPoint]
    ended_at: IsoDatetime | None = Field(description="when the SOS was ended (null while it runs)")
    ended_by: int | None = Field(description="the user who ended it (the caller or a dispatcher)")
    end_reason: str | None
