"""A false marking withdrawn by a dispatcher: the strike of that report is removed (the citizen's warnings
and false-report count no longer hold it, and marking the report false again strikes again), the count
goes down and an account blocked by it is open again. Audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.abuse import repository as repo
from jogo_dispatch.abuse.models import Strike
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.settings import Settings


async def withdraw_strike(
    session: AsyncSession, user_id: int, report_id: int, *, strikes_to_block: int, actor_id: int | None
) -> Strike | None:
    """Remove the report's strike; None when it gave none. A strike an appeal had cleared already no longer
    counts, so the count stays."""
    status = await repo.citizen_status(session, user_id, lock=True)
    strike = await session.scalar(select(Strike).where(Strike.report_id == report_id).with_for_update())
    if strike is None:
        return None
    now = utcnow()
    counted = strike.cleared_at is None
    await session.delete(strike)
    count = status.strike_count if status is not None else 0
    if status is not None and counted:
        status.strike_count = count = max(0, status.strike_count - 1)
    audit.record(
        session,
        "strike",
        strike.id,
        "withdrawn",
        from_state="active",
        to_state="withdrawn",
        actor_id=actor_id,
        reason=audit.Reason("false_withdrawn", "the false marking was withdrawn"),
        data={"user_id": user_id, "report_id": report_id, "strike_count": count},
        at=now,
    )
    if status is not None and status.blocked_at is not None and count < strikes_to_block:
        status.blocked_at = None
        audit.record(
            session,
            "citizen",
            user_id,
            "unblock",
            from_state="blocked",
            to_state="active",
            actor_id=actor_id,
            reason=audit.Reason("unblocked_false_withdrawn", "a false marking was withdrawn"),
            data={"strike_count": count, "strike_id": strike.id},
            at=now,
        )
    return strike


def false_report_withdrawn_hook(settings: Settings) -> Callable[[AsyncSession, Any], Awaitable[None]]:
    """What the intake calls, in its unit of work, when a dispatcher withdraws a false marking. Reads
    ``report.id``, ``report.citizen_id`` and ``reviewed_by``."""

    async def on_withdrawn(session: AsyncSession, report: Any) -> None:
        if report.citizen_id is None:
            return
        await withdraw_strike(
            session,
            report.citizen_id,
            report.id,
            strikes_to_block=settings.strikes_to_block,
            actor_id=getattr(report, "reviewed_by", None),
        )

    return on_withdrawn
