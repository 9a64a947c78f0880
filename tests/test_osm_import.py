"""``import_osm`` against the real test database (rolled back after each test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from twin.errors import InputError
from twin.services.osm_import import import_osm

DATA = Path(__file__).resolve().parent / "data"
EDGE_CASES = DATA / "osm_edge_cases.osm"
TABLES = ("road", "road_node", "road_edge", "asset", "structure_limit", "asset_edge", "load_run")


def _counts(conn: Connection) -> dict[str, int]:
    return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}


def _one(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).one()


def test_edge_cases_file_lands_in_every_table(connection: Connection) -> None:
    before = _counts(connection)
    res = import_osm(connection, EDGE_CASES)
    after = _counts(connection)
    assert res.rows["road_edge"] == 10 == after["road_edge"] - before["road_edge"]
    assert res.rows["road_node"] == 11 == after["road_node"] - before["road_node"]
    assert res.rows["asset"] == 4
    assert res.rows["asset_edge"] == 5
    assert after["load_run"] == before["load_run"] + 1
    # the bridge: limits in cm/kg from '3 m 80', '49' (t) and '10 st' (short tons)
    limits = dict(
        connection.execute(
            text(
                "SELECT sl.kind, sl.value FROM structure_limit sl JOIN asset a ON a.id = sl.asset_id "
                "WHERE a.external_id = 'osm:way/101' AND sl.conditional IS NULL"
            )
        ).all()
    )
    assert limits == {"height": 380, "weight": 49000, "axle_load": 9071}
    cond = _one(
        connection,
        "SELECT sl.value, sl.conditional, sl.status, sl.source_kind FROM structure_limit sl "
        "JOIN asset a ON a.id = sl.asset_id WHERE a.external_id = 'osm:way/101' "
        "AND sl.conditional IS NOT NULL",
    )
    assert tuple(cond) == (20000, "Mo-Fr 07:00-19:00", "approved", "osm")
    bridge = _one(
        connection,
        "SELECT kind, name_zh, name_en, road_code, ST_GeometryType(geom) FROM asset "
        "WHERE external_id = 'osm:way/101'",
    )
    assert tuple(bridge) == ("bridge", "海河大桥", "Haihe Bridge", "G2", "ST_LineString")
    # the unparseable tunnel height is kept for review, never as 'no limit'
    tunnel = _one(
        connection,
        "SELECT sl.value, sl.value_text, sl.unlimited, sl.status FROM structure_limit sl "
        "JOIN asset a ON a.id = sl.asset_id WHERE a.external_id = 'osm:way/104' "
        "AND sl.kind = 'height'",
    )
    assert tuple(tunnel) == (None, "4.5 yards", False, "proposed")
    assert res.report is not None
    assert res.report.unparseable["maxheight"].examples == ["way/104: '4.5 yards' (unit)"]


def test_height_restrictor_is_projected_onto_incident_edges(connection: Connection) -> None:
    import_osm(connection, EDGE_CASES)
    rows = connection.execute(
        text(
            "SELECT e.osm_way_id, e.max_height_cm, n1.osm_id, n2.osm_id FROM asset a "
            "JOIN asset_edge ae ON ae.asset_id = a.id JOIN road_edge e ON e.id = ae.edge_id "
            "JOIN road_node n1 ON n1.id = e.source_node JOIN road_node n2 ON n2.id = e.target_node "
            "WHERE a.external_id = 'osm:node/7' ORDER BY n1.osm_id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [(102, 250, 4, 7), (102, 250, 7, 8)]
    lim = _one(
        connection,
        "SELECT sl.kind, sl.value FROM structure_limit sl JOIN asset a ON a.id = sl.asset_id "
        "WHERE a.external_id = 'osm:node/7'",
    )
    assert tuple(lim) == ("height", 250)


def test_edges_graph_rules(connection: Connection) -> None:
    import_osm(connection, EDGE_CASES)
    # oneway=-1: stored reversed, travelled along its geometry from node 6 to node 3
    rev = _one(
        connection,
        "SELECT e.oneway, s.osm_id, t.osm_id, ST_NPoints(e.geom), e.speed_kmh, "
        "ST_X(ST_StartPoint(e.geom)), ST_Y(ST_StartPoint(e.geom)), e.source->>'reversed' "
        "FROM road_edge e JOIN road_node s ON s.id = e.source_node "
        "JOIN road_node t ON t.id = e.target_node WHERE e.osm_way_id = 103",
    )
    assert tuple(rev) == (True, 6, 3, 3, 48.0, 117.202, 39.102, "true")
    # motorway without oneway tag is oneway; roundabout is oneway; the footway is absent
    ow = dict(
        connection.execute(
            text("SELECT osm_way_id, oneway FROM road_edge WHERE osm_way_id IN (100, 110, 111)")
        ).all()
    )
    assert ow == {100: False, 110: True, 111: True}
    assert _one(connection, "SELECT count(*) FROM road_edge WHERE osm_way_id = 106")[0] == 0
    # lengths: geodesic vs PostGIS geography on the same geometry agree to a millimetre
    diff = _one(
        connection,
        "SELECT max(abs(length_m - ST_Length(geom::geography))) FROM road_edge "
        "WHERE source->>'file' = 'osm_edge_cases.osm'",
    )[0]
    assert diff < 1e-3
    road = _one(
        connection,
        "SELECT name_zh, name_en, road_class, ST_NumGeometries(geom) FROM road WHERE code = 'G2'",
    )
    assert tuple(road) == ("京沪高速", "Jinghu Expressway", "primary", 5)


def test_reload_same_file_is_idempotent(connection: Connection) -> None:
    first = import_osm(connection, EDGE_CASES)
    snap = _snapshot(connection)
    second = import_osm(connection, EDGE_CASES)
    assert second.dataset == first.dataset
    assert second.replaced["road_edge"] == first.rows["road_edge"]
    assert _snapshot(connection) == snap


def _snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    q = {
        "road_edge": "SELECT id, source_node, target_node, osm_way_id, length_m, max_height_cm, "
        "ST_AsText(geom) FROM road_edge ORDER BY id",
        "road_node": "SELECT id, osm_id, ST_AsText(geom) FROM road_node ORDER BY id",
        "asset": "SELECT id, external_id, kind, ST_AsText(geom) FROM asset ORDER BY id",
        "structure_limit": "SELECT asset_id, kind, value, value_text, status, conditional "
        "FROM structure_limit ORDER BY asset_id, kind, value_text",
        "asset_edge": "SELECT asset_id, edge_id FROM asset_edge ORDER BY 1, 2",
        "road": "SELECT id, code, ST_AsText(geom) FROM road ORDER BY id",
    }
    return {k: [tuple(r) for r in conn.execute(text(v)).all()] for k, v in q.items()}


def test_dataset_name_replaces_a_changed_file(connection: Connection, tmp_path: Path) -> None:
    import_osm(connection, EDGE_CASES, dataset="test:edge-cases")
    changed = tmp_path / "changed.osm"
    changed.write_text(
        EDGE_CASES.read_text().replace('<tag k="maxweight" v="49"/>', '<tag k="maxweight" v="30"/>')
    )
    res = import_osm(connection, changed, dataset="test:edge-cases")
    assert res.replaced["road_edge"] == 10
    weights = connection.execute(
        text(
            "SELECT sl.value FROM structure_limit sl JOIN asset a ON a.id = sl.asset_id "
            "WHERE a.external_id = 'osm:way/101' AND sl.kind = 'weight' AND sl.conditional IS NULL"
        )
    ).scalars()
    assert list(weights) == [30000]
    n = _one(
        connection,
        "SELECT count(*) FROM road_edge WHERE source->>'dataset' = 'test:edge-cases'",
    )[0]
    assert n == 10


def test_failure_half_way_leaves_database_as_it_was(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    import twin.services.osm_import as svc

    before = _counts(connection)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full (simulated after nodes, roads and edges were written)")

    monkeypatch.setattr(svc, "_upsert_assets", boom)
    with pytest.raises(RuntimeError):
        import_osm(connection, EDGE_CASES)
    assert _counts(connection) == before  # the savepoint was rolled back


def test_region_china_and_bbox(connection: Connection) -> None:
    res = import_osm(connection, EDGE_CASES, region="china")  # Tianjin coordinates: fine
    assert "outside_china" not in res.report.warnings  # type: ignore[union-attr]
    with pytest.raises(InputError, match="outside the bbox"):
        import_osm(connection, EDGE_CASES, bbox=(117.0, 39.0, 117.205, 39.2))
    with pytest.raises(InputError, match="bbox"):
        import_osm(connection, EDGE_CASES, bbox=(118.0, 39.0, 117.0, 39.2))


def test_process_wide_settings_are_restored(connection: Connection, tmp_path: Path) -> None:
    """The import shortens the GIL switch interval and pauses the cyclic GC while it
    runs; both come back as they were, after a load and after a failed one."""
    import gc
    import sys

    interval = sys.getswitchinterval()
    assert gc.isenabled()
    import_osm(connection, EDGE_CASES)
    assert sys.getswitchinterval() == interval
    assert gc.isenabled()
    broken = tmp_path / "broken.osm"
    broken.write_bytes(EDGE_CASES.read_bytes()[:-300])
    with pytest.raises(InputError):
        import_osm(connection, broken)
    assert sys.getswitchinterval() == interval
    assert gc.isenabled()
    gc.disable()  # and a caller's disabled collector stays disabled
    try:
        import_osm(connection, EDGE_CASES)
        assert not gc.isenabled()
    finally:
        gc.enable()
