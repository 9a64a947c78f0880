"""Read an OSM file (.osm, .osm.gz, .osm.bz2, .osm.pbf) into a routable graph with limits.

Pure core: takes a path, gives back frames/arrays and a :class:`LoadReport`; never touches
a database.

Why pyosmium and not osmnx's ``graph_from_xml``: osmnx parses XML only (no PBF), holds
every element as Python dicts and builds a networkx graph of the whole file -- about
1 GB and half a minute for Monaco. pyosmium streams the file through libosmium in C++:
node locations go to a compact C++ index, C++ filters drop every object that is neither
a road nor a restrictor before Python sees it, and the Python side keeps only flat
``array`` buffers of node ids and integer coordinates. Splitting into edges, lengths and
per-edge attributes are then vectorised numpy over those buffers, so memory stays close
to the size of the road subset, not of the file.

Plain OSM XML (what osmium, Overpass and our own writer produce; up to 256 MB) is read
by the vectorised scanner of :mod:`loaders.osm_xml` instead, about 5x faster than
pyosmium's one-Python-object-per-way loop; it gives the same buffers, and anything it
does not read (PBF, JOSM files, history files ...) goes through pyosmium.

The read comes in three stages (:func:`read_osm_graph`, :func:`read_osm_edges`,
:func:`read_osm_assets`; :func:`read_osm` runs all three) so a writer can store the
nodes while the edges are built, and the edges while the assets are.

Graph rules (documented choices):

* drivable ways: ``highway`` in :data:`DRIVABLE` (motorway .. residential, ``*_link``,
  ``living_street``, ``service``, ``track``, ``road``), not ``area=yes``, and not closed
  to motor traffic (``access``/``vehicle``/``motor_vehicle``/``motorcar`` = ``no``);
  footway/cycleway/path/steps/pedestrian/construction are left out;
* ways are split into edges at every node shared with another way (or repeated in the
  same way), at height restrictors and where a way's nodes are missing from the file;
  intermediate geometry is kept;
* oneway: ``yes/true/1`` forward, ``-1/reverse`` (the edge geometry is reversed so an
  edge is always travelled along its geometry), ``reversible``/``alternating`` are kept
  two-way; ``junction=roundabout|circular``, ``motorway`` and ``motorway_link`` imply
  oneway unless ``oneway=no``;
* ``speed_kmh`` from ``maxspeed`` (``:forward``/``:backward`` for oneway edges) else
  :data:`DEFAULT_SPEED_KMH` by class (China-oriented defaults, documented there);
* ``length_m`` is geodesic on the WGS84 ellipsoid (pyproj ``Geod``), the reference
  against which the EPSG:4548 lengths of the database differ by < 0.1 % around Tianjin;
* per-edge limits are the most restrictive parsed value the edge's travel direction(s)
  meet (posted and ``:physical``, way and restrictor nodes on it); ``:conditional``
  values are kept in ``conditional`` and never applied unconditionally;
* bridges (``bridge`` not ``no``; ``man_made=bridge`` closed ways as areas), tunnels
  (``tunnel`` not ``no``; ``building_passage`` -> ``underpass``, ``culvert`` ->
  ``culvert``) and restrictor nodes (``barrier=height_restrictor`` or any node with a
  ``max*`` limit) become assets with their limits and the edges they govern.
  Multipolygon relations tagged ``man_made=bridge`` are not read (rare; a note in the
  report counts none).
"""

from __future__ import annotations

import functools
import re
import struct
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from loaders.osm_tags import (
    Parsed,
    TagLimit,
    access_from_tags,
    limits_from_tags,
    parse_speed_kmh,
)

__all__ = [
    "CHINA_BBOX",
    "DEFAULT_SPEED_KMH",
    "DRIVABLE",
    "EdgeLines",
    "Issue",
    "LoadReport",
    "OsmEdges",
    "OsmGraph",
    "OsmNetwork",
    "OsmReadError",
    "Table",
    "read_osm",
    "read_osm_assets",
    "read_osm_edges",
    "read_osm_graph",
]

#: drivable highway values and their default speeds (km/h) when ``maxspeed`` is absent.
#: China-oriented: GB/T road design speeds for the class, urban values for streets.
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "track": 15.0,
    "road": 30.0,
}
DRIVABLE = frozenset(DEFAULT_SPEED_KMH)

#: highway -> road.road_class of the data model.
ROAD_CLASS = {
    "motorway": "motorway",
    "trunk": "trunk",
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
    "unclassified": "unclassified",
    "residential": "residential",
    "living_street": "residential",
    "service": "service",
    "track": "rural",
    "road": "other",
}
_CLASS_RANK = {c: i for i, c in enumerate(ROAD_CLASS.values())}

#: (min_lon, min_lat, max_lon, max_lat) of mainland China with Hainan (generous).
CHINA_BBOX = (73.4, 18.1, 135.1, 53.6)

_UNDEF = 2147483647  # libosmium's undefined coordinate
_EXAMPLES = 5
_NO = {"no", "false", "0"}
_ONEWAY_FWD = {"yes", "true", "1"}
_ONEWAY_REV = {"-1", "reverse"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KEEP_PREFIXES = ("max", "hgv", "hazmat", "name", "bridge", "tunnel")
#: keys read one by one (cheap in pyosmium); a way whose tags are all among them skips
#: the full tag iteration, which costs ~15x more per tag (pyosmium builds a Python
#: ``Tag`` for each).
_COMMON_KEYS = (
    "highway",
    "name",
    "ref",
    "oneway",
    "maxspeed",
    "name:en",
    "lanes",
    "surface",
    "bridge",
    "layer",
)
_KEEP_KEYS = {
    "area",
    "highway",
    "ref",
    "oneway",
    "junction",
    "layer",
    "man_made",
    "access",
    "motor_vehicle",
    "motorcar",
    "vehicle",
    "lanes",
    "surface",
    "width",
}
_LIMIT_COLUMNS = {
    "height": "max_height_cm",
    "width": "max_width_cm",
    "length": "max_length_cm",
    "weight": "max_weight_kg",
    "axle_load": "max_axle_load_kg",
}


class OsmReadError(ValueError):
    """The file cannot be read as OSM data (corrupt, truncated, wrong format)."""


@dataclass
class Issue:
    """A counted problem with a few example elements (``way/123: '3.8 furlongs'``)."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str, n: int = 1) -> None:
        """Count ``n`` more and keep ``example`` if we have fewer than five."""
        self.count += n
        if len(self.examples) < _EXAMPLES:
            self.examples.append(example)


@dataclass
class LoadReport:
    """What a read found: counts, unparseable tags, warnings and rejections.

    Attributes
    ----------
    file:
        The file read.
    counts:
        ``ways_drivable``, ``edges``, ``nodes``, ``assets``, ``limits`` ...
    unparseable:
        By OSM key: values that could not be read (these limits are *unknown*, not absent).
    unknown:
        By OSM key: values that say a limit exists without giving it (``below_default``).
    warnings:
        Kept but notable (``ways_with_missing_nodes``, ``outside_china``,
        ``self_intersecting_edges`` ...).
    rejected:
        Elements left out (``way_without_two_located_nodes``, ``degenerate_edge``,
        ``invalid_bridge_area`` ...).
    bbox:
        (min_lon, min_lat, max_lon, max_lat) of the graph's nodes, or None when empty.
    """

    file: str
    counts: dict[str, int] = field(default_factory=dict)
    unparseable: dict[str, Issue] = field(default_factory=dict)
    unknown: dict[str, Issue] = field(default_factory=dict)
    warnings: dict[str, Issue] = field(default_factory=dict)
    rejected: dict[str, Issue] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] | None = None

    def issue(self, section: str, key: str) -> Issue:
        """The :class:`Issue` for ``key`` in ``section`` (created when new)."""
        table: dict[str, Issue] = getattr(self, section)
        return table.setdefault(key, Issue())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for ``load_run.report`` and ``--json``)."""

        def dump(t: dict[str, Issue]) -> dict[str, Any]:
            return {k: {"count": v.count, "examples": v.examples} for k, v in sorted(t.items())}

        return {
            "file": self.file,
            "counts": dict(self.counts),
            "unparseable": dump(self.unparseable),
            "unknown": dump(self.unknown),
            "warnings": dump(self.warnings),
            "rejected": dump(self.rejected),
            "bbox": list(self.bbox) if self.bbox else None,
        }


class Table:
    """Equal-length named numpy columns, read as ``t.col`` or ``t["col"]``.

    The few DataFrame features the reader needs, without pandas: importing pandas (and
    the pyarrow it pulls in) costs ~100 MB of memory and over half a second of start-up,
    more than the whole read of a city-sized file.
    """

    def __init__(self, columns: Mapping[str, Any] | None = None) -> None:
        self._cols: dict[str, np.ndarray] = {}
        self._n = 0
        for name, values in (columns or {}).items():
            self[name] = values

    @classmethod
    def from_rows(cls, rows: Iterable[Any], columns: Iterable[str]) -> Table:
        """From tuples (in ``columns`` order) or dicts (by column name)."""
        names = list(columns)
        data: dict[str, list[Any]] = {c: [] for c in names}
        for row in rows:
            values = (row[c] for c in names) if isinstance(row, Mapping) else row
            for c, v in zip(names, values, strict=True):
                data[c].append(v)
        return cls({c: _objects(v) for c, v in data.items()})

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    def __setitem__(self, name: str, values: Any) -> None:
        arr = values if isinstance(values, np.ndarray) else _objects(list(values))
        if self._cols and len(arr) != self._n:
            raise ValueError(f"column {name!r} has {len(arr)} rows, the table {self._n}")
        self._n = len(arr)
        self._cols[name] = arr

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._cols[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def columns(self) -> list[str]:
        """Column names in order."""
        return list(self._cols)

    def take(self, rows: Any) -> Table:
        """The rows selected by an index array, a mask or a slice."""
        return Table({c: v[rows] for c, v in self._cols.items()})


def _objects(values: list[Any]) -> np.ndarray:
    """An object array holding ``values`` as they are (lists and dicts stay elements)."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


@dataclass
class EdgeLines:
    """Edge geometries as one coordinate array (EPSG:4326 lon/lat) and offsets.

    A shapely LineString per edge costs ~250 bytes and a GEOS call; the import only
    writes the coordinates out as EWKB, so they stay in numpy and become shapely
    geometries only where geometry operations are needed (:meth:`geoms`).
    """

    coords: np.ndarray  # (points, 2) float64
    offsets: np.ndarray  # (edges + 1,) int64: edge i is coords[offsets[i]:offsets[i + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def counts(self) -> np.ndarray:
        """Number of points of each edge."""
        return np.diff(self.offsets)

    def geoms(self, edges: np.ndarray) -> np.ndarray:
        """shapely LineStrings of the given edge indices."""
        edges = np.asarray(edges, dtype=np.int64)
        if not len(edges):
            return np.zeros(0, dtype=object)
        counts = self.counts()[edges]
        first = np.repeat(self.offsets[edges], counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        pts = self.coords[first + within]
        return np.asarray(
            shapely.linestrings(pts, indices=np.repeat(np.arange(len(edges)), counts))
        )

    def ewkb_hex(self, lo: int, hi: int, *, srid: int = 4326) -> list[str]:
        """Hex EWKB (little-endian, with SRID) of edges ``lo:hi``, built with numpy."""
        counts = self.counts()[lo:hi]
        if not len(counts):
            return []
        sizes = _EWKB_HEADER + 16 * counts
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        buf = np.empty(int(sizes.sum()), dtype=np.uint8)
        head = np.frombuffer(struct.pack("<BII", 1, 0x20000002, srid), dtype=np.uint8)
        buf[starts[:, None] + np.arange(9)] = head
        buf[starts[:, None] + np.arange(9, 13)] = counts.astype("<u4").view(np.uint8).reshape(-1, 4)
        pts = np.ascontiguousarray(self.coords[self.offsets[lo] : self.offsets[hi]], dtype="<f8")
        within = np.arange(len(pts)) - np.repeat(np.cumsum(counts) - counts, counts)
        at = np.repeat(starts + _EWKB_HEADER, counts) + 16 * within
        buf[at[:, None] + np.arange(16)] = pts.view(np.uint8).reshape(-1, 16)
        text = buf.tobytes().hex()
        return [
            text[2 * a : 2 * (a + n)] for a, n in zip(starts.tolist(), sizes.tolist(), strict=True)
        ]


_EWKB_HEADER = 13  # byte order (1) + type with SRID flag (4) + SRID (4) + points (4)


@dataclass
class OsmNetwork:
    """The routable graph and assets read from one file (local 0-based ids).

    Attributes
    ----------
    nodes:
        ``id, osm_id, lon, lat``.
    edges:
        ``id, source, target, osm_way_id, highway, name, ref, road, length_m, speed_kmh,
        oneway, max_height_cm .. max_axle_load_kg (nullable Int64), hgv, hazmat,
        tunnel_category, is_bridge, is_tunnel, conditional (dict), reversed, group``
        (``group``: edges of one group share every column that follows from the way's
        tags -- all but ids, ends, length, geometry and limits).
    edge_lines:
        shapely LineStrings (EPSG:4326), aligned with ``edges``.
    roads:
        ``id, code, name_zh, name_en, road_class`` (one per ``ref``).
    assets:
        ``id, external_id, kind, name_zh, name_en, road, geom (shapely), attributes``.
    limits:
        ``asset, kind, value, value_text, unlimited, status, direction, conditional, note,
        key, raw``.
    asset_edges:
        ``asset, edge, direction``.
    report:
        The :class:`LoadReport`.
    """

    nodes: Table
    edges: Table
    edge_lines: EdgeLines
    roads: Table
    assets: Table
    limits: Table
    asset_edges: Table
    report: LoadReport


Progress = Callable[[str, int], None]


# ----------------------------------------------------------------------------- reading


@dataclass
class _Buffers:
    refs: array[int] = field(default_factory=lambda: array("q"))
    xs: array[int] = field(default_factory=lambda: array("i"))
    ys: array[int] = field(default_factory=lambda: array("i"))
    way_ids: array[int] = field(default_factory=lambda: array("q"))
    way_start: array[int] = field(default_factory=lambda: array("q"))
    way_tags: list[dict[str, str]] = field(default_factory=list)
    restrictors: list[tuple[int, int, int, dict[str, str]]] = field(default_factory=list)
    bridge_areas: list[tuple[int, list[tuple[int, int]], dict[str, str]]] = field(
        default_factory=list
    )


def _way_tags(data: Any, tags: Any) -> tuple[tuple[str, str], ...]:
    """The (key, value) pairs we use: by key lookups when they are all common keys, else
    by iteration. ``data`` is the way's C object (see :func:`_read`), ``tags`` its
    ``TagList``."""
    n = data.tags_size()
    get = data.tags_get_value_by_key
    out = []
    for k in _COMMON_KEYS:
        v = get(k, None)
        if v is not None:
            out.append((k, v))
            if len(out) == n:
                return tuple(out)
    return tuple(_keep(tags).items())


def _keep(tags: Any) -> dict[str, str]:
    out = {}
    for t in tags:
        k = t.k
        if k in _KEEP_KEYS or k.startswith(_KEEP_PREFIXES):
            out[k] = t.v
    return out


def _closed_to_motor(tags: Any) -> bool:
    for k in ("motor_vehicle", "motorcar", "vehicle"):
        v = tags.get(k)
        if v is not None:
            return v == "no"
    return tags.get("access") == "no"


def _read(path: Path, progress: Progress | None) -> _Buffers:
    """The drivable ways, restrictor nodes and bridge areas of ``path``: plain OSM XML
    through the vectorised scanner (:mod:`loaders.osm_xml`), anything else through
    pyosmium (:func:`_read_osmium`); both give the same buffers."""
    from loaders.osm_xml import scan_xml_file

    scan = scan_xml_file(path)
    if scan is None:
        return _read_osmium(path, progress)
    b = _buffers_of_scan(scan)
    if progress is not None:
        progress("ways", len(b.way_ids))
    return b


#: node keys that make a node a restrictor candidate (pyosmium reads only nodes with one)
_RESTRICTOR_KEYS = frozenset(
    ("barrier", "maxheight", "maxheight:physical", "maxwidth", "maxweight", "maxaxleload")
)


def _buffers_of_scan(scan: Any) -> _Buffers:
    """:class:`_Buffers` from an :class:`loaders.osm_xml.XmlScan`, with the selection
    rules of :func:`_read_osmium` applied once per distinct tag set."""
    tagsets: list[list[tuple[str, str]]] = scan.tagsets
    # per tag set: the interned kept tags of a usable drivable way, or a bridge area's
    interned: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    usable_of = np.zeros(len(tagsets) + 1, bool)  # index -1 (no tags): False
    bridge_of = np.zeros(len(tagsets) + 1, bool)
    kept_of: list[dict[str, str] | None] = [None] * len(tagsets)
    for i, pairs in enumerate(tagsets):
        raw = dict(pairs)
        if raw.get("highway") in DRIVABLE:
            items = _kept_items(pairs)
            tags = interned.get(items)
            if tags is None:
                tags = interned[items] = dict(items)
            if tags.get("area") != "yes" and not _closed_to_motor(tags):
                usable_of[i] = True
                kept_of[i] = tags
                continue
        bridge_of[i] = raw.get("man_made") == "bridge"
    # node locations by id (the last of repeated ids wins, as in libosmium's index)
    order = np.argsort(scan.node_ids, kind="stable")
    ids = scan.node_ids[order]
    last = np.ones(len(ids), bool)
    last[:-1] = ids[1:] != ids[:-1]
    order, ids = order[last], ids[last]
    nx, ny = scan.node_x[order], scan.node_y[order]

    def locate(refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.minimum(np.searchsorted(ids, refs), max(len(ids) - 1, 0))
        found = (ids[pos] == refs) if len(ids) else np.zeros(len(refs), bool)
        x = np.where(found, nx[pos] if len(ids) else 0, _UNDEF).astype(np.int32)
        y = np.where(found, ny[pos] if len(ids) else 0, _UNDEF).astype(np.int32)
        return x, y

    wts = scan.way_tagset
    sel = np.flatnonzero(usable_of[wts])
    starts, counts = scan.way_start[sel], np.diff(scan.way_start)[sel]
    way_start = np.zeros(len(sel) + 1, np.int64)
    np.cumsum(counts, out=way_start[1:])
    gather = np.repeat(starts - way_start[:-1], counts) + np.arange(int(way_start[-1]))
    refs = scan.refs[gather]
    xs, ys = locate(refs)
    b = _Buffers()
    b.refs, b.xs, b.ys = refs, xs, ys  # type: ignore[assignment]
    b.way_ids = scan.way_ids[sel]  # type: ignore[assignment]
    b.way_start = way_start  # type: ignore[assignment]
    b.way_tags = [kept_of[t] for t in wts[sel].tolist()]  # type: ignore[misc]
    # restrictor nodes: a restrictor key, and a height restrictor or a max* limit
    for n in np.flatnonzero(scan.node_tagset >= 0).tolist():
        pairs = tagsets[int(scan.node_tagset[n])]
        keys = [k for k, _ in pairs]
        if not any(k in _RESTRICTOR_KEYS for k in keys):
            continue
        if dict(pairs).get("barrier") == "height_restrictor" or any(
            k.startswith("max") for k in keys
        ):
            tags = _keep_pairs(pairs)
            b.restrictors.append(
                (int(scan.node_ids[n]), int(scan.node_x[n]), int(scan.node_y[n]), tags)
            )
    # man_made=bridge closed ways that are not usable roads
    for w in np.flatnonzero(bridge_of[wts]).tolist():
        s, e = int(scan.way_start[w]), int(scan.way_start[w + 1])
        wrefs = scan.refs[s:e]
        if e - s == 0 or wrefs[0] != wrefs[-1]:
            continue
        x, y = locate(wrefs)
        ring = list(zip(x.tolist(), y.tolist(), strict=True))
        b.bridge_areas.append((int(scan.way_ids[w]), ring, _keep_pairs(tagsets[wts[w]])))
    return b


def _kept_items(pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The tag items :func:`_way_tags` gives for a way with these tags (common keys in
    their fixed order when all its keys are common, else the kept keys in file order)."""
    keys = {k for k, _ in pairs}
    if keys <= set(_COMMON_KEYS):
        d = dict(pairs)
        return tuple((k, d[k]) for k in _COMMON_KEYS if k in d)
    return tuple(_keep_pairs(pairs).items())


def _keep_pairs(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return {k: v for k, v in pairs if k in _KEEP_KEYS or k.startswith(_KEEP_PREFIXES)}


def _read_osmium(path: Path, progress: Progress | None) -> _Buffers:
    import osmium
    from osmium.filter import KeyFilter

    node_filter = KeyFilter(*sorted(_RESTRICTOR_KEYS))
    node_filter.enable_for(osmium.osm.NODE)
    way_filter = KeyFilter("highway", "man_made")
    way_filter.enable_for(osmium.osm.WAY)
    fp = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(node_filter)
        .with_filter(way_filter)
    )
    b = _Buffers()
    last: tuple[str, int] | None = None
    seen = 0
    # ways of one road usually carry identical tags: keep one dict per distinct tag set
    # (memory), decide once per set whether it is a drivable road, and let the parser
    # cache on the dict's identity (speed)
    interned: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], bool]] = {}
    try:
        for item in fp:
            obj: Any = item
            if obj.is_node():
                last = ("node", obj.id)
                tags = obj.tags
                if tags.get("barrier") == "height_restrictor" or any(
                    t.k.startswith("max") for t in tags
                ):
                    loc = obj.location
                    b.restrictors.append((obj.id, loc.x, loc.y, _keep(tags)))
                continue
            # pyosmium 4's C object behind the Python wrapper (pinned in pyproject): asking
            # it directly saves a Python call per tag and per node, ~30 % of the loop
            data = obj._pyosmium_data
            wid = data.id()
            last = ("way", wid)
            otags = obj.tags
            usable = False
            if data.tags_get_value_by_key("highway", None) in DRIVABLE:
                items = _way_tags(data, otags)
                known = interned.get(items)
                if known is None:
                    tags = dict(items)
                    known = interned[items] = (
                        tags,
                        tags.get("area") != "yes" and not _closed_to_motor(tags),
                    )
                tags, usable = known
            if usable:
                b.way_ids.append(wid)
                b.way_start.append(len(b.refs))
                b.way_tags.append(tags)
                nodes = data.nodes()
                get = nodes.get
                refs = [get(data, i) for i in range(nodes.size(data))]
                b.refs.extend([r.ref for r in refs])
                locs = [r.location for r in refs]  # x/y: libosmium's undefined when missing
                b.xs.extend([loc.x for loc in locs])
                b.ys.extend([loc.y for loc in locs])
                seen += 1
                if progress is not None and seen % 5000 == 0:
                    progress("ways", seen)
            elif otags.get("man_made") == "bridge" and obj.is_closed():
                ring = [(nr.x, nr.y) for nr in obj.nodes]
                b.bridge_areas.append((wid, ring, _keep(otags)))
    except Exception as exc:  # libosmium raises RuntimeError/InvalidLocationError/...
        where = _locate_xml_error(path) if "line" not in str(exc) else None
        where = where or (f"after {last[0]}/{last[1]}" if last else None)
        raise OsmReadError(
            f"{path}: cannot read OSM data{f' ({where})' if where else ''}: {exc}"
        ) from exc
    if progress is not None:
        progress("ways", seen)
    b.way_start.append(len(b.refs))
    return b


def _release_freed_memory() -> None:
    """Return libosmium's freed read buffers to the OS.

    libosmium parses in worker threads; glibc keeps what they freed in per-thread arenas,
    where the numpy arrays built next cannot reuse it, so without a trim those ~10-25 MB
    add to the import's peak memory. A no-op where glibc is absent.
    """
    import ctypes
    from contextlib import suppress

    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _locate_xml_error(path: Path) -> str | None:
    """Line and element of the first node with an unreadable coordinate in an XML file.

    libosmium reports expat's line for XML syntax errors but not for bad coordinate
    text, and it parses ahead in a thread, so the last object we saw says little. Only
    called on the error path; a streaming expat pass costs about a second per 100 MB.
    """
    import bz2
    import gzip
    from xml.parsers import expat

    name = path.name.lower()
    if name.endswith(".pbf"):
        return None
    opener: Any = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    found: list[str] = []
    parser = expat.ParserCreate()

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag != "node" or found:
            return
        for key in ("lat", "lon"):
            raw = attrs.get(key, "")
            try:
                float(raw)
            except ValueError:
                found.append(
                    f"line {parser.CurrentLineNumber}: node/{attrs.get('id', '?')} {key}={raw!r}"
                )
                raise StopIteration from None

    parser.StartElementHandler = start
    try:
        with opener(path, "rb") as f:
            parser.ParseFile(f)
    except (StopIteration, expat.ExpatError, OSError, EOFError):
        pass
    return found[0] if found else None


# ----------------------------------------------------------------------------- tags


def _names(tags: Mapping[str, str], *, prefix: str = "") -> tuple[str | None, str | None]:
    """(name_zh, name_en): ``name:zh``/``name:en`` first, else ``name`` by its script."""
    name = tags.get(f"{prefix}name") or (tags.get("name") if prefix else None)
    zh = tags.get(f"{prefix}name:zh") or tags.get(f"{prefix}name:zh-Hans")
    en = tags.get(f"{prefix}name:en")
    if name:
        if _CJK.search(name):
            zh = zh or name
        else:
            en = en or name
    return zh, en


def _road_code(tags: Mapping[str, str]) -> str | None:
    ref = tags.get("ref")
    if not ref:
        return None
    code = ref.split(";")[0].strip()
    return code[:32] or None


def _oneway(tags: Mapping[str, str]) -> int:
    v = (tags.get("oneway") or "").strip().lower()
    if v in _ONEWAY_FWD:
        return 1
    if v in _ONEWAY_REV:
        return -1
    if v in _NO or v in ("reversible", "alternating"):
        return 0
    if tags.get("junction") in ("roundabout", "circular"):
        return 1
    if tags.get("highway") in ("motorway", "motorway_link"):
        return 1
    return 0


def _applies(direction: str, oneway: int) -> bool:
    """Does a limit with ``direction`` bind an edge travelled with ``oneway``?"""
    if direction == "both" or oneway == 0:
        return True
    return (direction == "forward") == (oneway == 1)


@dataclass
class _WayAttrs:
    highway: list[str] = field(default_factory=list)
    name: list[str | None] = field(default_factory=list)
    ref: list[str | None] = field(default_factory=list)
    road: list[int] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)
    oneway: list[int] = field(default_factory=list)
    limits: dict[str, list[float]] = field(
        default_factory=lambda: {c: [] for c in _LIMIT_COLUMNS.values()}
    )
    hgv: list[str | None] = field(default_factory=list)
    hazmat: list[str | None] = field(default_factory=list)
    tunnel_category: list[str | None] = field(default_factory=list)
    is_bridge: list[bool] = field(default_factory=list)
    is_tunnel: list[bool] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    way_limits: list[list[TagLimit]] = field(default_factory=list)
    group: Any = None  # per way: index of its distinct parsed tag set


_Issue = tuple[str, str, str]  # (report section, OSM key, text after the element ref)


def _issues(limits: Iterable[TagLimit]) -> list[_Issue]:
    out: list[_Issue] = []
    for t in limits:
        p = t.parsed
        if p.status == "unparseable":
            out.append(("unparseable", t.key, f": {p.raw!r} ({p.note})"))
        elif p.status == "unknown":
            out.append(("unknown", t.key, f": {p.raw!r}"))
    return out


def _record(report: LoadReport, ref: str, limits: Iterable[TagLimit]) -> None:
    for section, key, text in _issues(limits):
        report.issue(section, key).add(ref + text)


_parse_speed = functools.lru_cache(maxsize=4096)(parse_speed_kmh)


def _speed(tags: Mapping[str, str], hw: str, oneway: int) -> tuple[float, _Issue | None]:
    keys = ["maxspeed"]
    if oneway == 1:
        keys.insert(0, "maxspeed:forward")
    elif oneway == -1:
        keys.insert(0, "maxspeed:backward")
    for key in keys:
        raw = tags.get(key)
        if raw is None:
            continue
        p = _parse_speed(raw)
        if p.is_value and p.value:
            return float(p.value), None
        if p.status == "unparseable":
            return DEFAULT_SPEED_KMH[hw], ("unparseable", key, f": {raw!r} ({p.note})")
        break
    return DEFAULT_SPEED_KMH[hw], None


@dataclass(frozen=True)
class _ParsedWay:
    highway: str
    name: str | None
    ref: str | None
    road: int
    oneway: int
    speed: float
    limits: list[TagLimit]
    best: dict[str, float]
    text: dict[str, str]
    conditional: dict[str, Any]
    is_bridge: bool
    is_tunnel: bool
    issues: list[_Issue]


def _road_of(tags: Mapping[str, str], hw: str, roads: dict[str, dict[str, Any]]) -> int:
    code = _road_code(tags)
    if code is None:
        return -1
    road = roads.get(code)
    cls = ROAD_CLASS.get(hw.removesuffix("_link"), "other")
    if road is None:
        zh, en = _names(tags)
        road = {"id": len(roads), "code": code, "name_zh": zh, "name_en": en, "road_class": cls}
        roads[code] = road
    elif _CLASS_RANK.get(cls, 99) < _CLASS_RANK.get(road["road_class"], 99):
        road["road_class"] = cls
    return int(road["id"])


#: the keys :func:`limits_from_tags` and :func:`access_from_tags` read
_LIMIT_PREFIXES = ("max", "hgv", "hazmat", "tunnel:category")


@functools.lru_cache(maxsize=4096)
def _limits_of(items: tuple[tuple[str, str], ...]) -> tuple[TagLimit, ...]:
    """Limits and access of a way's limit tags: ways of many roads share them (cached,
    so each distinct set is parsed once however many names and refs it comes with)."""
    tags = dict(items)
    return tuple(limits_from_tags(tags) + access_from_tags(tags))


def _parse_way(tags: Mapping[str, str], roads: dict[str, dict[str, Any]]) -> _ParsedWay:
    hw = tags["highway"]
    ow = _oneway(tags)
    speed, speed_issue = _speed(tags, hw, ow)
    lims = list(_limits_of(tuple(kv for kv in tags.items() if kv[0].startswith(_LIMIT_PREFIXES))))
    issues = _issues(lims) + ([speed_issue] if speed_issue else [])
    best: dict[str, float] = {}
    cond: dict[str, Any] = {}
    text: dict[str, str] = {}
    for t in lims:
        p = t.parsed
        if t.condition is not None:
            cond.setdefault(t.key, []).append(
                {"condition": t.condition, "status": p.status, "value": p.value or p.text}
            )
            continue
        if not _applies(t.direction, ow) or not p.is_value:
            continue
        if t.kind in _LIMIT_COLUMNS:
            col = _LIMIT_COLUMNS[t.kind]
            best[col] = min(best.get(col, np.inf), float(p.value or np.inf))
        elif t.direction == "both" or t.kind not in text:
            text[t.kind] = p.text or ""
    return _ParsedWay(
        highway=hw,
        name=tags.get("name"),
        ref=tags.get("ref"),
        road=_road_of(tags, hw, roads),
        oneway=ow,
        speed=speed,
        limits=lims,
        best=best,
        text=text,
        conditional=cond,
        is_bridge=tags.get("bridge", "no") not in _NO,
        is_tunnel=tags.get("tunnel", "no") not in _NO,
        issues=issues,
    )


def _way_attributes(b: _Buffers, report: LoadReport, roads: dict[str, dict[str, Any]]) -> _WayAttrs:
    """Per-way attributes. Ways with identical tags (the segments of one road) are parsed
    once: the cache makes the parsing linear in distinct tag sets, and the per-way columns
    are gathered from the parsed table with numpy."""
    # id() of the interned tag dicts, in order of first appearance (so roads are
    # numbered as the file meets them); the mapping runs in C, not per way in Python
    keys = list(map(id, b.way_tags))
    tags_of = dict(zip(keys, b.way_tags, strict=True))
    index = {k: i for i, k in enumerate(tags_of)}
    parsed = [_parse_way(tags_of[k], roads) for k in index]
    idx = np.fromiter(map(index.__getitem__, keys), np.int64, len(keys))
    with_issues = np.array([bool(p.issues) for p in parsed], dtype=bool)[idx]
    way_ids = b.way_ids
    for wi in np.flatnonzero(with_issues).tolist():  # way order, as the examples go
        for section, k, text in parsed[idx[wi]].issues:
            report.issue(section, k).add(f"way/{way_ids[wi]}{text}")

    def gather(values: list[Any], dtype: Any = object) -> Any:
        arr = np.empty(len(values), dtype=dtype)
        for j, v in enumerate(values):  # element-wise: values may be lists (no broadcasting)
            arr[j] = v
        return arr[idx]

    w = _WayAttrs()
    w.group = idx
    w.highway = gather([p.highway for p in parsed])
    w.name = gather([p.name for p in parsed])
    w.ref = gather([p.ref for p in parsed])
    w.road = gather([p.road for p in parsed], np.int64)
    w.oneway = gather([p.oneway for p in parsed], np.int64)
    w.speed = gather([p.speed for p in parsed], float)
    w.way_limits = gather([p.limits for p in parsed])
    for col in _LIMIT_COLUMNS.values():
        w.limits[col] = gather([p.best.get(col, np.nan) for p in parsed], float)
    w.hgv = gather([p.text.get("hgv") for p in parsed])
    w.hazmat = gather([p.text.get("hazmat") for p in parsed])
    w.tunnel_category = gather([p.text.get("tunnel_category") for p in parsed])
    w.is_bridge = gather([p.is_bridge for p in parsed], bool)
    w.is_tunnel = gather([p.is_tunnel for p in parsed], bool)
    w.conditional = gather([p.conditional for p in parsed])
    return w


# ----------------------------------------------------------------------------- graph


def _segments(
    b: _Buffers, report: LoadReport, restrictor_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ways into edges. Returns (refs, lon, lat, edge_start, edge_end, edge_way)."""
    refs = np.frombuffer(b.refs, dtype=np.int64) if len(b.refs) else np.zeros(0, np.int64)
    x = np.frombuffer(b.xs, dtype=np.int32).astype(np.int64) if len(b.xs) else np.zeros(0, np.int64)
    y = np.frombuffer(b.ys, dtype=np.int32).astype(np.int64) if len(b.ys) else np.zeros(0, np.int64)
    starts = np.frombuffer(b.way_start, dtype=np.int64)
    n = len(refs)
    way_of = np.repeat(np.arange(len(b.way_ids)), np.diff(starts))
    missing = (x == _UNDEF) | (y == _UNDEF)
    invalid = ~missing & ((np.abs(x) > 1_800_000_000) | (np.abs(y) > 900_000_000))
    good = ~(missing | invalid)
    lon = np.where(good, x, 0) / 1e7
    lat = np.where(good, y, 0) / 1e7
    for mask, key in ((missing, "ways_with_missing_nodes"), (invalid, "invalid_coordinates")):
        if mask.any():
            idx = np.flatnonzero(mask)
            ways = np.unique(way_of[idx])
            issue = report.issue("warnings", key)
            for i in idx[:_EXAMPLES]:
                wid = b.way_ids[way_of[i]]
                if key == "invalid_coordinates":
                    issue.add(f"node/{refs[i]} in way/{wid}: lat {y[i] / 1e7}, lon {x[i] / 1e7}")
                else:
                    issue.add(f"node/{refs[i]} in way/{wid}")
            issue.count = len(ways) if key == "ways_with_missing_nodes" else int(mask.sum())
    # drop immediate repeats of a node within a way (zero-length segments)
    same_way = np.zeros(n, bool)
    if n > 1:
        same_way[1:] = way_of[1:] == way_of[:-1]
    repeat = np.zeros(n, bool)
    if n > 1:
        repeat[1:] = same_way[1:] & (refs[1:] == refs[:-1])
    good &= ~repeat
    # runs of consecutive good positions within a way: a run starts at a good position
    # whose previous good position is in another way or has a bad position in between
    keep_idx = np.flatnonzero(good)
    run_start = np.zeros(n, bool)
    run_start[keep_idx] = True
    if len(keep_idx) > 1:
        k = keep_idx
        cbad = np.concatenate([[0], np.cumsum(missing | invalid)])
        between_bad = cbad[k[1:]] - cbad[k[:-1] + 1] > 0
        contiguous = (way_of[k[1:]] == way_of[k[:-1]]) & ~between_bad
        run_start[k[1:]] = ~contiguous
    run_id = np.cumsum(run_start) - 1
    # usage counts on good positions -> split points
    _, inverse, counts = np.unique(refs[good], return_inverse=True, return_counts=True)
    split = np.zeros(n, bool)
    split[good] = counts[inverse] > 1
    if len(restrictor_ids):
        split[good] |= np.isin(refs[good], restrictor_ids)
    run_end = np.zeros(n, bool)
    if len(keep_idx):
        last_of_run = np.ones(len(keep_idx), bool)
        last_of_run[:-1] = run_start[keep_idx[1:]]
        run_end[keep_idx[last_of_run]] = True
    marked = good & (split | run_start | run_end)
    p = np.flatnonzero(marked)
    if len(p) < 2:
        e0 = e1 = np.zeros(0, np.int64)
    else:
        same_run = run_id[p[1:]] == run_id[p[:-1]]
        e0, e1 = p[:-1][same_run], p[1:][same_run]
    # ways that yield no edge at all
    has_edge = np.zeros(len(b.way_ids), bool)
    has_edge[way_of[e0]] = True
    for wi in np.flatnonzero(~has_edge):
        report.issue("rejected", "way_without_two_located_nodes").add(f"way/{b.way_ids[wi]}")
    return refs, lon, lat, e0, e1, way_of[e0]


def _edge_lines(
    lon: np.ndarray, lat: np.ndarray, e0: np.ndarray, e1: np.ndarray, rev: np.ndarray
) -> EdgeLines:
    lengths = e1 - e0 + 1
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if not len(e0):
        return EdgeLines(np.zeros((0, 2)), offsets)
    within = np.arange(int(lengths.sum())) - np.repeat(offsets[:-1], lengths)
    idx = np.where(
        np.repeat(rev, lengths), np.repeat(e1, lengths) - within, np.repeat(e0, lengths) + within
    )
    return EdgeLines(np.column_stack([lon[idx], lat[idx]]), offsets)


def _geodesic_cumulative(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    from pyproj import Geod

    cum = np.zeros(len(lon))
    if len(lon) > 1:
        _, _, d = Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        cum[1:] = np.cumsum(np.nan_to_num(np.asarray(d, dtype=float)))
    return cum


def read_osm(path: str | Path, *, progress: Progress | None = None) -> OsmNetwork:
    """Read ``path`` into an :class:`OsmNetwork` (graph, roads, assets, limits, report).

    The three stages (:func:`read_osm_graph`, :func:`read_osm_edges`,
    :func:`read_osm_assets`) in one call.

    Parameters
    ----------
    path:
        ``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf`` (format from the suffix).
    progress:
        Called as ``progress(phase, count)`` while reading (``ways``) and building.

    Raises
    ------
    OsmReadError
        When the file is missing, truncated or not OSM data (message names the file, the
        last element read and libosmium's reason, with the line for XML).
    """
    graph = read_osm_graph(path, progress=progress)
    return read_osm_assets(graph, read_osm_edges(graph))


@dataclass
class OsmGraph:
    """First stage of a read: the graph's nodes, what a writer can start on while the
    roads, edges and assets are built (:func:`read_osm_edges`, :func:`read_osm_assets`).

    Attributes
    ----------
    nodes, report:
        As in :class:`OsmNetwork` (the report is completed by the later stages).
    edge_count:
        Number of edges the graph will have.
    """

    nodes: Table
    report: LoadReport
    edge_count: int
    parts: dict[str, Any]  # what the later stages need


@dataclass
class OsmEdges:
    """Second stage of a read: the edges (limits of restrictor nodes applied), their
    geometry and the roads they belong to."""

    edges: Table
    edge_lines: EdgeLines
    roads: Table


def read_osm_graph(path: str | Path, *, progress: Progress | None = None) -> OsmGraph:
    """Read ``path`` and split its drivable ways into a graph: nodes, report.

    Raises :class:`OsmReadError` as :func:`read_osm` does."""
    path = Path(path)
    if not path.is_file():
        raise OsmReadError(f"{path}: no such file")
    report = LoadReport(file=str(path))
    b = _read(path, progress)
    _release_freed_memory()
    report.counts["ways_drivable"] = len(b.way_ids)
    restrictor_ids = np.array(sorted({r[0] for r in b.restrictors}), dtype=np.int64)
    refs, lon, lat, e0, e1, ew = _segments(b, report, restrictor_ids)
    # an edge without length (all its points at one place) is dropped; told from the
    # coordinates, so the nodes are known before the lengths (read_osm_edges)
    degenerate = ~_moves(lon, lat, e0, e1)
    for i in np.flatnonzero(degenerate)[:_EXAMPLES]:
        report.issue("rejected", "degenerate_edge").add(f"way/{b.way_ids[ew[i]]}", 0)
    if degenerate.any():
        report.issue("rejected", "degenerate_edge").count = int(degenerate.sum())
        keep = ~degenerate
        e0, e1, ew = e0[keep], e1[keep], ew[keep]
    if progress is not None:
        progress("edges", len(e0))
    # node coordinates do not depend on the travel direction: every position of a node
    # has its location
    node_osm, node_inv = np.unique(np.concatenate([refs[e0], refs[e1]]), return_inverse=True)
    first_pos = np.empty(len(node_osm), np.int64)
    first_pos[node_inv] = np.concatenate([e0, e1])
    nodes = Table(
        {
            "id": np.arange(len(node_osm), dtype=np.int64),
            "osm_id": node_osm,
            "lon": lon[first_pos],
            "lat": lat[first_pos],
        }
    )
    if len(nodes):
        report.bbox = (
            float(nodes.lon.min()),
            float(nodes.lat.min()),
            float(nodes.lon.max()),
            float(nodes.lat.max()),
        )
    _region(report, nodes)
    parts = dict(b=b, refs=refs, lon=lon, lat=lat, e0=e0, e1=e1, ew=ew, node_osm=node_osm)
    return OsmGraph(nodes, report, len(e0), parts)


def _moves(lon: np.ndarray, lat: np.ndarray, e0: np.ndarray, e1: np.ndarray) -> np.ndarray:
    """Whether each edge ``e0 .. e1`` has two distinct points (positive geodesic length):
    +-180 degrees of longitude and every longitude at a pole are one place."""
    if not len(e0):
        return np.zeros(0, bool)
    x = np.where(np.abs(lat) == 90.0, 0.0, np.where(lon == -180.0, 180.0, lon))
    step = np.zeros(len(lon), np.int64)
    step[1:] = np.cumsum((x[1:] != x[:-1]) | (lat[1:] != lat[:-1]))
    return step[e1] - step[e0] > 0


def read_osm_edges(graph: OsmGraph) -> OsmEdges:
    """Second stage: the roads, and the edges of ``graph`` with their attributes, lengths
    and geometry."""
    p = graph.parts
    b, ew, refs, e0, e1 = p["b"], p["ew"], p["refs"], p["e0"], p["e1"]
    report = graph.report
    roads: dict[str, dict[str, Any]] = {}
    w = _way_attributes(b, report, roads)
    road_rows: list[dict[str, Any]] = sorted(roads.values(), key=lambda r: int(r["id"]))
    road_frame = Table.from_rows(road_rows, ["id", "code", "name_zh", "name_en", "road_class"])
    p["w"] = w
    ne = graph.edge_count
    oneway = np.asarray(w.oneway, dtype=np.int8)[ew] if ne else np.zeros(0, np.int8)
    rev = oneway == -1
    cum = _geodesic_cumulative(p["lon"], p["lat"])
    length_m = cum[e1] - cum[e0]
    ends = np.searchsorted(
        p["node_osm"],
        np.concatenate([np.where(rev, refs[e1], refs[e0]), np.where(rev, refs[e0], refs[e1])]),
    )
    lines = _edge_lines(p["lon"], p["lat"], e0, e1, rev)
    way_ids = np.asarray(b.way_ids, dtype=np.int64)
    node_inv = ends
    edges = Table(
        {
            "id": np.arange(ne, dtype=np.int64),
            "source": node_inv[:ne],
            "target": node_inv[ne:],
            "osm_way_id": way_ids[ew] if ne else np.zeros(0, np.int64),
            "highway": np.asarray(w.highway, dtype=object)[ew],
            "name": np.asarray(w.name, dtype=object)[ew],
            "ref": np.asarray(w.ref, dtype=object)[ew],
            "road": np.asarray(w.road, dtype=np.int64)[ew] if ne else np.zeros(0, np.int64),
            "length_m": length_m,
            "speed_kmh": np.asarray(w.speed, dtype=float)[ew] if ne else np.zeros(0),
            "oneway": oneway != 0,
            "reversed": rev,
            # the edge's way's distinct tag set: every column above but ids, ends and
            # length follows from it (the writer formats those once per group)
            "group": np.asarray(w.group, dtype=np.int64)[ew] if ne else np.zeros(0, np.int64),
        }
    )
    for col, vals in w.limits.items():
        edges[col] = np.asarray(vals, dtype=float)[ew] if ne else np.zeros(0)
    for col in ("hgv", "hazmat", "tunnel_category", "conditional"):
        edges[col] = np.asarray(getattr(w, col), dtype=object)[ew]
    for col in ("is_bridge", "is_tunnel"):
        edges[col] = np.asarray(getattr(w, col), dtype=bool)[ew] if ne else np.zeros(0, bool)
    _project_restrictors(b, edges, graph.nodes)
    for col in _LIMIT_COLUMNS.values():
        edges[col] = np.round(edges[col])  # whole cm/kg; NaN: no limit
    return OsmEdges(edges, lines, road_frame)


def read_osm_assets(graph: OsmGraph, edges: OsmEdges) -> OsmNetwork:
    """Last stage: bridges, tunnels, restrictors and bridge areas as assets with their
    limits and edges; the report completed."""
    p = graph.parts
    report, nodes = graph.report, graph.nodes
    _self_intersections(report, edges.edges, edges.edge_lines)
    assets, limits, asset_edges = _assets(
        p["b"], p["w"], report, edges.edges, edges.edge_lines, nodes, p["ew"]
    )
    report.counts.update(
        nodes=len(nodes),
        edges=len(edges.edges),
        roads=len(edges.roads),
        assets=len(assets),
        limits=len(limits),
        asset_edges=len(asset_edges),
    )
    return OsmNetwork(
        nodes,
        edges.edges,
        edges.edge_lines,
        edges.roads,
        assets,
        limits,
        asset_edges,
        report,
    )


def _self_intersections(report: LoadReport, edges: Table, lines: EdgeLines) -> None:
    # a line of two points is always simple: only the others need GEOS (a chunk at a time)
    closed = edges["source"] == edges["target"]
    candidates = np.flatnonzero((lines.counts() > 2) & ~closed)
    bad_parts = [
        part[~np.asarray(shapely.is_simple(lines.geoms(part)))]
        for part in np.array_split(candidates, max(1, len(candidates) // 20_000))
    ]
    bad = np.concatenate(bad_parts) if bad_parts else np.zeros(0, np.int64)
    if len(bad):
        issue = report.issue("warnings", "self_intersecting_edges")
        for i in bad[:_EXAMPLES]:
            issue.add(f"way/{edges.osm_way_id[i]}", 0)
        issue.count = len(bad)


def _region(report: LoadReport, nodes: Table) -> None:
    if not len(nodes):
        return
    x0, y0, x1, y1 = CHINA_BBOX
    lon, lat = nodes.lon, nodes.lat
    outside = ~((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
    if outside.any():
        swapped = outside & (lat >= x0) & (lat <= x1) & (lon >= y0) & (lon <= y1)
        issue = report.issue("warnings", "outside_china")
        for i in np.flatnonzero(outside)[:_EXAMPLES]:
            issue.add(f"node/{nodes.osm_id[i]}: lon {lon[i]:.6f}, lat {lat[i]:.6f}", 0)
        issue.count = int(outside.sum())
        if swapped.any():
            s = report.issue("warnings", "swapped_lat_lon")
            for i in np.flatnonzero(swapped)[:_EXAMPLES]:
                s.add(f"node/{nodes.osm_id[i]}: lon {lon[i]:.6f}, lat {lat[i]:.6f}", 0)
            s.count = int(swapped.sum())


# ----------------------------------------------------------------------------- assets

_LIMIT_ROW_COLUMNS = [
    "asset",
    "kind",
    "value",
    "value_text",
    "unlimited",
    "status",
    "direction",
    "conditional",
    "note",
    "key",
    "raw",
]


def _limit_rows(asset: int, limits: Iterable[TagLimit]) -> list[tuple[Any, ...]]:
    """structure_limit rows: values, explicit no-limits, unknowns (value NULL) and
    unparseables (value NULL, status 'proposed', the raw text kept for review)."""
    rows = []
    for t in limits:
        p: Parsed = t.parsed
        kind = "hazmat" if t.kind == "tunnel_category" else t.kind
        notes = []
        if t.physical:
            notes.append("physical")
        if t.kind == "tunnel_category":
            notes.append("adr_tunnel_category")
        if p.note:
            notes.append(p.note)
        status = "approved"
        if p.status == "unparseable":
            status = "proposed"
            notes.insert(0, "unparseable")
        value = p.value if p.status == "value" and t.kind not in ("hgv", "hazmat") else None
        if t.kind in ("hgv", "hazmat", "tunnel_category"):
            value = None
        text = (p.text or p.raw or "")[:32] or None
        rows.append(
            (
                asset,
                kind,
                value,
                text,
                p.status == "unlimited",
                status,
                t.direction,
                t.condition,
                "; ".join(notes) or None,
                t.key,
                p.raw,
            )
        )
    return rows


def _way_geometry(b: _Buffers, wi: int) -> Any:
    s, e = b.way_start[wi], b.way_start[wi + 1]
    pts = [
        (b.xs[i] / 1e7, b.ys[i] / 1e7)
        for i in range(s, e)
        if b.xs[i] != _UNDEF and abs(b.xs[i]) <= 1_800_000_000 and abs(b.ys[i]) <= 900_000_000
    ]
    if len(pts) < 2:
        return None
    return shapely.LineString(pts)


def _way_geometries(b: _Buffers, ways: list[int]) -> list[Any]:
    """:func:`_way_geometry` of many ways with one shapely call."""
    if not ways:
        return []
    starts = np.asarray(b.way_start, dtype=np.int64)
    w = np.asarray(ways, dtype=np.int64)
    counts = starts[w + 1] - starts[w]
    offs = np.zeros(len(w) + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    pos = np.repeat(starts[w] - offs[:-1], counts) + np.arange(int(offs[-1]))
    owner = np.repeat(np.arange(len(w)), counts)
    x = np.asarray(b.xs, dtype=np.int64)[pos]
    y = np.asarray(b.ys, dtype=np.int64)[pos]
    ok = (x != _UNDEF) & (np.abs(x) <= 1_800_000_000) & (np.abs(y) <= 900_000_000)
    n_ok = np.bincount(owner[ok], minlength=len(w))
    keep = ok & (n_ok[owner] >= 2)
    out: list[Any] = [None] * len(w)
    if keep.any():
        lines = shapely.linestrings(
            np.column_stack([x[keep] / 1e7, y[keep] / 1e7]), indices=owner[keep]
        )
        for i, g in zip(np.flatnonzero(n_ok >= 2).tolist(), lines.tolist(), strict=True):
            out[i] = g
    return out


def _kind_of_way(tags: Mapping[str, str]) -> str | None:
    if tags.get("bridge", "no") not in _NO:
        return "bridge"
    t = tags.get("tunnel", "no")
    if t not in _NO:
        return {"building_passage": "underpass", "culvert": "culvert"}.get(t, "tunnel")
    return None


def _edges_of_ways(edge_way: np.ndarray, way_ids: list[int]) -> dict[int, list[int]]:
    """OSM way id -> its edges (ascending), for the given ways only (one sort, no
    per-edge Python loop)."""
    if not way_ids or not len(edge_way):
        return {}
    order = np.argsort(edge_way, kind="stable")
    ordered = edge_way[order]
    wanted = np.asarray(way_ids, dtype=np.int64)
    lo = np.searchsorted(ordered, wanted, "left")
    hi = np.searchsorted(ordered, wanted, "right")
    return {
        int(w): order[a:z].tolist()
        for w, a, z in zip(wanted.tolist(), lo.tolist(), hi.tolist(), strict=True)
        if z > a
    }


def _incident(edges: Table, restrictor_nodes: np.ndarray) -> dict[int, list[int]]:
    """Restrictor node -> the edges starting or ending at it."""
    incident: dict[int, list[int]] = {}
    for col in ("source", "target"):
        ends = edges[col]
        for e in np.flatnonzero(np.isin(ends, restrictor_nodes)).tolist():
            incident.setdefault(int(ends[e]), []).append(e)
    return incident


def _project_restrictors(b: _Buffers, edges: Table, nodes: Table) -> None:
    """A restrictor node's unconditional limits onto the edges at it (the most
    restrictive value wins). The restrictors' assets and report come later, in
    :func:`_assets`."""
    if not b.restrictors:
        return
    node_of_osm = dict(zip(nodes.osm_id.tolist(), nodes.id.tolist(), strict=True))
    restrictor_nodes = np.fromiter(
        (node_of_osm[r[0]] for r in b.restrictors if r[0] in node_of_osm), dtype=np.int64
    )
    incident = _incident(edges, restrictor_nodes)
    edge_limits = {col: np.array(edges[col], dtype=float) for col in _LIMIT_COLUMNS.values()}
    for osm_id, _x, _y, tags in b.restrictors:
        lims = limits_from_tags(tags)
        if tags.get("barrier") != "height_restrictor" and not lims:
            continue
        n = node_of_osm.get(osm_id)
        if n is None:
            continue
        for e in sorted(set(incident.get(n, []))):
            for t in lims:
                if t.condition is None and t.parsed.is_value and t.kind in _LIMIT_COLUMNS:
                    arr = edge_limits[_LIMIT_COLUMNS[t.kind]]
                    arr[e] = np.fmin(arr[e], float(t.parsed.value or np.inf))
    for col, arr in edge_limits.items():
        edges[col] = arr


def _assets(
    b: _Buffers,
    w: _WayAttrs,
    report: LoadReport,
    edges: Table,
    lines: EdgeLines,
    nodes: Table,
    ew: np.ndarray,
) -> tuple[Table, Table, Table]:
    assets: list[dict[str, Any]] = []
    limit_rows: list[tuple[Any, ...]] = []
    links: list[tuple[int, int, str]] = []
    way_ids = b.way_ids.tolist()
    way_index = dict(zip(way_ids, range(len(way_ids)), strict=True))
    # bridges and tunnels on drivable ways (tag sets are shared dicts: one check each)
    keys = list(map(id, b.way_tags))
    distinct = dict(zip(keys, b.way_tags, strict=True))
    kind_of_tags = {k: _kind_of_way(t) for k, t in distinct.items()}
    kinds = list(map(kind_of_tags.__getitem__, keys))
    structures = [(wid, wi, kinds[wi]) for wid, wi in way_index.items() if kinds[wi] is not None]
    edges_of_way = _edges_of_ways(edges["osm_way_id"], [s[0] for s in structures])
    structures = [s for s in structures if s[0] in edges_of_way]
    geoms = _way_geometries(b, [s[1] for s in structures])
    for (wid, wi, kind), geom in zip(structures, geoms, strict=True):
        tags = b.way_tags[wi]
        prefix = "bridge:" if kind == "bridge" else "tunnel:"
        zh, en = _names(tags, prefix=prefix)
        aid = len(assets)
        assets.append(
            {
                "id": aid,
                "external_id": f"osm:way/{wid}",
                "kind": kind,
                "name_zh": zh,
                "name_en": en,
                "road": int(w.road[wi]),
                "geom": geom,
                "attributes": {"osm_tags": tags, "layer": tags.get("layer")},
            }
        )
        limit_rows.extend(_limit_rows(aid, w.way_limits[wi]))
        links.extend((aid, e, "both") for e in edges_of_way[wid])
    # restrictor nodes projected onto their incident edges
    node_of_osm = dict(zip(nodes.osm_id.tolist(), nodes.id.tolist(), strict=True))
    restrictor_nodes = np.fromiter(
        (node_of_osm[r[0]] for r in b.restrictors if r[0] in node_of_osm), dtype=np.int64
    )
    incident = _incident(edges, restrictor_nodes)
    edge_road = edges["road"]
    for osm_id, x, y, tags in b.restrictors:
        ref = f"node/{osm_id}"
        lims = limits_from_tags(tags)
        if tags.get("barrier") != "height_restrictor" and not lims:
            continue
        n = node_of_osm.get(osm_id)
        if n is None:
            report.issue("rejected", "restrictor_not_on_drivable_way").add(ref)
            continue
        _record(report, ref, lims)
        zh, en = _names(tags)
        aid = len(assets)
        assets.append(
            {
                "id": aid,
                "external_id": f"osm:{ref}",
                "kind": "height_restrictor",
                "name_zh": zh,
                "name_en": en,
                "road": int(edge_road[incident[n][0]]) if incident.get(n) else -1,
                "geom": shapely.Point(x / 1e7, y / 1e7),
                "attributes": {"osm_tags": tags},
            }
        )
        limit_rows.extend(_limit_rows(aid, lims))
        links.extend((aid, e, "both") for e in sorted(set(incident.get(n, []))))
    # man_made=bridge areas: the edges of bridge ways they cover
    bridge_edges = np.flatnonzero(edges["is_bridge"]) if b.bridge_areas else np.zeros(0, int)
    tree = shapely.STRtree(lines.geoms(bridge_edges)) if len(bridge_edges) else None
    for wid, ring, tags in b.bridge_areas:
        ref = f"way/{wid}"
        if any(x == _UNDEF for x, _ in ring) or len(ring) < 4:
            report.issue("rejected", "bridge_area_with_missing_nodes").add(ref)
            continue
        poly = shapely.Polygon([(x / 1e7, y / 1e7) for x, y in ring])
        if not poly.is_valid:
            report.issue("rejected", "invalid_bridge_area").add(
                f"{ref}: {shapely.is_valid_reason(poly)}"
            )
            continue
        covered = [] if tree is None else bridge_edges[tree.query(poly, predicate="intersects")]
        lims = limits_from_tags(tags)
        _record(report, ref, lims)
        zh, en = _names(tags)
        aid = len(assets)
        assets.append(
            {
                "id": aid,
                "external_id": f"osm:{ref}",
                "kind": "bridge",
                "name_zh": zh,
                "name_en": en,
                "road": -1,
                "geom": poly,
                "attributes": {"osm_tags": tags, "area": True},
            }
        )
        limit_rows.extend(_limit_rows(aid, lims))
        links.extend((aid, int(e), "both") for e in sorted(covered))
    asset_frame = Table.from_rows(
        assets,
        ["id", "external_id", "kind", "name_zh", "name_en", "road", "geom", "attributes"],
    )
    limits = Table.from_rows(limit_rows, _LIMIT_ROW_COLUMNS)
    seen: set[tuple[int, int]] = set()
    kept = []
    for a, e, d in links:  # the first link of each (asset, edge), in order
        if (a, e) not in seen:
            seen.add((a, e))
            kept.append((a, e, d))
    asset_edges = Table(
        {
            "asset": np.asarray([k[0] for k in kept], dtype=np.int64),
            "edge": np.asarray([k[1] for k in kept], dtype=np.int64),
            "direction": _objects([k[2] for k in kept]),
        }
    )
    return asset_frame, limits, asset_edges
