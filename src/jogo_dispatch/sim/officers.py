"""Simulated officers patrolling Malang and streaming GPS through the public ingest API."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from jogo_dispatch.demo import SimOfficer

# Kota Malang, roughly (w, s, e, n).
MALANG_BBOX = (112.585, -8.035, 112.675, -7.915)
SPEED_MPS = {"car": 9.0, "motorbike": 8.0, "foot": 1.3}
M_PER_DEG_LAT = 111_320.0


@dataclass
class Walker:
    """Moves along a street-like grid: straight segments of one to four blocks, then a turn."""

    officer: SimOfficer
    lat: float
    lon: float
    heading: float
    speed: float
    left_m: float
    rng: random.Random = field(repr=False)

    def step(self, dt: float) -> None:
        travel = self.speed * dt * self.rng.uniform(0.6, 1.2)
        while travel > 0:
            d = min(travel, self.left_m)
            rad = math.radians(self.heading)
            self.lat += d * math.cos(rad) / M_PER_DEG_LAT
            self.lon += d * math.sin(rad) / (M_PER_DEG_LAT * math.cos(math.radians(self.lat)))
            travel -= d
            self.left_m -= d
            if self.left_m <= 0:
                self._turn()
        self._keep_inside()

    def _turn(self) -> None:
        self.heading = (self.heading + self.rng.choice((0, 90, -90, 90, -90))) % 360
        self.left_m = self.rng.choice((120, 180, 250, 400, 600))

    def _keep_inside(self) -> None:
        w, s, e, n = MALANG_BBOX
        if not (s < self.lat < n):
            self.lat = min(max(self.lat, s), n)
            self.heading = (180 - self.heading) % 360
        if not (w < self.lon < e):
            self.lon = min(max(self.lon, w), e)
            self.heading = (360 - self.heading) % 360


def make_walkers(officers: Sequence[SimOfficer], seed: int = 11) -> list[Walker]:
    rng = random.Random(seed)
    w, s, e, n = MALANG_BBOX
    out = []
    for o in officers:
        # Crowd towards the centre (alun-alun) like real patrols do.
        lat = min(max(rng.gauss((s + n) / 2, (n - s) / 5), s), n)
        lon = min(max(rng.gauss((w + e) / 2, (e - w) / 5), w), e)
        out.append(Walker(o, lat, lon, rng.choice((0, 90, 180, 270)), SPEED_MPS[o.unit_type],
                          rng.uniform(50, 400), random.Random(rng.random())))
    return out


@dataclass
class SimStats:
    sent: int = 0
    accepted: int = 0
    failed: int = 0


async def stream_positions(
    base_url: str,
    walkers: Sequence[Walker],
    *,
    interval_s: float = 3.0,
    duration_s: float | None = None,
    concurrency: int = 32,
    log: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
) -> SimStats:
    """Each officer sends one ping per interval (as a phone would), spread evenly over the interval."""
    stats = SimStats()
    stop = stop or asyncio.Event()
    sem = asyncio.Semaphore(concurrency)
    started = last_report = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=15, limits=limits) as client:

        async def send(wk: Walker) -> None:
            body = {"lat": round(wk.lat, 6), "lon": round(wk.lon, 6), "recorded_at": datetime.now(UTC).isoformat(),
                    "accuracy_m": round(wk.rng.uniform(3, 15), 1), "speed_mps": round(wk.speed, 1),
                    "heading_deg": wk.heading, "battery_pct": round(wk.rng.uniform(20, 100))}
            async with sem:
                try:
                    r = await client.post("/api/v1/pings", json=body,
                                          headers={"Authorization": f"Bearer {wk.officer.token}"})
                    stats.sent += 1
                    if r.status_code == 200:
                        stats.accepted += r.json()["accepted"]
                    else:
                        stats.failed += 1
                except httpx.HTTPError:
                    stats.failed += 1

        pending: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            tick = time.monotonic()
            gap = interval_s / max(1, len(walkers))
            for wk in walkers:
                wk.step(interval_s)
                task = asyncio.create_task(send(wk))
                pending.add(task)
                task.add_done_callback(pending.discard)
                await asyncio.sleep(gap)
            now = time.monotonic()
            if now - last_report >= 10:
                rate = stats.sent / (now - started)
                log(f"simulator: {len(walkers)} officers, {stats.sent} pings sent ({rate:.0f}/s), "
                    f"{stats.accepted} accepted, {stats.failed} failed")
                last_report = now
            if duration_s is not None and now - started >= duration_s:
                break
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - tick)))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    return stats
