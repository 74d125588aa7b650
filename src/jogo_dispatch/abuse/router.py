"""A citizen's warnings for false reports, and the appeals that reopen a blocked account."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from jogo_dispatch.abuse import service
from jogo_dispatch.abuse.schemas import AppealIn, AppealOut, AppealQueueItem, DecisionIn, WarningsOut
from jogo_dispatch.deps import Citizen, CurrentUser, Dispatcher, RuntimeDep, SessionDep
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["agencies"])


@router.get("/me/warnings", response_model=WarningsOut)
async def my_warnings(rt: RuntimeDep, session: SessionDep, me: CurrentUser) -> WarningsOut:
    """The caller's strikes for false reports, each with the warning it gave, and whether the account is
    blocked from sending reports and SOS."""
    return await service.warnings(session, rt.settings, me.user_id)


@router.post("/appeals", response_model=AppealOut, status_code=201)
async def post_appeal(data: AppealIn, rt: RuntimeDep, session: SessionDep, me: Citizen) -> AppealOut:
    """A blocked citizen asks for the account to be reopened (one pending appeal at a time)."""
    return AppealOut.model_validate(await service.file_appeal(session, rt.bus, me.user_id, data.text))


@router.get("/appeals", response_model=list[AppealQueueItem])
async def get_appeals(
    session: SessionDep,
    _: Dispatcher,
    status: Literal["pending", "upheld", "granted"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AppealQueueItem]:
    """Appeals, oldest first (``status=pending`` is the review queue), each with its citizen's login, strike
    count and strikes."""
    return await service.list_appeals(session, status, limit)


@router.post("/appeals/{appeal_id}/decide", response_model=AppealOut)
async def decide_appeal(
    appeal_id: Id, data: DecisionIn, rt: RuntimeDep, session: SessionDep, me: Dispatcher
) -> AppealOut:
    """``grant`` reopens the account and clears its strikes; ``uphold`` keeps it blocked."""
    appeal = await service.decide_appeal(session, rt.bus, appeal_id, data.decision, data.note, me.user_id)
    return AppealOut.model_validate(appeal)
