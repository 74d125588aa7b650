"""Presence has three states (issue 15): online; stale once the last fix is older than JOGO_STALE_AFTER_S
(still dispatched); offline once the phone reported nothing, no fix and no heartbeat, for longer than
JOGO_OFFLINE_AFTER_S. Every view of an officer says ``presence`` and ``position_age_s`` (the fix's age)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from jogo_dispatch.platform.events import OfficerPresence, PositionsMoved
from jogo_dispatch.tracking import presence

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HOME = (-7.9666, 112.6326)


def ago(seconds: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds)


async def ping(client, headers, at: datetime, lat: float = HOME[0], lon: float = HOME[1]) -> None:
    r = await client.post(
        "/api/v1/pings", headers=headers, json={"lat": lat, "lon": lon, "recorded_at": at.isoformat()}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


async def osmand(client, body: str) -> None:
    r = await client.post("/osmand", content=body, headers=FORM)
    assert r.status_code == 200, r.text


async def heartbeat(client, device: str, at: datetime) -> None:
    """Traccar Client 10.x without a fix: id, timestamp and battery only."""
    await osmand(client, f"id={device}&timestamp={int(at.timestamp())}&batt=64")


async def officers(client, dispatcher) -> dict[int, dict[str, Any]]:
    r = await client.get("/api/v1/officers", headers=dispatcher)
    assert r.status_code == 200
    return {o["id"]: o for o in r.json()}


async def nearest(client, dispatcher, method: str = "index", **params: Any) -> dict[str, Any]:
    r = await client.get(
        "/api/v1/responders/nearest",
        headers=dispatcher,
        params={"lat": HOME[0], "lon": HOME[1], "k": 10, "method": method, **params},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_officers_are_online_stale_or_offline_in_the_list_and_one_by_one(app, client, actors):
    rt = app.state.runtime
    stale_after, offline_after = rt.settings.stale_after_s, rt.settings.offline_after_s
    dispatcher = await actors.user("dispatcher")
    fresh, hf = await actors.officer("car")
    stale, hs = await actors.officer("motorbike")
    gone, hg = await actors.officer("foot")
    never, _ = await actors.officer("foot")
    await ping(client, hf, ago(5))
    await ping(client, hs, ago(stale_after + 180))  # Traccar Client's default: a fix every 300 s
    await ping(client, hg, ago(offline_after + 60))
    listed = await officers(client, dispatcher)
    want = {
        fresh: ("online", True),
        stale: ("stale", True),
        gone: ("offline", False),
        never: ("offline", False),
    }
    assert {oid: (listed[oid]["presence"], listed[oid]["online"]) for oid in want} == want
    assert listed[fresh]["position_age_s"] == pytest.approx(5, abs=3)
    assert listed[stale]["position_age_s"] == pytest.approx(stale_after + 180, abs=3)
    assert listed[gone]["position_age_s"] == pytest.approx(offline_after + 60, abs=3)
    assert listed[never]["position_age_s"] is None and listed[never]["lat"] is None
    for oid in want:
        r = await client.get(f"/api/v1/officers/{oid}", headers=dispatcher)
        assert r.status_code == 200
        one = r.json()
        # the same view as the list (its ages a moment later)
        assert {k: v for k, v in one.items() if k != "position_age_s"} == {
            k: v for k, v in listed[oid].items() if k != "position_age_s"
        }
    # ?q= finds the same view
    r = await client.get("/api/v1/officers", headers=dispatcher, params={"q": listed[stale]["badge"]})
    assert [(o["id"], o["presence"]) for o in r.json()][:1] == [(stale, "stale")]
    # and so do the positions of a box
    r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": "112.5,-8.1,112.8,-7.8"})
    props = {f["id"]: f["properties"] for f in r.json()["features"]}
    assert {oid: props[oid]["presence"] for oid in (fresh, stale, gone)} == {
        fresh: "online",
        stale: "stale",
        gone: "offline",
    }
    assert props[stale]["position_age_s"] == pytest.approx(stale_after + 180, abs=3)


async def test_one_officer_is_404_when_absent_and_the_admin_pages_still_route(client, actors):
    dispatcher = await actors.user("dispatcher")
    admin = await actors.user("admin")
    r = await client.get("/api/v1/officers/987654", headers=dispatcher)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.get("/api/v1/officers/0", headers=dispatcher)
    assert r.status_code == 422
    # /officers/roster and /officers/export.csv are the admin console's, not an officer id
    r = await client.get("/api/v1/officers/roster", headers=admin)
    assert r.status_code == 200 and "items" in r.json()
    r = await client.get("/api/v1/officers/export.csv", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")


async def test_a_heartbeat_keeps_an_officer_dispatchable_with_the_age_of_its_fix(
    app, client, actors, database_url
):
    rt = app.state.runtime
    offline_after = rt.settings.offline_after_s
    dispatcher = await actors.user("dispatcher")
    oid, _ = await actors.officer("car", device_id="77001")
    fixed = ago(offline_after + 120)
    await osmand(
        client, f"id=77001&lat={HOME[0]}&lon={HOME[1]}&timestamp={int(fixed.timestamp())}&accuracy=5&batt=80"
    )
    assert (await officers(client, dispatcher))[oid]["presence"] == "offline"
    for method in ("index", "postgis"):
        body = await nearest(client, dispatcher, method)
        assert oid not in [c["officer_id"] for c in body["items"]], method

    await heartbeat(client, "77001", ago(2))
    assert (oid, True) in await presence.sweep(rt)  # the monitor: dispatchable again (stale)
    me = (await client.get(f"/api/v1/officers/{oid}", headers=dispatcher)).json()
    assert (me["presence"], me["online"], me["battery_pct"]) == ("stale", True, 64)
    assert me["position_age_s"] == pytest.approx(
        offline_after + 120, abs=3
    )  # the fix's age, not the heartbeat's
    for method in ("index", "postgis"):
        body = await nearest(client, dispatcher, method)
        [found] = [c for c in body["items"] if c["officer_id"] == oid]
        assert found["stale"] is True, method
        assert found["position_age_s"] == pytest.approx(offline_after + 120, abs=3), method
        assert datetime.fromisoformat(found["last_seen"]) == fixed, method
        assert (found["can_offer"], found["channel"]) == (False, "osmand"), method  # a tracker app: by radio
    # batch assignment counts it among the available officers too
    call = {"category": "crime", "lat": HOME[0], "lon": HOME[1], "source": "phone"}
    assert (await client.post("/api/v1/incidents", headers=dispatcher, json=call)).status_code == 201
    plan = (await client.post("/api/v1/dispatch/batch", headers=dispatcher)).json()
    assert plan["officers"] == 1 and [p["unit_id"] for p in plan["assignments"]] == [oid]
    # a server that starts now (the index rebuilt from the database) knows the heartbeat as well
    from jogo_dispatch.responders import service as responders

    index = responders.make_index(rt.settings)
    async with rt.sessions() as session:
        await responders.rebuild(index, session)
    found = responders.search(index, rt.settings, HOME[0], HOME[1], 5, None, None).candidates
    assert [(c.officer_id, c.last_seen) for c in found] == [(oid, fixed)]
    # the heartbeats stop: offline, out of every search
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await time_passes(conn, oid, offline_after)
    assert (oid, False) in await presence.sweep(rt)
    for method in ("index", "postgis"):
        assert oid not in [c["officer_id"] for c in (await nearest(client, dispatcher, method))["items"]]
    assert (await officers(client, dispatcher))[oid]["presence"] == "offline"


async def test_a_new_fix_after_heartbeats_is_online_and_an_old_heartbeat_does_not_revive(app, client, actors):
    rt = app.state.runtime
    offline_after = rt.settings.offline_after_s
    dispatcher = await actors.user("dispatcher")
    oid, _ = await actors.officer("car", device_id="77002")
    fixed = ago(offline_after + 300)
    await osmand(client, f"id=77002&lat={HOME[0]}&lon={HOME[1]}&timestamp={int(fixed.timestamp())}")
    await heartbeat(client, "77002", ago(offline_after + 30))  # later than the fix, but too old itself
    assert await presence.sweep(rt) == []
    assert (await officers(client, dispatcher))[oid]["presence"] == "offline"
    for method in ("index", "postgis"):
        assert oid not in [c["officer_id"] for c in (await nearest(client, dispatcher, method))["items"]]
    now = ago(1)
    await osmand(client, f"id=77002&lat={HOME[0] + 0.001}&lon={HOME[1]}&timestamp={int(now.timestamp())}")
    me = (await client.get(f"/api/v1/officers/{oid}", headers=dispatcher)).json()
    assert me["presence"] == "online" and me["position_age_s"] < 10
    [found] = [c for c in (await nearest(client, dispatcher))["items"] if c["officer_id"] == oid]
    assert found["stale"] is False and datetime.fromisoformat(found["last_seen"]) == now


async def time_passes(conn: Any, officer_id: int, seconds: float) -> None:
    """As if ``seconds`` went by: every stored time of the officer moves back."""
    await conn.execute(
        "UPDATE officer_positions SET recorded_at = recorded_at - make_interval(secs => %s), "
        "seen_at = seen_at - make_interval(secs => %s) WHERE officer_id = %s",
        (seconds, seconds, officer_id),
    )
    await conn.execute(
        "UPDATE officers SET presence_changed_at = presence_changed_at - make_interval(secs => %s) WHERE id = %s",
        (seconds, officer_id),
    )


async def test_the_monitor_records_and_publishes_stale_and_offline(app, client, actors, database_url):
    rt = app.state.runtime
    stale_after, offline_after = rt.settings.stale_after_s, rt.settings.offline_after_s
    oid, headers = await actors.officer("car")
    seen: list[OfficerPresence] = []
    rt.bus.on(OfficerPresence, seen.append)
    await ping(client, headers, ago(1))
    assert (oid, True) in await presence.sweep(rt)
    assert [(e.officer_id, e.presence, e.online) for e in seen] == [(oid, "online", True)]
    assert await presence.sweep(rt) == []  # nothing changed

    # the same officer, its fix now older than stale: the store says so (as time passing would)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await time_passes(conn, oid, stale_after + 30)
    assert (oid, True) in await presence.sweep(rt)
    assert (seen[-1].presence, seen[-1].online) == ("stale", True)
    assert seen[-1].position_age_s == pytest.approx(stale_after + 31, abs=3)
    assert await presence.sweep(rt) == []  # stale once, not every round
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await time_passes(conn, oid, offline_after)
    assert (oid, False) in await presence.sweep(rt)
    assert (seen[-1].presence, seen[-1].online) == ("offline", False)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        kinds = await (
            await conn.execute("SELECT kind FROM officer_events WHERE officer_id = %s ORDER BY id", (oid,))
        ).fetchall()
    assert [k for (k,) in kinds] == ["online", "stale", "offline"]

    # a fix again: online, and stale again once that fix is old
    await ping(client, headers, ago(stale_after + 10))
    assert (oid, True) in await presence.sweep(rt)
    assert seen[-1].presence == "stale"  # dispatchable again, at a position already old


async def test_live_position_events_say_presence_and_the_age_of_the_fix(app, client, actors):
    rt = app.state.runtime
    moved: list[dict[str, Any]] = []
    rt.bus.on(PositionsMoved, lambda e: moved.extend(e.positions))
    oid, _ = await actors.officer("car", device_id="77003")
    old = ago(600)
    await osmand(client, f"id=77003&lat={HOME[0]}&lon={HOME[1]}&timestamp={int(old.timestamp())}")
    [p] = [p for p in moved if p["officer_id"] == oid]
    assert (p["presence"], p["online"]) == ("stale", True) and p["position_age_s"] == pytest.approx(
        600, abs=3
    )
    moved.clear()
    # a heartbeat: the map hears the officer is there, at the old fix's place and age
    await heartbeat(client, "77003", ago(1))
    [p] = [p for p in moved if p["officer_id"] == oid]
    assert (p["presence"], p["online"], p["battery_pct"]) == ("stale", True, 64)
    assert p["position_age_s"] == pytest.approx(600, abs=3) and p["recorded_at"] == old.isoformat()
    moved.clear()
    await osmand(client, f"id=77003&lat={HOME[0]}&lon={HOME[1]}&timestamp={int(ago(1).timestamp())}")
    [p] = [p for p in moved if p["officer_id"] == oid]
    assert p["presence"] == "online" and p["position_age_s"] < 5


def test_a_viewport_change_replays_the_latest_presence_and_status_not_the_last_fixs():
    from jogo_dispatch.live.hub import LiveHub, Viewport
    from jogo_dispatch.platform.events import EventBus, OfficerStatusChanged

    bus = EventBus()
    hub = LiveHub(bus, coalesce_s=0)
    c = hub.connect()
    c.viewport = Viewport(112.6, -7.4, 112.8, -7.2)  # Surabaya: the Malang officer is not in view
    fix = {"officer_id": 1, "lat": HOME[0], "lon": HOME[1], "status": "available", "unit_type": "car"}
    bus.publish(
        PositionsMoved(positions=[{**fix, "online": True, "presence": "online", "position_age_s": 1.0}])
    )
    bus.publish(OfficerPresence(officer_id=1, online=True, presence="stale", position_age_s=150.0))
    bus.publish(OfficerStatusChanged(officer_id=1, status="busy", previous="available"))
    c.take(1.0)
    c.viewport = Viewport(112.6, -8.0, 112.7, -7.9)
    hub.replay_viewport(c)
    [message] = c.take(2.0)[0]
    [p] = message["positions"]
    assert (p["presence"], p["position_age_s"], p["status"], p["online"]) == ("stale", 150.0, "busy", True)
    assert "previous" not in p and "last_fix" not in p  # only the fields the item has
