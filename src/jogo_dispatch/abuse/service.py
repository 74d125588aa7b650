"""The abuse side of citizen reporting: a strike and a warning per false report, blocking at the threshold,
and appeals that reopen the account.

Other domains call:
* ``ensure_not_blocked(session, user_id)`` before accepting a citizen's report (403 account_blocked);
* ``account_record(session, user_id)``: what an SOS carries of its caller (a blocked account's SOS is still
  taken, marked with this record);
* ``false_report_hook(settings, bus)``, registered in ``rt.hooks.false_report``: one strike per report
  marked false.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.abuse import repository as repo
from jogo_dispatch.abuse.models import Appeal, Strike
from jogo_dispatch.abuse.schemas import (
    AccountRecord,
    AppealOut,
    AppealQueueItem,
    WarningOut,
    WarningsOut,
)
from jogo_dispatch.accounts.models import User
from jogo_dispatch.errors import Conflict, Forbidden, NotFound
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import after_commit, utcnow
from jogo_dispatch.platform.events import AppealChanged, CitizenBlocked, EventBus
from jogo_dispatch.settings import Settings


def warning_text(count: int, limit: int, report_id: int | None, blocked: bool) -> str:
    """What the citizen reads (Indonesian, then English)."""
    id_what, en_what = (
        (f"Laporan #{report_id}", f"Report #{report_id}") if report_id else ("Laporan Anda", "Your report")
    )
    if blocked:
        return (
            f"{id_what} dinyatakan palsu (pelanggaran ke-{count}). Akun Anda diblokir dan tidak dapat "
            f"mengirim laporan atau SOS; ajukan banding untuk membuka kembali akun. / {en_what} was "
            f"marked false (strike {count}). The account can no longer send reports or SOS; file an "
            f"appeal."
        )
    return (
        f"{id_what} dinyatakan palsu. Peringatan {count} dari {limit}: setelah {limit} laporan palsu "
        f"akun Anda diblokir. / {en_what} was marked false: warning {count} of {limit}; after {limit} "
        f"false reports the account is blocked."
    )


async def add_strike(
    session: AsyncSession,
    bus: EventBus | None,
    user_id: int,
    *,
    strikes_to_block: int,
    report_id: int | None = None,
    reason: str | None = None,
    actor_id: int | None = None,
) -> Strike | None:
    """Hold a false report against a citizen; block the account at ``strikes_to_block``. Returns the strike,
    or None when this report already gave one."""
    strike = await repo.insert_strike(session, user_id, report_id, reason, actor_id)
    if strike is None:
        return None
    status = await repo.count_strike(session, user_id)
    count = status.strike_count
    newly_blocked = status.blocked_at is None and count >= strikes_to_block
    strike.warning = warning_text(
        count, strikes_to_block, report_id, blocked=newly_blocked or status.blocked_at is not None
    )
    audit.record(
        session,
        "strike",
        strike.id,
        "strike",
        to_state="active",
        actor_id=actor_id,
        reason=reason,
        data={"user_id": user_id, "report_id": report_id, "strike_count": count},
    )
    if newly_blocked:
        status.blocked_at = utcnow()
        audit.record(
            session,
            "citizen",
            user_id,
            "block",
            from_state="active",
            to_state="blocked",
            actor_id=actor_id,
            reason=audit.Reason("false_reports", "{count} false reports", count=count),
            data={"strike_count": count, "strike_id": strike.id},
        )
        if bus is not None:
            after_commit(session, lambda: bus.publish(CitizenBlocked(user_id=user_id, strike_count=count)))
    await session.flush()
    return strike


async def ensure_not_blocked(session: AsyncSession, user_id: int) -> None:
    """Raise 403 ``account_blocked`` for a blocked citizen (reports and SOS call this first)."""
    status = await repo.citizen_status(session, user_id)
    if status is None or status.blocked_at is None:
        return
    latest = await repo.latest_appeal(session, user_id)
    raise Forbidden(
        "Akun Anda diblokir setelah laporan palsu berulang; ajukan banding lewat POST /api/v1/appeals. "
        "/ This account is blocked after repeated false reports; file an appeal at POST /api/v1/appeals.",
        code="account_blocked",
        details={
            "strike_count": status.strike_count,
            "blocked_at": status.blocked_at.isoformat(),
            "appeal_status": latest.status if latest else None,
        },
    )


def false_report_hook(settings: Settings, bus: EventBus) -> Callable[[AsyncSession, Any], Awaitable[None]]:
    """What the reports domain calls, in its unit of work, when a dispatcher marks a report false. Reads
    ``report.id`` and ``report.citizen_id``, and ``reviewed_by`` / ``review_note`` when present."""

    async def on_false_report(session: AsyncSession, report: Any) -> None:
        if report.citizen_id is None:
            return
        await add_strike(
            session,
            bus,
            report.citizen_id,
            strikes_to_block=settings.strikes_to_block,
            report_id=report.id,
            reason=getattr(report, "review_note", None),
            actor_id=getattr(report, "reviewed_by", None),
        )

    return on_false_report


async def account_record(session: AsyncSession, user_id: int) -> AccountRecord:
    status = await repo.citizen_status(session, user_id)
    return AccountRecord(
        blocked=bool(status and status.blocked_at),
        blocked_at=status.blocked_at if status else None,
        strike_count=status.strike_count if status else 0,
        false_reports=await repo.false_report_count(session, user_id),
    )


async def warnings(session: AsyncSession, settings: Settings, user_id: int) -> WarningsOut:
    status = await repo.citizen_status(session, user_id)
    latest = await repo.latest_appeal(session, user_id)
    return WarningsOut(
        strike_count=status.strike_count if status else 0,
        strikes_to_block=settings.strikes_to_block,
        blocked=bool(status and status.blocked_at),
        blocked_at=status.blocked_at if status else None,
        warnings=[WarningOut.model_validate(s) for s in await repo.strikes_of(session, user_id)],
        latest_appeal=AppealOut.model_validate(latest) if latest else None,
    )


def _announce(session: AsyncSession, bus: EventBus, appeal: Appeal) -> None:
    event = AppealChanged(appeal_id=appeal.id, user_id=appeal.user_id, status=appeal.status)
    after_commit(session, lambda: bus.publish(event))


# -- appeals ------------------------------------------------------------------------------------------------


async def file_appeal(session: AsyncSession, bus: EventBus, user_id: int, text: str) -> Appeal:
    status = await repo.citizen_status(session, user_id, lock=True)
    if status is None or status.blocked_at is None:
        raise Conflict("only a blocked account can appeal", code="not_blocked")
    appeal = Appeal(user_id=user_id, text=text, status="pending")
    try:
        async with session.begin_nested():
            session.add(appeal)
            await session.flush()
    except IntegrityError:
        raise Conflict("an appeal of this account is already pending", code="appeal_pending") from None
    await session.refresh(appeal)
    audit.record(
        session, "appeal", appeal.id, "file", to_state="pending", actor_id=user_id, data={"user_id": user_id}
    )
    _announce(session, bus, appeal)
    return appeal


async def decide_appeal(
    session: AsyncSession, bus: EventBus, appeal_id: int, decision: str, note: str | None, actor_id: int
) -> Appeal:
    """``grant`` reopens the account and clears its strikes; ``uphold`` keeps it blocked."""
    appeal = await repo.appeal(session, appeal_id, lock=True)
    if appeal is None:
        raise NotFound(f"appeal {appeal_id} not found")
    if appeal.status != "pending":
        raise Conflict(f"appeal {appeal_id} is already {appeal.status}", code="appeal_decided")
    user_id, to_state = appeal.user_id, ("granted" if decision == "grant" else "upheld")
    appeal.status, appeal.decided_by, appeal.decided_at, appeal.decision_note = (
        to_state,
        actor_id,
        utcnow(),
        note,
    )
    audit.record(
        session,
        "appeal",
        appeal.id,
        decision,
        from_state="pending",
        to_state=to_state,
        actor_id=actor_id,
        reason=note,
        data={"user_id": user_id},
    )
    status = await repo.citizen_status(session, user_id, lock=True) if decision == "grant" else None
    if status is not None:
        cleared = await repo.clear_strikes(session, user_id, appeal.id)
        was = "blocked" if status.blocked_at else "active"
        status.strike_count, status.blocked_at = 0, None
        audit.record(
            session,
            "citizen",
            user_id,
            "unblock",
            from_state=was,
            to_state="active",
            actor_id=actor_id,
            reason=note,
            data={"appeal_id": appeal.id, "strikes_cleared": cleared},
        )
    await session.flush()
    _announce(session, bus, appeal)
    return appeal


async def list_appeals(session: AsyncSession, status: str | None, limit: int) -> list[AppealQueueItem]:
    """Appeals with their citizen's login, strike count and strikes (cleared ones too, marked)."""
    found = await repo.appeals(session, status, limit)
    out = []
    for appeal in found:
        user = await session.get(User, appeal.user_id)
        state = await repo.citizen_status(session, appeal.user_id)
        out.append(
            AppealQueueItem(
                **AppealOut.model_validate(appeal).model_dump(),
                username=user.username if user else None,
                full_name=user.full_name if user else None,
                strike_count=state.strike_count if state else 0,
                blocked_at=state.blocked_at if state else None,
                strikes=[
                    WarningOut.model_validate(s) for s in await repo.strikes_of(session, appeal.user_id)
                ],
            )
        )
    return out
