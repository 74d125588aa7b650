"""Which officer a phone's device identifier belongs to, cached briefly per process."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jogo_dispatch.tracking.models import Device, Officer


@dataclass(frozen=True, slots=True)
class KnownDevice:
    device_id: int
    officer_id: int
    badge: str


class DeviceDirectory:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], ttl_s: float = 10.0, miss_ttl_s: float = 2.0
    ):
        self._sessions = sessions
        self._ttl = ttl_s
        self._miss_ttl = miss_ttl_s
        self._cache: dict[str, tuple[float, KnownDevice | None]] = {}

    def forget(self) -> None:
        self._cache.clear()

    async def find(self, identifier: str) -> KnownDevice | None:
        now = time.monotonic()
        hit = self._cache.get(identifier)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Device.id, Device.officer_id, Officer.badge)
                    .join(Officer, Officer.id == Device.officer_id)
                    .where(Device.identifier == identifier, Device.revoked_at.is_(None))
                )
            ).first()
        found = KnownDevice(row[0], row[1], row[2]) if row else None
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[identifier] = (now + (self._ttl if found else self._miss_ttl), found)
        return found

    async def find_first(self, identifiers: list[str]) -> KnownDevice | None:
        for identifier in identifiers:
            found = await self.find(identifier)
            if found is not None:
                return found
        return None
