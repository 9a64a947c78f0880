"""Customizable contraction hierarchies (CCH) per vehicle mask: the main route search.

RoutingKit's CCH (through the ``routingkit-cch`` bindings) runs in three phases:

1. *order* -- a nested-dissection node order (inertial flow on the node coordinates),
   computed once when the graph is compiled and kept in the snapshot
   (:attr:`CompiledGraph.cch_order`);
2. *topology* -- the contraction of the graph in that order (no weights), built lazily
   once per process and shared by graph copies with the same arcs;
3. *customization* -- shortcut weights for one weight vector. Each (metric, passable
   mask) pair gets its own customization: arcs the vehicle may not use get RoutingKit's
   infinite weight *before* the shortcuts are computed, so a shortcut through a blocked
   arc is infinite too and a restriction can never leak through a shortcut. Customized
   metrics are kept in a small LRU on the graph.

Weights are integers: costs (seconds or metres) times a scale chosen per graph and
metric so that any route up to :data:`BOUND_FACTOR` times an upper bound of the
unrestricted graph's distances fits below the infinity. Why that is exact: RoutingKit
keeps every shortcut weight at or below its infinity (a minimum with the infinite
initial value; two weights at or below ``2**31 - 1`` never overflow a 32-bit sum), so a
returned distance below the infinity is the length of a real path without blocked arcs,
and no other path of a length below the infinity can be shorter. A query whose answer is
"unreachable" might instead be a route longer than the scaled range: those (rare, and
the no-route answers) go to the ALT search, which decides. Costs reported to users are
summed in floating point from the original arcs of the returned path; integer rounding
only matters for ties closer than a few microseconds (or millimetres) per arc.

Requests with their own costs (alternatives' penalties) use the ALT search, and so do
masks not customized yet (avoid polygons, roads or structures, scenario closures, a new
vehicle): a mask is customized when it comes again and its ALT searches have cost
:data:`CUSTOMIZE_SHARE` of a customization (about 0.3 s on 100k edges, 20 s on 1M;
the bindings hold the GIL while customizing, so it runs in the request that decides it).
Customized metrics live in an LRU bounded by count and by memory (about 80 bytes per arc
each)."""

from __future__ import annotations

import hashlib
import math
import threading
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from road_network.graph import CompiledGraph

#: RoutingKit's ``inf_weight`` (``include/routingkit/constants.h``: ``2147483647u``).
INF_WEIGHT = 2**31 - 1
#: Routes up to this many times the graph's distance bound fit the integer range.
BOUND_FACTOR = 8.0
#: A distance above this is not trusted (falls back to ALT).
_TRUST_LIMIT = INF_WEIGHT // 2
#: A mask is customized at its n-th use at the earliest (1: every mask at its first use,
#: whatever it costs; the all-arcs mask of the comparison route always at its first).
CUSTOMIZE_AFTER = 2
#: ... and once the ALT searches run for it cost this share of a customization (a
#: ski-rental rule: ~0.3 s on 100k edges is paid after ~10 ALT checks, ~20 s on 1M edges
#: after ~2 s of ALT searches, so one-off masks do not stall a worker).
CUSTOMIZE_SHARE = 0.1
#: Customized metrics kept per graph, at most; fewer on big graphs (see _lru_size). A
#: serving worker warms 1 + 2 per vehicle preset (the comparison metric; each preset's
#: metric and reachability) and keeps room for the masks its clients use most.
LRU_SIZE = 12
#: Memory budget for the customized metrics of one graph (about 80 bytes per arc each).
LRU_BUDGET_MB = 600.0
_METRIC_BYTES_PER_ARC = 80
#: The reachability pseudo-metric (see :func:`weights`).
REACH = "reach"

_topologies: dict[tuple[int, ...], tuple[tuple[weakref.ref[np.ndarray], ...], Any]] = {}
_topo_lock = threading.Lock()
_metric_lock = threading.Lock()
_local = threading.local()


def _rk() -> Any:
    import routingkit_cch

    return routingkit_cch


def compute_order(
    n_nodes: int, tail: np.ndarray, head: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> np.ndarray:
    """Nested-dissection node order (RoutingKit's inertial flow), int32."""
    order = _rk().compute_order_inertial(
        int(n_nodes), tail.tolist(), head.tolist(), lat.tolist(), lon.tolist()
    )
    return np.asarray(order, np.int32)


def distance_bound(g: CompiledGraph, metric: str) -> float:
    """An upper bound of the unrestricted shortest-path distances through a central node:
    ``max d(v, c) + max d(c, v)`` over the nodes connected to ``c`` (two Dijkstras)."""
    from road_network.search import dijkstra_all, forward_adjacency, reverse_adjacency

    if g.n_nodes == 0:
        return 1.0
    cost = g.arc_cost(metric)
    cx, cy = float(np.median(g.node_lon)), float(np.median(g.node_lat))
    c = int(np.argmin((g.node_lon - cx) ** 2 + (g.node_lat - cy) ** 2))
    ones = np.ones(g.n_arcs, np.uint8)
    fh, fa = forward_adjacency(g)
    rt, ra = reverse_adjacency(g)
    seed, zero = np.array([c]), np.zeros(1)
    df, _ = dijkstra_all(g.indptr, fh, fa, cost, ones, seed, zero)
    dr, _ = dijkstra_all(g.rindptr, rt, ra, cost, ones, seed, zero)
    top = float(cost.max()) if cost.size else 1.0
    out = max(float(df[np.isfinite(df)].max()), 0.0) + max(float(dr[np.isfinite(dr)].max()), 0.0)
    return max(out, top, 1.0)


def available(g: CompiledGraph) -> bool:
    """Whether the graph carries a CCH order (and the bindings import); memoised per
    graph (asked twice per route check)."""
    hit = g.cache.get("cch_available")
    if hit is None:
        hit = g.cache["cch_available"] = _available(g)
    return bool(hit)


def _available(g: CompiledGraph) -> bool:
    if g.cch_order is None or g.cch_order.size != g.n_nodes or g.n_nodes == 0:
        return False
    try:
        _rk()
    except ImportError:
        return False
    return True


def topology(g: CompiledGraph) -> Any:
    """The contracted graph (``routingkit_cch.CCH``), built once per process and shared by
    graph copies with the same order array and arcs."""
    assert g.cch_order is not None
    arrays = (g.cch_order, g.tail, g.head)
    key = tuple(id(a) for a in arrays)
    hit = _topologies.get(key)
    if hit is not None and all(r() is a for r, a in zip(hit[0], arrays, strict=True)):
        return hit[1]
    with _topo_lock:
        # drop the topologies of graphs that are gone (weak references to their arrays)
        for k in [k for k, (refs, _) in _topologies.items() if any(r() is None for r in refs)]:
            del _topologies[k]
        hit = _topologies.get(key)
        if hit is not None and all(r() is a for r, a in zip(hit[0], arrays, strict=True)):
            return hit[1]
        cch = _rk().CCH(g.cch_order.tolist(), g.tail.tolist(), g.head.tolist(), False)
        if len(_topologies) >= 2:
            _topologies.clear()
        _topologies[key] = (tuple(weakref.ref(a) for a in arrays), cch)
        return cch


def scale(g: CompiledGraph, metric: str) -> float:
    """Integer weight units per second (``time``) or metre (``distance``)."""
    bound = g.cch_bound.get(metric)
    if bound is None:
        key = ("cch_bound", metric)
        bound = g.cache.get(key)
        if bound is None:
            bound = distance_bound(g, metric)
            g.cache[key] = bound
    return float(INF_WEIGHT / (BOUND_FACTOR * float(bound)))


def weights(g: CompiledGraph, mask: np.ndarray, metric: str) -> np.ndarray:
    """Integer weights: scaled costs on passable arcs, RoutingKit's infinity elsewhere.

    The pseudo-metric :data:`REACH` gives passable arcs weight 0: its distances are 0 or
    infinite, an exact reachability test whatever the route lengths."""
    if metric == REACH:
        w = np.zeros(g.n_arcs, np.int64)
    else:
        w = np.rint(g.arc_cost(metric) * scale(g, metric))
        w = np.minimum(w, INF_WEIGHT - 1).astype(np.int64)
    w[np.asarray(mask) == 0] = INF_WEIGHT
    return w


def fingerprint(g: CompiledGraph, mask: np.ndarray) -> bytes:
    """Digest of a mask, memoised by identity for long-lived (cached) mask arrays."""
    memo: dict[int, tuple[weakref.ref[np.ndarray], bytes]] = g.cache.setdefault("cch_fp", {})
    hit = memo.get(id(mask))
    if hit is not None and hit[0]() is mask:
        return hit[1]
    digest = hashlib.blake2b(np.ascontiguousarray(mask).tobytes(), digest_size=16).digest()
    if len(memo) > 256:
        memo.clear()
    memo[id(mask)] = (weakref.ref(mask), digest)  # weak: per-request masks may go
    return digest


class _Entry:
    """A customized metric (and how long its customization took)."""

    def __init__(self, metric: Any, customize_s: float) -> None:
        self.metric = metric
        self.customize_s = customize_s

    def query(self) -> Any:
        """This thread's query object on the metric. The bindings' queries must be used
        and dropped on the thread that made them, so they live in a thread-local LRU."""
        qs: OrderedDict[int, tuple[Any, Any]] | None = getattr(_local, "queries", None)
        if qs is None:
            qs = OrderedDict()
            _local.queries = qs
        hit = qs.get(id(self.metric))
        if hit is not None and hit[0] is self.metric:
            qs.move_to_end(id(self.metric))
            return hit[1]
        q = _rk().CCHQuery(self.metric)
        qs[id(self.metric)] = (self.metric, q)
        while len(qs) > 2 * LRU_SIZE:
            qs.popitem(last=False)
        return q


def _lru(g: CompiledGraph) -> OrderedDict[tuple[str, bytes], _Entry]:
    lru: OrderedDict[tuple[str, bytes], _Entry] | None = g.cache.get("cch_lru")
    if lru is None:
        lru = OrderedDict()
        g.cache["cch_lru"] = lru
    return lru


def customize(g: CompiledGraph, mask: np.ndarray, metric: str) -> _Entry:
    """The customized metric of ``(metric, mask)`` (from the LRU, or customized now)."""
    import time

    key = (metric, fingerprint(g, mask))
    lru = _lru(g)
    hit = lru.get(key)
    if hit is not None:
        lru.move_to_end(key)
        return hit
    with _metric_lock:
        hit = lru.get(key)
        if hit is not None:
            return hit
        cch = topology(g)
        t0 = time.perf_counter()
        m = _rk().CCHMetric(cch, weights(g, mask, metric).tolist())
        entry = _Entry(m, time.perf_counter() - t0)
        g.cache["cch_customize_s"] = entry.customize_s
        while len(lru) >= _lru_size(g):
            lru.popitem(last=False)
        lru[key] = entry
        return entry


def _lru_size(g: CompiledGraph) -> int:
    per = g.n_arcs * _METRIC_BYTES_PER_ARC / 2**20
    return max(2, min(LRU_SIZE, int(LRU_BUDGET_MB // max(per, 1e-9))))


def _reachable(
    g: CompiledGraph,
    mask: np.ndarray,
    sources: list[tuple[int, int]],
    targets: list[tuple[int, int]],
    after: int,
) -> bool | None:
    """Whether any target seed can be reached from any source seed under ``mask``, from
    the :data:`REACH` customization of the mask (None while that is not worth making:
    same rule as for metrics, the ALT searches confirming "unreachable" are booked on
    it). Without it every no-route answer costs an ALT search over the reachable part."""
    key = (REACH, fingerprint(g, mask))
    if key not in _lru(g) and not _wanted(g, key, after):
        return None
    q = customize(g, mask, REACH).query()
    res = q.run_multi([(n, 0) for n, _ in sources], [(n, 0) for n, _ in targets])
    ok = res.distance is not None
    del res
    return ok


def _wanted(g: CompiledGraph, key: tuple[str, bytes], after: int) -> bool:
    """Count a use of an uncustomized mask; True when it is worth customizing now."""
    uses: dict[tuple[str, bytes], list[float]] = g.cache.setdefault("cch_uses", {})
    acc = uses.get(key)
    if acc is None:
        if len(uses) > 4096:
            uses.clear()
        acc = uses[key] = [0.0, 0.0]
    acc[0] += 1
    if after <= 1:
        return True
    est = g.cache.get("cch_customize_s")
    return acc[0] >= after and (est is None or acc[1] >= CUSTOMIZE_SHARE * float(est))


def charge(g: CompiledGraph, mask: np.ndarray, metric: str, seconds: float) -> None:
    """Book ``seconds`` of ALT search spent on an uncustomized ``(metric, mask)`` (and on
    the mask's reachability, once an "unreachable" answer asked for it)."""
    uses: dict[tuple[str, bytes], list[float]] = g.cache.get("cch_uses", {})
    fp = fingerprint(g, mask)
    for key in ((metric, fp), (REACH, fp)):
        acc = uses.get(key)
        if acc is not None:
            acc[1] += seconds


def prepare(g: CompiledGraph, *, metrics: tuple[str, ...] = ("time",)) -> None:
    """Build the topology and customize the all-arcs metrics (the comparison route of every
    check) now, e.g. when a server loads the graph."""
    if not available(g):
        return
    for metric in metrics:
        customize(g, _all_arcs(g), metric)


def _all_arcs(g: CompiledGraph) -> np.ndarray:
    """The all-arcs mask the route check's comparison route uses (shared array)."""
    base = g.cache.get("direct")
    if base is None:
        base = np.ones(g.n_arcs, np.uint8)
        g.cache["direct"] = base
    return base  # type: ignore[no-any-return]


def shortest_path(
    g: CompiledGraph,
    mask: np.ndarray,
    src_nodes: np.ndarray,
    src_off: np.ndarray,
    tgt_nodes: np.ndarray,
    tgt_off: np.ndarray,
    *,
    metric: str = "time",
    customize_after: int | None = None,
) -> tuple[float, np.ndarray, dict[str, Any]] | None:
    """Cheapest path between seed sets through the CCH of ``(metric, mask)``.

    Same contract as :func:`road_network.search.shortest_path` (seeds with the cost
    already spent / still to spend; returns ``(cost, arcs, info)``, cost in the metric's
    float units computed from the arcs), except that it returns ``None`` when the CCH
    cannot answer exactly: no order on the graph, a mask not (yet) worth customizing, or
    "unreachable" (which the caller must confirm with ALT, see the module docstring).
    """
    if not available(g):
        return None
    after = CUSTOMIZE_AFTER if customize_after is None else customize_after
    key = (metric, fingerprint(g, mask))
    lru = _lru(g)
    entry = lru.get(key)
    if entry is None:
        if not _wanted(g, key, 1 if mask is g.cache.get("direct") else after):
            return None
        entry = customize(g, mask, metric)
    else:
        lru.move_to_end(key)
    k = scale(g, metric)
    src_off = np.asarray(src_off, np.float64)
    tgt_off = np.asarray(tgt_off, np.float64)
    sources = [
        (int(n), round(o * k)) for n, o in zip(src_nodes.tolist(), src_off.tolist(), strict=True)
    ]
    targets = [
        (int(n), round(o * k)) for n, o in zip(tgt_nodes.tolist(), tgt_off.tolist(), strict=True)
    ]
    q = entry.query()
    res = q.run_multi(sources, targets)
    dist = res.distance
    if dist is None or dist > _TRUST_LIMIT:
        del res  # the bindings refuse a new query while a result is alive
        if dist is None and _reachable(g, mask, sources, targets, after) is False:
            return math.inf, np.zeros(0, np.int64), {"engine": "cch", "scanned": 0}
        return None  # a route beyond the integer range (or unsure): ALT decides
    arcs = np.asarray(res.arc_path, np.int64)
    if arcs.size:
        first, last = int(g.tail[arcs[0]]), int(g.head[arcs[-1]])
    else:  # a source and a target share a node
        first = last = int(res.node_path[0])
    del res
    if arcs.size and not bool(np.asarray(mask)[arcs].all()):  # cannot happen; be safe
        return None
    cost = g.arc_cost(metric)
    s_cost = min(o for n, o in zip(src_nodes.tolist(), src_off.tolist(), strict=True) if n == first)
    t_cost = min(o for n, o in zip(tgt_nodes.tolist(), tgt_off.tolist(), strict=True) if n == last)
    mu = s_cost + float(cost[arcs].sum()) + t_cost
    if not math.isfinite(mu):
        return None
    return mu, arcs, {"engine": "cch", "first_node": first, "last_node": last}
