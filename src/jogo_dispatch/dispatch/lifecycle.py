"""Incident and offer state machines. Pure: no database, no FastAPI.

Incident: new -> verified -> dispatched -> en_route -> on_scene -> resolved, and cancelled from any
state that is not final; an incident with its unit may be resolved before on scene (closed with a reason). Each forward step stamps one CAD timestamp on the incident.

Offer: pending -> accepted | declined | expired | cancelled; accepted -> completed (the incident was
resolved or cancelled) | cancelled. At most one pending-or-accepted offer per incident and per officer
(partial unique indexes back this in the database).
"""

from __future__ import annotations

from enum import StrEnum

from jogo_dispatch.errors import Conflict


class IncidentStatus(StrEnum):
    NEW = "new"
    VERIFIED = "verified"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


INCIDENT_STATUSES: tuple[str, ...] = tuple(s.value for s in IncidentStatus)
OFFER_STATUSES: tuple[str, ...] = tuple(s.value for s in OfferStatus)

FINAL: frozenset[IncidentStatus] = frozenset({IncidentStatus.RESOLVED, IncidentStatus.CANCELLED})
OPEN: frozenset[IncidentStatus] = frozenset(IncidentStatus) - FINAL
# An officer holds the incident in these states (an accepted offer exists).
ASSIGNED: frozenset[IncidentStatus] = frozenset(
    {IncidentStatus.DISPATCHED, IncidentStatus.EN_ROUTE, IncidentStatus.ON_SCENE}
)
# What the assigned officer may report from the phone.
OFFICER_PROGRESS: frozenset[IncidentStatus] = frozenset(
    {IncidentStatus.EN_ROUTE, IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED}
)

_FORWARD: dict[IncidentStatus, IncidentStatus] = {
    IncidentStatus.NEW: IncidentStatus.VERIFIED,
    IncidentStatus.VERIFIED: IncidentStatus.DISPATCHED,
    IncidentStatus.DISPATCHED: IncidentStatus.EN_ROUTE,
    IncidentStatus.EN_ROUTE: IncidentStatus.ON_SCENE,
    IncidentStatus.ON_SCENE: IncidentStatus.RESOLVED,
}

# The CAD timestamp each target state stamps (acknowledged_at/dispatched_at come from the offer).
TIMESTAMP_OF: dict[IncidentStatus, str] = {
    IncidentStatus.VERIFIED: "verified_at",
    IncidentStatus.DISPATCHED: "acknowledged_at",
    IncidentStatus.EN_ROUTE: "en_route_at",
    IncidentStatus.ON_SCENE: "on_scene_at",
    IncidentStatus.RESOLVED: "cleared_at",
    IncidentStatus.CANCELLED: "cleared_at",
}

_OFFER_NEXT: dict[OfferStatus, frozenset[OfferStatus]] = {
    OfferStatus.PENDING: frozenset(
        {OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.CANCELLED}
    ),
    OfferStatus.ACCEPTED: frozenset({OfferStatus.COMPLETED, OfferStatus.CANCELLED}),
}
ACTIVE_OFFER: frozenset[OfferStatus] = frozenset({OfferStatus.PENDING, OfferStatus.ACCEPTED})


def allowed_from(status: str) -> list[str]:
    """The states an incident in ``status`` may move to, in lifecycle order."""
    current = IncidentStatus(status)
    if current in FINAL:
        return []
    if current in (IncidentStatus.DISPATCHED, IncidentStatus.EN_ROUTE):  # closed early, with a reason
        return [_FORWARD[current].value, IncidentStatus.RESOLVED.value, IncidentStatus.CANCELLED.value]
    return [_FORWARD[current].value, IncidentStatus.CANCELLED.value]


def can_transition(from_status: str, to_status: str) -> bool:
    try:
        return to_status in allowed_from(from_status)
    except ValueError:
        return False


def check_transition(from_status: str, to_status: str) -> IncidentStatus:
    """The target state, or Conflict(code="invalid_transition") naming what is allowed instead."""
    try:
        allowed = allowed_from(from_status)
    except ValueError:
        allowed = []
    if to_status not in allowed:
        raise Conflict(
            f"an incident cannot go from {from_status!r} to {to_status!r}",
            code="invalid_transition",
            details={"from": from_status, "to": to_status, "allowed": allowed},
        )
    return IncidentStatus(to_status)


def can_offer_transition(from_status: str, to_status: str) -> bool:
    try:
        return OfferStatus(to_status) in _OFFER_NEXT.get(OfferStatus(from_status), frozenset())
    except ValueError:
        return False


def check_offer_transition(from_status: str, to_status: str) -> OfferStatus:
    if not can_offer_transition(from_status, to_status):
        raise Conflict(
            f"an offer cannot go from {from_status!r} to {to_status!r}",
            code="invalid_transition",
            details={"from": from_status, "to": to_status},
        )
    return OfferStatus(to_status)
