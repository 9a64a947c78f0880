"""Route checks and limit lookups: the shell around ``road_network``.

Public interface (stable; other services rely on it):

- :func:`compile_graph` ``(conn)`` -- compile the routing graph from PostGIS.
- :func:`get_graph` ``(settings, conn=None)`` -- the current compiled graph: kept in
  memory per database, reloaded when the network's fingerprint changes (checked at most
  every ``settings.graph_check_interval_s`` seconds, or at once after :func:`invalidate`),
  read from the snapshot in ``settings.snapshot_dir`` at start-up, and served from memory
  or the snapshot while the database is down.
- :func:`invalidate` ``(settings=None)`` -- call after changing limits, closures or edges
  (e.g. approving a condition limit); the next :func:`get_graph` re-checks the database.
- :func:`check_route` / :func:`check_routes` -- a route check on a graph (pure; take a
  :class:`road_network.route.RouteOptions`, whose ``blocked`` arcs and a modified graph
  copy serve what-if scenarios without touching the database), errors mapped to the
  twin's error tree.
- limit lookups (defined in :mod:`twin.services.limits`, re-exported here):
  :func:`limits_in_bbox`, :func:`limits_near`, :func:`limits_on_road`,
  :func:`structure_by_id`, :func:`blocking_on_road`.

Effective per-arc limit = min of the edge's own ``max_*`` columns and the *approved*
``structure_limit`` rows of the assets linked to it through ``asset_edge`` (direction of
both the link and the limit respected; ``proposed``/``rejected`` rows are ignored).
Assets in ``closed`` or ``decommissioned`` state block their edges. A limit row without a
value (and not ``unlimited``) is an *unknown* limit; so is a tunnel, underpass or height
restrictor linked to edges without any height row. Bridges without a weight row are not
flagged (most OSM bridges carry no limit and are open to legal vehicles).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from road_network import cch
from road_network.graph import LIMIT_NONE, LIMIT_UNITS, CompiledGraph, EdgeInput
from road_network.graph import build_graph as _build
from road_network.mask import passable_mask
from road_network.route import (
    CannotLeaveError,
    NoRouteError,
    RouteCheck,
    RouteError,
    RouteOptions,
    SnapError,
)
from road_network.route import check_route as _check_route
from road_network.route import check_routes as _check_routes
from road_network.vehicle import PRESETS, VehicleError, VehicleProfile
from twin.errors import InputError, NoRoute, NotFound, TwinError, Unavailable

# the limit lookups live in twin.services.limits; re-exported for existing callers
from twin.services.limits import (
    blocking_on_road,
    limits_in_bbox,
    limits_near,
    limits_on_road,
    structure_by_id,
)
from twin.settings import Settings

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "network.npz"
CHECK_INTERVAL_S = 5.0
_EDGE_LIMIT_COLUMNS = {
    "height": "max_height_cm",
    "width": "max_width_cm",
    "length": "max_length_cm",
    "weight": "max_weight_kg",
    "axle_load": "max_axle_load_kg",
}
_CONDITIONAL_KEYS = {
    "maxheight": "height",
    "maxwidth": "width",
    "maxlength": "length",
    "maxweight": "weight",
    "maxaxleload": "axle_load",
}
_HEIGHT_STRUCTURES = ("tunnel", "underpass", "height_restrictor")


# --------------------------------------------------------------------------- compile
def network_version(conn: Connection) -> str:
    """A fingerprint of everything routing depends on (edges, limits, links, asset states).

    Aggregates over the tables (about 20-50 ms on 100k edges), so :func:`get_graph` calls
    it at most every few seconds.
    """
    row = conn.execute(
        text(
            """
            SELECT
              (SELECT concat_ws(':', count(*), max(id), sum(hashtextextended(concat_ws(',',
                 source_node, target_node, length_m, speed_kmh, oneway, max_height_cm,
                 max_width_cm, max_length_cm, max_weight_kg, max_axle_load_kg, hgv, hazmat,
                 tunnel_category, conditional::text), 0) % 1000000007))
               FROM road_edge),
              (SELECT concat_ws(':', count(*), sum(hashtextextended(concat_ws(',', id,
                 asset_id, kind, value, unlimited, status, direction, conditional, valid_from,
                 valid_to), 0) % 1000000007)) FROM structure_limit),
              (SELECT concat_ws(':', count(*), sum(hashtextextended(concat_ws(',', asset_id,
                 edge_id, direction), 0) % 1000000007)) FROM asset_edge),
              (SELECT concat_ws(':', count(*), sum(hashtextextended(concat_ws(',', a.id,
                 a.lifecycle_state, a.kind, a.external_id), 0) % 1000000007))
               FROM asset a WHERE EXISTS (SELECT 1 FROM asset_edge ae WHERE ae.asset_id = a.id)),
              (SELECT count(*) FROM road_node)
            """
        )
    ).one()
    return hashlib.sha1("|".join(str(x) for x in row).encode()).hexdigest()[:16]


def network_revision(conn: Connection) -> str | None:
    """``token:counter`` of the ``network_revision`` row, which statement triggers bump on
    every change routing may depend on (one row: a cheap "did anything change?" before
    the full :func:`network_version`); None on a database without the table."""
    if not conn.execute(text("SELECT to_regclass('network_revision') IS NOT NULL")).scalar():
        return None
    value = conn.execute(
        text("SELECT token || ':' || counter FROM network_revision WHERE id = 1")
    ).scalar()
    return None if value is None else str(value)


def compile_graph(
    conn: Connection,
    *,
    landmarks: int = 16,
    version: str | None = None,
    previous: CompiledGraph | None = None,
) -> CompiledGraph:
    """Compile the routing graph from the database on ``conn``.

    ``previous`` (the graph being replaced) lends its CCH order, landmarks and bounds
    when the network's nodes and arcs (and costs) are unchanged.

    Raises
    ------
    NotFound
        The database holds no road edges.
    """
    import shapely

    version = version or network_version(conn)
    nodes = conn.execute(text("SELECT id, ST_X(geom), ST_Y(geom) FROM road_node ORDER BY id")).all()
    cols = ", ".join(_EDGE_LIMIT_COLUMNS.values())
    rows = conn.execute(
        text(
            f"SELECT e.id, e.source_node, e.target_node, e.length_m, e.speed_kmh, e.oneway, "
            f"{cols}, e.hgv, e.hazmat, e.tunnel_category, e.conditional, e.name, "
            f"COALESCE(r.code, e.ref), ST_AsBinary(e.geom) "
            f"FROM road_edge e LEFT JOIN road r ON r.id = e.road_id ORDER BY e.id"
        )
    ).all()
    if not rows:
        raise NotFound(
            "the database holds no road network (road_edge is empty)",
            hint="load one: twin load osm FILE, twin load sample or twin load synthetic",
        )
    cols_t = list(zip(*rows, strict=True))
    geoms = shapely.from_wkb([bytes(b) for b in cols_t[-1]])
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(np.bincount(idx, minlength=len(rows)), out=offsets[1:])
    limits = {}
    for i, kind in enumerate(_EDGE_LIMIT_COLUMNS):
        v = np.array([LIMIT_NONE if x is None else int(x) for x in cols_t[6 + i]], np.int64)
        limits[kind] = v
    hgv, hazmat, tunnel, cond_json = cols_t[11], cols_t[12], cols_t[13], cols_t[14]
    conditional: list[tuple[int, str, int, str | None]] = []
    for e, c in enumerate(cond_json):
        if c:
            conditional.extend(_edge_conditionals(e, c))
    edges = EdgeInput(
        ids=np.array(cols_t[0], np.int64),
        source=np.array(cols_t[1], np.int64),
        target=np.array(cols_t[2], np.int64),
        length_m=np.array(cols_t[3], np.float64),
        speed_kmh=np.array(cols_t[4], np.float64),
        oneway=np.array([bool(x) for x in cols_t[5]]),
        geom_offsets=offsets,
        geom_lon=coords[:, 0].copy(),
        geom_lat=coords[:, 1].copy(),
        road_code=list(cols_t[16]),
        name=list(cols_t[15]),
        limits=limits,
        hgv_no=np.array([x in ("no", "destination") for x in hgv]),
        hazmat_no=np.array([x == "no" for x in hazmat]),
        tunnel_rank=np.array([0 if not x else "ABCDE".index(x) for x in tunnel], np.int8),
        conditional=conditional,
    )
    structures = _structures(conn)
    ids = np.array([n[0] for n in nodes], np.int64)
    return _build(
        ids,
        np.array([n[1] for n in nodes], np.float64),
        np.array([n[2] for n in nodes], np.float64),
        edges,
        structures=structures,
        version=version,
        landmarks=landmarks,
        previous=previous,
    )


def _edge_conditionals(e: int, cond: dict[str, Any]) -> list[tuple[int, str, int, str | None]]:
    """Edge-own ``:conditional`` limits as written by the OSM loader:
    ``{"maxweight:conditional": [{"condition", "status", "value"}]}``."""
    out = []
    for key, items in cond.items():
        kind = _CONDITIONAL_KEYS.get(str(key).split(":")[0])
        if kind is None or not isinstance(items, list):
            continue
        for it in items:
            v = it.get("value") if isinstance(it, dict) else None
            if isinstance(v, int | float) and v > 0:
                out.append((e, kind, int(v), it.get("condition")))
    return out


def _structures(conn: Connection) -> list[dict[str, Any]]:
    """Assets linked to edges with their approved limits and links."""
    assets = conn.execute(
        text(
            "SELECT a.id, a.external_id, a.kind, COALESCE(a.name_en, a.name_zh), a.road_code, "
            "a.stake_m, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom)), "
            "a.lifecycle_state FROM asset a "
            "WHERE EXISTS (SELECT 1 FROM asset_edge ae WHERE ae.asset_id = a.id) ORDER BY a.id"
        )
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for a in assets:
        out[int(a[0])] = {
            "id": int(a[0]),
            "external_id": a[1],
            "kind": a[2],
            "name": a[3],
            "road_code": a[4],
            "stake_m": a[5],
            "lon": a[6],
            "lat": a[7],
            "state": a[8],
            "limits": [],
            "edges": [],
        }
    for r in conn.execute(
        text(
            "SELECT asset_id, kind, value, unlimited, direction, conditional, valid_from, "
            "valid_to FROM structure_limit WHERE status = 'approved' ORDER BY id"
        )
    ):
        s = out.get(int(r[0]))
        if s is None or r[1] not in LIMIT_UNITS or r[3]:
            continue  # not linked, non-numeric kind, or explicitly unlimited
        s["limits"].append(
            {
                "kind": r[1],
                "value": None if r[2] is None else int(r[2]),
                "direction": r[4] or "both",
                "conditional": r[5],
                "valid_from": None if r[6] is None else r[6].isoformat(),
                "valid_to": None if r[7] is None else r[7].isoformat(),
            }
        )
    for r in conn.execute(text("SELECT asset_id, edge_id, direction FROM asset_edge")):
        s = out.get(int(r[0]))
        if s is not None:
            s["edges"].append((int(r[1]), r[2] or "both"))
    for s in out.values():
        if s["kind"] in _HEIGHT_STRUCTURES and not any(x["kind"] == "height" for x in s["limits"]):
            s["limits"].append(
                {"kind": "height", "value": None, "direction": "both", "implied": True}
            )
    return list(out.values())


# --------------------------------------------------------------------------- store
@dataclass
class GraphStore:
    """The compiled graph of one database, kept in memory and in a snapshot file."""

    snapshot: Path
    check_interval_s: float = CHECK_INTERVAL_S
    graph: CompiledGraph | None = None
    #: :func:`network_revision` when the graph was last checked against the database
    revision: str | None = None
    checked_at: float = 0.0
    stale: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invalidate(self) -> None:
        """Re-check the database on the next :meth:`get`."""
        self.checked_at = 0.0

    def get(
        self, conn: Connection | None, *, connect: Any = None, background: bool = False
    ) -> CompiledGraph:
        """The current graph (see the module docstring).

        With ``background=True`` (the API's hot path) a graph already in memory is returned
        at once and a due re-check of the database runs in a thread, so requests never
        wait for the fingerprint query or a recompilation.
        """
        g = self.graph
        if g is not None and time.monotonic() - self.checked_at < self.check_interval_s:
            return g
        if g is not None and background and conn is None and connect is not None:
            if self.lock.acquire(blocking=False):
                self.checked_at = time.monotonic()  # one re-check per interval
                threading.Thread(target=self._background, args=(connect,), daemon=True).start()
            return g
        with self.lock:
            return self._get_locked(conn, connect)

    def _background(self, connect: Any) -> None:
        try:
            self._get_locked(None, connect, force=True, cheap=True)
        except Exception as exc:  # never kill the thread loudly; keep serving the graph
            log.warning("background route graph refresh failed: %s", exc)
        finally:
            self.lock.release()

    def _get_locked(
        self, conn: Connection | None, connect: Any, *, force: bool = False, cheap: bool = False
    ) -> CompiledGraph:
        g = self.graph
        fresh = time.monotonic() - self.checked_at < self.check_interval_s
        if g is not None and fresh and not force:
            return g
        try:
            if conn is None:
                if connect is None:
                    raise Unavailable("no database connection to compile the route graph")
                with connect() as c:
                    return self._refresh(c, cheap=cheap)
            return self._refresh(conn, cheap=cheap)
        except (OperationalError, Unavailable) as exc:
            return self._fallback(exc)

    def _refresh(self, conn: Connection, *, cheap: bool = False) -> CompiledGraph:
        """Check the graph against the database (compile when it changed). ``cheap`` (the
        serving process's periodic re-check) trusts an unchanged :func:`network_revision`
        instead of recomputing the fingerprint; explicit re-checks (:func:`invalidate`, a
        caller's own connection) always recompute it."""
        revision = network_revision(conn)
        if cheap and self.graph is not None and revision is not None and revision == self.revision:
            self.stale = False
            self.checked_at = time.monotonic()
            return self.graph
        version = network_version(conn)
        g = self.graph
        if g is None and self.snapshot.exists():
            g = _load_snapshot(self.snapshot)
        if g is None or g.version != version:
            t0 = time.perf_counter()
            g = compile_graph(conn, version=version, previous=g)
            log.info("route graph compiled in %.2f s (%d arcs)", time.perf_counter() - t0, g.n_arcs)
            try:
                g.save(self.snapshot)
            except OSError as exc:  # a read-only home must not stop routing
                log.warning("cannot write the graph snapshot %s: %s", self.snapshot, exc)
        if g is not self.graph:
            _ready(g)
        self.graph = g
        self.revision = revision
        self.stale = False
        self.checked_at = time.monotonic()
        return g

    def _fallback(self, exc: Exception) -> CompiledGraph:
        if self.graph is None and self.snapshot.exists():
            self.graph = _load_snapshot(self.snapshot)
            if self.graph is not None:
                _ready(self.graph)
        if self.graph is None:
            raise Unavailable(
                f"the database is unreachable and there is no graph snapshot at {self.snapshot}",
                hint="start the database (twin db up) once so the graph can be compiled",
            ) from exc
        log.warning("database unreachable; route checks served from the snapshot: %s", exc)
        self.stale = True
        self.checked_at = time.monotonic()
        return self.graph


def _ready(g: CompiledGraph) -> None:
    """Make a newly loaded graph ready to serve: build the CCH topology and customize the
    comparison-route metric now rather than in a request, then move everything alive
    into the garbage collector's permanent generation (``gc.freeze``) so that full
    collections in a worker do not walk the graph's and the libraries' objects."""
    t0 = time.perf_counter()
    cch.prepare(g)
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    log.info("route graph ready in %.2f s", time.perf_counter() - t0)


def warm(settings: Settings, *, connect: Any, budget_s: float = 15.0) -> CompiledGraph | None:
    """Make a serving process ready before it takes requests.

    Loads the graph from the snapshot (re-checked against the database, or served from
    the snapshot while the database is down), customizes the CCH metric and reachability
    of every vehicle preset (default options) until ``budget_s`` seconds are spent (else
    a worker customizes them mid-traffic once its clients' checks or no-route answers
    have cost enough ALT searches, a 0.25 s stall on 100k edges), and runs one route
    check per preset so that the snap index and the compiled kernels exist. Without this a
    fresh worker's first requests pay seconds of loading while their connections queue.

    Returns the graph, or None when there is no snapshot yet (the first request compiles
    it) or the network cannot be loaded (logged; requests will report it).
    """
    store = graph_store(settings)
    if not store.snapshot.exists():
        return None
    try:
        g = store.get(None, connect=connect)
    except TwinError as exc:
        log.warning("route graph not warmed: %s", exc)
        return None
    t0 = time.perf_counter()
    a, b = (g.node_lon[0], g.node_lat[0]), (g.node_lon[-1], g.node_lat[-1])
    for name, profile in PRESETS.items():
        if time.perf_counter() - t0 > budget_s:
            log.info("route graph warm-up stopped at preset %s (budget %.0f s)", name, budget_s)
            break
        if cch.available(g):
            mask = passable_mask(g, profile)
            cch.customize(g, mask, "time")
            cch.customize(g, mask, cch.REACH)  # no-route answers: a reachability query
        with contextlib.suppress(RouteError):  # an answer either way; only warming matters
            _check_route(g, profile, (float(a[0]), float(a[1])), (float(b[0]), float(b[1])))
    gc.collect()
    gc.freeze()
    log.info("route graph warm in %.2f s", time.perf_counter() - t0)
    return g


def _load_snapshot(path: Path) -> CompiledGraph | None:
    try:
        return CompiledGraph.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable graph snapshot %s: %s", path, exc)
        return None


_stores: dict[Path, GraphStore] = {}
_stores_lock = threading.Lock()


def graph_store(settings: Settings) -> GraphStore:
    """The process-wide store for ``settings`` (one per snapshot path)."""
    path = settings.snapshot_dir / SNAPSHOT_NAME
    with _stores_lock:
        store = _stores.get(path)
        if store is None:
            store = GraphStore(snapshot=path, check_interval_s=settings.graph_check_interval_s)
            _stores[path] = store
        return store


def get_graph(settings: Settings, conn: Connection | None = None) -> CompiledGraph:
    """The current compiled graph for ``settings``' database (see the module docstring).

    Parameters
    ----------
    settings:
        Settings (snapshot location, database).
    conn:
        A connection to check/compile with; when None one is opened from the settings'
        engine if needed.

    Raises
    ------
    Unavailable
        The database is down and there is no snapshot.
    NotFound
        The database has no road network.
    """
    from twin import db as dbm

    def connect() -> Any:
        try:
            return dbm.get_engine(settings).connect()
        except TwinError:
            raise
        except Exception as exc:
            raise Unavailable(f"cannot reach the database: {exc}") from exc

    return graph_store(settings).get(conn, connect=connect)


def invalidate(settings: Settings | None = None) -> None:
    """Make the next :func:`get_graph` re-check the database (all stores when None)."""
    with _stores_lock:
        stores = list(_stores.values())
    for s in stores:
        if settings is None or s.snapshot == settings.snapshot_dir / SNAPSHOT_NAME:
            s.invalidate()


# --------------------------------------------------------------------------- checks
def check_route(
    graph: CompiledGraph,
    vehicle: VehicleProfile,
    origin: tuple[float, float],
    destination: tuple[float, float],
    options: RouteOptions | None = None,
    *,
    geometry: bool = True,
) -> dict[str, Any]:
    """A route check as a JSON-ready dict; errors mapped to :mod:`twin.errors`.

    Raises
    ------
    InputError
        Bad coordinates/options, or a point beyond the snap radius.
    NoRoute
        No legal route, or an origin/destination enclosed by restricted edges; ``details``
        carries the blocking structures.
    """
    try:
        res = _check_route(graph, vehicle, origin, destination, options)
    except (RouteError, VehicleError) as exc:
        raise map_error(exc) from exc
    return _answer(graph, res, geometry=geometry)


def check_routes(
    graph: CompiledGraph,
    vehicle: VehicleProfile,
    pairs: Sequence[tuple[tuple[float, float], tuple[float, float]]],
    options: RouteOptions | None = None,
    *,
    geometry: bool = False,
) -> list[dict[str, Any]]:
    """A batch of OD pairs: one dict per pair, either an answer or ``{"error": ...}``."""
    try:
        results = _check_routes(graph, vehicle, pairs, options)
    except (RouteError, VehicleError) as exc:
        raise map_error(exc) from exc
    out: list[dict[str, Any]] = []
    for r in results:
        if isinstance(r, RouteCheck):
            out.append(_answer(graph, r, geometry=geometry))
        else:
            out.append(map_error(r).to_dict())
    return out


def _answer(graph: CompiledGraph, res: RouteCheck, *, geometry: bool) -> dict[str, Any]:
    body = res.to_dict(graph, geometry=geometry)
    body["graph_version"] = graph.version
    return body


def map_error(exc: Exception) -> TwinError:
    """The twin error for a core routing/vehicle error."""
    field_name = getattr(exc, "field", None)
    details = getattr(exc, "details", None)
    if isinstance(exc, CannotLeaveError | NoRouteError):
        return NoRoute(str(exc), details=details)
    if isinstance(exc, SnapError):
        return InputError(
            str(exc),
            hint="move the point onto a road or raise snap_radius_m",
            details={"field": field_name, **(details or {})},
        )
    if isinstance(exc, RouteError | VehicleError):
        return InputError(str(exc), details={"field": field_name})
    return TwinError(str(exc))


def pgrouting_edges_sql(v: VehicleProfile) -> str:
    """Edges SQL for pgRouting (``pgr_dijkstra``) applying the same per-vehicle rules as
    the compiled graph: cost/reverse_cost in seconds, -1 where the vehicle may not drive
    that direction (approved limits, link and limit direction, closed assets, edge-own
    limits; unknown values passable; conditional limits all applied). Used by the
    equivalence test and the benchmark as the peer."""
    values = (
        f"CASE l.kind WHEN 'height' THEN {int(v.height_cm)} WHEN 'width' THEN {int(v.width_cm)} "
        f"WHEN 'length' THEN {int(v.length_cm)} WHEN 'weight' THEN {int(v.gross_weight_kg)} "
        f"WHEN 'axle_load' THEN {int(v.axle_load_kg)} END"
    )

    def blocks(direction: str) -> str:
        return (
            f"bool_or(ae.direction IN ('both', '{direction}') AND ("
            "a.lifecycle_state IN ('closed', 'decommissioned') OR ("
            f"l.direction IN ('both', '{direction}') AND l.value < {values})))"
        )

    own = (
        f"(COALESCE(e.max_height_cm < {int(v.height_cm)}, false) OR "
        f"COALESCE(e.max_width_cm < {int(v.width_cm)}, false) OR "
        f"COALESCE(e.max_length_cm < {int(v.length_cm)}, false) OR "
        f"COALESCE(e.max_weight_kg < {int(v.gross_weight_kg)}, false) OR "
        f"COALESCE(e.max_axle_load_kg < {int(v.axle_load_kg)}, false))"
    )
    time_s = "e.length_m / (e.speed_kmh / 3.6)"
    return (
        "WITH blk AS (SELECT ae.edge_id, "
        f"{blocks('forward')} AS bf, {blocks('backward')} AS bb "
        "FROM asset_edge ae JOIN asset a ON a.id = ae.asset_id "
        "LEFT JOIN structure_limit l ON l.asset_id = a.id AND l.status = 'approved' "
        "AND NOT l.unlimited AND l.value IS NOT NULL GROUP BY ae.edge_id) "
        "SELECT e.id, e.source_node AS source, e.target_node AS target, "
        f"CASE WHEN {own} OR COALESCE(b.bf, false) THEN -1 ELSE {time_s} END AS cost, "
        f"CASE WHEN e.oneway OR {own} OR COALESCE(b.bb, false) THEN -1 ELSE {time_s} END "
        "AS reverse_cost FROM road_edge e LEFT JOIN blk b ON b.edge_id = e.id"
    )


__all__ = [
    "GraphStore",
    "blocking_on_road",
    "check_route",
    "check_routes",
    "compile_graph",
    "get_graph",
    "graph_store",
    "invalidate",
    "limits_in_bbox",
    "limits_near",
    "limits_on_road",
    "map_error",
    "network_revision",
    "network_version",
    "pgrouting_edges_sql",
    "structure_by_id",
]
