"""The OwnTracks payload key of an officer's phone, set and cleared by an admin.

The key is the passphrase typed into the app (Preferences > Encryption key); the server keeps only the
32-byte secret-box key derived from it as the apps derive theirs, and never returns it: reads say only
``owntracks_key_set``. Audited; the process that made the change forgets its cached keys at once, the
others within the device directory's TTL.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jogo_dispatch.deps import Admin, RuntimeDep, SessionDep
from jogo_dispatch.errors import NotFound
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import Id, after_commit
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.tracking import repository as repo
from jogo_dispatch.tracking.models import Device
from jogo_dispatch.tracking.protocols import secret_box_key
from jogo_dispatch.tracking.schemas import DeviceOut

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["tracking"])

PATH = "/officers/{officer_id}/devices/{device_id}/owntracks-key"


class OwnTracksKeyIn(BaseModel):
    key: str = Field(
        min_length=1,
        max_length=256,
        description="the passphrase set as the app's encryption key; the apps use its first 32 bytes",
    )


async def _device(session: SessionDep, officer_id: int, device_id: int) -> Device:
    device = await repo.device(session, device_id)
    if device is None or device.officer_id != officer_id or device.revoked_at is not None:
        raise NotFound(f"device {device_id} not found for officer {officer_id}")
    return device


@router.put(PATH, response_model=DeviceOut)
async def put_owntracks_key(
    officer_id: Id, device_id: Id, data: OwnTracksKeyIn, rt: RuntimeDep, session: SessionDep, me: Admin
) -> DeviceOut:
    """Set (or replace) the phone's OwnTracks key: its encrypted payloads are opened with it."""
    key = secret_box_key(data.key)
    device = await _device(session, officer_id, device_id)
    replaced = device.owntracks_key is not None
    device.owntracks_key = key
    await session.flush()
    audit.record(
        session,
        "officer",
        officer_id,
        "owntracks_key_set",
        actor_id=me.user_id,
        data={"device_id": device_id, "replaced": replaced},
    )
    after_commit(session, lambda: rt.devices.forget_keys(officer_id))
    return DeviceOut.model_validate(device, from_attributes=True)


@router.delete(PATH, response_model=DeviceOut)
async def delete_owntracks_key(
    officer_id: Id, device_id: Id, rt: RuntimeDep, session: SessionDep, me: Admin
) -> DeviceOut:
    """Clear the phone's OwnTracks key: its encrypted payloads are refused (409) until one is set."""
    device = await _device(session, officer_id, device_id)
    if device.owntracks_key is not None:
        device.owntracks_key = None
        await session.flush()
        audit.record(
            session,
            "officer",
            officer_id,
            "owntracks_key_cleared",
            actor_id=me.user_id,
            data={"device_id": device_id},
        )
        after_commit(session, lambda: rt.devices.forget_keys(officer_id))
    return DeviceOut.model_validate(device, from_attributes=True)
