"""Triangulated IFC geometry to one streamed GLB per model.

IfcOpenShell's geometry iterator triangulates the products on ``threads`` worker
threads (the whole model, world coordinates, metres). Each shape is converted to
float32/uint32 arrays and appended to a temporary binary file straight away, so memory
stays at one shape plus a few bytes of bookkeeping per element however large the model.
At the end the GLB is assembled: 12-byte header, JSON chunk, then the BIN chunk copied
from the temporary file.

Why hand-written: pygltflib and trimesh build the whole binary buffer in memory before
writing; GLB's container format (two length-prefixed chunks) is small enough to write
directly, and the tests read every file back with pygltflib to check it.

glTF conventions: +Y up, metres. The IFC (x, y, z) = (east-ish, north-ish, up) of the
model's local frame is written as glTF (x, z, -y). Coordinates are relative to
``origin_m`` (the local origin, or a rounded point of the model when it lies more than
1 km from it, keeping float32 precision). Each element is one node named by its
GlobalId, with ``extras`` {global_id, ifc_class, name}; materials are per IFC class.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import ifcopenshell

_GLB_MAGIC = 0x46546C67  # 'glTF'
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_FLOAT = 5126
_UINT32 = 5125
_FAR_ORIGIN_M = 1000.0
#: plan points gathered before they are folded into the footprint's convex hull: one
#: hull per batch instead of per shape (half the loop's time), memory still bounded; small
#: enough that the batches are folded in while the iterator's threads triangulate, not
#: all after the last shape (duplex.ifc has 15,872 vertices in all)
_HULL_BATCH_POINTS = 4_096

#: RGBA colours by IFC class (first match along the class's supertypes wins).
CLASS_COLOURS: dict[str, tuple[float, float, float, float]] = {
    "IfcBridgePart": (0.60, 0.60, 0.62, 1.0),
    "IfcBeam": (0.85, 0.45, 0.20, 1.0),
    "IfcMember": (0.80, 0.55, 0.25, 1.0),
    "IfcSlab": (0.70, 0.70, 0.72, 1.0),
    "IfcColumn": (0.35, 0.50, 0.75, 1.0),
    "IfcPier": (0.35, 0.50, 0.75, 1.0),
    "IfcFooting": (0.45, 0.40, 0.35, 1.0),
    "IfcDeepFoundation": (0.45, 0.40, 0.35, 1.0),
    "IfcBearing": (0.90, 0.80, 0.10, 1.0),
    "IfcWall": (0.90, 0.88, 0.82, 1.0),
    "IfcRoof": (0.65, 0.25, 0.20, 1.0),
    "IfcDoor": (0.55, 0.35, 0.20, 1.0),
    "IfcWindow": (0.55, 0.75, 0.95, 0.5),
    "IfcSpace": (0.60, 0.85, 0.60, 0.15),
    "IfcRailing": (0.30, 0.30, 0.30, 1.0),
    "IfcPavement": (0.25, 0.25, 0.27, 1.0),
    "IfcCourse": (0.40, 0.38, 0.35, 1.0),
    "IfcKerb": (0.80, 0.80, 0.78, 1.0),
    "IfcEarthworksFill": (0.55, 0.45, 0.30, 1.0),
    "IfcSignal": (0.90, 0.20, 0.20, 1.0),
    "IfcSign": (0.20, 0.45, 0.90, 1.0),
    "IfcAlignment": (0.95, 0.85, 0.10, 1.0),
    "IfcTunnelPart": (0.50, 0.50, 0.50, 1.0),
    "IfcBuildingElementProxy": (0.70, 0.60, 0.80, 1.0),
}
DEFAULT_COLOUR = (0.75, 0.75, 0.75, 1.0)


@dataclass
class GeometryResult:
    """What the triangulation produced (the GLB is at ``path``)."""

    path: Path
    shapes: int
    vertices: int
    triangles: int
    mesh_index: dict[str, int]
    origin_m: tuple[float, float, float]
    hull_local_m: np.ndarray  # (n, 2) convex hull of every vertex, local metres
    bbox_local_m: tuple[tuple[float, float, float], tuple[float, float, float]] | None
    classes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def iterator_settings() -> Any:
    """The geometry settings used for import (and by the benchmark's bare iterator)."""
    import ifcopenshell.geom

    s = ifcopenshell.geom.settings()
    s.set("use-world-coords", True)
    return s


def iter_shapes(f: ifcopenshell.file, *, threads: int | None = None) -> Iterator[Any]:
    """IfcOpenShell's geometry iterator over ``f`` on ``threads`` threads (cpu count)."""
    import ifcopenshell.geom

    it = ifcopenshell.geom.iterator(iterator_settings(), f, threads or os.cpu_count() or 1)
    with _stdout_to_stderr():
        ok = it.initialize()
    if not ok:
        return
    while True:
        yield it.get()
        with _stdout_to_stderr():
            more = it.next()
        if not more:
            break


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """IfcOpenShell's kernel prints debug lines ('local z: ...') on C stdout; keep stdout
    clean for ``--json`` output by pointing fd 1 at stderr meanwhile."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        os.dup2(sys.stderr.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def colour_for(ifc_class: str, supertypes: tuple[str, ...] = ()) -> tuple[float, ...]:
    """The RGBA colour of a class (or of its nearest listed supertype)."""
    for c in (ifc_class, *supertypes):
        if c in CLASS_COLOURS:
            return CLASS_COLOURS[c]
    return DEFAULT_COLOUR


class GlbWriter:
    """Append meshes one at a time; :meth:`finish` assembles the GLB file.

    Binary data goes to a temporary file next to the target as it arrives.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._bin: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finish
            dir=self.path.parent, prefix=".bin-", delete=False
        )
        self._offset = 0
        self.buffer_views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []
        self.meshes: list[dict[str, Any]] = []
        self.nodes: list[dict[str, Any]] = []
        self.materials: list[dict[str, Any]] = []
        self._material_of: dict[str, int] = {}

    def _view(self, data: bytes, target: int) -> int:
        self._bin.write(data)
        self.buffer_views.append(
            {"buffer": 0, "byteOffset": self._offset, "byteLength": len(data), "target": target}
        )
        self._offset += len(data)  # float32/uint32 data keeps 4-byte alignment
        return len(self.buffer_views) - 1

    def material(self, key: str, rgba: tuple[float, ...]) -> int:
        """Index of the material named ``key`` (created on first use)."""
        idx = self._material_of.get(key)
        if idx is None:
            m: dict[str, Any] = {
                "name": key,
                "pbrMetallicRoughness": {
                    "baseColorFactor": [float(c) for c in rgba],
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.9,
                },
                "doubleSided": True,
            }
            if rgba[3] < 1.0:
                m["alphaMode"] = "BLEND"
            self.materials.append(m)
            idx = len(self.materials) - 1
            self._material_of[key] = idx
        return idx

    def add_mesh(
        self,
        positions: np.ndarray,
        indices: np.ndarray,
        *,
        normals: np.ndarray | None,
        material: int,
        name: str,
        extras: dict[str, Any],
    ) -> int:
        """Append one node+mesh (positions (n, 3) float32, glTF axes); returns node index."""
        pos = np.ascontiguousarray(positions, dtype=np.float32)
        idx = np.ascontiguousarray(indices, dtype=np.uint32).ravel()
        attrs: dict[str, int] = {}
        pv = self._view(pos.tobytes(), _ARRAY_BUFFER)
        self.accessors.append(
            {
                "bufferView": pv,
                "componentType": _FLOAT,
                "count": len(pos),
                "type": "VEC3",
                "min": pos.min(axis=0).tolist(),
                "max": pos.max(axis=0).tolist(),
            }
        )
        attrs["POSITION"] = len(self.accessors) - 1
        if normals is not None and len(normals) == len(pos):
            nv = self._view(
                np.ascontiguousarray(normals, dtype=np.float32).tobytes(), _ARRAY_BUFFER
            )
            self.accessors.append(
                {"bufferView": nv, "componentType": _FLOAT, "count": len(pos), "type": "VEC3"}
            )
            attrs["NORMAL"] = len(self.accessors) - 1
        iv = self._view(idx.tobytes(), _ELEMENT_ARRAY_BUFFER)
        self.accessors.append(
            {"bufferView": iv, "componentType": _UINT32, "count": len(idx), "type": "SCALAR"}
        )
        self.meshes.append(
            {
                "name": name,
                "primitives": [
                    {"attributes": attrs, "indices": len(self.accessors) - 1, "material": material}
                ],
            }
        )
        self.nodes.append({"name": name, "mesh": len(self.meshes) - 1, "extras": extras})
        return len(self.nodes) - 1

    def finish(self, *, extras: dict[str, Any] | None = None) -> Path:
        """Write the GLB (header, JSON chunk, BIN chunk) and remove the temporary file."""
        self._bin.flush()
        self._bin.close()
        doc: dict[str, Any] = {
            "asset": {"version": "2.0", "generator": "RoadTwin IFC import (IfcOpenShell)"},
            "scene": 0,
            "scenes": [{"name": "model", "nodes": list(range(len(self.nodes)))}],
            "nodes": self.nodes,
            "meshes": self.meshes,
            "materials": self.materials,
            "accessors": self.accessors,
            "bufferViews": self.buffer_views,
            "buffers": [{"byteLength": self._offset}],
        }
        if extras:
            doc["extras"] = extras
        js = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        js += b" " * ((4 - len(js) % 4) % 4)
        bin_pad = (4 - self._offset % 4) % 4
        total = 12 + 8 + len(js) + 8 + self._offset + bin_pad
        try:
            with self.path.open("wb") as out, open(self._bin.name, "rb") as src:
                out.write(struct.pack("<III", _GLB_MAGIC, 2, total))
                out.write(struct.pack("<II", len(js), _CHUNK_JSON))
                out.write(js)
                out.write(struct.pack("<II", self._offset + bin_pad, _CHUNK_BIN))
                shutil.copyfileobj(src, out, 1 << 20)
                out.write(b"\0" * bin_pad)
        finally:
            os.unlink(self._bin.name)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        with contextlib.suppress(Exception):
            self._bin.close()
        for p in (Path(self._bin.name), self.path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def triangulate_to_glb(
    f: ifcopenshell.file,
    out_path: Path,
    *,
    threads: int | None = None,
    names: Mapping[str, str | None] | Callable[[], Mapping[str, str | None]] | None = None,
    on_shape: Callable[[Any], None] | None = None,
) -> GeometryResult:
    """Triangulate every product of ``f`` and stream it into the GLB at ``out_path``.

    Parameters
    ----------
    f:
        The opened model.
    out_path:
        Where to write the GLB (its directory is created).
    threads:
        Geometry iterator threads; ``os.cpu_count()`` when None.
    names:
        GlobalId -> element name, for node extras (read from the shape when missing);
        or a function returning it, called once the last shape is written (so the
        names can be read on another thread while the iterator runs).
    on_shape:
        Called with each shape as it arrives (lets the caller do per-element work while
        the iterator's threads keep triangulating).

    Returns
    -------
    GeometryResult
        Shape counts, GlobalId -> node index, the convex hull of all vertices (local
        metres) for the footprint, and the origin the GLB coordinates are relative to.
    """
    writer = GlbWriter(out_path)
    mesh_index: dict[str, int] = {}
    classes: dict[str, int] = {}
    origin: np.ndarray | None = None
    hull = np.zeros((0, 2))
    pending: list[np.ndarray] = []
    pending_n = 0
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    n_vert = n_tri = 0
    errors: list[str] = []
    try:
        for shape in iter_shapes(f, threads=threads):
            if on_shape is not None:
                on_shape(shape)
            geom = shape.geometry
            verts = np.frombuffer(geom.verts_buffer, dtype=np.float64).reshape(-1, 3)
            faces = np.frombuffer(geom.faces_buffer, dtype=np.int32)
            if len(verts) == 0 or len(faces) == 0:
                continue
            if origin is None:
                first = verts[0]
                origin = (
                    np.round(first / 100.0) * 100.0
                    if np.hypot(first[0], first[1]) > _FAR_ORIGIN_M
                    else np.zeros(3)
                )
            local = verts - origin
            lo = np.minimum(lo, verts.min(axis=0))
            hi = np.maximum(hi, verts.max(axis=0))
            pending.append(verts[:, :2])
            pending_n += len(verts)
            if pending_n >= _HULL_BATCH_POINTS:
                hull = _merge_hull(hull, np.vstack(pending))
                pending, pending_n = [], 0
            gltf = np.column_stack((local[:, 0], local[:, 2], -local[:, 1]))
            normals = np.frombuffer(geom.normals_buffer, dtype=np.float64).reshape(-1, 3)
            gl_normals = (
                np.column_stack((normals[:, 0], normals[:, 2], -normals[:, 1]))
                if len(normals) == len(verts)
                else None
            )
            cls = shape.type
            classes[cls] = classes.get(cls, 0) + 1
            mat = writer.material(cls, colour_for(cls, _supertypes(f, cls, shape.id)))
            node = writer.add_mesh(
                gltf,
                faces,
                normals=gl_normals,
                material=mat,
                name=shape.guid,
                extras={"global_id": shape.guid, "ifc_class": cls, "name": shape.name},
            )
            mesh_index[shape.guid] = node
            n_vert += len(verts)
            n_tri += len(faces) // 3
        if pending:
            hull = _merge_hull(hull, np.vstack(pending))
        if names is not None:
            by_guid = names() if callable(names) else names
            for gltf_node in writer.nodes:
                ex = gltf_node["extras"]
                ex["name"] = by_guid.get(ex["global_id"], ex["name"])
        o = origin if origin is not None else np.zeros(3)
        writer.finish(
            extras={
                "origin_m": o.tolist(),
                "up_axis": "Y",
                "axes": "glTF (x, y, z) = IFC local (x, z, -y), metres",
            }
        )
    except BaseException:
        writer.abort()
        raise
    return GeometryResult(
        path=Path(out_path),
        shapes=len(mesh_index),
        vertices=n_vert,
        triangles=n_tri,
        mesh_index=mesh_index,
        origin_m=(float(o[0]), float(o[1]), float(o[2])),
        hull_local_m=hull,
        bbox_local_m=(tuple(lo.tolist()), tuple(hi.tolist())) if mesh_index else None,  # type: ignore[arg-type]
        classes=classes,
        errors=errors,
    )


_SUPERTYPES: dict[tuple[str, str], tuple[str, ...]] = {}


def _supertypes(f: ifcopenshell.file, ifc_class: str, entity_id: int) -> tuple[str, ...]:
    """The coloured classes an instance of ``ifc_class`` belongs to (cached per class)."""
    key = (f.schema_identifier, ifc_class)
    got = _SUPERTYPES.get(key)
    if got is None:
        ent = f.by_id(entity_id)
        got = tuple(c for c in CLASS_COLOURS if _is_a(ent, c))
        _SUPERTYPES[key] = got
    return got


def _is_a(ent: Any, cls: str) -> bool:
    try:
        return bool(ent.is_a(cls))
    except Exception:  # class absent from this schema
        return False


def _merge_hull(hull: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Convex hull of (previous hull + new points): bounded memory for the footprint.

    The points go to GEOS as one line string (the hull of a line is the hull of its
    vertices): a MultiPoint makes a Point object per vertex first, 6x slower."""
    import shapely

    allp = np.vstack((hull, pts)) if len(hull) else pts
    if len(allp) < 2:
        return allp
    h = shapely.convex_hull(shapely.linestrings(allp))
    if h.geom_type == "Polygon":
        return np.asarray(h.exterior.coords)[:-1, :2]
    return np.asarray(h.coords)[:, :2] if hasattr(h, "coords") else allp[:3]
