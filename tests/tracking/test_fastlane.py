"""The fast lane of POST /api/v1/pings answers exactly as the app does, and hands on what it cannot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from jogo_dispatch.errors import Unavailable

MALANG = (-7.9666, 112.6326)


def lane(outcome: str) -> float:
    return REGISTRY.get_sample_value("jogo_ping_fast_lane_total", {"outcome": outcome}) or 0.0


def pings(n: int, start: datetime, *, escaped: bool = False) -> bytes:
    """``n`` pings as a phone sends them; ``escaped``: the same values with a JSON escape in each time,
    which the fast decoder leaves to the app's general path (the answer must not differ)."""
    items = []
    for k in range(n):
        t = (start + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if escaped:
            t = t.replace("T", "\\u0054")
        items.append(
            f'{{"lat": {MALANG[0] + k * 1e-5}, "lon": {MALANG[1]}, "recorded_at": "{t}", "accuracy_m": 5}}'
        )
    return ("[" + ",".join(items) + "]").encode()


def answer(r: Any) -> tuple[int, Any, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in r.headers.items() if k != "content-length")
    return r.status_code, r.json(), headers


async def post(client: Any, headers: dict[str, str], body: bytes | Any) -> Any:
    return await client.post(
        "/api/v1/pings", headers={**headers, "Content-Type": "application/json"}, content=body
    )


async def test_a_known_officers_batch_is_answered_by_the_lane_as_the_app_answers_it(client, actors):
    _, headers = await actors.officer()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    # A JWT's user is looked up once (by the app), then known from memory.
    first = await post(client, headers, pings(3, start - timedelta(minutes=5), escaped=True))
    assert first.status_code == 200, first.text
    before = lane("answered")
    fast = await post(client, headers, pings(20, start))
    assert lane("answered") == before + 1
    # A resend of the same pings and a too-old one: per-item answers, from both paths.
    resend = pings(20, start)[:-1] + b', {"lat": -7.9, "lon": 112.6, "recorded_at": "2001-01-01T00:00:00Z"}]'
    fast_resend = await post(client, headers, resend)
    assert lane("answered") == before + 2
    general = await post(client, headers, pings(20, start + timedelta(minutes=1), escaped=True))
    general_resend = await post(client, headers, resend.replace(b"T0", b"\\u00540"))
    assert lane("answered") == before + 2
    assert fast.json() == general.json() == {"accepted": 20, "rejected": []}
    assert answer(fast) == answer(general)
    assert fast_resend.json()["accepted"] == 0
    assert fast_resend.json()["rejected"][-1] == {"index": 20, "reason": "too_old"}
    assert answer(fast_resend) == answer(general_resend)
    assert fast.headers["x-content-type-options"] == "nosniff"
    assert int(fast.headers["content-length"]) == len(fast.content)


async def test_a_device_tokens_batch_takes_the_lane_once_the_token_is_known(client, actors):
    admin = await actors.user("admin")
    oid, _ = await actors.officer()
    phone = await client.post(f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "hp-1"})
    device = {"Authorization": f"Bearer {phone.json()['token']}"}
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    passed = lane("caller")
    assert (await post(client, device, pings(2, start))).status_code == 200
    assert lane("caller") == passed + 1  # not known yet: the app checked it (and remembered it)
    answered = lane("answered")
    r = await post(client, device, pings(2, start + timedelta(minutes=1)))
    assert r.json() == {"accepted": 2, "rejected": []}
    assert lane("answered") == answered + 1


@pytest.mark.parametrize(
    ("kind", "extra", "body", "status", "code"),
    [
        ("caller", {"Authorization": "Bearer not-a-token"}, None, 401, "invalid_token"),
        ("idempotency_key", {"Idempotency-Key": "k-1"}, None, 200, None),
        ("general_decode", {}, b'{"lat": 1, ', 400, "invalid_json"),
        ("body_size", {}, b"[" + b" " * (2 * 1024 * 1024) + b"]", 413, "payload_too_large"),
    ],
)
async def test_what_the_lane_cannot_answer_goes_to_the_app(client, actors, kind, extra, body, status, code):
    _, headers = await actors.officer()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    await post(client, headers, pings(1, start - timedelta(minutes=1), escaped=True))  # user now known
    before = lane(kind)
    r = await post(client, {**headers, **extra}, body if body is not None else pings(2, start))
    assert lane(kind) == before + 1
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["error"]["code"] == code
    if kind == "idempotency_key":  # the app's idempotency layer stored it: a retry is replayed
        again = await post(client, {**headers, **extra}, pings(2, start))
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == r.json() == {"accepted": 2, "rejected": []}


async def test_a_body_in_several_chunks_is_read_whole(client, actors):
    _, headers = await actors.officer()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    await post(client, headers, pings(1, start - timedelta(minutes=1), escaped=True))
    body = pings(30, start)

    async def chunks() -> AsyncIterator[bytes]:
        for k in range(0, len(body), 97):
            yield body[k : k + 97]

    answered = lane("answered")
    r = await post(client, headers, chunks())
    assert r.json() == {"accepted": 30, "rejected": []}
    assert lane("answered") == answered + 1


async def test_a_failure_while_storing_is_the_apps_error_answer(client, actors, app, monkeypatch):
    _, headers = await actors.officer()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    await post(client, headers, pings(1, start - timedelta(minutes=1), escaped=True))

    async def down(*_: Any, **__: Any) -> Any:
        raise Unavailable("database unavailable", code="db_unavailable", headers={"Retry-After": "2"})

    monkeypatch.setattr(app.state.runtime.ingest, "submit_columns", down)
    answered = lane("answered")
    fast = await post(client, headers, pings(20, start))
    assert lane("answered") == answered + 1
    general = await post(client, headers, pings(20, start, escaped=True))
    assert fast.status_code == 503
    assert answer(fast) == answer(general)
    assert fast.headers["retry-after"] == "2"
