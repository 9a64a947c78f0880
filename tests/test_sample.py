"""The bundled Tianjin sample: reproducible files, and ``load_sample`` into PostGIS with
the corridors, structures with limits, villages, port lanes, RSUs, idempotence and
atomicity."""

from __future__ import annotations

import filecmp
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from twin.services import rasters, sample
from twin.services.sample import STEPS, Step
from twin.settings import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "data" / "sample"


def test_sample_files_are_reproducible(tmp_path: Path) -> None:
    """The committed files are exactly what the seeded generator writes."""
    subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "make_tianjin_sample.py"),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert generated, "generator wrote nothing"
    for rel in generated:
        assert filecmp.cmp(tmp_path / rel, SAMPLE / rel, shallow=False), f"{rel} differs"


def _one(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar_one()


def test_load_sample(connection: Connection) -> None:
    c = connection
    rep = sample.load_sample(c)
    assert all(s["status"] == "ran" for s in rep["steps"].values())
    # a routable network of 2,000+ edges
    assert (
        _one(c, "SELECT count(*) FROM road_edge WHERE source->>'dataset' = 'sample:tianjin'")
        >= 2000
    )
    # the named corridors, with names in both languages and a stake range
    roads = {
        r.code: r
        for r in c.execute(
            text(
                "SELECT code, name_zh, name_en, stake_start_m, stake_end_m, chain_breaks, "
                "(SELECT count(*) FROM road_edge e WHERE e.road_id = road.id) AS edges "
                "FROM road WHERE code IN ('G2', 'S30', 'S11', 'S40')"
            )
        )
    }
    assert (
        roads["G2"].name_zh == "京津塘高速公路"
        and roads["G2"].name_en == "Jing-Jin-Tang Expressway"
    )
    assert roads["S30"].name_zh == "津滨高速公路"
    assert roads["S11"].name_zh == "天津大道"
    assert roads["S40"].name_zh == "港口集疏运通道"
    for r in roads.values():
        assert r.edges >= 4 and r.stake_end_m > r.stake_start_m + 10_000
    assert roads["G2"].chain_breaks == [{"back": "K150+000", "ahead": "K150+120"}]
    # OSM structures on the corridors got their stake (range) from the centreline
    assert (
        _one(
            c,
            "SELECT count(*) FROM asset a JOIN road r ON r.id = a.road_id WHERE r.code = 'S30' "
            "AND a.kind = 'bridge' AND a.stake_m BETWEEN r.stake_start_m AND r.stake_end_m",
        )
        >= 5
    )
    # dual carriageways: one-way edges on the expressways
    assert _one(c, "SELECT count(*) FROM road_edge WHERE ref = 'S30' AND NOT oneway") == 0
    # bridges with limits, enriched by the GBK bridges register (owner, year, design load)
    assert (
        _one(
            c,
            "SELECT count(DISTINCT a.id) FROM asset a JOIN structure_limit s ON s.asset_id = a.id "
            "WHERE a.kind = 'bridge' AND s.kind IN ('weight', 'axle_load')",
        )
        >= 20
    )
    assert (
        _one(
            c,
            "SELECT count(*) FROM asset WHERE kind = 'bridge' AND owner IS NOT NULL "
            "AND built_on IS NOT NULL AND attributes ? 'design_load'",
        )
        >= 90
    )
    # tunnels/underpasses with height limits, and height restrictors
    assert (
        _one(
            c,
            "SELECT count(DISTINCT a.id) FROM asset a JOIN structure_limit s ON s.asset_id = a.id "
            "WHERE a.kind IN ('tunnel', 'underpass') AND s.kind = 'height'",
        )
        >= 10
    )
    assert _one(c, "SELECT count(*) FROM asset WHERE kind = 'height_restrictor'") >= 5
    assert _one(c, "SELECT count(*) FROM road_edge WHERE max_height_cm IS NOT NULL") >= 50
    # villages and rural roads
    assert _one(c, "SELECT count(*) FROM village WHERE population > 0") == 24
    assert _one(c, "SELECT count(*) FROM road WHERE code LIKE 'Y%' OR code LIKE 'X%'") >= 20
    # the port yard with autonomous and dual-mode lanes
    modes = {m for (m,) in c.execute(text("SELECT DISTINCT mode FROM port_lane"))}
    assert {"autonomous", "dual"} <= modes
    assert _one(c, "SELECT count(*) FROM port_yard WHERE kind = 'gate'") >= 1
    # RSUs along the port corridor every 300-800 m, with one gap in coverage
    stakes = [
        s
        for (s,) in c.execute(
            text("SELECT stake_m FROM v2x_unit WHERE road_code = 'S40' ORDER BY stake_m")
        )
    ]
    gaps = [b - a for a, b in itertools.pairwise(stakes)]
    assert len(stakes) >= 15
    assert sum(1 for g in gaps if g > 1000) == 1
    assert all(250 <= g <= 850 for g in gaps if g <= 1000)
    msgs = {
        r.event_type: r.payload
        for r in c.execute(
            text("SELECT event_type, payload FROM v2x_message WHERE msg_type = 'RSI'")
        )
    }
    assert {"low_clearance", "weight_limit", "work_zone"} <= set(msgs)
    assert msgs["low_clearance"]["rtss"][0]["signPos"]["lat"] > 389_000_000
    assert "refPos" in msgs["work_zone"] and msgs["work_zone"]["rtes"][0]["eventRadius"] > 0
    # the flood raster samples at assets in the low-lying area
    rid = _one(c, "SELECT id FROM raster_layer WHERE kind = 'water_depth'")
    got = rasters.sample_at_assets(c, rid, bbox=(117.6, 39.0, 117.72, 39.06))
    assert any(g["value"] and g["value"] > 0.5 for g in got)

    # idempotent: a second load skips every step and changes nothing
    rep2 = sample.load_sample(c)
    assert all(s["status"].startswith("skipped") for s in rep2["steps"].values())
    assert rep2["added"] == {} and rep2["rows"] == rep["rows"]
    assert rep2["seconds"] < 2.0


def test_failing_step_leaves_database_unchanged(connection: Connection) -> None:
    def boom(_conn: Connection, _ctx: sample.SampleContext) -> dict[str, Any]:
        raise RuntimeError("a step failed half-way")

    before = {
        t: _one(connection, f"SELECT count(*) FROM {t}")
        for t in ("road_edge", "asset", "load_run", "village")
    }
    with pytest.raises(RuntimeError, match="half-way"):
        sample.load_sample(connection, steps=[STEPS[0], STEPS[4], Step("boom", (), boom)])
    after = {t: _one(connection, f"SELECT count(*) FROM {t}") for t in before}
    assert after == before


def test_steps_are_a_plain_list() -> None:
    names = [s.name for s in STEPS]
    assert names[:2] == ["osm", "routes"] and len(set(names)) == len(names)
    for s in STEPS:
        for f in s.files:
            assert (SAMPLE / f).is_file(), f


def test_prune_removes_assets_a_register_no_longer_has(connection: Connection) -> None:
    from twin.services.sample import _prune_register

    ids = [
        _one(
            connection,
            "INSERT INTO asset (external_id, kind, geom, attributes, lifecycle_state, source) "
            "VALUES (:e, 'rsu', ST_Point(117.7, 39.0, 4326), '{}', 'in_service', "
            "CAST(:src AS jsonb)) RETURNING id",
            e=ext,
            src=src,
        )
        for ext, src in (
            ("PR-1", '{"register": {"file": "old.csv", "line": 2}}'),
            ("PR-2", '{"register": {"file": "old.csv", "line": 3}}'),
            ("osm:way/PR-3", '{"dataset": "x", "register": {"file": "old.csv", "line": 4}}'),
        )
    ]
    assert _prune_register(connection, "old.csv", keep=[ids[0]]) == 1
    left = {
        r
        for (r,) in connection.execute(
            text("SELECT external_id FROM asset WHERE external_id LIKE '%PR-%'")
        )
    }
    assert left == {"PR-1", "osm:way/PR-3"}
