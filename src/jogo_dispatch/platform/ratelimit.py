"""Rate limits on citizens' reports and SOS presses, per account and per device, and on failed logins, per
username and per client address.

Fixed windows: a counter per (key, window) goes up on every attempt, and an attempt that takes it past the
limit is refused with 429 ``rate_limited`` and ``Retry-After`` = seconds until the window ends (a burst can
reach twice the limit across a window edge; that is the price of one counter per key). The device is the
``X-Device-Id`` header, or else (reports only) the User-Agent together with the client address. An SOS is
limited per account and per explicit ``X-Device-Id`` only, never per address: a mobile carrier puts
thousands of phones, many with the same browser, behind one address. An attempt refused for any other
reason (a bad photo, an unknown category, a validation error, a blocked account) is given back
(``RateLimiter.refund``): only requests that go through use up the quota.

Counters live in PostgreSQL by default (an UNLOGGED table: every process of the service shares them, and
nothing else is needed), in this process's memory (``ratelimit_backend=memory``, one process only) or in
Redis (``redis``). When the counter store cannot be reached the request is let through: an SOS must never
fail because a limiter is down.

Failed logins are counted only when they fail, and a username (or address) with ``login_limit_per_user``
(``login_limit_per_ip``) failures in the current window is refused before its password is even checked, so
guessing stops at the limit whatever the guesses are; a correct password under the limit is never refused.

Routes use the dependencies ``deps.ReportRateLimit`` and ``deps.SosRateLimit``; other code calls ``check``;
logins go through ``guard_login``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import structlog
from sqlalchemy import BigInteger, DateTime, Integer, String, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.accounts.phones import normalise_phone
from jogo_dispatch.errors import RateLimited, Unauthorized
from jogo_dispatch.platform.db import Base
from jogo_dispatch.settings import Settings

log = structlog.get_logger(__name__)

T = TypeVar("T")
PURGE_EVERY_S = 300.0


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    limit: int
    window_s: int
    what: str  # said in the error: "account", "device", "api key"


@dataclass(frozen=True, slots=True)
class Taken:
    """The limits one attempt was counted against, and when (its window)."""

    limits: tuple[Limit, ...]
    at: float


class Counter(Protocol):
    async def hit(self, keys: Sequence[str], bucket: int, window_s: int, delta: int = 1) -> list[int]:
        """Add ``delta`` (one, or minus one to give an attempt back) to each key's counter of window
        ``bucket``; return the new counts in order."""

    async def peek(self, keys: Sequence[str], bucket: int) -> list[int]:
        """Each key's counter of window ``bucket``, unchanged."""


class MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._expiry: dict[tuple[str, int], float] = {}

    async def hit(self, keys: Sequence[str], bucket: int, window_s: int, delta: int = 1) -> list[int]:
        now = time.time()
        if len(self._counts) > 10_000:
            for k in [k for k, until in self._expiry.items() if until < now]:
                self._counts.pop(k, None)
                self._expiry.pop(k, None)
        out = []
        for key in keys:
            k = (key, bucket)
            self._counts[k] = max(0, self._counts.get(k, 0) + delta)
            self._expiry[k] = (bucket + 1) * window_s
            out.append(self._counts[k])
        return out

    async def peek(self, keys: Sequence[str], bucket: int) -> list[int]:
        return [self._counts.get((key, bucket), 0) for key in keys]

    def clear(self) -> None:
        self._counts.clear()
        self._expiry.clear()


_HIT = text(
    "INSERT INTO rate_limit_hits (key, bucket, hits, expires_at) "
    "SELECT k, :bucket, GREATEST(0, :delta), :expires_at FROM unnest(CAST(:keys AS varchar[])) AS k "
    "ON CONFLICT (key, bucket) DO UPDATE SET hits = GREATEST(0, rate_limit_hits.hits + :delta) "
    "RETURNING key, hits"
)
_PEEK = text(
    "SELECT key, hits FROM rate_limit_hits WHERE bucket = :bucket AND key = ANY(CAST(:keys AS varchar[]))"
)
_PURGE = text("DELETE FROM rate_limit_hits WHERE expires_at < now()")


class PostgresCounter:
    """One statement per request in its own short transaction (not the request's: a slow request must not
    hold the counter row locked, and a refused request still counts)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def hit(self, keys: Sequence[str], bucket: int, window_s: int, delta: int = 1) -> list[int]:
        expires_at = datetime.fromtimestamp((bucket + 1) * window_s, UTC)
        params = {"keys": list(keys), "bucket": bucket, "expires_at": expires_at, "delta": delta}
        async with self._engine.begin() as conn:
            rows = await conn.execute(_HIT, params)
            counts = {r.key: r.hits for r in rows}
        return [counts[k] for k in keys]

    async def peek(self, keys: Sequence[str], bucket: int) -> list[int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(_PEEK, {"keys": list(keys), "bucket": bucket})
            counts = {r.key: r.hits for r in rows}
        return [counts.get(k, 0) for k in keys]

    async def purge(self) -> int:
        async with self._engine.begin() as conn:
            return (await conn.execute(_PURGE)).rowcount


class RedisCounter:
    """INCR + EXPIRE over one connection, spoken in RESP directly (no client library needed)."""

    def __init__(self, url: str, timeout_s: float = 1.0) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 6379
        self._db = int(parts.path.strip("/") or 0)
        self._password = parts.password
        self._timeout = timeout_s
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._lock = asyncio.Lock()

    @staticmethod
    def _encode(*args: str | int) -> bytes:
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    @staticmethod
    async def _reply(reader: asyncio.StreamReader) -> Any:
        line = (await reader.readline()).rstrip(b"\r\n")
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"+":
            return rest.decode()
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else (await reader.readexactly(n + 2))[:-2]
        if kind == b"*":
            return [await RedisCounter._reply(reader) for _ in range(int(rest))]
        raise RuntimeError(f"unexpected redis reply {line!r}")

    async def _pipeline(self, commands: list[tuple[str | int, ...]]) -> list[Any]:
        if self._conn is None:
            reader, writer = await asyncio.open_connection(self._host, self._port)
            self._conn = (reader, writer)
            setup = ([("AUTH", self._password)] if self._password else []) + (
                [("SELECT", self._db)] if self._db else []
            )
            if setup:
                writer.write(b"".join(self._encode(*c) for c in setup))
                for _ in setup:
                    await self._reply(reader)
        reader, writer = self._conn
        writer.write(b"".join(self._encode(*c) for c in commands))
        await writer.drain()
        return [await self._reply(reader) for _ in commands]

    async def hit(self, keys: Sequence[str], bucket: int, window_s: int, delta: int = 1) -> list[int]:
        commands: list[tuple[str | int, ...]] = []
        for key in keys:
            name = f"jogo:rl:{key}:{bucket}"
            commands += [("INCRBY", name, delta), ("EXPIRE", name, window_s + 1)]
        async with self._lock:
            try:
                replies = await asyncio.wait_for(self._pipeline(commands), self._timeout)
            except BaseException:
                await self.close()
                raise
        return [int(r) for r in replies[0::2]]

    async def peek(self, keys: Sequence[str], bucket: int) -> list[int]:
        async with self._lock:
            try:
                replies = await asyncio.wait_for(
                    self._pipeline([("GET", f"jogo:rl:{key}:{bucket}") for key in keys]), self._timeout
                )
            except BaseException:
                await self.close()
                raise
        return [int(r) if r is not None else 0 for r in replies]

    async def close(self) -> None:
        if self._conn is not None:
            _, writer = self._conn
            self._conn = None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class RateLimiter:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    async def check(
        self, limits: Sequence[Limit], now: float | None = None, *, count: bool = True
    ) -> Taken | None:
        """Count one attempt against every limit; raise RateLimited if any is exceeded. ``count=False``: only
        look, and raise if one more attempt would exceed a limit. Returns what was counted, for ``refund``
        (None when nothing was)."""
        active = [lim for lim in limits if lim.limit > 0]
        if not active:
            return None
        now = time.time() if now is None else now
        for window_s in sorted({lim.window_s for lim in active}):
            group = [lim for lim in active if lim.window_s == window_s]
            bucket = int(now // window_s)
            keys = [lim.key for lim in group]
            try:
                counts = await (
                    self.counter.hit(keys, bucket, window_s) if count else self.counter.peek(keys, bucket)
                )
            except Exception as exc:  # noqa: BLE001 - fail open, see the module docstring
                log.warning("rate limiter unavailable; request let through", error=repr(exc))
                return None
            attempt = 0 if count else 1
            over = [(lim, n) for lim, n in zip(group, counts, strict=True) if n + attempt > lim.limit]
            if over:
                lim, n = over[0]
                retry_after = max(1, math.ceil((bucket + 1) * window_s - now))
                raise RateLimited(
                    f"too many requests from this {lim.what}: at most {lim.limit} per {window_s} s; "
                    f"try again in {retry_after} s",
                    retry_after_s=retry_after,
                    details={
                        "limit": lim.limit,
                        "window_s": window_s,
                        "per": lim.what,
                        "retry_after_s": retry_after,
                    },
                )
        return Taken(tuple(active), now) if count else None

    async def refund(self, taken: Taken | None) -> None:
        """Give back an attempt ``check`` counted (the request was refused for another reason): a report the
        service refused must not use up the citizen's quota. Best effort, like the limiter itself."""
        if taken is None:
            return
        for window_s in sorted({lim.window_s for lim in taken.limits}):
            keys = [lim.key for lim in taken.limits if lim.window_s == window_s]
            try:
                await self.counter.hit(keys, int(taken.at // window_s), window_s, delta=-1)
            except Exception as exc:  # noqa: BLE001 - the window's end forgets it anyway
                log.warning("rate-limit refund failed", error=repr(exc))


def make_limiter(settings: Settings, engine: AsyncEngine) -> RateLimiter:
    backend = settings.ratelimit_backend
    counter: Counter
    if backend == "memory":
        counter = MemoryCounter()
    elif backend == "redis":
        counter = RedisCounter(settings.ratelimit_redis_url)
    else:
        counter = PostgresCounter(engine)
    return RateLimiter(counter)


def device_key(device_id: str | None, user_agent: str | None, client_ip: str | None) -> str | None:
    """A bounded key for the calling device (None when nothing identifies it)."""
    if device_id:
        raw = f"id:{device_id}"
    elif user_agent:
        raw = f"ua:{user_agent}|ip:{client_ip or ''}"
    else:
        return None
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def limits_for(settings: Settings, scope: str, account: str | None, device: str | None) -> list[Limit]:
    """The limits of ``scope`` ("report" or "sos") for an account key and a device key."""
    window = settings.report_limit_window_s if scope == "report" else settings.sos_limit_window_s
    per_account = settings.report_limit_per_account if scope == "report" else settings.sos_limit_per_account
    per_device = settings.report_limit_per_device if scope == "report" else settings.sos_limit_per_device
    out = []
    if account is not None:
        out.append(Limit(f"{scope}:account:{account}", per_account, window, "account"))
    if device is not None:
        out.append(Limit(f"{scope}:device:{device}", per_device, window, "device"))
    return out


async def check(
    limiter: RateLimiter,
    settings: Settings,
    scope: str,
    account: str | None,
    device: str | None,
    extra: Sequence[Limit] = (),
) -> Taken | None:
    return await limiter.check([*limits_for(settings, scope, account, device), *extra])


def login_limits(settings: Settings, username: str, client_ip: str | None) -> list[Limit]:
    """Failed-login limits of a username (however a phone number is typed) and of a client address."""
    try:
        who = normalise_phone(username, settings.phone_regions[0])
    except ValueError:
        who = username.strip().lower()
    window = settings.login_limit_window_s
    out = [
        Limit(
            f"login:user:{hashlib.sha256(who.encode()).hexdigest()[:32]}",
            settings.login_limit_per_user,
            window,
            "username",
        )
    ]
    if client_ip:
        out.append(Limit(f"login:ip:{client_ip}", settings.login_limit_per_ip, window, "address"))
    return out


async def guard_login(
    limiter: RateLimiter,
    settings: Settings,
    username: str,
    client_ip: str | None,
    attempt: Callable[[], Awaitable[T]],
) -> T:
    """Run ``attempt`` (a password check) unless the username or the address has used up its failures; a
    wrong password counts as one. 429 ``rate_limited`` with ``Retry-After`` once over."""
    limits = login_limits(settings, username, client_ip)
    await limiter.check(limits, count=False)
    try:
        return await attempt()
    except Unauthorized as exc:
        if exc.code == "bad_credentials":
            await limiter.check(limits)
        raise


async def purge_loop(limiter: RateLimiter, every_s: float = PURGE_EVERY_S) -> None:
    while True:
        await asyncio.sleep(every_s)
        counter = limiter.counter
        if isinstance(counter, PostgresCounter):
            try:
                await counter.purge()
            except Exception:  # noqa: BLE001 - retried next round
                log.exception("purging rate-limit counters failed")


def start(limiter: RateLimiter) -> list[asyncio.Task[None]]:
    """The task that drops expired counters (for the lifespan to cancel)."""
    return [asyncio.create_task(purge_loop(limiter), name="ratelimit-purge")]
