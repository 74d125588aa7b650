"""The simulator's officers of issue 15: Traccar Client at its default 300 s that stays dispatchable, an
officer asking for backup from the scene, welfare checks answered and missed, and an incident whose response
plan needs two units getting two."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from jogo_dispatch.devtools.demo import SimOfficer
from jogo_dispatch.devtools.sim.city import CityStats, Responders, duty_operator
from jogo_dispatch.devtools.sim.officers import Walker, phone_apps
from jogo_dispatch.devtools.sim.phones import Counters, Fix, TraccarClientPhone
from tests.forwards.conftest import MALANG, make_incident, rows, wait_for
from tests.reports.helpers import place


def fix_at(at: datetime, lat: float = MALANG[0], lon: float = MALANG[1]) -> Fix:
    return Fix(lat, lon, at, 8.0, 90.0, 5.0, 80.0)


def test_every_other_osmand_phone_is_traccar_client_as_installed():
    assert phone_apps(["http", "osmand", "ws", "osmand", "osmand", "osmand", "owntracks"]) == [
        "http",
        "osmand",
        "ws",
        "traccar",
        "osmand",
        "traccar",
        "owntracks",
    ]


async def test_traccar_client_reports_every_300_s_and_stays_dispatchable(client, actors):
    dispatcher = await actors.user("dispatcher")
    oid, _ = await actors.officer("motorbike", device_id="sim-traccar-1")
    phone = TraccarClientPhone(SimOfficer(oid, "B1", "motorbike", "sim-traccar-1", "t"), client, Counters())
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=290)
    # the simulation moves it every 10 s for almost five minutes: one fix goes out, then none
    for step in range(29):
        await phone.send(fix_at(start + timedelta(seconds=10 * step), MALANG[0] + step * 1e-4))
    assert (phone.counters.sent, phone.counters.by_protocol) == (1, {"traccar": 1})
    near = (
        await client.get(
            "/api/v1/responders/nearest", headers=dispatcher, params={"lat": MALANG[0], "lon": MALANG[1]}
        )
    ).json()["items"]
    [me] = [c for c in near if c["officer_id"] == oid]
    # between its fixes: stale, still offered to the dispatcher, who calls it by radio
    assert me["stale"] is True and me["position_age_s"] >= 280
    assert (me["can_offer"], me["channel"]) == (False, "osmand")
    officer = (await client.get(f"/api/v1/officers/{oid}", headers=dispatcher)).json()
    assert (officer["presence"], officer["online"], officer["lat"]) == ("stale", True, MALANG[0])
    # 300 s after the first: the next fix
    await phone.send(fix_at(start + timedelta(seconds=300)))
    assert phone.counters.acked == 2


class FakePhone:
    def __init__(self, wk: Walker, client: Any = None, token: str = "tok") -> None:
        self.walker = wk
        self.client = client
        self.officer = SimOfficer(wk.officer.officer_id, wk.officer.badge, "car", "dev", token)
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def walker(officer_id: int = 1) -> Walker:
    return Walker(SimOfficer(officer_id, "S1", "car", "d", "t"), *MALANG, 0.0, 9.0, 100.0, random.Random(1))


async def test_welfare_checks_are_answered_and_a_few_missed():
    stats = CityStats()
    answers = Responders(stats, random.Random(0), welfare_miss_share=0.0)
    phone = FakePhone(walker())
    await answers.on_message(phone, {"type": "welfare_check", "offer_id": 9})
    assert phone.sent == [{"type": "welfare_answer", "offer_id": 9, "safe": True}]
    misses = Responders(stats, random.Random(0), welfare_miss_share=1.0)
    await misses.on_message(phone, {"type": "welfare_check", "offer_id": 10})
    assert len(phone.sent) == 1 and (stats.welfare_answered, stats.welfare_missed) == (1, 1)
    # the city's own mix: most answered, a few missed
    city = Responders(CityStats(), random.Random(4))
    for n in range(200):
        await city.on_message(FakePhone(walker()), {"type": "welfare_check", "offer_id": n})
    assert 0 < city.stats.welfare_missed < 40 < city.stats.welfare_answered


async def test_an_officer_on_scene_asks_for_backup_and_the_next_one_gets_an_offer(
    app, client, actors, seeded, database_url
):
    dispatcher = await actors.user("dispatcher")
    first, h1 = await actors.officer("car")
    second, h2 = await actors.officer("motorbike")
    await place(client, h1, *MALANG)
    await place(client, h2, MALANG[0] + 0.002, MALANG[1])
    incident = await make_incident(app, "crime", priority=2, description="Pencurian motor")
    r = await client.post(
        f"/api/v1/incidents/{incident}/dispatch", headers=dispatcher, json={"officer_id": first}
    )
    assert r.status_code == 201, r.text
    assert (await client.post(f"/api/v1/offers/{r.json()['id']}/accept", headers=h1)).status_code == 200
    stats = CityStats()
    responders = Responders(stats, random.Random(0), scene_s=(0.01, 0.02), backup_share=1.0, long_share=0.0)
    wk = walker(first)
    wk.target, wk.arrived = MALANG, True  # there already
    phone = FakePhone(wk, client, h1["Authorization"].removeprefix("Bearer "))
    await responders._handle(phone, wk, incident)  # noqa: SLF001 - the scene's whole course
    assert stats.backup == 1 and stats.errors == 0, stats.recent_errors
    assert [m.get("status") for m in phone.sent] == ["en_route", "on_scene", "resolved"]
    offers = await rows(
        database_url, "SELECT officer_id FROM offers WHERE incident_id = %s ORDER BY id", incident
    )
    assert offers == [(first,), (second,)]
    actions = await rows(
        database_url,
        "SELECT data->>'by_officer' FROM audit_log WHERE entity_type = 'incident' AND action = 'backup_requested'",
    )
    assert actions == [(str(first),)]


async def test_an_incident_whose_plan_needs_two_units_gets_two(app, client, actors, seeded, database_url):
    dispatcher = await actors.user("dispatcher")
    officers = []
    for i in range(3):
        oid, headers = await actors.officer("car")
        await place(client, headers, MALANG[0] + 0.001 * i, MALANG[1])
        officers.append(oid)
    crash = await make_incident(app, "traffic_accident", priority=2, description="Tabrakan, ada korban luka")
    detail = (await client.get(f"/api/v1/incidents/{crash}", headers=dispatcher)).json()
    assert (detail["units_needed"], detail["shortfall"]) == (2, 2)  # the crash-with-injuries run card
    stop = asyncio.Event()
    stats = CityStats()
    task = asyncio.create_task(
        duty_operator(client, dispatcher, set(officers), stats, stop, delay_s=0, every_s=0.05)
    )

    async def two_offered() -> list[tuple[Any, ...]]:
        got = await rows(
            database_url, "SELECT officer_id FROM offers WHERE incident_id = %s ORDER BY id", crash
        )
        return got if len(got) >= 2 else []

    try:
        offered = await wait_for(two_offered)
        await asyncio.sleep(0.3)  # more rounds: no third unit
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert offered == [(officers[0],), (officers[1],)]
    assert await rows(database_url, "SELECT count(*) FROM offers WHERE incident_id = %s", crash) == [(2,)]
    detail = (await client.get(f"/api/v1/incidents/{crash}", headers=dispatcher)).json()
    assert detail["shortfall"] == 0
    assert stats.errors == 0, stats.recent_errors
