"""KPIs from the stored CAD timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tests.reports.helpers import citizen, execute, verified_incident

T0 = datetime(2026, 11, 1, tzinfo=UTC)
# category, sector, seconds to verify / to dispatch / to scene (None: not reached), status
PLAN = [
    ("traffic_accident", "Polsek Klojen", 10, 60, 300, "resolved"),
    ("traffic_accident", "Polsek Klojen", 20, 90, 500, "on_scene"),
    ("crime", "Polsek Blimbing", 30, 200, None, "dispatched"),
    ("fire", None, 40, None, None, "verified"),
    ("medical", "Polsek Lowokwaru", 50, None, None, "cancelled"),
]


async def test_counts_and_percentiles_over_a_window(client, actors, database_url):
    _, me = await citizen(client)
    dispatcher = await actors.user("dispatcher")
    for n, (category, sector, verify, dispatch, scene, status) in enumerate(PLAN):
        incident = await verified_incident(
            client, me, dispatcher, category=category, description=category, lat=-7.9 - n * 0.01, lon=112.6
        )
        received = T0 + timedelta(hours=n)
        verified, dispatched, on_scene = (
            None if s is None else received + timedelta(seconds=s) for s in (verify, dispatch, scene)
        )
        await execute(
            database_url,
            "UPDATE incidents SET received_at = %s, verified_at = %s, "
            "dispatched_at = %s, on_scene_at = %s, status = %s, sector = %s WHERE id = %s",
            received,
            verified,
            dispatched,
            on_scene,
            status,
            sector,
            incident,
        )
    # outside the window, and one merged away: neither counts
    early = await verified_incident(
        client, me, dispatcher, category="other", description="old", lat=-8.1, lon=112.6
    )
    await execute(
        database_url, "UPDATE incidents SET received_at = %s WHERE id = %s", T0 - timedelta(days=1), early
    )
    merged = await verified_incident(
        client, me, dispatcher, category="fallen_tree", description="x", lat=-8.2, lon=112.6
    )
    await execute(
        database_url,
        "UPDATE incidents SET received_at = %s, merged_into_id = %s, status = 'cancelled' WHERE id = %s",
        T0,
        early,
        merged,
    )

    r = await client.get(
        "/api/v1/stats",
        headers=dispatcher,
        params={"since": T0.isoformat(), "until": (T0 + timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["incidents"] == 5
    assert stats["by_category"] == {"crime": 1, "fire": 1, "medical": 1, "traffic_accident": 2}
    assert stats["by_status"] == {
        "cancelled": 1,
        "dispatched": 1,
        "on_scene": 1,
        "resolved": 1,
        "verified": 1,
    }
    assert stats["by_sector"] == {
        "Polsek Blimbing": 1,
        "Polsek Klojen": 2,
        "Polsek Lowokwaru": 1,
        "unknown": 1,
    }
    for key, column in (("to_verify", 2), ("to_dispatch", 3), ("to_scene", 4)):
        values = [p[column] for p in PLAN if p[column] is not None]
        median, p90 = np.percentile(values, [50, 90])  # linear interpolation, as percentile_cont
        assert stats["times"][key]["n"] == len(values)
        assert stats["times"][key]["median_s"] == pytest.approx(median)
        assert stats["times"][key]["p90_s"] == pytest.approx(p90)
    assert stats["reports_by_status"] == {}  # the reports were filed now, outside the window


async def test_stats_input_and_roles(client, actors):
    dispatcher = await actors.user("dispatcher")
    empty = (await client.get("/api/v1/stats", headers=dispatcher)).json()
    assert empty["incidents"] == 0 and empty["times"]["to_scene"] == {"n": 0, "median_s": None, "p90_s": None}
    since = datetime.fromisoformat(empty["since"])
    assert datetime.fromisoformat(empty["until"]) - since == timedelta(days=7)
    for params in (
        {"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
        {"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2026-11-01T00:00:00"},
    ):
        r = await client.get("/api/v1/stats", headers=dispatcher, params=params)
        assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_time_range"), params
    r = await client.get("/api/v1/stats", headers=dispatcher, params={"since": "yesterday"})
    assert r.status_code == 422
    assert (await client.get("/api/v1/stats", headers=await actors.user("agency"))).status_code == 403
    assert (await client.get("/api/v1/stats")).status_code == 401
