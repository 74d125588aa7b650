"""SOS: a citizen's press opens a priority-1 incident at once, and the incident follows the caller's
phone; an officer's distress alarm opens one at the officer. Flushes, never commits; announcements go out
after commit."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.abuse.schemas import AccountRecord
from jogo_dispatch.abuse.service import account_record
from jogo_dispatch.accounts.models import User
from jogo_dispatch.alerts.service import raise_alert
from jogo_dispatch.dispatch import announce, views
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch import service as incidents
from jogo_dispatch.dispatch.backup import PANIC_UNITS, more_units
from jogo_dispatch.dispatch.lifecycle import FINAL
from jogo_dispatch.dispatch.models import Incident
from jogo_dispatch.dispatch.schemas import SosLocatedOut, SosStartedOut
from jogo_dispatch.errors import Conflict, InvalidInput
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.platform.audit import Reason
from jogo_dispatch.platform.db import after_commit, session_scope, utcnow
from jogo_dispatch.platform.events import EventBus, SosEnded
from jogo_dispatch.platform.ratelimit import Limit, RateLimiter
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import repository as reports_repo
from jogo_dispatch.reports import sos as calls
from jogo_dispatch.reports.models import SosCall
from jogo_dispatch.reports.schemas import SosIn, SosLocationIn, SosOut
from jogo_dispatch.runtime import DistressHook, Runtime
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking.devices import KnownDevice
from jogo_dispatch.tracking.protocols import DeviceFix

log = structlog.get_logger(__name__)


async def screen_caller(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, citizen: Principal
) -> AccountRecord:
    """The caller's record. An SOS is never refused for a blocked account (a false alarm costs less than an
    emergency nobody hears of): it goes through, marked, under its own strict per-account limit."""
    record = await account_record(session, citizen.user_id)
    if record.blocked:
        key = f"sos:blocked:{citizen.user_id}"
        window = settings.sos_limit_window_s
        await limiter.check([Limit(key, settings.sos_limit_blocked_per_account, window, "blocked account")])
    return record


def _caller_note(record: AccountRecord) -> str:
    if record.blocked:
        return f" (BLOCKED account: {record.false_reports} false reports)"
    return f" ({record.false_reports} false reports)" if record.false_reports else ""


async def start_sos(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    citizen: Principal,
    data: SosIn,
    *,
    device_id: str | None,
    user_agent: str | None,
    caller: AccountRecord | None = None,
) -> tuple[SosStartedOut, bool]:
    """One press: a priority-1 incident at the caller, with the nearest available officers. Pressing again
    while the incident is open returns that SOS (and records the new position) instead of a second one.
    ``caller`` (the account's record: blocked, strikes, false reports) is kept in the incident's data as
    ``caller_record`` and in the alert, and a blocked or false-reporting caller is named in the description,
    so the dispatcher weighs the call."""
    now = utcnow()
    record = caller.model_dump(mode="json") if caller is not None else None
    await reports_repo.lock_citizen(session, citizen.user_id)
    call = await repo.open_sos_of_citizen(session, citizen.user_id)
    incident = await incidents.locked_incident(session, call.incident_id) if call is not None else None
    if incident is not None and incident.status in FINAL:  # closed while we waited for the lock
        call = incident = None
    created = call is None
    if call is None or incident is None:
        user = await session.get(User, citizen.user_id)
        who = (user.full_name or user.phone or user.username) if user else f"citizen {citizen.user_id}"
        incident = await incidents.create_incident(
            session,
            bus,
            settings,
            category="sos",
            priority=1,
            source="sos",
            lat=data.lat,
            lon=data.lon,
            description=f"SOS from {who}{_caller_note(caller) if caller else ''}",
            reporter_id=citizen.user_id,
            actor_id=citizen.user_id,
            data={
                "accuracy_m": data.accuracy_m,
                "caller_record": record,
                # the desk calls back: the caller's phone and name, as on a call-taken incident
                "caller": {
                    k: v for k, v in (("name", user and user.full_name), ("phone", user and user.phone)) if v
                },
            },
            reason=Reason("citizen_sos", "citizen SOS"),
            now=now,
        )
        call = await calls.open_call(session, citizen.user_id, incident.id, device_id, user_agent, now)
    else:
        incidents.move_incident(incident, data.lat, data.lon, now)
        call.last_fix_at = now
    calls.add_point(session, call, data.lat, data.lon, data.accuracy_m, now, now)
    nearest = await views.nearest_for(session, index, settings, data.lat, data.lon, settings.sos_nearest_k)
    nearest_json = [c.model_dump(mode="json") for c in nearest.items]
    if created:
        incident.data = {
            **incident.data,
            "sos_id": call.id,
            "nearest_at_start": [
                {k: c[k] for k in ("officer_id", "distance_m", "eta_s")} for c in nearest_json
            ],
        }
        await raise_alert(
            session,
            bus,
            "citizen_sos",
            f"SOS: {incident.description}",
            incident_id=incident.id,
            lat=data.lat,
            lon=data.lon,
            data={
                "sos_id": call.id,
                "accuracy_m": data.accuracy_m,
                "nearest": nearest_json,
                "caller_record": record,
            },
        )
    await announce.announce_incident(session, bus, incident, extra={"nearest": nearest_json})
    started = SosStartedOut(
        incident_id=incident.id,
        sos_id=call.id,
        status=incident.status,
        created=created,
        nearest=nearest.items,
        shortfall_reason=nearest.shortfall_reason,
    )
    return started, created


async def _locked_call(session: AsyncSession, viewer: Principal, sos_id: int) -> tuple[SosCall, Incident]:
    """The SOS call the viewer may see and its incident, both locked (incident first, as everywhere)."""
    seen = await calls.visible_call(session, viewer, sos_id)
    incident = await incidents.locked_incident(session, seen.incident_id)
    call = await reports_repo.lock_sos_call(session, sos_id)
    assert call is not None
    if call.incident_id != incident.id:
        raise Conflict(
            "the SOS was merged into another incident meanwhile; try again", code="concurrent_change"
        )
    return call, incident


async def sos_location(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    citizen: Principal,
    sos_id: int,
    data: SosLocationIn,
) -> SosLocatedOut:
    """The caller's phone keeps sending fixes: each is kept in the trail; the newest moves the incident."""
    now = utcnow()
    recorded_at = data.recorded_at or now  # already UTC (SosLocationIn)
    if recorded_at > now + timedelta(seconds=settings.future_tolerance_s):
        raise InvalidInput("recorded_at is in the future", code="future")
    call, incident = await _locked_call(session, citizen, sos_id)
    if call.ended_at is not None:
        raise Conflict(
            "this SOS was ended; press SOS again for a new one",
            code="sos_ended",
            details={"ended_at": call.ended_at.isoformat(), "incident_status": incident.status},
        )
    if incident.status in FINAL:
        raise Conflict(
            f"this SOS is over (incident {incident.status})",
            code="sos_closed",
            details={"incident_status": incident.status},
        )
    calls.add_point(session, call, data.lat, data.lon, data.accuracy_m, recorded_at, now)
    if call.last_fix_at is None or recorded_at >= call.last_fix_at:
        call.last_fix_at = recorded_at
        incidents.move_incident(incident, data.lat, data.lon, now)
        await announce.announce_incident(session, bus, incident)
    await session.flush()
    return SosLocatedOut(
        sos_id=call.id,
        incident_id=incident.id,
        status=incident.status,
        lat=incident.lat,
        lon=incident.lon,
        points=await reports_repo.trail_length(session, call.id),
    )


async def end_sos(
    session: AsyncSession, bus: EventBus, viewer: Principal, sos_id: int, reason: str | None
) -> SosOut:
    """The caller (or a dispatcher) ends the SOS call: the phone stops sending its trail, the incident's
    timeline records it and the live map hears of it; the incident itself is left for the dispatcher to
    close. Ending an ended call changes nothing and answers the same."""
    call, incident = await _locked_call(session, viewer, sos_id)
    if call.ended_at is None:
        now = utcnow()
        calls.end_call(call, viewer.user_id, reason, now)
        by = "caller" if viewer.role == "citizen" else viewer.role
        incidents.record_action(
            session,
            incident,
            "sos_ended",
            actor_id=viewer.user_id,
            reason=call.end_reason or Reason("sos_ended_by", "SOS ended by the {by}", by=by),
            data={"sos_id": call.id, "by_role": viewer.role},
            at=now,
        )
        ended = SosEnded(
            sos_id=call.id,
            incident_id=incident.id,
            incident_status=incident.status,
            lat=incident.lat,
            lon=incident.lon,
            ended_by=call.ended_by,
            by_role=viewer.role,
            reason=call.end_reason,
            at=now,
        )
        after_commit(session, lambda: bus.publish(ended))
        await session.flush()
    return await calls.call_view(session, call)


# --- officer SOS -------------------------------------------------------------------------------------------


async def officer_sos(
    session: AsyncSession,
    bus: EventBus,
    settings: Settings,
    officer_id: int,
    badge: str,
    lat: float,
    lon: float,
    index: ResponderIndex | None = None,
) -> Incident:
    """A priority-1 incident at the officer in distress, offered at once to the two nearest available
    units (with ``index``); pressing again moves the open one."""
    now = utcnow()
    open_one = await repo.open_officer_sos(session, officer_id, lock=True)
    if open_one is not None:
        incidents.move_incident(open_one, lat, lon, now)
        incidents.record_action(
            session,
            open_one,
            "moved",
            reason=Reason("officer_sos_again", "officer pressed SOS again"),
            data={"lat": lat, "lon": lon},
            at=now,
        )
        await announce.announce_incident(session, bus, open_one)
        return open_one
    incident = await incidents.create_incident(
        session,
        bus,
        settings,
        category="officer_sos",
        priority=1,
        source="officer_sos",
        lat=lat,
        lon=lon,
        description=f"Officer {badge} pressed SOS",
        data={"officer_id": officer_id, "badge": badge},
        reason=Reason("officer_distress", "officer distress"),
        now=now,
    )
    if index is not None:  # the nearest available units get offers at once (never the officer in distress)
        incident.units_needed = 0
        await more_units(
            session,
            bus,
            index,
            settings,
            incident,
            PANIC_UNITS,
            actor_id=None,
            exclude=frozenset({officer_id}),
        )
    return incident


def officer_distress_hook(rt: Runtime) -> DistressHook:
    """What runs when an officer's phone raises SOS (registered in ``rt.hooks.officer_distress``)."""

    async def on_officer_distress(dev: KnownDevice, fix: DeviceFix) -> None:
        lat, lon = fix.lat, fix.lon
        if lat is None or lon is None:
            last = rt.index.get(dev.officer_id)
            if last is None:
                log.warning(
                    "officer SOS without any position: no incident created", officer_id=dev.officer_id
                )
                return
            lat, lon = last.lat, last.lon
        async for session in session_scope(rt.sessions):
            await officer_sos(session, rt.bus, rt.settings, dev.officer_id, dev.badge, lat, lon, rt.index)

    return on_officer_distress
