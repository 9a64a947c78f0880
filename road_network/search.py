"""Shortest paths in compiled code: plain Dijkstra and bidirectional A* with ALT landmarks.

Why hand-written: scipy's ``csgraph.dijkstra`` has no early exit, no bidirectional or
goal-directed search and no per-query arc mask without rebuilding the matrix; networkx
is pure Python (tens of ms per query here). The kernels are small and are checked
against a reference Dijkstra (and pgRouting) in the tests.

ALT (Goldberg & Harrelson 2005): distances from and to a few landmarks, computed once on
the *unrestricted* graph, give lower bounds by the triangle inequality. A vehicle's mask
only removes arcs, which can only lengthen distances, so the bounds stay valid (and the
potentials consistent) for every vehicle and every scenario closure. The bidirectional
search uses the average potential ``p_f = (pi_t - pi_s) / 2``, ``p_r = -p_f``, which
makes it an ordinary bidirectional Dijkstra on non-negative reduced costs: it stops when
``top_f + top_r >= mu`` and returns exact shortest-path costs.

Unreachable landmark distances are stored as a finite cap larger than any finite
distance; with that cap every landmark term is still a consistent potential and a valid
bound for nodes that can reach the target (others are irrelevant to the answer).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from road_network.graph import CompiledGraph

INF = np.inf


# --------------------------------------------------------------------------- heap
@njit(cache=True, inline="always")
def _push(hk: np.ndarray, hv: np.ndarray, size: int, key: float, v: int) -> int:
    i = size
    hk[i] = key
    hv[i] = v
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = v
    return size + 1


@njit(cache=True, inline="always")
def _pop(hk: np.ndarray, hv: np.ndarray, size: int) -> int:
    """Remove the top (caller reads hk[0], hv[0] first); returns the new size."""
    size -= 1
    if size == 0:
        return 0
    key = hk[size]
    v = hv[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= key:
            break
        hk[i] = hk[c]
        hv[i] = hv[c]
        i = c
    hk[i] = key
    hv[i] = v
    return size


# --------------------------------------------------------------------------- dijkstra
@njit(cache=True)
def dijkstra_all(
    indptr: np.ndarray,
    adj_node: np.ndarray,
    adj_arc: np.ndarray,
    cost: np.ndarray,
    passable: np.ndarray,
    src_nodes: np.ndarray,
    src_off: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-all Dijkstra from seeds (node, initial cost).

    ``adj_node[j]``/``adj_arc[j]`` for ``j`` in ``indptr[v]:indptr[v+1]`` are v's
    neighbours and the arc used (forward CSR: heads and arc ids; reverse CSR: tails and
    arc ids). Returns distances (inf when unreachable) and the arc reaching each node.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, np.int32)
    done = np.zeros(n, np.bool_)
    hk = np.empty(adj_arc.shape[0] + src_nodes.shape[0] + 1)
    hv = np.empty(adj_arc.shape[0] + src_nodes.shape[0] + 1, np.int32)
    size = 0
    for i in range(src_nodes.shape[0]):
        s = src_nodes[i]
        if src_off[i] < dist[s]:
            dist[s] = src_off[i]
            size = _push(hk, hv, size, src_off[i], s)
    while size > 0:
        u = hv[0]
        size = _pop(hk, hv, size)
        if done[u]:
            continue
        done[u] = True
        du = dist[u]
        for j in range(indptr[u], indptr[u + 1]):
            a = adj_arc[j]
            if not passable[a]:
                continue
            v = adj_node[j]
            nd = du + cost[a]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = a
                size = _push(hk, hv, size, nd, v)
    return dist, pred


def reverse_adjacency(g: CompiledGraph) -> tuple[np.ndarray, np.ndarray]:
    """(tails, arc ids) in reverse-CSR order (cached on the graph)."""
    hit = g.cache.get("radj")
    if hit is None:
        hit = (g.tail[g.rarc].astype(np.int32), g.rarc.astype(np.int32))
        g.cache["radj"] = hit
    return hit  # type: ignore[no-any-return]


def forward_adjacency(g: CompiledGraph) -> tuple[np.ndarray, np.ndarray]:
    """(heads, arc ids) in forward-CSR order."""
    hit = g.cache.get("fadj")
    if hit is None:
        hit = (g.head.astype(np.int32), np.arange(g.n_arcs, dtype=np.int32))
        g.cache["fadj"] = hit
    return hit  # type: ignore[no-any-return]


def compute_landmarks(
    g: CompiledGraph, *, metric: str = "time", count: int = 16, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose ``count`` landmarks by farthest-point selection on the unrestricted graph.

    Returns ``(nodes, d_from, d_to)`` with ``d_from[v, k] = d(L_k, v)`` and
    ``d_to[v, k] = d(v, L_k)`` (float64, unreachable capped to a finite value larger than
    any finite distance). Every arc counts, closed ones included: the bounds must hold
    for every search, and the comparison ("direct") route of an explanation may use a
    closed bridge to say that its closure is what blocks the way.
    """
    n = g.n_nodes
    count = max(1, min(count, n))
    cost = g.arc_cost(metric)
    allowed = np.ones(g.n_arcs, np.uint8)
    fh, fa = forward_adjacency(g)
    rt, ra = reverse_adjacency(g)
    d_from = np.empty((n, count))
    d_to = np.empty((n, count))
    nodes = np.empty(count, np.int64)
    rng = np.random.default_rng(seed)
    start = int(rng.integers(n))
    d0, _ = dijkstra_all(g.indptr, fh, fa, cost, allowed, np.array([start]), np.zeros(1))
    best = np.where(np.isfinite(d0), d0, -1.0)
    mind = np.full(n, np.inf)
    cur = int(np.argmax(best))
    for k in range(count):
        nodes[k] = cur
        df, _ = dijkstra_all(g.indptr, fh, fa, cost, allowed, np.array([cur]), np.zeros(1))
        dt_, _ = dijkstra_all(g.rindptr, rt, ra, cost, allowed, np.array([cur]), np.zeros(1))
        d_from[:, k] = df
        d_to[:, k] = dt_
        # farthest from all chosen so far (symmetrised, reachable nodes only)
        both = np.where(np.isfinite(df) & np.isfinite(dt_), df + dt_, np.inf)
        mind = np.minimum(mind, both)
        cand = np.where(np.isfinite(mind), mind, -1.0)
        cand[nodes[: k + 1]] = -1.0
        cur = int(np.argmax(cand))
    finite = np.concatenate([d_from[np.isfinite(d_from)], d_to[np.isfinite(d_to)], [0.0]])
    cap = 2.0 * float(finite.max()) + 1.0
    d_from[~np.isfinite(d_from)] = cap
    d_to[~np.isfinite(d_to)] = cap
    return nodes, np.ascontiguousarray(d_from), np.ascontiguousarray(d_to)


# --------------------------------------------------------------------------- ALT
@njit(cache=True, inline="always")
def _pot(
    v: int,
    lm_from: np.ndarray,
    lm_to: np.ndarray,
    sel: np.ndarray,
    src_nodes: np.ndarray,
    src_off: np.ndarray,
    tgt_nodes: np.ndarray,
    tgt_off: np.ndarray,
) -> float:
    """Average potential p_f(v) = (pi_t(v) - pi_s(v)) / 2 over the selected landmarks."""
    pit = np.inf
    for j in range(tgt_nodes.shape[0]):
        w = tgt_nodes[j]
        best = 0.0
        for i in range(sel.shape[0]):
            k = sel[i]
            a = lm_to[v, k] - lm_to[w, k]
            b = lm_from[w, k] - lm_from[v, k]
            if a > best:
                best = a
            if b > best:
                best = b
        best += tgt_off[j]
        if best < pit:
            pit = best
    pis = np.inf
    for j in range(src_nodes.shape[0]):
        w = src_nodes[j]
        best = 0.0
        for i in range(sel.shape[0]):
            k = sel[i]
            a = lm_from[v, k] - lm_from[w, k]
            b = lm_to[w, k] - lm_to[v, k]
            if a > best:
                best = a
            if b > best:
                best = b
        best += src_off[j]
        if best < pis:
            pis = best
    return 0.5 * (pit - pis)


@njit(cache=True)
def _bidir(
    indptr: np.ndarray,
    head: np.ndarray,
    rindptr: np.ndarray,
    rtail: np.ndarray,
    rarc: np.ndarray,
    cost: np.ndarray,
    passable: np.ndarray,
    lm_from: np.ndarray,
    lm_to: np.ndarray,
    sel: np.ndarray,
    src_nodes: np.ndarray,
    src_off: np.ndarray,
    tgt_nodes: np.ndarray,
    tgt_off: np.ndarray,
    dist_f: np.ndarray,
    dist_r: np.ndarray,
    pred_f: np.ndarray,
    pred_r: np.ndarray,
    lab_f: np.ndarray,
    lab_r: np.ndarray,
    set_f: np.ndarray,
    set_r: np.ndarray,
    pot: np.ndarray,
    pot_st: np.ndarray,
    hk_f: np.ndarray,
    hv_f: np.ndarray,
    hk_r: np.ndarray,
    hv_r: np.ndarray,
    stamp: int,
    pot_stamp: int,
    use_pot: bool,
) -> tuple[float, int, int]:
    """Bidirectional A* (or Dijkstra when ``use_pot`` is False). Returns (mu, meet, scans).

    ``pot``/``pot_st`` cache the potential of each node under ``pot_stamp``; the caller
    keeps the stamp when the potential function (landmarks, selection, seeds) is the same
    as in its previous search, so a second search between the same points reuses them.
    """
    mu = np.inf
    meet = -1
    nf = 0
    nr = 0
    for i in range(src_nodes.shape[0]):
        s = src_nodes[i]
        if lab_f[s] != stamp or src_off[i] < dist_f[s]:
            lab_f[s] = stamp
            dist_f[s] = src_off[i]
            pred_f[s] = -1
    for i in range(src_nodes.shape[0]):
        s = src_nodes[i]
        p = 0.0
        if use_pot:
            if pot_st[s] != pot_stamp:
                pot[s] = _pot(s, lm_from, lm_to, sel, src_nodes, src_off, tgt_nodes, tgt_off)
                pot_st[s] = pot_stamp
            p = pot[s]
        nf = _push(hk_f, hv_f, nf, dist_f[s] + p, s)
    for i in range(tgt_nodes.shape[0]):
        t = tgt_nodes[i]
        if lab_r[t] != stamp or tgt_off[i] < dist_r[t]:
            lab_r[t] = stamp
            dist_r[t] = tgt_off[i]
            pred_r[t] = -1
    for i in range(tgt_nodes.shape[0]):
        t = tgt_nodes[i]
        p = 0.0
        if use_pot:
            if pot_st[t] != pot_stamp:
                pot[t] = _pot(t, lm_from, lm_to, sel, src_nodes, src_off, tgt_nodes, tgt_off)
                pot_st[t] = pot_stamp
            p = pot[t]
        nr = _push(hk_r, hv_r, nr, dist_r[t] - p, t)
        if lab_f[t] == stamp and dist_f[t] + dist_r[t] < mu:
            mu = dist_f[t] + dist_r[t]
            meet = t
    scans = 0
    while nf > 0 and nr > 0:
        if hk_f[0] + hk_r[0] >= mu:
            break
        if hk_f[0] <= hk_r[0]:
            u = hv_f[0]
            nf = _pop(hk_f, hv_f, nf)
            if set_f[u] == stamp:
                continue
            set_f[u] = stamp
            scans += 1
            du = dist_f[u]
            for a in range(indptr[u], indptr[u + 1]):
                if not passable[a]:
                    continue
                v = head[a]
                nd = du + cost[a]
                if lab_f[v] != stamp or nd < dist_f[v]:
                    lab_f[v] = stamp
                    dist_f[v] = nd
                    pred_f[v] = a
                    p = 0.0
                    if use_pot:
                        if pot_st[v] != pot_stamp:
                            pot[v] = _pot(
                                v, lm_from, lm_to, sel, src_nodes, src_off, tgt_nodes, tgt_off
                            )
                            pot_st[v] = pot_stamp
                        p = pot[v]
                    nf = _push(hk_f, hv_f, nf, nd + p, v)
                    if lab_r[v] == stamp and nd + dist_r[v] < mu:
                        mu = nd + dist_r[v]
                        meet = v
        else:
            u = hv_r[0]
            nr = _pop(hk_r, hv_r, nr)
            if set_r[u] == stamp:
                continue
            set_r[u] = stamp
            scans += 1
            du = dist_r[u]
            for j in range(rindptr[u], rindptr[u + 1]):
                a = rarc[j]
                if not passable[a]:
                    continue
                v = rtail[j]
                nd = du + cost[a]
                if lab_r[v] != stamp or nd < dist_r[v]:
                    lab_r[v] = stamp
                    dist_r[v] = nd
                    pred_r[v] = a
                    p = 0.0
                    if use_pot:
                        if pot_st[v] != pot_stamp:
                            pot[v] = _pot(
                                v, lm_from, lm_to, sel, src_nodes, src_off, tgt_nodes, tgt_off
                            )
                            pot_st[v] = pot_stamp
                        p = pot[v]
                    nr = _push(hk_r, hv_r, nr, nd - p, v)
                    if lab_f[v] == stamp and nd + dist_f[v] < mu:
                        mu = nd + dist_f[v]
                        meet = v
    return mu, meet, scans


@njit(cache=True)
def _unwind(
    meet: int, pred_f: np.ndarray, pred_r: np.ndarray, tail: np.ndarray, head: np.ndarray
) -> np.ndarray:
    """Arcs of the path through ``meet``: forward chain reversed, then the reverse chain."""
    left = []
    v = meet
    while pred_f[v] >= 0:
        a = pred_f[v]
        left.append(a)
        v = tail[a]
    right = []
    v = meet
    while pred_r[v] >= 0:
        a = pred_r[v]
        right.append(a)
        v = head[a]
    out = np.empty(len(left) + len(right), np.int64)
    k = 0
    for i in range(len(left) - 1, -1, -1):
        out[k] = left[i]
        k += 1
    for a in right:
        out[k] = a
        k += 1
    return out


class _Workspace:
    """Per-thread scratch arrays reused across queries (stamps avoid clearing them)."""

    def __init__(self, n_nodes: int, n_arcs: int) -> None:
        self.n_nodes = n_nodes
        self.n_arcs = n_arcs
        self.dist_f = np.empty(n_nodes)
        self.dist_r = np.empty(n_nodes)
        self.pred_f = np.empty(n_nodes, np.int64)
        self.pred_r = np.empty(n_nodes, np.int64)
        self.lab_f = np.zeros(n_nodes, np.int32)
        self.lab_r = np.zeros(n_nodes, np.int32)
        self.set_f = np.zeros(n_nodes, np.int32)
        self.set_r = np.zeros(n_nodes, np.int32)
        self.pot = np.empty(n_nodes)
        self.pot_st = np.zeros(n_nodes, np.int32)
        cap = n_arcs + n_nodes + 8
        self.hk_f = np.empty(cap)
        self.hv_f = np.empty(cap, np.int32)
        self.hk_r = np.empty(cap)
        self.hv_r = np.empty(cap, np.int32)
        self.stamp = 0
        self.pot_stamp = 0
        self.pot_key: tuple[Any, ...] | None = None

    def next_stamp(self) -> int:
        self.stamp += 1
        if self.stamp >= 2**31 - 2:
            for arr in (self.lab_f, self.lab_r, self.set_f, self.set_r):
                arr[:] = 0
            self.stamp = 1
        return self.stamp

    def potential_stamp(self, key: tuple[Any, ...]) -> int:
        """The stamp of the cached potentials for ``key`` (landmark arrays, selection,
        seeds): the previous one when ``key`` is the previous search's, else a new one."""
        prev = self.pot_key
        if prev is not None and prev[0] is key[0] and prev[1] is key[1] and prev[2:] == key[2:]:
            return self.pot_stamp
        self.pot_stamp += 1
        if self.pot_stamp >= 2**31 - 2:
            self.pot_st[:] = 0
            self.pot_stamp = 1
        self.pot_key = key
        return self.pot_stamp


_local = threading.local()


def _workspace(g: CompiledGraph) -> _Workspace:
    ws: _Workspace | None = getattr(_local, "ws", None)
    if ws is None or ws.n_nodes != g.n_nodes or ws.n_arcs != g.n_arcs:
        ws = _Workspace(g.n_nodes, g.n_arcs)
        _local.ws = ws
    return ws


def landmarks_for(g: CompiledGraph, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The landmarks of ``metric`` (computed and kept on the graph on first use)."""
    lm = g.landmarks.get(metric)
    if lm is None:
        lm = compute_landmarks(g, metric=metric)
        g.landmarks[metric] = lm
    return lm


def _select(
    lm_from: np.ndarray, lm_to: np.ndarray, s: np.ndarray, t: np.ndarray, k: int
) -> np.ndarray:
    """The ``k`` landmarks giving the best lower bound between the seeds' first nodes."""
    if lm_from.shape[1] <= k:
        return np.arange(lm_from.shape[1], dtype=np.int64)
    a = lm_to[s[0]] - lm_to[t[0]]
    b = lm_from[t[0]] - lm_from[s[0]]
    score = np.maximum(a, b)
    return np.sort(np.argsort(-score)[:k]).astype(np.int64)


def shortest_path(
    g: CompiledGraph,
    passable: np.ndarray,
    src_nodes: np.ndarray,
    src_off: np.ndarray,
    tgt_nodes: np.ndarray,
    tgt_off: np.ndarray,
    *,
    metric: str = "time",
    cost: np.ndarray | None = None,
    use_landmarks: bool = True,
    active_landmarks: int = 6,
) -> tuple[float, np.ndarray, dict[str, Any]]:
    """Cheapest path between seed sets on the arcs where ``passable`` is true.

    Parameters
    ----------
    g:
        The compiled graph.
    passable:
        uint8/bool per arc.
    src_nodes, src_off:
        Start nodes and the cost already spent to reach each (partial first edge).
    tgt_nodes, tgt_off:
        End nodes and the cost still to spend from each (partial last edge).
    metric:
        ``time`` or ``distance`` (selects costs and landmarks).
    cost:
        Override of the per-arc costs; must be >= the metric's costs (e.g. penalised
        alternatives) so the landmark bounds stay admissible.
    use_landmarks:
        False runs plain bidirectional Dijkstra (the reference in tests).

    Returns
    -------
    (cost, arcs, info)
        ``inf`` and an empty array when no path exists.
    """
    ws = _workspace(g)
    stamp = ws.next_stamp()
    c = g.arc_cost(metric) if cost is None else cost
    if use_landmarks:
        _, lm_from, lm_to = landmarks_for(g, metric)
        sel = _select(lm_from, lm_to, src_nodes, tgt_nodes, active_landmarks)
    else:
        lm_from = lm_to = np.zeros((1, 1))
        sel = np.zeros(0, np.int64)
    rt, ra = reverse_adjacency(g)
    src_nodes = np.asarray(src_nodes, np.int64)
    src_off = np.asarray(src_off, np.float64)
    tgt_nodes = np.asarray(tgt_nodes, np.int64)
    tgt_off = np.asarray(tgt_off, np.float64)
    pot_stamp = 0
    if use_landmarks:
        pot_stamp = ws.potential_stamp(
            (
                lm_from,
                lm_to,
                sel.tobytes(),
                src_nodes.tobytes(),
                src_off.tobytes(),
                tgt_nodes.tobytes(),
                tgt_off.tobytes(),
            )
        )
    mu, meet, scans = _bidir(
        g.indptr,
        g.head,
        g.rindptr,
        rt,
        ra,
        c,
        passable,
        lm_from,
        lm_to,
        sel,
        src_nodes,
        src_off,
        tgt_nodes,
        tgt_off,
        ws.dist_f,
        ws.dist_r,
        ws.pred_f,
        ws.pred_r,
        ws.lab_f,
        ws.lab_r,
        ws.set_f,
        ws.set_r,
        ws.pot,
        ws.pot_st,
        ws.hk_f,
        ws.hv_f,
        ws.hk_r,
        ws.hv_r,
        stamp,
        pot_stamp,
        use_landmarks,
    )
    if meet < 0 or not np.isfinite(mu):
        return float("inf"), np.zeros(0, np.int64), {"scanned": int(scans)}
    arcs = _unwind(meet, ws.pred_f, ws.pred_r, g.tail, g.head)
    first = int(g.tail[arcs[0]]) if arcs.size else meet
    last = int(g.head[arcs[-1]]) if arcs.size else meet
    return float(mu), arcs, {"scanned": int(scans), "first_node": first, "last_node": last}
