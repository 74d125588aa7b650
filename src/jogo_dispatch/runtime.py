"""What one server process holds for its lifetime: a typed container built in main.lifespan and reached
through deps.RuntimeDep. Where one domain reacts to another's use-case inside the same unit of work, it
registers a typed hook here (the emitting domain calls them; it never imports the listener)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jogo_dispatch.accounts.service import Authenticator
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.live.hub import LiveHub
from jogo_dispatch.platform.events import EventBus
from jogo_dispatch.platform.ratelimit import RateLimiter
from jogo_dispatch.platform.security import Passwords, Tokens
from jogo_dispatch.platform.sockets import OpenSockets
from jogo_dispatch.reports.models import Report
from jogo_dispatch.settings import Settings
from jogo_dispatch.tracking.channels import OfficerChannels
from jogo_dispatch.tracking.devices import DeviceDirectory, KnownDevice
from jogo_dispatch.tracking.ingest import Ingest
from jogo_dispatch.tracking.protocols import DeviceFix
from jogo_dispatch.tracking.writer import PingWriter

# A report was verified / found false, in the unit of work that decided it (rewards, strikes).
ReportHook = Callable[[AsyncSession, Report], Awaitable[None]]
# An officer's phone raised SOS (Traccar alarm=sos): dispatch opens an officer-in-distress incident.
DistressHook = Callable[[KnownDevice, DeviceFix], Awaitable[None]]
# A message type on the officer stream socket that another domain answers (offers, incident progress).
OfficerSocketHandler = Callable[["Runtime", int, dict[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass
class Hooks:
    report_verified: list[ReportHook] = field(default_factory=list)
    false_report: list[ReportHook] = field(default_factory=list)
    false_report_withdrawn: list[ReportHook] = field(default_factory=list)
    officer_distress: list[DistressHook] = field(default_factory=list)
    officer_socket: dict[str, OfficerSocketHandler] = field(default_factory=dict)


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
    index: ResponderIndex
    hub: LiveHub
    limiter: RateLimiter
    officer_channels: OfficerChannels
    hooks: Hooks = field(default_factory=Hooks)
    sockets: OpenSockets = field(default_factory=OpenSockets)
    loop: asyncio.AbstractEventLoop | None = None
    # Set when the forward delivery worker should look for due deliveries now rather than at its next tick.
    forward_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    background: set[asyncio.Task[Any]] = field(default_factory=set)
