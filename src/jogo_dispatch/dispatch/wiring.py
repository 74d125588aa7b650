"""What the dispatch and reports domains plug into a running server (called from main.lifespan): the
live map's incident snapshot, officer SOS -> incident, the officer socket's offer and progress messages,
the hook lists other domains fill (false report, report verified), and the offer expiry sweep."""

from __future__ import annotations

import asyncio
from typing import Any

from jogo_dispatch.dispatch import expiry, offers, service, sos, timers, views
from jogo_dispatch.dispatch.schemas import OfferOut
from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.platform.db import session_scope
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.runtime import Runtime


def _int_field(msg: dict[str, Any], key: str) -> int:
    value = msg.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{key} must be an integer", code="bad_message")
    return value


def _reason(msg: dict[str, Any]) -> str | None:
    reason = msg.get("reason")
    return reason[:1000] if isinstance(reason, str) else None


# Socket handlers run outside a request: each opens its own unit of work. The reply is built inside the
# loop but returned after it, so the commit (and the after-commit announcements) happen first.


async def ws_offer_accept(rt: Runtime, officer_id: int, msg: dict[str, Any]) -> dict[str, Any]:
    offer_id = _int_field(msg, "offer_id")
    reply: dict[str, Any] = {}
    async for session in session_scope(rt.sessions):
        actor = await offers.officer_user_id(session, officer_id)
        offer, incident = await offers.accept(session, rt.bus, offer_id, officer_id, actor)
        reply = {
            "type": "offer_accepted",
            "offer": OfferOut.model_validate(offer).model_dump(mode="json"),
            "incident": (await views.incident_view(session, incident)).model_dump(mode="json"),
        }
    return reply


async def ws_offer_decline(rt: Runtime, officer_id: int, msg: dict[str, Any]) -> dict[str, Any]:
    offer_id = _int_field(msg, "offer_id")
    reply: dict[str, Any] = {}
    async for session in session_scope(rt.sessions):
        actor = await offers.officer_user_id(session, officer_id)
        offer, _ = await offers.decline(
            session, rt.bus, rt.index, rt.settings, offer_id, officer_id, actor, _reason(msg)
        )
        reply = {"type": "offer_declined", "offer": OfferOut.model_validate(offer).model_dump(mode="json")}
    return reply


async def ws_incident_status(rt: Runtime, officer_id: int, msg: dict[str, Any]) -> dict[str, Any]:
    incident_id = _int_field(msg, "incident_id")
    status = msg.get("status")
    if status not in ("en_route", "on_scene", "resolved"):
        raise InvalidInput("status must be en_route, on_scene or resolved", code="bad_message")
    reply: dict[str, Any] = {}
    async for session in session_scope(rt.sessions):
        actor = Principal(await offers.officer_user_id(session, officer_id) or 0, "officer", officer_id)
        incident = await service.change_status(session, rt.bus, actor, incident_id, status, _reason(msg))
        reply = {
            "type": "incident",
            "incident": (await views.incident_view(session, incident)).model_dump(mode="json"),
        }
    return reply


async def ws_welfare_answer(rt: Runtime, officer_id: int, msg: dict[str, Any]) -> dict[str, Any]:
    offer_id = _int_field(msg, "offer_id")
    safe = msg.get("safe", True)
    if not isinstance(safe, bool):
        raise InvalidInput("safe must be true or false", code="bad_message")
    reply: dict[str, Any] = {}
    async for session in session_scope(rt.sessions):
        unit = await timers.answer_welfare(session, rt.bus, offer_id, officer_id, safe)
        reply = {"type": "welfare_answered", "offer_id": unit.id, "safe": safe}
    return reply


def start(rt: Runtime) -> list[asyncio.Task[None]]:
    """Register the hooks and start the background tasks (returned for the lifespan to cancel)."""
    rt.hub.snapshot_providers["incidents"] = views.snapshot_incidents
    rt.hooks.officer_distress.append(sos.officer_distress_hook(rt))
    handlers = rt.hooks.officer_socket
    handlers["offer_accept"] = ws_offer_accept
    handlers["offer_decline"] = ws_offer_decline
    handlers["incident_status"] = ws_incident_status
    handlers["welfare_answer"] = ws_welfare_answer
    tasks = []
    if rt.settings.timer_sweep_s > 0:
        tasks.append(asyncio.create_task(timers.timer_loop(rt, rt.settings.timer_sweep_s), name="timers"))
    if rt.settings.offer_sweep_s > 0:
        sweep = expiry.expiry_loop(rt, rt.settings.offer_sweep_s)
        tasks.append(asyncio.create_task(sweep, name="offer-expiry"))
    return tasks
