"""Water and land use for the offline basemap: the OSM area reader, ``land_area`` rows,
the basemap query and the one polygon layer the scenes draw (real PostGIS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely import wkb
from sqlalchemy import Connection, text

from loaders.osm_areas import OsmAreaError, area_kind, read_areas
from scenes import network, port
from scenes._common import AREA_COLORS, WATER, rgba
from scenes.i18n import t
from twin.errors import InputError
from twin.services import sample
from twin.services import twin_view as tv
from twin.services.land_areas import import_areas
from twin.settings import PROJECT_ROOT

SAMPLE_OSM = PROJECT_ROOT / "data" / "sample" / "tianjin.osm"

#: A lake (closed way), farmland with a hole (multipolygon relation), a ring road (closed
#: highway way: not an area of the basemap) and a relation whose member is missing.
SMALL_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="39.00" lon="117.00"/><node id="2" lat="39.00" lon="117.01"/>
  <node id="3" lat="39.01" lon="117.01"/><node id="4" lat="39.01" lon="117.00"/>
  <node id="11" lat="39.10" lon="117.10"/><node id="12" lat="39.10" lon="117.20"/>
  <node id="13" lat="39.20" lon="117.20"/><node id="14" lat="39.20" lon="117.10"/>
  <node id="21" lat="39.14" lon="117.14"/><node id="22" lat="39.14" lon="117.16"/>
  <node id="23" lat="39.16" lon="117.16"/><node id="24" lat="39.16" lon="117.14"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="natural" v="water"/><tag k="water" v="lake"/><tag k="name" v="小湖"/>
    <tag k="name:en" v="Small Lake"/></way>
  <way id="2"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="11"/></way>
  <way id="3"><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="24"/><nd ref="21"/></way>
  <way id="4"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="highway" v="tertiary"/></way>
  <relation id="1"><member type="way" ref="2" role="outer"/>
    <member type="way" ref="3" role="inner"/>
    <tag k="type" v="multipolygon"/><tag k="landuse" v="farmland"/></relation>
  <relation id="2"><member type="way" ref="99" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="natural" v="water"/></relation>
</osm>
"""


@pytest.fixture()
def small_osm(tmp_path: Path) -> Path:
    p = tmp_path / "small.osm"
    p.write_text(SMALL_OSM, encoding="utf-8")
    return p


def test_area_kinds_from_tags() -> None:
    assert area_kind({"natural": "water", "water": "river"}) == "river"
    assert area_kind({"waterway": "riverbank"}) == "river"
    assert area_kind({"natural": "bay"}) == "sea"
    assert area_kind({"natural": "water", "water": "reservoir"}) == "water"
    assert area_kind({"landuse": "residential"}) == "urban"
    assert area_kind({"landuse": "industrial"}) == "industrial"
    assert area_kind({"landuse": "port"}) == "port"
    assert area_kind({"landuse": "farmland"}) == "farmland"
    assert area_kind({"leisure": "park"}) == "park"
    assert area_kind({"highway": "service"}) is None
    assert area_kind({"building": "yes"}) is None


def test_read_areas_ways_and_multipolygons(small_osm: Path) -> None:
    rep = read_areas(small_osm)
    by_kind = {r.kind: r for r in rep.rows}
    assert set(by_kind) == {"water", "farmland"}
    lake = by_kind["water"]
    assert (lake.osm_type, lake.osm_id, lake.name, lake.name_en) == ("way", 1, "小湖", "Small Lake")
    farm = wkb.loads(by_kind["farmland"].wkb)
    assert by_kind["farmland"].osm_type == "relation" and farm.geom_type == "MultiPolygon"
    # 0.1 x 0.1 degree minus the 0.02 x 0.02 hole
    assert farm.area == pytest.approx(0.01 - 0.0004, rel=1e-6)
    assert len(farm.geoms[0].interiors) == 1
    assert rep.skipped["not_basemap"] >= 1  # the closed tertiary road


def test_read_areas_bad_files(tmp_path: Path) -> None:
    with pytest.raises(OsmAreaError, match="no such file"):
        read_areas(tmp_path / "absent.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(OsmAreaError, match=r"bad\.osm"):
        read_areas(bad)


def test_import_areas_replaces_its_dataset(connection: Connection, small_osm: Path) -> None:
    rep = import_areas(connection, small_osm, dataset="test:small")
    assert rep["areas"] == 2 and rep["by_kind"] == {"water": 1, "farmland": 1}
    again = import_areas(connection, small_osm, dataset="test:small")
    assert again["replaced"] == 2 and again["areas"] == 2
    rows = connection.execute(
        text(
            "SELECT kind, name_en, ST_GeometryType(geom) AS gtype, ST_SRID(geom) AS srid,"
            " source->>'osm' AS osm FROM land_area WHERE dataset = 'test:small' ORDER BY kind"
        )
    ).all()
    assert [(r.kind, r.gtype, r.srid, r.osm) for r in rows] == [
        ("farmland", "ST_MultiPolygon", 4326, "relation/1"),
        ("water", "ST_MultiPolygon", 4326, "way/1"),
    ]
    with pytest.raises(InputError, match="no such file"):
        import_areas(connection, small_osm.with_name("nope.osm"))
    with pytest.raises(InputError, match="unknown area kind"):
        import_areas(connection, small_osm, kinds=("lava",))


def test_sample_water_and_land_use(connection: Connection) -> None:
    """The sample's areas: the Haihe as water through the city, the sea east of Binhai,
    farmland around the villages; drawn as one light layer, water last."""
    if not SAMPLE_OSM.is_file():
        pytest.skip("data/sample/tianjin.osm is absent")
    step = next(s for s in sample.STEPS if s.name == "areas")
    ctx = sample.SampleContext(sample_dir=SAMPLE_OSM.parent, progress=lambda _m: None)
    counts = step.run(connection, ctx)
    assert counts["land_area"] >= 15 and counts["sea"] == 1 and counts["river"] == 1

    def kind_at(lon: float, lat: float) -> list[str]:
        return list(
            connection.execute(
                text(
                    "SELECT kind FROM land_area WHERE dataset = 'sample:tianjin' AND"
                    " ST_Intersects(geom, ST_SetSRID(ST_Point(:x, :y), 4326)) ORDER BY kind"
                ),
                {"x": lon, "y": lat},
            ).scalars()
        )

    assert "river" in kind_at(117.2, 39.145)  # the Haihe in the city (a control point)
    assert kind_at(117.95, 38.9) == ["sea"]  # Bohai Bay
    assert "farmland" in kind_at(117.44, 38.99)  # among the Jinnan villages
    assert "port" in kind_at(117.80, 39.0)  # the container yard stands on port land
    assert "urban" in kind_at(117.25, 39.12)  # the city centre

    areas = tv.land_areas(connection, tolerance_deg=0.0002)
    kinds = [a["kind"] for a in areas]
    assert kinds.index("sea") > kinds.index("farmland")  # water drawn over land use
    assert all(a["polygon"] and len(a["polygon"][0]) >= 4 for a in areas)
    size_kb = len(json.dumps([a["polygon"] for a in areas])) / 1024
    assert size_kb < 150, f"the basemap layer is {size_kb:.0f} KB"
    scene = network.build(roads=[], structures=[], lang="zh", areas=areas, extent=None)
    layers = json.loads(scene.deck.to_json())["layers"]
    ids = [layer["id"] for layer in layers]
    assert ids[:1] == ["areas"]  # under everything else (the ground is the view's clear colour)
    area_layer = layers[0]
    assert area_layer["pickable"] is False and len(area_layer["data"]) == len(areas)
    assert rgba(WATER) in [d["fill"] for d in area_layer["data"]]
    labels = [i.label for i in scene.legend]
    assert t("area_water", "zh") in labels and t("area_farmland", "zh") in labels
    scene_en = port.build_port(yards=[], lanes=[], roads=[], lang="en", areas=areas)
    assert "areas" in [layer["id"] for layer in json.loads(scene_en.deck.to_json())["layers"]]
    assert "Water (river, lake, reservoir, sea)" in [i.label for i in scene_en.legend]
    assert AREA_COLORS["sea"] == WATER


def test_cli_load_areas_bad_file_exits_cleanly(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twin.cli._app import app

    r = CliRunner().invoke(app, ["load", "areas", str(tmp_path / "absent.osm")])
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "absent.osm" in r.output
