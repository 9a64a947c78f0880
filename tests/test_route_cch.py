"""The CCH engine (road_network/cch.py): per-mask customization never lets a restriction
leak through a shortcut, answers equal plain Dijkstra and the ALT engine, and the graph
snapshot keeps the order."""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.synthetic import generate_network, to_graph_inputs
from road_network import cch
from road_network import route as route_mod
from road_network.graph import CompiledGraph, EdgeInput, build_graph
from road_network.mask import passable_mask
from road_network.route import (
    CannotLeaveError,
    NoRouteError,
    RouteOptions,
    check_route,
)
from road_network.search import dijkstra_all, forward_adjacency
from road_network.vehicle import VehicleProfile

LON0, LAT0 = 117.2, 39.1


@pytest.fixture(autouse=True, scope="module")
def _cch_on_first_use() -> Iterator[None]:
    before = cch.CUSTOMIZE_AFTER
    cch.CUSTOMIZE_AFTER = 1
    yield
    cch.CUSTOMIZE_AFTER = before


@lru_cache(maxsize=1)
def synthetic() -> CompiledGraph:
    return build_graph(**to_graph_inputs(generate_network(3_000, seed=5)), landmarks=8)  # type: ignore[arg-type]


def diamond() -> CompiledGraph:
    """a -> b -> c (fast, 2 x 100 m) and a -> d -> c (slow, 2 x 300 m); one-way arcs.

    Nodes: a=1, b=2, c=3, d=4. The CCH order contracts b first, so the hierarchy holds a
    shortcut a -> c through b whatever the weights.
    """
    lon = np.array([LON0, LON0 + 0.001, LON0 + 0.002, LON0 + 0.001])
    lat = np.array([LAT0, LAT0 + 0.0005, LAT0, LAT0 - 0.002])
    src, dst = np.array([1, 2, 1, 4]), np.array([2, 3, 4, 3])
    length = np.array([100.0, 100.0, 300.0, 300.0])
    gl = np.concatenate([[lon[s - 1], lon[t - 1]] for s, t in zip(src, dst, strict=True)])
    ga = np.concatenate([[lat[s - 1], lat[t - 1]] for s, t in zip(src, dst, strict=True)])
    edges = EdgeInput(
        ids=np.arange(1, 5),
        source=src,
        target=dst,
        length_m=length,
        speed_kmh=np.full(4, 36.0),
        oneway=np.ones(4, bool),
        geom_offsets=np.arange(0, 9, 2),
        geom_lon=gl,
        geom_lat=ga,
    )
    low = {
        "id": 1,
        "external_id": "U1",
        "kind": "underpass",
        "name": "low",
        "road_code": None,
        "stake_m": None,
        "lon": float(lon[1]),
        "lat": float(lat[1]),
        "limits": [{"kind": "height", "value": 350, "direction": "both"}],
        "edges": [(2, "both")],  # b -> c
    }
    g = build_graph(np.arange(1, 5), lon, lat, edges, structures=[low], landmarks=2)
    g.cch_order = np.array([1, 3, 0, 2], np.int32)  # b, d, a, c (node indices)
    return g


def test_shortcut_through_a_blocked_arc_is_not_used() -> None:
    g = diamond()
    a, c = 0, 2
    bc = int(np.flatnonzero((g.tail == 1) & (g.head == 2))[0])
    free = passable_mask(g, None)
    truck = VehicleProfile(height_cm=410, name="tall")
    mask = passable_mask(g, truck)
    assert free[bc] == 1 and mask[bc] == 0
    one = np.array([a]), np.zeros(1), np.array([c]), np.zeros(1)
    # the unrestricted customization uses the shortcut a -> c (through b): 20 s
    cost, arcs, info = cch.shortest_path(g, free, *one, metric="time")  # type: ignore[misc]
    assert info["engine"] == "cch" and cost == pytest.approx(20.0)
    assert bc in arcs.tolist()
    # the truck's customization gives the shortcut an infinite weight: via d, 60 s
    cost, arcs, info = cch.shortest_path(g, mask, *one, metric="time")  # type: ignore[misc]
    assert info["engine"] == "cch" and cost == pytest.approx(60.0)
    assert bc not in arcs.tolist() and bool(mask[arcs].all())
    # one-way arcs: c cannot reach a; the CCH says so itself (no ALT search needed)
    back = np.array([c]), np.zeros(1), np.array([a]), np.zeros(1)
    hit = cch.shortest_path(g, mask, *back, metric="time")  # type: ignore[misc]
    assert hit is not None and math.isinf(hit[0]) and hit[1].size == 0
    # the same through the whole route check, both metrics
    for metric in ("time", "distance"):
        res = check_route(g, truck, (LON0, LAT0), (LON0 + 0.002, LAT0), RouteOptions(metric=metric))
        assert bc not in res.route.arcs.tolist()
        assert res.route.length_m == pytest.approx(600.0)
        assert [b["external_id"] for b in res.blocking] == ["U1"]


def test_weights_block_masked_arcs_and_fit_the_integer_range() -> None:
    g = synthetic()
    mask = passable_mask(g, VehicleProfile(height_cm=420, gross_weight_kg=49_000))
    for metric in ("time", "distance"):
        w = cch.weights(g, mask, metric)
        assert (w[mask == 0] == cch.INF_WEIGHT).all()
        assert (w[mask == 1] < cch.INF_WEIGHT).all()
        # the longest shortest path of the unrestricted graph is far inside the range
        assert g.cch_bound[metric] * cch.scale(g, metric) * 4 < cch.INF_WEIGHT


vehicles = st.builds(
    VehicleProfile,
    height_cm=st.integers(250, 500),
    width_cm=st.integers(220, 420),
    length_cm=st.integers(600, 2200),
    gross_weight_kg=st.integers(3_000, 70_000),
    axle_load_kg=st.integers(2_000, 14_000),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vehicle=vehicles,
    seed=st.integers(0, 2**31),
    metric=st.sampled_from(["time", "distance"]),
    closures=st.floats(0.0, 0.2),
)
def test_property_cch_equals_plain_dijkstra(vehicle, seed, metric, closures) -> None:
    g = synthetic()
    rng = np.random.default_rng(seed)
    blocked = rng.random(g.n_arcs) < closures  # random extra closures on top of the limits
    mask = passable_mask(g, vehicle, blocked=blocked)
    cost = g.arc_cost(metric)
    fh, fa = forward_adjacency(g)
    for _ in range(5):
        s = rng.integers(g.n_nodes, size=2)
        t = rng.integers(g.n_nodes, size=2)
        so, to = rng.random(2) * 30, rng.random(2) * 30
        ref, _ = dijkstra_all(g.indptr, fh, fa, cost, mask, s, so)
        want = min(ref[t[k]] + to[k] for k in range(2))
        hit = cch.shortest_path(g, mask, s, so, t, to, metric=metric)
        assert hit is not None  # answered by the CCH (routes far inside the integer range)
        got, arcs, info = hit
        if math.isinf(got):  # unreachable, decided by the reachability customization
            assert math.isinf(want) and arcs.size == 0
            continue
        assert got == pytest.approx(want, rel=1e-6)
        assert bool(mask[arcs].all())
        # a connected path from a source seed to a target seed, cost from its arcs
        assert info["first_node"] in s.tolist() and info["last_node"] in t.tolist()
        if arcs.size:
            assert (g.head[arcs[:-1]] == g.tail[arcs[1:]]).all()
            assert int(g.tail[arcs[0]]) == info["first_node"]
            assert int(g.head[arcs[-1]]) == info["last_node"]


def _answer(g: CompiledGraph, vehicle, o, d, opts):  # type: ignore[no-untyped-def]
    try:
        res = check_route(g, vehicle, o, d, opts)
    except (CannotLeaveError, NoRouteError) as exc:
        return type(exc).__name__
    return (
        round(res.route.cost, 6),
        res.route.arcs.tolist(),
        np.round(res.route.start, 9).tolist(),
        np.round(res.route.end, 9).tolist(),
        [b["edge_id"] for b in res.blocking],
        None if res.unrestricted is None else round(res.unrestricted.cost, 6),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vehicle=vehicles,
    a=st.integers(0, 10**9),
    b=st.integers(0, 10**9),
    jitter=st.tuples(st.floats(-0.0008, 0.0008), st.floats(-0.0008, 0.0008)),
    same_edge=st.booleans(),
    metric=st.sampled_from(["time", "distance"]),
)
def test_property_route_check_same_answers_as_alt(vehicle, a, b, jitter, same_edge, metric) -> None:
    """Snapped seeds (partial edges, same-edge origin/destination, points on nodes): the
    CCH engine answers exactly what the ALT engine answers."""
    g = synthetic()
    i = a % g.n_nodes
    o = (float(g.node_lon[i]) + jitter[0], float(g.node_lat[i]) + jitter[1])
    if same_edge:  # both points on one edge, in either order
        e = b % g.n_edges
        xy = g.edge_coords(e)
        p, q = xy[0] * 0.7 + xy[-1] * 0.3, xy[0] * 0.2 + xy[-1] * 0.8
        o, d = ((p[0], p[1]), (q[0], q[1])) if b % 2 else ((q[0], q[1]), (p[0], p[1]))
    else:
        j = b % g.n_nodes
        d = (float(g.node_lon[j]), float(g.node_lat[j]))
    opts = RouteOptions(metric=metric)
    got = _answer(g, vehicle, o, d, opts)
    route_mod.ENGINE = "alt"
    try:
        want = _answer(g, vehicle, o, d, opts)
    finally:
        route_mod.ENGINE = "cch"
    assert got == want


def test_masks_customized_on_second_use_and_kept_in_an_lru(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    g = synthetic()
    monkeypatch.setattr(cch, "CUSTOMIZE_AFTER", 2)
    monkeypatch.setattr(cch, "CUSTOMIZE_SHARE", 0.0)
    monkeypatch.setattr(cch, "LRU_SIZE", 2)
    g.cache.pop("cch_lru", None)
    g.cache.pop("cch_uses", None)
    seeds = np.array([0]), np.zeros(1), np.array([g.n_nodes - 1]), np.zeros(1)
    m1 = passable_mask(g, VehicleProfile(height_cm=430))
    assert cch.shortest_path(g, m1, *seeds) is None  # first use: ALT
    assert cch.shortest_path(g, m1, *seeds) is not None  # second: customized
    m2 = passable_mask(g, VehicleProfile(height_cm=300, gross_weight_kg=60_000))
    m3 = passable_mask(g, VehicleProfile(width_cm=400))
    for m in (m2, m2, m3, m3):
        cch.shortest_path(g, m, *seeds)
    assert len(g.cache["cch_lru"]) == 2  # m1 evicted
    # a copy of a mask (same content, new array) finds the same customization
    assert cch.shortest_path(g, m3.copy(), *seeds) is not None


def test_customization_waits_until_alt_searches_have_cost_a_share_of_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Ski-rental: a mask is customized once its ALT searches cost CUSTOMIZE_SHARE of a
    customization (one-off masks never stall a worker on a big graph)."""
    g = synthetic()
    monkeypatch.setattr(cch, "CUSTOMIZE_AFTER", 2)
    monkeypatch.setattr(cch, "CUSTOMIZE_SHARE", 0.5)
    g.cache["cch_customize_s"] = 0.2  # as measured on this graph
    seeds = np.array([0]), np.zeros(1), np.array([g.n_nodes - 1]), np.zeros(1)
    m = passable_mask(g, VehicleProfile(height_cm=333, width_cm=299))
    assert cch.shortest_path(g, m, *seeds) is None
    cch.charge(g, m, "time", 0.06)
    assert cch.shortest_path(g, m, *seeds) is None  # 2 uses, but 0.06 s < 0.1 s
    cch.charge(g, m, "time", 0.06)
    assert cch.shortest_path(g, m, *seeds) is not None  # 0.12 s of ALT: customized
    # through the route check, the ALT searches are booked on the mask
    v = VehicleProfile(height_cm=334, width_cm=298)
    m2 = passable_mask(g, v)
    o = (float(g.node_lon[0]), float(g.node_lat[0]))
    d = (float(g.node_lon[-1]), float(g.node_lat[-1]))
    check_route(g, v, o, d, RouteOptions(explain=False))
    spent = g.cache["cch_uses"][("time", cch.fingerprint(g, m2))][1]
    assert spent > 0


def test_snapshot_keeps_the_order(tmp_path: Path) -> None:
    g = synthetic()
    h = CompiledGraph.load(g.save(tmp_path / "g.npz"))
    assert h.cch_order is not None and np.array_equal(h.cch_order, g.cch_order)  # type: ignore[arg-type]
    assert h.cch_bound == pytest.approx(g.cch_bound)
    assert sorted(np.asarray(h.cch_order).tolist()) == list(range(g.n_nodes))
    mask = passable_mask(h, None)
    s, t = np.array([3]), np.array([h.n_nodes - 3])
    z = np.zeros(1)
    assert cch.shortest_path(h, mask, s, z, t, z) is not None


def test_recompile_reuses_order_landmarks_and_bounds_of_an_unchanged_network() -> None:
    """A new limit (not a new road) recompiles without a new CCH order or landmarks; the
    new limit still applies, through a fresh customization."""
    net = generate_network(1_500, seed=9)
    a = build_graph(**to_graph_inputs(net), landmarks=4)  # type: ignore[arg-type]
    inputs = to_graph_inputs(net)
    e = 17
    low = {
        "id": 999,
        "external_id": "NEW",
        "kind": "height_restrictor",
        "name": "new",
        "road_code": None,
        "stake_m": None,
        "lon": 0.0,
        "lat": 0.0,
        "limits": [{"kind": "height", "value": 300, "direction": "both"}],
        "edges": [(e + 1, "both")],
    }
    inputs["structures"] = [*inputs["structures"], low]  # type: ignore[misc]
    b = build_graph(**inputs, landmarks=4, previous=a)  # type: ignore[arg-type]
    assert b.cch_order is a.cch_order and b.tail is a.tail
    assert b.landmarks["time"] is a.landmarks["time"] and b.cch_bound == a.cch_bound
    truck = VehicleProfile(height_cm=400)
    arcs = [x for x in (int(b.edge_fwd_arc[e]), int(b.edge_bwd_arc[e])) if x >= 0]
    mask = passable_mask(b, truck)
    assert not mask[arcs].any()
    u, v = int(b.tail[arcs[0]]), int(b.head[arcs[0]])
    z = np.zeros(1)
    hit = cch.shortest_path(b, mask, np.array([u]), z, np.array([v]), z)
    assert hit is not None and not set(hit[1].tolist()) & set(arcs)
    # other speeds: same order, new landmarks and bounds
    inputs["edges"].speed_kmh = inputs["edges"].speed_kmh * 1.5  # type: ignore[attr-defined]
    c = build_graph(**inputs, landmarks=4, previous=a)  # type: ignore[arg-type]
    assert c.cch_order is a.cch_order
    assert c.landmarks["time"] is not a.landmarks["time"]
    assert c.cch_bound["time"] == pytest.approx(a.cch_bound["time"] / 1.5)


def test_graph_without_order_uses_alt() -> None:
    g = build_graph(**to_graph_inputs(generate_network(800, seed=2)), landmarks=2, cch=False)  # type: ignore[arg-type]
    assert g.cch_order is None and not cch.available(g)
    mask = passable_mask(g, None)
    z = np.zeros(1)
    assert cch.shortest_path(g, mask, np.array([0]), z, np.array([5]), z) is None
    res = check_route(
        g,
        VehicleProfile(),
        (float(g.node_lon[0]), float(g.node_lat[0])),
        (float(g.node_lon[5]), float(g.node_lat[5])),
    )
    assert res.route.cost > 0
