from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jogo_dispatch.geo.cells import cell_int
from jogo_dispatch.geo.index import ResponderIndex
from jogo_dispatch.maps import render
from jogo_dispatch.maps.service import MALANG_BBOX, cells_in_bbox, coverage_gaps
from tests.test_cli import run


def external_loads(html: str) -> list[str]:
    return re.findall(r'(?:src|href)=["\'](https?://[^"\']+)', html)


def test_maps_are_self_contained():
    now = datetime.now(UTC)
    for m in (
        render.heatmap({cell_int(-7.98, 112.63, 9): 3}, now - timedelta(days=1), now),
        render.coverage([render.Gap(cell_int(-7.98, 112.63, 8), None)], 600, [(-7.97, 112.62)]),
        render.track([(-7.98, 112.63, now), (-7.97, 112.64, now)], "B1"),
    ):
        html = m.get_root().render()
        assert "L.map(" in html and "Leaflet" in html  # Leaflet inlined
        assert [u for u in external_loads(html) if "leafletjs.com" not in u] == []


def test_coverage_gaps_are_cells_beyond_the_target_eta():
    now = datetime.now(UTC)
    index = ResponderIndex()
    index.update(1, -7.98, 112.63, "available", "car", now)
    cells = cells_in_bbox(MALANG_BBOX, 8)
    assert len(cells) > 100
    gaps = coverage_gaps(index, cells, target_eta_s=300, seen_after=now - timedelta(minutes=2))
    gap_cells = {g.cell for g in gaps}
    assert cell_int(-7.98, 112.63, 8) not in gap_cells  # next to the officer
    assert cell_int(-8.04, 112.69, 8) in gap_cells  # far corner: > 5 min by car
    assert all(g.eta_s is None or g.eta_s > 300 for g in gaps)
    index.set_status(1, "busy")
    assert len(coverage_gaps(index, cells, 300, now - timedelta(minutes=2))) == len(cells)


def test_render_maps_command_writes_three_files(database_url, tmp_path):
    r = run(
        database_url,
        "create-officer",
        "--badge",
        "MAP-1",
        "--name",
        "Map",
        "--unit-type",
        "car",
        "--password",
        "secret-pw",
    )
    assert r.returncode == 0, r.stderr
    r = run(database_url, "render-maps", "--out", str(tmp_path), "--officer", "MAP-1")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["coverage_gaps.html", "incident_heatmap.html", "track_MAP-1.html"]
    assert "Coverage gaps" in (tmp_path / "coverage_gaps.html").read_text()
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE users, officers CASCADE")


def test_maps_folder_says_what_it_holds_and_git_ignores_the_renders():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "maps" / "README.md").read_text()
    assert "render-maps" in readme and "incident_heatmap.html" in readme
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "maps/incident_heatmap.html"], cwd=root, check=False
    ).returncode
    kept = subprocess.run(["git", "check-ignore", "-q", "maps/README.md"], cwd=root, check=False).returncode
    assert (ignored, kept) == (0, 1)
