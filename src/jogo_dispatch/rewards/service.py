"""Reward points for citizens whose reports a dispatcher verified: points per category (settings), one award
per report however often the verification is seen, a citizen's history and a public leaderboard.

Two ways in, both idempotent (``reward_awards.report_id`` is unique):
* ``verified_report_hook``: registered in ``rt.hooks.report_verified`` for the reports domain to call
  in the verification's own unit of work (the award commits or rolls back with it);
* the ``report`` event with status ``verified``, published after commit: awarded in a unit of work of its
  own, for a reports build that does not call the hook (with the hook in place it finds the award made).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.open311.keys import is_anonymous_account
from jogo_dispatch.platform.db import session_scope, utcnow
from jogo_dispatch.platform.events import ReportReceived
from jogo_dispatch.reports.models import Category, Report
from jogo_dispatch.rewards import repository as repo
from jogo_dispatch.rewards.schemas import AwardOut, LeaderboardOut, LeaderOut, PointsOut
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings

log = structlog.get_logger(__name__)

VerifiedHook = Callable[[AsyncSession, Any], Awaitable[None]]


def points_for(settings: Settings, category: str, catalogue_points: int | None = None) -> int:
    """The category's own points (set in the admin console), else the settings'."""
    if catalogue_points is not None:
        return catalogue_points
    return settings.reward_points.get(category, settings.reward_points_default)


async def award(session: AsyncSession, settings: Settings, report: Any) -> int | None:
    """Award the points of a verified report to its citizen; None when there is nobody to reward, nothing
    to award, or the report already earned its points."""
    if report.citizen_id is None or report.status != "verified":
        return None
    row = await session.get(Category, report.category)
    points = points_for(settings, report.category, row.reward_points if row is not None else None)
    if points <= 0:
        return None
    user = await session.get(User, report.citizen_id)
    if user is None or is_anonymous_account(user.username):  # nobody to reward
        return None
    return await repo.insert_award(session, report.citizen_id, report.id, report.category, points)


def verified_report_hook(settings: Settings) -> VerifiedHook:
    """What the reports domain calls, in its unit of work, once a report is verified (reads ``id``,
    ``citizen_id``, ``category`` and ``status``)."""

    async def on_report_verified(session: AsyncSession, report: Any) -> None:
        await award(session, settings, report)

    return on_report_verified


async def award_report(rt: Runtime, report_id: int) -> int | None:
    """Award a report's points in a unit of work of its own (the report is read back, so a stale or
    replayed event cannot award a report that is not verified)."""
    awarded = None
    async for session in session_scope(rt.sessions):
        report = await session.get(Report, report_id)
        if report is not None:
            awarded = await award(session, rt.settings, report)
    return awarded


def start(rt: Runtime) -> None:
    """Register the hook and the event listener of this process."""
    rt.hooks.report_verified.append(verified_report_hook(rt.settings))
    pending = rt.background

    def on_report(event: ReportReceived) -> None:
        report = event.report
        if report.get("status") != "verified" or report.get("id") is None:
            return
        task = asyncio.get_running_loop().create_task(_award_logged(rt, int(report["id"])))
        pending.add(task)
        task.add_done_callback(pending.discard)

    rt.bus.on(ReportReceived, on_report)


async def _award_logged(rt: Runtime, report_id: int) -> None:
    try:
        await award_report(rt, report_id)
    except Exception:  # noqa: BLE001 - the hook path, or the next verification event, covers it
        log.exception("reward award failed", report_id=report_id)


# -- reading -------------------------------------------------------------------------------------------------


def mask_phone(phone: str | None) -> str | None:
    """``+6281234567890`` -> ``+62812*****890``: enough to recognise oneself, not to call."""
    if not phone:
        return None
    if len(phone) < 12:  # too short to show both ends and still hide most of it
        return "*" * len(phone)
    return phone[:6] + "*" * (len(phone) - 9) + phone[-3:]


def mask_name(name: str | None) -> str | None:
    """``Budi Santoso Wibowo`` -> ``Budi S. W.``"""
    if not name or not name.strip():
        return None
    first, *rest = name.split()
    return " ".join([first[:20], *(f"{w[0]}." for w in rest)])


async def points_of(session: AsyncSession, user_id: int, limit: int) -> PointsOut:
    total, count = await repo.total_of(session, user_id)
    rank = await repo.rank_of(session, total) if count else None
    awards = await repo.history(session, user_id, limit)
    return PointsOut(
        user_id=user_id,
        total=total,
        awards=count,
        rank=rank,
        history=[AwardOut.model_validate(a) for a in awards],
    )


async def leaderboard(session: AsyncSession, limit: int, days: int | None) -> LeaderboardOut:
    since = utcnow() - timedelta(days=days) if days else None
    rows = await repo.leaderboard(session, limit, since)
    return LeaderboardOut(
        since=since,
        items=[
            LeaderOut(
                rank=n,
                name=mask_name(r.full_name),
                phone=mask_phone(r.phone),
                points=int(r.total),
                reports=int(r.reports),
            )
            for n, r in enumerate(rows, start=1)
        ],
    )
