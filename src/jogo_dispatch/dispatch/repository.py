"""Queries of the dispatch domain (incidents, offers): the only place with its SQL.

Lock order, everywhere: incident, then offer, then officer. That order is what keeps concurrent
dispatches, accepts, declines and expiry sweeps (in any number of processes) free of deadlocks.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.dispatch.lifecycle import ACTIVE_OFFER, FINAL
from jogo_dispatch.dispatch.models import Incident, IncidentNote, Offer
from jogo_dispatch.reports import repository as reports_repo
from jogo_dispatch.reports.models import Report, SosCall
from jogo_dispatch.tracking.models import Officer

_FINAL = [s.value for s in FINAL]
_ACTIVE = [s.value for s in ACTIVE_OFFER]
# Reports that still speak for their incident (a rejected or false one does not).
LIVE_REPORT_STATUSES = ("received", "verified")


def _forwarded_to_login(user_id: int) -> ColumnElement[bool]:
    return reports_repo.forwarded_to_login(Incident.id, user_id)


async def forwarded_to_login(session: AsyncSession, incident_id: int, user_id: int) -> bool:
    return await reports_repo.incident_forwarded_to_login(session, incident_id, user_id)


async def incident(session: AsyncSession, incident_id: int) -> Incident | None:
    return await session.get(Incident, incident_id)


async def incidents_by_ids(session: AsyncSession, ids: Collection[int]) -> list[Incident]:
    if not ids:
        return []
    return list(await session.scalars(select(Incident).where(Incident.id.in_(list(ids)))))


async def lock_incident(
    session: AsyncSession, incident_id: int, *, skip_locked: bool = False
) -> Incident | None:
    return await session.scalar(
        select(Incident)
        .where(Incident.id == incident_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )


async def lock_incidents(session: AsyncSession, ids: Collection[int]) -> list[Incident]:
    """Several incidents locked in id order (two merges of the same pair cannot deadlock)."""
    return list(
        await session.scalars(
            select(Incident)
            .where(Incident.id.in_(sorted(ids)))
            .order_by(Incident.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


async def lock_officer(
    session: AsyncSession, officer_id: int, *, skip_locked: bool = False
) -> Officer | None:
    return await session.scalar(
        select(Officer)
        .where(Officer.id == officer_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )


async def lock_offer(session: AsyncSession, offer_id: int) -> Offer | None:
    return await session.scalar(
        select(Offer).where(Offer.id == offer_id).with_for_update().execution_options(populate_existing=True)
    )


async def offer(session: AsyncSession, offer_id: int) -> Offer | None:
    return await session.get(Offer, offer_id)


async def active_offers_for_incident(session: AsyncSession, incident_id: int) -> list[Offer]:
    """The incident's pending offers and its units (accepted offers), oldest first."""
    return list(
        await session.scalars(
            select(Offer)
            .where(Offer.incident_id == incident_id, Offer.status.in_(_ACTIVE))
            .order_by(Offer.id)
            .execution_options(populate_existing=True)
        )
    )


async def units_of(session: AsyncSession, incident_ids: Collection[int]) -> dict[int, list[Offer]]:
    """Per incident, its units: offers accepted (on it now) or completed (cleared), oldest first."""
    if not incident_ids:
        return {}
    found: dict[int, list[Offer]] = {}
    for o in await session.scalars(
        select(Offer)
        .where(Offer.incident_id.in_(list(incident_ids)), Offer.status.in_(["accepted", "completed"]))
        .order_by(Offer.id)
    ):
        found.setdefault(o.incident_id, []).append(o)
    return found


async def open_officer_sos(session: AsyncSession, officer_id: int, *, lock: bool = False) -> Incident | None:
    """The officer's open officer-in-distress incident, if any (``lock``: FOR UPDATE)."""
    q = (
        select(Incident)
        .where(
            Incident.source == "officer_sos",
            Incident.status.not_in(_FINAL),
            Incident.data["officer_id"].as_integer() == officer_id,
        )
        .order_by(Incident.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(q.with_for_update() if lock else q)


async def officer_on(session: AsyncSession, incident_id: int, officer_id: int | None) -> bool:
    """The officer is, or was, a unit on the incident."""
    if officer_id is None:
        return False
    found = await session.scalar(
        select(Offer.id).where(
            Offer.incident_id == incident_id,
            Offer.officer_id == officer_id,
            Offer.status.in_(["accepted", "completed"]),
        )
    )
    return found is not None


async def pending_counts(session: AsyncSession, incident_ids: Collection[int]) -> dict[int, int]:
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(Offer.incident_id, func.count())
        .where(Offer.incident_id.in_(list(incident_ids)), Offer.status == "pending")
        .group_by(Offer.incident_id)
    )
    return {int(i): int(n) for i, n in rows}


async def active_offer_for_officer(session: AsyncSession, officer_id: int) -> Offer | None:
    return await session.scalar(
        select(Offer)
        .where(Offer.officer_id == officer_id, Offer.status.in_(_ACTIVE))
        .execution_options(populate_existing=True)
    )


async def officers_with_active_offers(session: AsyncSession, officer_ids: Collection[int]) -> set[int]:
    if not officer_ids:
        return set()
    rows = await session.scalars(
        select(Offer.officer_id).where(Offer.officer_id.in_(list(officer_ids)), Offer.status.in_(_ACTIVE))
    )
    return set(rows)


async def officers_offered(session: AsyncSession, incident_id: int) -> set[int]:
    return set(await session.scalars(select(Offer.officer_id).where(Offer.incident_id == incident_id)))


async def offers_of_incident(session: AsyncSession, incident_id: int) -> list[Offer]:
    return list(
        await session.scalars(select(Offer).where(Offer.incident_id == incident_id).order_by(Offer.id))
    )


async def offers_of_officer(session: AsyncSession, officer_id: int, statuses: Collection[str]) -> list[Offer]:
    return list(
        await session.scalars(
            select(Offer)
            .where(Offer.officer_id == officer_id, Offer.status.in_(list(statuses)))
            .order_by(Offer.id.desc())
            .limit(100)
        )
    )


async def due_offers(session: AsyncSession, now: datetime, limit: int) -> list[tuple[int, int]]:
    """(offer id, incident id) of pending offers past their deadline. No lock: the caller claims each one
    under its incident's lock."""
    rows = await session.execute(
        select(Offer.id, Offer.incident_id)
        .where(Offer.status == "pending", Offer.expires_at < now)
        .order_by(Offer.expires_at)
        .limit(limit)
    )
    return [(int(r.id), int(r.incident_id)) for r in rows]


async def claim_expired(session: AsyncSession, offer_id: int, now: datetime) -> Offer | None:
    """Mark one offer expired if it still is pending and overdue; exactly one claimant gets it back."""
    return await session.scalar(
        update(Offer)
        .where(Offer.id == offer_id, Offer.status == "pending", Offer.expires_at < now)
        .values(status="expired", responded_at=now)
        .returning(Offer)
        .execution_options(populate_existing=True)
    )


async def report_counts(session: AsyncSession, incident_ids: Collection[int]) -> dict[int, int]:
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(Report.incident_id, func.count())
        .where(Report.incident_id.in_(list(incident_ids)), Report.status.in_(LIVE_REPORT_STATUSES))
        .group_by(Report.incident_id)
    )
    return {int(i): int(n) for i, n in rows if i is not None}


async def photo_reports(session: AsyncSession, incident_ids: Collection[int]) -> dict[int, list[int]]:
    """Per incident, its live reports that have a photo (ids, oldest first)."""
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(Report.incident_id, Report.id)
        .where(
            Report.incident_id.in_(list(incident_ids)),
            Report.status.in_(LIVE_REPORT_STATUSES),
            Report.photo_sha256.is_not(None),
        )
        .order_by(Report.id)
    )
    found: dict[int, list[int]] = {}
    for incident_id, report_id in rows:
        if incident_id is not None:
            found.setdefault(int(incident_id), []).append(int(report_id))
    return found


async def reports_of_incident(session: AsyncSession, incident_id: int) -> list[Report]:
    return list(
        await session.scalars(
            select(Report)
            .where(Report.incident_id == incident_id)
            .order_by(Report.id)
            .execution_options(populate_existing=True)
        )
    )


async def open_sos_of_citizen(session: AsyncSession, citizen_id: int) -> SosCall | None:
    """The citizen's SOS call that was not ended and whose incident is still open, if any."""
    return await session.scalar(
        select(SosCall)
        .join(Incident, Incident.id == SosCall.incident_id)
        .where(SosCall.citizen_id == citizen_id, SosCall.ended_at.is_(None), Incident.status.not_in(_FINAL))
        .order_by(SosCall.id.desc())
        .limit(1)
    )


_DUPLICATE = text("""
SELECT id FROM incidents
WHERE h3_r9 = ANY(:cells)
  AND category = :category
  AND status <> ALL(:final)
  AND merged_into_id IS NULL
  AND received_at > :since
  AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius, true)
ORDER BY ST_Distance(geog, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, true), id
LIMIT :limit
""")


async def open_duplicate(
    session: AsyncSession,
    category: str,
    lat: float,
    lon: float,
    cells: list[int],
    radius_m: float,
    since: datetime,
) -> int | None:
    """The nearest open incident of this category within ``radius_m`` received after ``since``: the H3
    cells narrow it on an index, ST_DWithin on the spheroid decides."""
    found = await open_nearby(session, category, lat, lon, cells, radius_m, since, limit=1)
    return found[0] if found else None


async def open_nearby(
    session: AsyncSession,
    category: str,
    lat: float,
    lon: float,
    cells: list[int],
    radius_m: float,
    since: datetime,
    *,
    limit: int,
) -> list[int]:
    """Open incidents of this category within ``radius_m`` received after ``since``, nearest first."""
    rows = await session.scalars(
        _DUPLICATE,
        {
            "cells": cells,
            "category": category,
            "final": _FINAL,
            "since": since,
            "lat": lat,
            "lon": lon,
            "radius": radius_m,
            "limit": limit,
        },
    )
    return [int(i) for i in rows]


async def notes(session: AsyncSession, incident_id: int) -> list[IncidentNote]:
    return list(
        await session.scalars(
            select(IncidentNote).where(IncidentNote.incident_id == incident_id).order_by(IncidentNote.id)
        )
    )


async def list_incidents(
    session: AsyncSession, statuses: Collection[str] | None, limit: int, *, forwarded_to: int | None = None
) -> list[Incident]:
    """``forwarded_to``: only the incidents forwarded to the agency of this agency login."""
    q = select(Incident)
    if forwarded_to is not None:
        q = q.where(_forwarded_to_login(forwarded_to))
    if statuses is not None:
        q = q.where(Incident.status.in_(list(statuses)))
    q = q.order_by(Incident.priority, Incident.received_at.desc(), Incident.id.desc()).limit(limit)
    return list(await session.scalars(q))


async def open_incidents(session: AsyncSession, limit: int = 2000) -> list[Incident]:
    return list(
        await session.scalars(
            select(Incident)
            .where(Incident.status.not_in(_FINAL))
            .order_by(Incident.priority, Incident.received_at)
            .limit(limit)
        )
    )


async def waiting_incidents(session: AsyncSession, limit: int) -> list[Incident]:
    """Open verified-or-later incidents with fewer pending or accepted offers than the units they need:
    what batch assignment works on."""
    active = (
        select(func.count())
        .where(Offer.incident_id == Incident.id, Offer.status.in_(_ACTIVE))
        .scalar_subquery()
    )
    return list(
        await session.scalars(
            select(Incident)
            .where(
                Incident.status.in_(["verified", "dispatched", "en_route", "on_scene"]),
                active < Incident.units_needed,
            )
            .order_by(Incident.priority, Incident.received_at, Incident.id)
            .limit(limit)
        )
    )


async def stats(session: AsyncSession, since: datetime, until: datetime) -> dict[str, Any]:
    params = {"since": since, "until": until}
    window = "received_at >= :since AND received_at < :until AND merged_into_id IS NULL"
    counts: dict[str, dict[str, int]] = {}
    for key, column in (
        ("by_category", "category"),
        ("by_status", "status"),
        ("by_sector", "coalesce(sector, 'unknown')"),
    ):
        rows = await session.execute(
            text(f"SELECT {column} AS k, count(*) FROM incidents WHERE {window} GROUP BY 1 ORDER BY 1"),
            params,
        )
        counts[key] = {str(k): int(n) for k, n in rows}
    times: dict[str, dict[str, float | int | None]] = {}
    for key, column in (
        ("to_verify", "verified_at"),
        ("to_dispatch", "dispatched_at"),
        ("to_scene", "on_scene_at"),
    ):
        row = (
            await session.execute(
                text(f"""
            SELECT count(*) AS n,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS p90
            FROM (SELECT extract(epoch FROM {column} - received_at) AS s FROM incidents
                  WHERE {window} AND {column} IS NOT NULL) d"""),
                params,
            )
        ).one()
        times[key] = {"n": int(row.n), "median_s": _round(row.p50), "p90_s": _round(row.p90)}
    # Per unit (an incident with two units counts twice): from the offer to that unit on scene.
    row = (
        await session.execute(
            text(f"""
        SELECT count(*) AS n,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS p90
        FROM (SELECT extract(epoch FROM o.on_scene_at - o.created_at) AS s
              FROM offers o JOIN incidents ON incidents.id = o.incident_id
              WHERE {window} AND o.on_scene_at IS NOT NULL) d"""),
            params,
        )
    ).one()
    times["unit_to_scene"] = {"n": int(row.n), "median_s": _round(row.p50), "p90_s": _round(row.p90)}
    total = await session.scalar(text(f"SELECT count(*) FROM incidents WHERE {window}"), params)
    reports = await session.execute(
        text(
            "SELECT status, count(*) FROM reports WHERE created_at >= :since AND created_at < :until "
            "GROUP BY 1 ORDER BY 1"
        ),
        params,
    )
    return {
        "incidents": int(total or 0),
        **counts,
        "times": times,
        "reports_by_status": {str(k): int(n) for k, n in reports},
    }


def _round(v: Any) -> float | None:
    return None if v is None else round(float(v), 3)
