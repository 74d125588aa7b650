"""The rest of the city around the patrolling officers: citizens reporting and pressing SOS, a duty
operator who verifies and dispatches, and officers who take offers, drive to the scene and clear it.

Everything goes through the public API and the officer socket, as the real actors would.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from jogo_dispatch.devtools.sim.officers import MALANG_BBOX, Walker
from jogo_dispatch.devtools.sim.phones import StreamPhone

DESCRIPTIONS = {
    "traffic_accident": "Tabrakan motor dan mobil, ada korban luka",
    "traffic_jam": "Macet total, lampu lalu lintas mati",
    "crime": "Pencurian sepeda motor di depan toko",
    "public_order": "Keributan warga di pinggir jalan",
    "fire": "Asap tebal dari rumah warga",
    "medical": "Orang pingsan di trotoar",
    "fallen_tree": "Pohon tumbang menutup jalan",
    "power_outage": "Listrik padam satu kampung",
    "flood_landslide": "Genangan air setinggi lutut",
    "road_damage": "Jalan berlubang besar, berbahaya untuk motor",
    "other": "Ada kejadian mencurigakan",
}


@dataclass
class CityStats:
    reports: int = 0
    sos: int = 0
    verified: int = 0
    offers: int = 0
    accepted: int = 0
    on_scene: int = 0
    resolved: int = 0
    forwarded: int = 0
    backup: int = 0
    welfare_answered: int = 0
    welfare_missed: int = 0
    errors: int = 0
    recent_errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"city: {self.reports} reports, {self.sos} SOS, {self.verified} verified, {self.offers} offers, "
            f"{self.accepted} accepted, {self.on_scene} on scene, {self.resolved} resolved, "
            f"{self.forwarded} forwarded, {self.backup} backup requests, "
            f"{self.welfare_answered}/{self.welfare_answered + self.welfare_missed} "
            f"welfare checks answered, {self.errors} errors"
        )

    def error(self, what: str) -> None:
        self.errors += 1
        self.recent_errors = [*self.recent_errors[-4:], what]


BACKUP_REASONS = (
    "Massa mulai berkumpul",
    "Pelaku lebih dari satu",
    "Korban lebih dari satu",
    "Butuh pengaturan lalu lintas",
)


class Responders:
    """What a simulated officer does with an offer on the phone socket: mostly accept, drive, clear. On
    some incidents the officer asks for backup once on scene; some scenes last long enough for welfare
    checks (the demo's interval is 3 minutes), which most answer at once and a few miss."""

    def __init__(
        self,
        stats: CityStats,
        rng: random.Random,
        scene_s: tuple[float, float] = (20.0, 60.0),
        *,
        long_scene_s: tuple[float, float] = (240.0, 480.0),
        long_share: float = 0.25,
        backup_share: float = 0.15,
        welfare_miss_share: float = 0.1,
    ) -> None:
        self.stats = stats
        self.rng = rng
        self.scene_s = scene_s
        self.long_scene_s = long_scene_s
        self.long_share = long_share
        self.backup_share = backup_share
        self.welfare_miss_share = welfare_miss_share

    async def on_message(self, phone: StreamPhone, msg: dict[str, Any]) -> None:
        wk: Walker | None = phone.walker
        if wk is None:
            return
        if msg.get("type") == "offer" and msg.get("status", "pending") == "pending":
            self.stats.offers += 1
            if self.rng.random() < 0.1 or wk.target is not None:
                await phone.send_json(
                    {"type": "offer_decline", "offer_id": msg["offer_id"], "reason": "busy"}
                )
                return
            await phone.send_json({"type": "offer_accept", "seq": 0, "offer_id": msg["offer_id"]})
        elif msg.get("type") == "welfare_check":
            if self.rng.random() >= self.welfare_miss_share:  # most answer "safe" at once; a few miss it
                self.stats.welfare_answered += 1
                await phone.send_json({"type": "welfare_answer", "offer_id": msg["offer_id"], "safe": True})
            else:
                self.stats.welfare_missed += 1
        elif msg.get("type") == "offer_accepted":
            incident = msg.get("incident") or {}
            if incident.get("lat") is None:
                return
            self.stats.accepted += 1
            wk.target, wk.arrived = (incident["lat"], incident["lon"]), False
            asyncio.ensure_future(self._handle(phone, wk, int(incident["id"])))

    async def _handle(self, phone: StreamPhone, wk: Walker, incident_id: int) -> None:
        await phone.send_json({"type": "incident_status", "incident_id": incident_id, "status": "en_route"})
        deadline = time.monotonic() + 900
        while not wk.arrived and time.monotonic() < deadline:  # noqa: ASYNC110 - the walker's clock sets it
            await asyncio.sleep(1.0)
        await phone.send_json({"type": "incident_status", "incident_id": incident_id, "status": "on_scene"})
        self.stats.on_scene += 1
        if self.rng.random() < self.backup_share:
            await self._ask_backup(phone, incident_id)
        long = self.rng.random() < self.long_share
        await asyncio.sleep(self.rng.uniform(*(self.long_scene_s if long else self.scene_s)))
        await phone.send_json({"type": "incident_status", "incident_id": incident_id, "status": "resolved"})
        self.stats.resolved += 1
        wk.target, wk.arrived = None, False

    async def _ask_backup(self, phone: StreamPhone, incident_id: int) -> None:
        """``POST /incidents/{id}/backup`` from the officer's phone: the nearest available get offers."""
        try:
            r = await phone.client.post(
                f"/api/v1/incidents/{incident_id}/backup",
                headers={
                    "Authorization": f"Bearer {phone.officer.token}",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
                json={"units": 1, "reason": self.rng.choice(BACKUP_REASONS)},
            )
        except httpx.HTTPError as exc:
            self.stats.error(f"backup: {exc}")
            return
        if r.status_code == 201:
            self.stats.backup += 1
        else:
            self.stats.error(f"backup {r.status_code}: {r.text[:120]}")


async def _login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def citizens(client: httpx.AsyncClient, n: int, seed: int) -> list[dict[str, str]]:
    """Register (or log in) ``n`` citizens with stable phone numbers."""
    out = []
    for i in range(n):
        phone = f"0899{seed % 1000:03d}{i:05d}"
        r = await client.post(
            "/api/v1/citizens", json={"phone": phone, "name": f"Warga {i + 1}", "password": "warga-123"}
        )
        if r.status_code not in (201, 409):
            r.raise_for_status()
        out.append(await _login(client, phone, "warga-123"))
    return out


def _point_near(rng: random.Random, walkers: Sequence[Walker]) -> tuple[float, float]:
    if walkers and rng.random() < 0.7:
        wk = rng.choice(walkers)
        return wk.lat + rng.uniform(-0.01, 0.01), wk.lon + rng.uniform(-0.01, 0.01)
    w, s, e, n = MALANG_BBOX
    return rng.uniform(s, n), rng.uniform(w, e)


async def citizen_activity(
    client: httpx.AsyncClient,
    people: list[dict[str, str]],
    walkers: Sequence[Walker],
    stats: CityStats,
    rng: random.Random,
    reports_per_min: float,
    sos_per_min: float,
    stop: asyncio.Event,
) -> None:
    categories = [c["code"] for c in (await client.get("/api/v1/categories")).json()] or list(DESCRIPTIONS)
    while not stop.is_set():
        rate = (reports_per_min + sos_per_min) / 60.0
        if rate <= 0:
            return
        await asyncio.sleep(rng.expovariate(rate))
        me = rng.choice(people)
        lat, lon = _point_near(rng, walkers)
        key = {"Idempotency-Key": uuid.uuid4().hex, "X-Device-Id": f"sim-{id(me) % 10_000}"}
        try:
            if rng.random() < sos_per_min / (reports_per_min + sos_per_min):
                r = await client.post(
                    "/api/v1/sos",
                    headers={**me, **key},
                    json={"lat": lat, "lon": lon, "accuracy_m": rng.uniform(5, 30)},
                )
                stats.sos += r.status_code in (200, 201)
            else:
                category = rng.choice(categories)
                r = await client.post(
                    "/api/v1/reports",
                    headers={**me, **key},
                    json={
                        "category": category,
                        "description": DESCRIPTIONS.get(category, "Ada kejadian"),
                        "lat": lat,
                        "lon": lon,
                        "reporter_lat": lat + rng.uniform(-0.0005, 0.0005),
                        "reporter_lon": lon + rng.uniform(-0.0005, 0.0005),
                    },
                )
                stats.reports += r.status_code == 201
            if r.status_code >= 400:
                stats.error(f"citizen {r.status_code}: {r.text[:120]}")
        except httpx.HTTPError as exc:
            stats.error(f"citizen: {exc}")


async def _police_responsible(
    client: httpx.AsyncClient, headers: dict[str, str], inc: dict[str, Any]
) -> bool:
    """Whether the routing decision makes a police unit responsible (SOS and categories the region does
    not route elsewhere are the police's)."""
    if inc.get("category") in ("sos", "officer_sos"):
        return True
    r = await client.get(
        "/api/v1/route",
        headers=headers,
        params={"category": inc["category"], "lat": inc["lat"], "lon": inc["lon"]},
    )
    if r.status_code != 200:
        return True
    responsible = r.json().get("responsible", [])
    return not responsible or any(t.get("kind") == "police_unit" for t in responsible)


async def duty_operator(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    stream_officers: set[int],
    stats: CityStats,
    stop: asyncio.Event,
    delay_s: float = 15.0,
    every_s: float = 5.0,
) -> None:
    """Verifies waiting reports and routes each waiting incident as a duty operator would: forwarded to
    the agencies its category is routed to (GET /route), and given to the nearest officer whose phone is on
    the socket only when the police is responsible for it (a fallen tree is DLH's, a power failure PLN's),
    one more officer a round while it is short of the units its response plan needs.
    The other phones would answer too, from the phone app; the simulator only drives socket phones."""
    seen: dict[int, float] = {}
    routed: dict[int, bool] = {}  # incident -> whether the police is responsible
    offered: dict[int, set[int]] = {}  # incident -> officers it went to (a second unit is someone else)
    while not stop.is_set():
        await asyncio.sleep(every_s)
        now = time.monotonic()
        try:
            queue = (
                await client.get("/api/v1/reports", params={"status": "received"}, headers=headers)
            ).json()
            for rep in queue if isinstance(queue, list) else queue.get("items", []):
                if now - seen.setdefault(-rep["id"], now) >= delay_s:
                    r = await client.post(f"/api/v1/reports/{rep['id']}/verify", headers=headers, json={})
                    stats.verified += r.status_code == 200
            body = (await client.get("/api/v1/incidents", params={"status": "open"}, headers=headers)).json()
            for inc in body.get("items", body) if isinstance(body, dict) else body:
                if now - seen.setdefault(inc["id"], now) < delay_s or inc.get("lat") is None:
                    continue
                if inc.get("status") not in ("new", "verified") and not inc.get("shortfall"):
                    continue  # it has its units
                if inc["id"] not in routed:
                    routed[inc["id"]] = await _police_responsible(client, headers, inc)
                    r = await client.post(f"/api/v1/incidents/{inc['id']}/forwards", headers=headers)
                    stats.forwarded += r.status_code == 201
                if not routed[inc["id"]] or inc.get("units_needed") == 0 or inc.get("shortfall") == 0:
                    continue  # the agencies handle it (no police unit), or its units are on the way
                near = (
                    await client.get(
                        "/api/v1/responders/nearest",
                        headers=headers,
                        params={"lat": inc["lat"], "lon": inc["lon"], "k": 20},
                    )
                ).json()["items"]
                tried = offered.setdefault(inc["id"], set())
                pick = next(
                    (
                        c["officer_id"]
                        for c in near
                        if c["officer_id"] in stream_officers and c["officer_id"] not in tried
                    ),
                    None,
                )
                if pick is not None:
                    tried.add(pick)
                    await client.post(
                        f"/api/v1/incidents/{inc['id']}/dispatch", headers=headers, json={"officer_id": pick}
                    )
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            stats.error(f"operator: {exc}")


async def run_city(
    base_url: str,
    walkers: Sequence[Walker],
    stream_officers: set[int],
    stats: CityStats,
    stop: asyncio.Event,
    *,
    citizens_n: int = 30,
    reports_per_min: float = 6.0,
    sos_per_min: float = 1.0,
    auto_dispatch: bool = True,
    seed: int = 5,
    log: Callable[[str], None] = print,
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        people = await citizens(client, citizens_n, seed)
        tasks = [
            asyncio.create_task(
                citizen_activity(client, people, walkers, stats, rng, reports_per_min, sos_per_min, stop)
            )
        ]
        if auto_dispatch:
            operator = await _login(client, "dispatcher", "jogo-demo")
            tasks.append(asyncio.create_task(duty_operator(client, operator, stream_officers, stats, stop)))
        log(
            f"city: {len(people)} citizens, {reports_per_min:g} reports/min, {sos_per_min:g} SOS/min, "
            f"auto-dispatch {'on' if auto_dispatch else 'off'}"
        )
        try:
            await stop.wait()
        finally:
            for t in tasks:
                t.cancel()


async def simulate(
    base_url: str,
    walkers: list[Walker],
    *,
    mix: dict[str, float],
    interval_s: float,
    duration_s: float | None,
    citizens_n: int = 30,
    reports_per_min: float = 6.0,
    sos_per_min: float = 1.0,
    auto_dispatch: bool = True,
    log: Callable[[str], None] = print,
) -> CityStats:
    """Officers patrolling (sim.officers) plus the city around them, until ``duration_s`` or Ctrl-C."""
    from jogo_dispatch.devtools.sim.officers import assign_protocols, stream_positions

    stats = CityStats()
    stop = asyncio.Event()
    stream_officers = {
        wk.officer.officer_id
        for wk, p in zip(walkers, assign_protocols(walkers, mix), strict=True)
        if p == "ws"
    }
    responders = Responders(stats, random.Random(3))

    async def report() -> None:
        while not stop.is_set():
            await asyncio.sleep(10)
            log(stats.line() + (f" (last: {stats.recent_errors[-1]})" if stats.recent_errors else ""))

    city = asyncio.create_task(
        run_city(
            base_url,
            walkers,
            stream_officers,
            stats,
            stop,
            citizens_n=citizens_n,
            reports_per_min=reports_per_min,
            sos_per_min=sos_per_min,
            auto_dispatch=auto_dispatch,
            log=log,
        )
    )
    reporter = asyncio.create_task(report())
    try:
        await stream_positions(
            base_url,
            walkers,
            interval_s=interval_s,
            duration_s=duration_s,
            mix=mix,
            log=log,
            stop=stop,
            on_officer_message=responders.on_message,
        )
    finally:
        stop.set()
        reporter.cancel()
        await asyncio.gather(city, return_exceptions=True)
    return stats
