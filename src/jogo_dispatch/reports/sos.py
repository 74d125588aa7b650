"""SOS calls: the call a citizen's press opens and the trail of positions their phone keeps sending. The
incident an SOS opens is dispatch's (dispatch.sos); this module keeps the call and its trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import NotFound
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import repository as repo
from jogo_dispatch.reports.models import SosCall, SosPoint
from jogo_dispatch.reports.schemas import SosOut, TrailPoint
from jogo_dispatch.reports.service import clip


async def open_call(
    session: AsyncSession,
    citizen_id: int,
    incident_id: int,
    device_id: str | None,
    user_agent: str | None,
    now: datetime,
) -> SosCall:
    call = SosCall(
        citizen_id=citizen_id,
        incident_id=incident_id,
        device_id=clip(device_id, 128),
        user_agent=clip(user_agent, 300),
        created_at=now,
        last_fix_at=now,
    )
    session.add(call)
    await session.flush()
    return call


def add_point(
    session: AsyncSession,
    call: SosCall,
    lat: float,
    lon: float,
    accuracy_m: float | None,
    recorded_at: datetime,
    now: datetime,
) -> None:
    session.add(
        SosPoint(
            sos_id=call.id, lat=lat, lon=lon, accuracy_m=accuracy_m, recorded_at=recorded_at, received_at=now
        )
    )


def end_call(call: SosCall, actor_id: int, reason: str | None, now: datetime) -> None:
    call.ended_at = now
    call.ended_by = actor_id or None  # a device login has no user row
    call.end_reason = clip(reason, 500)


async def visible_call(session: AsyncSession, viewer: Principal, sos_id: int) -> SosCall:
    """The SOS call, if the viewer may see it: a citizen only their own, an agency only one whose incident
    was forwarded to it (another is 404, as if absent)."""
    call = await repo.sos_call(session, sos_id)
    if (
        call is None
        or (viewer.role == "citizen" and call.citizen_id != viewer.user_id)
        or (
            viewer.role == "agency"
            and not await repo.incident_forwarded_to_login(session, call.incident_id, viewer.user_id)
        )
    ):
        raise NotFound(f"SOS {sos_id} not found", code="sos_not_found")
    return call


async def call_view(session: AsyncSession, call: SosCall, viewer: Principal | None = None) -> SosOut:
    """The call with its trail (for an agency, without who ended it)."""
    return SosOut(
        sos_id=call.id,
        incident_id=call.incident_id,
        status=await repo.incident_status(session, call.incident_id),
        created_at=call.created_at,
        trail=[TrailPoint.model_validate(p) for p in await repo.trail(session, call.id)],
        ended_at=call.ended_at,
        ended_by=None if viewer is not None and viewer.role == "agency" else call.ended_by,
        end_reason=call.end_reason,
    )


async def sos_view(session: AsyncSession, viewer: Principal, sos_id: int) -> SosOut:
    return await call_view(session, await visible_call(session, viewer, sos_id), viewer)
