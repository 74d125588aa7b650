"""Closing the loop: what an agency's close tells the command centre.

* An agency that hands the incident back (``not_responsible``, ``referred``) raises ``forward_declined``:
  someone else must be sent.
* When every forward of the incident is closed, at least one of them with the work done (``resolved``,
  ``no_action_needed``, ``not_found``), no police unit is on it (no pending or accepted offer) and it is
  still open, the dispatchers are asked to resolve it: one ``resolve_suggested`` alert at the incident
  (not another while one is open). The incident itself is never closed here: that is the dispatcher's call.

The same question is asked again when the incident's last police unit or offer leaves it (an offer
withdrawn, declined, expired with nobody left): ``watch_units`` follows the offers on the bus.

Two agencies closing their forwards of one incident at once take a transaction-scoped advisory lock per
incident, so the second sees the first's close and exactly one of them asks. Flushes, never commits
(``watch_units`` commits its own units of work).
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.alerts.models import Alert
from jogo_dispatch.alerts.service import raise_alert
from jogo_dispatch.dispatch import repository as incidents_repo
from jogo_dispatch.dispatch.lifecycle import FINAL
from jogo_dispatch.forwards import repository as repo
from jogo_dispatch.forwards.models import DONE_OUTCOMES, Forward
from jogo_dispatch.platform.events import EventBus, OfferChanged
from jogo_dispatch.runtime import Runtime

log = structlog.get_logger(__name__)

RESOLVE_SUGGESTED = "resolve_suggested"
FORWARD_DECLINED = "forward_declined"

# The outcomes in both languages, for the dispatchers' alert text (the page translates codes itself).
OUTCOME_WORDS = {
    "resolved": ("selesai ditangani", "resolved"),
    "no_action_needed": ("tidak perlu tindakan", "no action needed"),
    "not_found": ("tidak ditemukan", "nothing found"),
    "not_responsible": ("bukan wewenang", "not their responsibility"),
    "referred": ("dialihkan", "referred elsewhere"),
}


async def _serialise(session: AsyncSession, incident_id: int) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('jogo.forward_close'), CAST(:k AS integer))"),
        {"k": incident_id % 2147483647},
    )


async def _open_alert(session: AsyncSession, kind: str, incident_id: int) -> bool:
    found = await session.scalar(
        select(Alert.id)
        .where(Alert.kind == kind, Alert.incident_id == incident_id, Alert.acknowledged_at.is_(None))
        .limit(1)
    )
    return found is not None


async def after_close(session: AsyncSession, bus: EventBus, f: Forward, agency_code: str) -> bool:
    """``f`` was just closed (flushed). Returns whether the dispatchers were asked to resolve."""
    await _serialise(session, f.incident_id)
    incident = await incidents_repo.incident(session, f.incident_id)
    if incident is None or incident.status in FINAL:
        return False
    word_id, word_en = OUTCOME_WORDS.get(f.outcome or "", (f.outcome, f.outcome))
    if f.outcome not in DONE_OUTCOMES:
        await raise_alert(
            session,
            bus,
            FORWARD_DECLINED,
            f"{agency_code} mengembalikan kejadian #{incident.id} ({word_id}): teruskan ke instansi lain · "
            f"{agency_code} handed incident #{incident.id} back ({word_en}): forward it elsewhere",
            incident_id=incident.id,
            lat=incident.lat,
            lon=incident.lon,
            data={
                "forward_id": f.id,
                "agency_id": f.agency_id,
                "agency_code": agency_code,
                "outcome": f.outcome,
            },
        )
    return await suggest_resolve(session, bus, incident.id, agency_code, locked=True)


async def suggest_resolve(
    session: AsyncSession,
    bus: EventBus,
    incident_id: int,
    last_closed_by: str | None,
    *,
    locked: bool = False,
) -> bool:
    """Ask the dispatchers to resolve the open incident when every forward is closed, one with the work
    done, no police unit or offer is on it and no such question is open. Returns whether it asked."""
    if not locked:
        await _serialise(session, incident_id)
    incident = await incidents_repo.incident(session, incident_id)
    if incident is None or incident.status in FINAL:
        return False
    forwards = await repo.forwards_of_incident(session, incident.id)
    if not forwards or any(x.status != "closed" for x, _ in forwards):
        return False
    if not any(x.outcome in DONE_OUTCOMES for x, _ in forwards):
        return False
    if await repo.units_on(session, incident.id) > 0:
        return False
    if await _open_alert(session, RESOLVE_SUGGESTED, incident.id):
        return False
    await raise_alert(
        session,
        bus,
        RESOLVE_SUGGESTED,
        f"Semua instansi selesai dengan kejadian #{incident.id} dan tidak ada unit polisi: selesaikan? · "
        f"Every agency has closed incident #{incident.id} and no police unit is on it: resolve it?",
        incident_id=incident.id,
        lat=incident.lat,
        lon=incident.lon,
        data={
            "forwards": [
                {"id": x.id, "agency_id": a.id, "agency_code": a.code, "outcome": x.outcome}
                for x, a in forwards
            ],
            "last_closed_by": last_closed_by
            or max(forwards, key=lambda fa: fa[0].closed_at or fa[0].updated_at)[1].code,
        },
    )
    return True


_LEFT = frozenset({"declined", "expired", "cancelled", "completed"})


def watch_units(rt: Runtime) -> asyncio.Task[None]:
    """Re-ask for the incidents whose offers leave them (the bus's ``offer`` events, after commit)."""
    queue: asyncio.Queue[int] = asyncio.Queue()

    def on_offer(event: OfferChanged) -> None:
        offer = event.offer
        if offer.get("status") in _LEFT and isinstance(offer.get("incident_id"), int):
            queue.put_nowait(offer["incident_id"])

    async def work() -> None:
        while True:
            incident_id = await queue.get()
            try:
                async with rt.sessions() as session:
                    await suggest_resolve(session, rt.bus, incident_id, None)
                    await session.commit()
            except Exception:  # noqa: BLE001 - the next offer event asks again
                log.exception("resolve re-check failed", incident_id=incident_id)

    rt.bus.on(OfferChanged, on_offer)
    return asyncio.create_task(work(), name="forward-resolve-watch")
