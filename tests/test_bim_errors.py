"""Bad IFC input: each a clear error naming what is wrong, nothing half-written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from loaders import ifc as ifc_core
from loaders.ifc_georef import effective_scale
from twin.errors import Conflict, InputError, NotFound
from twin.services import bim
from twin.settings import PROJECT_ROOT, Settings

SAMPLE_BRIDGE = PROJECT_ROOT / "data" / "sample" / "bim" / "yingkou_road_bridge.ifc"


def _counts(conn: Connection) -> tuple[int, int, int, int]:
    row = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM bim_model), (SELECT count(*) FROM bim_element), "
            "(SELECT count(*) FROM structure_limit), (SELECT count(*) FROM load_run)"
        )
    ).one()
    return tuple(row)  # type: ignore[return-value]


def _files(settings: Settings) -> set[str]:
    d = settings.bim_dir
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def _refused(conn: Connection, settings: Settings, path: Path, fragment: str, **kw: object) -> str:
    before, files = _counts(conn), _files(settings)
    with pytest.raises(InputError) as exc:
        bim.import_ifc(conn, path, settings=settings, threads=1, **kw)  # type: ignore[arg-type]
    assert fragment in exc.value.message, exc.value.message
    assert _counts(conn) == before, "rows were written by a refused import"
    assert _files(settings) == files, "files were left behind by a refused import"
    return exc.value.message


def test_not_an_ifc(connection: Connection, settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "notes.ifc"
    p.write_text("bridge notes, not a model\n")
    msg = _refused(connection, settings, p, "not an IFC file")
    assert "notes.ifc" in msg and "ISO-10303-21" in msg


def test_truncated_step(connection: Connection, settings: Settings, tmp_path: Path) -> None:
    src = SAMPLE_BRIDGE.read_bytes()
    p = tmp_path / "cut.ifc"
    p.write_bytes(src[: len(src) // 2])
    _refused(connection, settings, p, "truncated")


def test_unknown_schema(connection: Connection, settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "future.ifc"
    p.write_text(SAMPLE_BRIDGE.read_text().replace("'IFC4X3_ADD2'", "'IFC5X1'"))
    msg = _refused(connection, settings, p, "unsupported IFC schema 'IFC5X1'")
    assert "IFC4" in msg  # names what would be valid


def test_broken_references(connection: Connection, settings: Settings, tmp_path: Path) -> None:
    src = SAMPLE_BRIDGE.read_text()
    # point the project's unit assignment at an entity that does not exist
    m = re.search(r"^(#\d+=IFCPROJECT\(.*,)(#\d+)\);$", src, re.M)
    assert m
    p = tmp_path / "broken.ifc"
    p.write_text(src.replace(m.group(0), m.group(1) + "#999999);"))
    msg = _refused(connection, settings, p, "broken reference")
    assert "#999999" in msg and "line" in msg


def test_unknown_entity_class_is_not_dropped_silently(
    connection: Connection, settings: Settings, tmp_path: Path
) -> None:
    src = SAMPLE_BRIDGE.read_text()
    p = tmp_path / "odd.ifc"
    p.write_text(src.replace("ENDSEC;\nEND-ISO", "#999998=IFCWARPDRIVE('x');\nENDSEC;\nEND-ISO"))
    msg = _refused(connection, settings, p, "could not be read")
    assert "IFCWARPDRIVE" in msg


def test_model_without_geometry(connection: Connection, settings: Settings, tmp_path: Path) -> None:
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.project
    import ifcopenshell.api.root
    import ifcopenshell.api.unit

    f = ifcopenshell.api.project.create_file(version="IFC4")
    proj = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="empty")
    ifcopenshell.api.unit.assign_unit(f)
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="site")
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=proj)
    p = tmp_path / "empty.ifc"
    f.write(str(p))
    _refused(connection, settings, p, "no geometry")


def test_model_far_from_its_asset(connection: Connection, settings: Settings) -> None:
    # a bridge asset in Beijing; the sample model is georeferenced to Tianjin
    aid = connection.execute(
        text(
            "INSERT INTO asset (external_id, kind, geom, lifecycle_state, attributes, source) "
            "VALUES ('TEST-BIM-FAR', 'bridge', ST_GeomFromText('POINT(116.35 40.0)', 4326), "
            "'in_service', '{}', '{}') RETURNING id"
        )
    ).scalar_one()
    msg = _refused(connection, settings, SAMPLE_BRIDGE, "km from asset", asset_id=aid)
    assert f"asset {aid}" in msg


def test_missing_asset_and_missing_file(connection: Connection, settings: Settings) -> None:
    with pytest.raises(NotFound):
        bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, asset_id=987654321)
    with pytest.raises(InputError, match="no such file"):
        bim.import_ifc(connection, SAMPLE_BRIDGE.with_name("nope.ifc"), settings=settings)


def test_same_file_linked_to_another_asset_is_a_conflict(
    connection: Connection, settings: Settings
) -> None:
    ids = [
        connection.execute(
            text(
                "INSERT INTO asset (external_id, kind, geom, lifecycle_state, attributes, source) "
                "VALUES (:e, 'bridge', ST_GeomFromText('LINESTRING(117.1954389 39.1471714, "
                "117.1954158 39.147982)', 4326), 'in_service', '{}', '{}') RETURNING id"
            ),
            {"e": f"TEST-BIM-C{i}"},
        ).scalar_one()
        for i in range(2)
    ]
    bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, asset_id=ids[0], threads=1)
    with pytest.raises(Conflict):
        bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, asset_id=ids[1])


@pytest.mark.parametrize("value", ["117.2", "a,b", "200,39", "117.2,95", "nan,39"])
def test_bad_anchor(value: str) -> None:
    with pytest.raises(InputError, match="--anchor"):
        bim.parse_anchor(value)


def test_effective_scale_rules() -> None:
    assert effective_scale(None, 0.001) == (0.001, None)
    assert effective_scale(0.001, 0.001) == (0.001, None)
    s, w = effective_scale(1000.0, 0.001)  # buildingSMART's utm sample
    assert s == 0.001 and w and "inverse" in w
    assert effective_scale(0.9996, 1.0) == (0.9996, None)  # a grid factor, kept


def test_scan_reports_hash_and_schema(shared_data: Path) -> None:
    import hashlib

    p = shared_data / "KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc"
    scan = ifc_core.scan_step(p)
    assert scan.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert scan.header_schema == "IFC4X3_RC2" and scan.needs_migration


def test_end_marker_only_at_a_line_start(tmp_path: Path) -> None:
    src = SAMPLE_BRIDGE.read_text()
    indented = tmp_path / "indented_end.ifc"
    indented.write_text(src.replace("END-ISO-10303-21;", " \t END-ISO-10303-21 ;"))
    assert ifc_core.scan_step(indented).entity_count > 0
    # the marker inside a comment after the last entity, not on its own line: truncated
    body = src[: src.rindex("ENDSEC;", 0, src.rindex("END-ISO-10303-21;"))]
    cut = tmp_path / "cut.ifc"
    cut.write_text(body + "/* x */ END-ISO-10303-21;\n")
    with pytest.raises(ifc_core.IfcError, match="truncated"):
        ifc_core.scan_step(cut)


def test_bad_threads_and_anchor_in_the_service(connection: Connection, settings: Settings) -> None:
    with pytest.raises(InputError, match="threads 0"):
        bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, threads=0)
    with pytest.raises(InputError, match="anchor"):
        bim.import_ifc(
            connection, SAMPLE_BRIDGE, settings=settings, anchor=bim.Anchor(lon=190.0, lat=0.0)
        )
