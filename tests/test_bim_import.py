"""IFC import on real files: elements, psets, georeferencing, GLB, limits, idempotence.

Shared third-party files are read in place from ../shared/data (``shared_data``); the
sample bridge is the project's own (scripts/make_sample_bridge_ifc.py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pygltflib
import pytest
from pyproj import Geod
from sqlalchemy import Connection, text

from twin.services import bim
from twin.settings import PROJECT_ROOT, Settings

SAMPLE_BRIDGE = PROJECT_ROOT / "data" / "sample" / "bim" / "yingkou_road_bridge.ifc"
SAMPLE_OSM = PROJECT_ROOT / "data" / "sample" / "tianjin.osm"
# the bridge line the sample model is georeferenced onto (OSM way 100033 of the sample)
BRIDGE_LINE = "LINESTRING(117.1954389 39.1471714, 117.1954158 39.147982)"
GEOD = Geod(ellps="WGS84")


def _dms(text_: str, attr_index: int) -> float:
    """RefLatitude (9) / RefLongitude (10) of the IFCSITE line, from the file's text."""
    m = re.search(r"IFCSITE\((.*)\);", text_)
    assert m
    tuples = re.findall(r"\(([-\d,\s]+)\)", m.group(1))
    parts = [int(x) for x in tuples[attr_index - 9].split(",")]
    parts += [0] * (4 - len(parts))
    return parts[0] + parts[1] / 60 + parts[2] / 3600 + parts[3] / 3600e6


def _class_count(path: Path, cls: str) -> int:
    return len(re.findall(rf"=\s*{cls.upper()}\(", path.read_text(encoding="latin-1")))


def _bridge_asset(conn: Connection, wkt: str = BRIDGE_LINE, ext: str = "TEST-BIM-BR-1") -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO asset (external_id, kind, name_en, geom, lifecycle_state, attributes, "
                "source) VALUES (:e, 'bridge', 'Yingkou Road bridge over Haihe River', "
                "ST_GeomFromText(:w, 4326), 'in_service', '{}', '{}') RETURNING id"
            ),
            {"e": ext, "w": wkt},
        ).scalar_one()
    )


def _glb(report: dict) -> pygltflib.GLTF2:
    return pygltflib.GLTF2.load(report["glb_path"])


def test_utm_map_conversion_lands_at_the_sites_lat_lon(
    connection: Connection, settings: Settings, shared_data: Path
) -> None:
    path = shared_data / "geographic-referencing-utm.ifc"
    rep = bim.import_ifc(connection, path, settings=settings, threads=2)
    assert rep["georef"] == "map_conversion" and rep["crs"] == "EPSG:25832"
    a = rep["anchor"]
    assert 49.0 < a["lat"] < 49.2 and 8.3 < a["lon"] < 8.5  # near 49.09N 8.43E
    # the same file states the position again as IfcSite RefLatitude/RefLongitude
    src = path.read_text(encoding="latin-1")
    _, _, d = GEOD.inv(a["lon"], a["lat"], _dms(src, 10), _dms(src, 9))
    assert d < 25.0, f"map conversion and IfcSite disagree by {d:.1f} m"
    assert a["elevation_m"] == pytest.approx(113.7)
    # Scale 1000 with millimetre units is the inverse of the unit conversion: fixed, warned
    assert any("inverse" in w for w in rep["warnings"])
    # footprint: a 1 m x 1 m proxy, not a 1 km one (scale applied once, correctly)
    area = connection.execute(
        text("SELECT ST_Area(footprint::geography) FROM bim_model WHERE id = :i"),
        {"i": rep["model_id"]},
    ).scalar_one()
    assert 0.5 < area < 2.0


def test_fzk_haus_ifc4_elements_psets_site_latlon_and_glb(
    connection: Connection, settings: Settings, shared_data: Path
) -> None:
    path = shared_data / "AC20-FZK-Haus.ifc"
    rep = bim.import_ifc(connection, path, settings=settings, threads=2)
    assert rep["schema"] == "IFC4" and rep["georef"] == "site"
    assert "ARCHICAD" in (rep["authoring_app"] or "")
    src = path.read_text(encoding="latin-1")
    a = rep["anchor"]
    _, _, d = GEOD.inv(a["lon"], a["lat"], _dms(src, 10), _dms(src, 9))
    assert d < 1.0
    assert a["elevation_m"] == pytest.approx(110.0)
    n_walls = _class_count(path, "IfcWall") + _class_count(path, "IfcWallStandardCase")
    rows = connection.execute(
        text("SELECT ifc_class, count(*) FROM bim_element WHERE model_id = :m GROUP BY 1"),
        {"m": rep["model_id"]},
    ).all()
    by_class = dict(rows)
    assert by_class.get("IfcWall", 0) + by_class.get("IfcWallStandardCase", 0) == n_walls
    assert by_class["IfcWindow"] == _class_count(path, "IfcWindow")
    wall_cls = "IfcWallStandardCase" if by_class.get("IfcWallStandardCase") else "IfcWall"
    wall = bim.list_elements(connection, rep["model_id"], ifc_class=wall_cls, limit=1)[0]
    assert "Pset_WallCommon" in wall["psets"]
    assert wall["container_class"] == "IfcBuildingStorey"
    assert wall["quantities"], "ArchiCAD exports base quantities for walls"
    # GLB: every shape is a node named by its GlobalId, registered as mesh_index
    g = _glb(rep)
    assert len(g.nodes) == rep["shapes"] > 50
    idx = dict(
        connection.execute(
            text(
                "SELECT global_id, mesh_index FROM bim_element WHERE model_id = :m AND "
                "mesh_index IS NOT NULL"
            ),
            {"m": rep["model_id"]},
        ).all()
    )
    assert len(idx) == len(g.nodes)
    for gid, i in list(idx.items())[:20]:
        assert g.nodes[i].name == gid and g.nodes[i].extras["global_id"] == gid
    assert len({m.name for m in g.materials}) >= 5  # coloured by class


def test_duplex_ifc2x3_elements_and_psets(shared_data: Path) -> None:
    """IFC2X3 through the core (the full import path is exercised on the IFC4 house)."""
    from loaders import ifc as ifc_core

    path = shared_data / "duplex.ifc"
    scan = ifc_core.scan_step(path)
    f, notes = ifc_core.open_ifc(scan)
    info = ifc_core.model_info(f, scan)
    assert scan.header_schema == "IFC2X3" and notes == []
    assert "Revit" in (info.authoring_app or "")
    assert info.units["length"] == "METRE"
    elements = list(ifc_core.iter_elements(f))
    doors = [e for e in elements if e.ifc_class == "IfcDoor"]
    assert len(doors) == _class_count(path, "IfcDoor")
    assert len({e.global_id for e in elements}) == len(elements)
    assert all(e.container for e in doors)  # every door sits in a storey
    assert any(e.psets for e in doors)
    # Revit's 'LoadCapacity' labels are reported as unreadable, never as limits
    cands = ifc_core.find_limit_candidates(f, info, elements=elements)
    assert cands and all(c.value is None for c in cands)


@pytest.mark.parametrize(
    "name",
    ["duplex.ifc", "AC20-FZK-Haus.ifc", "linear-placement-of-signal.ifc", "sample-bridge"],
)
def test_elements_equal_ifcopenshell_util(shared_data: Path, name: str) -> None:
    """The one-pass relationship walk gives what ifcopenshell.util.element gives per
    element: get_psets (type's first, occurrence's overriding), get_container (direct or
    through the whole), else get_aggregate / get_nest."""
    import ifcopenshell.util.element as ue

    from loaders import ifc as ifc_core

    path = SAMPLE_BRIDGE if name == "sample-bridge" else shared_data / name
    _scan, f, _ = ifc_core.scan_and_open(path)
    elements = list(ifc_core.iter_elements(f))
    assert len(elements) == len(f.by_type("IfcProduct"))
    for e in elements:
        el = f.by_guid(e.global_id)
        want = {
            pset: {k: ifc_core._jsonable(v) for k, v in props.items() if k != "id"}
            for pset, props in ue.get_psets(el).items()
        }
        assert {**e.psets, **e.quantities} == want, e.global_id
        parent = ue.get_container(el) or ue.get_aggregate(el) or ue.get_nest(el)
        assert e.container == getattr(parent, "GlobalId", None), e.global_id


def test_ifc4x3_alignment_and_linear_placement(
    connection: Connection, settings: Settings, shared_data: Path
) -> None:
    sig = bim.import_ifc(
        connection, shared_data / "linear-placement-of-signal.ifc", settings=settings, threads=2
    )
    assert sig["schema"] == "IFC4X3_ADD2" and sig["crs"] == "EPSG:3065"
    classes = dict(
        connection.execute(
            text("SELECT ifc_class, count(*) FROM bim_element WHERE model_id = :m GROUP BY 1"),
            {"m": sig["model_id"]},
        ).all()
    )
    assert classes["IfcAlignment"] == 1 and classes["IfcSignal"] == 2
    # placements far from the local origin: the GLB is re-based to keep float32 precision
    g = bim.get_model(connection, sig["model_id"])["georef"]
    assert max(abs(v) for v in g["glb_origin_m"]) > 1000
    assert 14.0 < sig["anchor"]["lon"] < 15.0 and 40.5 < sig["anchor"]["lat"] < 41.5

    sec_path = shared_data / "sectioned-solid-horizontal.ifc"
    sec = bim.import_ifc(connection, sec_path, settings=settings, threads=2)
    assert sec["georef"] == "none" and sec["anchor"] is None  # site at 0,0 is no location
    assert any("--anchor" in w for w in sec["warnings"])
    assert sec["shapes"] >= 1


def test_anchor_places_a_model_without_georeference(
    connection: Connection, settings: Settings, shared_data: Path
) -> None:
    path = shared_data / "sectioned-solid-horizontal.ifc"
    anchor = bim.Anchor(lon=117.2, lat=39.1, rotation_deg=30.0, elevation_m=5.0)
    rep = bim.import_ifc(connection, path, settings=settings, anchor=anchor, threads=2)
    a = rep["anchor"]
    assert rep["georef"] == "anchor"
    assert a["lon"] == pytest.approx(117.2, abs=1e-7) and a["lat"] == pytest.approx(39.1, abs=1e-7)
    assert a["rotation_deg"] == pytest.approx(30.0, abs=1e-6)
    assert a["elevation_m"] == pytest.approx(5.0)
    view = bim.model_view(connection, rep["model_id"])
    assert view["deck"]["orientation"] == [0.0, pytest.approx(30.0, abs=1e-6), 90.0]


def test_rc2_road_is_migrated_to_ifc4x3(
    connection: Connection, settings: Settings, shared_data: Path
) -> None:
    path = shared_data / "KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc"
    rep = bim.import_ifc(connection, path, settings=settings, threads=2)
    assert rep["schema"] == "IFC4X3_RC2"
    assert any("IFC4X3_ADD2" in m for m in rep["migration"])
    counts = dict(
        connection.execute(
            text("SELECT ifc_class, count(*) FROM bim_element WHERE model_id = :m GROUP BY 1"),
            {"m": rep["model_id"]},
        ).all()
    )
    for cls in ("IfcRoad", "IfcPavement", "IfcKerb", "IfcFacilityPart"):
        assert counts[cls] == _class_count(path, cls), cls
    # every styled face set kept its colour: styles moved from the removed assignment
    assert rep["shapes"] == _class_count(path, "IfcFacetedBrep")


def test_sample_bridge_overlaps_its_asset_and_proposes_limits(
    connection: Connection, settings: Settings
) -> None:
    asset_id = _bridge_asset(connection)
    rep = bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, asset_id=asset_id, threads=2)
    assert rep["schema"] == "IFC4X3_ADD2" and rep["crs"] == "EPSG:4548"
    overlaps = connection.execute(
        text(
            "SELECT ST_Intersects(m.footprint, a.geom), ST_Length(ST_Intersection(m.footprint, "
            "a.geom)::geography) / ST_Length(a.geom::geography) FROM bim_model m, asset a "
            "WHERE m.id = :m AND a.id = :a"
        ),
        {"m": rep["model_id"], "a": asset_id},
    ).one()
    assert overlaps[0] and overlaps[1] > 0.95  # the deck covers the bridge line
    limits = connection.execute(
        text(
            "SELECT kind, value, source_kind, status FROM structure_limit WHERE asset_id = :a "
            "ORDER BY kind"
        ),
        {"a": asset_id},
    ).all()
    assert [tuple(r) for r in limits] == [
        ("axle_load", 13000, "bim", "proposed"),
        ("height", 450, "bim", "proposed"),
        ("weight", 55000, "bim", "proposed"),
    ]
    unparsed = [c for c in rep["limit_candidates"] if c["value"] is None]
    assert [c["property"] for c in unparsed] == ["DesignLoadClass"]
    assert bim.models_for_asset(connection, asset_id)[0]["id"] == rep["model_id"]
    assert rep["asset_distance_m"] == 0.0


def test_sample_bridge_lies_on_the_bundled_samples_bridge(
    connection: Connection, settings: Settings
) -> None:
    if not SAMPLE_OSM.is_file():
        pytest.skip("data/sample/tianjin.osm is absent")
    root = ET.parse(SAMPLE_OSM).getroot()
    nodes = {n.get("id"): (n.get("lon"), n.get("lat")) for n in root.iter("node")}
    line = None
    for w in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in w.iter("tag")}
        if tags.get("bridge:name:en") == "Yingkou Road bridge over Haihe River":
            pts = [nodes[nd.get("ref")] for nd in w.iter("nd")]
            line = "LINESTRING(" + ",".join(f"{x} {y}" for x, y in pts) + ")"
            break
    if line is None:
        pytest.skip("the sample has no 'Yingkou Road bridge over Haihe River' any more")
    rep = bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, threads=2)
    hit = connection.execute(
        text(
            "SELECT ST_Intersects(footprint, ST_GeomFromText(:l, 4326)) FROM bim_model "
            "WHERE id = :m"
        ),
        {"l": line, "m": rep["model_id"]},
    ).scalar_one()
    assert hit


def test_reimport_is_idempotent(connection: Connection, settings: Settings) -> None:
    first = bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, threads=2)
    before = connection.execute(text("SELECT count(*) FROM bim_element")).scalar_one()
    again = bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, threads=2)
    assert again["status"] == "unchanged" and again["model_id"] == first["model_id"]
    assert connection.execute(text("SELECT count(*) FROM bim_element")).scalar_one() == before
    n = connection.execute(
        text("SELECT count(*) FROM bim_model WHERE file_sha256 = :s"), {"s": first["sha256"]}
    ).scalar_one()
    assert n == 1
    assert Path(first["glb_path"]).is_file()
