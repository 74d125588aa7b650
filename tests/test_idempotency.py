from __future__ import annotations

import psycopg


async def test_retry_with_the_same_key_replays_the_first_response(client, actors, database_url):
    admin = await actors.user("admin")
    body = {"username": "retry1", "password": "secret-pw", "role": "dispatcher"}
    first = await client.post("/api/v1/users", headers={**admin, "Idempotency-Key": "k-1"}, json=body)
    assert first.status_code == 201
    again = await client.post("/api/v1/users", headers={**admin, "Idempotency-Key": "k-1"}, json=body)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    # a new key is a new request: now the duplicate username is a conflict
    other = await client.post("/api/v1/users", headers={**admin, "Idempotency-Key": "k-2"}, json=body)
    assert other.status_code == 409
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        n = (await (await conn.execute("SELECT count(*) FROM users WHERE username='retry1'")).fetchone())[0]
    assert n == 1


async def test_keys_are_scoped_to_the_caller(client, actors):
    a, b = await actors.user("admin"), await actors.user("admin")
    r1 = await client.post(
        "/api/v1/users",
        headers={**a, "Idempotency-Key": "same"},
        json={"username": "ua", "password": "secret-pw", "role": "citizen"},
    )
    r2 = await client.post(
        "/api/v1/users",
        headers={**b, "Idempotency-Key": "same"},
        json={"username": "ub", "password": "secret-pw", "role": "citizen"},
    )
    assert r1.json()["username"] == "ua" and r2.json()["username"] == "ub"
    assert "idempotent-replayed" not in r2.headers


async def test_bad_key_is_rejected_clearly(client, actors):
    admin = await actors.user("admin")
    r = await client.post(
        "/api/v1/users",
        headers={**admin, "Idempotency-Key": "x" * 201},
        json={"username": "u", "password": "secret-pw", "role": "citizen"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_idempotency_key"


async def test_a_new_login_keeps_the_key_of_the_same_user(client, actors):
    admin = await actors.user("admin")
    body = {"username": "relog", "password": "secret-pw", "role": "citizen"}
    first = await client.post("/api/v1/users", headers={**admin, "Idempotency-Key": "q-1"}, json=body)
    again_login = await client.post(
        "/api/v1/auth/token", data={"username": f"admin{actors._n}", "password": "secret-pw"}
    )
    fresh = {"Authorization": f"Bearer {again_login.json()['access_token']}"}
    assert fresh != admin
    again = await client.post("/api/v1/users", headers={**fresh, "Idempotency-Key": "q-1"}, json=body)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
