"""Snapping's segment grid against brute force: the exact nearest usable segment over
every segment of the network, ties to the lowest edge then segment, within the radius."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

from loaders.synthetic import generate_network, to_graph_inputs
from road_network.graph import CompiledGraph, build_graph
from road_network.mask import passable_mask
from road_network.snap import SnapIndex, snap_index
from road_network.vehicle import PRESETS


@lru_cache(maxsize=1)
def graph() -> CompiledGraph:
    return build_graph(**to_graph_inputs(generate_network(2_000, seed=11)), landmarks=0)  # type: ignore[arg-type]


def brute(
    idx: SnapIndex, lon: float, lat: float, mask: np.ndarray | None, radius_m: float
) -> tuple[float, int, float] | None:
    """(distance, edge, fraction) by projecting onto every segment (plain numpy)."""
    qx, qy = lon * idx.kx, lat * idx.ky
    segs = np.arange(idx.seg_start.size)
    edges = idx.seg_edge[segs]
    if mask is not None:
        keep = idx.usable(edges, mask)
        segs, edges = segs[keep], edges[keep]
    s = idx.seg_start[segs]
    x0, y0, x1, y1 = idx.x[s], idx.y[s], idx.x[s + 1], idx.y[s + 1]
    dx, dy = x1 - x0, y1 - y0
    l2 = dx * dx + dy * dy
    t = np.clip(
        np.where(l2 > 0, ((qx - x0) * dx + (qy - y0) * dy) / np.where(l2 > 0, l2, 1), 0), 0, 1
    )
    d = np.hypot(x0 + t * dx - qx, y0 + t * dy - qy)
    i = int(np.lexsort((segs, edges, d))[0])
    if d[i] > radius_m:
        return None
    e = int(edges[i])
    along = idx.cum[s[i]] + t[i] * math.sqrt(l2[i])
    return float(d[i]), e, float(along / idx.edge_len[e])


@pytest.mark.parametrize("with_mask", [False, True])
def test_grid_nearest_equals_brute_force(with_mask: bool) -> None:
    g = graph()
    idx = snap_index(g)
    mask = passable_mask(g, PRESETS["lowbed_oversize"]) if with_mask else None
    rng = np.random.default_rng(3)
    lon0, lon1 = float(g.node_lon.min()), float(g.node_lon.max())
    lat0, lat1 = float(g.node_lat.min()), float(g.node_lat.max())
    points = [
        (float(rng.uniform(lon0 - 0.01, lon1 + 0.01)), float(rng.uniform(lat0 - 0.01, lat1 + 0.01)))
        for _ in range(150)
    ]
    # exactly on nodes (several edges tie at distance 0) and on cell-sized offsets
    points += [
        (float(g.node_lon[i]), float(g.node_lat[i])) for i in rng.integers(g.n_nodes, size=50)
    ]
    found = missed = 0
    for lon, lat in points:
        for radius in (30.0, 500.0):
            got = idx.nearest(lon, lat, arc_mask=mask, radius_m=radius)
            want = brute(idx, lon, lat, mask, radius)
            if want is None:
                assert got is None
                missed += 1
                continue
            found += 1
            assert got is not None
            assert got.edge == want[1]
            assert got.distance_m == pytest.approx(want[0], abs=1e-9)
            assert got.fraction == pytest.approx(min(1.0, max(0.0, want[2])), abs=1e-9)
    assert found > 100 and missed > 10  # both outcomes exercised
