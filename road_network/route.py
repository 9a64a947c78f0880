"""The route check: legal route, structures passed, and why the direct route is illegal.

:func:`check_route` is the whole request: passable mask -> snap origin/destination to
edges the vehicle may use (refusing origins that cannot be left legally) -> ALT search
from/to the middle of the snapped edges -> structures passed with margins -> when the
unrestricted shortest route is illegal, the structures that block it and the detour cost.
Everything here is pure; the shell maps :class:`RouteError` subclasses to its errors.

Extension points for what-if scenarios: ``RouteOptions.blocked`` (a bool per arc of extra
closures) and :func:`check_route`'s ``graph`` argument, which may be a modified copy
(e.g. ``dataclasses.replace(g, limits=new_limits, cache={})``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from road_network import cch
from road_network.graph import (
    FLAG_CLOSED,
    LIMIT_KINDS,
    LIMIT_NONE,
    LIMIT_UNITS,
    LIMIT_UNKNOWN,
    CompiledGraph,
)
from road_network.mask import UNKNOWN_POLICIES, UnknownPolicy, passable_mask, violations
from road_network.search import shortest_path
from road_network.snap import Snap, snap_index
from road_network.vehicle import VehicleProfile

#: the search engine: ``cch`` (CCH with ALT for what it cannot answer) or ``alt`` (ALT only)
ENGINE = "cch"
#: searches answered by each engine in this process (for benchmarks and diagnostics)
SEARCHES = {"cch": 0, "alt": 0}
#: margins below this (height/width, cm) raise a warning
TIGHT_MARGIN_CM = 10
_EPS_FRAC = 1e-9


class RouteError(ValueError):
    """A route check that cannot be answered; ``field`` and ``details`` say why."""

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.details = details


class SnapError(RouteError):
    """No road within the snap radius."""


class CannotLeaveError(RouteError):
    """The origin (or destination) is enclosed by edges the vehicle may not use."""


class NoRouteError(RouteError):
    """No legal route; ``details['blocking']`` lists the structures that block it."""


@dataclass
class RouteOptions:
    """Options of a route check.

    Attributes
    ----------
    metric:
        ``time`` (seconds, default) or ``distance`` (metres) to minimise.
    unknown:
        ``passable`` (default, flagged in the answer) or ``blocking``.
    departure:
        Departure time for conditional limits (None: all conditional limits apply).
    alternatives:
        Number of alternative routes wanted (0..3).
    avoid_polygons:
        Polygons (shapely geometries or lists of (lon, lat)) whose edges are avoided.
    avoid_roads:
        Road codes to avoid.
    avoid_structures:
        Structure ids (asset id or external id) whose edges are avoided.
    snap_radius_m:
        Points farther than this from any usable road are refused.
    enclosure_tolerance_m:
        When the nearest road is closed to the vehicle and the nearest usable one is
        farther than this beyond it, the point is reported as enclosed rather than
        silently snapped across the restriction.
    blocked:
        Extra arcs to block (bool per arc), for scenarios.
    explain:
        Compute the unrestricted route and the blocking structures.
    """

    metric: str = "time"
    unknown: UnknownPolicy = "passable"
    departure: dt.datetime | None = None
    alternatives: int = 0
    avoid_polygons: Sequence[Any] = ()
    avoid_roads: Sequence[str] = ()
    avoid_structures: Sequence[int | str] = ()
    snap_radius_m: float = 500.0
    enclosure_tolerance_m: float = 25.0
    blocked: np.ndarray | None = None
    explain: bool = True

    def validate(self) -> RouteOptions:
        """Raise :class:`RouteError` naming the bad field."""
        if self.metric not in ("time", "distance"):
            raise RouteError(
                f"metric={self.metric!r}: must be 'time' or 'distance'", field="metric"
            )
        if self.unknown not in UNKNOWN_POLICIES:
            raise RouteError(
                f"unknown={self.unknown!r}: must be 'passable' or 'blocking'", field="unknown"
            )
        if not 0 <= self.alternatives <= 3:
            raise RouteError(
                f"alternatives={self.alternatives}: must be within 0..3", field="alternatives"
            )
        if not (math.isfinite(self.snap_radius_m) and 0 < self.snap_radius_m <= 50_000):
            raise RouteError(
                f"snap_radius_m={self.snap_radius_m} m: must be within (0, 50000] m",
                field="snap_radius_m",
            )
        return self


@dataclass
class Leg:
    """One arc of a route, possibly partial (fractions along the arc's direction)."""

    arc: int
    start: float = 0.0
    end: float = 1.0


@dataclass
class Path:
    """A route: arcs in order with the driven share of each (partial first/last arc:
    ``start``/``end`` fractions along the arc's direction), cost, length and time."""

    arcs: np.ndarray
    start: np.ndarray
    end: np.ndarray
    cost: float
    length_m: float
    time_s: float

    @property
    def legs(self) -> list[Leg]:
        """The arcs as :class:`Leg` objects."""
        return [
            Leg(int(a), float(s), float(e))
            for a, s, e in zip(self.arcs, self.start, self.end, strict=True)
        ]


@dataclass
class RouteCheck:
    """The answer of :func:`check_route` (``to_dict`` gives the JSON form)."""

    vehicle: VehicleProfile
    options: RouteOptions
    origin: Snap
    destination: Snap
    route: Path
    alternatives: list[Path] = field(default_factory=list)
    structures: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_limits: bool = False
    unrestricted: Path | None = None
    blocking: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, g: CompiledGraph, *, geometry: bool = True) -> dict[str, Any]:
        """JSON-ready answer (lengths m, times s, limits cm/kg)."""
        out: dict[str, Any] = {
            "vehicle": _vehicle_dict(self.vehicle),
            "origin": _snap_dict(self.origin),
            "destination": _snap_dict(self.destination),
            "route": path_dict(g, self.route, geometry=geometry),
            "structures": self.structures,
            "warnings": self.warnings,
            "unknown_limits": self.unknown_limits,
            "alternatives": [path_dict(g, p, geometry=geometry) for p in self.alternatives],
            "direct_route_blocked": None,
        }
        if self.unrestricted is not None and self.blocking:
            out["direct_route_blocked"] = {
                "length_m": round(self.unrestricted.length_m, 2),
                "time_s": round(self.unrestricted.time_s, 2),
                "detour_m": round(self.route.length_m - self.unrestricted.length_m, 2),
                "detour_s": round(self.route.time_s - self.unrestricted.time_s, 2),
                "blocking": self.blocking,
                "geometry": path_geometry(g, self.unrestricted) if geometry else None,
            }
        return out


def _vehicle_dict(v: VehicleProfile) -> dict[str, Any]:
    """The vehicle's JSON form (a copy; ``dataclasses.asdict`` was a tenth of a check)."""
    return dict(_vehicle_dict_cached(v))


@functools.lru_cache(maxsize=256)
def _vehicle_dict_cached(v: VehicleProfile) -> dict[str, Any]:
    return v.to_dict()


def _snap_dict(s: Snap) -> dict[str, Any]:
    return {
        "lon": round(s.lon, 7),
        "lat": round(s.lat, 7),
        "snap_distance_m": round(s.distance_m, 2),
        "edge_index": s.edge,
        "fraction": round(s.fraction, 6),
    }


# --------------------------------------------------------------------------- masks
def extra_blocked(g: CompiledGraph, options: RouteOptions) -> np.ndarray | None:
    """Bool per arc of what the options avoid (None when nothing is avoided)."""
    out = None if options.blocked is None else np.asarray(options.blocked, bool).copy()
    if out is not None and out.shape != (g.n_arcs,):
        raise RouteError(f"blocked: expected {g.n_arcs} arcs, got {out.shape}", field="blocked")

    def add(arcs: np.ndarray) -> None:
        nonlocal out
        if out is None:
            out = np.zeros(g.n_arcs, bool)
        out[arcs] = True

    if options.avoid_roads:
        codes = {str(c) for c in options.avoid_roads}
        edges = np.flatnonzero(np.isin(g.edge_road_code.astype(str), list(codes)))
        add(edge_arcs(g, edges))
    if options.avoid_structures:
        wanted = {str(x) for x in options.avoid_structures}
        idx = {
            i for i, s in enumerate(g.structures) if str(s.id) in wanted or s.external_id in wanted
        }
        if not idx:
            raise RouteError(
                f"avoid_structures: none of {sorted(wanted)} is a known structure",
                field="avoid_structures",
            )
        owner = np.repeat(np.arange(g.n_arcs), np.diff(g.arc_struct_ptr))
        add(np.unique(owner[np.isin(g.arc_struct_idx, list(idx))]))
    if options.avoid_polygons:
        add(edge_arcs(g, edges_in_polygons(g, options.avoid_polygons)))
    return out


def edge_arcs(g: CompiledGraph, edges: np.ndarray) -> np.ndarray:
    """All arcs of the given edges."""
    edges = np.asarray(edges, np.int64)
    a = np.concatenate([g.edge_fwd_arc[edges], g.edge_bwd_arc[edges]])
    return a[a >= 0]


def edges_in_polygons(g: CompiledGraph, polygons: Iterable[Any]) -> np.ndarray:
    """Edges whose geometry intersects any of ``polygons`` (shapely STRtree)."""
    import shapely
    from shapely.geometry import Polygon
    from shapely.geometry.base import BaseGeometry

    tree = g.cache.get("strtree")
    if tree is None:
        counts = np.diff(g.geom_offsets)
        lines = shapely.linestrings(
            np.column_stack([g.geom_lon, g.geom_lat]),
            indices=np.repeat(np.arange(g.n_edges), counts),
        )
        tree = shapely.STRtree(lines)
        g.cache["strtree"] = tree
    found: list[np.ndarray] = []
    for i, poly in enumerate(polygons):
        geom = poly if isinstance(poly, BaseGeometry) else Polygon(poly)
        if geom.is_empty or not geom.is_valid:
            raise RouteError(
                f"avoid_polygons[{i}]: not a valid polygon ({shapely.is_valid_reason(geom)})",
                field=f"avoid_polygons.{i}",
            )
        found.append(np.asarray(tree.query(geom, predicate="intersects"), np.int64))
    return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)


# --------------------------------------------------------------------------- snapping
def snap_point(
    g: CompiledGraph,
    lon: float,
    lat: float,
    mask: np.ndarray,
    *,
    role: str,
    vehicle: VehicleProfile | None,
    options: RouteOptions,
    any_mask: np.ndarray,
) -> tuple[Snap, list[str], Snap]:
    """Snap ``(lon, lat)`` to an edge usable under ``mask``; also returns the nearest
    edge open to any vehicle (``any_mask``).

    Raises :class:`SnapError` when no road is within the radius, and
    :class:`CannotLeaveError` when the nearest road is closed to the vehicle and the
    nearest usable road lies more than ``enclosure_tolerance_m`` beyond it.
    """
    _check_coord(lon, lat, role)
    idx = snap_index(g)
    radius = options.snap_radius_m
    near_any = idx.nearest(lon, lat, arc_mask=any_mask, radius_m=radius)
    if near_any is None:
        raise SnapError(
            f"{role} ({lon:.6f}, {lat:.6f}) is more than {radius:g} m from any road",
            field=role,
            details={"snap_radius_m": radius},
        )
    fa, ba = int(g.edge_fwd_arc[near_any.edge]), int(g.edge_bwd_arc[near_any.edge])
    if (fa >= 0 and mask[fa]) or (ba >= 0 and mask[ba]):  # usable (scalar SnapIndex.usable)
        return near_any, [], near_any
    near = idx.nearest(lon, lat, arc_mask=mask, radius_m=radius)
    leave = "left" if role == "origin" else "reached"
    if near is None or near.distance_m > near_any.distance_m + options.enclosure_tolerance_m:
        blockers = _edge_blockers(g, near_any.edge, vehicle, options) if vehicle is not None else []
        where = (
            f"the nearest usable road is {near.distance_m:.0f} m away"
            if near is not None
            else f"no usable road within {radius:g} m"
        )
        raise CannotLeaveError(
            f"the {role} ({lon:.6f}, {lat:.6f}) cannot be {leave} legally: the nearest road "
            f"({near_any.distance_m:.0f} m away) is closed to this vehicle and {where}",
            field=role,
            details={"blocking": blockers, "nearest_road_m": round(near_any.distance_m, 1)},
        )
    return (
        near,
        [
            f"{role}: the nearest road ({near_any.distance_m:.0f} m) is closed to this "
            f"vehicle; snapped to a usable road {near.distance_m:.0f} m away"
        ],
        near_any,
    )


def _check_coord(lon: float, lat: float, role: str) -> None:
    for name, v, lim in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if not isinstance(v, int | float) or not math.isfinite(v) or abs(v) > lim:
            raise RouteError(
                f"{role}.{name}={v!r}: must be a finite number within +-{lim:g} degrees",
                field=f"{role}.{name}",
            )


def _seeds(
    g: CompiledGraph, s: Snap, mask: np.ndarray, cost: np.ndarray, *, origin: bool
) -> tuple[list[int], list[float], list[tuple[int, int, float, float]]]:
    """Search seeds of a snapped point: (nodes, costs, partial legs per seed).

    For the origin a seed is the node reached by driving the rest of the edge; for the
    destination it is the node from which the rest of the edge is driven. A point on a
    node gives that node at cost 0 (no edge driven, so no edge's limit is skipped:
    every arc leaving it is checked by the search).
    """
    e, f = s.edge, s.fraction
    fa, ba = int(g.edge_fwd_arc[e]), int(g.edge_bwd_arc[e])
    u = int(g.tail[fa]) if fa >= 0 else int(g.head[ba])
    v = int(g.head[fa]) if fa >= 0 else int(g.tail[ba])
    if f <= _EPS_FRAC:
        return [u], [0.0], [(-1, u, 0.0, 0.0)]
    if f >= 1 - _EPS_FRAC:
        return [v], [0.0], [(-1, v, 0.0, 0.0)]
    nodes: list[int] = []
    offs: list[float] = []
    legs: list[tuple[int, int, float, float]] = []
    if fa >= 0 and mask[fa]:
        if origin:  # drive from f to the end -> node v
            nodes.append(v)
            offs.append((1 - f) * cost[fa])
            legs.append((fa, v, f, 1.0))
        else:  # drive from u up to f
            nodes.append(u)
            offs.append(f * cost[fa])
            legs.append((fa, u, 0.0, f))
    if ba >= 0 and mask[ba]:
        # the backward arc runs v -> u; position f along the edge is 1 - f along the arc
        if origin:
            nodes.append(u)
            offs.append(f * cost[ba])
            legs.append((ba, u, 1 - f, 1.0))
        else:
            nodes.append(v)
            offs.append((1 - f) * cost[ba])
            legs.append((ba, v, 0.0, 1 - f))
    return nodes, offs, legs


def _route(
    g: CompiledGraph,
    mask: np.ndarray,
    o: Snap,
    d: Snap,
    *,
    metric: str,
    cost: np.ndarray | None = None,
) -> Path | None:
    """Cheapest path between two snapped points under ``mask`` (None when none)."""
    c = g.arc_cost(metric) if cost is None else cost
    sn, so, sl = _seeds(g, o, mask, c, origin=True)
    tn, to, tl = _seeds(g, d, mask, c, origin=False)
    best: Path | None = None
    # same edge, driven directly from o to d
    if o.edge == d.edge:
        e = o.edge
        for arc, a0, a1 in (
            (int(g.edge_fwd_arc[e]), o.fraction, d.fraction),
            (int(g.edge_bwd_arc[e]), 1 - o.fraction, 1 - d.fraction),
        ):
            if arc >= 0 and mask[arc] and a1 >= a0:
                best = _make_path(g, np.array([arc]), np.array([a0]), np.array([a1]), c)
                break
    if not sn or not tn:
        return best
    mu, arcs, _ = search(
        g, mask, np.array(sn), np.array(so), np.array(tn), np.array(to), metric=metric, cost=cost
    )
    if not math.isfinite(mu) or (best is not None and best.cost <= mu):
        return best
    first = int(g.tail[arcs[0]]) if arcs.size else None
    last = int(g.head[arcs[-1]]) if arcs.size else None
    if not arcs.size:  # origin and destination seeds share a node
        both = [(i, j) for i in range(len(sn)) for j in range(len(tn)) if sn[i] == tn[j]]
        i, j = min(both, key=lambda ij: so[ij[0]] + to[ij[1]])
        first = last = sn[i]
    i = min((k for k in range(len(sn)) if sn[k] == first), key=lambda k: so[k])
    j = min((k for k in range(len(tn)) if tn[k] == last), key=lambda k: to[k])
    head_leg = [sl[i]] if sl[i][0] >= 0 else []
    tail_leg = [tl[j]] if tl[j][0] >= 0 else []
    all_arcs = np.concatenate([[x[0] for x in head_leg], arcs, [x[0] for x in tail_leg]]).astype(
        np.int64
    )
    start = np.zeros(all_arcs.size)
    end = np.ones(all_arcs.size)
    if head_leg:
        start[0], end[0] = head_leg[0][2], head_leg[0][3]
    if tail_leg:
        start[-1], end[-1] = tail_leg[0][2], tail_leg[0][3]
    return _make_path(g, all_arcs, start, end, c, cost=mu)


def search(
    g: CompiledGraph,
    mask: np.ndarray,
    src_nodes: np.ndarray,
    src_off: np.ndarray,
    tgt_nodes: np.ndarray,
    tgt_off: np.ndarray,
    *,
    metric: str,
    cost: np.ndarray | None = None,
) -> tuple[float, np.ndarray, dict[str, Any]]:
    """Cheapest path between seed sets: the CCH of ``(metric, mask)`` when it can answer
    exactly (:func:`road_network.cch.shortest_path`), else the ALT search (per-request
    costs, masks not customized yet, and the "unreachable" answers it confirms)."""
    if cost is None and ENGINE == "cch":
        hit = cch.shortest_path(g, mask, src_nodes, src_off, tgt_nodes, tgt_off, metric=metric)
        if hit is not None:
            SEARCHES["cch"] += 1
            return hit
    SEARCHES["alt"] += 1
    t0 = time.perf_counter()
    out = shortest_path(g, mask, src_nodes, src_off, tgt_nodes, tgt_off, metric=metric, cost=cost)
    if cost is None and ENGINE == "cch":
        cch.charge(g, mask, metric, time.perf_counter() - t0)
    return out


def _make_path(
    g: CompiledGraph,
    arcs: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    c: np.ndarray,
    cost: float | None = None,
) -> Path:
    part = end - start
    return Path(
        arcs=arcs,
        start=start,
        end=end,
        cost=float(cost if cost is not None else (c[arcs] * part).sum()),
        length_m=float((g.arc_length_m[arcs] * part).sum()),
        time_s=float((g.arc_time_s[arcs] * part).sum()),
    )


# --------------------------------------------------------------------------- answer
def check_route(
    g: CompiledGraph,
    vehicle: VehicleProfile,
    origin: tuple[float, float],
    destination: tuple[float, float],
    options: RouteOptions | None = None,
) -> RouteCheck:
    """Check a route for ``vehicle`` from ``origin`` to ``destination`` (lon, lat).

    Returns
    -------
    RouteCheck
        The legal route, alternatives, structures passed with margins, warnings, and the
        blocking structures of the unrestricted route when it is illegal.

    Raises
    ------
    SnapError, CannotLeaveError, NoRouteError, RouteError
    """
    options = (options or RouteOptions()).validate()
    extra = extra_blocked(g, options)
    return _check(g, vehicle, origin, destination, options, extra)


def check_routes(
    g: CompiledGraph,
    vehicle: VehicleProfile,
    pairs: Sequence[tuple[tuple[float, float], tuple[float, float]]],
    options: RouteOptions | None = None,
) -> list[RouteCheck | RouteError]:
    """Batch of OD pairs sharing a vehicle and options; errors are returned per pair."""
    options = (options or RouteOptions()).validate()
    extra = extra_blocked(g, options)
    out: list[RouteCheck | RouteError] = []
    for o, d in pairs:
        try:
            out.append(_check(g, vehicle, o, d, options, extra))
        except RouteError as exc:
            out.append(exc)
    return out


def _direct_mask(g: CompiledGraph, extra: np.ndarray | None) -> np.ndarray:
    """Arcs the direct (comparison) route may use: all but those the request avoids.

    Closed structures stay in, so that a closure on the direct way is named among the
    blockers like a limit is (the legal route never uses them).
    """
    base = g.cache.get("direct")
    if base is None:
        base = np.ones(g.n_arcs, np.uint8)
        g.cache["direct"] = base
    if extra is None:
        return base  # type: ignore[no-any-return]
    out = base.copy()
    out[np.asarray(extra, bool)] = 0
    return out


def _check(
    g: CompiledGraph,
    vehicle: VehicleProfile,
    origin: tuple[float, float],
    destination: tuple[float, float],
    options: RouteOptions,
    extra: np.ndarray | None,
) -> RouteCheck:
    metric = options.metric
    mask = passable_mask(
        g, vehicle, unknown=options.unknown, departure=options.departure, blocked=extra
    )
    free = passable_mask(g, None, blocked=extra)
    direct = _direct_mask(g, extra)
    o, ow, o_free = snap_point(
        g, *origin, mask, role="origin", vehicle=vehicle, options=options, any_mask=free
    )
    d, dw, d_free = snap_point(
        g,
        *destination,
        mask,
        role="destination",
        vehicle=vehicle,
        options=options,
        any_mask=free,
    )
    warnings = ow + dw
    unrestricted: Path | None = None
    legal: Path | None = None
    if options.explain:
        unrestricted = _route(g, direct, o_free, d_free, metric=metric)
        if (
            unrestricted is not None
            and o_free == o
            and d_free == d
            and bool(mask[unrestricted.arcs].all())
        ):
            legal = unrestricted  # the unrestricted optimum is legal, hence optimal
    if legal is None:
        legal = _route(g, mask, o, d, metric=metric)
    blocking: list[dict[str, Any]] = []
    if unrestricted is not None and legal is not unrestricted:
        blocking = _blockers_on(g, unrestricted, mask, vehicle, options)
    if legal is None:
        raise NoRouteError(
            "no legal route for this vehicle"
            + (
                f": {len(blocking)} structure(s) block the direct route"
                if blocking
                else " (origin and destination are not connected)"
            ),
            details={"blocking": blocking, "origin": _snap_dict(o), "destination": _snap_dict(d)},
        )
    structures, warn2, unknown_flag = _passed(g, legal, vehicle, options)
    result = RouteCheck(
        vehicle=vehicle,
        options=options,
        origin=o,
        destination=d,
        route=legal,
        structures=structures,
        warnings=warnings + warn2,
        unknown_limits=unknown_flag,
        unrestricted=unrestricted if blocking else None,
        blocking=blocking,
    )
    if options.alternatives:
        result.alternatives = _alternatives(g, mask, o, d, legal, options)
    return result


def _alternatives(
    g: CompiledGraph, mask: np.ndarray, o: Snap, d: Snap, best: Path, options: RouteOptions
) -> list[Path]:
    """Penalty method: raise the cost of used arcs and search again; keep routes that are
    at most 40 % slower and share less than 70 % of their length with any kept route."""
    base = g.arc_cost(options.metric)
    cost = base.copy()
    kept = [best]
    out: list[Path] = []
    for _ in range(options.alternatives * 3):
        for p in kept[-1:]:
            cost[p.arcs] *= 1.4
        cand = _route(g, mask, o, d, metric=options.metric, cost=cost)
        if cand is None:
            break
        real = _make_path(g, cand.arcs, cand.start, cand.end, base)
        if real.cost > best.cost * 1.4:
            break
        if all(_overlap(g, real, k) < 0.7 for k in kept):
            kept.append(real)
            out.append(real)
            if len(out) >= options.alternatives:
                break
        else:
            kept.append(real)
    return out


def _overlap(g: CompiledGraph, a: Path, b: Path) -> float:
    shared = np.isin(g.arc_edge[a.arcs], g.arc_edge[b.arcs])
    return float(g.arc_length_m[a.arcs][shared].sum()) / max(a.length_m, 1e-9)


#: Kinds of structure listed as passed even without a posted limit; other assets (RSUs,
#: pavement sections, signs without limits) are listed only when they carry a limit.
PASSED_KINDS = frozenset({"bridge", "tunnel", "underpass", "culvert", "height_restrictor"})


def _passed(
    g: CompiledGraph, p: Path, vehicle: VehicleProfile, options: RouteOptions
) -> tuple[list[dict[str, Any]], list[str], bool]:
    """Structures (and edge-own limits) on the route with the vehicle's margins."""
    lim = g.effective_limits(options.departure)
    out: list[dict[str, Any]] = []
    warnings: list[str] = []
    unknown = False
    seen: set[int] = set()
    arcs = p.arcs
    has_struct, report = _reportable(g, lim)
    pick = np.flatnonzero(report[arcs])  # most arcs carry nothing to report
    for a, hs in zip(arcs[pick].tolist(), has_struct[arcs[pick]].tolist(), strict=True):
        for si in g.arc_structures(a) if hs else ():
            if si in seen:
                continue
            seen.add(si)
            s = g.structures[si]
            direction = "backward" if g.arc_backward[a] else "forward"
            limits = []
            for x in s.limits:
                if x.get("direction", "both") not in ("both", direction):
                    continue
                kind = str(x["kind"])
                if kind not in LIMIT_UNITS:
                    continue
                value = x.get("value")
                margin = None if value is None else int(value) - vehicle.value(kind)
                limits.append(
                    {
                        "kind": kind,
                        "limit": value,
                        "unit": LIMIT_UNITS[kind],
                        "vehicle": vehicle.value(kind),
                        "margin": margin,
                        "conditional": x.get("conditional"),
                    }
                )
                if value is None:
                    unknown = True
                    warnings.append(f"{_label(s)}: {kind} limit unknown (treated as passable)")
                elif (
                    kind in ("height", "width") and margin is not None and margin < TIGHT_MARGIN_CM
                ):
                    warnings.append(
                        f"{_label(s)}: {kind} margin {margin} cm (limit {value} cm, vehicle "
                        f"{vehicle.value(kind)} cm)"
                    )
            if limits or s.kind in PASSED_KINDS:
                out.append({**_struct_dict(s), "limits": limits})
        if not hs:
            # an edge's own limit (no structure record): report it against the edge
            for i, kind in enumerate(LIMIT_KINDS):
                v = int(lim[i, a])
                if v == LIMIT_NONE:
                    continue
                e = int(g.arc_edge[a])
                if v == LIMIT_UNKNOWN:
                    unknown = True
                    warnings.append(f"edge {int(g.edge_ids[e])}: {kind} limit unknown")
                    continue
                out.append(
                    {
                        "id": None,
                        "kind": "edge_limit",
                        "edge_id": int(g.edge_ids[e]),
                        "road_code": g.edge_road_code[e],
                        "limits": [
                            {
                                "kind": kind,
                                "limit": v,
                                "unit": LIMIT_UNITS[kind],
                                "vehicle": vehicle.value(kind),
                                "margin": v - vehicle.value(kind),
                            }
                        ],
                    }
                )
    return out, warnings, unknown


def _reportable(g: CompiledGraph, lim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per arc: carries structures; carries structures or a limit in ``lim`` (memoised per
    limits array: the effective limits of a departure are themselves cached)."""
    key = ("reportable", id(lim))
    hit = g.cache.get(key)
    if hit is not None and hit[0] is lim:
        return hit[1], hit[2]
    has_struct = np.diff(g.arc_struct_ptr) > 0
    report = has_struct | (lim != LIMIT_NONE).any(axis=0)
    g.cache[key] = (lim, has_struct, report)
    return has_struct, report


def _label(s: Any) -> str:
    return f"{s.kind} {s.name or s.external_id} ({s.road_code or '-'})"


def _struct_dict(s: Any) -> dict[str, Any]:
    return {
        "id": s.id,
        "external_id": s.external_id,
        "kind": s.kind,
        "name": s.name,
        "road_code": s.road_code,
        "stake_m": s.stake_m,
        "lon": s.lon,
        "lat": s.lat,
        "state": s.state,
    }


def _blockers_on(
    g: CompiledGraph, p: Path, mask: np.ndarray, vehicle: VehicleProfile, options: RouteOptions
) -> list[dict[str, Any]]:
    """Each blocked arc of ``p`` as a structure (or edge) with the violated limits."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    along = np.concatenate([[0.0], np.cumsum(g.arc_length_m[p.arcs] * (p.end - p.start))])
    for k in np.flatnonzero(mask[p.arcs] == 0):
        a = int(p.arcs[k])
        out.extend(_arc_blockers(g, a, vehicle, options, seen, along_m=float(along[k])))
    return out


def _edge_blockers(
    g: CompiledGraph, e: int, vehicle: VehicleProfile, options: RouteOptions
) -> list[dict[str, Any]]:
    seen: set[tuple[str, int]] = set()
    out: list[dict[str, Any]] = []
    for a in (int(g.edge_fwd_arc[e]), int(g.edge_bwd_arc[e])):
        if a >= 0:
            out.extend(_arc_blockers(g, a, vehicle, options, seen, along_m=None))
    return out


def _arc_blockers(
    g: CompiledGraph,
    a: int,
    vehicle: VehicleProfile | None,
    options: RouteOptions,
    seen: set[tuple[str, int]],
    *,
    along_m: float | None,
) -> list[dict[str, Any]]:
    if vehicle is None:
        return []
    why = violations(g, a, vehicle, unknown=options.unknown, departure=options.departure)
    for w in why:
        w.setdefault("unit", LIMIT_UNITS.get(str(w["kind"])))
    e = int(g.arc_edge[a])
    structs = g.arc_structures(a)
    v0, v1 = int(g.geom_offsets[e]), int(g.geom_offsets[e + 1])
    mid = (g.geom_lon[v0 + (v1 - v0) // 2], g.geom_lat[v0 + (v1 - v0) // 2])  # middle vertex
    base: dict[str, Any] = {
        "edge_id": int(g.edge_ids[e]),
        "direction": "backward" if g.arc_backward[a] else "forward",
        "distance_from_origin_m": None if along_m is None else round(along_m, 1),
        "violated": why,
    }
    if not why and not (g.arc_flags[a] & FLAG_CLOSED):
        base["violated"] = [{"kind": "avoided", "limit": None, "vehicle": None, "unit": None}]
    avoided = base["violated"][0]["kind"] == "avoided"
    # Name only the structures whose own limits (or closure) explain a violation: a long
    # edge also carries RSUs, signs and pavement sections that block nothing. Arcs avoided
    # on request name every structure on them.
    explaining = [
        (si, base["violated"] if avoided else _own_violations(g.structures[si], why))
        for si in structs
    ]
    explaining = [(si, own) for si, own in explaining if own]
    if not explaining:
        if ("edge", e) in seen:
            return []
        seen.add(("edge", e))
        return [
            {
                "id": None,
                "kind": "edge",
                "name": g.edge_name[e],
                "road_code": g.edge_road_code[e],
                "stake_m": None,
                "lon": float(mid[0]),
                "lat": float(mid[1]),
                **base,
            }
        ]
    out = []
    for si, own in explaining:
        if ("s", si) in seen:
            continue
        seen.add(("s", si))
        out.append({**_struct_dict(g.structures[si]), **base, "violated": own})
    return out


def _own_violations(s: Any, why: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations of an arc that structure ``s`` causes itself."""
    mine = []
    for w in why:
        if w["kind"] == "closed":
            if s.state in ("closed", "decommissioned"):
                mine.append(w)
            continue
        for lim in s.limits:
            if lim.get("kind") != w["kind"]:
                continue
            value = lim.get("value")
            if (value is None and w["limit"] is None) or (
                value is not None and w["vehicle"] is not None and value < w["vehicle"]
            ):
                mine.append(w)
                break
    return mine


# --------------------------------------------------------------------------- geometry
def path_geometry(g: CompiledGraph, p: Path) -> dict[str, Any]:
    """GeoJSON LineString of a path (lon/lat, WGS84)."""
    n = len(p.arcs)
    if n == 0:
        return {"type": "LineString", "coordinates": []}
    edges = g.arc_edge[p.arcs].astype(np.int64)
    back = g.arc_backward[p.arcs]
    # whole edges: gather all vertices at once, reversed where driven backwards
    off = g.geom_offsets
    counts = off[edges + 1] - off[edges]
    starts = np.where(back, off[edges + 1] - 1, off[edges])
    step = np.where(back, -1, 1)
    pos = np.repeat(starts, counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ) * np.repeat(step, counts)
    xy_all = np.column_stack([g.geom_lon[pos], g.geom_lat[pos]])
    # partial first/last arcs: replace their whole-edge vertices by the cut piece (the
    # middle stays one block instead of one array per arc)
    ends = np.cumsum(counts)
    idx = snap_index(g)
    cuts: dict[int, np.ndarray] = {}
    for k in {0, n - 1}:
        if p.start[k] > 0 or p.end[k] < 1:
            e = int(edges[k])
            s0, s1 = float(p.start[k]), float(p.end[k])
            f0, f1 = (1 - s0, 1 - s1) if back[k] else (s0, s1)
            cuts[k] = idx.cut(e, f0, f1)
    if cuts:
        lo = int(ends[0]) if 0 in cuts else 0
        hi = int(ends[-2]) if (n - 1 in cuts and n > 1) else int(ends[-1])
        parts = []
        if 0 in cuts:
            parts.append(cuts[0])
        if hi > lo:
            parts.append(xy_all[lo:hi])
        if n > 1 and n - 1 in cuts:
            parts.append(cuts[n - 1])
        xy_all = np.concatenate(parts)
    xy = np.round(xy_all, 7)
    keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]
    xy = xy[keep]
    if len(xy) == 1:
        xy = np.vstack([xy, xy])
    return {"type": "LineString", "coordinates": xy.tolist()}


def path_dict(g: CompiledGraph, p: Path, *, geometry: bool = True) -> dict[str, Any]:
    """JSON form of a path: ``edge_ids`` in driving order, ``edge_directions`` (+1 along
    the edge's digitised direction, -1 against it), ``first_fraction``/``last_fraction``
    (share of the first/last edge driven), length, time and GeoJSON geometry."""
    n = len(p.arcs)
    return {
        "length_m": round(p.length_m, 2),
        "time_s": round(p.time_s, 2),
        "edge_ids": g.edge_ids[g.arc_edge[p.arcs]].tolist(),
        "edge_directions": np.where(g.arc_backward[p.arcs], -1, 1).tolist(),
        "first_fraction": round(float(p.end[0] - p.start[0]), 6) if n else None,
        "last_fraction": round(float(p.end[-1] - p.start[-1]), 6) if n else None,
        "geometry": path_geometry(g, p) if geometry else None,
    }
