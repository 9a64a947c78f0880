"""Route costs equal pgRouting's ``pgr_dijkstra`` with the same per-vehicle edge filter.

A generated network (5k edges, 3 % limited) is written into the test transaction; for
each vehicle the edges SQL gives pgRouting the same restrictions our compiled graph
applies (approved limits only, direction of link and limit, closed assets, edge-own
limits, unknown values passable), and both engines route the same OD node pairs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Connection, text

from loaders.synthetic import generate_network
from road_network import cch
from road_network.route import NoRouteError, RouteOptions, check_route
from road_network.vehicle import PRESETS, VehicleProfile
from twin.services import routing
from twin.services.routing import pgrouting_edges_sql as vehicle_edges_sql
from twin.services.synthetic import load_synthetic


@pytest.fixture(autouse=True, scope="module")
def _cch_on_first_use() -> Iterator[None]:
    """Customize every mask at its first use, so these tests run the CCH engine (masks
    used once would otherwise take the ALT search)."""
    before = cch.CUSTOMIZE_AFTER
    cch.CUSTOMIZE_AFTER = 1
    yield
    cch.CUSTOMIZE_AFTER = before


def pgr_costs(conn: Connection, v: VehicleProfile, pairs: list[tuple[int, int]]) -> dict:
    combos = ", ".join(f"({a}, {b})" for a, b in pairs)
    rows = conn.execute(
        text(
            "SELECT start_vid, end_vid, max(agg_cost) FROM pgr_dijkstra(:edges, "
            ":combos, directed => true) GROUP BY 1, 2"
        ),
        {
            "edges": vehicle_edges_sql(v),
            "combos": f"SELECT * FROM (VALUES {combos}) AS t(source, target)",
        },
    ).all()
    return {(int(a), int(b)): float(c) for a, b, c in rows}


@pytest.mark.slow
def test_costs_equal_pgrouting(connection: Connection) -> None:
    if not connection.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'pgrouting'")
    ).first():
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
    routing.invalidate()
    net = generate_network(5_000, seed=21)
    res = load_synthetic(connection, edges=5_000, seed=21, network=net)
    g = routing.compile_graph(connection, landmarks=8)
    rng = np.random.default_rng(5)
    random_truck = VehicleProfile(
        height_cm=int(rng.integers(300, 480)),
        width_cm=int(rng.integers(240, 380)),
        length_cm=1600,
        gross_weight_kg=int(rng.integers(10_000, 60_000)),
        axle_load_kg=int(rng.integers(8_000, 13_000)),
        name="random",
    )
    checked = 0
    for v in (PRESETS["container40hc"], PRESETS["artic49t"], random_truck):
        idx = rng.integers(net.n_nodes, size=(35, 2))
        pairs = [(res.node_id_start + int(a), res.node_id_start + int(b)) for a, b in idx if a != b]
        expected = pgr_costs(connection, v, pairs)
        for a, b in pairs:
            # node positions as stored (1e-7 degree), so the points sit exactly on nodes
            ia, ib = (int(np.searchsorted(g.node_ids, x)) for x in (a, b))
            o = (float(g.node_lon[ia]), float(g.node_lat[ia]))
            d = (float(g.node_lon[ib]), float(g.node_lat[ib]))
            want = expected.get((a, b), math.inf)
            try:
                got = check_route(g, v, o, d, RouteOptions(explain=False)).route.cost
            except NoRouteError:
                got = math.inf
            if math.isinf(want):
                assert math.isinf(got), (v.name, a, b, got)
                continue
            assert got == pytest.approx(want, rel=1e-6), (v.name, a, b)
            checked += 1
    assert checked >= 90
