"""``/api/v1/response-plans``: dispatchers read the run cards, admins edit them (audited)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from jogo_dispatch.deps import Admin, Dispatcher, RuntimeDep, SessionDep
from jogo_dispatch.plans import service
from jogo_dispatch.plans.schemas import PlanIn, PlanList, PlanOut
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1/response-plans", tags=["response plans"])


@router.get("")
async def list_plans(session: SessionDep, _: Dispatcher) -> PlanList:
    return PlanList(items=await service.plans(session))


@router.post("", status_code=201)
async def post_plan(data: PlanIn, rt: RuntimeDep, session: SessionDep, me: Admin) -> PlanOut:
    """A run card: for ``category`` (and optionally ``priority`` and a police sector), the police
    ``units`` needed and their types, the agencies to ``forward_to`` and to ``suggest``. Applied when an
    incident is verified or created; the most specific active plan wins."""
    plan = await service.create(session, rt.settings.region, data, me.user_id)
    return PlanOut.model_validate(plan)


@router.put("/{plan_id}")
async def put_plan(plan_id: Id, data: PlanIn, rt: RuntimeDep, session: SessionDep, me: Admin) -> PlanOut:
    plan = await service.update(session, rt.settings.region, plan_id, data, me.user_id)
    return PlanOut.model_validate(plan)


@router.delete("/{plan_id}", status_code=204)
async def delete_plan(plan_id: Id, session: SessionDep, me: Admin) -> Response:
    await service.remove(session, plan_id, me.user_id)
    return Response(status_code=204)
