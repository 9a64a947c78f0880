"""Heavy-vehicle route check: our engine against pgRouting and networkx, same graph, same pairs.

Setup (not timed): the seeded 100k-edge generated network (3 % of edges under structures
with limits) is written into a separate ``roadtwin_bench`` database of the embedded
cluster, and compiled from PostGIS exactly as the API does.

Timed, for the 40 ft high-cube container truck on the same random OD node pairs:

- ``ours``: ``road_network.route.check_route`` end to end (snapping, passable mask,
  CCH search customized for the truck's mask, structures passed, unrestricted route +
  blocking structures when the direct route is illegal), the legal search alone
  (``explain=False``), and the same checks with the ALT engine (``route.ENGINE = "alt"``);
- ``pgrouting``: ``pgr_dijkstra`` with the per-vehicle edge SQL filter
  (``twin.services.routing.pgrouting_edges_sql``), one call per pair, as a client would;
- ``networkx``: ``bidirectional_dijkstra`` on the vehicle-filtered DiGraph (built once,
  not timed).

Costs of all three must agree (1e-6 relative). Additionally 1,000 random pairs with
random vehicles are compared with pgRouting (one combinations call per vehicle; ours
through the CCH customized for each vehicle). Also reported: the CCH node order time (at
compile), the CCH topology build and one customization (medians of 3).
``--million`` adds the 1M-edge figures (generate + compile time, CCH order, build and
customization, memory, p50) without the database.

Run: ``make bench-route`` or ``.venv/bin/python bench/bench_route.py [--pairs N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import statistics
import time
from typing import Any

import numpy as np
from _common import bench_settings, cpu_info, emit, percentile

BENCH_DB = "roadtwin_bench"
EDGES = 100_000
SEED = 1
REPEATS = 7


def _settings() -> Any:
    return bench_settings(BENCH_DB)


def _ensure_network(engine: Any) -> None:
    from sqlalchemy import text

    from twin.services.synthetic import load_synthetic

    dataset = f"synthetic:{EDGES}:{SEED}"
    with engine.begin() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM road_edge WHERE source->>'dataset' = :d"), {"d": dataset}
        ).scalar()
        total = conn.execute(text("SELECT count(*) FROM road_edge")).scalar()
        if n and n == total:
            return
        conn.execute(text("TRUNCATE road_edge, road_node, road, asset CASCADE"))
        t0 = time.perf_counter()
        res = load_synthetic(conn, edges=EDGES, seed=SEED)
        print(
            f"loaded {res.edges:,} edges, {res.assets:,} structures in {time.perf_counter() - t0:.1f} s"
        )
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))


def _time(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _nx_graph(g: Any, mask: np.ndarray) -> Any:
    import networkx as nx

    G = nx.DiGraph()
    for a in np.flatnonzero(mask):
        u, v, w = int(g.tail[a]), int(g.head[a]), float(g.arc_time_s[a])
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w)
    return G


def run_main(pairs_n: int) -> dict[str, Any]:
    import networkx as nx
    from sqlalchemy import text

    from road_network import cch
    from road_network import route as route_mod
    from road_network.mask import passable_mask
    from road_network.route import NoRouteError, RouteOptions, check_route
    from road_network.vehicle import PRESETS
    from twin import db as dbm
    from twin.services import routing

    settings = _settings()
    engine = dbm.get_engine(settings)
    _ensure_network(engine)
    with engine.connect() as conn:
        compile_s, g = _time(lambda: routing.compile_graph(conn))
    order_s, _ = _time(lambda: cch.compute_order(g.n_nodes, g.tail, g.head, g.node_lat, g.node_lon))
    print(
        f"compiled {g.n_edges:,} edges / {g.n_arcs:,} arcs / {len(g.structures):,} structures "
        f"from PostGIS in {compile_s:.2f} s (of which the CCH order {order_s:.2f} s)"
    )
    cch.prepare(g)
    truck = PRESETS["container40hc"]
    mask = passable_mask(g, truck)
    limited = {
        int(g.arc_edge[a]) for a in range(g.n_arcs) if g.arc_struct_ptr[a + 1] > g.arc_struct_ptr[a]
    }
    print(
        f"edges under structures: {len(limited) / g.n_edges:.1%}; arcs closed to the truck: "
        f"{int((mask == 0).sum()):,}"
    )
    rng = np.random.default_rng(42)
    pairs = [tuple(int(x) for x in rng.integers(g.n_nodes, size=2)) for _ in range(pairs_n)]
    xy = lambda i: (float(g.node_lon[i]), float(g.node_lat[i]))  # noqa: E731

    # warm-up (numba compile from cache, snap index, masks)
    for i, j in pairs[:5]:
        with contextlib.suppress(NoRouteError):
            check_route(g, truck, xy(i), xy(j))

    def ours(explain: bool) -> tuple[list[float], list[float], list[float]]:
        """Wall and CPU seconds per pair (CPU: ``time.process_time``, which a loaded
        machine inflates far less than wall time), and the costs."""
        times, cpu, costs = [], [], []
        opts = RouteOptions(explain=explain)
        for i, j in pairs:
            c0 = time.process_time()
            t0 = time.perf_counter()
            try:
                c = check_route(g, truck, xy(i), xy(j), opts).route.cost
            except NoRouteError:
                c = math.inf
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            costs.append(c)
        return times, cpu, costs

    # medians of repeated runs per pair
    searches0 = dict(route_mod.SEARCHES)
    reps = [ours(True) for _ in range(REPEATS)]
    t_full = [statistics.median(r[0][k] for r in reps) for k in range(pairs_n)]
    c_full = [statistics.median(r[1][k] for r in reps) for k in range(pairs_n)]
    costs = reps[0][2]
    reps = [ours(False) for _ in range(REPEATS)]
    t_search = [statistics.median(r[0][k] for r in reps) for k in range(pairs_n)]
    c_search = [statistics.median(r[1][k] for r in reps) for k in range(pairs_n)]
    by_cch = route_mod.SEARCHES["cch"] - searches0["cch"]
    by_alt = route_mod.SEARCHES["alt"] - searches0["alt"]
    # the same checks with the ALT engine (the previous engine, and the fallback)
    route_mod.ENGINE = "alt"
    try:
        reps = [ours(True) for _ in range(3)]
    finally:
        route_mod.ENGINE = "cch"
    t_alt = [statistics.median(r[0][k] for r in reps) for k in range(pairs_n)]
    eq_alt = all(
        (math.isinf(a) and math.isinf(b)) or abs(a - b) <= 1e-6 * max(1.0, abs(b))
        for a, b in zip(costs, reps[0][2], strict=True)
    )
    cch_fig = _cch_figures(g, mask)

    # pgRouting, one call per pair with the per-vehicle SQL filter
    edges_sql = routing.pgrouting_edges_sql(truck)
    t_pgr, c_pgr = [], []
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        for i, j in pairs:
            a, b = int(g.node_ids[i]), int(g.node_ids[j])
            t0 = time.perf_counter()
            rows = conn.execute(
                text("SELECT max(agg_cost) FROM pgr_dijkstra(:sql, :a, :b, directed => true)"),
                {"sql": edges_sql, "a": a, "b": b},
            ).scalar()
            t_pgr.append(time.perf_counter() - t0)
            c_pgr.append(math.inf if rows is None else float(rows))

    # networkx on the filtered graph
    G = _nx_graph(g, mask)
    t_nx, cost_nx, c_nx = [], [], []
    for i, j in pairs:
        c0 = time.process_time()
        t0 = time.perf_counter()
        try:
            c = nx.bidirectional_dijkstra(G, i, j, weight="weight")[0] if i != j else 0.0
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            c = math.inf
        t_nx.append(time.perf_counter() - t0)
        c_nx.append(time.process_time() - c0)
        cost_nx.append(float(c))

    def same(a: float, b: float) -> bool:
        return (math.isinf(a) and math.isinf(b)) or abs(a - b) <= 1e-6 * max(1.0, abs(b))

    eq_pgr = all(same(a, b) for a, b in zip(costs, c_pgr, strict=True))
    eq_nx = all(same(a, b) for a, b in zip(costs, cost_nx, strict=True))
    bad = [
        (k, costs[k], c_pgr[k], cost_nx[k]) for k in range(pairs_n) if not same(costs[k], c_pgr[k])
    ]
    if bad:
        print("cost mismatches (ours, pgrouting, networkx):", bad[:5])

    # 1,000 random pairs x random vehicles against pgRouting (combinations call)
    eq_1000, n_1000 = _costs_1000(g, engine, rng)

    lookups = _lookups(engine, g, rng)

    p50 = percentile(t_full, 50) * 1e3
    fig = {
        "edges": g.n_edges,
        "arcs": g.n_arcs,
        "structures": len(g.structures),
        "pairs": pairs_n,
        "vehicle": truck.name,
        "p50_ms": round(p50, 3),
        "p99_ms": round(percentile(t_full, 99) * 1e3, 3),
        "cpu_p50_ms": round(percentile(c_full, 50) * 1e3, 3),
        "cpu_p99_ms": round(percentile(c_full, 99) * 1e3, 3),
        "cpu_mean_ms": round(statistics.fmean(c_full) * 1e3, 3),
        "search_p50_ms": round(percentile(t_search, 50) * 1e3, 3),
        "search_p99_ms": round(percentile(t_search, 99) * 1e3, 3),
        "search_cpu_p50_ms": round(percentile(c_search, 50) * 1e3, 3),
        "alt_p50_ms": round(percentile(t_alt, 50) * 1e3, 3),
        "alt_p99_ms": round(percentile(t_alt, 99) * 1e3, 3),
        "x_alt": round(percentile(t_alt, 50) * 1e3 / p50, 2),
        "searches_cch": by_cch,
        "searches_alt": by_alt,
        "cch_order_s": round(order_s, 2),
        **cch_fig,
        "pgrouting_p50_ms": round(percentile(t_pgr, 50) * 1e3, 2),
        "networkx_p50_ms": round(percentile(t_nx, 50) * 1e3, 2),
        "x_pgrouting": round(percentile(t_pgr, 50) * 1e3 / p50, 1),
        "x_networkx": round(percentile(t_nx, 50) * 1e3 / p50, 1),
        "networkx_cpu_p50_ms": round(percentile(c_nx, 50) * 1e3, 2),
        "x_networkx_cpu": round(percentile(c_nx, 50) / percentile(c_full, 50), 1),
        "costs_equal": bool(eq_pgr and eq_nx and eq_1000 and eq_alt),
        "costs_equal_pgrouting_random_vehicles": n_1000,
        "compile_s": round(compile_s, 2),
        **lookups,
        "machine": cpu_info(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(
        f"\nCCH: {by_cch} searches ({by_alt} by ALT: per-request masks and no-route answers); "
        f"order {order_s:.2f} s, topology {fig['cch_build_s']} s, customization "
        f"{fig['cch_customize_s']} s | ALT engine p50 {fig['alt_p50_ms']} ms (p99 "
        f"{fig['alt_p99_ms']}; CCH x{fig['x_alt']})"
    )
    print(
        f"route check p50 {fig['p50_ms']} ms (p99 {fig['p99_ms']}; CPU p50 "
        f"{fig['cpu_p50_ms']} ms, mean {fig['cpu_mean_ms']} ms), search only p50 "
        f"{fig['search_p50_ms']} ms | pgRouting p50 {fig['pgrouting_p50_ms']} ms "
        f"(x{fig['x_pgrouting']}) | networkx p50 {fig['networkx_p50_ms']} ms (x{fig['x_networkx']})"
        f" | costs equal: {fig['costs_equal']} ({n_1000} random-vehicle pairs vs pgRouting)"
    )
    return fig


def _cch_figures(g: Any, mask: np.ndarray) -> dict[str, Any]:
    """CCH topology build and one customization (medians of 3), and a metric's size."""
    from road_network import cch

    build = []
    for _ in range(3):
        t0 = time.perf_counter()
        cch._rk().CCH(g.cch_order.tolist(), g.tail.tolist(), g.head.tolist(), False)
        build.append(time.perf_counter() - t0)
    custom = []
    topo = cch.topology(g)
    for _ in range(3):
        t0 = time.perf_counter()
        cch._rk().CCHMetric(topo, cch.weights(g, mask, "time").tolist())
        custom.append(time.perf_counter() - t0)
    return {
        "cch_build_s": round(statistics.median(build), 3),
        "cch_customize_s": round(statistics.median(custom), 3),
    }


def _lookups(engine: Any, g: Any, rng: np.random.Generator) -> dict[str, Any]:
    """p50 of the limit lookups (bbox ~1 km, point + 300 m, road + 2 km stake range, id)."""
    from twin.services import routing

    structs = g.structures
    picks = [structs[int(i)] for i in rng.integers(len(structs), size=50)]
    out: dict[str, Any] = {"lookup_structures": len(structs)}
    with engine.connect() as conn:
        calls = {
            "bbox": lambda s: routing.limits_in_bbox(
                conn, (s.lon - 0.006, s.lat - 0.0045, s.lon + 0.006, s.lat + 0.0045)
            ),
            "near": lambda s: routing.limits_near(conn, s.lon, s.lat, radius_m=300),
            "road": lambda s: routing.limits_on_road(
                conn,
                s.road_code,
                stake_from_m=(s.stake_m or 0) - 1000,
                stake_to_m=(s.stake_m or 0) + 1000,
            ),
            "id": lambda s: routing.structure_by_id(conn, s.id),
        }
        for name, fn in calls.items():
            fn(picks[0])
            times = []
            for s in picks:
                t0 = time.perf_counter()
                fn(s)
                times.append(time.perf_counter() - t0)
            out[f"lookup_{name}_p50_ms"] = round(percentile(times, 50) * 1e3, 2)
    print("limit lookups:", out)
    return out


def _costs_1000(g: Any, engine: Any, rng: np.random.Generator) -> tuple[bool, int]:
    from sqlalchemy import text

    from road_network import cch
    from road_network.mask import passable_mask
    from road_network.route import search
    from road_network.vehicle import VehicleProfile
    from twin.services import routing

    ok = True
    n = 0
    after, cch.CUSTOMIZE_AFTER = cch.CUSTOMIZE_AFTER, 1  # each vehicle's mask customized
    with engine.connect() as conn:
        for _ in range(10):
            v = VehicleProfile(
                height_cm=int(rng.integers(300, 480)),
                width_cm=int(rng.integers(240, 380)),
                length_cm=int(rng.integers(1000, 2200)),
                gross_weight_kg=int(rng.integers(10_000, 60_000)),
                axle_load_kg=int(rng.integers(8_000, 13_000)),
            )
            mask = passable_mask(g, v)
            idx = rng.integers(g.n_nodes, size=(100, 2))
            combos = ", ".join(
                f"({int(g.node_ids[a])}, {int(g.node_ids[b])})" for a, b in idx if a != b
            )
            rows = conn.execute(
                text(
                    "SELECT start_vid, end_vid, max(agg_cost) FROM pgr_dijkstra(:e, :c, "
                    "directed => true) GROUP BY 1, 2"
                ),
                {
                    "e": routing.pgrouting_edges_sql(v),
                    "c": f"SELECT * FROM (VALUES {combos}) AS t(source, target)",
                },
            ).all()
            want = {(int(a), int(b)): float(c) for a, b, c in rows}
            for a, b in idx:
                if a == b:
                    continue
                c, _, _ = search(
                    g, mask, np.array([a]), np.zeros(1), np.array([b]), np.zeros(1), metric="time"
                )
                w = want.get((int(g.node_ids[a]), int(g.node_ids[b])), math.inf)
                same = (math.isinf(c) and math.isinf(w)) or abs(c - w) <= 1e-6 * max(1.0, w)
                ok &= same
                n += 1
    cch.CUSTOMIZE_AFTER = after
    return ok, n


def run_million(pairs_n: int) -> dict[str, Any]:
    import psutil

    from loaders.synthetic import generate_network, to_graph_inputs
    from road_network import cch
    from road_network.graph import METRICS, build_graph
    from road_network.mask import passable_mask
    from road_network.route import NoRouteError, check_route
    from road_network.vehicle import PRESETS

    proc = psutil.Process()
    gc.collect()
    rss0 = proc.memory_info().rss
    t0 = time.perf_counter()
    net = generate_network(1_000_000, seed=SEED)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = build_graph(**to_graph_inputs(net), cch=False)  # type: ignore[arg-type]
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    g.cch_order = cch.compute_order(g.n_nodes, g.tail, g.head, g.node_lat, g.node_lon)
    g.cch_bound = {m: cch.distance_bound(g, m) for m in METRICS}
    order_s = time.perf_counter() - t0
    del net
    gc.collect()
    rss1 = proc.memory_info().rss
    t0 = time.perf_counter()
    cch.topology(g)
    topo_s = time.perf_counter() - t0
    rss2 = proc.memory_info().rss
    truck = PRESETS["container40hc"]
    t0 = time.perf_counter()
    cch.prepare(g)  # the all-arcs metric (comparison route)
    cch.customize(g, passable_mask(g, truck), "time")
    custom_s = (time.perf_counter() - t0) / 2
    rss3 = proc.memory_info().rss
    rng = np.random.default_rng(7)
    pairs = [tuple(int(x) for x in rng.integers(g.n_nodes, size=2)) for _ in range(pairs_n)]
    xy = lambda i: (float(g.node_lon[i]), float(g.node_lat[i]))  # noqa: E731
    from road_network import route as route_mod

    times, cpu = [], []
    searches0 = dict(route_mod.SEARCHES)
    for k, (i, j) in enumerate(pairs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        with contextlib.suppress(NoRouteError):
            check_route(g, truck, xy(i), xy(j))
        if k >= 3:  # first calls build the snap index
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    fig = {
        "m_edges": g.n_edges,
        "m_generate_s": round(gen_s, 1),
        "m_compile_s": round(build_s + order_s, 1),
        "m_cch_order_s": round(order_s, 1),
        "m_cch_build_s": round(topo_s, 2),
        "m_cch_customize_s": round(custom_s, 2),
        "m_graph_mb": round((rss1 - rss0) / 2**20),
        "m_cch_topology_mb": round((rss2 - rss1) / 2**20),
        "m_cch_metric_mb": round((rss3 - rss2) / 2 / 2**20),
        "m_rss_mb": round(proc.memory_info().rss / 2**20),
        "m_p50_ms": round(percentile(times, 50) * 1e3, 2),
        "m_p99_ms": round(percentile(times, 99) * 1e3, 2),
        "m_cpu_p50_ms": round(percentile(cpu, 50) * 1e3, 2),
        # ALT searches: no-route answers confirmed before the mask's reachability
        # customization (25 s here) has paid off, see road_network/cch.py
        "m_searches_alt": route_mod.SEARCHES["alt"] - searches0["alt"],
        "m_searches_cch": route_mod.SEARCHES["cch"] - searches0["cch"],
    }
    print(f"1M network: {fig}")
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--million", action="store_true", help="also measure the 1M-edge network")
    args = ap.parse_args()
    fig = run_main(args.pairs)
    if args.million:
        fig.update(run_million(args.pairs))
    emit("route", fig)


if __name__ == "__main__":
    main()
