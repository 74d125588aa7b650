from __future__ import annotations

from fastapi import APIRouter

from jogo_dispatch.alerts import service
from jogo_dispatch.alerts.schemas import AlertOut
from jogo_dispatch.deps import Dispatcher, RuntimeDep, SessionDep
from jogo_dispatch.platform.db import Id
from jogo_dispatch.platform.idempotency import IdempotentRoute

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["alerts"])


@router.get("/alerts", response_model=list[AlertOut])
async def list_alerts(session: SessionDep, _: Dispatcher) -> list[AlertOut]:
    """Open (unacknowledged) alerts, newest first."""
    return [AlertOut.model_validate(a) for a in await service.open_alerts(session)]


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut)
async def ack_alert(alert_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher) -> AlertOut:
    return AlertOut.model_validate(await service.acknowledge(session, rt.bus, alert_id, me.user_id))
