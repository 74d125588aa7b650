from __future__ import annotations


async def test_health_ready_metrics_and_docs(client, actors):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "migrations": "ok", "writer": "ok"}
    _, h = await actors.officer()
    await client.post("/api/v1/pings", headers=h, json={"lat": -7.97, "lon": 112.63, "recorded_at": 1})
    metrics = (await client.get("/metrics")).text
    assert "jogo_http_requests_total" in metrics
    assert 'jogo_pings_rejected_total{reason="too_old"}' in metrics
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "jogo-dispatch"
    assert (await client.get("/docs")).status_code == 200


async def test_unknown_route_has_the_error_shape(client):
    r = await client.get("/api/v1/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "http_404"


async def test_every_answer_says_nosniff(client):
    for path in ("/healthz", "/api/v1/nope", "/map", "/static/live/map.css"):
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
