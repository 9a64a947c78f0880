"""Stake centrelines (linear referencing) for roads: ``twin load stakes FILE``.

Each centreline becomes the ``road`` row's geometry with its stake measure
(``stake_start_m``, ``stake_end_m``, ``chain_breaks``), marked ``source.centreline``.
Then, on that road:

- edges whose OSM ``ref`` names the road and that have no road yet are linked to it;
- every edge gets its stake range (its end points located on the centreline);
- assets on the road whose stake was not given by a register get theirs from their
  geometry (a register's stake is the authority's own and is kept).

All of it runs in the caller's transaction: a bad file raises before anything is
written, and a failure half-way leaves the database as it was.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely import LineString, Point, wkb
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from loaders.centrelines import Centreline, CentrelineError, read_centrelines
from road_network.stake import LinearRoute, StakeError, parse_chain_breaks, to_metric
from twin.errors import InputError

#: Administrative level by the road code's first letter (JTG road numbering).
ADMIN_LEVEL = {"G": "national", "S": "provincial", "X": "county", "Y": "township"}


@dataclass
class StakesReport:
    """What ``load_centrelines`` did."""

    file: str
    roads: int = 0
    roads_created: int = 0
    edges_linked: int = 0
    edges_with_stakes: int = 0
    assets_with_stakes: int = 0
    seconds: float = 0.0
    per_road: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def load_centrelines(
    conn: Connection,
    path: str | Path,
    *,
    layer: str | None = None,
    source: dict[str, Any] | None = None,
) -> StakesReport:
    """Load a centreline file (see :mod:`loaders.centrelines`) onto the roads.

    Parameters
    ----------
    conn:
        Connection inside the caller's transaction.
    path:
        GeoJSON or GeoPackage file.
    layer:
        GeoPackage layer.
    source:
        Extra provenance merged into ``road.source`` (e.g. the sample's dataset name).

    Raises
    ------
    InputError
        The file is unreadable or a feature is invalid (every problem listed in
        ``details.problems``); nothing is written.
    """
    t0 = time.perf_counter()
    p = Path(path)
    try:
        lines = read_centrelines(p, layer=layer)
        routes = [(c, _route(c)) for c in lines]
    except CentrelineError as exc:
        shown = exc.problems[:10]
        more = len(exc.problems) - len(shown)
        raise InputError(
            "\n".join(shown) + (f"\n... and {more} more" if more > 0 else ""),
            details={"file": str(p), "problems": exc.problems},
            hint="one LineString per road with code, stake_start (K0+000) and chain_breaks",
        ) from exc
    report = StakesReport(file=p.name)
    src = {"file": p.name, "centreline": True, **(source or {})}
    for c, route in routes:
        rid, created = _upsert_road(conn, c, route, src)
        linked = _link_edges(conn, rid, c.code)
        n_edges = _edge_stakes(conn, rid, route)
        n_assets = asset_stakes(conn, rid, route)
        report.roads += 1
        report.roads_created += int(created)
        report.edges_linked += linked
        report.edges_with_stakes += n_edges
        report.assets_with_stakes += n_assets
        report.per_road.append(
            {
                "code": c.code,
                "length_m": round(route.length_m, 1),
                "stake_start_m": route.stake_start_m,
                "stake_end_m": round(route.stake_end_m, 1),
                "edges": n_edges,
                "assets": n_assets,
            }
        )
    report.seconds = time.perf_counter() - t0
    return report


def restake(conn: Connection, road_ids: list[int]) -> int:
    """Recompute edge and asset stakes on those of ``road_ids`` that have a stake
    centreline (after a network re-import replaced their edges); returns edges done."""
    rows = conn.execute(
        text(
            "SELECT id, code, ST_AsBinary(geom) AS g, stake_start_m, chain_breaks FROM road "
            "WHERE id = ANY(:ids) AND geom IS NOT NULL "
            "AND COALESCE(source->>'centreline', 'false') = 'true'"
        ),
        {"ids": road_ids},
    ).all()
    done = 0
    for rid, code, g, start, breaks in rows:
        try:
            route = LinearRoute(
                to_metric(wkb.loads(bytes(g))),  # type: ignore[arg-type]
                stake_start_m=float(start or 0.0),
                chain_breaks=parse_chain_breaks(breaks),
                code=code,
            )
        except StakeError:
            continue  # a centreline the database accepted but stakes cannot use: left as is
        done += _edge_stakes(conn, rid, route)
        asset_stakes(conn, rid, route)
    return done


def _route(c: Centreline) -> LinearRoute:
    try:
        return LinearRoute(
            to_metric(c.line),  # type: ignore[arg-type]
            stake_start_m=c.stake_start_m,
            chain_breaks=c.chain_breaks,
            code=c.code,
        )
    except StakeError as exc:
        raise CentrelineError(f"feature {c.feature}: {exc}", [str(exc)]) from exc


def _upsert_road(
    conn: Connection, c: Centreline, route: LinearRoute, src: dict[str, Any]
) -> tuple[int, bool]:
    """The road row for ``c`` (created or updated); True when created."""
    row = conn.execute(
        text(
            "INSERT INTO road (code, name_zh, name_en, road_class, admin_level, geom, "
            "stake_start_m, stake_end_m, chain_breaks, source) VALUES (:code, :zh, :en, "
            ":cls, :adm, ST_Multi(ST_GeomFromText(:wkt, 4326)), :s0, :s1, :br, :src) "
            "ON CONFLICT (code) DO UPDATE SET "
            "name_zh = COALESCE(EXCLUDED.name_zh, road.name_zh), "
            "name_en = COALESCE(EXCLUDED.name_en, road.name_en), "
            "road_class = CASE WHEN EXCLUDED.road_class = 'other' THEN road.road_class "
            "ELSE EXCLUDED.road_class END, "
            "admin_level = COALESCE(EXCLUDED.admin_level, road.admin_level), "
            "geom = EXCLUDED.geom, stake_start_m = EXCLUDED.stake_start_m, "
            "stake_end_m = EXCLUDED.stake_end_m, chain_breaks = EXCLUDED.chain_breaks, "
            "source = road.source || EXCLUDED.source "
            "RETURNING id, (xmax = 0) AS created"
        ).bindparams(bindparam("br", type_=JSONB), bindparam("src", type_=JSONB)),
        {
            "code": c.code,
            "zh": c.name_zh,
            "en": c.name_en,
            "cls": c.road_class or "other",
            "adm": ADMIN_LEVEL.get(c.code[:1]),
            "wkt": c.line.wkt,
            "s0": route.stake_start_m,
            "s1": route.stake_end_m,
            "br": json.loads(json.dumps(c.chain_breaks_raw)),
            "src": src,
        },
    ).one()
    return int(row.id), bool(row.created)


def _link_edges(conn: Connection, road_id: int, code: str) -> int:
    """Edges whose OSM ref names the road and that belong to no road yet."""
    res = conn.execute(
        text(
            "UPDATE road_edge SET road_id = :rid WHERE road_id IS NULL AND "
            ":code = split_part(replace(ref, ' ', ''), ';', 1)"
        ),
        {"rid": road_id, "code": code},
    )
    return int(res.rowcount or 0)


def _edge_stakes(conn: Connection, road_id: int, route: LinearRoute) -> int:
    """Stake range of each of the road's edges: its end points located on the line."""
    edges = conn.execute(
        text(
            "SELECT id, ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)), "
            "ST_X(ST_EndPoint(geom)), ST_Y(ST_EndPoint(geom)) FROM road_edge "
            "WHERE road_id = :rid"
        ),
        {"rid": road_id},
    ).all()
    updates = []
    for eid, x0, y0, x1, y1 in edges:
        a, b = _metric_points(x0, y0, x1, y1)
        updates.append({"i": eid, "f": route.locate(a)[0], "t": route.locate(b)[0]})
    if updates:
        conn.execute(
            text("UPDATE road_edge SET stake_from_m = :f, stake_to_m = :t WHERE id = :i"),
            updates,
        )
    return len(updates)


def asset_stakes(conn: Connection, road_id: int, route: LinearRoute) -> int:
    """Stake (range) of the road's assets from their geometry, except where a register
    gave the stake (``source.stake_given``)."""
    rows = conn.execute(
        text(
            "SELECT id, ST_X(ST_StartPoint(g)), ST_Y(ST_StartPoint(g)), ST_X(ST_EndPoint(g)), "
            "ST_Y(ST_EndPoint(g)) FROM (SELECT id, CASE WHEN GeometryType(geom) = 'LINESTRING' "
            "THEN geom ELSE ST_MakeLine(ST_PointOnSurface(geom), ST_PointOnSurface(geom)) END "
            "AS g FROM asset WHERE road_id = :r AND geom IS NOT NULL "
            "AND COALESCE(source->>'stake_given', 'false') <> 'true') a"
        ),
        {"r": road_id},
    ).all()
    updates = []
    for aid, x0, y0, x1, y1 in rows:
        a, b = _metric_points(x0, y0, x1, y1)
        s0, s1 = route.locate(a)[0], route.locate(b)[0]
        lo, hi = min(s0, s1), max(s0, s1)
        updates.append({"i": aid, "s": lo, "e": hi if hi - lo > 0.5 else None})
    if updates:
        conn.execute(text("UPDATE asset SET stake_m = :s, stake_end_m = :e WHERE id = :i"), updates)
    return len(updates)


def _metric_points(x0: float, y0: float, x1: float, y1: float) -> tuple[Point, Point]:
    line = to_metric(LineString([(x0, y0), (x1, y1)]))
    a, b = (Point(c) for c in line.coords)  # type: ignore[attr-defined]
    return a, b
