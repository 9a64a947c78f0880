"""The route engine's pure core: vehicles, compiled graph, masks, snapping, ALT search,
explanations, options, and the mistakes a leading peer makes (DESIGN.md 'Route check')."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loaders.synthetic import generate_network, to_graph_inputs
from road_network import cch
from road_network.conditional import is_active
from road_network.graph import (
    LIMIT_KINDS,
    LIMIT_NONE,
    LIMIT_UNKNOWN,
    CompiledGraph,
    EdgeInput,
    build_graph,
)
from road_network.mask import passable_mask
from road_network.route import (
    CannotLeaveError,
    NoRouteError,
    RouteError,
    RouteOptions,
    SnapError,
    check_route,
    check_routes,
)
from road_network.search import dijkstra_all, forward_adjacency, shortest_path
from road_network.snap import snap_index
from road_network.vehicle import (
    PRESETS,
    VehicleError,
    VehicleProfile,
    make_profile,
    validate,
)

LON0, LAT0 = 117.2, 39.1


@pytest.fixture(autouse=True, scope="module")
def _cch_on_first_use() -> Iterator[None]:
    """Customize every mask at its first use, so these tests run the CCH engine (masks
    used once would otherwise take the ALT search)."""
    before = cch.CUSTOMIZE_AFTER
    cch.CUSTOMIZE_AFTER = 1
    yield
    cch.CUSTOMIZE_AFTER = before


DLON = 100 / (111_195.0 * math.cos(math.radians(LAT0)))  # ~100 m
DLAT = 100 / 111_195.0


# --------------------------------------------------------------------------- helpers
def grid_graph(
    n: int = 5,
    *,
    structures: list[dict] | None = None,
    oneway: set[int] | None = None,
    speed_kmh: float = 36.0,
) -> tuple[CompiledGraph, dict[tuple[int, int], int]]:
    """An n x n grid (100 m spacing); returns the graph and (node a, node b) -> edge id.

    Node (r, c) has id r * n + c + 1 and sits at (LON0 + c*DLON, LAT0 + r*DLAT).
    """
    ids, lon, lat = [], [], []
    for r in range(n):
        for c in range(n):
            ids.append(r * n + c + 1)
            lon.append(LON0 + c * DLON)
            lat.append(LAT0 + r * DLAT)
    src, dst = [], []
    for r in range(n):
        for c in range(n):
            if c + 1 < n:
                src.append(r * n + c + 1)
                dst.append(r * n + c + 2)
            if r + 1 < n:
                src.append(r * n + c + 1)
                dst.append((r + 1) * n + c + 1)
    m = len(src)
    gl, ga = [], []
    for s, d in zip(src, dst, strict=True):
        gl += [lon[s - 1], lon[d - 1]]
        ga += [lat[s - 1], lat[d - 1]]
    edge_of = {}
    for i, (s, d) in enumerate(zip(src, dst, strict=True)):
        edge_of[(s, d)] = i + 1
        edge_of[(d, s)] = i + 1
    edges = EdgeInput(
        ids=np.arange(1, m + 1),
        source=np.array(src),
        target=np.array(dst),
        length_m=np.full(m, 100.0),
        speed_kmh=np.full(m, speed_kmh),
        oneway=np.array([i + 1 in (oneway or set()) for i in range(m)]),
        geom_offsets=np.arange(0, 2 * m + 1, 2),
        geom_lon=np.array(gl),
        geom_lat=np.array(ga),
        road_code=[f"R{i % 3}" for i in range(m)],
    )
    g = build_graph(
        np.array(ids),
        np.array(lon),
        np.array(lat),
        edges,
        structures=structures or [],
        landmarks=4,
    )
    return g, edge_of


def node_xy(n: int, r: int, c: int) -> tuple[float, float]:
    return (LON0 + c * DLON, LAT0 + r * DLAT)


def low_bridge(sid: int, edge_ids: list[int], *, height_cm: int | None = 350, **kw) -> dict:
    return {
        "id": sid,
        "external_id": f"B{sid}",
        "kind": "underpass",
        "name": f"Low underpass {sid}",
        "road_code": "R0",
        "stake_m": 1234.0,
        "lon": LON0,
        "lat": LAT0,
        "state": kw.pop("state", "in_service"),
        "limits": [{"kind": "height", "value": height_cm, "direction": "both", **kw}],
        "edges": [(e, "both") for e in edge_ids],
    }


@lru_cache(maxsize=2)
def synthetic(edges: int = 3_000, seed: int = 7) -> CompiledGraph:
    return build_graph(**to_graph_inputs(generate_network(edges, seed=seed)))  # type: ignore[arg-type]


def reference_cost(g: CompiledGraph, mask: np.ndarray, o, d, metric: str = "time") -> float:
    """Independent reference: networkx Dijkstra on the passable arcs with the snapped
    points inserted into their edges as nodes 'O' and 'D'."""
    cost = g.arc_cost(metric)
    G = nx.DiGraph()

    def add(u, v, w):
        if not G.has_edge(u, v) or G[u][v]["w"] > w:
            G.add_edge(u, v, w=w)

    for a in np.flatnonzero(mask):
        add(int(g.tail[a]), int(g.head[a]), float(cost[a]))
    for name, s in (("O", o), ("D", d)):
        e, f = s.edge, s.fraction
        fa, ba = int(g.edge_fwd_arc[e]), int(g.edge_bwd_arc[e])
        u = int(g.tail[fa]) if fa >= 0 else int(g.head[ba])
        v = int(g.head[fa]) if fa >= 0 else int(g.tail[ba])
        if f <= 1e-9 or f >= 1 - 1e-9:  # on a node: the node itself, any direction
            at = u if f <= 1e-9 else v
            add(name, at, 0.0)
            add(at, name, 0.0)
            continue
        if fa >= 0 and mask[fa]:
            u, v = int(g.tail[fa]), int(g.head[fa])
            add(u, name, f * cost[fa])
            add(name, v, (1 - f) * cost[fa])
        if ba >= 0 and mask[ba]:
            v, u = int(g.tail[ba]), int(g.head[ba])
            add(v, name, (1 - f) * cost[ba])
            add(name, u, f * cost[ba])
    try:
        return float(nx.dijkstra_path_length(G, "O", "D", weight="w"))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return math.inf


def legal_by_limits(g: CompiledGraph, arc: int, v: VehicleProfile) -> bool:
    """Re-derive legality of an arc straight from the limit table (not from the mask)."""
    for i, kind in enumerate(LIMIT_KINDS):
        lim = int(g.limits[i, arc])
        if lim not in (int(LIMIT_NONE), int(LIMIT_UNKNOWN)) and lim < v.value(kind):
            return False
    return True


# --------------------------------------------------------------------------- vehicles
def test_presets_are_valid_and_distinct() -> None:
    for name, p in PRESETS.items():
        assert validate(p) is p, name
    assert PRESETS["container40hc"].height_cm == 410
    assert PRESETS["artic49t"].gross_weight_kg == 49_000
    assert PRESETS["lowbed_oversize"].width_cm > 255


@pytest.mark.parametrize(
    ("kw", "field", "fragment"),
    [
        ({"height_m": -1.0}, "height_cm", "positive"),
        ({"height_m": float("nan")}, "height_cm", "finite"),
        ({"weight_t": float("inf")}, "gross_weight_kg", "finite"),
        ({"height_m": 42.0}, "height_cm", "plausible range"),
        ({"weight_t": 5000.0}, "gross_weight_kg", "kg"),
        ({"axle_load_t": 60.0, "weight_t": 40.0}, "axle_load_kg", "exceeds"),
        ({"tunnel_code": "Z"}, "tunnel_code", "B, C, D, E"),
        ({"preset": "spaceship"}, "preset", "container40hc"),
    ],
)
def test_vehicle_validation_names_field_and_unit(kw: dict, field: str, fragment: str) -> None:
    with pytest.raises(VehicleError) as info:
        make_profile(**kw)
    assert info.value.field == field
    assert fragment in str(info.value)


def test_make_profile_converts_metres_and_tonnes() -> None:
    p = make_profile(preset="artic49t", height_m=4.2, weight_t=49)
    assert (p.height_cm, p.gross_weight_kg, p.axle_count) == (420, 49_000, 6)


# --------------------------------------------------------------------------- conditions
def test_conditional_time_windows() -> None:
    mon_noon = dt.datetime(2026, 11, 23, 12, 0)
    sat_noon = dt.datetime(2026, 11, 28, 12, 0)
    assert is_active("Mo-Fr 07:00-19:00", mon_noon)
    assert not is_active("Mo-Fr 07:00-19:00", sat_noon)
    assert is_active("22:00-06:00", dt.datetime(2026, 11, 23, 23, 30))
    assert not is_active("22:00-06:00", mon_noon)
    assert is_active("20 t @ (Sa,Su)", sat_noon)
    assert is_active("gibberish", mon_noon)  # unreadable: conservative
    assert is_active(None, mon_noon)


# --------------------------------------------------------------------------- graph
def test_snapshot_round_trip(tmp_path: Path) -> None:
    g = synthetic()
    p = g.save(tmp_path / "g.npz")
    h = CompiledGraph.load(p)
    assert h.n_arcs == g.n_arcs and h.n_nodes == g.n_nodes
    np.testing.assert_array_equal(h.limits, g.limits)
    np.testing.assert_array_equal(h.landmarks["time"][1], g.landmarks["time"][1])
    assert [s.external_id for s in h.structures] == [s.external_id for s in g.structures]
    v = PRESETS["container40hc"]
    o = (float(g.node_lon[3]), float(g.node_lat[3]))
    d = (float(g.node_lon[-5]), float(g.node_lat[-5]))
    a = check_route(g, v, o, d).route
    b = check_route(h, v, o, d).route
    assert a.cost == pytest.approx(b.cost, rel=1e-12)


def test_generator_is_seeded_and_sized() -> None:
    a = generate_network(2_000, seed=5)
    b = generate_network(2_000, seed=5)
    c = generate_network(2_000, seed=6)
    np.testing.assert_array_equal(a.node_lon, b.node_lon)
    assert not np.array_equal(a.node_lon, c.node_lon)
    assert 1_800 <= a.n_edges <= 2_300
    limited = {e for s in a.structures for e in s.edges}
    assert 0.02 <= len(limited) / a.n_edges <= 0.04
    assert abs(float(np.mean(a.node_lon)) - 117.2) < 0.1
    assert abs(float(np.mean(a.node_lat)) - 39.1) < 0.1
    assert a.edge_oneway.any()


def test_alt_equals_plain_dijkstra_on_random_pairs() -> None:
    g = synthetic()
    v = PRESETS["container40hc"]
    mask = passable_mask(g, v)
    rng = np.random.default_rng(1)
    fh, fa = forward_adjacency(g)
    for _ in range(60):
        s, t = (int(x) for x in rng.integers(g.n_nodes, size=2))
        ref, _ = dijkstra_all(g.indptr, fh, fa, g.arc_time_s, mask, np.array([s]), np.zeros(1))
        c_alt, arcs, _ = shortest_path(
            g, mask, np.array([s]), np.zeros(1), np.array([t]), np.zeros(1)
        )
        c_bd, _, _ = shortest_path(
            g, mask, np.array([s]), np.zeros(1), np.array([t]), np.zeros(1), use_landmarks=False
        )
        if math.isinf(ref[t]):
            assert math.isinf(c_alt)
            continue
        assert c_alt == pytest.approx(ref[t], rel=1e-9)
        assert c_bd == pytest.approx(ref[t], rel=1e-9)
        assert float(g.arc_time_s[arcs].sum()) == pytest.approx(c_alt, rel=1e-9)
        assert all(mask[arcs])


vehicles = st.builds(
    VehicleProfile,
    height_cm=st.integers(200, 520),
    width_cm=st.integers(200, 420),
    length_cm=st.integers(600, 2200),
    gross_weight_kg=st.integers(3_000, 70_000),
    axle_load_kg=st.integers(2_000, 14_000),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vehicle=vehicles,
    a=st.integers(0, 10**9),
    b=st.integers(0, 10**9),
    jitter=st.tuples(st.floats(-0.001, 0.001), st.floats(-0.001, 0.001)),
    on_node=st.booleans(),
    unknown=st.sampled_from(["passable", "blocking"]),
)
def test_property_routes_are_legal_and_optimal(vehicle, a, b, jitter, on_node, unknown) -> None:
    g = synthetic()
    i, j = a % g.n_nodes, b % g.n_nodes
    o = (float(g.node_lon[i]), float(g.node_lat[i]))
    dx, dy = (0.0, 0.0) if on_node else jitter
    d = (float(g.node_lon[j]) + dx, float(g.node_lat[j]) + dy)
    opts = RouteOptions(unknown=unknown)
    mask = passable_mask(g, vehicle, unknown=unknown)
    try:
        res = check_route(g, vehicle, o, d, opts)
    except CannotLeaveError:
        return
    except NoRouteError:
        idx = snap_index(g)
        so = idx.nearest(*o, arc_mask=mask, radius_m=500)
        sd = idx.nearest(*d, arc_mask=mask, radius_m=500)
        assert math.isinf(reference_cost(g, mask, so, sd))
        return
    assume(res.origin.edge != res.destination.edge)
    for arc in res.route.arcs:
        assert mask[arc]
        assert legal_by_limits(g, int(arc), vehicle)
        if unknown == "blocking":
            assert not (g.limits[:, arc] == LIMIT_UNKNOWN).any()
    ref = reference_cost(g, mask, res.origin, res.destination)
    assert res.route.cost == pytest.approx(ref, rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- peer mistakes
def test_first_edge_limit_enforced_when_origin_is_on_a_node() -> None:
    # 3x3 grid; the direct edge (0,0)-(0,1) is a 3.5 m underpass; origin exactly at node
    # (0,0), destination exactly at node (0,1): the truck must go round (300 m), never
    # drive the first edge.
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    g, _ = grid_graph(3, structures=[low_bridge(1, [e])])
    truck = PRESETS["container40hc"]
    res = check_route(g, truck, node_xy(3, 0, 0), node_xy(3, 0, 1))
    used = {int(g.edge_ids[g.arc_edge[a]]) for a in res.route.arcs}
    assert e not in used
    assert res.route.length_m == pytest.approx(300.0)
    assert res.blocking and res.blocking[0]["external_id"] == "B1"
    assert res.blocking[0]["violated"][0] == {
        "kind": "height",
        "limit": 350,
        "vehicle": 410,
        "unit": "cm",
    }
    car = make_profile(preset="van")
    assert check_route(g, car, node_xy(3, 0, 0), node_xy(3, 0, 1)).route.length_m == (
        pytest.approx(100.0)
    )


def test_last_edge_limit_enforced_when_destination_is_on_a_node() -> None:
    # destination node (0,2) at the end of a dead-end-like approach: in a 3x3 grid the
    # corner (0,2) is reached by (0,1)-(0,2) and (1,2)-(0,2); restrict both -> no route
    _g0, edge_of = grid_graph(3)
    blocked = [edge_of[(2, 3)], edge_of[(6, 3)]]
    g, _ = grid_graph(3, structures=[low_bridge(7, blocked)])
    truck = PRESETS["container40hc"]
    with pytest.raises((NoRouteError, CannotLeaveError)) as info:
        check_route(g, truck, node_xy(3, 2, 0), node_xy(3, 0, 2))
    assert info.value.details["blocking"], "the answer must name what blocks"
    assert info.value.details["blocking"][0]["violated"][0]["kind"] == "height"


def test_enclosed_origin_is_reported_not_snapped_across() -> None:
    # origin inside the cell (1,1)-(1,2)-(2,2)-(2,1) of a 4x4 grid, all four sides are
    # 3.5 m underpasses; 20 m from the nearest (restricted) road, 54 m from a legal one.
    _g0, edge_of = grid_graph(4)
    ring = [edge_of[(6, 7)], edge_of[(7, 11)], edge_of[(10, 11)], edge_of[(6, 10)]]
    g, _ = grid_graph(4, structures=[low_bridge(3, ring)])
    truck = PRESETS["container40hc"]
    inside = (LON0 + 1.5 * DLON, LAT0 + 1.2 * DLAT)
    with pytest.raises(CannotLeaveError) as info:
        check_route(g, truck, inside, node_xy(4, 3, 3))
    assert "cannot be left legally" in str(info.value)
    assert info.value.details["blocking"][0]["external_id"] == "B3"
    # a car leaves fine
    assert check_route(g, make_profile(preset="van"), inside, node_xy(4, 3, 3)).route.cost > 0


def test_no_route_names_the_blocking_structures() -> None:
    # 1 x 3 chain: the only connection has a 20 t bridge
    _g0, edge_of = grid_graph(3)
    cut = [edge_of[(1, 4)], edge_of[(2, 5)], edge_of[(3, 6)]]
    bridge = {
        **low_bridge(9, cut),
        "kind": "bridge",
        "limits": [{"kind": "weight", "value": 20_000, "direction": "both"}],
    }
    g, _ = grid_graph(3, structures=[bridge])
    with pytest.raises(NoRouteError) as info:
        check_route(g, PRESETS["artic49t"], node_xy(3, 0, 0), node_xy(3, 2, 2))
    blocking = info.value.details["blocking"]
    assert blocking[0]["external_id"] == "B9"
    assert blocking[0]["violated"][0] == {
        "kind": "weight",
        "limit": 20_000,
        "vehicle": 49_000,
        "unit": "kg",
    }
    assert blocking[0]["road_code"] == "R0" and blocking[0]["stake_m"] == 1234.0


# --------------------------------------------------------------------------- answer
def test_mid_edge_points_and_partial_lengths() -> None:
    g, _ = grid_graph(3)
    car = make_profile(preset="van")
    o = (LON0 + 0.25 * DLON, LAT0)  # 25 m along the bottom row
    d = (LON0 + 1.75 * DLON, LAT0)  # 175 m along it
    res = check_route(g, car, o, d)
    assert res.route.length_m == pytest.approx(150.0, rel=1e-6)
    d2 = (LON0 + 2 * DLON, LAT0 + 0.5 * DLAT)  # middle of the right column's first edge
    res2 = check_route(g, car, o, d2)
    assert res2.route.length_m == pytest.approx(175.0 + 50.0, rel=1e-6)
    geom = res2.to_dict(g)["route"]["geometry"]
    assert geom["coordinates"][0] == pytest.approx([o[0], o[1]], abs=1e-6)
    assert geom["coordinates"][-1] == pytest.approx([d2[0], d2[1]], abs=1e-6)


def test_same_edge_respects_oneway() -> None:
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    g, _ = grid_graph(3, oneway={e})
    car = make_profile(preset="van")
    fwd = check_route(g, car, (LON0 + 0.2 * DLON, LAT0), (LON0 + 0.8 * DLON, LAT0))
    assert fwd.route.length_m == pytest.approx(60.0, rel=1e-6)
    back = check_route(g, car, (LON0 + 0.8 * DLON, LAT0), (LON0 + 0.2 * DLON, LAT0))
    assert back.route.length_m > 200  # must go round the block


def test_structures_passed_with_margins_and_warnings() -> None:
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    g, _ = grid_graph(3, structures=[low_bridge(4, [e], height_cm=415)])
    res = check_route(g, PRESETS["container40hc"], node_xy(3, 0, 0), node_xy(3, 0, 1))
    (s,) = res.structures
    assert s["external_id"] == "B4"
    assert s["limits"][0]["margin"] == 5
    assert any("margin 5 cm" in w for w in res.warnings)


def test_unknown_limit_policy() -> None:
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    g, _ = grid_graph(3, structures=[low_bridge(5, [e], height_cm=None)])
    truck = PRESETS["container40hc"]
    a, b = node_xy(3, 0, 0), node_xy(3, 0, 1)
    passable = check_route(g, truck, a, b)
    assert passable.route.length_m == pytest.approx(100.0) and passable.unknown_limits
    blocking = check_route(g, truck, a, b, RouteOptions(unknown="blocking"))
    assert blocking.route.length_m == pytest.approx(300.0)
    assert blocking.blocking[0]["violated"][0]["limit"] is None


def test_conditional_limit_by_departure_time() -> None:
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    bridge = {
        **low_bridge(6, [e]),
        "kind": "bridge",
        "limits": [
            {
                "kind": "weight",
                "value": 20_000,
                "direction": "both",
                "conditional": "Mo-Fr 07:00-19:00",
            }
        ],
    }
    g, _ = grid_graph(3, structures=[bridge])
    truck = PRESETS["artic49t"]
    a, b = node_xy(3, 0, 0), node_xy(3, 0, 1)
    weekday = RouteOptions(departure=dt.datetime(2026, 11, 23, 10, 0))
    night = RouteOptions(departure=dt.datetime(2026, 11, 23, 22, 0))
    assert check_route(g, truck, a, b, weekday).route.length_m == pytest.approx(300.0)
    assert check_route(g, truck, a, b, night).route.length_m == pytest.approx(100.0)
    assert check_route(g, truck, a, b).route.length_m == pytest.approx(300.0)  # conservative


def test_closed_structure_blocks_everyone() -> None:
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    g, _ = grid_graph(3, structures=[low_bridge(8, [e], state="closed")])
    res = check_route(g, make_profile(preset="van"), node_xy(3, 0, 0), node_xy(3, 0, 1))
    assert res.route.length_m == pytest.approx(300.0)


def test_directional_limit() -> None:
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    s = low_bridge(10, [e], direction="forward")
    g, _ = grid_graph(3, structures=[s])
    truck = PRESETS["container40hc"]
    a, b = node_xy(3, 0, 0), node_xy(3, 0, 1)
    assert check_route(g, truck, a, b).route.length_m == pytest.approx(300.0)
    assert check_route(g, truck, b, a).route.length_m == pytest.approx(100.0)


def test_alternatives_avoid_areas_roads_and_structures() -> None:
    g = synthetic()
    car = make_profile(preset="van")
    rng = np.random.default_rng(3)
    i, j = (int(x) for x in rng.integers(g.n_nodes, size=2))
    o = (float(g.node_lon[i]), float(g.node_lat[i]))
    d = (float(g.node_lon[j]), float(g.node_lat[j]))
    best = check_route(g, car, o, d, RouteOptions(alternatives=3))
    assert 1 <= len(best.alternatives) <= 3
    for alt in best.alternatives:
        assert alt.cost >= best.route.cost - 1e-9
        assert not np.array_equal(alt.arcs, best.route.arcs)
    # avoid a box around the middle of the best route
    mid = best.route.arcs[len(best.route.arcs) // 2]
    xy = g.edge_coords(int(g.arc_edge[mid])).mean(axis=0)
    box = [
        (xy[0] - 0.0005, xy[1] - 0.0005),
        (xy[0] + 0.0005, xy[1] - 0.0005),
        (xy[0] + 0.0005, xy[1] + 0.0005),
        (xy[0] - 0.0005, xy[1] + 0.0005),
    ]
    avoid = check_route(g, car, o, d, RouteOptions(avoid_polygons=[box]))
    assert int(mid) not in set(avoid.route.arcs.tolist())
    road = g.edge_road_code[g.arc_edge[mid]]
    no_road = check_route(g, car, o, d, RouteOptions(avoid_roads=[road]))
    assert road not in {g.edge_road_code[g.arc_edge[a]] for a in no_road.route.arcs[1:-1]}
    with pytest.raises(RouteError, match="avoid_structures"):
        check_route(g, car, o, d, RouteOptions(avoid_structures=["nope"]))
    bad = [(0, 0), (1, 1), (1, 0), (0, 1)]
    with pytest.raises(RouteError, match="avoid_polygons"):
        check_route(g, car, o, d, RouteOptions(avoid_polygons=[bad]))


def test_scenario_blocked_arcs_and_modified_graph_copy() -> None:
    g, edge_of = grid_graph(3)
    car = make_profile(preset="van")
    a, b = node_xy(3, 0, 0), node_xy(3, 0, 1)
    blocked = np.zeros(g.n_arcs, bool)
    e = edge_of[(1, 2)] - 1
    blocked[[g.edge_fwd_arc[e], g.edge_bwd_arc[e]]] = True
    assert check_route(g, car, a, b, RouteOptions(blocked=blocked)).route.length_m == (
        pytest.approx(300.0)
    )
    lim = g.limits.copy()
    lim[0, [g.edge_fwd_arc[e], g.edge_bwd_arc[e]]] = 300
    h = dataclasses.replace(g, limits=lim, cache={})
    truck = PRESETS["container40hc"]
    assert check_route(h, truck, a, b).route.length_m == pytest.approx(300.0)
    assert check_route(g, truck, a, b).route.length_m == pytest.approx(100.0)


def test_snap_refused_beyond_radius_and_bad_coordinates() -> None:
    g, _ = grid_graph(3)
    car = make_profile(preset="van")
    far = (LON0 + 0.05, LAT0)
    with pytest.raises(SnapError, match="more than 500 m"):
        check_route(g, car, far, node_xy(3, 0, 0))
    with pytest.raises(RouteError) as info:
        check_route(g, car, (float("nan"), LAT0), node_xy(3, 0, 0))
    assert info.value.field == "origin.lon"
    with pytest.raises(RouteError, match="alternatives"):
        check_route(g, car, node_xy(3, 0, 0), node_xy(3, 1, 1), RouteOptions(alternatives=9))


def test_batch_returns_errors_per_pair() -> None:
    g, _ = grid_graph(3)
    car = make_profile(preset="van")
    out = check_routes(
        g, car, [(node_xy(3, 0, 0), node_xy(3, 2, 2)), ((LON0 + 1, LAT0), node_xy(3, 0, 0))]
    )
    assert out[0].route.length_m == pytest.approx(400.0)  # type: ignore[union-attr]
    assert isinstance(out[1], SnapError)


def test_avoid_structures_by_external_or_asset_id() -> None:
    _g0, edge_of = grid_graph(3)
    e = edge_of[(1, 2)]
    g, _ = grid_graph(3, structures=[low_bridge(12, [e], height_cm=900)])
    car = make_profile(preset="van")
    a, b = node_xy(3, 0, 0), node_xy(3, 0, 1)
    assert check_route(g, car, a, b).route.length_m == pytest.approx(100.0)
    for ident in ("B12", 12):
        res = check_route(g, car, a, b, RouteOptions(avoid_structures=[ident]))
        assert res.route.length_m == pytest.approx(300.0)
