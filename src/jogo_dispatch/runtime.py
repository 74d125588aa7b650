"""What one server process holds for its lifetime, built in main.lifespan and reached through deps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jogo_dispatch.accounts.service import Authenticator
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.platform.security import Passwords, Tokens
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking.devices import DeviceDirectory
from jogo_dispatch.tracking.ingest import Ingest
from jogo_dispatch.tracking.writer import PingWriter


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    passwords: Passwords
    tokens: Tokens
    auth: Authenticator
    writer: PingWriter
    devices: DeviceDirectory
    ingest: Ingest
    bus: EventBus
    extras: dict[str, Any] = field(default_factory=dict)
