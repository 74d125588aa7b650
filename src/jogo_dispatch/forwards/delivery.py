"""Webhook delivery of forwards, with retries, and the alert when an agency does not acknowledge in time.

A background task in every server process (``start``) does, every ``forward_sweep_s`` (or at once when this
process made a forward):

1. claims the forwards whose webhook attempt is due (``FOR UPDATE SKIP LOCKED`` and a lease, so several
   processes never send the same attempt; a process that dies mid-send leaves the forward to the next
   claimant once the lease is over) and sends them, outside any transaction;
2. records each outcome in its own unit of work: ``sent``; or a failure (``failure_count``, ``last_error``,
   the next attempt after an exponential backoff), and ``failed`` after ``forward_max_attempts`` with a
   ``forward_failed`` alert;
3. alerts the dispatchers once (``forward_unacknowledged``) about every forward not acknowledged within
   its agency's SLA (``forwards.sla``: the agency's own minutes, else ``forward_ack_timeout_s``).

A webhook attempt is two POSTs to the agency's ``webhook_url``, the incident as JSON and then the CAP 1.2
alert (``application/cap+xml``); it succeeds when both answer 2xx, and a retry sends both again. Each request
carries ``X-Jogo-Forward-Id``, ``X-Jogo-Attempt``, an ``Idempotency-Key`` that is the same on every attempt
(``forward-{id}-json`` / ``forward-{id}-cap``) so receivers can drop repeats, and, when
``forward_webhook_secret`` is set, ``X-Jogo-Signature: sha256=<hex HMAC-SHA256 of the body>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch import __version__
from jogo_dispatch.agencies.models import Agency
from jogo_dispatch.alerts.service import raise_alert
from jogo_dispatch.dispatch import repository as incidents_repo
from jogo_dispatch.errors import Unavailable
from jogo_dispatch.forwards import cap, closing
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.lifecycle import announce, backoff_s, record_change
from jogo_dispatch.forwards.models import Forward
from jogo_dispatch.forwards.schemas import IncidentSummary
from jogo_dispatch.platform.db import session_scope, utcnow
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings

log = structlog.get_logger(__name__)

CLAIM_BATCH = 20
ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class Outgoing:
    forward_id: int
    attempt: int
    url: str
    json_body: bytes
    cap_body: bytes


def cap_alert(
    settings: Settings, incident: Any, category: Any, sent: datetime, forward_id: int | None = None
) -> bytes:
    return cap.build_alert(
        cap.AlertInput(
            incident_id=incident.id,
            category=incident.category,
            event=(category.name_id if category else None) or incident.category.replace("_", " "),
            priority=incident.priority,
            lat=incident.lat,
            lon=incident.lon,
            sent=sent,
            description=incident.description or "",
            headline=f"{category.name_en if category else incident.category} #{incident.id}",
            area_desc=incident.address or incident.sector,
            verified=incident.status != "new",
            radius_km=settings.cap_radius_km,
            sender=settings.cap_sender,
            sender_name=settings.cap_sender_name,
            zone=settings.timezone,
            parameters={
                "jogo:incident_id": str(incident.id),
                **({"jogo:forward_id": str(forward_id)} if forward_id is not None else {}),
            },
        )
    )


async def _outgoing(session: AsyncSession, settings: Settings, forward_id: int) -> Outgoing | None:
    f = await repo.forward(session, forward_id)
    if f is None or f.status != "pending":
        return None
    agency = await repo.agency(session, f.agency_id)
    incident = await incidents_repo.incident(session, f.incident_id)
    if agency is None or incident is None:
        return None
    category = await repo.category(session, incident.category)
    now = utcnow()
    body = {
        "type": "jogo.forward",
        "forward": {
            "id": f.id,
            "role": f.role,
            "note": f.note,
            # only when the dispatcher chose to include it
            "caller_phone": f.caller_phone if f.include_caller_phone else None,
            "attempt": f.attempts,
            "created_at": f.created_at.isoformat(),
            "acknowledge": f"/api/v1/agency/forwards/{f.id}/ack",
        },
        "agency": {"id": agency.id, "code": agency.code, "name": agency.name},
        "incident": {
            **IncidentSummary.model_validate(incident).model_dump(mode="json"),
            "category_name_id": category.name_id if category else None,
            "category_name_en": category.name_en if category else None,
        },
        "cap_identifier": cap.cap_id(settings.cap_sender, "incident", incident.id),
        "sent_at": now.isoformat(),
    }
    url = agency.webhook_url or ""
    alert = cap_alert(settings, incident, category, now, f.id)
    return Outgoing(f.id, f.attempts, url, orjson.dumps(body), alert)


def _headers(out: Outgoing, part: str, content_type: str, body: bytes, secret: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": content_type,
        "User-Agent": f"jogo-dispatch/{__version__}",
        "X-Jogo-Forward-Id": str(out.forward_id),
        "X-Jogo-Attempt": str(out.attempt),
        "Idempotency-Key": f"forward-{out.forward_id}-{part}",
    }
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Jogo-Signature"] = f"sha256={digest}"
    return headers


async def send(client: httpx.AsyncClient, settings: Settings, out: Outgoing) -> str | None:
    """One attempt: the JSON, then the CAP alert. None when both were taken; else what went wrong."""
    if not out.url.startswith(("http://", "https://")):
        return f"no usable webhook_url ({out.url!r})"
    parts = (("json", "application/json", out.json_body), ("cap", cap.CAP_MEDIA_TYPE, out.cap_body))
    for part, content_type, body in parts:
        headers = _headers(out, part, content_type, body, settings.forward_webhook_secret)
        try:
            r = await client.post(out.url, content=body, timeout=settings.forward_timeout_s, headers=headers)
        except httpx.HTTPError as exc:
            return f"{part}: {type(exc).__name__}: {exc}"[:ERROR_CHARS]
        if not 200 <= r.status_code < 300:
            return f"{part}: HTTP {r.status_code}: {r.text[:200]}"[:ERROR_CHARS]
    return None


async def _alert(
    session: AsyncSession,
    rt: Runtime,
    kind: str,
    f: Forward,
    agency: Agency | None,
    message: str,
    data: dict[str, Any],
) -> str:
    """An alert for the dispatchers about ``f``, placed at its incident; returns the agency's name, which
    stands for ``{agency}`` in the message."""
    name = agency.code if agency else f"agency {f.agency_id}"
    incident = await incidents_repo.incident(session, f.incident_id)
    await raise_alert(
        session,
        rt.bus,
        kind,
        message.format(agency=name),
        incident_id=f.incident_id,
        lat=incident.lat if incident else None,
        lon=incident.lon if incident else None,
        data={"forward_id": f.id, "agency_id": f.agency_id, "agency_code": name, **data},
    )
    return name


async def _settle(session: AsyncSession, rt: Runtime, forward_id: int, error: str | None) -> None:
    settings, now = rt.settings, utcnow()
    f = await repo.forward(session, forward_id, lock=True)
    if f is None:
        return
    if error is None:
        f.sent_at = f.sent_at or now
        if f.status == "pending":
            f.status, f.next_attempt_at, f.updated_at = "sent", None, now
            record_change(session, f, "sent", "pending", None, data={"attempt": f.attempts}, at=now)
            announce(session, rt.bus, f)
        return
    f.failure_count += 1
    f.last_error = error
    f.updated_at = now
    if f.status != "pending":  # acknowledged or closed meanwhile: nothing left to deliver
        return
    if f.attempts >= settings.forward_max_attempts:
        f.status, f.next_attempt_at = "failed", None
        record_change(session, f, "failed", "pending", None, error, {"attempts": f.attempts}, now)
        name = await _alert(
            session,
            rt,
            "forward_failed",
            f,
            await repo.agency(session, f.agency_id),
            f"Incident #{f.incident_id} could not be delivered to {{agency}} after {f.attempts} attempt(s)",
            {"last_error": error},
        )
        announce(session, rt.bus, f, name)
        return
    f.next_attempt_at = now + timedelta(seconds=backoff_s(settings, f.attempts))
    record_change(
        session,
        f,
        "delivery_failed",
        "pending",
        None,
        error,
        {"attempt": f.attempts, "next_attempt_at": f.next_attempt_at.isoformat()},
        now,
    )


async def deliver_due(rt: Runtime, client: httpx.AsyncClient, limit: int = CLAIM_BATCH) -> int:
    """Claim the due webhook attempts, send them concurrently, record the outcomes. Returns how many."""
    settings, now = rt.settings, utcnow()
    lease = now + timedelta(seconds=2 * settings.forward_timeout_s + 30)
    claimed: list[int] = []
    outgoing: list[Outgoing] = []
    async for session in session_scope(rt.sessions):
        claimed = await repo.claim_due(session, now, lease, limit)
        for forward_id in claimed:
            out = await _outgoing(session, settings, forward_id)
            if out is not None:
                outgoing.append(out)
    if not outgoing:
        return 0
    errors = await asyncio.gather(*(send(client, settings, out) for out in outgoing))
    for out, error in zip(outgoing, errors, strict=True):
        if error is not None:
            log.warning("forward webhook failed", forward_id=out.forward_id, attempt=out.attempt, error=error)
        async for session in session_scope(rt.sessions):
            await _settle(session, rt, out.forward_id, error)
    return len(outgoing)


async def alert_unacknowledged(rt: Runtime, limit: int = 100) -> int:
    """One ``forward_unacknowledged`` alert per forward left unacknowledged past its agency's SLA (its own
    minutes, else ``forward_ack_timeout_s``)."""
    settings, now = rt.settings, utcnow()
    alerted = 0
    async for session in session_scope(rt.sessions):
        overdue = await repo.claim_unacknowledged(session, now, settings.forward_ack_timeout_s, limit)
        agencies = {a.id: a for a in await repo.agencies_by_ids(session, {f.agency_id for f, _ in overdue})}
        for f, own_minutes in overdue:
            f.ack_alerted_at = now
            waited = (now - f.created_at).total_seconds()
            minutes = own_minutes if own_minutes is not None else settings.forward_ack_timeout_s / 60
            await _alert(
                session,
                rt,
                "forward_unacknowledged",
                f,
                agencies.get(f.agency_id),
                f"{{agency}} has not acknowledged incident #{f.incident_id} within {minutes:g} min "
                f"(waited {waited / 60:.0f} min)",
                {"status": f.status, "waited_s": round(waited, 1), "sla_minutes": minutes},
            )
            record_change(
                session,
                f,
                "ack_overdue",
                f.status,
                None,
                f"not acknowledged within {minutes:g} min",
                {"sla_minutes": minutes},
                at=now,
            )
        alerted = len(overdue)
    return alerted


async def worker(rt: Runtime) -> None:
    wake = rt.forward_wakeup
    async with httpx.AsyncClient(follow_redirects=False) as client:
        while True:
            busy = False
            try:
                busy = await deliver_due(rt, client) >= CLAIM_BATCH
                await alert_unacknowledged(rt)
            except Unavailable as exc:  # the database is away: the next round tries again
                log.warning("forward delivery sweep skipped", error=exc.message)
            except Exception:  # noqa: BLE001 - retried next round
                log.exception("forward delivery sweep failed")
            if busy:  # more may be due right now
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), rt.settings.forward_sweep_s)
            wake.clear()


def start(rt: Runtime) -> list[asyncio.Task[None]]:
    """The delivery worker of this process and the watch that asks to resolve an incident its last unit
    left (returned for the lifespan to cancel)."""
    watch = closing.watch_units(rt)
    if rt.settings.forward_sweep_s <= 0:
        return [watch]
    return [watch, asyncio.create_task(worker(rt), name="forward-delivery")]
