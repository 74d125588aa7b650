"""A forward's states, and how every change of one is recorded (audit row) and announced (live event).

States: ``pending`` (its webhook is not delivered yet) -> ``sent`` -> ``acknowledged`` -> ``in_progress``
(the agency is on the way / working) -> ``closed``; ``pending`` -> ``failed`` after the last webhook
attempt; an agency may acknowledge, start or close from any state before ``closed`` (starting without
acknowledging first acknowledges too). Inbox-only agencies start at ``sent``: the inbox is the delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import Conflict
from jogo_dispatch.forwards.models import Forward
from jogo_dispatch.forwards.schemas import ForwardEvent
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import after_commit
from jogo_dispatch.platform.events import EventBus, ForwardChanged
from jogo_dispatch.settings import Settings

# Which states each state may move to (closed is final).
_NEXT: dict[str, frozenset[str]] = {
    "pending": frozenset({"sent", "failed", "acknowledged", "in_progress", "closed"}),
    "sent": frozenset({"acknowledged", "in_progress", "closed"}),
    "failed": frozenset({"pending", "acknowledged", "in_progress", "closed"}),
    "acknowledged": frozenset({"in_progress", "closed"}),
    "in_progress": frozenset({"closed"}),
    "closed": frozenset(),
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in _NEXT.get(from_status, frozenset())


def check_move(from_status: str, to_status: str) -> None:
    if not can_move(from_status, to_status):
        raise Conflict(
            f"a forward cannot go from {from_status!r} to {to_status!r}",
            code="invalid_transition",
            details={"from": from_status, "to": to_status, "allowed": sorted(_NEXT.get(from_status, ()))},
        )


def backoff_s(settings: Settings, attempts: int) -> float:
    """Wait after the ``attempts``-th failed webhook attempt: base, 2 x base, 4 x base, ... up to the max."""
    wait = settings.forward_backoff_base_s * 2 ** max(0, attempts - 1)
    return float(min(settings.forward_backoff_max_s, wait))


def announce(session: AsyncSession, bus: EventBus, f: Forward, agency_code: str | None = None) -> None:
    """A ``forward`` event after commit."""
    payload = ForwardEvent(
        id=f.id,
        incident_id=f.incident_id,
        agency_id=f.agency_id,
        agency_code=agency_code,
        status=f.status,
        failure_count=f.failure_count,
        outcome=f.outcome,
    ).model_dump(mode="json")
    after_commit(session, lambda: bus.publish(ForwardChanged(forward=payload)))


def record_change(
    session: AsyncSession,
    f: Forward,
    action: str,
    from_state: str | None,
    actor_id: int | None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Audit a change of ``f`` (its state now is the ``to_state``)."""
    audit.record(
        session,
        "forward",
        f.id,
        action,
        from_state=from_state,
        to_state=f.status,
        actor_id=actor_id,
        reason=reason,
        data={"incident_id": f.incident_id, "agency_id": f.agency_id, **(data or {})},
        at=at,
    )
