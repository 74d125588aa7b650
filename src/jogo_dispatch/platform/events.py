"""In-process event bus: domains publish facts after commit; the responder index and the live feed
listen. A cross-process backend (PostgreSQL LISTEN/NOTIFY) plugs in behind the same interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._outbound: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    def add_outbound(self, fn: Subscriber) -> None:
        """A relay to other processes (they deliver what it sends with ``deliver``)."""
        self._outbound.append(fn)

    def publish(self, type_: str, **data: Any) -> None:
        event = Event(type_, data)
        self.deliver(event)
        for relay in self._outbound:
            relay(event)

    def deliver(self, event: Event) -> None:
        """Hand an event to this process's subscribers only."""
        for fn in self._subscribers:
            try:
                fn(event)
            except Exception:  # noqa: BLE001 - one broken listener must not break the others
                log.exception("event subscriber failed", event_type=event.type)
