"""Planner scenarios: resolve what the planner names (assets, edges, a flood raster,
villages, port flows) into the plain arrays of :mod:`road_network.scenario`, evaluate,
and keep the result in the ``scenario`` table.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from road_network.graph import CompiledGraph
from road_network.route import RouteOptions
from road_network.scenario import LimitChange, Place, Scenario, ScenarioError, Trip, evaluate
from road_network.vehicle import VehicleProfile
from twin.errors import InputError, NotFound
from twin.services import routing
from twin.settings import Settings

MAIN_ROAD_CLASSES = ("motorway", "trunk", "primary")
#: Edges are sampled for water depth every this many metres.
FLOOD_STEP_M = 20.0
MAX_DEFAULT_TRIPS = 12


@dataclass
class ScenarioRequest:
    """A planner's scenario as the API and CLI take it.

    Attributes
    ----------
    close_assets:
        Asset ids or external ids (bridges, tunnels ...) closed to all traffic.
    close_edges:
        Road edge database ids closed in both directions.
    limit_changes:
        Limits posted lower: ``LimitChange(asset id or external id, kind, value cm/kg)``.
    flood_raster_id:
        A registered ``water_depth`` raster; edges deeper than ``max_wading_depth_m`` close.
    trips:
        Origin/destination pairs to compare; None: the default port flows (each port gate
        to the inland end of every motorway and trunk road).
    """

    name: str
    vehicle: VehicleProfile
    close_assets: list[int | str] = field(default_factory=list)
    close_edges: list[int] = field(default_factory=list)
    limit_changes: list[LimitChange] = field(default_factory=list)
    flood_raster_id: int | None = None
    max_wading_depth_m: float = 0.3
    trips: list[Trip] | None = None
    villages: bool = True
    metric: str = "time"
    save: bool = True
    actor: str | None = None


def run_scenario(conn: Connection, settings: Settings, req: ScenarioRequest) -> dict[str, Any]:
    """Evaluate ``req`` on the current network; returns the result (with ``id`` when saved).

    Raises
    ------
    InputError
        Unknown assets/edges, a raster that is not a water-depth raster, bad values.
    NotFound
        The flood raster does not exist.
    """
    t0 = time.perf_counter()
    g = routing.get_graph(settings, conn)
    scenario = Scenario(
        name=req.name,
        closed_edges=_edge_indices(g, req.close_edges),
        closed_structures=list(req.close_assets),
        limit_changes=list(req.limit_changes),
        edge_water_depth_m=(
            None if req.flood_raster_id is None else edge_water_depth(conn, g, req.flood_raster_id)
        ),
        max_wading_depth_m=req.max_wading_depth_m,
    )
    trips = req.trips if req.trips is not None else default_trips(conn)
    places = villages(conn) if req.villages else []
    try:
        result = evaluate(
            g,
            scenario,
            req.vehicle,
            trips=trips,
            places=places,
            hub_nodes=hub_nodes(conn, g) if places else None,
            options=RouteOptions(metric=req.metric),
        )
    except ScenarioError as exc:
        raise InputError(str(exc), details={"field": exc.field}) from exc
    result["params"] = _params(req)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    result["graph_version"] = g.version
    if req.save:
        result["id"] = _save(conn, req, result)
    return result


def _params(req: ScenarioRequest) -> dict[str, Any]:
    return {
        "close_assets": [str(a) for a in req.close_assets],
        "close_edges": list(req.close_edges),
        "limit_changes": [dataclasses.asdict(c) for c in req.limit_changes],
        "flood_raster_id": req.flood_raster_id,
        "max_wading_depth_m": req.max_wading_depth_m,
        "vehicle": req.vehicle.to_dict(),
        "metric": req.metric,
    }


def _kind(req: ScenarioRequest) -> str:
    kinds = [
        k
        for k, on in (
            ("closure", req.close_assets or req.close_edges),
            ("flood", req.flood_raster_id is not None),
            ("limit", req.limit_changes),
        )
        if on
    ]
    return "+".join(kinds) or "baseline"


def _save(conn: Connection, req: ScenarioRequest, result: dict[str, Any]) -> int:
    row = conn.execute(
        text(
            "INSERT INTO scenario (name, kind, params, result, status, created_by) "
            "VALUES (:n, :k, CAST(:p AS jsonb), CAST(:r AS jsonb), 'done', :by) RETURNING id"
        ),
        {
            "n": req.name,
            "k": _kind(req),
            "p": json.dumps(result["params"]),
            "r": json.dumps({k: v for k, v in result.items() if k != "params"}),
            "by": req.actor,
        },
    ).scalar_one()
    return int(row)


def get_scenario(conn: Connection, scenario_id: int) -> dict[str, Any]:
    """A saved scenario with its result."""
    row = (
        conn.execute(
            text(
                "SELECT id, name, kind, params, result, status, created_by, created_at "
                "FROM scenario WHERE id = :i"
            ),
            {"i": scenario_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"scenario {scenario_id} does not exist")
    return {**dict(row), "created_at": row["created_at"].isoformat()}


def list_scenarios(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """Saved scenarios, newest first, with their summaries."""
    rows = conn.execute(
        text(
            "SELECT id, name, kind, status, created_by, created_at, result->'summary' AS summary "
            "FROM scenario ORDER BY id DESC LIMIT :l"
        ),
        {"l": limit},
    ).mappings()
    return [{**dict(r), "created_at": r["created_at"].isoformat()} for r in rows]


# --------------------------------------------------------------------------- resolving
def _edge_indices(g: CompiledGraph, edge_ids: list[int]) -> list[int]:
    if not edge_ids:
        return []
    index = {int(e): i for i, e in enumerate(g.edge_ids)}
    missing = [e for e in edge_ids if int(e) not in index]
    if missing:
        raise InputError(
            f"close_edges: edge(s) {missing[:10]} are not on the network",
            details={"field": "close_edges"},
        )
    return [index[int(e)] for e in edge_ids]


def edge_water_depth(conn: Connection, g: CompiledGraph, raster_id: int) -> np.ndarray:
    """Deepest water (m) along each graph edge, sampled every ``FLOOD_STEP_M`` metres."""
    from loaders.raster import sample

    row = conn.execute(
        text("SELECT kind, path FROM raster_layer WHERE id = :i"), {"i": raster_id}
    ).first()
    if row is None:
        raise NotFound(
            f"raster {raster_id} does not exist", hint="see GET /rasters or twin db status"
        )
    if row.kind != "water_depth":
        raise InputError(
            f"flood_raster_id={raster_id}: raster is a {row.kind} raster, "
            "a water_depth raster is needed",
            details={"field": "flood_raster_id"},
        )
    pts, owner = _densify(g, FLOOD_STEP_M)
    values = np.array([np.nan if v is None else v for v in sample(row.path, pts)], float)
    depth = np.zeros(g.n_edges)
    ok = ~np.isnan(values)
    np.maximum.at(depth, owner[ok], values[ok])
    return depth


def _densify(g: CompiledGraph, step_m: float) -> tuple[list[tuple[float, float]], np.ndarray]:
    kx = 111_320.0 * math.cos(math.radians(float(np.mean(g.node_lat))))
    pts: list[tuple[float, float]] = []
    owner: list[int] = []
    for e in range(g.n_edges):
        c = g.edge_coords(e)
        for (x0, y0), (x1, y1) in itertools.pairwise(c):
            seg = math.hypot((x1 - x0) * kx, (y1 - y0) * 111_320.0)
            n = max(1, math.ceil(seg / step_m))
            for k in range(n):
                t = k / n
                pts.append((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
                owner.append(e)
        pts.append((float(c[-1][0]), float(c[-1][1])))
        owner.append(e)
    return pts, np.asarray(owner, np.int64)


def villages(conn: Connection) -> list[Place]:
    """Every village as a :class:`Place`."""
    rows = conn.execute(
        text(
            "SELECT code, COALESCE(name_zh, name_en, code) AS name, ST_X(geom) AS lon, "
            "ST_Y(geom) AS lat FROM village ORDER BY code"
        )
    )
    return [Place(r.code, r.name, float(r.lon), float(r.lat)) for r in rows]


def hub_nodes(conn: Connection, g: CompiledGraph) -> np.ndarray:
    """Graph node indices on the main network (motorway, trunk, primary edges)."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT n FROM road_edge e, LATERAL (VALUES (e.source_node), "
            "(e.target_node)) v(n) WHERE e.highway LIKE ANY(:classes)"
        ),
        {"classes": [f"{c}%" for c in MAIN_ROAD_CLASSES]},
    ).scalars()
    wanted = np.fromiter((int(n) for n in rows), np.int64)
    order = np.argsort(g.node_ids)
    pos = np.searchsorted(g.node_ids[order], wanted)
    pos = np.clip(pos, 0, max(g.n_nodes - 1, 0))
    hit = g.node_ids[order][pos] == wanted
    return np.asarray(order[pos[hit]], np.int64)


def default_trips(conn: Connection) -> list[Trip]:
    """Port flows: each port gate to the inland end of every motorway and trunk road."""
    rows = conn.execute(
        text(
            """
            WITH gate AS (
                SELECT code, COALESCE(name_zh, name_en, code) AS name,
                       ST_PointOnSurface(geom) AS g
                FROM port_yard WHERE kind = 'gate' ORDER BY code LIMIT 3),
            port AS (SELECT ST_Centroid(ST_Collect(g)) AS c FROM gate),
            road_end AS (
                SELECT r.code, COALESCE(r.name_zh, r.name_en, r.code) AS name,
                       ST_EndPoint(ST_LongestLine(port.c, r.geom)) AS g
                FROM road r, port
                WHERE r.road_class IN ('motorway', 'trunk') AND r.geom IS NOT NULL
                      AND port.c IS NOT NULL)
            SELECT gate.name AS o_name, ST_X(gate.g) AS o_lon, ST_Y(gate.g) AS o_lat,
                   road_end.name AS d_name, road_end.code AS d_code,
                   ST_X(road_end.g) AS d_lon, ST_Y(road_end.g) AS d_lat
            FROM gate, road_end ORDER BY gate.code, road_end.code
            """
        )
    )
    trips = [
        Trip(
            f"{r.o_name} → {r.d_name} ({r.d_code})",
            (float(r.o_lon), float(r.o_lat)),
            (float(r.d_lon), float(r.d_lat)),
            kind="port_flow",
        )
        for r in rows
    ]
    return trips[:MAX_DEFAULT_TRIPS]
