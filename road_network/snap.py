"""Snapping a lon/lat point to the nearest edge a vehicle may use.

A uniform grid of segments (cells of ``cell_m`` metres in a local metric projection,
each segment filed in every cell its bounding box touches) is searched ring by ring in
compiled code with the exact point-to-segment projection, until no unseen segment can be
closer: the result is the exact nearest usable segment. (Hand-written rather than
scipy's cKDTree over densified vertices, which this replaced: a tree query alone cost
60+ us per call from Python and could not filter by the vehicle's mask inside the
query.) The cKDTree over sample points is kept for :meth:`SnapIndex.edges_near`
(built on first use). Coordinates are projected with an equirectangular projection
about the network's mean latitude: over a city-sized network its error (< 0.1 %) is far
below snapping tolerances, and it keeps the hot path free of pyproj calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from road_network.graph import CompiledGraph

M_PER_DEG = 111_195.0  # mean Earth radius 6371.0088 km * pi / 180


@dataclass(frozen=True)
class Snap:
    """Where a point lands on the network.

    Attributes
    ----------
    edge:
        Edge index in the graph.
    fraction:
        Position along the edge (0 at its first vertex, 1 at its last), by length.
    distance_m:
        Distance from the point to the edge.
    lon, lat:
        The snapped position.
    """

    edge: int
    fraction: float
    distance_m: float
    lon: float
    lat: float


class SnapIndex:
    """Spatial index of a graph's edges (build once per graph; see :func:`snap_index`)."""

    def __init__(self, g: CompiledGraph, *, step_m: float = 25.0, cell_m: float = 100.0) -> None:
        self.lat0 = float(np.mean(g.node_lat)) if g.n_nodes else 0.0
        self.kx = M_PER_DEG * math.cos(math.radians(self.lat0))
        self.ky = M_PER_DEG
        x = g.geom_lon * self.kx
        y = g.geom_lat * self.ky
        self.x, self.y = x, y
        off = g.geom_offsets
        self.offsets = off
        nseg = np.diff(off) - 1
        seg_edge = np.repeat(np.arange(g.n_edges, dtype=np.int64), nseg)
        seg_start = _seg_starts(off)
        x0, y0 = x[seg_start], y[seg_start]
        x1, y1 = x[seg_start + 1], y[seg_start + 1]
        seg_len = np.hypot(x1 - x0, y1 - y0)
        # cumulative length of each edge's vertices (for the fraction along the edge)
        step = np.zeros(len(x))
        step[seg_start + 1] = seg_len
        c = np.cumsum(step)
        first = off[:-1]
        cum = c - np.repeat(c[first], np.diff(off))
        self.cum = cum
        self.edge_len = cum[off[1:] - 1]
        # densified sample points: each segment sampled every step_m
        k = np.maximum(1, np.ceil(seg_len / step_m).astype(np.int64))
        rep = np.repeat(np.arange(len(seg_start)), k)
        local = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
        t = local / np.repeat(k, k)
        px = x0[rep] + (x1 - x0)[rep] * t
        py = y0[rep] + (y1 - y0)[rep] * t
        # the last vertex of every edge too
        px = np.concatenate([px, x[off[1:] - 1]])
        py = np.concatenate([py, y[off[1:] - 1]])
        last_seg = np.searchsorted(seg_edge, np.arange(g.n_edges), side="right") - 1
        self.point_seg = np.concatenate([rep, last_seg])
        self.seg_edge = seg_edge
        self.seg_start = seg_start
        self.step_m = step_m
        self._points = (px, py)
        self._tree: cKDTree | None = None
        self.fwd = g.edge_fwd_arc
        self.bwd = g.edge_bwd_arc
        # the segment grid
        self.cell_m = float(cell_m)
        if len(seg_start):
            self.gx0 = float(min(x0.min(), x1.min()))
            self.gy0 = float(min(y0.min(), y1.min()))
            span_x = float(max(x0.max(), x1.max())) - self.gx0
            span_y = float(max(y0.max(), y1.max())) - self.gy0
        else:
            self.gx0 = self.gy0 = span_x = span_y = 0.0
        self.nx = int(span_x // self.cell_m) + 1
        self.ny = int(span_y // self.cell_m) + 1
        self.cell_ptr, self.cell_seg = _build_grid(
            x0, y0, x1, y1, self.gx0, self.gy0, self.cell_m, self.nx, self.ny
        )

    @property
    def tree(self) -> cKDTree:
        """cKDTree over the densified sample points (for :meth:`edges_near`)."""
        if self._tree is None:
            self._tree = cKDTree(np.column_stack(self._points))
        return self._tree

    def usable(self, edges: np.ndarray, arc_mask: np.ndarray) -> np.ndarray:
        """Bool per edge: at least one direction passable under ``arc_mask``."""
        f, b = self.fwd[edges], self.bwd[edges]
        ok_f = (f >= 0) & (arc_mask[np.maximum(f, 0)] != 0)
        ok_b = (b >= 0) & (arc_mask[np.maximum(b, 0)] != 0)
        return np.asarray(ok_f | ok_b)

    def nearest(
        self,
        lon: float,
        lat: float,
        *,
        arc_mask: np.ndarray | None = None,
        radius_m: float,
    ) -> Snap | None:
        """Nearest edge within ``radius_m``; with ``arc_mask`` (per arc) only edges with at
        least one usable direction."""
        qx, qy = lon * self.kx, lat * self.ky
        use_mask = arc_mask is not None
        mask = _NO_MASK if arc_mask is None else arc_mask
        d, e, along, px, py = _grid_nearest(
            self.cell_ptr,
            self.cell_seg,
            self.gx0,
            self.gy0,
            self.cell_m,
            self.nx,
            self.ny,
            self.seg_edge,
            self.seg_start,
            self.x,
            self.y,
            self.cum,
            self.fwd,
            self.bwd,
            mask,
            use_mask,
            qx,
            qy,
            float(radius_m),
        )
        best = None if e < 0 else (d, e, along, px, py)
        if best is None or best[0] > radius_m:
            return None
        d, e, along, px, py = best
        total = self.edge_len[e]
        frac = float(along / total) if total > 0 else 0.0
        return Snap(
            edge=e,
            fraction=min(1.0, max(0.0, frac)),
            distance_m=d,
            lon=px / self.kx,
            lat=py / self.ky,
        )

    def edges_near(self, lon: float, lat: float, radius_m: float) -> np.ndarray:
        """Edge indices with a sample point within ``radius_m`` (approximate, fast)."""
        idx = self.tree.query_ball_point([lon * self.kx, lat * self.ky], r=radius_m)
        if not idx:
            return np.zeros(0, np.int64)
        return np.unique(self.seg_edge[self.point_seg[np.asarray(idx)]])

    def cut(self, e: int, f0: float, f1: float) -> np.ndarray:
        """Lon/lat vertices of edge ``e`` between fractions ``f0`` and ``f1`` (f0 may be
        greater than f1, giving the reversed piece)."""
        rev = f0 > f1
        a, b = (f1, f0) if rev else (f0, f1)
        off0, off1 = int(self.offsets[e]), int(self.offsets[e + 1])
        cum = self.cum[off0:off1]
        total = cum[-1] if cum[-1] > 0 else 1.0
        xs = self.x[off0:off1]
        ys = self.y[off0:off1]
        da, db = a * total, b * total
        inner = np.flatnonzero((cum > da) & (cum < db))
        pa = (np.interp(da, cum, xs), np.interp(da, cum, ys))
        pb = (np.interp(db, cum, xs), np.interp(db, cum, ys))
        pts = [pa, *zip(xs[inner], ys[inner], strict=True), pb]
        arr = np.array(pts, float)
        arr[:, 0] /= self.kx
        arr[:, 1] /= self.ky
        return arr[::-1] if rev else arr


_NO_MASK = np.ones(1, np.uint8)


@njit(cache=True)
def _build_grid(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    gx0: float,
    gy0: float,
    cell: float,
    nx: int,
    ny: int,
) -> tuple[np.ndarray, np.ndarray]:
    """CSR cell -> segments; a segment is filed in every cell its bounding box touches."""
    counts = np.zeros(nx * ny + 1, np.int64)
    for s in range(x0.shape[0]):
        ax = int((min(x0[s], x1[s]) - gx0) // cell)
        bx = int((max(x0[s], x1[s]) - gx0) // cell)
        ay = int((min(y0[s], y1[s]) - gy0) // cell)
        by = int((max(y0[s], y1[s]) - gy0) // cell)
        for cx in range(max(ax, 0), min(bx, nx - 1) + 1):
            for cy in range(max(ay, 0), min(by, ny - 1) + 1):
                counts[cx * ny + cy + 1] += 1
    ptr = np.cumsum(counts)
    fill = ptr[:-1].copy()
    out = np.empty(ptr[-1], np.int64)
    for s in range(x0.shape[0]):
        ax = int((min(x0[s], x1[s]) - gx0) // cell)
        bx = int((max(x0[s], x1[s]) - gx0) // cell)
        ay = int((min(y0[s], y1[s]) - gy0) // cell)
        by = int((max(y0[s], y1[s]) - gy0) // cell)
        for cx in range(max(ax, 0), min(bx, nx - 1) + 1):
            for cy in range(max(ay, 0), min(by, ny - 1) + 1):
                c = cx * ny + cy
                out[fill[c]] = s
                fill[c] += 1
    return ptr, out


@njit(cache=True)
def _grid_nearest(
    cell_ptr: np.ndarray,
    cell_seg: np.ndarray,
    gx0: float,
    gy0: float,
    cell: float,
    nx: int,
    ny: int,
    seg_edge: np.ndarray,
    seg_start: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    cum: np.ndarray,
    fwd: np.ndarray,
    bwd: np.ndarray,
    arc_mask: np.ndarray,
    use_mask: bool,
    qx: float,
    qy: float,
    radius: float,
) -> tuple[float, int, float, float, float]:
    """Exact nearest usable segment within ``radius``: rings of cells around the query
    cell, until every unseen segment is provably farther than the best one (ties: lowest
    edge index, then lowest segment index). Edge -1 when none."""
    best_d = np.inf
    best_e = -1
    best_s = -1
    best_along = 0.0
    best_x = 0.0
    best_y = 0.0
    fx = (qx - gx0) / cell
    fy = (qy - gy0) / cell
    cx = math.floor(fx)
    cy = math.floor(fy)
    # distance from the query to its own cell's border: after rings 0..r, every unseen
    # segment is at least r * cell + margin away
    margin = min(fx - cx, cx + 1 - fx, fy - cy, cy + 1 - fy) * cell
    if cx < 0 or cx >= nx or cy < 0 or cy >= ny:
        margin = 0.0  # outside the grid: only the ring distance bounds hold
    r = 0
    # the grid is searched ring by ring; beyond max_r every cell lies outside it
    max_r = max(abs(cx) + nx, abs(cy) + ny) + 1
    while r <= max_r:
        for ix in range(cx - r, cx + r + 1):
            if ix < 0 or ix >= nx:
                continue
            edge_col = ix == cx - r or ix == cx + r
            step = 1 if edge_col else 2 * r
            iy = cy - r
            while iy <= cy + r:
                if 0 <= iy < ny:
                    c = ix * ny + iy
                    for j in range(cell_ptr[c], cell_ptr[c + 1]):
                        sg = cell_seg[j]
                        e = seg_edge[sg]
                        if use_mask:
                            f = fwd[e]
                            b = bwd[e]
                            if not ((f >= 0 and arc_mask[f] != 0) or (b >= 0 and arc_mask[b] != 0)):
                                continue
                        s = seg_start[sg]
                        x0 = x[s]
                        y0 = y[s]
                        dx = x[s + 1] - x0
                        dy = y[s + 1] - y0
                        l2 = dx * dx + dy * dy
                        t = ((qx - x0) * dx + (qy - y0) * dy) / l2 if l2 > 0 else 0.0
                        if t < 0.0:
                            t = 0.0
                        elif t > 1.0:
                            t = 1.0
                        px = x0 + t * dx
                        py = y0 + t * dy
                        d = math.hypot(px - qx, py - qy)
                        if d < best_d or (
                            d == best_d and (e < best_e or (e == best_e and sg < best_s))
                        ):
                            best_d = d
                            best_e = e
                            best_s = sg
                            best_along = cum[s] + t * math.sqrt(l2)
                            best_x = px
                            best_y = py
                if r == 0:
                    break
                iy += step
        bound = r * cell + margin  # every unseen segment is at least this far
        if best_d < bound or bound > radius:
            break
        r += 1
    if best_d > radius:
        return np.inf, -1, 0.0, 0.0, 0.0
    return best_d, best_e, best_along, best_x, best_y


def _seg_starts(off: np.ndarray) -> np.ndarray:
    """Index of the first vertex of every segment (segments never cross edges)."""
    n_vertices = int(off[-1])
    is_last = np.zeros(n_vertices, bool)
    is_last[off[1:] - 1] = True
    return np.flatnonzero(~is_last)


def snap_index(g: CompiledGraph) -> SnapIndex:
    """The graph's snap index (built on first use and kept in the graph's cache)."""
    idx = g.cache.get("snap")
    if idx is None:
        idx = SnapIndex(g)
        g.cache["snap"] = idx
    return idx  # type: ignore[no-any-return]
