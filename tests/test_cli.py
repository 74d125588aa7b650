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


def test_cli_devices_agency_logins_and_a_roster(database_url, tmp_path):
    assert run(database_url, "seed", "--region", "malang").returncode == 0
    # an agency login is bound to its agency; a wrong code or a missing one is refused
    r = run(database_url, "create-user", "--username", "pln1", "--password", "secret-pw", "--role", "agency",
            "--agency", "PLN")  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run(database_url, "create-user", "--username", "x1", "--password", "secret-pw", "--role", "agency",
            "--agency", "NOPE")  # fmt: skip
    assert r.returncode == 1 and "agency_not_found" in r.stderr
    r = run(database_url, "create-user", "--username", "x2", "--password", "secret-pw", "--role", "agency")
    assert r.returncode == 2
    # a roster with one bad row imports nothing, and says which row and why
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "\ufeffbadge,name,unit_type,sector,device_id\n"
        "R-1,Bripda Satu,car,Klojen,hp-r1\n"
        "R-2,Bripda Dua,tank,,\n"
        "R-3,Bripda Tiga,foot,,hp-r1\n"
        "R-4,Bripda Empat,motorbike,,\n"
    )
    r = run(database_url, "import-officers", str(roster))
    assert r.returncode == 1
    assert "row 3: unit_type" in r.stderr and "row 4: device_id 'hp-r1' repeats row 2" in r.stderr
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM officers WHERE badge LIKE 'R-%'").fetchone() == (0,)
    r = run(database_url, "import-officers", str(roster), "--skip-invalid")
    assert r.returncode == 1 and "2 officers imported" in r.stderr, r.stderr
    credentials = (tmp_path / "roster.csv.credentials.csv").read_text().splitlines()
    assert credentials[0] == "badge,password" and {c.split(",")[0] for c in credentials[1:]} == {"R-1", "R-4"}
    assert (tmp_path / "roster.csv.credentials.csv").stat().st_mode & 0o077 == 0
    # devices: add (token printed once), list, revoke
    r = run(database_url, "devices", "add", "--badge", "R-4", "--identifier", "hp-r4", "--label", "Redmi")
    assert r.returncode == 0 and r.stdout.strip().startswith("jdt_"), r.stderr
    listed = run(database_url, "devices", "list", "--badge", "R-4").stdout.strip().split("\t")
    assert listed[1:] == ["hp-r4", "Redmi", "active"]
    assert run(database_url, "devices", "revoke", "--badge", "R-4", "--id", listed[0]).returncode == 0
    assert "revoked" in run(database_url, "devices", "list", "--badge", "R-4").stdout
    assert run(database_url, "devices", "list", "--badge", "NOBODY").returncode == 1
    with psycopg.connect(database_url) as conn:
        bound = conn.execute(
            "SELECT a.code FROM agency_users au JOIN users u ON u.id = au.user_id "
            "JOIN agencies a ON a.id = au.agency_id WHERE u.username = 'pln1'"
        ).fetchone()
        assert bound == ("PLN",)
        assert conn.execute("SELECT count(*) FROM officers WHERE badge LIKE 'R-%'").fetchone() == (2,)
        conn.execute("TRUNCATE users, officers, devices CASCADE")


def test_python_dash_m_runs_the_same_command_line():
    got = subprocess.run(
        [sys.executable, "-m", "jogo_dispatch", "--help"], capture_output=True, text=True, timeout=60
    )
    assert got.returncode == 0, got.stderr
    assert "python -m jogo_dispatch" in got.stdout and "create-officer" in got.stdout
