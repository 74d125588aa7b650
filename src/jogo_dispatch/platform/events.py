"""Every event the bus carries, as typed classes, and the in-process bus.

Domains publish facts after commit; the responder index, the live feed, the officer sockets and the
cross-process relay listen. Each class says its wire name (``TYPE``), whether the live feed may show it
(``PRIVATE``), where it happened (``place``) and which tracked thing it concerns (``subject``), so the
live hub fans events out without knowing any domain field. Views inside events (an incident, an alert,
a report...) are the JSON shapes the API serves for those objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import structlog

from jogo_dispatch.platform.db import utcnow

log = structlog.get_logger(__name__)

View = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    TYPE: ClassVar[str] = ""
    PRIVATE: ClassVar[bool] = False  # never shown on the live feed
    at: datetime = field(default_factory=utcnow)

    def payload(self) -> dict[str, Any]:
        """The event's fields as JSON-ready values (the live message and the relay carry these)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "at"}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any], at: datetime) -> Event:
        return cls(at=at, **data)

    def place(self) -> tuple[float | None, float | None]:
        """Where it happened, for viewport filtering (None, None = everywhere)."""
        return None, None

    def subject(self) -> int | None:
        """The key of a tracked thing (an officer) whose last known place decides who sees this."""
        return None

    def facets(self) -> dict[str, str | None]:
        """What this event changes about its subject (e.g. its status), for live-feed filters."""
        return {}

    def audience(self) -> frozenset[str]:
        """Who besides the command centre may see it on the live feed (``agency_audience`` tokens); the
        command centre sees every event that is not private, a scoped client only those naming it."""
        return frozenset()

    def halves(self) -> tuple[Event, Event] | None:
        """Two smaller events carrying the same facts, when one is too big for a transport."""
        return None


def agency_audience(agency_id: object) -> str:
    """The live-feed audience of an agency's logins."""
    return f"agency:{agency_id}"


def _view_place(view: View | None) -> tuple[float | None, float | None]:
    if isinstance(view, dict) and "lat" in view:
        return view.get("lat"), view.get("lon")
    return None, None


# --- officers ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Track:
    """Something on the map that moves: coalesced per key, filtered by facets (e.g. status)."""

    key: int
    lat: float | None
    lon: float | None
    facets: dict[str, str | None]
    item: View  # what a client receives for it


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsMoved(Event):
    """Latest fixes stored in one commit; ``positions`` items are built by tracking (see its live module)."""

    TYPE: ClassVar[str] = "positions"
    positions: Sequence[View]

    def tracks(self) -> Iterator[Track]:
        for p in self.positions:
            yield Track(
                p["officer_id"],
                p["lat"],
                p["lon"],
                {k: p[k] for k in ("status", "unit_type") if k in p},
                p,
            )

    def halves(self) -> tuple[Event, Event] | None:
        if len(self.positions) < 2:
            return None
        half = len(self.positions) // 2
        return (
            PositionsMoved(positions=self.positions[:half], at=self.at),
            PositionsMoved(positions=self.positions[half:], at=self.at),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerStatusChanged(Event):
    TYPE: ClassVar[str] = "status"
    officer_id: int
    status: str
    previous: str | None = None

    def subject(self) -> int | None:
        return self.officer_id

    def facets(self) -> dict[str, str | None]:
        return {"status": self.status}


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerPresence(Event):
    """An officer's presence changed: ``presence`` online, stale (no fix for JOGO_STALE_AFTER_S, still
    dispatched) or offline; ``online`` is true for online and stale (dispatchable), as before;
    ``position_age_s`` is the age of the last fix when the change was seen."""

    TYPE: ClassVar[str] = "presence"
    officer_id: int
    online: bool
    presence: str
    position_age_s: float | None = None
    last_fix: str | None = None

    def subject(self) -> int | None:
        return self.officer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerMessage(Event):
    """For the officer's own stream sockets, in whichever process holds them."""

    TYPE: ClassVar[str] = "officer_message"
    PRIVATE: ClassVar[bool] = True
    officer_id: int
    message: View


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialsChanged(Event):
    """A user's tokens or a device token were revoked: every process drops what it trusted."""

    TYPE: ClassVar[str] = "credentials_changed"
    PRIVATE: ClassVar[bool] = True
    user_id: int | None = None
    device_id: int | None = None


# --- incidents, offers, alerts, reports, forwards -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentChanged(Event):
    TYPE: ClassVar[str] = "incident"
    incident: View

    def place(self) -> tuple[float | None, float | None]:
        return _view_place(self.incident)


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentNoted(Event):
    """A narrative note on an incident; agencies the incident was forwarded to see it too."""

    TYPE: ClassVar[str] = "incident_note"
    note: View
    agency_ids: Sequence[int] = ()

    def audience(self) -> frozenset[str]:
        return frozenset(agency_audience(a) for a in self.agency_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferChanged(Event):
    TYPE: ClassVar[str] = "offer"
    offer: View

    def place(self) -> tuple[float | None, float | None]:
        return _view_place(self.offer)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(Event):
    TYPE: ClassVar[str] = "alert"
    alert: View

    def place(self) -> tuple[float | None, float | None]:
        return _view_place(self.alert)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertAcknowledged(Event):
    TYPE: ClassVar[str] = "alert_ack"
    alert_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReceived(Event):
    TYPE: ClassVar[str] = "report"
    report: View

    def place(self) -> tuple[float | None, float | None]:
        return _view_place(self.report)


@dataclass(frozen=True, slots=True, kw_only=True)
class SosEnded(Event):
    """A citizen's SOS call was ended (by the caller, or by a dispatcher); its incident stays as it is."""

    TYPE: ClassVar[str] = "sos_ended"
    sos_id: int
    incident_id: int
    incident_status: str
    lat: float
    lon: float
    ended_by: int | None
    by_role: str  # citizen (the caller), dispatcher or admin
    reason: str | None = None

    def place(self) -> tuple[float | None, float | None]:
        return self.lat, self.lon


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardChanged(Event):
    TYPE: ClassVar[str] = "forward"
    forward: View

    def place(self) -> tuple[float | None, float | None]:
        return _view_place(self.forward)

    def audience(self) -> frozenset[str]:
        return frozenset({agency_audience(self.forward.get("agency_id"))})


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardNoted(Event):
    """An agency wrote a note on its forward (the command centre's desk and the agency's other logins)."""

    TYPE: ClassVar[str] = "forward_note"
    note: View

    def audience(self) -> frozenset[str]:
        return frozenset({agency_audience(self.note.get("agency_id"))})


@dataclass(frozen=True, slots=True, kw_only=True)
class CitizenBlocked(Event):
    TYPE: ClassVar[str] = "citizen_blocked"
    user_id: int
    strike_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AppealChanged(Event):
    TYPE: ClassVar[str] = "appeal"
    appeal_id: int
    user_id: int
    status: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        PositionsMoved,
        OfficerStatusChanged,
        OfficerPresence,
        OfficerMessage,
        CredentialsChanged,
        IncidentChanged,
        IncidentNoted,
        OfferChanged,
        AlertRaised,
        AlertAcknowledged,
        ReportReceived,
        SosEnded,
        ForwardChanged,
        ForwardNoted,
        CitizenBlocked,
        AppealChanged,
    )
}


def decode(type_: str, data: Mapping[str, Any], at: datetime) -> Event:
    """An event from its wire form (KeyError for a type this process does not know)."""
    return EVENT_TYPES[type_].from_payload(data, at)


# --- the bus ----------------------------------------------------------------------------------------------

E = TypeVar("E", bound=Event)
Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._outbound: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> None:
        """``fn`` gets every event delivered in this process."""
        self._subscribers.append(fn)

    def on(self, kind: type[E], fn: Callable[[E], None]) -> None:
        """``fn`` gets the events of one class."""

        def only(event: Event) -> None:
            if isinstance(event, kind):
                fn(event)

        self._subscribers.append(only)

    def add_outbound(self, fn: Subscriber) -> None:
        """A relay to other processes (they deliver what it sends with ``deliver``)."""
        self._outbound.append(fn)

    def publish(self, event: Event) -> None:
        self.deliver(event)
        for relay in self._outbound:
            relay(event)

    def deliver(self, event: Event) -> None:
        """Hand an event to this process's subscribers only."""
        for fn in self._subscribers:
            try:
                fn(event)
            except Exception:  # noqa: BLE001 - one broken listener must not break the others
                log.exception("event subscriber failed", event_type=event.TYPE)
