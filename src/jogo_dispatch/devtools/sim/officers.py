"""Simulated officers patrolling Malang and streaming GPS through the public ingest API."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from jogo_dispatch.devtools.demo import SimOfficer
from jogo_dispatch.devtools.sim.phones import PROTOCOLS, Counters, Fix, Phone, StreamPhone
from jogo_dispatch.platform.db import utcnow

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
    # Set while the officer answers an incident: drive there, then stay until told it is over.
    target: tuple[float, float] | None = None
    arrived: bool = False

    def step(self, dt: float) -> None:
        if self.target is not None:
            self._drive(dt)
            return
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

    def _drive(self, dt: float) -> None:
        """Straight to the scene (a dispatched unit does not patrol the grid)."""
        assert self.target is not None
        dlat = (self.target[0] - self.lat) * M_PER_DEG_LAT
        dlon = (self.target[1] - self.lon) * M_PER_DEG_LAT * math.cos(math.radians(self.lat))
        dist = math.hypot(dlat, dlon)
        travel = self.speed * 1.3 * dt  # lights on
        if dist <= max(travel, 25.0):
            self.lat, self.lon, self.arrived = self.target[0], self.target[1], True
            return
        self.heading = math.degrees(math.atan2(dlon, dlat)) % 360
        self.lat += dlat / dist * travel / M_PER_DEG_LAT
        self.lon += dlon / dist * travel / (M_PER_DEG_LAT * math.cos(math.radians(self.lat)))

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
        out.append(
            Walker(
                o,
                lat,
                lon,
                rng.choice((0, 90, 180, 270)),
                SPEED_MPS[o.unit_type],
                rng.uniform(50, 400),
                random.Random(rng.random()),
            )
        )
    return out


def parse_mix(spec: str) -> dict[str, float]:
    """``http=0.4,ws=0.3,osmand=0.2,owntracks=0.1`` → weights (normalised)."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, weight = part.partition("=")
        if name not in PROTOCOLS:
            raise ValueError(f"unknown protocol {name!r}; use {', '.join(PROTOCOLS)}")
        mix[name] = float(weight or 1)
    total = sum(mix.values())
    if total <= 0:
        raise ValueError("the protocol mix needs a positive weight")
    return {k: v / total for k, v in mix.items()}


def assign_protocols(walkers: Sequence[Walker], mix: dict[str, float]) -> list[str]:
    """Deterministic split by the mix's shares (officer i gets the protocol whose share covers it)."""
    out, acc, names = [], 0.0, list(mix)
    bounds = []
    for name in names:
        acc += mix[name]
        bounds.append(acc)
    for i in range(len(walkers)):
        x = (i + 0.5) / len(walkers)
        out.append(next((n for n, b in zip(names, bounds, strict=True) if x <= b), names[-1]))
    return out


def phone_apps(protocols: Sequence[str]) -> list[str]:
    """Every other OsmAnd phone runs Traccar Client as installed (``traccar``: a fix every 300 s), the
    others with the settings the README advises: both kinds stay dispatchable."""
    out = []
    osmand = 0
    for proto in protocols:
        if proto == "osmand":
            osmand += 1
            proto = "traccar" if osmand % 2 == 0 else proto
        out.append(proto)
    return out


async def stream_positions(
    base_url: str,
    walkers: Sequence[Walker],
    *,
    interval_s: float = 3.0,
    duration_s: float | None = None,
    mix: dict[str, float] | None = None,
    concurrency: int = 32,
    log: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
    on_officer_message: Any = None,
) -> Counters:
    """Each officer's phone sends one fix per interval, spread evenly over the interval, through its
    protocol (see sim.phones)."""
    counters = Counters()
    stop = stop or asyncio.Event()
    sem = asyncio.Semaphore(concurrency)
    ws_url = base_url.replace("http://", "ws://").replace("https://", "wss://")
    started = last_report = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=15, limits=limits) as client:
        phones: list[Phone] = []
        for wk, proto in zip(
            walkers, phone_apps(assign_protocols(walkers, mix or {"http": 1.0})), strict=True
        ):
            if proto == "ws":
                stream = StreamPhone(wk.officer, client, counters, ws_url, on_officer_message)
                stream.walker = wk
                phones.append(stream)
            else:
                phones.append(PROTOCOLS[proto](wk.officer, client, counters))

        async def send(phone: Phone, wk: Walker) -> None:
            fix = Fix(
                wk.lat,
                wk.lon,
                utcnow(),
                wk.speed,
                wk.heading,
                round(wk.rng.uniform(3, 15), 1),
                float(round(max(5.0, 100 - (time.monotonic() - started) / 60 - wk.rng.uniform(0, 60)))),
            )
            async with sem:
                await phone.send(fix)

        pending: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                tick = time.monotonic()
                gap = interval_s / max(1, len(walkers))
                for wk, phone in zip(walkers, phones, strict=True):
                    wk.step(interval_s)
                    task = asyncio.create_task(send(phone, wk))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    await asyncio.sleep(gap)
                t = time.monotonic()
                if t - last_report >= 10:
                    rate = counters.acked / (t - started)
                    shares = ", ".join(f"{k} {v}" for k, v in sorted(counters.by_protocol.items()))
                    log(
                        f"simulator: {len(walkers)} officers, {counters.sent} fixes sent, {counters.acked} acknowledged "
                        f"({rate:.0f}/s; {shares}), {counters.failed} failed"
                    )
                    last_report = t
                if duration_s is not None and t - started >= duration_s:
                    break
                await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - tick)))
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        finally:
            for phone in phones:
                await phone.close()
    return counters
