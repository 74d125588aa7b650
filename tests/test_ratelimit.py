"""Rate limits: fixed windows per account and per device, in PostgreSQL (default), memory and Redis, and the
FastAPI dependencies the reports and SOS routes use (429 with Retry-After and the error body)."""

from __future__ import annotations

import socket
import time

import httpx
import psycopg
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from jogo_dispatch.deps import ReportRateLimit, SosRateLimit
from jogo_dispatch.errors import RateLimited
from jogo_dispatch.platform import ratelimit
from jogo_dispatch.platform.error_handlers import install_handlers as install_error_handlers
from jogo_dispatch.platform.ratelimit import Limit, MemoryCounter, PostgresCounter, RateLimiter, RedisCounter

T0 = 1_800_000_000.0  # a window edge for windows of 100 s and 3600 s


async def test_fixed_window_counts_every_key_and_says_when_to_come_back():
    limiter = RateLimiter(MemoryCounter())
    limits = [Limit("report:account:1", 3, 100, "account"), Limit("report:device:abc", 5, 100, "device")]
    for _ in range(3):
        await limiter.check(limits, now=T0 + 10)
    with pytest.raises(RateLimited) as err:
        await limiter.check(limits, now=T0 + 30)
    assert err.value.status_code == 429 and err.value.headers == {"Retry-After": "70"}
    assert err.value.details == {"limit": 3, "window_s": 100, "per": "account", "retry_after_s": 70}
    # Another account on the same device still gets through until the device's own limit.
    other = [Limit("report:account:2", 3, 100, "account"), Limit("report:device:abc", 5, 100, "device")]
    await limiter.check(other, now=T0 + 40)
    with pytest.raises(RateLimited) as err:
        await limiter.check(other, now=T0 + 41)
    assert err.value.details["per"] == "device"
    # The next window starts from zero.
    await limiter.check(limits, now=T0 + 100)
    await limiter.check([Limit("x", 0, 100, "account")] * 50, now=T0)  # 0 = no limit


async def test_postgres_counters_are_shared_and_purged(app, client, database_url):
    counter = PostgresCounter(app.state.runtime.engine)
    other_process = PostgresCounter(app.state.runtime.engine)
    now = int(time.time() // 100)
    assert await counter.hit(["a", "b"], now, 100) == [1, 1]
    assert await other_process.hit(["b", "a"], now, 100) == [2, 2]
    assert await counter.hit(["a"], now + 1, 100) == [1]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        stored = await (
            await conn.execute("SELECT key, bucket - %s, hits FROM rate_limit_hits ORDER BY 1, 2", (now,))
        ).fetchall()
        assert stored == [("a", 0, 2), ("a", 1, 1), ("b", 0, 2)]
        # What the purge drops: windows that are over.
        await conn.execute(
            "UPDATE rate_limit_hits SET expires_at = now() - interval '1 s' WHERE bucket = %s", (now,)
        )
    assert await counter.purge() == 2
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        left = await (await conn.execute("SELECT key, bucket - %s FROM rate_limit_hits", (now,))).fetchall()
    assert left == [("a", 1)]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_redis_counters():
    counter = RedisCounter("redis://127.0.0.1:6379/0")
    bucket = int(T0) + socket.gethostname().__hash__() % 1000  # a key nobody else uses
    try:
        assert await counter.hit(["t:x", "t:y"], bucket, 5) == [1, 1]
        assert await counter.hit(["t:x"], bucket, 5) == [2]
    finally:
        await counter.close()


async def test_a_down_counter_store_lets_requests_through():
    limiter = RateLimiter(RedisCounter("redis://127.0.0.1:1/0", timeout_s=0.2))
    await limiter.check([Limit("k", 1, 100, "account")] * 3)


async def test_an_attempt_given_back_no_longer_counts(app) -> None:
    for counter in (MemoryCounter(), PostgresCounter(app.state.runtime.engine)):
        limiter = RateLimiter(counter)
        limits = [
            Limit(f"refund:{id(counter)}:a", 2, 100, "account"),
            Limit(f"refund:{id(counter)}:b", 9, 10, "x"),
        ]
        for _ in range(5):
            await limiter.refund(await limiter.check(limits, now=T0 + 5))
        assert await counter.peek([limits[0].key], int((T0 + 5) // 100)) == [0]
        await limiter.check(limits, now=T0 + 6)
        await limiter.check(limits, now=T0 + 7)
        with pytest.raises(RateLimited):
            await limiter.check(limits, now=T0 + 8)
    await RateLimiter(MemoryCounter()).refund(None)
    async with app.state.runtime.engine.begin() as conn:  # the table outlives the test
        await conn.execute(text("DELETE FROM rate_limit_hits WHERE key LIKE 'refund:%'"))


def test_device_key():
    assert ratelimit.device_key("phone-1", "UA", "1.2.3.4") == ratelimit.device_key("phone-1", "other", None)
    assert ratelimit.device_key(None, "UA", "1.2.3.4") != ratelimit.device_key(None, "UA", "5.6.7.8")
    assert ratelimit.device_key(None, None, "1.2.3.4") is None
    assert len(ratelimit.device_key("x" * 5000, None, None) or "") == 32


async def test_report_and_sos_dependencies_answer_429_with_retry_after(
    app, client, actors, settings, monkeypatch, database_url
):
    """The dependencies on a route of their own (the reports routes belong to the reports domain)."""
    monkeypatch.setattr(settings, "report_limit_per_account", 2)
    monkeypatch.setattr(settings, "report_limit_per_device", 3)
    monkeypatch.setattr(settings, "sos_limit_per_account", 4)
    router = APIRouter()

    @router.post("/r", dependencies=[ReportRateLimit])
    async def report_route() -> dict[str, bool]:
        return {"ok": True}

    @router.post("/s", dependencies=[SosRateLimit])
    async def sos_route() -> dict[str, bool]:
        return {"ok": True}

    probe = FastAPI()
    probe.state.runtime = app.state.runtime
    install_error_handlers(probe)
    probe.include_router(router)
    alice, bob = await actors.user("citizen"), await actors.user("citizen")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=probe), base_url="http://t") as c:
        phone = {"X-Device-Id": "android-1"}
        assert [(await c.post("/r", headers={**alice, **phone})).status_code for _ in range(2)] == [200, 200]
        refused = await c.post("/r", headers={**alice, **phone})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= settings.report_limit_window_s
        assert refused.json()["error"]["code"] == "rate_limited"
        assert refused.json()["error"]["details"]["per"] == "account"
        # Bob on the same phone: his account is fresh but the device has had 3.
        assert (await c.post("/r", headers={**bob, **phone})).status_code == 429
        assert (await c.post("/r", headers={**bob, "X-Device-Id": "android-2"})).status_code == 200
        # SOS has its own, more generous counters.
        assert [(await c.post("/s", headers={**alice, **phone})).status_code for _ in range(5)] == [
            200
        ] * 4 + [429]
        assert (await c.post("/r", headers=phone)).status_code == 401
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        keys = dict(
            await (
                await conn.execute(
                    "SELECT split_part(key, ':', 1) || ':' || split_part(key, ':', 2), "
                    "sum(hits) FROM rate_limit_hits GROUP BY 1"
                )
            ).fetchall()
        )
    assert keys == {"report:account": 5, "report:device": 5, "sos:account": 5, "sos:device": 5}
