from __future__ import annotations

import time

import jwt
import psycopg
import pytest

from jogo_dispatch.errors import Unauthorized
from jogo_dispatch.platform.security import Passwords, Principal, Tokens, device_token_hash, new_device_token


def test_passwords_are_argon2_and_verify():
    p = Passwords(fast=True)
    h = p.hash("s3cret!")
    assert h.startswith("$argon2id$")
    assert p.verify(h, "s3cret!")
    assert not p.verify(h, "wrong")
    assert not p.verify(None, "s3cret!")
    assert not p.verify("garbage", "s3cret!")


def test_tokens_round_trip_and_expire():
    t = Tokens("k" * 40, ttl_s=60)
    token, ttl = t.issue(Principal(7, "officer", officer_id=3, token_version=2))
    assert ttl == 60
    p = t.decode(token)
    assert (p.user_id, p.role, p.officer_id, p.token_version) == (7, "officer", 3, 2)
    expired = jwt.encode(
        {"sub": "7", "role": "officer", "exp": int(time.time()) - 5}, "k" * 40, algorithm="HS256"
    )
    with pytest.raises(Unauthorized) as exc:
        t.decode(expired)
    assert exc.value.code == "token_expired"
    forged = jwt.encode(
        {"sub": "7", "role": "admin", "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256"
    )
    with pytest.raises(Unauthorized):
        t.decode(forged)


def test_a_verified_token_is_remembered_only_until_it_expires(monkeypatch):
    t = Tokens("k" * 40, ttl_s=60)
    token, _ = t.issue(Principal(7, "officer", officer_id=3))
    assert t.decode(token).user_id == 7
    calls = []
    real = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    assert t.decode(token).user_id == 7
    assert calls == []  # the signature was checked once
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)

    def expired(*_a: object, **_kw: object) -> None:  # PyJWT reads its own clock: as it would answer then
        calls.append(1)
        raise jwt.ExpiredSignatureError("expired")

    monkeypatch.setattr(jwt, "decode", expired)
    with pytest.raises(Unauthorized) as exc:
        t.decode(token)  # past its exp the cache no longer answers: PyJWT decides
    assert exc.value.code == "token_expired"
    assert calls == [1]


def test_device_tokens_are_random_and_hashed():
    a, b = new_device_token(), new_device_token()
    assert a != b and a.startswith("jdt_")
    assert len(device_token_hash(a)) == 64 and device_token_hash(a) != device_token_hash(b)


async def test_password_flow_returns_bearer_token(client, actors):
    headers = await actors.user("dispatcher")
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == "dispatcher"


async def test_wrong_password_is_401_with_machine_readable_body(client, actors):
    await actors.user("admin")
    r = await client.post("/api/v1/auth/token", data={"username": "admin1", "password": "nope-nope"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "bad_credentials"
    r = await client.post("/api/v1/auth/token", data={"username": "nobody", "password": "nope-nope"})
    assert r.status_code == 401


async def test_officer_logs_in_with_badge_and_token_carries_officer(client, actors):
    oid, headers = await actors.officer()
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["role"] == "officer" and me["officer_id"] == oid


async def test_revoke_invalidates_earlier_tokens(client, actors):
    headers = await actors.user("dispatcher")
    assert (await client.post("/api/v1/auth/revoke", headers=headers)).status_code == 204
    r = await client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"


@pytest.mark.parametrize("role", ["citizen", "officer", "dispatcher", "agency"])
async def test_only_admin_creates_users(client, actors, role):
    headers = await actors.user(role)
    r = await client.post(
        "/api/v1/users", headers=headers, json={"username": "x1", "password": "secret-pw", "role": "citizen"}
    )
    assert r.status_code == 403


async def test_admin_creates_user_and_duplicate_is_409(client, actors):
    admin = await actors.user("admin")
    body = {"username": "operator7", "password": "secret-pw", "role": "dispatcher"}
    r = await client.post("/api/v1/users", headers=admin, json=body)
    assert r.status_code == 201 and r.json()["role"] == "dispatcher"
    r = await client.post("/api/v1/users", headers=admin, json=body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "user_exists"
    r = await client.post("/api/v1/users", headers=admin, json={**body, "username": "x", "role": "king"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("role", ["officer", "agency"])
async def test_an_officer_or_agency_login_is_never_made_unbound(client, actors, database_url, role):
    admin = await actors.user("admin")
    body = {"username": f"lepas-{role}", "password": "secret-pw", "role": role}
    r = await client.post("/api/v1/users", headers=admin, json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "role_needs_record" and error["details"]["role"] == role
    assert "/officers" in error["details"]["use"] or "/agencies/" in error["details"]["use"]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT count(*) FROM users WHERE username = %s", (body["username"],))
        assert (await cur.fetchone())[0] == 0


async def test_me_tells_an_officer_their_duty_status(client, actors):
    _, headers = await actors.officer()
    await client.put("/api/v1/me/status", headers=headers, json={"status": "off_duty"})
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["duty_status"] == "off_duty" and me["username"].startswith("B")


async def test_preloaded_device_tokens_work_and_revocation_removes_them(settings, client, actors):
    import httpx

    from jogo_dispatch.main import create_app

    admin = await actors.user("admin")
    oid, _ = await actors.officer()
    dev = (
        await client.post(f"/api/v1/officers/{oid}/devices", headers=admin, json={"identifier": "pre-1"})
    ).json()
    fresh = create_app(settings)
    async with fresh.router.lifespan_context(fresh):
        rt = fresh.state.runtime
        assert any(p.device_id == dev["id"] for p in rt.auth._device_table.values())
        phone = {"Authorization": f"Bearer {dev['token']}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh), base_url="http://t") as c:
            r = await c.post(
                "/api/v1/pings", headers=phone, json={"lat": -7.97, "lon": 112.63, "recorded_at": 1e9 + 9e8}
            )
            assert r.status_code == 200
            r = await c.delete(f"/api/v1/officers/{oid}/devices/{dev['id']}", headers=admin)
            assert r.status_code == 200
            r = await c.post(
                "/api/v1/pings", headers=phone, json={"lat": -7.97, "lon": 112.63, "recorded_at": 1e9}
            )
            assert r.status_code == 401
