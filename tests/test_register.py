"""Asset registers: CSV (UTF-8 and GBK), Excel, GeoPackage; placement by stake; rejections;
updates by external id; atomicity. Runs against the real PostGIS test database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pyproj import Geod
from shapely import LineString
from sqlalchemy import Connection, text

from loaders.register import ASSET_KINDS, RegisterError, detect_encoding, read_register
from road_network.stake import LinearRoute, parse_chain_breaks, to_metric, to_wgs84
from twin.errors import InputError
from twin.services import registers

GEOD = Geod(ellps="WGS84")
# A test road along 39.0N from 117.70E to 117.74E (about 3.46 km), stakes from K1+000,
# with a 50 m long chain break at K2+000 (continues as K1+950).
ROAD = LineString([(117.70, 39.0), (117.74, 39.0)])
BREAKS = [{"back": "K2+000", "ahead": "K1+950"}]
HEADER = ["资产编号", "类型", "名称", "路线编号", "桩号", "止点桩号", "限高(m)", "限重(t)", "备注"]
GOOD_ROWS = [
    ["T-RSU-1", "路侧单元", "路侧单元一", "TR1", "K1+500", "", "", "", "第一台"],
    ["T-UPS-1", "下穿通道", "下穿通道一", "TR1", "K2+300", "", "4.2", "", ""],
    ["T-PAV-1", "路面", "路面段一", "TR1", "K1+100", "K2+900", "", "", ""],
    ["T-BRG-1", "桥梁", "小桥", "TR1", "K3+000", "", "", "20", ""],
]


@pytest.fixture()
def road(connection: Connection) -> dict[str, Any]:
    """Road TR1 with two edges on its centreline, and a crossing road TR2."""
    c = connection
    rid = c.execute(
        text(
            "INSERT INTO road (code, name_zh, road_class, geom, stake_start_m, chain_breaks, "
            "source) VALUES ('TR1', '测试路', 'trunk', ST_Multi(ST_GeomFromText(:g, 4326)), "
            "1000, CAST(:b AS jsonb), '{}') RETURNING id"
        ),
        {"g": ROAD.wkt, "b": json.dumps(BREAKS)},
    ).scalar_one()
    rid2 = c.execute(
        text(
            "INSERT INTO road (code, road_class, stake_start_m, chain_breaks, source) "
            "VALUES ('TR2', 'tertiary', 0, '[]', '{}') RETURNING id"
        )
    ).scalar_one()
    pts = {
        1: (117.70, 39.0),
        2: (117.72, 39.0),
        3: (117.74, 39.0),
        4: (117.72, 38.99),
        5: (117.72, 39.01),
    }
    for nid, (x, y) in pts.items():
        c.execute(
            text(
                "INSERT INTO road_node (id, geom, attrs) VALUES (:i, ST_Point(:x, :y, 4326), '{}')"
            ),
            {"i": 9_000_000 + nid, "x": x, "y": y},
        )
    edges = [
        (1, 1, 2, rid, "TR1"),
        (2, 2, 3, rid, "TR1"),
        (3, 4, 2, rid2, "TR2"),
        (4, 2, 5, rid2, "TR2"),
    ]
    for eid, a, b, r, ref in edges:
        line = LineString([pts[a], pts[b]])
        c.execute(
            text(
                "INSERT INTO road_edge (id, road_id, source_node, target_node, ref, length_m, "
                "speed_kmh, oneway, is_bridge, is_tunnel, conditional, source, geom) VALUES "
                "(:i, :r, :a, :b, :ref, :len, 60, false, false, false, '{}', '{}', "
                "ST_GeomFromText(:g, 4326))"
            ),
            {
                "i": 9_000_000 + eid,
                "r": r,
                "a": 9_000_000 + a,
                "b": 9_000_000 + b,
                "ref": ref,
                "len": to_metric(line).length,
                "g": line.wkt,
            },
        )
    route = LinearRoute(
        to_metric(ROAD),
        stake_start_m=1000,  # type: ignore[arg-type]
        chain_breaks=parse_chain_breaks(BREAKS),
        code="TR1",
    )
    return {"id": rid, "route": route, "edges": {e[0]: 9_000_000 + e[0] for e in edges}}


def _csv(path: Path, rows: list[list[str]], *, encoding: str, header: list[str] = HEADER) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _asset(conn: Connection, ext: str) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                "SELECT id, kind, name_zh, stake_m, road_id, owner, built_on, attributes, "
                "lifecycle_state, ST_X(ST_PointOnSurface(geom)) AS x, "
                "ST_Y(ST_PointOnSurface(geom)) AS y, GeometryType(geom) AS gt, "
                "ST_Length(geom::geography) AS len_m FROM asset WHERE external_id = :e"
            ),
            {"e": ext},
        )
        .mappings()
        .one()
    )
    return dict(row)


def _counts(conn: Connection) -> dict[str, int]:
    return {
        t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
        for t in ("asset", "structure_limit", "asset_edge", "load_run")
    }


def test_register_kinds_mirror_the_schema() -> None:
    from twin.schema import ASSET_KINDS as SCHEMA_KINDS

    assert set(ASSET_KINDS) == set(SCHEMA_KINDS)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "utf-8-sig"])
def test_csv_loads_in_utf8_and_gbk(
    connection: Connection, road: dict[str, Any], tmp_path: Path, encoding: str
) -> None:
    path = _csv(tmp_path / f"reg_{encoding}.csv", GOOD_ROWS, encoding=encoding)
    rep = registers.load_register(connection, path)
    assert rep.rejected == []
    assert (rep.inserted, rep.updated, rep.limits) == (4, 0, 2)
    assert rep.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    rsu = _asset(connection, "T-RSU-1")
    assert rsu["kind"] == "rsu" and rsu["name_zh"] == "路侧单元一"
    assert rsu["attributes"]["备注"] == "第一台"
    assert rsu["road_id"] == road["id"]


def test_stake_placement_accuracy(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    registers.load_register(connection, _csv(tmp_path / "r.csv", GOOD_ROWS, encoding="utf-8"))
    # K1+500 is 500 m from the start (before the break): geodesic distance from 117.70E.
    rsu = _asset(connection, "T-RSU-1")
    _az, _baz, d = GEOD.inv(117.70, 39.0, rsu["x"], rsu["y"])
    assert d == pytest.approx(500.0, abs=0.5)
    assert rsu["y"] == pytest.approx(39.0, abs=1e-5)
    # K2+300 lies after the long chain break: 1,000 m + (2,300 - 1,950) m = 1,350 m along
    # (EPSG:4548 grid distance; the geodesic differs by the scale factor, < 0.1 % here).
    ups = _asset(connection, "T-UPS-1")
    expected = to_wgs84(road["route"].point_at(2300))
    _a, _b, err = GEOD.inv(ups["x"], ups["y"], expected.x, expected.y)  # type: ignore[attr-defined]
    assert err < 0.01
    _a, _b, d = GEOD.inv(117.70, 39.0, ups["x"], ups["y"])
    assert d == pytest.approx(1350.0, rel=2e-3)
    # the section K1+100..K2+900 spans the break: 900 m + 50 m (long chain) + 900 m
    pav = _asset(connection, "T-PAV-1")
    assert pav["gt"] == "LINESTRING"
    assert pav["len_m"] == pytest.approx(1850.0, rel=2e-3)


def test_limits_and_edge_links(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    registers.load_register(connection, _csv(tmp_path / "r.csv", GOOD_ROWS, encoding="utf-8"))
    lim = connection.execute(
        text(
            "SELECT a.external_id, s.kind, s.value, s.source_kind FROM structure_limit s "
            "JOIN asset a ON a.id = s.asset_id WHERE a.external_id LIKE 'T-%' ORDER BY 1"
        )
    ).all()
    assert [tuple(r) for r in lim] == [
        ("T-BRG-1", "weight", 20000, "register"),
        ("T-UPS-1", "height", 420, "register"),
    ]
    links = connection.execute(
        text(
            "SELECT a.external_id, array_agg(x.edge_id ORDER BY x.edge_id) FROM asset_edge x "
            "JOIN asset a ON a.id = x.asset_id WHERE a.external_id LIKE 'T-%' GROUP BY 1"
        )
    ).all()
    got = dict(links)
    e = road["edges"]
    assert got["T-RSU-1"] == [e[1]]  # on TR1's first edge, never the crossing TR2
    assert got["T-BRG-1"] == [e[2]]
    assert got["T-PAV-1"] == [e[1], e[2]]  # the section spans both edges of TR1


def test_excel_register(connection: Connection, road: dict[str, Any], tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "资产"
    ws.append(["asset_id", "type", "name", "road_code", "stake", "max_height", "built_year"])
    ws.append(["X-1", "sign", "限高标志", "TR1", "K1+250", 4.5, 2012])
    ws.append(["X-2", "gantry", "门架", "TR1", "K9+000", None, None])  # beyond the end
    ws2 = wb.create_sheet("里程")
    ws2.append(["编号", "类型", "路线编号", "里程(m)"])
    ws2.append(["X-3", "照明", "TR1", 1500])
    path = tmp_path / "reg.xlsx"
    wb.save(path)
    rep = registers.load_register(connection, path)
    assert rep.format == "excel" and rep.inserted == 1
    assert rep.rejected[0]["line"] == 3 and "beyond road TR1" in rep.rejected[0]["reason"]
    a = _asset(connection, "X-1")
    assert a["built_on"].year == 2012 and a["kind"] == "sign"
    # a numeric measure in metres (里程) instead of a K-stake, on another sheet
    rep = registers.load_register(connection, path, sheet="里程")
    assert rep.inserted == 1 and _asset(connection, "X-3")["stake_m"] == 1500.0


def test_geopackage_register(connection: Connection, road: dict[str, Any], tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely import Point

    gdf = gpd.GeoDataFrame(
        {"编号": ["G-1", "G-2"], "类型": ["摄像机", "气象站"], "路线编号": ["TR1", None]},
        geometry=[Point(117.71, 39.0001), Point(117.73, 39.0)],
        crs="EPSG:4326",
    ).to_crs(4548)  # stored in CGCS2000 / GK CM 117E: the reader reprojects
    path = tmp_path / "reg.gpkg"
    gdf.to_file(path, layer="assets", driver="GPKG")
    rep = registers.load_register(connection, path)
    assert rep.format == "gis" and rep.inserted == 2 and rep.rejected == []
    cam = _asset(connection, "G-1")
    assert cam["x"] == pytest.approx(117.71, abs=1e-7) and cam["kind"] == "camera"
    # placed by geometry on TR1: the stake is computed back from the position
    expected = road["route"].locate(to_metric(Point(117.71, 39.0001)))[0]
    assert cam["stake_m"] == pytest.approx(expected, abs=0.01)
    assert 1800 < cam["stake_m"] < 1900


def test_every_rejection_reason_has_its_line(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    header = ["资产编号", "类型", "路线编号", "桩号", "经度", "纬度", "限高"]
    rows = [
        ["R-1", "桥梁", "TR1", "K1+200", "", "", ""],  # 2 good
        ["R-1", "桥梁", "TR1", "K1+300", "", "", ""],  # 3 duplicate id
        ["R-3", "桥梁", "TR1", "K5+000", "", "", ""],  # 4 beyond the end
        ["R-4", "飞艇", "TR1", "K1+200", "", "", ""],  # 5 unknown kind
        ["R-5", "标志", "", "", "39.05", "117.7", ""],  # 6 swapped lat/lon
        ["R-6", "标志", "", "", "2.35", "48.85", ""],  # 7 outside China
        ["R-7", "标志", "", "", "abc", "39", ""],  # 8 not a number
        ["R-8", "标志", "ZZ9", "K0+100", "", "", ""],  # 9 unknown road
        ["R-9", "标志", "TR1", "K1+2", "", "", ""],  # 10 malformed stake
        ["", "标志", "TR1", "K1+200", "", "", ""],  # 11 missing id
        ["R-11", "标志", "", "", "", "", ""],  # 12 no location
        ["R-12", "下穿通道", "TR1", "K1+200", "", "", "4.2 parsecs"],  # 13 bad limit
        ["R-13", "标志", "", "", "117.71", "39.0", ""],  # 14 good, by coordinates
        ["R-14", "标志", "TR1", "K1+200", "117.73", "39.0", ""],  # 15 stake vs coordinates
    ]
    path = _csv(tmp_path / "bad.csv", rows, encoding="gbk", header=header)
    rep = registers.load_register(connection, path)
    by_line = {r["line"]: r["reason"] for r in rep.rejected}
    assert rep.inserted == 2
    assert "duplicate asset id 'R-1' (first on line 2)" in by_line[3]
    assert "beyond road TR1" in by_line[4]
    assert "unknown kind '飞艇'" in by_line[5]
    assert "look swapped" in by_line[6]
    assert "outside China" in by_line[7]
    assert "not decimal degrees" in by_line[8]
    assert "unknown road code 'ZZ9'" in by_line[9]
    assert "bad stake" in by_line[10]
    assert "missing asset id" in by_line[11]
    assert "no location" in by_line[12]
    assert "bad height limit" in by_line[13]
    assert "apart" in by_line[15] and "one of them is wrong" in by_line[15]
    assert sorted(by_line) == [*range(3, 14), 15]


def test_short_chain_break_stake_is_rejected(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    connection.execute(
        text("UPDATE road SET chain_breaks = CAST(:b AS jsonb) WHERE code = 'TR1'"),
        {"b": json.dumps([{"back": "K2+000", "ahead": "K2+100"}])},
    )
    path = _csv(
        tmp_path / "s.csv", [["S-1", "标志", "", "TR1", "K2+050", "", "", "", ""]], encoding="utf-8"
    )
    rep = registers.load_register(connection, path)
    assert rep.inserted == 0 and "short chain break" in rep.rejected[0]["reason"]


def test_strict_fails_whole_file_and_changes_nothing(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    rows = [*GOOD_ROWS, ["T-BAD", "桥梁", "坏", "TR1", "K99+000", "", "", "", ""]]
    path = _csv(tmp_path / "strict.csv", rows, encoding="utf-8")
    before = _counts(connection)
    with pytest.raises(InputError, match=r"1 of 5 rows rejected; nothing loaded") as exc:
        registers.load_register(connection, path, strict=True)
    assert exc.value.details["rejected"][0]["line"] == 6
    assert _counts(connection) == before


def test_failure_half_way_rolls_back(
    connection: Connection, road: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _csv(tmp_path / "r.csv", GOOD_ROWS, encoding="utf-8")
    before = _counts(connection)

    def boom(*_a: Any, **_k: Any) -> int:
        raise RuntimeError("disk full while linking")

    # assets and limits are written before the links: fail there, after the inserts
    monkeypatch.setattr(registers, "link_assets_to_edges", boom)
    with pytest.raises(RuntimeError):
        registers.load_register(connection, path)
    assert _counts(connection) == before
    # the caller's transaction is still usable
    monkeypatch.undo()
    assert registers.load_register(connection, path).inserted == 4


def test_update_by_external_id_enriches_and_reload_is_idempotent(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    # an OSM-imported bridge, as the OSM importer writes it
    aid = connection.execute(
        text(
            "INSERT INTO asset (external_id, kind, name_zh, geom, attributes, source, "
            "lifecycle_state) VALUES ('osm:way/42', 'bridge', '海河桥', "
            "ST_GeomFromText('LINESTRING(117.721 39, 117.722 39)', 4326), "
            '\'{"layer": "1"}\', \'{"dataset": "t"}\', \'in_service\') RETURNING id'
        )
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO structure_limit (asset_id, kind, value, unlimited, source_kind, status, "
            "direction, source) VALUES (:a, 'weight', 55000, false, 'osm', 'approved', 'both', '{}')"
        ),
        {"a": aid},
    )
    header = ["external_id", "名称", "建成年份", "管养单位", "设计荷载", "限重", "限轴重"]
    rows = [["osm:way/42", "", "1998", "养护中心", "公路-I级", "40", "13"]]
    path = _csv(tmp_path / "bridges.csv", rows, encoding="gbk", header=header)
    rep = registers.load_register(connection, path, default_kind="bridge")
    assert (rep.inserted, rep.updated, rep.rejected) == (0, 1, [])
    a = _asset(connection, "osm:way/42")
    assert a["name_zh"] == "海河桥"  # blank cell keeps the stored name
    assert a["owner"] == "养护中心" and a["built_on"].year == 1998
    assert a["attributes"]["layer"] == "1" and a["attributes"]["design_load"] == "公路-I级"
    before = _counts(connection)
    rep2 = registers.load_register(connection, path, default_kind="bridge")
    after = _counts(connection)
    assert rep2.updated == 1
    assert {k: after[k] - before[k] for k in after} == {
        "asset": 0,
        "structure_limit": 0,
        "asset_edge": 0,
        "load_run": 1,
    }
    lims = connection.execute(
        text(
            "SELECT kind, value, source_kind FROM structure_limit WHERE asset_id = :a ORDER BY 1, 3"
        ),
        {"a": aid},
    ).all()
    assert [tuple(r) for r in lims] == [
        ("axle_load", 13000, "register"),
        ("weight", 55000, "osm"),
        ("weight", 40000, "register"),
    ]


def test_kind_conflict_with_existing_asset_is_rejected(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    registers.load_register(connection, _csv(tmp_path / "a.csv", GOOD_ROWS, encoding="utf-8"))
    path = _csv(
        tmp_path / "b.csv", [["T-RSU-1", "桥梁", "", "", "", "", "", "", ""]], encoding="utf-8"
    )
    rep = registers.load_register(connection, path)
    assert "exists as a rsu" in rep.rejected[0]["reason"]


def test_unreadable_files_are_input_errors(tmp_path: Path, connection: Connection) -> None:
    bad = tmp_path / "latin.csv"
    bad.write_bytes("资产编号,类型\n".encode("utf-16"))
    with pytest.raises(InputError, match=r"cannot decode|no asset id"):
        registers.load_register(connection, bad)
    noid = _csv(tmp_path / "noid.csv", [["a", "b"]], encoding="utf-8", header=["名称", "类型"])
    with pytest.raises(InputError, match="no asset id column"):
        registers.load_register(connection, noid)
    with pytest.raises(InputError, match="no such file"):
        registers.load_register(connection, tmp_path)  # a directory
    odd = tmp_path / "reg.dbf"
    odd.write_bytes(b"x")
    with pytest.raises(InputError, match="unknown register format"):
        registers.load_register(connection, odd)
    with pytest.raises(InputError, match="is not an asset kind"):
        registers.load_register(connection, noid, default_kind="zeppelin")


def test_detect_encoding() -> None:
    assert detect_encoding("桩号".encode()) == "utf-8"
    assert detect_encoding("桩号".encode("gbk")) == "gb18030"
    with pytest.raises(RegisterError):
        read_register("/nonexistent/file.csv")


def test_cli_reports_file_errors_without_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    noid = _csv(tmp_path / "noid.csv", [["a", "b"]], encoding="utf-8", header=["名称", "类型"])
    out = CliRunner().invoke(app, ["load", "register", str(noid)])
    assert out.exit_code == 2
    assert "no asset id column" in out.output and "Traceback" not in out.output
    out = CliRunner().invoke(app, ["load", "register", str(noid), "--kind", "zeppelin"])
    assert out.exit_code == 2 and "is not an asset kind" in out.output


def test_truncated_csv_fails_whole_file(
    connection: Connection, road: dict[str, Any], tmp_path: Path
) -> None:
    good = _csv(tmp_path / "t.csv", GOOD_ROWS, encoding="utf-8").read_text(encoding="utf-8")
    cut = tmp_path / "truncated.csv"
    cut.write_text(good + 'T-X,桥梁,"未闭合的引号,TR1,K1+100\n', encoding="utf-8")
    before = _counts(connection)
    with pytest.raises(InputError, match=r"truncated.csv line \d+: unexpected end of data"):
        registers.load_register(connection, cut)
    assert _counts(connection) == before
