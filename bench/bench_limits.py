"""Structure limit lookups on 100,000 structures (DESIGN.md target: p50 < 5 ms).

A scratch database ``roadtwin_bench_limits`` of the embedded cluster (or
``TWIN_DATABASE_URL``) gets 60 roads across the Tianjin area and 100,000 structures
(bridges, tunnels, underpasses, height restrictors) spread along them with stakes and 1–2
approved limits each — generated in SQL, seeded, reused on later runs. Then, for 200
random structures, the four lookups of ``twin.services.limits`` (the functions behind
``GET /limits`` and ``GET /structures/{id}``), each returning full rows with their limits:

- ``bbox``: structures with limits in a ~1 km x 1 km box around the structure;
- ``near``: within 300 m of its position, nearest first;
- ``road``: on its road within +-1 km of its stake;
- ``id``: the structure by id with its limits and edges.

Peer in the same run on the same data: a GeoPandas table in memory filtered with ``.cx``
(bbox) / a distance filter (near) / boolean masks (road, id) — what an analyst would do
with the data in a notebook (it does not have to go to a database, so it is a demanding
peer for small answers). (A run of the same SQL with index scans turned off was dropped:
at this size it was no slower, the time going to returning rows rather than finding them.)

Run: ``make bench-limits`` or ``.venv/bin/python bench/bench_limits.py [--queries 200]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import bench_settings, cpu_info, emit, percentile

BENCH_DB = "roadtwin_bench_limits"
STRUCTURES = 100_000
ROADS = 60
SEED = 7


def _settings() -> Any:
    return bench_settings(BENCH_DB)


_GENERATE = """
SELECT setseed(:seed);
INSERT INTO road (code, name_en, road_class, geom, stake_start_m, chain_breaks, source)
SELECT 'B' || r, 'bench road ' || r, 'trunk',
       ST_Multi(ST_MakeLine(ST_MakePoint(116.8 + random() * 1.2, 38.6 + random() * 1.4),
                            ST_MakePoint(116.8 + random() * 1.2, 38.6 + random() * 1.4))),
       0, '[]'::jsonb, '{"dataset": "bench_limits"}'::jsonb
FROM generate_series(1, :roads) r;
INSERT INTO asset (external_id, kind, road_id, road_code, stake_m, geom, attributes,
                   lifecycle_state, source)
SELECT 'bench:' || i,
       (ARRAY['bridge', 'tunnel', 'underpass', 'height_restrictor'])[1 + (i % 4)],
       r.id, r.code, f * ST_Length(r.geom::geography),
       ST_LineInterpolatePoint(ST_GeometryN(r.geom, 1), f), '{}'::jsonb, 'in_service',
       '{"dataset": "bench_limits"}'::jsonb
FROM (SELECT i, 1 + (i % :roads) AS rn, random() AS f
      FROM generate_series(1, :n) i) s
JOIN road r ON r.code = 'B' || s.rn;
INSERT INTO structure_limit (asset_id, kind, value, unlimited, source_kind, status, direction,
                             source)
SELECT id, 'height', 350 + (random() * 200)::int, false, 'sign', 'approved', 'both', '{}'::jsonb
FROM asset WHERE source->>'dataset' = 'bench_limits';
INSERT INTO structure_limit (asset_id, kind, value, unlimited, source_kind, status, direction,
                             source)
SELECT id, 'weight', (20 + (random() * 35)::int) * 1000, false, 'sign', 'approved', 'both', '{}'::jsonb
FROM asset WHERE source->>'dataset' = 'bench_limits' AND random() < 0.5;
ANALYZE road; ANALYZE asset; ANALYZE structure_limit;
"""


def _ensure_data(engine: Any) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        have = conn.execute(
            text("SELECT count(*) FROM asset WHERE source->>'dataset' = 'bench_limits'")
        ).scalar_one()
        if have == STRUCTURES:
            return
        t0 = time.perf_counter()
        conn.execute(text("TRUNCATE road, asset, structure_limit, asset_edge CASCADE"))
        for stmt in _GENERATE.split(";\n"):
            if stmt.strip():
                conn.execute(text(stmt), {"seed": SEED / 100, "roads": ROADS, "n": STRUCTURES})
        print(f"generated {STRUCTURES:,} structures in {time.perf_counter() - t0:.1f} s")


def _picks(engine: Any, n: int) -> list[dict[str, Any]]:
    from sqlalchemy import text

    rng = np.random.default_rng(SEED)
    with engine.connect() as conn:
        ids = [int(i) for i in rng.choice(STRUCTURES, size=n, replace=False) + 1]
        rows = conn.execute(
            text(
                "SELECT id, road_code, stake_m, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                "FROM asset WHERE external_id = ANY(:e)"
            ),
            {"e": [f"bench:{i}" for i in ids]},
        ).mappings()
        return [dict(r) for r in rows]


def _calls(conn: Any) -> dict[str, Callable[[dict[str, Any]], Any]]:
    from twin.services import limits as routing

    return {
        "bbox": lambda s: routing.limits_in_bbox(
            conn, (s["lon"] - 0.006, s["lat"] - 0.0045, s["lon"] + 0.006, s["lat"] + 0.0045)
        ),
        "near": lambda s: routing.limits_near(conn, s["lon"], s["lat"], radius_m=300),
        "road": lambda s: routing.limits_on_road(
            conn, s["road_code"], stake_from_m=s["stake_m"] - 1000, stake_to_m=s["stake_m"] + 1000
        ),
        "id": lambda s: routing.structure_by_id(conn, s["id"]),
    }


def _time(
    fn: Callable[[dict[str, Any]], Any], picks: list[dict[str, Any]]
) -> tuple[list[float], int]:
    fn(picks[0])  # warm
    times, found = [], 0
    for s in picks:
        t0 = time.perf_counter()
        res = fn(s)
        times.append(time.perf_counter() - t0)
        found += len(res) if isinstance(res, list) else 1
    return times, found


def _geopandas_peer(engine: Any) -> dict[str, Callable[[dict[str, Any]], Any]]:
    import geopandas as gpd
    import shapely

    t0 = time.perf_counter()
    gdf = gpd.read_postgis(
        "SELECT a.id, a.road_code, a.stake_m, a.geom, "
        "json_agg(json_build_object('kind', l.kind, 'value', l.value)) AS limits "
        "FROM asset a JOIN structure_limit l ON l.asset_id = a.id "
        "WHERE a.source->>'dataset' = 'bench_limits' GROUP BY a.id",
        engine,
        geom_col="geom",
    )
    gdf.sindex  # noqa: B018  (build the spatial index up front, as a notebook would)
    metric = gdf.to_crs(32650)
    print(f"geopandas peer: {len(gdf):,} rows read in {time.perf_counter() - t0:.1f} s")

    def near(s: dict[str, Any]) -> Any:
        p = gpd.GeoSeries([shapely.Point(s["lon"], s["lat"])], crs=4326).to_crs(32650).iloc[0]
        d = metric.geometry.distance(p)
        return gdf[d <= 300].assign(d=d[d <= 300]).sort_values("d").to_dict("records")

    return {
        "bbox": lambda s: gdf.cx[
            s["lon"] - 0.006 : s["lon"] + 0.006, s["lat"] - 0.0045 : s["lat"] + 0.0045
        ].to_dict("records"),
        "near": near,
        "road": lambda s: (
            gdf[
                (gdf.road_code == s["road_code"])
                & gdf.stake_m.between(s["stake_m"] - 1000, s["stake_m"] + 1000)
            ]
            .sort_values("stake_m")
            .to_dict("records")
        ),
        "id": lambda s: gdf[gdf.id == s["id"]].to_dict("records")[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=200, help="random structures looked up")
    args = ap.parse_args()

    from twin import db as dbm

    settings = _settings()
    engine = dbm.get_engine(settings)
    _ensure_data(engine)
    picks = _picks(engine, args.queries)
    print(f"{cpu_info()}; {STRUCTURES:,} structures on {ROADS} roads; {len(picks)} lookups each")
    fig: dict[str, Any] = {"structures": STRUCTURES, "queries": len(picks)}
    with engine.connect() as conn:
        for name, fn in _calls(conn).items():
            times, found = _time(fn, picks)
            fig[f"{name}_p50_ms"] = round(percentile(times, 50) * 1e3, 2)
            fig[f"{name}_p99_ms"] = round(percentile(times, 99) * 1e3, 2)
            fig[f"{name}_mean_results"] = round(found / len(picks), 1)
    for name, fn in _geopandas_peer(engine).items():
        times, _ = _time(fn, picks)
        fig[f"{name}_geopandas_p50_ms"] = round(percentile(times, 50) * 1e3, 2)
        fig[f"x_geopandas_{name}"] = round(
            fig[f"{name}_geopandas_p50_ms"] / fig[f"{name}_p50_ms"], 1
        )
    for name in ("bbox", "near", "road", "id"):
        print(
            f"{name:5s} p50 {fig[f'{name}_p50_ms']:6.2f} ms (p99 {fig[f'{name}_p99_ms']:6.2f}, "
            f"{fig[f'{name}_mean_results']:5.1f} rows) | geopandas {fig[f'{name}_geopandas_p50_ms']:7.2f} ms "
            f"(x{fig[f'x_geopandas_{name}']})"
        )
    fig["p50_ms_max"] = max(fig[f"{n}_p50_ms"] for n in ("bbox", "near", "road", "id"))
    fig["target_met"] = fig["p50_ms_max"] < 5.0
    fig["median_of_p50_ms"] = statistics.median(
        fig[f"{n}_p50_ms"] for n in ("bbox", "near", "road", "id")
    )
    emit("limits", fig)


if __name__ == "__main__":
    main()
