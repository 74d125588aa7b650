from __future__ import annotations

import psycopg

from tests.test_cli import run


def test_seed_command_loads_both_regions_idempotently(database_url):
    try:
        first = run(database_url, "seed", "--region", "malang")
        assert first.returncode == 0, first.stderr
        assert "police_sectors: 5 in pack, 5 new, 0 updated" in first.stderr
        assert (
            "region malang loaded: 5 police sectors, 28 agencies (9 hospitals), 22 routing rules"
            in first.stdout
        )
        again = run(database_url, "seed", "--region", "malang")
        assert again.returncode == 0 and "agencies: 28 in pack, 0 new, 28 updated" in again.stderr
        cilacap = run(database_url, "seed", "--region", "cilacap")
        assert cilacap.returncode == 0, cilacap.stderr
        with psycopg.connect(database_url) as conn:
            rows = dict(
                conn.execute("SELECT region, count(*) FROM police_sectors GROUP BY region").fetchall()
            )
            assert rows == {"malang": 5, "cilacap": 6}
            assert conn.execute("SELECT count(*) FROM agencies WHERE region = 'malang'").fetchone() == (28,)
            assert conn.execute("SELECT count(*) FROM routing_rules WHERE region = 'cilacap'").fetchone() == (
                22,
            )
            # The stored geometry is the pack's, valid, and found by a PostGIS point-in-polygon query.
            hit = conn.execute(
                "SELECT code FROM police_sectors WHERE ST_Covers(geom, "
                "ST_SetSRID(ST_MakePoint(112.6308, -7.9826), 4326))"
            ).fetchall()
            assert hit == [("KLOJEN",)]
        bad = run(database_url, "seed", "--region", "atlantis")
        assert bad.returncode == 2 and "no region pack 'atlantis'" in bad.stderr
    finally:
        with psycopg.connect(database_url) as conn:
            conn.execute("TRUNCATE police_sectors, agencies, routing_rules CASCADE")
            conn.execute("DELETE FROM categories WHERE code = 'water_outage'")
