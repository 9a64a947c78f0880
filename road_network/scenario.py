"""Planner scenarios on the compiled graph: closures, floods, lowered limits.

A :class:`Scenario` turns into a modified copy of the graph (lowered limits) plus extra
blocked arcs (closed edges and structures, flooded edges). :func:`evaluate` compares
before and after for one vehicle:

- origin/destination pairs (port flows, named trips): unchanged, detoured (extra metres
  and seconds) or cut off, with what blocks the direct way;
- villages: whether each can still reach the main network (motorway/trunk/primary
  nodes, the "hubs") for this vehicle and for an unrestricted car.

Nothing here touches the database: the shell resolves assets, rasters and villages into
the plain arrays taken here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from road_network.graph import KIND_INDEX, LIMIT_NONE, LIMIT_UNKNOWN, CompiledGraph
from road_network.mask import passable_mask
from road_network.route import RouteError, RouteOptions, check_route, edge_arcs, path_geometry
from road_network.search import dijkstra_all, reverse_adjacency
from road_network.vehicle import VehicleProfile

M_PER_DEG = 111_320.0
STATUSES = ("unchanged", "detour", "cut_off", "blocked_before")
#: An endpoint whose snap moves farther than this under the scenario is cut off.
SNAP_TOLERANCE_M = 25.0


class ScenarioError(ValueError):
    """A scenario names something that does not exist or a value that is out of range."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LimitChange:
    """A structure's limit posted lower (``value`` in cm for sizes, kg for weights)."""

    structure: int | str
    kind: str
    value: int


@dataclass
class Scenario:
    """What the planner changes.

    Attributes
    ----------
    closed_edges:
        Graph edge indices closed in both directions.
    closed_structures:
        Structures (asset id or external id) whose arcs are closed.
    limit_changes:
        Limits posted lower on structures. Raising a limit is not modelled (a posted
        limit is the minimum over every structure on an arc, so raising one needs the
        other structures' values; lower limits are what closures and condition
        postings produce).
    edge_water_depth_m:
        Water depth per graph edge (NaN or 0 where dry), e.g. sampled from a raster.
    max_wading_depth_m:
        Edges with deeper water than this are impassable to every vehicle.
    """

    name: str = "scenario"
    closed_edges: Sequence[int] = ()
    closed_structures: Sequence[int | str] = ()
    limit_changes: Sequence[LimitChange] = ()
    edge_water_depth_m: np.ndarray | None = None
    max_wading_depth_m: float = 0.3


@dataclass(frozen=True)
class Trip:
    """A named origin/destination pair (lon, lat in WGS84)."""

    name: str
    origin: tuple[float, float]
    destination: tuple[float, float]
    kind: str = "od"


@dataclass(frozen=True)
class Place:
    """A village or other destination whose reachability is reported."""

    code: str
    name: str
    lon: float
    lat: float


@dataclass
class Applied:
    """A scenario applied to a graph."""

    graph: CompiledGraph
    blocked: np.ndarray  # bool per arc
    closed_edges: np.ndarray  # graph edge indices closed or flooded
    flooded_edges: np.ndarray
    changed_structures: list[dict[str, Any]] = field(default_factory=list)


def _structure_index(g: CompiledGraph, ref: int | str) -> int:
    for i, s in enumerate(g.structures):
        if str(s.id) == str(ref) or s.external_id == str(ref):
            return i
    raise ScenarioError(f"structure {ref!r} is not on the network", field="structure")


def _structure_arcs(g: CompiledGraph, idx: int) -> np.ndarray:
    hit = np.flatnonzero(g.arc_struct_idx == idx)
    owners = np.searchsorted(g.arc_struct_ptr, hit, side="right") - 1
    return np.unique(owners).astype(np.int64)


def apply(g: CompiledGraph, scenario: Scenario) -> Applied:
    """The graph as the scenario leaves it (the input graph is not modified)."""
    if not (math.isfinite(scenario.max_wading_depth_m) and scenario.max_wading_depth_m >= 0):
        raise ScenarioError(
            f"max_wading_depth_m={scenario.max_wading_depth_m}: must be >= 0 m",
            field="max_wading_depth_m",
        )
    closed = np.zeros(g.n_edges, bool)
    ids = np.asarray(list(scenario.closed_edges), np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= g.n_edges):
        raise ScenarioError("closed_edges: edge index out of range", field="closed_edges")
    closed[ids] = True
    flooded = np.zeros(g.n_edges, bool)
    if scenario.edge_water_depth_m is not None:
        depth = np.asarray(scenario.edge_water_depth_m, float)
        if depth.shape != (g.n_edges,):
            raise ScenarioError(
                f"edge_water_depth_m: expected {g.n_edges} values, got {depth.shape}",
                field="edge_water_depth_m",
            )
        flooded = np.nan_to_num(depth, nan=0.0) > scenario.max_wading_depth_m
    blocked = np.zeros(g.n_arcs, bool)
    blocked[edge_arcs(g, np.flatnonzero(closed | flooded))] = True
    for ref in scenario.closed_structures:
        blocked[_structure_arcs(g, _structure_index(g, ref))] = True
    graph, changed = _lower_limits(g, scenario.limit_changes)
    return Applied(
        graph=graph,
        blocked=blocked,
        closed_edges=np.flatnonzero(closed | flooded),
        flooded_edges=np.flatnonzero(flooded),
        changed_structures=changed,
    )


def _lower_limits(
    g: CompiledGraph, changes: Sequence[LimitChange]
) -> tuple[CompiledGraph, list[dict[str, Any]]]:
    if not changes:
        return g, []
    limits = g.limits.copy()
    changed = []
    for ch in changes:
        if ch.kind not in KIND_INDEX:
            raise ScenarioError(
                f"limit kind {ch.kind!r}: must be one of {', '.join(KIND_INDEX)}", field="kind"
            )
        if ch.value <= 0:
            raise ScenarioError(f"limit value {ch.value}: must be > 0", field="value")
        idx = _structure_index(g, ch.structure)
        arcs = _structure_arcs(g, idx)
        row = limits[KIND_INDEX[ch.kind]]
        cur = row[arcs]
        known = (cur != LIMIT_UNKNOWN) & (cur != LIMIT_NONE)
        row[arcs] = np.where(known, np.minimum(cur, ch.value), ch.value).astype(row.dtype)
        s = g.structures[idx]
        changed.append({"id": s.id, "name": s.name, "kind": ch.kind, "value": ch.value})
    # A copy with its own cache: masks of the original graph must not be reused.
    return dataclasses.replace(g, limits=limits, cache={}), changed


def evaluate(
    g: CompiledGraph,
    scenario: Scenario,
    vehicle: VehicleProfile,
    *,
    trips: Sequence[Trip] = (),
    places: Sequence[Place] = (),
    hub_nodes: np.ndarray | None = None,
    options: RouteOptions | None = None,
) -> dict[str, Any]:
    """Before/after comparison of a scenario for ``vehicle`` (JSON-ready dict).

    Lengths in metres, times in seconds. See the module docstring for what is compared.
    """
    options = options or RouteOptions()
    applied = apply(g, scenario)
    after_opts = dataclasses.replace(options, blocked=applied.blocked)
    trip_rows = [_trip(g, applied, t, vehicle, options, after_opts) for t in trips]
    place_rows = _places(g, applied, places, hub_nodes, vehicle) if places else []
    detours = [r["detour_m"] for r in trip_rows if r["status"] == "detour"]
    return {
        "scenario": scenario.name,
        "vehicle": vehicle.to_dict(),
        "closed_edges": [int(g.edge_ids[e]) for e in applied.closed_edges],
        "flooded_edges": [int(g.edge_ids[e]) for e in applied.flooded_edges],
        "closed_geometry": [g.edge_coords(int(e)).round(6).tolist() for e in applied.closed_edges],
        "changed_structures": applied.changed_structures,
        "trips": trip_rows,
        "villages": place_rows,
        "summary": {
            "trips": len(trip_rows),
            "trips_cut_off": sum(r["status"] == "cut_off" for r in trip_rows),
            "trips_detoured": len(detours),
            "max_detour_m": round(max(detours), 1) if detours else 0.0,
            "villages": len(place_rows),
            "villages_cut_off_vehicle": sum(
                r["reachable_before"] and not r["reachable_after"] for r in place_rows
            ),
            "villages_cut_off_car": sum(
                r["car_reachable_before"] and not r["car_reachable_after"] for r in place_rows
            ),
            "closed_edges": len(applied.closed_edges),
            "flooded_edges": len(applied.flooded_edges),
        },
    }


def _trip(
    g: CompiledGraph,
    applied: Applied,
    trip: Trip,
    vehicle: VehicleProfile,
    before_opts: RouteOptions,
    after_opts: RouteOptions,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": trip.name,
        "kind": trip.kind,
        "origin": trip.origin,
        "destination": trip.destination,
    }
    before = _try_route(g, vehicle, trip, before_opts)
    after = _try_route(applied.graph, vehicle, trip, after_opts)
    row["before"] = _summary(g, before)
    row["after"] = _summary(applied.graph, after)
    if isinstance(before, RouteError):
        row["status"] = "blocked_before"
        row.update(_why(before))
    elif isinstance(after, RouteError):
        row["status"] = "cut_off"
        row.update(_why(after))
    elif (moved := _moved_endpoint(before, after)) is not None:
        row["status"] = "cut_off"
        row["reason"] = moved
        row["blocking"] = []
    else:
        d_m = after.route.length_m - before.route.length_m
        d_s = after.route.time_s - before.route.time_s
        row["status"] = "detour" if abs(d_s) > 1e-6 or abs(d_m) > 1e-3 else "unchanged"
        row["detour_m"] = round(d_m, 1)
        row["detour_s"] = round(d_s, 1)
    return row


def _why(exc: RouteError) -> dict[str, Any]:
    details = getattr(exc, "details", None)
    blocking = details.get("blocking", []) if isinstance(details, dict) else []
    return {"reason": str(exc), "blocking": blocking}


def _moved_endpoint(
    before: Any, after: Any, *, tolerance_m: float = SNAP_TOLERANCE_M
) -> str | None:
    """Why the trip is cut off when the scenario closed the road an endpoint lies on.

    The route engine snaps to the nearest *open* road, so a closed access road would
    silently move the endpoint; a scenario must report that as a cut-off instead.
    """
    for role in ("origin", "destination"):
        b, a = getattr(before, role), getattr(after, role)
        if a.distance_m > b.distance_m + tolerance_m:
            return (
                f"the {role}'s road is closed: the nearest open road is "
                f"{a.distance_m:.0f} m away (was {b.distance_m:.0f} m)"
            )
    return None


def _try_route(g: CompiledGraph, vehicle: VehicleProfile, trip: Trip, opts: RouteOptions) -> Any:
    try:
        return check_route(g, vehicle, trip.origin, trip.destination, opts)
    except RouteError as exc:
        return exc


def _summary(g: CompiledGraph, res: Any) -> dict[str, Any] | None:
    if isinstance(res, RouteError):
        return None
    return {
        "length_m": round(res.route.length_m, 1),
        "time_s": round(res.route.time_s, 1),
        "geometry": path_geometry(g, res.route),
    }


def _nearest_nodes(g: CompiledGraph, places: Sequence[Place]) -> np.ndarray:
    from scipy.spatial import cKDTree

    kx = M_PER_DEG * math.cos(math.radians(float(np.mean(g.node_lat))))
    tree = cKDTree(np.column_stack([g.node_lon * kx, g.node_lat * M_PER_DEG]))
    pts = np.array([[p.lon * kx, p.lat * M_PER_DEG] for p in places])
    _, idx = tree.query(pts)
    return np.asarray(idx, np.int64)


def _reach(g: CompiledGraph, mask: np.ndarray, hubs: np.ndarray) -> np.ndarray:
    """Distance (m) from every node to the nearest hub over passable arcs."""
    tails, arcs = reverse_adjacency(g)
    dist, _ = dijkstra_all(
        g.rindptr,
        tails,
        arcs,
        g.arc_length_m,
        mask,
        hubs.astype(np.int32),
        np.zeros(hubs.size),
    )
    return np.asarray(dist)


def _places(
    g: CompiledGraph,
    applied: Applied,
    places: Sequence[Place],
    hub_nodes: np.ndarray | None,
    vehicle: VehicleProfile,
) -> list[dict[str, Any]]:
    if hub_nodes is None or np.asarray(hub_nodes).size == 0:
        raise ScenarioError(
            "hub_nodes: at least one main-network node is needed", field="hub_nodes"
        )
    hubs = np.asarray(hub_nodes, np.int64)
    nodes = _nearest_nodes(g, places)
    ga = applied.graph
    runs = {
        "before": _reach(g, passable_mask(g, vehicle), hubs),
        "after": _reach(ga, passable_mask(ga, vehicle, blocked=applied.blocked), hubs),
        "car_before": _reach(g, passable_mask(g, None), hubs),
        "car_after": _reach(ga, passable_mask(ga, None, blocked=applied.blocked), hubs),
    }
    rows = []
    for p, n in zip(places, nodes, strict=True):
        r = {k: float(v[n]) for k, v in runs.items()}
        rows.append(
            {
                "code": p.code,
                "name": p.name,
                "lon": p.lon,
                "lat": p.lat,
                "reachable_before": math.isfinite(r["before"]),
                "reachable_after": math.isfinite(r["after"]),
                "car_reachable_before": math.isfinite(r["car_before"]),
                "car_reachable_after": math.isfinite(r["car_after"]),
                "to_main_road_before_m": _m(r["before"]),
                "to_main_road_after_m": _m(r["after"]),
            }
        )
    return rows


def _m(v: float) -> float | None:
    return round(v, 1) if math.isfinite(v) else None
