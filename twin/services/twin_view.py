"""Queries that feed the twin's scenes: plain dicts with EPSG:4326 coordinates.

Every function takes a SQLAlchemy ``Connection`` or ``Session`` (so tests run them inside
their rolled-back transaction) and returns lists of dicts shaped as the ``scenes`` modules
expect. Limits come back in the stored units (cm, kg); the scenes convert for display.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from twin.errors import InputError, NotFound

DB = Connection | Session

#: OSM ``highway`` -> our road class, used when an edge has no ``road`` row.
HIGHWAY_CLASS_SQL = """
CASE
  WHEN e.highway IN ('motorway','motorway_link') THEN 'motorway'
  WHEN e.highway IN ('trunk','trunk_link') THEN 'trunk'
  WHEN e.highway IN ('primary','primary_link') THEN 'primary'
  WHEN e.highway IN ('secondary','secondary_link') THEN 'secondary'
  WHEN e.highway IN ('tertiary','tertiary_link') THEN 'tertiary'
  WHEN e.highway IN ('track','unclassified') THEN 'rural'
  ELSE 'other'
END
"""
ROAD_CLASS_SQL = f"COALESCE(NULLIF(r.road_class, 'other'), {HIGHWAY_CLASS_SQL})"

#: Latest condition class of the pavement sections governing an edge (1..5, NULL unknown).
EDGE_CONDITION_SQL = """
(SELECT max(li.condition_class)
   FROM asset_edge ae
   JOIN asset pa ON pa.id = ae.asset_id AND pa.kind = 'pavement_section'
   JOIN LATERAL (SELECT i.condition_class FROM inspection i
                  WHERE i.asset_id = pa.id AND i.condition_class IS NOT NULL
                  ORDER BY i.inspected_on DESC, i.id DESC LIMIT 1) li ON true
  WHERE ae.edge_id = e.id)
"""

#: Latest condition class of an asset: newest inspection, else ``attributes.condition_class``.
ASSET_CONDITION_SQL = """
COALESCE(
  (SELECT i.condition_class FROM inspection i
    WHERE i.asset_id = a.id AND i.condition_class IS NOT NULL
    ORDER BY i.inspected_on DESC, i.id DESC LIMIT 1),
  CASE WHEN (a.attributes->>'condition_class') ~ '^[1-5]$'
       THEN (a.attributes->>'condition_class')::int END)
"""

#: Smallest approved limit of a kind in force now.
LIMIT_SQL = """
(SELECT min(l.value) FROM structure_limit l
  WHERE l.asset_id = a.id AND l.kind = '{kind}' AND l.status = 'approved'
    AND l.value IS NOT NULL
    AND (l.valid_from IS NULL OR l.valid_from <= now())
    AND (l.valid_to IS NULL OR l.valid_to > now()))
"""

STRUCTURE_KINDS = ("bridge", "tunnel", "underpass", "height_restrictor", "culvert")

#: Vector-tile layers served by ``/tiles/{layer}/{z}/{x}/{y}.pbf``.
TILE_LAYERS = ("road_edge", "asset")
#: Road classes drawn below a zoom level (fewer, bigger roads when zoomed out).
TILE_MIN_ZOOM_CLASSES: list[tuple[int, tuple[str, ...] | None]] = [
    (8, ("motorway", "trunk")),
    (10, ("motorway", "trunk", "primary")),
    (12, ("motorway", "trunk", "primary", "secondary", "port")),
    (99, None),
]


def stake_label(stake_m: float | None) -> str | None:
    """``K12+345`` for 12,345 m (None when unknown)."""
    if stake_m is None:
        return None
    m = round(float(stake_m))
    return f"K{m // 1000}+{m % 1000:03d}"


def _rows(db: DB, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in db.execute(text(sql), params)]


def _coords(geojson: str | None) -> Any:
    if not geojson:
        return None
    return json.loads(geojson)["coordinates"]


# --------------------------------------------------------------------------- network
def network_summary(db: DB) -> dict[str, Any]:
    """Edge, structure and asset counts and the network's extent (min_lon, min_lat, ...)."""
    row = db.execute(
        text(
            "SELECT (SELECT count(*) FROM road_edge) AS edges,"
            " (SELECT count(*) FROM asset) AS assets,"
            " (SELECT count(*) FROM port_yard) AS yards,"
            " (SELECT count(*) FROM v2x_unit) AS rsus,"
            " (SELECT count(*) FROM village) AS villages,"
            " (SELECT ST_Extent(geom) FROM road_edge)::text AS ext"
        )
    ).one()
    return {
        "edges": int(row.edges),
        "assets": int(row.assets),
        "yards": int(row.yards),
        "rsus": int(row.rsus),
        "villages": int(row.villages),
        "extent": _parse_box(row.ext),
    }


def _parse_box(box: str | None) -> tuple[float, float, float, float] | None:
    """``BOX(x1 y1,x2 y2)`` -> (x1, y1, x2, y2)."""
    if not box:
        return None
    inner = box[box.index("(") + 1 : box.index(")")]
    a, b = inner.split(",")
    x1, y1 = (float(v) for v in a.split())
    x2, y2 = (float(v) for v in b.split())
    return x1, y1, x2, y2


def road_edges(
    db: DB,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    road_classes: tuple[str, ...] | None = None,
    limit: int = 50_000,
    simplify_deg: float = 0.0,
) -> list[dict[str, Any]]:
    """Road edges with class, limits and pavement condition class (for inline drawing).

    ``simplify_deg`` > 0 drops vertices closer than that to the line
    (ST_SimplifyPreserveTopology; 0.00001 deg ~ 1 m, invisible on the overview, about a
    third fewer points on the OSM sample); end points always stay."""
    where = ["true"]
    params: dict[str, Any] = {"limit": int(limit), "tol": float(simplify_deg)}
    if bbox is not None:
        where.append("e.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        params.update(x1=bbox[0], y1=bbox[1], x2=bbox[2], y2=bbox[3])
    if road_classes:
        where.append(f"{ROAD_CLASS_SQL} = ANY(:classes)")
        params["classes"] = list(road_classes)
    rows = _rows(
        db,
        f"""
        SELECT e.id, {ROAD_CLASS_SQL} AS road_class, e.highway, e.name, e.ref,
               e.max_height_cm, e.max_weight_kg, e.is_bridge, e.is_tunnel,
               {EDGE_CONDITION_SQL} AS cond_class,
               ST_AsGeoJSON(CASE WHEN :tol > 0
                                 THEN ST_SimplifyPreserveTopology(e.geom, :tol)
                                 ELSE e.geom END, 5) AS gj
          FROM road_edge e LEFT JOIN road r ON r.id = e.road_id
         WHERE {" AND ".join(where)}
         ORDER BY e.id LIMIT :limit
        """,
        **params,
    )
    for r in rows:
        r["path"] = _coords(r.pop("gj"))
    return rows


#: Drawing order of the basemap areas (bottom first): land use under water.
LAND_AREA_ORDER = (
    "farmland",
    "park",
    "urban",
    "residential",
    "industrial",
    "port",
    "other",
    "wetland",
    "water",
    "river",
    "sea",
)


def land_areas(
    db: DB,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    tolerance_deg: float = 0.0002,
    min_area_deg2: float = 0.0,
) -> list[dict[str, Any]]:
    """Water and land-use areas for the offline basemap, light enough for one layer.

    One row per polygon part: ``{"kind", "name", "name_en", "polygon": [outer ring,
    hole, ...]}`` (lon/lat, 5 decimals), land use first and water last (drawing order).
    Geometry is simplified by ``tolerance_deg`` (~20 m by default, invisible at city
    zoom) and parts smaller than ``min_area_deg2`` are dropped.

    Parameters
    ----------
    db:
        Connection or session.
    bbox:
        Only areas intersecting (min_lon, min_lat, max_lon, max_lat).
    tolerance_deg:
        Douglas-Peucker tolerance in degrees (topology kept).
    min_area_deg2:
        Smallest part kept, in square degrees.
    """
    where = ["true"]
    params: dict[str, Any] = {"tol": float(tolerance_deg), "min_area": float(min_area_deg2)}
    if bbox is not None:
        where.append("l.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        params.update(x1=bbox[0], y1=bbox[1], x2=bbox[2], y2=bbox[3])
    order = ", ".join(f"'{k}'" for k in LAND_AREA_ORDER)
    rows = _rows(
        db,
        f"""
        SELECT l.kind, l.name, l.name_en, ST_AsGeoJSON(d.geom, 5) AS gj
          FROM land_area l,
               LATERAL ST_Dump(ST_SimplifyPreserveTopology(l.geom, :tol)) AS d
         WHERE {" AND ".join(where)} AND NOT ST_IsEmpty(d.geom)
           AND ST_Area(d.geom) >= :min_area
         ORDER BY array_position(ARRAY[{order}]::text[], l.kind::text), l.id, d.path
        """,
        **params,
    )
    for r in rows:
        r["polygon"] = _coords(r.pop("gj"))
    return rows


def structures(db: DB, *, kinds: tuple[str, ...] = STRUCTURE_KINDS) -> list[dict[str, Any]]:
    """Bridges, tunnels, underpasses, restrictors: position, footprint, limits, condition.

    Line geometries get a 15 m footprint buffer (computed in EPSG:4548) so they can be
    extruded; points have no footprint.
    """
    rows = _rows(
        db,
        f"""
        SELECT a.id AS asset_id, a.external_id, a.kind, a.name_zh, a.name_en, a.road_code,
               a.stake_m, a.lifecycle_state,
               {LIMIT_SQL.format(kind="height")} AS height_cm,
               {LIMIT_SQL.format(kind="weight")} AS weight_kg,
               {ASSET_CONDITION_SQL} AS cond_class,
               ST_AsGeoJSON(ST_PointOnSurface(a.geom), 6) AS pos,
               CASE
                 WHEN GeometryType(a.geom) IN ('POLYGON') THEN ST_AsGeoJSON(a.geom, 6)
                 WHEN GeometryType(a.geom) IN ('LINESTRING','MULTILINESTRING') THEN
                   ST_AsGeoJSON(ST_Transform(ST_Buffer(ST_Transform(a.geom, 4548), 15,
                                'endcap=flat'), 4326), 6)
               END AS poly
          FROM asset a
         WHERE a.kind = ANY(:kinds)
         ORDER BY a.id
        """,
        kinds=list(kinds),
    )
    for r in rows:
        r["position"] = _coords(r.pop("pos"))
        poly = _coords(r.pop("poly"))
        r["polygon"] = poly[0] if poly else None
        r["stake"] = stake_label(r.pop("stake_m"))
    return rows


def corridor_bounds(
    db: DB, name_fragments: dict[str, tuple[str, ...]]
) -> dict[str, tuple[float, float, float, float] | None]:
    """Extent of the roads/edges whose names contain one of each key's fragments.

    The key ``cam_port`` is framed on the port yards when there are any.
    """
    out: dict[str, tuple[float, float, float, float] | None] = {}
    for key, frags in name_fragments.items():
        if key == "cam_port":
            box = db.execute(text("SELECT ST_Extent(geom)::text FROM port_yard")).scalar()
            if box:
                out[key] = _parse_box(box)
                continue
        pats = [f"%{f}%" for f in frags]
        box = db.execute(
            text(
                "SELECT ST_Extent(g)::text FROM ("
                " SELECT geom AS g FROM road WHERE name_zh ILIKE ANY(:p) OR name_en ILIKE ANY(:p)"
                " UNION ALL SELECT geom FROM road_edge WHERE name ILIKE ANY(:p)) q"
            ),
            {"p": pats},
        ).scalar()
        out[key] = _parse_box(box)
    return out


# --------------------------------------------------------------------------- inspector
def asset_card(db: DB, asset_id: int) -> dict[str, Any]:
    """Everything the inspector panel shows about one asset straight from the tables.

    Returns ``{"asset", "limits", "inspections", "work_orders", "bim_models", "rsu"}``.
    """
    asset = _rows(
        db,
        f"""
        SELECT a.id, a.external_id, a.kind, a.name_zh, a.name_en, a.road_code, a.stake_m,
               a.stake_end_m, a.lifecycle_state, a.owner, a.built_on, a.attributes,
               {ASSET_CONDITION_SQL} AS cond_class,
               ST_X(ST_PointOnSurface(a.geom)) AS lon, ST_Y(ST_PointOnSurface(a.geom)) AS lat
          FROM asset a WHERE a.id = :id
        """,
        id=int(asset_id),
    )
    if not asset:
        raise NotFound(f"asset {asset_id} does not exist", hint="click an object on the map")
    card: dict[str, Any] = {"asset": asset[0]}
    card["asset"]["stake"] = stake_label(asset[0]["stake_m"])
    card["limits"] = _rows(
        db,
        "SELECT kind, value, value_text, unlimited, source_kind, status, direction,"
        " conditional, valid_from, valid_to, note FROM structure_limit"
        " WHERE asset_id = :id ORDER BY kind, status",
        id=int(asset_id),
    )
    card["inspections"] = _rows(
        db,
        "SELECT id, inspected_on, inspector, kind, method, overall_score, condition_class,"
        " grade, notes, synthetic FROM inspection WHERE asset_id = :id"
        " ORDER BY inspected_on, id",
        id=int(asset_id),
    )
    card["work_orders"] = _rows(
        db,
        "SELECT id, kind, status, title, assignee, estimated_cost_cny, cost_cny, opened_on,"
        " due_on, closed_on FROM work_order WHERE asset_id = :id ORDER BY opened_on DESC, id DESC",
        id=int(asset_id),
    )
    card["bim_models"] = _rows(
        db,
        "SELECT id, file_name, ifc_schema, authoring_app, element_count, glb_path, georef,"
        " ST_AsGeoJSON(footprint, 7) AS footprint FROM bim_model WHERE asset_id = :id",
        id=int(asset_id),
    )
    for m in card["bim_models"]:
        fp = _coords(m.pop("footprint"))
        m["footprint"] = fp[0] if fp else None
    return card


def record_inspection_rows(
    db: DB,
    asset_id: int,
    *,
    inspected_on: dt.date,
    inspector: str,
    overall_score: float | None,
    condition_class: int | None,
    notes: str | None = None,
) -> int:
    """Insert an inspection and its audit-log line (used until ``twin.services.assets``
    offers its own); returns the new inspection id."""
    if overall_score is not None and not 0 <= overall_score <= 100:
        raise InputError(f"overall_score {overall_score} is outside 0–100")
    if condition_class is not None and condition_class not in (1, 2, 3, 4, 5):
        raise InputError(f"condition_class {condition_class} is not one of 1–5")
    new_id = db.execute(
        text(
            "INSERT INTO inspection (asset_id, inspected_on, inspector, kind, overall_score,"
            " condition_class, notes, component_scores, source, synthetic)"
            " VALUES (:a, :d, :who, 'periodic', :s, :c, :n, '{}'::jsonb,"
            ' \'{"via": "twin app"}\'::jsonb, false) RETURNING id'
        ),
        {
            "a": asset_id,
            "d": inspected_on,
            "who": inspector,
            "s": overall_score,
            "c": condition_class,
            "n": notes,
        },
    ).scalar_one()
    _audit(
        db,
        inspector,
        "record_inspection",
        "inspection",
        new_id,
        {"asset_id": asset_id, "overall_score": overall_score, "condition_class": condition_class},
    )
    return int(new_id)


def create_work_order_row(
    db: DB,
    asset_id: int,
    *,
    actor: str,
    kind: str,
    title: str,
    due_on: dt.date | None = None,
    estimated_cost_cny: float | None = None,
) -> int:
    """Insert an open work order and its audit-log line (until ``twin.services.assets``
    offers its own); returns the new work-order id."""
    from twin.schema import WORK_ORDER_KINDS

    if kind not in WORK_ORDER_KINDS:
        raise InputError(f"work order kind {kind!r} is not one of {', '.join(WORK_ORDER_KINDS)}")
    if not title.strip():
        raise InputError("work order title is empty")
    new_id = db.execute(
        text(
            "INSERT INTO work_order (asset_id, kind, status, title, due_on, estimated_cost_cny)"
            " VALUES (:a, :k, 'open', :t, :d, :c) RETURNING id"
        ),
        {"a": asset_id, "k": kind, "t": title.strip(), "d": due_on, "c": estimated_cost_cny},
    ).scalar_one()
    _audit(
        db,
        actor,
        "create_work_order",
        "work_order",
        new_id,
        {"asset_id": asset_id, "kind": kind, "title": title},
    )
    return int(new_id)


def _audit(
    db: DB, actor: str, action: str, entity: str, entity_id: Any, after: dict[str, Any]
) -> None:
    db.execute(
        text(
            "INSERT INTO audit_log (actor, action, entity, entity_id, after)"
            " VALUES (:who, :act, :ent, :eid, CAST(:after AS jsonb))"
        ),
        {
            "who": actor,
            "act": action,
            "ent": entity,
            "eid": str(entity_id),
            "after": json.dumps(after, default=str),
        },
    )


# --------------------------------------------------------------------------- port / v2x / rural
def port_features(db: DB) -> dict[str, list[dict[str, Any]]]:
    """Yards (with blocks and gates by ``kind``), lanes with their mode, and the port roads."""
    yards = _rows(
        db,
        "SELECT id, code, name_zh, name_en, kind, attrs, GeometryType(geom) AS gtype,"
        " ST_AsGeoJSON(geom, 6) AS gj, ST_AsGeoJSON(ST_PointOnSurface(geom), 6) AS pos"
        " FROM port_yard ORDER BY id",
    )
    for y in yards:
        coords = _coords(y.pop("gj"))
        gtype = y.pop("gtype")
        y["polygon"] = (
            coords[0] if gtype == "POLYGON" else (coords[0][0] if gtype == "MULTIPOLYGON" else None)
        )
        y["position"] = _coords(y.pop("pos"))
    lanes = _rows(
        db,
        "SELECT l.id, l.code, l.mode, l.attrs, y.code AS yard_code, ST_AsGeoJSON(l.geom, 6) AS gj"
        " FROM port_lane l LEFT JOIN port_yard y ON y.id = l.yard_id ORDER BY l.id",
    )
    for ln in lanes:
        ln["path"] = _coords(ln.pop("gj"))
    return {"yards": yards, "lanes": lanes}


def v2x_features(db: DB) -> dict[str, list[dict[str, Any]]]:
    """RSUs with range and stake, and their messages (RSI events) with positions."""
    units = _rows(
        db,
        "SELECT u.id, u.code, u.road_code, u.stake_m, u.range_m, u.message_sets, u.status,"
        " u.asset_id, ST_X(u.geom) AS lon, ST_Y(u.geom) AS lat FROM v2x_unit u"
        " ORDER BY u.road_code, u.stake_m NULLS LAST, u.id",
    )
    for u in units:
        u["position"] = [u.pop("lon"), u.pop("lat")]
        u["stake"] = stake_label(u["stake_m"])
    msgs = _rows(
        db,
        "SELECT m.id, m.unit_id, m.msg_type, m.event_type, m.period_ms, m.payload,"
        " ST_X(COALESCE(m.geom, u.geom)) AS lon, ST_Y(COALESCE(m.geom, u.geom)) AS lat"
        " FROM v2x_message m LEFT JOIN v2x_unit u ON u.id = m.unit_id"
        " WHERE (m.valid_to IS NULL OR m.valid_to > now()) ORDER BY m.id",
    )
    for m in msgs:
        m["position"] = [m.pop("lon"), m.pop("lat")]
    return {"units": units, "messages": msgs}


def villages(db: DB) -> list[dict[str, Any]]:
    """Villages with population and the distance to the nearest road edge (m, EPSG:4548)."""
    rows = _rows(
        db,
        """
        SELECT v.id, v.code, v.name_zh, v.name_en, v.population,
               ST_X(v.geom) AS lon, ST_Y(v.geom) AS lat,
               (SELECT ST_Distance(ST_Transform(v.geom, 4548), ST_Transform(e.geom, 4548))
                  FROM road_edge e ORDER BY e.geom <-> v.geom LIMIT 1) AS road_distance_m
          FROM village v ORDER BY v.id
        """,
    )
    for r in rows:
        r["position"] = [r.pop("lon"), r.pop("lat")]
    return rows


def named_places(db: DB, *, limit: int = 200) -> list[dict[str, Any]]:
    """Places to pick as route origin/destination: villages, port yards/gates, structures."""
    rows = _rows(
        db,
        """
        SELECT 'village' AS kind, code, name_zh, name_en, ST_X(geom) AS lon, ST_Y(geom) AS lat
          FROM village
        UNION ALL
        SELECT kind, code, name_zh, name_en, ST_X(ST_PointOnSurface(geom)),
               ST_Y(ST_PointOnSurface(geom)) FROM port_yard
        UNION ALL
        SELECT 'road', code, name_zh, name_en,
               ST_X(ST_LineInterpolatePoint(ST_GeometryN(geom, 1), 0.5)),
               ST_Y(ST_LineInterpolatePoint(ST_GeometryN(geom, 1), 0.5))
          FROM road WHERE geom IS NOT NULL
        LIMIT :limit
        """,
        limit=int(limit),
    )
    for r in rows:
        r["position"] = [r.pop("lon"), r.pop("lat")]
    return rows


def scenarios(db: DB) -> list[dict[str, Any]]:
    """Scenario rows (newest first) with their parameters and result."""
    return _rows(
        db,
        "SELECT id, name, kind, params, result, status, created_by, created_at FROM scenario"
        " ORDER BY created_at DESC, id DESC",
    )


# --------------------------------------------------------------------------- vector tiles
def tile_mvt(db: DB, layer: str, z: int, x: int, y: int) -> bytes:
    """One Mapbox Vector Tile of ``layer`` built by PostGIS (``ST_AsMVT``).

    ``road_edge`` features carry ``id, road_class, highway, name, ref, max_height_cm,
    max_weight_kg, is_bridge, is_tunnel``; at low zoom only the bigger road classes are
    included (see :data:`TILE_MIN_ZOOM_CLASSES`). ``asset`` features carry ``id, kind,
    external_id, name_zh, name_en, lifecycle_state``.
    """
    check_tile(layer, z, x, y)
    params = {"z": z, "x": x, "y": y}
    if layer == "road_edge":
        classes = next(c for zmax, c in TILE_MIN_ZOOM_CLASSES if z < zmax)
        cls_filter = ""
        if classes is not None:
            cls_filter = f"AND {ROAD_CLASS_SQL} = ANY(:classes)"
            params["classes"] = list(classes)  # type: ignore[assignment]
        sql = f"""
        WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                          ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015), 4326) AS env4326)
        SELECT ST_AsMVT(q, 'road_edge', 4096, 'geom', 'id') FROM (
          SELECT e.id, {ROAD_CLASS_SQL} AS road_class, e.highway, e.name, e.ref,
                 e.max_height_cm, e.max_weight_kg, e.is_bridge, e.is_tunnel,
                 ST_AsMVTGeom(ST_Transform(e.geom, 3857), b.env, 4096, 64, true) AS geom
            FROM road_edge e LEFT JOIN road r ON r.id = e.road_id, b
           WHERE e.geom && b.env4326 {cls_filter}
        ) q WHERE q.geom IS NOT NULL
        """
    else:
        sql = """
        WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                          ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015), 4326) AS env4326)
        SELECT ST_AsMVT(q, 'asset', 4096, 'geom', 'id') FROM (
          SELECT a.id, a.kind, a.external_id, a.name_zh, a.name_en, a.lifecycle_state,
                 ST_AsMVTGeom(ST_Transform(a.geom, 3857), b.env, 4096, 64, true) AS geom
            FROM asset a, b
           WHERE a.geom && b.env4326
        ) q WHERE q.geom IS NOT NULL
        """
    data = db.execute(text(sql), params).scalar()
    return bytes(data) if data else b""


def check_tile(layer: str, z: int, x: int, y: int) -> None:
    """Raise :class:`InputError` for an unknown layer or a tile outside the zoom's grid."""
    if layer not in TILE_LAYERS:
        raise InputError(
            f"tile layer {layer!r} is unknown", hint=f"use one of: {', '.join(TILE_LAYERS)}"
        )
    if not 0 <= z <= 22:
        raise InputError(f"zoom z={z} is outside 0–22")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise InputError(f"tile x={x}, y={y} is outside 0–{n - 1} at zoom {z}")


def pick_nodes(db: DB, *, limit: int = 5_000) -> list[dict[str, Any]]:
    """Road junctions (nodes with three or more edges, else all nodes) to click on as route
    origin/destination: ``{"id", "position", "label"}``."""
    rows = _rows(
        db,
        """
        WITH deg AS (
          SELECT n, count(*) AS d FROM (
            SELECT source_node AS n FROM road_edge UNION ALL SELECT target_node FROM road_edge) q
          GROUP BY n)
        SELECT rn.id, ST_X(rn.geom) AS lon, ST_Y(rn.geom) AS lat, deg.d
          FROM road_node rn JOIN deg ON deg.n = rn.id
         ORDER BY (deg.d >= 3) DESC, rn.id LIMIT :limit
        """,
        limit=int(limit),
    )
    return [
        {
            "id": r["id"],
            "position": [round(r["lon"], 6), round(r["lat"], 6)],
            "label": f"#{r['id']} ({r['lon']:.5f}, {r['lat']:.5f})",
        }
        for r in rows
    ]


def stake_paths(db: DB, gaps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each ``{"road_code", "from_m", "to_m"}`` with the ``path`` of its road between the
    two stakes (fractions of the road's metric length from its ``stake_start_m``)."""
    out = []
    for g in gaps:
        gj = db.execute(
            text(
                """
                WITH r AS (SELECT ST_LineMerge(geom) AS g, stake_start_m,
                                  ST_Length(ST_Transform(geom, 4548)) AS len
                             FROM road WHERE code = :c AND geom IS NOT NULL)
                SELECT ST_AsGeoJSON(ST_LineSubstring(ST_GeometryN(g, 1),
                         LEAST(GREATEST((:a - stake_start_m) / NULLIF(len, 0), 0), 1),
                         LEAST(GREATEST((:b - stake_start_m) / NULLIF(len, 0), 0), 1)), 6)
                  FROM r
                """
            ),
            {"c": g["road_code"], "a": g["from_m"], "b": g["to_m"]},
        ).scalar()
        coords = _coords(gj)
        if coords:
            out.append({**g, "path": coords})
    return out


def water_rasters(db: DB) -> list[dict[str, Any]]:
    """Registered water-depth rasters (id, name)."""
    return _rows(db, "SELECT id, name FROM raster_layer WHERE kind = 'water_depth' ORDER BY id")


def flood_overlay(db: DB, raster_id: int, *, max_px: int = 512) -> dict[str, Any]:
    """A water-depth raster as a translucent blue PNG (data URI) warped to EPSG:4326, with
    its bounds ``[w, s, e, n]`` and maximum depth in metres, for a deck.gl BitmapLayer."""
    import base64
    import io

    import numpy as np
    import rasterio
    from PIL import Image
    from rasterio.vrt import WarpedVRT

    row = db.execute(
        text("SELECT path, nodata FROM raster_layer WHERE id = :i AND kind = 'water_depth'"),
        {"i": int(raster_id)},
    ).first()
    if row is None:
        raise NotFound(f"water-depth raster {raster_id} does not exist")
    with rasterio.open(row.path) as src, WarpedVRT(src, crs="EPSG:4326") as vrt:
        scale = max(vrt.width, vrt.height) / max_px
        shape = (max(1, int(vrt.height / max(scale, 1))), max(1, int(vrt.width / max(scale, 1))))
        band = vrt.read(1, out_shape=shape, masked=True).astype("float64")
        b = vrt.bounds
    depth = np.ma.filled(band, 0.0)
    depth = np.where(np.isfinite(depth) & (depth > 0), depth, 0.0)
    max_depth = float(depth.max()) if depth.size else 0.0
    frac = np.clip(depth / max(max_depth, 1e-6), 0, 1)
    rgba = np.zeros((*depth.shape, 4), dtype=np.uint8)
    rgba[..., 0] = (144 * (1 - frac)).astype(np.uint8)
    rgba[..., 1] = (202 * (1 - frac) + 71 * frac).astype(np.uint8)
    rgba[..., 2] = (249 * (1 - frac) + 161 * frac).astype(np.uint8)
    rgba[..., 3] = np.where(depth > 0, 90 + 150 * frac, 0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"image": uri, "bounds": [b.left, b.bottom, b.right, b.top], "max_depth_m": max_depth}


def inspection_observations(db: DB, kind: str) -> list[tuple[int, dt.date, int]]:
    """(asset id, date, condition class) of every graded inspection of assets of ``kind``
    (input for the Markov deterioration fit)."""
    rows = db.execute(
        text(
            "SELECT i.asset_id, i.inspected_on, i.condition_class FROM inspection i"
            " JOIN asset a ON a.id = i.asset_id WHERE a.kind = :k AND i.condition_class IS NOT NULL"
            " ORDER BY i.asset_id, i.inspected_on"
        ),
        {"k": kind},
    )
    return [(int(r[0]), r[1], int(r[2])) for r in rows]


def glb_data_uri(path: str | None, *, max_bytes: int = 8_000_000) -> str | None:
    """A GLB file as a data URI (so the browser draws it without another server), None when
    missing or bigger than ``max_bytes``."""
    import base64
    from pathlib import Path

    if not path:
        return None
    p = Path(path)
    if not p.is_file() or p.stat().st_size > max_bytes:
        return None
    return "data:model/gltf-binary;base64," + base64.b64encode(p.read_bytes()).decode()
