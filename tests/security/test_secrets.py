"""Secrets: no default signing key in production, argon2id password hashes, revocable tokens, and a limit on
wrong passwords per username and per client address."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from jogo_dispatch.platform.security import Passwords
from jogo_dispatch.settings import DEV_SECRET, Settings
from tests.reports.helpers import citizen, rows
from tests.security.conftest import PASSWORD

EXE = str(Path(sys.executable).with_name("jogo-dispatch"))
REAL_KEY = "k3V9-pY0q2Lr8sWm4Zt1Xb7Nc5Hd6Jf0Qa9Ue3Gi"


# -- signing key ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [DEV_SECRET, "short-but-not-empty", ""])
def test_production_refuses_a_missing_default_or_short_signing_key(key: str, monkeypatch) -> None:
    monkeypatch.delenv("JOGO_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="JOGO_SECRET_KEY must be set"):
        Settings(env="production", secret_key=key, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="JOGO_SECRET_KEY must be set"):
        Settings(env="production", _env_file=None)  # type: ignore[call-arg]
    assert Settings(env="production", secret_key=REAL_KEY, _env_file=None).secret_key == REAL_KEY  # type: ignore[call-arg]


def test_create_app_refuses_to_build_in_production_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from jogo_dispatch.main import create_app

    monkeypatch.setenv("JOGO_ENV", "production")
    monkeypatch.delenv("JOGO_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="JOGO_SECRET_KEY must be set"):
        create_app()


def test_the_serve_command_exits_with_a_clear_message(database_url: str) -> None:
    env = {
        **os.environ,
        "JOGO_ENV": "production",
        "JOGO_DATABASE_URL": database_url,
        "JOGO_LOG_JSON": "false",
    }
    env.pop("JOGO_SECRET_KEY", None)
    done = subprocess.run(
        [EXE, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert done.returncode == 2, done
    assert done.stderr.strip() == (
        "error: invalid settings: JOGO_SECRET_KEY must be set to a random value of 32+ characters "
        "in production"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("key", ["a" * 40, "abababababababababababababababab12"])
def test_production_refuses_a_weak_signing_key(key: str) -> None:
    with pytest.raises(ValidationError, match="JOGO_SECRET_KEY must be set"):
        Settings(env="production", secret_key=key, _env_file=None)  # type: ignore[call-arg]


def test_a_published_key_is_only_for_explicit_local_development() -> None:
    with pytest.raises(ValidationError, match="published default key"):
        Settings(env="test", secret_key=DEV_SECRET, _env_file=None)  # type: ignore[call-arg]
    assert Settings(env="development", secret_key=DEV_SECRET, _env_file=None).secret_key == DEV_SECRET  # type: ignore[call-arg]


def test_without_a_key_each_deployment_makes_its_own_and_keeps_it(tmp_path: Path, monkeypatch) -> None:
    from jogo_dispatch.platform.security import SIGNING_KEY_FILE, signing_key

    monkeypatch.delenv("JOGO_SECRET_KEY", raising=False)
    settings = Settings(data_dir=tmp_path / "a", _env_file=None)  # type: ignore[call-arg]
    assert settings.secret_key is None  # out of the box there is no known key to forge tokens with
    first = signing_key(settings.secret_key, settings.data_dir)
    assert len(first) >= 48 and first not in {DEV_SECRET}
    assert signing_key(None, settings.data_dir) == first  # the next start (or another worker) agrees
    assert (settings.data_dir / SIGNING_KEY_FILE).stat().st_mode & 0o077 == 0  # this user's only
    assert signing_key(None, tmp_path / "b") != first  # another deployment has another key
    assert signing_key(REAL_KEY, tmp_path / "c") == REAL_KEY and not (tmp_path / "c").exists()


async def test_token_claims_grant_nothing_the_stored_user_does_not_have(app, client, actors, database_url):
    """With the signing key, a token saying role=admin for a citizen, or naming another officer's id,
    gets only what the stored user is: the claims are re-checked against the database."""
    from jogo_dispatch.platform.security import Principal

    tokens = app.state.runtime.tokens
    _, citizen_headers = await citizen(client)
    me = (await client.get("/api/v1/me", headers=citizen_headers)).json()
    forged_admin, _ = tokens.issue(Principal(me["user_id"], "admin"))
    r = await client.post(
        "/api/v1/users",
        headers={"Authorization": f"Bearer {forged_admin}"},
        json={"username": "forged", "password": PASSWORD, "role": "admin"},
    )
    assert r.status_code == 403, r.text
    mine, my_headers = await actors.officer()
    other, _ = await actors.officer()
    my_user = (await client.get("/api/v1/me", headers=my_headers)).json()["user_id"]
    forged_oid, _ = tokens.issue(Principal(my_user, "officer", officer_id=other))
    ping = {"lat": -7.96, "lon": 112.63, "recorded_at": datetime.now(UTC).isoformat()}
    r = await client.post("/api/v1/pings", headers={"Authorization": f"Bearer {forged_oid}"}, json=ping)
    assert r.status_code == 200
    stored = await rows(
        database_url, "SELECT officer_id FROM pings WHERE officer_id IN (%s, %s)", mine, other
    )
    assert stored == [(mine,)]  # the token's own officer, never the one it names


# -- passwords --------------------------------------------------------------------------------------------


def test_the_production_password_profile_is_argon2id_with_its_standard_cost() -> None:
    hashed = Passwords().hash("rahasia-1")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert Passwords().verify(hashed, "rahasia-1") and not Passwords().verify(hashed, "rahasia-2")


async def test_every_kind_of_login_is_stored_as_an_argon2id_hash(client, actors, database_url):
    admin = await actors.user("admin")
    await citizen(client)
    await actors.officer()
    r = await client.post(
        "/api/v1/users", headers=admin, json={"username": "ops", "password": PASSWORD, "role": "dispatcher"}
    )
    assert r.status_code == 201
    stored = await rows(database_url, "SELECT role, password_hash FROM users")
    assert {role for role, _ in stored} >= {"admin", "citizen", "officer", "dispatcher"}
    for role, password_hash in stored:
        assert password_hash.startswith("$argon2id$"), role
        assert PASSWORD not in password_hash and "rahasia" not in password_hash


# -- revocation -------------------------------------------------------------------------------------------


async def test_revoke_kills_every_earlier_token_of_the_caller(client, actors):
    headers = await actors.user("dispatcher")
    other = await actors.user("dispatcher")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/auth/revoke", headers=headers)).status_code == 204
    r = await client.get("/api/v1/me", headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "token_revoked")
    assert (await client.post("/api/v1/auth/revoke", headers=headers)).status_code == 401
    assert (await client.get("/api/v1/me", headers=other)).status_code == 200  # only the caller's


async def test_a_revoked_device_token_is_refused_at_once(client, actors):
    admin = await actors.user("admin")
    officer_id, _ = await actors.officer()
    created = await client.post(
        f"/api/v1/officers/{officer_id}/devices", headers=admin, json={"identifier": "pixel-7"}
    )
    assert created.status_code == 201
    device = {"Authorization": f"Bearer {created.json()['token']}"}
    ping = {"lat": -7.96, "lon": 112.63, "recorded_at": "2026-01-01T00:00:00Z"}
    assert (await client.post("/api/v1/pings", headers=device, json=ping)).status_code == 200
    r = await client.delete(f"/api/v1/officers/{officer_id}/devices/{created.json()['id']}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    r = await client.post("/api/v1/pings", headers=device, json=ping)
    assert r.status_code == 401, r.text


# -- login rate limit -------------------------------------------------------------------------------------


async def _login(client: Any, username: str, password: str) -> Any:
    return await client.post("/api/v1/auth/token", data={"username": username, "password": password})


async def test_wrong_passwords_for_one_username_end_in_429_until_the_window_ends(client, actors, app):
    settings = app.state.settings
    await actors.user("dispatcher")
    username = f"dispatcher{actors._n}"
    for _ in range(settings.login_limit_per_user):
        r = await _login(client, username, "wrong-password")
        assert (r.status_code, r.json()["error"]["code"]) == (401, "bad_credentials")
    # Now even the right password waits: guessing must stop whatever the guess.
    for password in ("wrong-password", PASSWORD):
        r = await _login(client, username, password)
        assert r.status_code == 429, r.text
        assert (
            r.json()["error"]["code"] == "rate_limited" and r.json()["error"]["details"]["per"] == "username"
        )
        assert 1 <= int(r.headers["Retry-After"]) <= settings.login_limit_window_s
    # Another username from the same address is not affected.
    await actors.user("dispatcher")
    assert (await _login(client, f"dispatcher{actors._n}", PASSWORD)).status_code == 200


async def test_a_phone_number_typed_differently_is_the_same_username(client, app):
    settings = app.state.settings
    body = (
        await client.post(
            "/api/v1/citizens", json={"phone": "081299990000", "name": "W", "password": "rahasia-1"}
        )
    ).json()
    for i in range(settings.login_limit_per_user):
        typed = ("0812-9999-0000", "+62 812 9999 0000", "6281299990000")[i % 3]
        assert (await _login(client, typed, "salah")).status_code == 401
    assert (await _login(client, body["username"], "rahasia-1")).status_code == 429


async def test_logins_that_succeed_are_never_counted(client, actors, app):
    await actors.user("dispatcher")
    username = f"dispatcher{actors._n}"
    for _ in range(app.state.settings.login_limit_per_user - 1):
        assert (await _login(client, username, "wrong-password")).status_code == 401
    for _ in range(3 * app.state.settings.login_limit_per_user):
        assert (await _login(client, username, PASSWORD)).status_code == 200


async def test_wrong_passwords_from_one_address_end_in_429(client, app, monkeypatch):
    monkeypatch.setattr(app.state.runtime.settings, "login_limit_per_ip", 8)
    for i in range(8):
        assert (await _login(client, f"nobody-{i}", "guess")).status_code == 401
    r = await _login(client, "nobody-else", "guess")
    assert r.status_code == 429 and r.json()["error"]["details"]["per"] == "address"
    assert "Retry-After" in r.headers


async def test_owntracks_basic_credentials_share_the_login_limit(client, actors, app):
    await actors.officer(device_id="ot-phone")
    badge = f"B{actors._n:04d}"
    await actors.officer(device_id="ot-other")
    other = f"B{actors._n:04d}"
    body = {"_type": "location", "lat": -7.96, "lon": 112.63, "tst": 1_800_000_000}

    async def post(who: str, device: str, password: str) -> Any:
        headers = {"X-Limit-U": who, "X-Limit-D": device}
        return await client.post("/owntracks", json=body, headers=headers, auth=(who, password))

    assert (await post(other, "ot-other", PASSWORD)).status_code == 200  # a phone already posting
    for who in (badge, other):
        for _ in range(app.state.settings.login_limit_per_user):
            assert (await post(who, "ot-phone", "wrong-password")).status_code == 401
    r = await post(badge, "ot-phone", PASSWORD)
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert (await _login(client, badge, PASSWORD)).status_code == 429
    # Someone guessing a badge does not cut off the phone that has been posting with it all along.
    assert (await post(other, "ot-other", PASSWORD)).status_code == 200
    assert (await _login(client, other, PASSWORD)).status_code == 429


async def test_looking_at_a_limit_does_not_count_and_refuses_only_when_one_more_would_be_over():
    from jogo_dispatch.errors import RateLimited
    from jogo_dispatch.platform.ratelimit import Limit, MemoryCounter, RateLimiter

    limiter = RateLimiter(MemoryCounter())
    limits = [Limit("login:user:x", 2, 100, "username")]
    t0 = 1_800_000_000.0
    for _ in range(5):
        await limiter.check(limits, now=t0, count=False)  # looking is free
    await limiter.check(limits, now=t0)
    await limiter.check(limits, now=t0 + 1, count=False)
    await limiter.check(limits, now=t0 + 2)
    with pytest.raises(RateLimited) as err:
        await limiter.check(limits, now=t0 + 30, count=False)
    assert err.value.headers == {"Retry-After": "70"}
    await limiter.check(limits, now=t0 + 100, count=False)  # the next window
