"""The staged OSM import: database steps on a worker thread, failures on either thread
leave the database as it was, edge sources keep their facts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

import twin.services.osm_import as svc
from loaders import osm
from twin.services.osm_import import import_osm

DATA = Path(__file__).parent / "data" / "osm_edge_cases.osm"


def _counts(conn: Connection) -> dict[str, int]:
    return {
        t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
        for t in ("road_node", "road_edge", "asset", "structure_limit", "load_run")
    }


def test_edge_source_names_file_way_and_dataset(connection: Connection, tmp_path: Path) -> None:
    res = import_osm(connection, DATA)
    src = connection.execute(
        text("SELECT source FROM road_edge WHERE osm_way_id = 100 ORDER BY id LIMIT 1")
    ).scalar_one()
    assert src == {"dataset": res.dataset, "file": DATA.name, "osm": "way/100"}
    assert res.dataset == f"osm:{res.sha256}"  # so the sha256 is still on the row
    copy = tmp_path / "renamed.osm"
    copy.write_bytes(DATA.read_bytes())
    named = import_osm(connection, copy, dataset="test:named")
    src = connection.execute(
        text(
            "SELECT source FROM road_edge WHERE source->>'dataset' = 'test:named' "
            "AND osm_way_id = 100 LIMIT 1"
        )
    ).scalar_one()
    assert src["sha256"] == named.sha256 and src["file"] == "renamed.osm"


@pytest.mark.parametrize("threaded", [True, False])
def test_failing_database_step_leaves_nothing(
    connection: Connection, monkeypatch: pytest.MonkeyPatch, threaded: bool
) -> None:
    before = _counts(connection)
    monkeypatch.setattr(svc, "THREADED", threaded)

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(svc, "_write_edges", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        import_osm(connection, DATA)
    assert _counts(connection) == before
    # the transaction is usable afterwards and a clean import goes through
    monkeypatch.undo()
    assert import_osm(connection, DATA).rows["road_edge"] > 0


def test_failing_build_while_the_worker_writes_leaves_nothing(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _counts(connection)

    def boom(*_a: object, **_k: object) -> None:
        raise ValueError("bad asset")

    # raised on the calling thread while the worker is writing nodes and edges
    monkeypatch.setattr(svc, "read_osm_assets", boom)
    with pytest.raises(ValueError, match="bad asset"):
        import_osm(connection, DATA)
    assert _counts(connection) == before


def test_staged_read_equals_one_call() -> None:
    one = osm.read_osm(DATA)
    graph = osm.read_osm_graph(DATA)
    staged = osm.read_osm_assets(graph, osm.read_osm_edges(graph))
    assert one.report.to_dict() == staged.report.to_dict()
    assert one.edges.osm_way_id.tolist() == staged.edges.osm_way_id.tolist()
    assert one.edges.max_height_cm.tolist() == pytest.approx(
        staged.edges.max_height_cm.tolist(), nan_ok=True
    )
    assert one.assets.external_id.tolist() == staged.assets.external_id.tolist()
