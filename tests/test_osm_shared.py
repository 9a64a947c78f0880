"""OSM import on real third-party extracts read in place from ../shared/data.

Expected values are read from the same files independently (ElementTree / pyosmium
without our code), not copied into the test.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import osmium
import pytest
from sqlalchemy import Connection, text

from loaders.osm import DRIVABLE
from twin.services.osm_import import import_osm

pytestmark = pytest.mark.shared_data
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _xml_ways(path: Path) -> list[tuple[int, dict[str, str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        root = ET.parse(f).getroot()
    return [
        (int(w.get("id", "0")), {t.get("k", ""): t.get("v", "") for t in w.findall("tag")})
        for w in root.iter("way")
    ]


def _limits(conn: Connection, external_id: str) -> dict[str, int]:
    rows = conn.execute(
        text(
            "SELECT sl.kind, sl.value FROM structure_limit sl JOIN asset a ON a.id = sl.asset_id "
            "WHERE a.external_id = :e AND sl.source_kind = 'osm' AND sl.status = 'approved'"
        ),
        {"e": external_id},
    ).all()
    return {k: v for k, v in rows}


def test_krems_bridge_limits_land_in_structure_limit(
    connection: Connection, shared_data: Path
) -> None:
    path = shared_data / "krems.osm.gz"
    res = import_osm(connection, path)
    ways = _xml_ways(path)
    bridges = [
        (wid, tags)
        for wid, tags in ways
        if tags.get("highway") in DRIVABLE
        and tags.get("bridge", "no") != "no"
        and ("maxweight" in tags or "maxheight" in tags)
    ]
    assert len(bridges) >= 3  # SOURCES.md: 3 bridges carry maxweight or maxheight
    for wid, tags in bridges:
        expected = {}
        if "maxweight" in tags:
            expected["weight"] = round(float(tags["maxweight"]) * 1000)
        if "maxheight" in tags:
            expected["height"] = round(float(tags["maxheight"]) * 100)
        assert _limits(connection, f"osm:way/{wid}") == expected, wid
        # and on every edge of that bridge
        edge_weights = connection.execute(
            text("SELECT DISTINCT max_weight_kg FROM road_edge WHERE osm_way_id = :w"),
            {"w": wid},
        ).scalars()
        assert set(edge_weights) == {expected.get("weight")}
    # maxheight on ordinary streets (no bridge) reaches the edges too
    for wid, tags in ways:
        if tags.get("highway") in DRIVABLE and "maxheight" in tags:
            got = connection.execute(
                text("SELECT DISTINCT max_height_cm FROM road_edge WHERE osm_way_id = :w"),
                {"w": wid},
            ).scalars()
            assert set(got) == {round(float(tags["maxheight"]) * 100)}, wid
    assert res.report is not None and "outside_china" in res.report.warnings  # Austria


def test_monaco_tunnels(connection: Connection, shared_data: Path) -> None:
    path = shared_data / "monaco.osm.pbf"
    res = import_osm(connection, path)
    tunnel_ways = {}
    for w in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("tunnel")
    ):
        tags = dict(w.tags)
        if tags.get("highway") in DRIVABLE and tags["tunnel"] != "no":
            tunnel_ways[w.id] = tags
    assert len(tunnel_ways) > 50
    rows = connection.execute(
        text(
            "SELECT a.external_id, a.kind, count(ae.edge_id), bool_and(e.is_tunnel) FROM asset a "
            "JOIN asset_edge ae ON ae.asset_id = a.id JOIN road_edge e ON e.id = ae.edge_id "
            "WHERE a.kind IN ('tunnel', 'underpass', 'culvert') AND a.source->>'dataset' = :d "
            "GROUP BY a.external_id, a.kind"
        ),
        {"d": res.dataset},
    ).all()
    got = {int(ext.removeprefix("osm:way/")): (kind, n, all_t) for ext, kind, n, all_t in rows}
    rejected = res.report.rejected if res.report else {}
    lost = sum(i.count for i in rejected.values())
    assert set(got) <= set(tunnel_ways)
    assert len(got) >= len(tunnel_ways) - lost
    assert all(n >= 1 and all_t for _, n, all_t in got.values())
    for wid, tags in tunnel_ways.items():
        if "maxheight" in tags and wid in got:
            assert _limits(connection, f"osm:way/{wid}")["height"] == round(
                float(tags["maxheight"]) * 100
            )


@pytest.mark.parametrize("name", ["beijing_haidian_cau.osm", "shenzhen_longgang.osm"])
def test_chinese_extracts_keep_chinese_names(
    connection: Connection, shared_data: Path, name: str
) -> None:
    path = shared_data / name
    res = import_osm(connection, path, region="china")  # inside China: no error
    assert res.report is not None and "outside_china" not in res.report.warnings
    ways = _xml_ways(path)
    codes = {
        t["ref"].split(";")[0].strip()
        for _, t in ways
        if t.get("highway") in DRIVABLE and t.get("ref")
    }
    db_roads = dict(
        connection.execute(
            text("SELECT code, name_zh FROM road WHERE source->>'dataset' = :d"),
            {"d": res.dataset},
        ).all()
    )
    assert codes <= set(db_roads)
    assert any(n and _CJK.search(n) for n in db_roads.values())
    names = connection.execute(
        text("SELECT DISTINCT name FROM road_edge WHERE source->>'dataset' = :d"),
        {"d": res.dataset},
    ).scalars()
    expected = {
        t["name"]
        for _, t in ways
        if t.get("highway") in DRIVABLE and _CJK.search(t.get("name", ""))
    }
    assert expected and expected <= set(names)
    bridges = connection.execute(
        text("SELECT count(*) FROM asset WHERE kind = 'bridge' AND source->>'dataset' = :d"),
        {"d": res.dataset},
    ).scalar_one()
    assert bridges > 0
