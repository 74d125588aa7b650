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


async def test_logins_are_never_replayed_to_another_caller(client, actors):
    """An anonymous replay handed one user's access token to the next caller with the same key."""
    await actors.user("dispatcher")
    first_user = f"dispatcher{actors._n}"
    await actors.user("dispatcher")
    second_user = f"dispatcher{actors._n}"
    tokens = []
    for username in (first_user, second_user):
        r = await client.post(
            "/api/v1/auth/token",
            data={"username": username, "password": "secret-pw"},
            headers={"Idempotency-Key": "login-1"},
        )
        assert r.status_code == 200 and "idempotent-replayed" not in r.headers
        tokens.append(r.json()["access_token"])
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[1]}"})
    assert me.json()["username"] == second_user


async def test_anonymous_keys_are_scoped_by_client(client):
    bodies = [
        {"phone": "0812-3456-7001", "password": "rahasia-1", "name": "Warga Satu"},
        {"phone": "0812-3456-7002", "password": "rahasia-1", "name": "Warga Dua"},
    ]
    answers = []
    for agent, body in zip(("phone-a", "phone-b"), bodies, strict=True):
        r = await client.post(
            "/api/v1/citizens", json=body, headers={"Idempotency-Key": "signup", "User-Agent": agent}
        )
        assert r.status_code == 201, r.text
        answers.append(r)
    assert "idempotent-replayed" not in answers[1].headers
    assert answers[0].json() != answers[1].json()


async def test_a_claim_whose_request_can_no_longer_finish_expires(client, actors, database_url):
    """A process killed mid-request leaves its claim behind: retries got 409 for 24 h. A fresh claim is
    still 409 (with Retry-After); one older than the lease is taken over by the retry, which runs."""
    admin = await actors.user("admin")
    body = {"username": "lease1", "password": "secret-pw", "role": "dispatcher"}
    headers = {**admin, "Idempotency-Key": "lease-k"}
    assert (await client.post("/api/v1/users", headers=headers, json=body)).status_code == 201
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        # what the killed process left: claimed, never answered; and the work it did was rolled back
        await conn.execute(
            "UPDATE idempotency_keys SET completed_at = NULL, status_code = NULL, body = NULL "
            "WHERE path = '/api/v1/users' AND completed_at IS NOT NULL AND created_at > now() - interval '1 minute'"
        )
        await conn.execute("DELETE FROM users WHERE username = 'lease1'")
        busy = await client.post("/api/v1/users", headers=headers, json=body)
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "request_in_progress"
        assert busy.headers["retry-after"]
        await conn.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '10 minutes' "
            "WHERE path = '/api/v1/users' AND completed_at IS NULL"
        )
        retried = await client.post("/api/v1/users", headers=headers, json=body)
        assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
        again = await client.post("/api/v1/users", headers=headers, json=body)
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        n = (await (await conn.execute("SELECT count(*) FROM users WHERE username='lease1'")).fetchone())[0]
    assert n == 1


async def test_an_answer_stored_with_the_work_survives_a_crash_after_the_commit(
    app, client, actors, database_url, monkeypatch
):
    """The window the lease left open: the work committed, then the process died before the answer was
    stored. The answer is stored in the work's own transaction, so the retry replays it (even once the
    lease is long over) and nothing is created twice."""
    from jogo_dispatch.platform.idempotency import IdempotencyMiddleware

    async def died_after_answering(self, engine, digest, captured) -> None:
        return None  # the process is gone: the middleware's own store never runs

    admin = await actors.user("admin")
    body = {"username": "crash1", "password": "secret-pw", "role": "dispatcher"}
    headers = {**admin, "Idempotency-Key": "crash-k"}
    monkeypatch.setattr(IdempotencyMiddleware, "finish", died_after_answering)
    first = await client.post("/api/v1/users", headers=headers, json=body)
    assert first.status_code == 201
    monkeypatch.undo()
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '10 minutes' WHERE path = '/api/v1/users'"
        )
        retried = await client.post("/api/v1/users", headers=headers, json=body)
        assert retried.status_code == 201 and retried.headers["idempotent-replayed"] == "true"
        assert retried.json() == first.json()
        n = (await (await conn.execute("SELECT count(*) FROM users WHERE username='crash1'")).fetchone())[0]
    assert n == 1


async def test_a_refused_request_stores_its_answer_and_a_failed_one_frees_the_key(client, actors):
    citizen_headers = await actors.user("citizen")
    headers = {**citizen_headers, "Idempotency-Key": "bad-report"}
    bad = await client.post("/api/v1/reports", headers=headers, json={"category": "nope"})
    assert bad.status_code == 422
    again = await client.post("/api/v1/reports", headers=headers, json={"category": "nope"})
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true"


def test_every_post_route_stores_its_answer_with_its_work(app):
    """A router made without ``route_class=IdempotentRoute`` would reopen the crash window for its POSTs."""
    from fastapi.routing import APIRoute

    from jogo_dispatch.platform.idempotency import IdempotentRoute
    from tests.security.routes import iter_route_contexts

    posts = [
        getattr(route, "original_route", route)
        for route in iter_route_contexts(app.routes)
        if "POST" in (route.methods or ())
    ]
    assert posts
    plain = sorted(r.path for r in posts if isinstance(r, APIRoute) and not isinstance(r, IdempotentRoute))
    assert plain == [], f"POST routes whose router lacks route_class=IdempotentRoute: {plain}"
