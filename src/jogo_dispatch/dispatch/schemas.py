from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from jogo_dispatch.dispatch.models import Incident, Offer
from jogo_dispatch.platform.audit import AuditEntryOut
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.json_types import IsoDatetime
from jogo_dispatch.reports.schemas import ReportDetailOut, ReportOut
from jogo_dispatch.responders.schemas import CandidateOut, ResponderOut

Reason = Annotated[str | None, Field(max_length=1000)]


class StatusChangeIn(BaseModel):
    """``dispatched`` is not here: an incident is dispatched when an officer accepts an offer."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["verified", "en_route", "on_scene", "resolved", "cancelled"]
    reason: Reason = None


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: Id | None = Field(None, description="offer to this officer; default: the nearest available")


DeskSource = Literal["phone", "radio", "walk_in", "officer", "other"]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


def _stripped(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


# Free text of at most so many characters; blank is None.
Line40 = Annotated[Annotated[str, Field(max_length=40)] | None, AfterValidator(_stripped)]
Line200 = Annotated[Annotated[str, Field(max_length=200)] | None, AfterValidator(_stripped)]
Line500 = Annotated[Annotated[str, Field(max_length=500)] | None, AfterValidator(_stripped)]
Line4000 = Annotated[Annotated[str, Field(max_length=4000)] | None, AfterValidator(_stripped)]


class _OptionalPlace(BaseModel):
    """A place that may be left out, but never half given."""

    lat: Latitude | None = None
    lon: Longitude | None = None

    @model_validator(mode="after")
    def _place_whole(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together")
        return self


class IncidentCreateIn(BaseModel):
    """A call taken at the desk (a 110 call, the radio, someone at the counter) or an officer on view."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=32, description="a catalogue code (GET /categories)")
    lat: Latitude
    lon: Longitude
    priority: int | None = Field(None, ge=1, le=5, description="default: the category's")
    address: Line500 = None
    caller_name: Line200 = None
    caller_phone: Line40 = None
    narrative: Line4000 = None
    source: DeskSource = Field("phone", description="an officer's own incident is always 'officer'")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, AfterValidator(str.strip), Field(min_length=1, max_length=4000)]

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v:
            raise ValueError("a note needs some text")
        return v


class IncidentPatchIn(_OptionalPlace):
    """Only the fields given change (lat and lon together); ``version`` is the incident's version the
    editor saw."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="409 stale_incident when the incident changed since")
    category: str | None = Field(None, min_length=1, max_length=32)
    priority: int | None = Field(None, ge=1, le=5)
    address: Line500 = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    reason: Reason = None


class AssignIn(BaseModel):
    """Give the incident to an officer directly (by radio), without an offer."""

    model_config = ConfigDict(extra="forbid")

    officer_id: Id
    reason: Reason = None


class BackupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: int = Field(1, ge=1, le=5, description="how many more units")
    reason: Reason = None


class PanicIn(_OptionalPlace):
    """The officer app's panic button: where the officer is (default: their last fix)."""

    model_config = ConfigDict(extra="forbid")


class WelfareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    safe: StrictBool = Field(True, description="false: the officer needs help (an alert at once)")


class UnmarkFalseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = None


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_incident_id: Id = Field(description="this incident is folded into the one in the path")
    reason: Reason = None


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_ids: list[Id] = Field(min_length=1, max_length=200, description="reports moved to a new incident")
    reason: Reason = None


class OfferAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apply: StrictBool = Field(False, description="make the proposed offers (default: only propose)")
    method: Literal["optimal", "greedy"] = "optimal"


# --- responses ---------------------------------------------------------------------------------------------


# Distances and ETAs are answered to a tenth of a metre / second.
Rounded = Annotated[float, AfterValidator(lambda v: round(v, 1))]


class OfferOut(BaseModel):
    """An offer; also the ``offer`` event."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    officer_id: int
    status: str
    attempt: int
    expires_at: IsoDatetime | None
    created_at: IsoDatetime | None
    responded_at: IsoDatetime | None
    distance_m: Rounded | None
    eta_s: Rounded | None


class UnitOut(BaseModel):
    """A unit on an incident: an accepted offer and its own CAD times."""

    offer_id: int
    officer_id: int
    state: Literal["dispatched", "en_route", "on_scene", "cleared"]
    dispatched_at: IsoDatetime
    acknowledged_at: IsoDatetime | None
    en_route_at: IsoDatetime | None
    on_scene_at: IsoDatetime | None
    cleared_at: IsoDatetime | None
    welfare_sent_at: IsoDatetime | None = Field(None, description="a welfare check waits for an answer since")
    welfare_ok_at: IsoDatetime | None = None
    welfare_missed_at: IsoDatetime | None = None

    @classmethod
    def of(cls, o: Offer) -> UnitOut:
        state = (
            "cleared"
            if o.status == "completed" or o.cleared_at
            else "on_scene"
            if o.on_scene_at
            else "en_route"
            if o.en_route_at
            else "dispatched"
        )
        return cls(
            offer_id=o.id,
            officer_id=o.officer_id,
            state=state,
            dispatched_at=o.created_at,
            acknowledged_at=o.responded_at,
            en_route_at=o.en_route_at,
            on_scene_at=o.on_scene_at,
            cleared_at=o.cleared_at,
            welfare_sent_at=o.welfare_sent_at,
            welfare_ok_at=o.welfare_ok_at,
            welfare_missed_at=o.welfare_missed_at,
        )


class IncidentOut(BaseModel):
    """An incident as lists, the live map (``incident`` event and snapshot) and answers show it."""

    id: int
    category: str
    priority: int
    status: str
    lat: float
    lon: float
    description: str
    address: str | None
    created_at: IsoDatetime | None = Field(description="when it was received")
    report_count: int
    sector: str | None
    source: str
    officer_id: int | None
    merged_into_id: int | None
    version: int = Field(description="name it in PATCH: an edit of an incident changed since is 409")
    units_needed: int = Field(description="units the incident needs (its response plan, backup requests)")
    units: list[UnitOut] = Field(description="officers on it (accepted) and cleared, each with its CAD times")
    shortfall: int = Field(description="units still missing: needed - on it - offered now")

    @classmethod
    def of(cls, i: Incident, report_count: int, **more: Any) -> Self:
        """The incident's columns of the same name, plus ``report_count`` and ``more``; a field found in
        neither is left unset (``nearest`` of the detail)."""
        values = {"created_at": i.received_at, "report_count": report_count, **more}
        return cls.model_validate(
            {
                name: values[name] if name in values else getattr(i, name)
                for name in cls.model_fields
                if name in values or hasattr(i, name)
            }
        )


class NoteOut(BaseModel):
    """A narrative note; also the ``incident_note`` event's ``note``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    author_id: int | None
    author_role: str
    author_name: str | None
    text: str
    created_at: IsoDatetime


class IncidentDetailOut(IncidentOut):
    """An incident with its CAD timestamps, reports and offers; while it waits for an officer, also the
    nearest available ones (``nearest``, absent otherwise)."""

    h3_r9: int
    h3_r7: int
    reporter_id: int | None
    data: dict[str, Any]
    received_at: IsoDatetime | None
    verified_at: IsoDatetime | None
    dispatched_at: IsoDatetime | None
    acknowledged_at: IsoDatetime | None
    en_route_at: IsoDatetime | None
    on_scene_at: IsoDatetime | None
    cleared_at: IsoDatetime | None
    updated_at: IsoDatetime | None
    reports: list[ReportOut]
    offers: list[OfferOut]
    notes: list[NoteOut]
    nearest: list[ResponderOut] | None = Field(
        None, description="only while the incident waits for an officer (new, verified)"
    )


class BackupOut(BaseModel):
    incident: IncidentOut
    offers: list[OfferOut] = Field(description="offers made now (fewer than asked when nobody is left)")


class IncidentCreatedOut(IncidentDetailOut):
    link_candidates: list[IncidentOut] = Field(
        description="open incidents of the same category nearby: link the call to one instead"
    )


class AgencyIncidentOut(BaseModel):
    """What an agency sees of an incident forwarded to it: what, where and how it stands, with the photos
    of its reports; never who reported it (account, phone, device, where the phone was) nor the officers."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str
    priority: int
    status: str
    lat: float
    lon: float
    description: str
    address: str | None
    sector: str | None
    source: str
    merged_into_id: int | None
    received_at: IsoDatetime | None
    verified_at: IsoDatetime | None
    on_scene_at: IsoDatetime | None
    cleared_at: IsoDatetime | None
    updated_at: IsoDatetime | None
    photos: list[str] = Field(description="URLs of the photos of its reports")


class IncidentList(BaseModel):
    items: list[IncidentOut]


class AgencyIncidentList(BaseModel):
    items: list[AgencyIncidentOut]


class OfferWithIncident(OfferOut):
    incident: IncidentOut


class OfferList(BaseModel):
    items: list[OfferWithIncident]


class DeclinedOut(OfferOut):
    next_offer: OfferOut | None = Field(description="the offer made to the next nearest officer, if any")


class TimelineOut(BaseModel):
    incident_id: int
    items: list[AuditEntryOut]


class Durations(BaseModel):
    n: int
    median_s: float | None
    p90_s: float | None


class StatsOut(BaseModel):
    since: IsoDatetime
    until: IsoDatetime
    incidents: int
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_sector: dict[str, int]
    times: dict[str, Durations]
    reports_by_status: dict[str, int]


class PairOut(BaseModel):
    job_id: int
    unit_id: int
    priority: int
    distance_m: Rounded
    eta_s: Rounded
    weighted_eta_s: Rounded


class SkippedPair(BaseModel):
    incident_id: int
    officer_id: int
    reason: str


class BatchOut(BaseModel):
    method: str
    fallback_reason: str | None
    incidents: int
    officers: int
    assignments: list[PairOut]
    unassigned: list[int]
    total_eta_s: Rounded
    total_weighted_eta_s: Rounded
    greedy_total_weighted_eta_s: Rounded
    greedy_unassigned: int
    applied: bool
    offers: list[OfferOut]
    skipped: list[SkippedPair]


class ReporterRecord(BaseModel):
    """The reporter's history, for judging a report: filed, verified, rejected, false, and strikes."""

    reports: int
    verified: int
    rejected: int
    false_reports: int = Field(description="reports marked false, ever")
    strike_count: int = Field(description="strikes since the last granted appeal")
    blocked: bool


class EvidenceOut(BaseModel):
    """What a dispatcher looks at before verifying a report."""

    report: ReportDetailOut
    reporter: ReporterRecord | None = Field(description="None: the report came with no account (Open311)")
    duplicates: list[IncidentOut] = Field(description="open incidents of its category nearby, nearest first")
    photo_url: str | None


class Nearest(BaseModel):
    items: list[ResponderOut]
    shortfall_reason: str | None


class SosStartedOut(BaseModel):
    incident_id: int
    sos_id: int
    status: str
    created: bool = Field(description="false: the caller's open SOS, at the new position")
    nearest: list[CandidateOut]
    shortfall_reason: str | None


class SosLocatedOut(BaseModel):
    sos_id: int
    incident_id: int
    status: str
    lat: float
    lon: float
    points: int
