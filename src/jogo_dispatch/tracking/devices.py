"""Which officer a phone's device identifier belongs to, and the OwnTracks keys of an officer's phones,
cached briefly per process (a change made in another process shows within ``ttl_s``)."""

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
        self._keys: dict[int, tuple[float, list[tuple[int, bytes]]]] = {}

    def forget(self) -> None:
        self._cache.clear()
        self._keys.clear()

    def forget_keys(self, officer_id: int) -> None:
        self._keys.pop(officer_id, None)

    async def owntracks_keys(self, officer_id: int) -> list[tuple[int, bytes]]:
        """(device id, secret-box key) of the officer's active phones that have an OwnTracks key. Asked
        only for encrypted payloads, once per ``ttl_s`` and officer."""
        now = time.monotonic()
        hit = self._keys.get(officer_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._sessions() as session:
            rows = await session.execute(
                select(Device.id, Device.owntracks_key)
                .where(
                    Device.officer_id == officer_id,
                    Device.revoked_at.is_(None),
                    Device.owntracks_key.is_not(None),
                )
                .order_by(Device.id)
            )
            keys = [(device_id, bytes(key)) for device_id, key in rows if key is not None]
        if len(self._keys) > 100_000:
            self._keys.clear()
        self._keys[officer_id] = (now + self._ttl, keys)
        return keys

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
