"""What schemathesis found: query parameters and bodies whose schema was looser (or stricter) than what the
server took, 405 answers whose ``Allow`` missed methods of the path, and an undeclared 200."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.forwards.conftest import make_incident, seeded  # noqa: F401, F811  (fixture)
from tests.security.test_fuzz import SCHEMA

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _validation_error(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error" and any(d["loc"][-1] == field for d in error["details"]), error


def _allowed(r: Any) -> set[str]:
    return {m.strip() for m in r.headers["allow"].split(",")}


@pytest.mark.parametrize("path", sorted(SCHEMA["paths"]))
async def test_405_names_every_method_of_the_path(client, path):
    declared = {m.upper() for m in SCHEMA["paths"][path]} & set(METHODS)
    missing = [m for m in METHODS if m not in declared]
    if not missing:
        pytest.skip("every method is declared")
    url = re.sub(r"\{[^}]+\}", "1", path)
    r = await client.request(missing[0], url)
    assert r.status_code == 405, (missing[0], url, r.status_code)
    assert _allowed(r) >= declared, (url, r.headers["allow"])


async def test_405_of_routes_sharing_a_path(client):
    r = await client.delete("/osmand")
    assert r.status_code == 405 and _allowed(r) == {"GET", "POST", "PUT"}
    r = await client.patch("/api/v1/incidents/1/forwards")
    assert r.status_code == 405 and _allowed(r) == {"GET", "POST"}
    r = await client.put("/open311/v2/requests.json")
    assert r.status_code == 405 and _allowed(r) == {"GET", "POST"}
    assert r.json() == [{"code": 405, "description": "Method Not Allowed"}]


async def test_incident_status_filter_is_in_the_schema(client, actors):
    (param,) = [p for p in SCHEMA["paths"]["/api/v1/incidents"]["get"]["parameters"] if p["name"] == "status"]
    pattern = next(s["pattern"] for s in param["schema"]["anyOf"] if s.get("type") == "string")
    dispatcher = await actors.user("dispatcher")
    for good in ["open", "all", "new", "cancelled,new", "verified, dispatched"]:
        assert re.fullmatch(pattern, good), good
        r = await client.get("/api/v1/incidents", headers=dispatcher, params={"status": good})
        assert r.status_code == 200, (good, r.text)
    for bad in ["", "open,x", "pending", "open,new", "new,", "NEW"]:
        assert not re.fullmatch(pattern, bad), bad
        _validation_error(
            await client.get("/api/v1/incidents", headers=dispatcher, params={"status": bad}), "status"
        )


async def test_bbox_is_in_the_schema(client, actors):
    (param,) = SCHEMA["paths"]["/api/v1/positions"]["get"]["parameters"]
    assert param["name"] == "bbox" and "pattern" in param["schema"]
    dispatcher = await actors.user("dispatcher")
    for good in ["112.5,-8.1,112.7,-7.9", "-180,-90,180,90", "0,0,0,0", "-180.0,-90.000,180,90.0"]:
        r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": good})
        assert r.status_code == 200, (good, r.text)
    for bad in ["1,2,3", "180.1,0,181,1", "0,-91,1,1", "1e2,0,1,1", "١,٢,٣,٤", "nan,0,1,1", " 1,2,3,4"]:
        _validation_error(
            await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": bad}), "bbox"
        )
    # The order is what a pattern cannot say.
    r = await client.get("/api/v1/positions", headers=dispatcher, params={"bbox": "112.7,-8.1,112.5,-7.9"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_bbox"


@pytest.mark.parametrize("path", ["/api/v1/stats", "/api/v1/officers/{oid}/track"])
async def test_since_and_until_take_rfc3339_only_and_never_overflow(client, actors, path):
    dispatcher = await actors.user("dispatcher")
    oid, _ = await actors.officer()
    url = path.format(oid=oid)
    for bad in ["1700000000", "0", "2026-01-01", "2026-01-01T00:00", "２０２６-01-01T00:00:00Z"]:
        _validation_error(await client.get(url, headers=dispatcher, params={"until": bad}), "until")
    for params in [
        {"until": "0001-01-01T00:00:00+05:00"},
        {"since": "0001-01-01T00:00:00+05:00", "until": "0001-01-02T00:00:00+05:00"},
        {"since": "9999-12-31T00:00:00-05:00", "until": "9999-12-31T23:59:59-05:00"},
    ]:
        r = await client.get(url, headers=dispatcher, params=params)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_time_range", (params, r.text)
    r = await client.get(
        url,
        headers=dispatcher,
        params={"since": "2026-01-01T00:00:00+07:00", "until": "2026-01-02 00:00:00Z"},
    )
    assert r.status_code == 200, r.text


async def test_batch_apply_is_a_boolean(client, actors):
    dispatcher = await actors.user("dispatcher")
    for bad in ["true", 1, "yes", 0, None]:
        r = await client.post("/api/v1/dispatch/batch", headers=dispatcher, json={"apply": bad})
        _validation_error(r, "apply")
    r = await client.post("/api/v1/dispatch/batch", headers=dispatcher, json={"apply": False})
    assert r.status_code == 200 and r.json()["applied"] is False, r.text


async def test_a_repeated_forward_answers_a_declared_200(app, client, actors, seeded):  # noqa: F811
    responses = SCHEMA["paths"]["/api/v1/incidents/{incident_id}/forwards"]["post"]["responses"]
    assert set(responses) >= {"200", "201"}
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ForwardingOut"
    }
    dispatcher = await actors.user("dispatcher")
    incident_id = await make_incident(app)
    first = await client.post(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)
    again = await client.post(f"/api/v1/incidents/{incident_id}/forwards", headers=dispatcher)
    assert (first.status_code, again.status_code) == (201, 200)
    assert set(again.json()) == set(first.json())
