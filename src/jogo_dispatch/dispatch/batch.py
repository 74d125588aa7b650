"""Batch assignment: the waiting verified incidents and the available officers matched at once
(dispatch.assignment), optionally turned into offers."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch import assignment, views
from jogo_dispatch.dispatch import repository as repo
from jogo_dispatch.dispatch.lifecycle import FINAL
from jogo_dispatch.dispatch.models import Offer
from jogo_dispatch.dispatch.offers import try_offer
from jogo_dispatch.dispatch.schemas import BatchOut, OfferOut, PairOut, SkippedPair
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.responders import service as responders
from jogo_dispatch.settings import Settings


async def batch(
    session: AsyncSession,
    bus: EventBus,
    index: ResponderIndex,
    settings: Settings,
    *,
    apply: bool,
    method: str,
    actor_id: int | None,
    max_incidents: int = 500,
) -> BatchOut:
    """Assign the waiting verified incidents to the available online officers at once (see
    dispatch.assignment); with ``apply`` each proposed pair becomes an offer. Locks are taken with
    SKIP LOCKED here, so a batch never waits on (or deadlocks with) a dispatcher working by hand: a pair
    whose incident or officer is busy right now is reported in ``skipped``."""
    now = utcnow()
    incidents = await repo.waiting_incidents(session, max_incidents)
    fresh = responders.available(index, settings)
    engaged = await repo.officers_with_active_offers(session, [r.officer_id for r in fresh])
    units = [
        assignment.Unit(r.officer_id, r.lat, r.lon, r.unit_type) for r in fresh if r.officer_id not in engaged
    ]
    # One job per unit still needed: an incident short of two units may get two officers in one run.
    needs = await views.unit_fields(session, incidents)
    jobs: list[assignment.Job] = []
    incident_of: dict[int, int] = {}
    for i in incidents:
        for _ in range(needs[i.id]["shortfall"]):
            incident_of[len(jobs)] = i.id
            jobs.append(assignment.Job(len(jobs), i.lat, i.lon, i.priority))
    params: dict[str, Any] = {
        "cutoff_s": settings.assignment_cutoff_s,
        "speeds_mps": settings.speeds_mps,
        "detour_factor": settings.detour_factor,
    }
    chosen = _by_incident(assignment.plan(jobs, units, method=method, **params), incident_of)
    baseline = chosen
    if chosen.method != "greedy":
        baseline = _by_incident(assignment.plan(jobs, units, method="greedy", **params), incident_of)
    result = BatchOut(
        method=chosen.method,
        fallback_reason=chosen.fallback_reason,
        incidents=len(incidents),
        officers=len(units),
        assignments=[PairOut.model_validate(asdict(p)) for p in chosen.pairs],
        unassigned=chosen.unassigned,
        total_eta_s=chosen.total_eta_s,
        total_weighted_eta_s=chosen.total_weighted_eta_s,
        greedy_total_weighted_eta_s=baseline.total_weighted_eta_s,
        greedy_unassigned=len(baseline.unassigned),
        applied=apply,
        offers=[],
        skipped=[],
    )
    if not apply:
        return result
    # Units each incident still needs, read once it is locked (a dispatcher may have offered it meanwhile)
    # and counted down here as its pairs become offers.
    left: dict[int, int] = {}
    for pair in chosen.pairs:
        incident = await repo.lock_incident(session, pair.job_id, skip_locked=True)
        outcome: Offer | str
        if incident is not None and incident.id not in left:
            fields = await views.unit_fields(session, [incident])
            left[incident.id] = 0 if incident.status in FINAL else fields[incident.id]["shortfall"]
        if incident is None:
            outcome = "incident_locked"
        elif left[incident.id] <= 0:
            outcome = "incident_no_longer_waiting"
        else:
            outcome = await try_offer(
                session,
                bus,
                settings,
                incident,
                pair.unit_id,
                attempt=1,
                distance_m=pair.distance_m,
                eta_s=pair.eta_s,
                actor_id=actor_id,
                now=now,
                wait=False,
            )
        if isinstance(outcome, Offer):
            left[outcome.incident_id] -= 1
            result.offers.append(OfferOut.model_validate(outcome))
        else:
            result.skipped.append(
                SkippedPair(incident_id=pair.job_id, officer_id=pair.unit_id, reason=outcome)
            )
    return result


def _by_incident(plan: assignment.Plan, incident_of: dict[int, int]) -> assignment.Plan:
    """The plan with each job (a unit slot) named by its incident."""
    return replace(
        plan,
        pairs=[replace(p, job_id=incident_of[p.job_id]) for p in plan.pairs],
        unassigned=[incident_of[j] for j in plan.unassigned],
    )
