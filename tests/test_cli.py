from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

EXE = shutil.which("jogo-dispatch") or str(Path(sys.executable).with_name("jogo-dispatch"))


def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOGO_DATABASE_URL": database_url, "JOGO_LOG_JSON": "false"}
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_migrate_create_user_and_officer(database_url):
    assert run(database_url, "migrate").returncode == 0
    r = run(
        database_url, "create-user", "--username", "ops1", "--password", "secret-pw", "--role", "dispatcher"
    )
    assert r.returncode == 0, r.stderr
    r = run(
        database_url,
        "create-officer",
        "--badge",
        "CLI-7",
        "--name",
        "Aiptu Budi",
        "--unit-type",
        "foot",
        "--password",
        "secret-pw",
        "--device-id",
        "budi-phone",
    )
    assert r.returncode == 0, r.stderr
    again = run(
        database_url,
        "create-officer",
        "--badge",
        "CLI-7",
        "--name",
        "X",
        "--unit-type",
        "foot",
        "--password",
        "secret-pw",
    )
    assert again.returncode == 1 and "officer_exists" in again.stderr
    bad = run(database_url, "create-user", "--username", "u", "--password", "secret-pw", "--role", "king")
    assert bad.returncode == 1 and "bad_role" in bad.stderr
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT u.username, u.role, o.unit_type, d.identifier FROM officers o JOIN users u ON u.id = o.user_id "
            "JOIN devices d ON d.officer_id = o.id WHERE o.badge = 'CLI-7'"
        ).fetchall()
        assert rows == [("CLI-7", "officer", "foot", "budi-phone")]
        assert conn.execute("SELECT role FROM users WHERE username = 'ops1'").fetchone() == ("dispatcher",)
        conn.execute("TRUNCATE users, officers, devices CASCADE")
