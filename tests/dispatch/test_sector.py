"""Incidents carry the police sector (Polsek) of their position, and the KPIs count by it."""

from __future__ import annotations

from tests.agencies.conftest import seed
from tests.reports.helpers import citizen, rows


async def test_incidents_get_their_police_sector_and_stats_count_by_it(app, client, actors, database_url):
    await seed(app, "malang")
    dispatcher = await actors.user("dispatcher")
    _, me = await citizen(client)
    r = await client.post("/api/v1/sos", headers=me, json={"lat": -7.9826, "lon": 112.6308, "accuracy_m": 8})
    assert r.status_code == 201, r.text  # Alun-Alun Malang
    far = await client.post(
        "/api/v1/sos", headers=(await citizen(client))[1], json={"lat": -7.70, "lon": 112.90, "accuracy_m": 8}
    )  # outside every sector
    assert far.status_code == 201
    sectors = await rows(database_url, "SELECT sector FROM incidents ORDER BY id")
    assert sectors[0] == ("Klojen",)
    assert sectors[1][0] in {"Blimbing", "Kedungkandang", "Lowokwaru", "Sukun", "Klojen"}  # the nearest one
    stats = (await client.get("/api/v1/stats", headers=dispatcher)).json()
    assert stats["by_sector"].get("Klojen", 0) >= 1 and sum(stats["by_sector"].values()) == 2


async def test_no_region_loaded_means_no_sector(client, database_url):
    _, me = await citizen(client)
    r = await client.post("/api/v1/sos", headers=me, json={"lat": -7.9826, "lon": 112.6308, "accuracy_m": 8})
    assert r.status_code == 201
    assert await rows(database_url, "SELECT sector FROM incidents") == [(None,)]
