"""tracking.roster, pure: the row report the console shows, fixes and skips by row number."""

from __future__ import annotations

from jogo_dispatch.tracking import roster
from tests.admin.helpers import roster_csv


def test_every_problem_of_every_row_with_its_cells_and_columns():
    text = roster_csv(4, bad={2: "tank"}) + "R0001,Again,car,,\n"
    checked = roster.check(text, existing_badges={"R0004"}, existing_devices={"hp-r0003"})
    assert checked.total == 5
    assert checked.bad_rows == [3, 4, 5, 6]
    assert [r.row for r in checked.rows] == [2]
    assert checked.columns[3] == ["unit_type"] and checked.values[3]["unit_type"] == "tank"
    assert checked.columns[4] == ["device_id"]  # hp-r0003 is registered already
    assert checked.columns[5] == ["badge"]  # R0004 exists
    assert "repeats row 2" in dict(checked.problems)[6]
    assert "password" not in checked.values[3]


def test_a_fixed_cell_and_a_skipped_row_make_the_file_good():
    text = roster_csv(3, bad={1: "tank", 3: "boat"})
    checked = roster.check(text, fixes={2: {"unit_type": "car"}}, skip={4})
    assert checked.ok and checked.skipped == [4]
    assert [(r.row, r.officer.unit_type) for r in checked.rows] == [(2, "car"), (3, "foot")]


def test_active_column_and_generated_passwords():
    text = "badge,name,unit_type,password,active\nA1,Satu,car,,false\nA2,Dua,foot,rahasia-9,ya\nA3,Tiga,car,,maybe\n"
    checked = roster.check(text)
    assert [(r.officer.badge, r.active, r.generated_password) for r in checked.rows] == [
        ("A1", False, True),
        ("A2", True, False),
    ]
    assert checked.columns[4] == ["active"]


def test_a_bad_header_is_row_one():
    checked = roster.check("badge,nama,unit_type\nX,Y,car\n")
    assert checked.problems == [(1, "missing column(s): name")]
