"""Logins and roles in the admin console: list, staff role changes, enable/disable, password reset."""

from __future__ import annotations

from tests.admin.helpers import audit_rows


async def me(client, headers):
    return (await client.get("/api/v1/me", headers=headers)).json()["user_id"]


async def test_list_filters_by_role_and_text(client, actors):
    admin = await actors.user("admin")
    await actors.user("dispatcher")
    oid, _ = await actors.officer()
    r = await client.get("/api/v1/users", headers=admin, params={"role": "officer"})
    assert r.status_code == 200, r.text
    [officer] = r.json()["items"]
    assert officer["officer_id"] == oid and officer["officer_badge"] == "B0003"
    found = (await client.get("/api/v1/users", headers=admin, params={"q": "dispatch"})).json()
    assert [u["username"] for u in found["items"]] == ["dispatcher2"] and found["total"] == 1


async def test_a_role_change_revokes_tokens_and_is_audited(client, actors, database_url):
    admin = await actors.user("admin")
    dispatcher = await actors.user("dispatcher")
    uid = await me(client, dispatcher)
    r = await client.patch(
        f"/api/v1/users/{uid}", headers=admin, json={"role": "admin", "reason": "kepala shift"}
    )
    assert r.status_code == 200 and r.json()["role"] == "admin"
    assert (await client.get("/api/v1/me", headers=dispatcher)).status_code == 401
    [(action, *_, reason, data)] = await audit_rows(database_url, "user", uid)
    assert (
        action == "edited" and reason == "kepala shift" and data["changes"]["role"] == ["dispatcher", "admin"]
    )


async def test_fixed_roles_officers_and_the_last_admin(client, actors):
    admin = await actors.user("admin")
    admin_id = await me(client, admin)
    oid, officer = await actors.officer()
    officer_uid = await me(client, officer)
    citizen = await actors.user("citizen")
    citizen_uid = await me(client, citizen)
    r = await client.patch(f"/api/v1/users/{citizen_uid}", headers=admin, json={"role": "admin"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "role_locked")
    r = await client.patch(f"/api/v1/users/{officer_uid}", headers=admin, json={"is_active": False})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "officer_login")
    r = await client.patch(f"/api/v1/users/{admin_id}", headers=admin, json={"role": "dispatcher"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "own_account")
    other = await actors.user("admin")
    other_id = await me(client, other)
    assert (
        await client.patch(f"/api/v1/users/{other_id}", headers=admin, json={"is_active": False})
    ).status_code == 200
    r = await client.patch(f"/api/v1/users/{admin_id}", headers=admin, json={"full_name": "Admin Satu"})
    assert r.status_code == 200 and r.json()["full_name"] == "Admin Satu"
    # A citizen may be disabled (and enabled again) here.
    r = await client.patch(f"/api/v1/users/{citizen_uid}", headers=admin, json={"is_active": False})
    assert r.status_code == 200 and (await client.get("/api/v1/me", headers=citizen)).status_code == 401


async def test_the_last_active_admin_stays(client, actors):
    admin = await actors.user("admin")
    second = await actors.user("admin")
    second_id = await me(client, second)
    admin_id = await me(client, admin)
    assert (
        await client.patch(f"/api/v1/users/{admin_id}", headers=second, json={"is_active": False})
    ).status_code == 200
    r = await client.patch(f"/api/v1/users/{admin_id}", headers=second, json={"role": "dispatcher"})
    assert r.status_code == 200  # a disabled admin may be demoted
    other = await actors.user("dispatcher")
    other_id = await me(client, other)
    await client.patch(f"/api/v1/users/{other_id}", headers=second, json={"role": "admin"})
    fresh = await actors._token("dispatcher3", "secret-pw")
    r = await client.patch(f"/api/v1/users/{second_id}", headers=fresh, json={"is_active": False})
    assert r.status_code == 200
    r = await client.patch(f"/api/v1/users/{other_id}", headers=second, json={"is_active": False})
    assert r.status_code == 401  # the second admin is disabled: its token is gone


async def test_password_reset_shows_the_password_once_and_revokes_tokens(client, actors, database_url):
    admin = await actors.user("admin")
    dispatcher = await actors.user("dispatcher")
    uid = await me(client, dispatcher)
    r = await client.post(f"/api/v1/users/{uid}/password", headers=admin, json={})
    assert r.status_code == 200
    new = r.json()["password"]
    assert (await client.get("/api/v1/me", headers=dispatcher)).status_code == 401
    login = await client.post("/api/v1/auth/token", data={"username": "dispatcher2", "password": new})
    assert login.status_code == 200
    [row] = await audit_rows(database_url, "user", uid)
    assert row[0] == "password_reset" and new not in str(row)


async def test_created_logins_are_audited(client, actors, database_url):
    admin = await actors.user("admin")
    r = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "shift-b", "password": "secret-pw", "role": "dispatcher"},
    )
    assert r.status_code == 201
    [row] = await audit_rows(database_url, "user", r.json()["id"])
    assert row[0] == "created" and row[5] == {"username": "shift-b", "role": "dispatcher"}
