"""Raise and acknowledge alerts; every alert is stored and published to the live feed after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.alerts.models import Alert
from jogo_dispatch.alerts.schemas import AlertOut
from jogo_dispatch.errors import NotFound
from jogo_dispatch.live.hub import LiveHub, SnapshotPart
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import AlertAcknowledged, AlertRaised, EventBus


def alert_view(a: Alert) -> dict[str, Any]:
    """The alert as the live feed carries it (the JSON of ``AlertOut``)."""
    return AlertOut.model_validate(a).model_dump(mode="json")


async def raise_alert(
    session: AsyncSession,
    bus: EventBus,
    kind: str,
    message: str,
    *,
    officer_id: int | None = None,
    incident_id: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    data: dict[str, Any] | None = None,
) -> Alert:
    alert = Alert(
        kind=kind,
        message=message,
        officer_id=officer_id,
        incident_id=incident_id,
        lat=lat,
        lon=lon,
        data=data or {},
        created_at=utcnow(),
    )
    session.add(alert)
    await session.flush()
    payload = alert_view(alert)
    after_commit(session, lambda: bus.publish(AlertRaised(alert=payload)))
    return alert


async def raise_once_per_officer(
    session: AsyncSession, bus: EventBus, kind: str, message: str, *, officer_id: int, **fields: Any
) -> Alert | None:
    """An alert of ``kind`` for the officer unless one is still open (None then): a phone that repeats its
    alarm, or sends 500 of them in one request, makes one alert for the dispatcher, not a flood."""
    # Serialise concurrent raisers for this officer and kind until commit, so two requests cannot both see
    # none open.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:kind), CAST(:officer AS integer))"),
        {"kind": kind, "officer": officer_id},
    )
    already = await session.scalar(
        select(Alert.id)
        .where(Alert.kind == kind, Alert.officer_id == officer_id, Alert.acknowledged_at.is_(None))
        .limit(1)
    )
    if already is not None:
        return None
    return await raise_alert(session, bus, kind, message, officer_id=officer_id, **fields)


async def open_alerts(session: AsyncSession, limit: int = 200) -> list[Alert]:
    return list(
        await session.scalars(
            select(Alert).where(Alert.acknowledged_at.is_(None)).order_by(Alert.id.desc()).limit(limit)
        )
    )


async def acknowledge(session: AsyncSession, bus: EventBus, alert_id: int, user_id: int) -> Alert:
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = user_id
        await session.flush()
        after_commit(session, lambda: bus.publish(AlertAcknowledged(alert_id=alert_id)))
    return alert


def provide_snapshot(hub: LiveHub) -> None:
    """Open alerts in every fresh live-feed snapshot."""

    async def alerts(session: AsyncSession) -> SnapshotPart:
        return SnapshotPart([alert_view(a) for a in await open_alerts(session)])

    hub.snapshot_providers["alerts"] = alerts
