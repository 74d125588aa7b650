"""Attributes nested deep in OsmAnd JSON and OwnTracks bodies: never a 500 or a RecursionError, and a fix
with a too-deep attribute is stored without it, beside the good fixes of the same request."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from jogo_dispatch.tracking.phones import MAX_ATTRIBUTE_DEPTH
from tests.tracking.test_phones_api import basic, stored


def nested(depth: int, kind: str = "dict") -> Any:
    """A value ``depth`` containers deep."""
    value: Any = "bottom\x00"
    for _ in range(depth):
        value = {"a": value} if kind == "dict" else [value]
    return value


def deep_body(depth: int, kind: str) -> bytes:
    """Built by hand: orjson.dumps refuses to write more than 255 levels."""
    opened, closed = ('{"a":', "}") if kind == "dict" else ("[", "]")
    return (opened * depth + '"x"' + closed * depth).encode()


@pytest.mark.parametrize("depth", [254, 600, 1000])
@pytest.mark.parametrize("kind", ["dict", "list"])
async def test_osmand_json_with_deep_attributes_keeps_the_fixes(client, actors, database_url, depth, kind):
    oid, _ = await actors.officer(device_id="deep-1")
    t = int(time.time())
    deep = deep_body(depth, kind).decode()
    body = (
        '{"device_id":"deep-1","location":['
        f'{{"timestamp":{orjson.dumps(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t - 20))).decode()},'
        '"coords":{"latitude":-7.97,"longitude":112.63},"odometer":1},'
        f'{{"timestamp":{orjson.dumps(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t - 10))).decode()},'
        f'"coords":{{"latitude":-7.9701,"longitude":112.6301}},"deep":{deep},"odometer":2,'
        f'"extras":{{"deeper":{deep},"ok":{{"b":[1,2]}}}}}}]}}'
    )
    r = await client.post("/osmand", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    rows = await stored(database_url, oid)
    assert [row[6]["odometer"] for row in rows] == [1, 2]
    assert "deep" not in rows[1][6] and "deeper" not in rows[1][6]
    assert rows[1][6]["ok"] == {"b": [1, 2]}


async def test_osmand_flat_array_with_a_deep_attribute(client, actors, database_url):
    oid, _ = await actors.officer(device_id="deep-2")
    t = int(time.time())
    deep = deep_body(254, "dict").decode()
    body = (
        f'[{{"id":"deep-2","lat":-7.97,"lon":112.63,"timestamp":{t - 20},"hdop":1}},'
        f'{{"id":"deep-2","lat":-7.9701,"lon":112.6301,"timestamp":{t - 10},"x":{deep},"hdop":2}}]'
    )
    r = await client.post("/osmand", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert [row[6].get("hdop") for row in await stored(database_url, oid)] == [1, 2]


@pytest.mark.parametrize("depth", [1025, 1500])
async def test_json_deeper_than_the_parser_takes_is_a_400(client, actors, depth):
    await actors.officer(device_id="deep-3")
    r = await client.post(
        "/osmand", content=deep_body(depth, "list"), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json", r.text


@pytest.mark.parametrize("depth", [254, 1000, 1500])
async def test_owntracks_with_deep_attributes(client, actors, database_url, depth):
    oid, _ = await actors.officer(device_id="B0001/pixel")
    deep = deep_body(depth, "dict").decode()
    body = (
        f'{{"_type":"location","lat":-7.9655,"lon":112.6311,"tst":{int(time.time()) - 2},'
        f'"tid":"px","inregions":{deep}}}'
    )
    headers = {
        **basic("B0001", "secret-pw"),
        "X-Limit-U": "B0001",
        "X-Limit-D": "pixel",
        "Content-Type": "application/json",
    }
    r = await client.post("/owntracks", content=body, headers=headers)
    if depth > 1024:
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json", r.text
        return
    assert r.status_code == 200 and r.json() == [], r.text
    [row] = await stored(database_url, oid)
    assert row[6]["tid"] == "px" and "inregions" not in row[6]


async def test_attributes_up_to_the_depth_limit_are_kept(client, actors, database_url):
    oid, _ = await actors.officer(device_id="deep-4")
    t = int(time.time())
    body = [
        {
            "id": "deep-4",
            "lat": -7.97,
            "lon": 112.63,
            "timestamp": t - 10,
            "kept": nested(MAX_ATTRIBUTE_DEPTH),
        },
        {
            "id": "deep-4",
            "lat": -7.9701,
            "lon": 112.6301,
            "timestamp": t - 5,
            "cut": nested(MAX_ATTRIBUTE_DEPTH + 1),
        },
    ]
    r = await client.post("/osmand", json=body)
    assert r.status_code == 200, r.text
    first, second = (row[6] for row in await stored(database_url, oid))
    assert first["kept"] == orjson.loads(orjson.dumps(nested(MAX_ATTRIBUTE_DEPTH)).replace(b"\\u0000", b""))
    assert "cut" not in second
