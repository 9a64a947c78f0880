"""GLB writing and georeferencing cores (no database)."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from sqlalchemy import Connection, text

from loaders import ifc as ifc_core
from loaders import ifc_georef
from loaders.ifc_glb import GlbWriter, triangulate_to_glb
from twin.services import bim
from twin.settings import PROJECT_ROOT, Settings

SAMPLE_BRIDGE = PROJECT_ROOT / "data" / "sample" / "bim" / "yingkou_road_bridge.ifc"


def _accessor_array(g: pygltflib.GLTF2, idx: int) -> np.ndarray:
    acc = g.accessors[idx]
    view = g.bufferViews[acc.bufferView]
    blob = g.binary_blob()
    dtype = np.float32 if acc.componentType == pygltflib.FLOAT else np.uint32
    width = {"VEC3": 3, "SCALAR": 1}[acc.type]
    data = np.frombuffer(blob, dtype=dtype, count=acc.count * width, offset=view.byteOffset)
    return data.reshape(-1, width) if width > 1 else data


def test_glb_writer_round_trip(tmp_path: Path) -> None:
    w = GlbWriter(tmp_path / "m.glb")
    tri = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32)
    m0 = w.material("IfcBeam", (1.0, 0.0, 0.0, 1.0))
    m1 = w.material("IfcWindow", (0.0, 0.0, 1.0, 0.5))
    w.add_mesh(tri, np.array([0, 1, 2]), normals=None, material=m0, name="A", extras={"k": 1})
    w.add_mesh(tri + 5, np.array([2, 1, 0]), normals=None, material=m1, name="B", extras={})
    w.finish()
    raw = (tmp_path / "m.glb").read_bytes()
    _magic, version, length = struct.unpack("<III", raw[:12])
    assert raw[:4] == b"glTF" and version == 2 and length == len(raw)
    assert not list(tmp_path.glob(".bin-*")), "temporary buffer left behind"
    g = pygltflib.GLTF2.load(str(tmp_path / "m.glb"))
    assert [n.name for n in g.nodes] == ["A", "B"] and g.nodes[0].extras == {"k": 1}
    assert np.array_equal(
        _accessor_array(g, g.meshes[1].primitives[0].attributes.POSITION), tri + 5
    )
    assert list(_accessor_array(g, g.meshes[1].primitives[0].indices)) == [2, 1, 0]
    assert g.materials[1].alphaMode == "BLEND" and g.materials[0].alphaMode != "BLEND"


def test_sample_bridge_glb_has_the_designed_dimensions(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_bridge", PROJECT_ROOT / "scripts" / "make_sample_bridge_ifc.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    scan = ifc_core.scan_step(SAMPLE_BRIDGE)
    f, _ = ifc_core.open_ifc(scan)
    res = triangulate_to_glb(f, tmp_path / "b.glb", threads=1)
    g = pygltflib.GLTF2.load(str(res.path))
    deck = next(n for n in g.nodes if n.extras["name"] == "Deck slab")
    pos = _accessor_array(g, g.meshes[deck.mesh].primitives[0].attributes.POSITION)
    # glTF axes: x = IFC x (along the bridge), y = IFC z (up), z = -IFC y (across)
    assert pos[:, 0].max() - pos[:, 0].min() == pytest.approx(mod.SPAN_M * mod.SPANS, abs=1e-3)
    assert pos[:, 2].max() - pos[:, 2].min() == pytest.approx(mod.DECK_WIDTH_M, abs=1e-3)
    assert pos[:, 1].max() == pytest.approx(mod.DECK_ELEVATION_M, abs=1e-3)
    n_beams = sum(1 for n in g.nodes if n.extras["ifc_class"] == "IfcBeam")
    assert n_beams == mod.GIRDERS
    assert res.shapes == 1 + mod.GIRDERS + (mod.SPANS - 1) + 2


def test_double_georeferencing_is_not_applied_twice() -> None:
    g = ifc_georef.Georef(
        kind="map_conversion", crs="EPSG:4548", offset=(516895.0, 4334860.0), scale=1.0
    )
    # the placements already hold the map coordinates
    fixed = ifc_georef.fix_double_georef(g, np.array([516900.0, 4334870.0, 0.0]))
    assert fixed.offset == (0.0, 0.0) and fixed.details["double_georef_fixed"]
    lon, lat, _ = fixed.to_lonlat(np.array([[516900.0, 4334870.0, 0.0]]))[0]
    assert 117.1 < lon < 117.3 and 39.0 < lat < 39.3
    # a normal local model keeps its offset
    g2 = ifc_georef.Georef(
        kind="map_conversion", crs="EPSG:4548", offset=(516895.0, 4334860.0), scale=1.0
    )
    assert ifc_georef.fix_double_georef(g2, np.array([40.0, 5.0, 0.0])).offset == (
        516895.0,
        4334860.0,
    )


def test_anchor_rotation_convention() -> None:
    g = ifc_georef.anchored(117.2, 39.1, rotation_deg=90.0)
    pts = g.to_lonlat(np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0]]))
    # +X rotated 90 degrees counter-clockwise from east points north
    assert pts[1, 0] == pytest.approx(117.2, abs=1e-7) and pts[1, 1] > 39.1
    a = g.anchor()
    assert a["rotation_deg"] == pytest.approx(90.0, abs=1e-6)
    assert math.isclose(a["lon"], 117.2) and math.isclose(a["lat"], 39.1)


def test_asset_places_a_model_without_georeference(
    connection: Connection, settings: Settings, shared_data: Path
) -> None:
    aid = connection.execute(
        text(
            "INSERT INTO asset (external_id, kind, geom, lifecycle_state, attributes, source) "
            "VALUES ('TEST-BIM-ANCHOR', 'bridge', ST_GeomFromText('LINESTRING(117.30 39.10, "
            "117.30 39.11)', 4326), 'in_service', '{}', '{}') RETURNING id"
        )
    ).scalar_one()
    rep = bim.import_ifc(
        connection,
        shared_data / "sectioned-solid-horizontal.ifc",
        settings=settings,
        asset_id=aid,
        threads=1,
    )
    a = rep["anchor"]
    assert rep["georef"] == "asset"
    assert a["lon"] == pytest.approx(117.30, abs=1e-7) and a["lat"] == pytest.approx(
        39.10, abs=1e-7
    )
    assert a["rotation_deg"] == pytest.approx(90.0, abs=0.01)  # +X along the asset, north
    assert rep["asset_distance_m"] < 1.0


def test_unknown_crs_falls_back_to_the_site(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "geographic-referencing-utm.ifc"
    p = tmp_path / "odd_crs.ifc"
    p.write_text(src.read_text(encoding="latin-1").replace("'EPSG:25832'", "'LOCAL:NOWHERE'"))
    scan = ifc_core.scan_step(p)
    f, _ = ifc_core.open_ifc(scan)
    g = ifc_georef.detect(f, length_unit_m=0.001)
    assert g.kind == "site"
    assert any("LOCAL:NOWHERE" in w for w in g.warnings)


def test_glb_writer_streams_to_disk(tmp_path: Path) -> None:
    """Mesh data goes to the temporary file as it arrives: memory does not grow with it."""
    import tracemalloc

    rng = np.random.default_rng(1)
    pos = rng.random((20_000, 3), dtype=np.float32)  # 240 kB per mesh
    idx = np.arange(60_000, dtype=np.uint32) % 20_000
    w = GlbWriter(tmp_path / "big.glb")
    mat = w.material("IfcBeam", (1.0, 0.5, 0.0, 1.0))
    tracemalloc.start()
    for i in range(100):  # ~48 MB of vertex and index data in total
        w.add_mesh(pos, idx, normals=None, material=mat, name=f"E{i}", extras={})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    w.finish()
    assert peak < 5_000_000, f"{peak / 1e6:.1f} MB held while writing"
    assert (tmp_path / "big.glb").stat().st_size > 40_000_000
