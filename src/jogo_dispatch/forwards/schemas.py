from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    UrlConstraints,
    field_validator,
    model_validator,
)

from jogo_dispatch.forwards.models import SLA_MAX_MINUTES
from jogo_dispatch.platform.audit import AuditEntryOut
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.json_types import IsoDatetime

if TYPE_CHECKING:
    from jogo_dispatch.forwards.models import Forward, ForwardNote

Text = Field(min_length=1, max_length=4000)


class ForwardIn(BaseModel):
    """Without ``agency_ids`` the incident goes to its routing targets (responsible, always-notify and, when
    someone may be hurt, the nearest hospitals)."""

    model_config = ConfigDict(extra="forbid")

    agency_ids: list[Id] | None = Field(None, max_length=50, description="forward to these agencies only")
    note: str | None = Field(None, max_length=4000, description="for the agencies")
    injured: bool | None = Field(
        None, description="someone is hurt (adds hospitals); default: what the incident's reports said"
    )
    include_caller_phone: bool = Field(
        False,
        description="give these agencies the caller's phone (the call-taken or SOS caller, else the "
        "reporter's); never shared otherwise. Forwarding again with true shares it on open forwards too",
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Text


Outcome = Literal["resolved", "no_action_needed", "not_found", "not_responsible", "referred"]


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome = Field(
        "resolved",
        description="resolved, no_action_needed, not_found (work done or nothing to do); not_responsible, "
        "referred (the command centre must send someone else)",
    )
    note: str | None = Field(None, max_length=4000)


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000, description="e.g. who is on the way")


class SlaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ack_minutes: int | None = Field(
        ..., ge=1, le=SLA_MAX_MINUTES, description="acknowledge within; null = the deployment's default"
    )


class AgencyUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@+-]+$")
    password: str = Field(min_length=6, max_length=200)
    full_name: str | None = Field(None, max_length=200)


WEBHOOK_URL_MAX = 500  # agencies.webhook_url is a varchar(500)


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery: Literal["inbox", "webhook", "both"]
    webhook_url: Annotated[HttpUrl, UrlConstraints(max_length=WEBHOOK_URL_MAX)] | None = None

    @field_validator("webhook_url")
    @classmethod
    def _fits_once_normalised(cls, v: HttpUrl | None) -> HttpUrl | None:
        # The limit above is on the text sent; what is stored is the normalised URL (a "/" path added,
        # international host names in punycode), which can be longer.
        if v is not None and len(str(v)) > WEBHOOK_URL_MAX:
            raise ValueError(f"webhook_url is longer than {WEBHOOK_URL_MAX} characters once normalised")
        return v


# -- answers ---------------------------------------------------------------------------------------------


class AgencyBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    region: str


class IncidentSummary(BaseModel):
    """What an agency sees of an incident (no reporter identity)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str
    priority: int
    status: str
    source: str
    description: str
    address: str | None
    lat: float
    lon: float
    sector: str | None
    received_at: IsoDatetime
    verified_at: IsoDatetime | None
    updated_at: IsoDatetime


class IncidentForAgency(IncidentSummary):
    photos: list[str] = Field(description="URLs of the photos of its reports")


class NoteOut(BaseModel):
    """A note on a forward (by the agency); also the ``forward_note`` event's ``note``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    forward_id: int
    author_id: int | None
    author_name: str | None = None
    text: str
    photo_url: str | None = Field(None, description="its photo (same access as the forward)")
    created_at: IsoDatetime

    @classmethod
    def of(cls, n: ForwardNote, author_name: str | None = None) -> Self:
        photo = f"/api/v1/forwards/{n.forward_id}/notes/{n.id}/photo" if n.photo_sha256 else None
        return cls(
            id=n.id,
            forward_id=n.forward_id,
            author_id=n.author_id,
            author_name=author_name,
            text=n.text,
            photo_url=photo,
            created_at=n.created_at,
        )


class ForwardNoteEvent(NoteOut):
    incident_id: int
    agency_id: int
    agency_code: str | None


class ForwardOut(BaseModel):
    """One forward: its send state, failures, and the agency's answer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    agency_id: int
    role: str
    delivery: str
    status: str
    attempts: int
    failure_count: int
    last_error: str | None
    next_attempt_at: IsoDatetime | None = Field(description="the next webhook attempt (pending only)")
    sent_at: IsoDatetime | None
    acknowledged_at: IsoDatetime | None
    acknowledged_by: int | None
    started_at: IsoDatetime | None
    started_by: int | None
    closed_at: IsoDatetime | None
    closed_by: int | None
    outcome: str | None
    ack_alerted_at: IsoDatetime | None
    note: str | None = Field(description="the dispatcher's note for the agency")
    include_caller_phone: bool
    caller_phone: str | None = Field(description="only when the dispatcher chose to include it")
    created_by: int | None
    created_at: IsoDatetime
    updated_at: IsoDatetime
    ack_due_at: IsoDatetime | None = Field(
        None, description="when the acknowledgement falls due under the agency's SLA"
    )

    @model_validator(mode="after")
    def _attempt_only_while_pending(self) -> Self:
        if self.status != "pending":
            self.next_attempt_at = None
        return self

    @classmethod
    def of(cls, f: Forward, **parts: Any) -> Self:
        """The forward's columns and what a richer view adds (its agency, incident, notes...)."""
        own = {name: getattr(f, name) for name in ForwardOut.model_fields if name != "ack_due_at"}
        return cls(**own, **parts)


class ForwardWithAgency(ForwardOut):
    agency: AgencyBrief


class ForwardDetail(ForwardWithAgency):
    notes: list[NoteOut]
    history: list[AuditEntryOut]


class ForwardingOut(BaseModel):
    incident_id: int
    forwards: list[ForwardWithAgency] = Field(description="every forward to the agencies asked for")
    created: list[int] = Field(description="the forwards made now")
    requeued: list[int] = Field(description="failed forwards queued for delivery again")
    reasons: list[str] = Field(description="why these agencies")


class IncidentForwardsOut(BaseModel):
    incident_id: int
    items: list[ForwardDetail]


class InboxItem(ForwardOut):
    incident: IncidentSummary


class InboxOut(BaseModel):
    agency_id: int
    agency_code: str
    agency_name: str
    ack_minutes: float = Field(description="the agency's SLA: acknowledge within this many minutes")
    items: list[InboxItem]


class AgencyForwardOut(ForwardOut):
    incident: IncidentForAgency
    notes: list[NoteOut] = Field(description="this forward's notes (never another agency's)")


class ForwardEvent(BaseModel):
    """The ``forward`` event's payload (no notes or errors: agencies watch the live feed too)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    agency_id: int
    agency_code: str | None
    status: str
    failure_count: int
    outcome: str | None = None


class SlaOut(BaseModel):
    agency_id: int
    agency_code: str
    ack_minutes: int | None = Field(description="the agency's own SLA (null: the default)")
    default_ack_minutes: float = Field(description="JOGO_FORWARD_ACK_TIMEOUT_S in minutes")
    effective_ack_minutes: float


class AgencyUserCreated(BaseModel):
    id: int
    username: str
    role: str
    full_name: str | None
    agency_id: int
    agency_code: str


class AgencyUserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str | None
    is_active: bool


class AgencyUsersOut(BaseModel):
    agency_id: int
    items: list[AgencyUserOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    delivery: str
    webhook_url: str | None
