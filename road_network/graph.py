"""The routing graph compiled to numpy arrays (CSR), with per-arc limits and a snapshot.

A road edge that may be driven both ways becomes two *arcs*; a one-way edge one. Arrays
are in arc order (sorted by tail node), so the forward CSR is ``indptr``/``head``; the
reverse CSR ``rindptr``/``rarc`` lists, per node, the arcs entering it.

Limits are per arc (a structure limit may govern one direction only), int32 in
centimetres (height, width, length) and kilograms (weight, axle load), one row per kind
of :data:`LIMIT_KINDS` in ``limits``. Two sentinels: :data:`LIMIT_NONE` (no limit) and
:data:`LIMIT_UNKNOWN` (a limit is posted but its value is unknown).

The graph is built by :func:`build_graph` from plain arrays and structure dicts (the
shell reads them from PostGIS) and saved/loaded with :meth:`CompiledGraph.save` /
:meth:`CompiledGraph.load` as one ``.npz`` file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from road_network.conditional import is_active

LIMIT_KINDS = ("height", "width", "length", "weight", "axle_load")
KIND_INDEX = {k: i for i, k in enumerate(LIMIT_KINDS)}
LIMIT_UNITS = {"height": "cm", "width": "cm", "length": "cm", "weight": "kg", "axle_load": "kg"}
LIMIT_NONE = np.int32(np.iinfo(np.int32).max)
LIMIT_UNKNOWN = np.int32(-1)

#: per-arc flag bits
FLAG_HGV_NO = 1
FLAG_HAZMAT_NO = 2
FLAG_CLOSED = 4

#: 2: landmarks over every arc, closed ones included (format 1 left closed arcs out).
#: 3: the CCH node order and distance bounds (``cch_order``, ``cch_bound``).
SNAPSHOT_FORMAT = 3
METRICS = ("time", "distance")


@dataclass
class Structure:
    """Metadata of a structure (asset) that governs arcs; limits as read from the source.

    ``limits`` items: ``{"kind", "value" (int or None = unknown), "direction",
    "conditional" (str or None), "valid_from"/"valid_to" (ISO text or None)}``.
    """

    id: int
    external_id: str
    kind: str
    name: str | None
    road_code: str | None
    stake_m: float | None
    lon: float
    lat: float
    state: str = "in_service"
    limits: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return dict(self.__dict__)


@dataclass
class CompiledGraph:
    """The compiled network. See the module docstring for the layout."""

    node_ids: np.ndarray  # int64 (database ids)
    node_lon: np.ndarray
    node_lat: np.ndarray
    indptr: np.ndarray  # int64 (n_nodes + 1)
    head: np.ndarray  # int32 per arc
    tail: np.ndarray  # int32 per arc
    rindptr: np.ndarray  # int64 (n_nodes + 1)
    rarc: np.ndarray  # int32: arcs sorted by head
    arc_edge: np.ndarray  # int32: index into edge arrays
    arc_backward: np.ndarray  # bool: traverses the edge against its digitised direction
    arc_length_m: np.ndarray
    arc_time_s: np.ndarray
    limits: np.ndarray  # int32 (len(LIMIT_KINDS), n_arcs)
    arc_flags: np.ndarray  # uint8
    arc_tunnel_rank: np.ndarray  # int8: 0 none/A, 1 B .. 4 E
    arc_struct_ptr: np.ndarray  # int64 CSR arc -> structures
    arc_struct_idx: np.ndarray  # int32 index into ``structures``
    cond_arc: np.ndarray  # int32: conditional limit entries
    cond_kind: np.ndarray  # int8
    cond_value: np.ndarray  # int32
    cond_spec: list[str | None]
    cond_valid: np.ndarray  # float64 (n, 2) epoch seconds, NaN = open
    edge_ids: np.ndarray  # int64 (database ids)
    edge_fwd_arc: np.ndarray  # int32, -1 when none
    edge_bwd_arc: np.ndarray
    edge_road_code: np.ndarray  # object
    edge_name: np.ndarray  # object
    geom_offsets: np.ndarray
    geom_lon: np.ndarray
    geom_lat: np.ndarray
    structures: list[Structure]
    version: str = ""
    landmarks: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: nested-dissection node order of the CCH (:mod:`road_network.cch`); None: no CCH
    cch_order: np.ndarray | None = None
    #: per metric, an upper bound of unrestricted distances (sets the CCH weight units)
    cch_bound: dict[str, float] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.shape[0])

    @property
    def n_arcs(self) -> int:
        """Number of arcs (directed)."""
        return int(self.head.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of road edges."""
        return int(self.edge_ids.shape[0])

    def arc_cost(self, metric: str) -> np.ndarray:
        """Cost per arc: seconds (``time``) or metres (``distance``)."""
        if metric == "time":
            return self.arc_time_s
        if metric == "distance":
            return self.arc_length_m
        raise ValueError(f"metric={metric!r}: must be one of {', '.join(METRICS)}")

    def edge_coords(self, e: int) -> np.ndarray:
        """(k, 2) lon/lat vertices of edge ``e`` in digitised order."""
        a, b = self.geom_offsets[e], self.geom_offsets[e + 1]
        return np.column_stack([self.geom_lon[a:b], self.geom_lat[a:b]])

    def arc_structures(self, arc: int) -> list[int]:
        """Indices into :attr:`structures` of the structures governing ``arc``."""
        a, b = self.arc_struct_ptr[arc], self.arc_struct_ptr[arc + 1]
        return self.arc_struct_idx[a:b].tolist()  # type: ignore[no-any-return]

    def effective_limits(self, departure: dt.datetime | None) -> np.ndarray:
        """Limits with the conditional entries in force at ``departure`` applied.

        Without a departure time every conditional limit is applied (the conservative
        reading). Returns :attr:`limits` itself when nothing changes.
        """
        if self.cond_arc.size == 0:
            return self.limits
        key = "cond:" + ("all" if departure is None else departure.isoformat(timespec="minutes"))
        hit = self.cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        active = np.array(
            [_cond_active(self, i, departure) for i in range(self.cond_arc.size)], bool
        )
        lim = self.limits.copy()
        for i in np.flatnonzero(active):
            k, a, v = int(self.cond_kind[i]), int(self.cond_arc[i]), int(self.cond_value[i])
            cur = lim[k, a]
            if v == LIMIT_UNKNOWN:
                if cur == LIMIT_NONE:
                    lim[k, a] = LIMIT_UNKNOWN
            elif cur in (LIMIT_NONE, LIMIT_UNKNOWN) or v < cur:
                lim[k, a] = v
        if len(self.cache) > 256:
            self.cache.clear()
        self.cache[key] = lim
        return lim

    # ------------------------------------------------------------------ snapshot
    def save(self, path: Path) -> Path:
        """Write the graph (and its landmarks) to ``path`` (.npz), atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        for name in _ARRAY_FIELDS:
            arrays[name] = getattr(self, name)
        meta = {
            "format": SNAPSHOT_FORMAT,
            "version": self.version,
            "cond_spec": self.cond_spec,
            "edge_road_code": [None if v is None else str(v) for v in self.edge_road_code],
            "edge_name": [None if v is None else str(v) for v in self.edge_name],
            "structures": [s.to_dict() for s in self.structures],
            "landmarks": sorted(self.landmarks),
            "cch_bound": self.cch_bound,
        }
        if self.cch_order is not None:
            arrays["cch_order"] = self.cch_order
        for metric, (nodes, lm_from, lm_to) in self.landmarks.items():
            arrays[f"lm_{metric}_nodes"] = nodes
            arrays[f"lm_{metric}_from"] = lm_from
            arrays[f"lm_{metric}_to"] = lm_to
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> CompiledGraph:
        """Read a snapshot written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != SNAPSHOT_FORMAT:
                raise ValueError(f"{path}: snapshot format {meta.get('format')} is not supported")
            kw = {name: z[name] for name in _ARRAY_FIELDS}
            landmarks = {
                m: (z[f"lm_{m}_nodes"], z[f"lm_{m}_from"], z[f"lm_{m}_to"])
                for m in meta["landmarks"]
            }
            order = z["cch_order"] if "cch_order" in z.files else None
        return cls(
            **kw,
            cond_spec=meta["cond_spec"],
            edge_road_code=np.asarray(meta["edge_road_code"], dtype=object),
            edge_name=np.asarray(meta["edge_name"], dtype=object),
            structures=[Structure(**s) for s in meta["structures"]],
            version=meta["version"],
            landmarks=landmarks,
            cch_order=order,
            cch_bound={str(k): float(v) for k, v in meta.get("cch_bound", {}).items()},
        )


_ARRAY_FIELDS = (
    "node_ids",
    "node_lon",
    "node_lat",
    "indptr",
    "head",
    "tail",
    "rindptr",
    "rarc",
    "arc_edge",
    "arc_backward",
    "arc_length_m",
    "arc_time_s",
    "limits",
    "arc_flags",
    "arc_tunnel_rank",
    "arc_struct_ptr",
    "arc_struct_idx",
    "cond_arc",
    "cond_kind",
    "cond_value",
    "cond_valid",
    "edge_ids",
    "edge_fwd_arc",
    "edge_bwd_arc",
    "geom_offsets",
    "geom_lon",
    "geom_lat",
)


def _cond_active(g: CompiledGraph, i: int, when: dt.datetime | None) -> bool:
    if when is None:
        return True
    ts = when.timestamp() if when.tzinfo else when.replace(tzinfo=dt.UTC).timestamp()
    lo, hi = g.cond_valid[i]
    if not math.isnan(lo) and ts < lo:
        return False
    if not math.isnan(hi) and ts >= hi:
        return False
    return is_active(g.cond_spec[i], when)


@dataclass
class EdgeInput:
    """Plain arrays describing the road edges for :func:`build_graph`.

    ``limits`` maps a kind of :data:`LIMIT_KINDS` to an int array (per edge, both
    directions) holding a value, :data:`LIMIT_NONE` or :data:`LIMIT_UNKNOWN`.
    ``conditional`` lists ``(edge_index, kind, value, condition)`` for edge-own
    conditional limits (both directions).
    """

    ids: np.ndarray
    source: np.ndarray  # node database ids
    target: np.ndarray
    length_m: np.ndarray
    speed_kmh: np.ndarray
    oneway: np.ndarray
    geom_offsets: np.ndarray
    geom_lon: np.ndarray
    geom_lat: np.ndarray
    road_code: Sequence[str | None] | None = None
    name: Sequence[str | None] | None = None
    limits: Mapping[str, np.ndarray] = field(default_factory=dict)
    hgv_no: np.ndarray | None = None
    hazmat_no: np.ndarray | None = None
    tunnel_rank: np.ndarray | None = None
    conditional: list[tuple[int, str, int, str | None]] = field(default_factory=list)


def build_graph(
    node_ids: np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    edges: EdgeInput,
    *,
    structures: Sequence[Mapping[str, Any]] = (),
    version: str = "",
    landmarks: int = 16,
    metrics: Sequence[str] = ("time",),
    cch: bool = True,
    previous: CompiledGraph | None = None,
) -> CompiledGraph:
    """Compile a graph from plain data.

    Parameters
    ----------
    node_ids, node_lon, node_lat:
        Nodes (database ids, WGS84 degrees).
    edges:
        The edges (:class:`EdgeInput`).
    structures:
        Dicts with keys ``id``, ``external_id``, ``kind``, ``name``, ``road_code``,
        ``stake_m``, ``lon``, ``lat``, ``state`` (lifecycle; ``closed`` and
        ``decommissioned`` block their arcs), ``limits`` (list of ``{"kind", "value",
        "direction", "conditional", "valid_from", "valid_to"}``; value None = unknown)
        and ``edges`` (list of ``(edge database id, direction)`` where direction is
        ``both``/``forward``/``backward`` relative to the edge's digitised direction).
        A limit applies to an arc when both the link's and the limit's direction allow
        it. Limits with ``conditional`` or a validity window go to the conditional table.
    version:
        A fingerprint of the source data, kept in the snapshot.
    landmarks:
        Number of ALT landmarks to compute per metric (0 for none).
    metrics:
        Metrics to compute landmarks for now (others are computed on first use).
    cch:
        Compute the CCH node order and the distance bounds of both metrics
        (:mod:`road_network.cch`; a few seconds on 100k edges, about 2 minutes on 1M).
    previous:
        The graph this one replaces: when nodes and arcs are the same (a limit or a
        closure changed, not the network) its CCH order is reused, and with the same
        arc costs its landmarks and distance bounds too. (The order computation holds
        the GIL, so a server recompiling in a background thread would stall for it.)
    """
    node_ids = np.asarray(node_ids, np.int64)
    n = len(node_ids)
    order = np.argsort(node_ids)
    sorted_ids = node_ids[order]

    def node_index(ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(sorted_ids, ids)
        pos = np.minimum(pos, n - 1)
        bad = sorted_ids[pos] != ids
        if bad.any():
            raise ValueError(f"edge refers to unknown node id {int(ids[bad][0])}")
        return order[pos]

    m = len(edges.ids)
    src = node_index(np.asarray(edges.source, np.int64))
    dst = node_index(np.asarray(edges.target, np.int64))
    oneway = np.asarray(edges.oneway, bool)
    length = np.asarray(edges.length_m, np.float64)
    speed = np.asarray(edges.speed_kmh, np.float64)
    if (length <= 0).any() or not np.isfinite(length).all():
        raise ValueError("edge lengths must be positive and finite")
    if (speed <= 0).any() or not np.isfinite(speed).all():
        raise ValueError("edge speeds must be positive and finite")
    two = np.flatnonzero(~oneway)
    a_edge = np.concatenate([np.arange(m), two]).astype(np.int32)
    a_back = np.concatenate([np.zeros(m, bool), np.ones(len(two), bool)])
    a_tail = np.where(a_back, dst[a_edge], src[a_edge]).astype(np.int32)
    a_head = np.where(a_back, src[a_edge], dst[a_edge]).astype(np.int32)
    perm = np.lexsort((a_head, a_tail))
    a_edge, a_back, a_tail, a_head = a_edge[perm], a_back[perm], a_tail[perm], a_head[perm]
    n_arcs = len(a_edge)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(a_tail, minlength=n), out=indptr[1:])
    rarc = np.argsort(a_head, kind="stable").astype(np.int32)
    rindptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(a_head, minlength=n), out=rindptr[1:])
    fwd = -np.ones(m, np.int32)
    bwd = -np.ones(m, np.int32)
    fwd[a_edge[~a_back]] = np.flatnonzero(~a_back)
    bwd[a_edge[a_back]] = np.flatnonzero(a_back)
    arc_len = length[a_edge]
    arc_time = arc_len / (speed[a_edge] / 3.6)

    lim = np.full((len(LIMIT_KINDS), n_arcs), LIMIT_NONE, np.int32)
    for kind, values in edges.limits.items():
        lim[KIND_INDEX[kind]] = np.asarray(values, np.int64)[a_edge].astype(np.int32)
    flags = np.zeros(n_arcs, np.uint8)
    if edges.hgv_no is not None:
        flags |= np.where(np.asarray(edges.hgv_no, bool)[a_edge], FLAG_HGV_NO, 0).astype(np.uint8)
    if edges.hazmat_no is not None:
        flags |= np.where(np.asarray(edges.hazmat_no, bool)[a_edge], FLAG_HAZMAT_NO, 0).astype(
            np.uint8
        )
    tunnel = (
        np.zeros(n_arcs, np.int8)
        if edges.tunnel_rank is None
        else np.asarray(edges.tunnel_rank, np.int8)[a_edge]
    )

    cond: list[tuple[int, int, int, str | None, float, float]] = []
    for e, kind, value, spec in edges.conditional:
        for a in (fwd[e], bwd[e]):
            if a >= 0:
                cond.append((int(a), KIND_INDEX[kind], int(value), spec, math.nan, math.nan))

    edge_index = {int(v): i for i, v in enumerate(np.asarray(edges.ids, np.int64))}
    structs, links = _apply_structures(structures, edge_index, fwd, bwd, lim, flags, cond)
    sptr, sidx = _csr_pairs(links, n_arcs)

    g = CompiledGraph(
        node_ids=node_ids,
        node_lon=np.asarray(node_lon, np.float64),
        node_lat=np.asarray(node_lat, np.float64),
        indptr=indptr,
        head=a_head,
        tail=a_tail,
        rindptr=rindptr,
        rarc=rarc,
        arc_edge=a_edge,
        arc_backward=a_back,
        arc_length_m=arc_len,
        arc_time_s=arc_time,
        limits=lim,
        arc_flags=flags,
        arc_tunnel_rank=tunnel,
        arc_struct_ptr=sptr,
        arc_struct_idx=sidx,
        cond_arc=np.array([c[0] for c in cond], np.int32),
        cond_kind=np.array([c[1] for c in cond], np.int8),
        cond_value=np.array([c[2] for c in cond], np.int32),
        cond_spec=[c[3] for c in cond],
        cond_valid=np.array([[c[4], c[5]] for c in cond], np.float64).reshape(-1, 2),
        edge_ids=np.asarray(edges.ids, np.int64),
        edge_fwd_arc=fwd,
        edge_bwd_arc=bwd,
        edge_road_code=np.asarray(
            list(edges.road_code) if edges.road_code is not None else [None] * m, dtype=object
        ),
        edge_name=np.asarray(
            list(edges.name) if edges.name is not None else [None] * m, dtype=object
        ),
        geom_offsets=np.asarray(edges.geom_offsets, np.int64),
        geom_lon=np.asarray(edges.geom_lon, np.float64),
        geom_lat=np.asarray(edges.geom_lat, np.float64),
        structures=structs,
        version=version,
    )
    same_topology = previous is not None and _same_topology(previous, g)
    same_costs = previous is not None and same_topology and _same_costs(previous, g)
    if same_topology:
        assert previous is not None
        g.tail, g.head = previous.tail, previous.head  # equal: share (CCH topology cache)
    if landmarks:
        from road_network.search import compute_landmarks

        for metric in metrics:
            old = previous.landmarks.get(metric) if same_costs and previous else None
            if old is not None and old[0].shape[0] == min(landmarks, n):
                g.landmarks[metric] = old  # over every arc: limits and closures do not matter
            else:
                g.landmarks[metric] = compute_landmarks(g, metric=metric, count=landmarks)
    if cch and n:
        from road_network import cch as cchm

        if same_topology and previous is not None and previous.cch_order is not None:
            g.cch_order = previous.cch_order  # the order depends on the arcs only
        else:
            g.cch_order = cchm.compute_order(n, a_tail, a_head, g.node_lat, g.node_lon)
        if same_costs and previous is not None and previous.cch_bound:
            g.cch_bound = dict(previous.cch_bound)
        else:
            g.cch_bound = {m: cchm.distance_bound(g, m) for m in METRICS}
    return g


def _same_topology(a: CompiledGraph, b: CompiledGraph) -> bool:
    return (
        a.n_nodes == b.n_nodes
        and a.n_arcs == b.n_arcs
        and bool(np.array_equal(a.node_ids, b.node_ids))
        and bool(np.array_equal(a.tail, b.tail))
        and bool(np.array_equal(a.head, b.head))
    )


def _same_costs(a: CompiledGraph, b: CompiledGraph) -> bool:
    return bool(np.array_equal(a.arc_time_s, b.arc_time_s)) and bool(
        np.array_equal(a.arc_length_m, b.arc_length_m)
    )


def _ts(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    return float(value)


def _apply_structures(
    structures: Sequence[Mapping[str, Any]],
    edge_index: dict[int, int],
    fwd: np.ndarray,
    bwd: np.ndarray,
    lim: np.ndarray,
    flags: np.ndarray,
    cond: list[tuple[int, int, int, str | None, float, float]],
) -> tuple[list[Structure], list[tuple[int, int]]]:
    """Fold structure limits into the per-arc arrays; return metadata and arc links."""
    out: list[Structure] = []
    links: list[tuple[int, int]] = []
    for s in structures:
        si = len(out)
        limits = [dict(x) for x in s.get("limits", ())]
        out.append(
            Structure(
                id=int(s["id"]),
                external_id=str(s.get("external_id") or s["id"]),
                kind=str(s.get("kind") or "structure"),
                name=s.get("name"),
                road_code=s.get("road_code"),
                stake_m=None if s.get("stake_m") is None else float(s["stake_m"]),
                lon=float(s.get("lon") or 0.0),
                lat=float(s.get("lat") or 0.0),
                state=str(s.get("state") or "in_service"),
                limits=[
                    {
                        **x,
                        "valid_from": None if x.get("valid_from") is None else str(x["valid_from"]),
                        "valid_to": None if x.get("valid_to") is None else str(x["valid_to"]),
                    }
                    for x in limits
                ],
            )
        )
        closed = out[-1].state in ("closed", "decommissioned")
        for edge_id, link_dir in s.get("edges", ()):
            e = edge_index.get(int(edge_id))
            if e is None:
                continue
            for arc, arc_dir in ((fwd[e], "forward"), (bwd[e], "backward")):
                if arc < 0 or link_dir not in ("both", arc_dir):
                    continue
                links.append((int(arc), si))
                if closed:
                    flags[arc] |= FLAG_CLOSED
                for x in limits:
                    if x.get("direction", "both") not in ("both", arc_dir):
                        continue
                    k = KIND_INDEX.get(str(x["kind"]))
                    if k is None:
                        continue
                    v = LIMIT_UNKNOWN if x.get("value") is None else int(x["value"])
                    if x.get("conditional") or x.get("valid_from") or x.get("valid_to"):
                        cond.append(
                            (
                                int(arc),
                                k,
                                int(v),
                                x.get("conditional"),
                                _ts(x.get("valid_from")),
                                _ts(x.get("valid_to")),
                            )
                        )
                        continue
                    cur = lim[k, arc]
                    if v == LIMIT_UNKNOWN:
                        if cur == LIMIT_NONE:
                            lim[k, arc] = LIMIT_UNKNOWN
                    elif cur in (LIMIT_NONE, LIMIT_UNKNOWN) or v < cur:
                        lim[k, arc] = v
    return out, links


def _csr_pairs(pairs: list[tuple[int, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    if not pairs:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int32)
    arr = np.array(sorted(set(pairs)), np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(arr[:, 0], minlength=n), out=ptr[1:])
    return ptr, arr[:, 1].astype(np.int32)
