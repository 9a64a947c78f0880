"""Generate the sample's small georeferenced bridge model with IfcOpenShell's API.

``data/sample/bim/yingkou_road_bridge.ifc``: an IFC4X3_ADD2 IfcBridge of three 30 m
spans (deck slab, four girders, two piers, two abutments, as extruded solids), placed
over the sample's "Yingkou Road bridge over Haihe River" (OSM way 100033 of
data/sample/tianjin.osm, from 117.1954389,39.1471714 to 117.1954158,39.147982) through
an IfcMapConversion to EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E): the
model's local origin is the bridge's south end, its +X axis runs along the bridge.

Limits for the twin to propose (never apply silently): ``Pset_RoadTwinBridge`` holds
VerticalClearance 4.5 m (IfcPositiveLengthMeasure), DesignLoad 55 000 kg
(IfcMassMeasure), DesignAxleLoad 13 000 kg and the Chinese load class 公路-I级 as text
(reported, not a number). The IfcBridge also has Pset_BridgeCommon; every element has
its Pset_<Class>Common (Reference, LoadBearing, IsExternal), Pset_RoadTwinElement
(Material) and Qto_RoadTwin (Length, Width, Height of its box).

Run: ``.venv/bin/python scripts/make_sample_bridge_ifc.py [OUT]``. The output is
deterministic (fixed GlobalIds and timestamp), so the committed file does not churn.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.geometry
import ifcopenshell.api.georeference
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.unit
import ifcopenshell.guid
import numpy as np
from ifcopenshell.util.shape_builder import ShapeBuilder
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "sample" / "bim" / "yingkou_road_bridge.ifc"
START_LONLAT = (117.1954389, 39.1471714)
END_LONLAT = (117.1954158, 39.147982)
DECK_ELEVATION_M = 8.0  # top of deck above the map datum (the road level)
SPAN_M = 30.0
SPANS = 3
DECK_WIDTH_M = 12.0
DECK_DEPTH_M = 0.3
GIRDER_DEPTH_M = 1.6
GIRDER_WIDTH_M = 0.6
GIRDERS = 4


class _Guids:
    """Deterministic GlobalIds (compressed from a counter-derived UUID)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return ifcopenshell.guid.compress(f"{self.n:032x}")


def build(out: Path = OUT) -> Path:
    """Write the bridge model to ``out`` and return the path."""
    guid = _Guids()
    f = ifcopenshell.api.project.create_file(version="IFC4X3_ADD2")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="RoadTwin sample")
    lengths = ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT")
    mass = ifcopenshell.api.unit.add_si_unit(f, unit_type="MASSUNIT", prefix="KILO")
    ifcopenshell.api.unit.assign_unit(f, units=[lengths, mass])
    model_ctx = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        f,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=model_ctx,
    )

    # georeferencing: local origin at the south end, +X along the bridge (grid azimuth)
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)
    e0, n0 = to_grid.transform(*START_LONLAT)
    e1, n1 = to_grid.transform(*END_LONLAT)
    length = math.hypot(e1 - e0, n1 - n0)
    ux, uy = (e1 - e0) / length, (n1 - n0) / length
    ifcopenshell.api.georeference.add_georeferencing(f, name="EPSG:4548")
    ifcopenshell.api.georeference.edit_georeferencing(
        f,
        projected_crs={
            "Name": "EPSG:4548",
            "Description": "CGCS2000 / 3-degree Gauss-Kruger CM 117E",
        },
        coordinate_operation={
            "Eastings": round(e0, 3),
            "Northings": round(n0, 3),
            "OrthogonalHeight": 0.0,
            "XAxisAbscissa": ux,
            "XAxisOrdinate": uy,
            "Scale": 1.0,
        },
    )

    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Haihe River crossing")
    bridge = ifcopenshell.api.root.create_entity(
        f,
        ifc_class="IfcBridge",
        name="Yingkou Road bridge over Haihe River",
        predefined_type="GIRDER",
    )
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(f, products=[bridge], relating_object=site)
    parts = {}
    for key, ptype in (("super", "SUPERSTRUCTURE"), ("sub", "SUBSTRUCTURE")):
        part = ifcopenshell.api.root.create_entity(
            f, ifc_class="IfcBridgePart", name=f"{ptype.lower()}", predefined_type=ptype
        )
        parts[key] = part
    ifcopenshell.api.aggregate.assign_object(
        f, products=list(parts.values()), relating_object=bridge
    )
    for p in (site, bridge, *parts.values()):
        ifcopenshell.api.geometry.edit_object_placement(f, product=p, matrix=np.eye(4))

    builder = ShapeBuilder(f)
    total = SPAN_M * SPANS
    elements = []

    def box(
        ifc_class: str,
        name: str,
        predefined: str | None,
        part: str,
        *,
        x: float,
        y: float,
        z: float,
        dx: float,
        dy: float,
        dz: float,
    ) -> None:
        el = ifcopenshell.api.root.create_entity(
            f, ifc_class=ifc_class, name=name, predefined_type=predefined
        )
        prof = builder.profile(builder.rectangle(size=(dx, dy)))
        solid = builder.extrude(prof, magnitude=dz, position=(x, y - dy / 2.0, z))
        rep = builder.get_representation(body, [solid])
        ifcopenshell.api.geometry.assign_representation(f, product=el, representation=rep)
        ifcopenshell.api.geometry.edit_object_placement(f, product=el, matrix=np.eye(4))
        ifcopenshell.api.spatial.assign_container(f, products=[el], relating_structure=parts[part])
        elements.append((el, (dx, dy, dz)))

    deck_bottom = DECK_ELEVATION_M - DECK_DEPTH_M
    box(
        "IfcSlab",
        "Deck slab",
        "BASESLAB",
        "super",
        x=0.0,
        y=0.0,
        z=deck_bottom,
        dx=total,
        dy=DECK_WIDTH_M,
        dz=DECK_DEPTH_M,
    )
    girder_bottom = deck_bottom - GIRDER_DEPTH_M
    for i in range(GIRDERS):
        y = -DECK_WIDTH_M / 2 + DECK_WIDTH_M * (i + 0.5) / GIRDERS
        box(
            "IfcBeam",
            f"Girder G{i + 1}",
            "GIRDER_SEGMENT",
            "super",
            x=0.0,
            y=y,
            z=girder_bottom,
            dx=total,
            dy=GIRDER_WIDTH_M,
            dz=GIRDER_DEPTH_M,
        )
    for i in range(1, SPANS):
        box(
            "IfcColumn",
            f"Pier P{i}",
            "PIERSTEM",
            "sub",
            x=SPAN_M * i - 0.75,
            y=0.0,
            z=0.0,
            dx=1.5,
            dy=DECK_WIDTH_M * 0.6,
            dz=girder_bottom,
        )
    for i, x in enumerate((-2.0, total)):
        box(
            "IfcWall",
            f"Abutment A{i}",
            None,
            "sub",
            x=x,
            y=0.0,
            z=0.0,
            dx=2.0,
            dy=DECK_WIDTH_M + 1.0,
            dz=DECK_ELEVATION_M,
        )

    # limits for the twin to propose
    pset = ifcopenshell.api.pset.add_pset(f, product=bridge, name="Pset_RoadTwinBridge")
    ifcopenshell.api.pset.edit_pset(
        f,
        pset=pset,
        properties={
            "VerticalClearance": f.createIfcPositiveLengthMeasure(4.5),
            "DesignLoad": f.createIfcMassMeasure(55000.0),
            "DesignAxleLoad": f.createIfcMassMeasure(13000.0),
            "DesignLoadClass": f.createIfcLabel("公路-I级"),
            "SpanCount": f.createIfcCountMeasure(SPANS),
            "TotalLength": f.createIfcPositiveLengthMeasure(total),
        },
    )
    common = ifcopenshell.api.pset.add_pset(f, product=bridge, name="Pset_BridgeCommon")
    ifcopenshell.api.pset.edit_pset(f, pset=common, properties={"Reference": "TJ-YKL-HH-01"})
    for el, (dx, dy, dz) in elements:
        q = ifcopenshell.api.pset.add_qto(f, product=el, name="Qto_RoadTwin")
        ifcopenshell.api.pset.edit_qto(
            f, qto=q, properties={"Length": float(dx), "Width": float(dy), "Height": float(dz)}
        )
    # what a click on an element shows besides quantities (created last: the GlobalIds
    # of everything above stay as they were)
    for el, _size in elements:
        common = ifcopenshell.api.pset.add_pset(f, product=el, name=f"Pset_{el.is_a()[3:]}Common")
        ifcopenshell.api.pset.edit_pset(
            f,
            pset=common,
            properties={"Reference": el.Name, "LoadBearing": True, "IsExternal": True},
        )
        material = ifcopenshell.api.pset.add_pset(f, product=el, name="Pset_RoadTwinElement")
        ifcopenshell.api.pset.edit_pset(
            f,
            pset=material,
            properties={"Material": "C50 concrete" if el.is_a("IfcBeam") else "C40 concrete"},
        )

    # deterministic GlobalIds and header
    for ent in f.by_type("IfcRoot"):
        ent.GlobalId = guid()
    f.header.file_name.name = out.name
    f.header.file_name.time_stamp = "2026-01-01T00:00:00"
    f.header.file_name.originating_system = "RoadTwin scripts/make_sample_bridge_ifc.py"
    f.header.file_name.preprocessor_version = f"IfcOpenShell {ifcopenshell.version}"
    for oh in f.by_type("IfcOwnerHistory"):
        oh.CreationDate = 1767225600
    out.parent.mkdir(parents=True, exist_ok=True)
    f.write(str(out))
    return out


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
