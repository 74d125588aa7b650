"""The simulated duty operator routes as a person would: a fallen tree goes to DLH with no police unit, a
road crash is forwarded and offered to the nearest officer."""

from __future__ import annotations

import asyncio

from jogo_dispatch.devtools.sim.city import CityStats, duty_operator
from tests.forwards.conftest import MALANG, make_incident, rows, wait_for
from tests.reports.helpers import place


async def test_the_operator_forwards_agency_work_and_dispatches_police_work(
    app, client, actors, seeded, database_url
):
    dispatcher = await actors.user("dispatcher")
    oid, officer = await actors.officer()
    await place(client, officer, *MALANG)
    tree = await make_incident(app, "fallen_tree", description="Pohon tumbang menutup jalan")
    crash = await make_incident(app, "traffic_accident", priority=2, lat=MALANG[0] + 0.001)
    stop = asyncio.Event()
    stats = CityStats()
    task = asyncio.create_task(duty_operator(client, dispatcher, {oid}, stats, stop, delay_s=0, every_s=0.05))

    async def offered():
        return await rows(database_url, "SELECT incident_id, officer_id FROM offers")

    try:
        assert await wait_for(offered) == [(crash, oid)]
        await asyncio.sleep(0.3)  # more rounds: still no unit for the tree
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert await offered() == [(crash, oid)]
    forwarded = await rows(
        database_url,
        "SELECT f.incident_id, a.code FROM forwards f JOIN agencies a ON a.id = f.agency_id ORDER BY 1, 2",
    )
    assert (tree, "DLH") in forwarded and (crash, "SATLANTAS") in forwarded
    assert stats.errors == 0, stats.recent_errors
