"""Response plans: the admin's run cards (audited), and the one that applies to an incident (the most
specific active match: category with priority and sector, then priority, then sector, then category
alone). Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies.models import Agency, PoliceSector
from jogo_dispatch.errors import InvalidInput, NotFound
from jogo_dispatch.plans.models import ResponsePlan
from jogo_dispatch.plans.schemas import AppliedPlan, PlanIn, PlanOut
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.reports.models import Category

NOT_REPORTABLE = ("sos", "officer_sos")


async def plans(session: AsyncSession) -> list[PlanOut]:
    rows = await session.scalars(select(ResponsePlan).order_by(ResponsePlan.category, ResponsePlan.id))
    return [PlanOut.model_validate(p) for p in rows]


async def _check(session: AsyncSession, region: str, data: PlanIn) -> None:
    if data.category not in NOT_REPORTABLE and await session.get(Category, data.category) is None:
        raise InvalidInput(f"unknown category {data.category!r}", code="unknown_category")
    codes = {*data.forward_to, *data.suggest}
    if codes:
        known = set(
            await session.scalars(select(Agency.code).where(Agency.region == region, Agency.code.in_(codes)))
        )
        if missing := sorted(codes - known):
            raise InvalidInput(
                f"unknown agencies in {region}: {', '.join(missing)}",
                code="unknown_agency",
                details={"codes": missing},
            )
    if data.sector_code is not None:
        sector = await session.scalar(
            select(PoliceSector.id).where(
                PoliceSector.region == region, PoliceSector.code == data.sector_code
            )
        )
        if sector is None:
            raise InvalidInput(f"unknown police sector {data.sector_code!r}", code="unknown_sector")


async def create(session: AsyncSession, region: str, data: PlanIn, actor_id: int) -> ResponsePlan:
    await _check(session, region, data)
    plan = ResponsePlan(**data.model_dump())
    session.add(plan)
    await session.flush()
    audit.record(session, "response_plan", plan.id, "created", actor_id=actor_id, data=data.model_dump())
    return plan


async def update(
    session: AsyncSession, region: str, plan_id: int, data: PlanIn, actor_id: int
) -> ResponsePlan:
    plan = await session.get(ResponsePlan, plan_id, with_for_update=True)
    if plan is None:
        raise NotFound(f"response plan {plan_id} not found", code="plan_not_found")
    await _check(session, region, data)
    before = PlanIn.model_validate(plan, from_attributes=True).model_dump()
    for name, value in data.model_dump().items():
        setattr(plan, name, value)
    plan.updated_at = utcnow()
    changes = {k: [before[k], v] for k, v in data.model_dump().items() if before[k] != v}
    audit.record(session, "response_plan", plan.id, "updated", actor_id=actor_id, data={"changes": changes})
    return plan


async def remove(session: AsyncSession, plan_id: int, actor_id: int) -> None:
    found = await session.scalar(
        delete(ResponsePlan).where(ResponsePlan.id == plan_id).returning(ResponsePlan.id)
    )
    if found is None:
        raise NotFound(f"response plan {plan_id} not found", code="plan_not_found")
    audit.record(session, "response_plan", plan_id, "deleted", actor_id=actor_id)


def _specificity(plan: ResponsePlan) -> int:
    return 2 * (plan.priority is not None) + (plan.sector_code is not None)


async def plan_for(
    session: AsyncSession, category: str, priority: int, sector_code: str | None
) -> AppliedPlan | None:
    """The active plan for an incident, or None when no plan names its category."""
    rows = list(
        await session.scalars(
            select(ResponsePlan).where(ResponsePlan.category == category, ResponsePlan.active.is_(True))
        )
    )
    fitting = [
        p
        for p in rows
        if (p.priority is None or p.priority == priority)
        and (p.sector_code is None or p.sector_code == sector_code)
    ]
    if not fitting:
        return None
    best = max(fitting, key=lambda p: (_specificity(p), -p.id))
    return AppliedPlan.model_validate(best, from_attributes=True)
