"""Officers, their devices and duty status; read models of positions and tracks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.errors import Conflict, InvalidInput, NotFound
from jogo_dispatch.platform import audit
from jogo_dispatch.platform import time_window as timerange
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import EventBus, OfficerStatusChanged
from jogo_dispatch.platform.security import Passwords, device_token_hash, new_device_token
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking import repository as repo
from jogo_dispatch.tracking.models import Device, Officer
from jogo_dispatch.tracking.schemas import (
    DeviceCreate,
    FixFeature,
    FixProperties,
    LineString,
    OfficerCreate,
    OfficerOut,
    OfficerProperties,
    Point,
    PositionFeature,
    PositionsOut,
    Presence,
    TrackFeature,
    TrackOut,
    TrackProperties,
)

View = TypeVar("View", bound=OfficerOut)

MAX_TRACK_POINTS = 50_000
MAX_TRACK_SPAN = timedelta(days=7)


async def create_officer(
    session: AsyncSession, passwords: Passwords, data: OfficerCreate, actor_id: int | None = None
) -> Officer:
    """The officer, its login (username = badge) and its phone when ``device_id`` is given; audited."""
    if await repo.officer_by_badge(session, data.badge):
        raise Conflict(f"officer with badge {data.badge!r} exists", code="officer_exists")
    user = await accounts.create_user(
        session, passwords, username=data.badge, password=data.password, role="officer", full_name=data.name
    )
    officer = Officer(
        user_id=user.id,
        badge=data.badge,
        name=data.name,
        unit_type=data.unit_type,
        sector=data.sector,
        status="available",
    )
    session.add(officer)
    await session.flush()
    audit.record(
        session,
        "officer",
        officer.id,
        "created",
        to_state="active",
        actor_id=actor_id,
        data={"badge": data.badge, "name": data.name, "unit_type": data.unit_type, "sector": data.sector},
    )
    if data.device_id:
        await register_device(session, officer.id, DeviceCreate(identifier=data.device_id), actor_id)
    return officer


async def register_device(
    session: AsyncSession, officer_id: int, data: DeviceCreate, actor_id: int | None = None
) -> tuple[Device, str]:
    """A phone bound to the officer, with its token (returned once, only its hash is kept); audited."""
    if await repo.officer(session, officer_id) is None:
        raise NotFound(f"officer {officer_id} not found")
    token = new_device_token()
    device = Device(
        officer_id=officer_id,
        identifier=data.identifier,
        label=data.label,
        token_hash=device_token_hash(token),
    )
    try:
        async with session.begin_nested():
            session.add(device)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"device {data.identifier!r} is already registered", code="device_exists") from None
    await session.refresh(device)
    audit.record(
        session,
        "officer",
        officer_id,
        "device_registered",
        actor_id=actor_id,
        data={"device_id": device.id, "identifier": data.identifier, "label": data.label},
    )
    return device, token


async def revoke_device(
    session: AsyncSession, officer_id: int, device_id: int, actor_id: int | None = None
) -> Device:
    device = await repo.device(session, device_id)
    if device is None or device.officer_id != officer_id:
        raise NotFound(f"device {device_id} not found for officer {officer_id}")
    if device.revoked_at is None:
        identifier = device.identifier
        device.revoked_at = utcnow()
        # Free the identifier so the phone can be registered again later.
        device.identifier = f"{device.identifier}#revoked-{device.id}"
        await session.flush()
        audit.record(
            session,
            "officer",
            officer_id,
            "device_revoked",
            actor_id=actor_id,
            data={"device_id": device.id, "identifier": identifier},
        )
    return device


async def set_status(session: AsyncSession, bus: EventBus, officer_id: int, status: str) -> Officer:
    officer = await repo.officer(session, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id} not found")
    if officer.status != status:
        previous, officer.status = officer.status, status
        await session.flush()
        after_commit(
            session,
            lambda: bus.publish(
                OfficerStatusChanged(officer_id=officer_id, status=status, previous=previous)
            ),
        )
    return officer


def presence_of(
    fixed: datetime | None, seen: datetime | None, settings: Settings, now: datetime
) -> tuple[Presence, float | None]:
    """The officer's presence and the age of its fix. ``seen`` is the phone's latest report of any kind:
    a heartbeat keeps the officer dispatchable at the last position (stale once the fix is old), so
    offline means nothing at all from the phone for ``offline_after_s``."""
    if fixed is None:
        return "offline", None
    age = max(0.0, (now - fixed).total_seconds())
    if (now - max(fixed, seen or fixed)).total_seconds() > settings.offline_after_s:
        return "offline", round(age, 1)
    return ("stale" if age > settings.stale_after_s else "online"), round(age, 1)


def officer_view(row: Any, settings: Settings, now: datetime, view: type[View]) -> View:
    data = dict(row._mapping)
    presence, age = presence_of(data.get("recorded_at"), data.pop("seen_at", None), settings, now)
    battery = data.get("battery_pct")
    return view(
        **data,
        online=presence != "offline",
        presence=presence,
        position_age_s=age,
        low_battery=battery is not None and battery < settings.low_battery_pct,
    )


async def list_officers(session: AsyncSession, settings: Settings, q: str | None = None) -> list[OfficerOut]:
    now = utcnow()
    rows = await repo.officers_with_positions(session, q=q.strip() if q else None)
    return [officer_view(r, settings, now, OfficerOut) for r in rows]


async def get_officer(session: AsyncSession, settings: Settings, officer_id: int) -> OfficerOut:
    """One officer as the list shows it."""
    rows = await repo.officers_with_positions(session, officer_id=officer_id)
    if not rows:
        raise NotFound(f"officer {officer_id} not found")
    return officer_view(rows[0], settings, utcnow(), OfficerOut)


_LON = r"-?(180(\.0+)?|(1[0-7][0-9]|[0-9]{1,2})(\.[0-9]+)?)"
_LAT = r"-?(90(\.0+)?|[0-8]?[0-9](\.[0-9]+)?)"
# w,s,e,n with each number in its range (the order, w <= e and s <= n, is checked by parse_bbox)
BBOX = f"^{_LON},{_LAT},{_LON},{_LAT}$"


def parse_bbox(bbox: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(x) for x in bbox.split(","))
    except ValueError:
        raise InvalidInput("bbox must be w,s,e,n in degrees", code="bad_bbox") from None
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= n <= 90 and w <= e):
        raise InvalidInput("bbox must satisfy -180<=w<=e<=180 and -90<=s<=n<=90", code="bad_bbox")
    return w, s, e, n


async def positions_geojson(session: AsyncSession, settings: Settings, bbox: str) -> PositionsOut:
    now = utcnow()
    features = []
    for row in await repo.positions_in_bbox(session, *parse_bbox(bbox)):
        o = officer_view(row, settings, now, OfficerProperties)
        features.append(
            PositionFeature(id=o.id, geometry=Point(coordinates=(row.lon, row.lat)), properties=o)
        )
    return PositionsOut(features=features)


async def track_geojson(
    session: AsyncSession, officer_id: int, since: datetime | None, until: datetime | None
) -> TrackOut:
    if await repo.officer(session, officer_id) is None:
        raise NotFound(f"officer {officer_id} not found")
    since, until = timerange.window(
        since, until, default=timedelta(hours=12), max_span=MAX_TRACK_SPAN, what="a track"
    )
    rows = await repo.track(session, officer_id, since, until, MAX_TRACK_POINTS)
    points = [
        FixFeature(
            geometry=Point(coordinates=(r.lon, r.lat)),
            properties=FixProperties.model_validate(r),
        )
        for r in rows
    ]
    line = TrackFeature(
        # The line follows the real fixes; an approximate report is a point of its own, marked so.
        geometry=LineString(
            coordinates=[p.geometry.coordinates for p in points if p.properties.approximate is None]
        ),
        properties=TrackProperties(
            officer_id=officer_id,
            since=since,
            until=until,
            points=len(points),
            truncated=len(points) == MAX_TRACK_POINTS,
        ),
    )
    return TrackOut(features=[line, *points])
