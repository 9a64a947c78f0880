"""Bad OSM input: each case gives a clear error or a reported rejection, never a half load."""

from __future__ import annotations

from pathlib import Path

import osmium
import pytest
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from loaders.osm import read_osm
from twin.errors import InputError
from twin.services.osm_import import import_osm

DATA = Path(__file__).resolve().parent / "data"
EDGE_CASES = DATA / "osm_edge_cases.osm"
TABLES = ("road", "road_node", "road_edge", "asset", "structure_limit", "asset_edge", "load_run")


def _counts(conn: Connection) -> dict[str, int]:
    return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}


def _osm(tmp_path: Path, body: str, name: str = "t.osm") -> Path:
    p = tmp_path / name
    p.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}\n</osm>\n')
    return p


def _pbf_of(src: Path, dst: Path) -> Path:
    with osmium.SimpleWriter(str(dst)) as w:
        for obj in osmium.FileProcessor(str(src)):
            w.add(obj)
    return dst


def _refused(conn: Connection, path: Path, match: str) -> InputError:
    before = _counts(conn)
    with pytest.raises(InputError, match=match) as info:
        import_osm(conn, path)
    assert _counts(conn) == before
    return info.value


def test_truncated_xml_names_file_and_line(connection: Connection, tmp_path: Path) -> None:
    text_ = EDGE_CASES.read_text()
    cut = tmp_path / "cut.osm"
    cut.write_text(text_[: text_.index('<way id="104">') + 20])
    err = _refused(connection, cut, "XML parsing error at line")
    assert str(cut) in err.message


def test_truncated_pbf(connection: Connection, tmp_path: Path) -> None:
    pbf = _pbf_of(EDGE_CASES, tmp_path / "ok.osm.pbf")
    assert read_osm(pbf).report.counts["edges"] == 10  # the intact pbf reads
    cut = tmp_path / "cut.osm.pbf"
    data = pbf.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    _refused(connection, cut, "PBF error")


def test_garbage_pbf(connection: Connection, tmp_path: Path) -> None:
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 50)
    _refused(connection, junk, "cannot read OSM data")


def test_bad_coordinate_text_names_the_element(connection: Connection, tmp_path: Path) -> None:
    p = _osm(
        tmp_path,
        '<node id="1" lat="39.1" lon="117.2"><tag k="barrier" v="height_restrictor"/></node>\n'
        '<node id="2" lat="39,1x" lon="117.3"/>',
    )
    err = _refused(connection, p, "coordinate")
    assert "line 4: node/2 lat='39,1x'" in err.message


def test_unsupported_suffix_and_missing_file(connection: Connection, tmp_path: Path) -> None:
    csv = tmp_path / "roads.csv"
    csv.write_text("a,b\n")
    _refused(connection, csv, "unsupported file type")
    _refused(connection, tmp_path / "nope.osm", "no such file")


def test_file_without_roads(connection: Connection, tmp_path: Path) -> None:
    p = _osm(
        tmp_path,
        '<node id="1" lat="39.1" lon="117.2"/><node id="2" lat="39.2" lon="117.2"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>',
    )
    _refused(connection, p, "no drivable road")


def test_missing_nodes_split_the_way_and_are_reported(connection: Connection) -> None:
    res = import_osm(connection, EDGE_CASES)
    rep = res.report
    assert rep is not None
    assert rep.warnings["ways_with_missing_nodes"].examples == ["node/9 in way/105"]
    # way 105 = 20, 21, <9 missing>, 22: the located run 20-21 is kept, 22 alone is not
    pts = connection.execute(
        text(
            "SELECT ST_AsText(geom) FROM road_edge WHERE osm_way_id = 105 "
            "AND source->>'dataset' = :d"
        ),
        {"d": res.dataset},
    ).scalars()
    assert list(pts) == ["LINESTRING(117.206 39.1,117.207 39.1)"]


def test_swapped_lat_lon(connection: Connection, tmp_path: Path) -> None:
    # every coordinate swapped (lat 117): nothing is located, so nothing loads
    p = _osm(
        tmp_path,
        '<node id="1" lat="117.2" lon="39.1"/><node id="2" lat="117.3" lon="39.1"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>',
    )
    _refused(connection, p, "no drivable road")
    net = read_osm(p)
    assert net.report.warnings["invalid_coordinates"].count == 2
    assert "lat 117.2, lon 39.1" in net.report.warnings["invalid_coordinates"].examples[0]
    # swapped but still a valid position: flagged, and refused under region='china'
    q = _osm(
        tmp_path,
        '<node id="1" lat="80.1" lon="39.1"/><node id="2" lat="80.2" lon="39.1"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>',
        name="q.osm",
    )
    assert read_osm(q).report.warnings["swapped_lat_lon"].count == 2
    with pytest.raises(InputError, match="outside China"):
        import_osm(connection, q, region="china")


def test_self_intersecting_and_invalid_geometry(connection: Connection, tmp_path: Path) -> None:
    # a way crossing itself (no shared node at the crossing) and a bow-tie bridge area
    p = _osm(
        tmp_path,
        '<node id="1" lat="39.100" lon="117.200"/><node id="2" lat="39.101" lon="117.201"/>'
        '<node id="3" lat="39.101" lon="117.200"/><node id="4" lat="39.100" lon="117.201"/>'
        '<node id="5" lat="39.102" lon="117.202"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/>'
        '<tag k="highway" v="service"/></way>'
        '<way id="2"><nd ref="1"/><nd ref="2"/><nd ref="4"/><nd ref="3"/><nd ref="1"/>'
        '<tag k="man_made" v="bridge"/></way>',
    )
    res = import_osm(connection, p)
    assert res.report is not None
    assert res.report.warnings["self_intersecting_edges"].examples == ["way/1"]
    assert res.report.rejected["invalid_bridge_area"].examples[0].startswith("way/2: Self-")
    assert res.rows["road_edge"] == 1 and res.rows["asset"] == 0


def test_unknown_units_are_reported_not_unlimited(connection: Connection, tmp_path: Path) -> None:
    p = _osm(
        tmp_path,
        '<node id="1" lat="39.100" lon="117.200"/><node id="2" lat="39.100" lon="117.201"/>'
        '<way id="7"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/>'
        '<tag k="bridge" v="yes"/><tag k="maxweight" v="20 cwt"/><tag k="maxheight" v="4.2"/>'
        '<tag k="maxspeed" v="fast"/></way>',
    )
    res = import_osm(connection, p)
    assert res.report is not None
    assert res.report.unparseable["maxweight"].examples == ["way/7: '20 cwt' (unit)"]
    assert res.report.unparseable["maxspeed"].count == 1
    edge = connection.execute(
        text("SELECT max_weight_kg, max_height_cm, speed_kmh FROM road_edge WHERE osm_way_id = 7")
    ).one()
    assert tuple(edge) == (None, 420, 60.0)  # weight unknown (NULL), not 'no limit'
    lim = connection.execute(
        text(
            "SELECT value, value_text, unlimited, status, note FROM structure_limit sl "
            "JOIN asset a ON a.id = sl.asset_id WHERE a.external_id = 'osm:way/7' "
            "AND sl.kind = 'weight'"
        )
    ).one()
    assert tuple(lim) == (None, "20 cwt", False, "proposed", "unparseable; unit")


def test_cli_reports_errors_without_traceback(tmp_path: Path) -> None:
    from twin.cli import app

    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"garbage" * 10)
    runner = CliRunner()
    out = runner.invoke(app, ["load", "osm", str(junk)])
    assert out.exit_code == 2
    assert "cannot read OSM data" in out.output and "Traceback" not in out.output
    bad = runner.invoke(app, ["load", "osm", str(junk), "--bbox", "1,2,3"])
    assert bad.exit_code == 2 and "four numbers" in bad.output
