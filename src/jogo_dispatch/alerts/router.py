from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from jogo_dispatch.alerts import service
from jogo_dispatch.deps import Dispatcher, RuntimeDep, SessionDep, Watcher
from jogo_dispatch.platform.db import Id

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alerts")
async def list_alerts(session: SessionDep, _: Watcher) -> list[dict[str, Any]]:
    """Open (unacknowledged) alerts, newest first."""
    return [service.alert_dict(a) for a in await service.open_alerts(session)]


@router.post("/alerts/{alert_id}/ack")
async def ack_alert(alert_id: Id, rt: RuntimeDep, session: SessionDep, me: Dispatcher) -> dict[str, Any]:
    return service.alert_dict(await service.acknowledge(session, rt.bus, alert_id, me.user_id))
