"""Stake centrelines: ``twin load stakes`` gives OSM roads a measure registers can use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from loaders.centrelines import CentrelineError, read_centrelines
from twin.errors import InputError
from twin.services import registers, road_stakes

SAMPLE_ROUTES = Path(__file__).resolve().parents[1] / "data" / "sample" / "routes.geojson"


def _feature(code: Any, coords: list[list[float]], **props: Any) -> dict[str, Any]:
    geom_type = "MultiLineString" if coords and isinstance(coords[0][0], list) else "LineString"
    return {
        "type": "Feature",
        "properties": {"code": code, **props},
        "geometry": {"type": geom_type, "coordinates": coords},
    }


def _write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def _sample_line(code: str) -> list[list[float]]:
    data = json.loads(SAMPLE_ROUTES.read_text(encoding="utf-8"))
    for f in data["features"]:
        if f["properties"]["code"] == code:
            return [list(c) for c in f["geometry"]["coordinates"]]
    raise AssertionError(f"{code} not in the sample routes")


def test_reader_names_each_bad_feature_and_field(tmp_path: Path) -> None:
    line = [[117.2, 39.1], [117.21, 39.11]]
    path = _write(
        tmp_path / "bad.geojson",
        [
            _feature("S1", line, stake_start="K1+23"),  # two-digit metres: ambiguous
            _feature(None, line),  # no code
            _feature("S3", [[39.1, 117.2], [39.11, 117.21]]),  # lat/lon swapped
            _feature("S4", [[[117.2, 39.1], [117.21, 39.11]], [[117.3, 39.2], [117.31, 39.2]]]),
            _feature("S5", line, chain_breaks="[{'back': 1}]"),  # not JSON
            _feature("S6", line),
            _feature("S6", line),  # duplicate code
        ],
    )
    with pytest.raises(CentrelineError) as err:
        read_centrelines(path)
    problems = err.value.problems
    assert len(problems) == 6
    assert "feature 1" in problems[0] and "stake_start" in problems[0] and "K1+23" in problems[0]
    assert "feature 2" in problems[1] and "'code'" in problems[1]
    assert "feature 3" in problems[2] and "swapped" in problems[2]
    assert "feature 4" in problems[3] and "do not join" in problems[3]
    assert "feature 5" in problems[4] and "chain_breaks" in problems[4]
    assert "feature 7" in problems[5] and "feature 6" in problems[5]


def test_reader_accepts_stake_text_chinese_fields_and_chain_breaks(tmp_path: Path) -> None:
    f = _feature(None, [[117.2, 39.1], [117.3, 39.1]])
    f["properties"] = {
        "路线编号": "G 2",
        "起点桩号": "K96+000",
        "断链": json.dumps([{"back": "K97+000", "ahead": "K97+050"}]),
    }
    (c,) = read_centrelines(_write(tmp_path / "zh.geojson", [f]))
    assert c.code == "G2"
    assert c.stake_start_m == 96000.0
    assert [(b.back_m, b.ahead_m) for b in c.chain_breaks] == [(97000.0, 97050.0)]


def _make_osm_like(conn: Connection, code: str) -> None:
    """Turn the sample road ``code`` into what an OSM import leaves: its edges collected
    as separate pieces, no centreline, no stake measure."""
    conn.execute(
        text(
            "UPDATE road r SET geom = g.geom, source = r.source - 'centreline', "
            "stake_start_m = 0 FROM (SELECT road_id, ST_Multi(ST_Collect(geom ORDER BY id DESC)) "
            "AS geom FROM road_edge GROUP BY road_id) g WHERE g.road_id = r.id AND r.code = :c"
        ),
        {"c": code},
    )
    conn.execute(
        text(
            "UPDATE road_edge SET stake_from_m = NULL, stake_to_m = NULL "
            "WHERE road_id = (SELECT id FROM road WHERE code = :c)"
        ),
        {"c": code},
    )
    n = conn.execute(
        text("SELECT ST_NumGeometries(geom) FROM road WHERE code = :c"), {"c": code}
    ).scalar_one()
    assert n > 1, "the test needs a road made of several edges"


def _register(path: Path, code: str, stake: str) -> Path:
    path.write_text(
        f"external_id,kind,name_zh,road_code,stake\nTEST-SIGN-1,sign,测试标志,{code},{stake}\n",
        encoding="utf-8",
    )
    return path


def test_register_refuses_stakes_on_a_road_without_centreline(
    sample_connection: Connection, tmp_path: Path
) -> None:
    _make_osm_like(sample_connection, "S40")
    rep = registers.load_register(sample_connection, _register(tmp_path / "r.csv", "S40", "K0+500"))
    assert rep.inserted == 0
    (rej,) = rep.rejected
    assert rej["line"] == 2
    assert "no stake centreline" in rej["reason"] and "twin load stakes" in rej["reason"]


def test_centreline_gives_edges_assets_and_registers_their_stakes(
    sample_connection: Connection, tmp_path: Path
) -> None:
    conn = sample_connection
    _make_osm_like(conn, "X201")
    line = _sample_line("X201")
    path = _write(
        tmp_path / "x201.geojson",
        [_feature("X201", line, stake_start="K10+000", name_en="County road 201")],
    )
    rep = road_stakes.load_centrelines(conn, path)
    assert rep.roads == 1 and rep.roads_created == 0
    assert rep.edges_with_stakes > 0
    row = conn.execute(
        text(
            "SELECT stake_start_m, stake_end_m, ST_NumGeometries(geom) AS parts, "
            "source->>'centreline' AS c FROM road WHERE code = 'X201'"
        )
    ).one()
    assert row.stake_start_m == 10000.0 and row.parts == 1 and row.c == "true"
    length_m = row.stake_end_m - row.stake_start_m
    lo, hi = conn.execute(
        text(
            "SELECT min(least(stake_from_m, stake_to_m)), max(greatest(stake_from_m, stake_to_m)) "
            "FROM road_edge WHERE road_id = (SELECT id FROM road WHERE code = 'X201')"
        )
    ).one()
    assert lo == pytest.approx(10000.0, abs=1.0)
    assert hi == pytest.approx(10000.0 + length_m, abs=1.0)
    # a register row by stake now lands on the road, 500 m from its start
    reg = registers.load_register(conn, _register(tmp_path / "r.csv", "X201", "K10+500"))
    assert reg.inserted == 1 and not reg.rejected
    dist = conn.execute(
        text(
            "SELECT ST_Distance(a.geom::geography, ST_LineInterpolatePoint(ST_LineMerge(r.geom), "
            "500.0 / ST_Length(r.geom::geography))::geography) FROM asset a, road r "
            "WHERE a.external_id = 'TEST-SIGN-1' AND r.code = 'X201'"
        )
    ).scalar_one()
    assert dist < 5.0


def test_a_bad_file_writes_nothing(sample_connection: Connection, tmp_path: Path) -> None:
    conn = sample_connection
    before = conn.execute(
        text("SELECT stake_start_m, ST_AsText(geom) FROM road WHERE code = 'G2'")
    ).one()
    path = _write(
        tmp_path / "bad.geojson",
        [
            _feature("G2", _sample_line("G2"), stake_start="K0+000"),
            _feature("S30", [[0.1, 0.1], [0.2, 0.2]]),
        ],
    )
    with pytest.raises(InputError) as err:
        road_stakes.load_centrelines(conn, path)
    assert "feature 2" in str(err.value) and "outside China" in str(err.value)
    after = conn.execute(
        text("SELECT stake_start_m, ST_AsText(geom) FROM road WHERE code = 'G2'")
    ).one()
    assert tuple(after) == tuple(before)


def test_reimporting_osm_keeps_the_centreline_and_restakes_its_edges(
    sample_connection: Connection,
) -> None:
    from twin.services.osm_import import import_osm
    from twin.services.sample import DATASET, SAMPLE_DIR

    conn = sample_connection
    q = text(
        "SELECT ST_AsText(r.geom) AS g, r.stake_start_m, "
        "(SELECT count(*) FROM road_edge e WHERE e.road_id = r.id "
        " AND e.stake_from_m IS NOT NULL) AS staked, "
        "(SELECT count(*) FROM road_edge e WHERE e.road_id = r.id) AS edges "
        "FROM road r WHERE r.code = 'G2'"
    )
    before = conn.execute(q).one()
    assert before.staked == before.edges > 0
    import_osm(conn, SAMPLE_DIR / "tianjin.osm", dataset=DATASET, region="china")
    after = conn.execute(q).one()
    assert after.g == before.g, "the stake centreline is not replaced by OSM pieces"
    assert after.stake_start_m == before.stake_start_m
    assert after.staked == after.edges == before.edges, "the new edges have their stakes"
