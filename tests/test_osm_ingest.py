"""The bulk-write helpers of the OSM import: COPY text, deferred indexes, a large load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Connection, text

from loaders.osm_write import write_osm_xml
from loaders.synthetic import generate_network
from twin.ingest import copy_escape, deferred_indexes, local_settings
from twin.services.osm_import import import_osm


def _indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t ORDER BY 1"),
        {"t": table},
    ).all()
    return [(str(n), str(d)) for n, d in rows]


def _rows(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_copy_escape_covers_copy_text_specials() -> None:
    assert copy_escape("a\\b\tc\nd\re 桥") == "a\\\\b\\tc\\nd\\re 桥"
    assert copy_escape("plain") == "plain"


def test_deferred_indexes_are_rebuilt_exactly(connection: Connection) -> None:
    before = _indexes(connection, "road_edge")
    assert len(before) > 1  # the primary key and the schema's secondary indexes
    many = _rows(connection, "road_edge") + 10_000
    with deferred_indexes(connection, {"road_edge": many, "road_node": 5}) as deferred:
        assert deferred == ["road_edge"]  # a small load keeps its table's indexes
        during = _indexes(connection, "road_edge")
        assert [n for n, _ in during] == ["pk_road_edge"]
    assert _indexes(connection, "road_edge") == before


def test_deferred_indexes_come_back_when_the_load_fails(connection: Connection) -> None:
    before = _indexes(connection, "road_node")
    many = _rows(connection, "road_node") + 10_000
    with (
        pytest.raises(RuntimeError, match="half-way"),
        connection.begin_nested(),
        deferred_indexes(connection, {"road_node": many}),
    ):
        assert [n for n, _ in _indexes(connection, "road_node")] == ["pk_road_node"]
        raise RuntimeError("the load failed half-way")
    assert _indexes(connection, "road_node") == before


def test_large_load_with_deferred_indexes(connection: Connection, tmp_path: Path) -> None:
    """Over the deferral threshold: COPY text, rebuilt indexes, the graph as generated."""
    net = generate_network(edges=10_500, seed=5, limited_share=0.05)
    path = write_osm_xml(net, tmp_path / "big.osm")
    # a name with every COPY special character goes through the text blocks intact
    odd = "桥\\name\twith\nspecials"
    body = path.read_text(encoding="utf-8")
    first = net.roads[int(net.edge_road[0])].name_zh
    body = body.replace(f'v="{first}"', 'v="桥\\name&#9;with&#10;specials"', 1)
    path.write_text(body, encoding="utf-8")
    edge_indexes, node_indexes = (
        _indexes(connection, "road_edge"),
        _indexes(connection, "road_node"),
    )
    before = _rows(connection, "road_edge")
    res = import_osm(connection, path)
    assert res.rows["road_edge"] == net.n_edges == _rows(connection, "road_edge") - before
    assert _indexes(connection, "road_edge") == edge_indexes
    assert _indexes(connection, "road_node") == node_indexes
    got = connection.execute(
        text("SELECT count(*) FROM road_edge WHERE name = :n AND source->>'dataset' = :d"),
        {"n": odd, "d": res.dataset},
    ).scalar_one()
    assert got >= 1
    # lengths and geometry as generated: way id = edge index + 1
    rows = connection.execute(
        text(
            "SELECT osm_way_id, length_m, ST_NPoints(geom), ST_IsValid(geom) FROM road_edge "
            "WHERE source->>'dataset' = :d ORDER BY osm_way_id"
        ),
        {"d": res.dataset},
    ).all()
    way = np.array([r[0] for r in rows]) - 1
    assert np.allclose([r[1] for r in rows], net.edge_length_m[way], rtol=0.01)
    assert [r[2] for r in rows] == np.diff(net.geom_offsets)[way].tolist()
    assert all(r[3] for r in rows)
    # every edge's nodes exist (the foreign keys the bulk COPY checked on the frames)
    dangling = connection.execute(
        text(
            "SELECT count(*) FROM road_edge e WHERE source->>'dataset' = :d AND ("
            "NOT EXISTS (SELECT 1 FROM road_node n WHERE n.id = e.source_node) OR "
            "NOT EXISTS (SELECT 1 FROM road_node n WHERE n.id = e.target_node))"
        ),
        {"d": res.dataset},
    ).scalar_one()
    assert dangling == 0


def test_local_settings_hold_for_the_block_only(connection: Connection) -> None:
    def value(name: str) -> str:
        return str(connection.execute(text("SELECT current_setting(:n)"), {"n": name}).scalar())

    before = value("maintenance_work_mem"), value("max_parallel_maintenance_workers")
    with local_settings(
        connection, maintenance_work_mem="123MB", max_parallel_maintenance_workers="0"
    ):
        assert (value("maintenance_work_mem"), value("max_parallel_maintenance_workers")) == (
            "123MB",
            "0",
        )
    assert (value("maintenance_work_mem"), value("max_parallel_maintenance_workers")) == before
