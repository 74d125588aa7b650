"""The simulated city's actors, without a server: a dispatched officer drives to the scene and clears it."""

from __future__ import annotations

import asyncio
import random

from jogo_dispatch.devtools.demo import SimOfficer
from jogo_dispatch.devtools.sim.city import CityStats, Responders
from jogo_dispatch.devtools.sim.officers import Walker, assign_protocols, make_walkers, parse_mix
from jogo_dispatch.geo.distance import geodesic_m


def walker(lat: float = -7.98, lon: float = 112.63) -> Walker:
    return Walker(SimOfficer(1, "SIM-0001", "car", "dev", "tok"), lat, lon, 0.0, 9.0, 100.0, random.Random(1))


def test_a_dispatched_walker_drives_straight_to_the_scene_and_stops_there():
    wk = walker()
    wk.target = (-7.97, 112.64)
    start = geodesic_m(wk.lat, wk.lon, *wk.target)
    steps = 0
    while not wk.arrived:
        before = geodesic_m(wk.lat, wk.lon, *wk.target)
        wk.step(3.0)
        assert geodesic_m(wk.lat, wk.lon, *wk.target) < before
        steps += 1
        assert steps < 200
    assert (wk.lat, wk.lon) == wk.target
    assert steps * 3.0 * 9.0 * 1.3 >= start - 25  # never faster than the unit can go


def test_protocol_mix_is_split_by_shares():
    walkers = make_walkers([SimOfficer(i, f"S{i}", "foot", "d", "t") for i in range(100)])
    got = assign_protocols(walkers, parse_mix("http=0.5,ws=0.3,osmand=0.2"))
    assert (got.count("http"), got.count("ws"), got.count("osmand")) == (50, 30, 20)


class FakePhone:
    def __init__(self, wk: Walker) -> None:
        self.walker = wk
        self.sent: list[dict] = []

    async def send_json(self, message: dict) -> None:
        self.sent.append(message)


async def test_officer_accepts_drives_and_reports_progress():
    stats = CityStats()
    responders = Responders(stats, random.Random(0), scene_s=(0.01, 0.02))
    wk = walker()
    phone = FakePhone(wk)
    await responders.on_message(phone, {"type": "offer", "offer_id": 7, "status": "pending"})
    assert phone.sent[-1] == {"type": "offer_accept", "seq": 0, "offer_id": 7}
    await responders.on_message(
        phone, {"type": "offer_accepted", "incident": {"id": 3, "lat": -7.9801, "lon": 112.6301}}
    )
    assert wk.target == (-7.9801, 112.6301)
    wk.step(5.0)  # 15 m away: arrives at once
    for _ in range(100):
        if stats.resolved:
            break
        await asyncio.sleep(0.05)
    kinds = [m.get("status") for m in phone.sent if m["type"] == "incident_status"]
    assert kinds == ["en_route", "on_scene", "resolved"]
    assert wk.target is None and stats.accepted == 1
