"""Structure limit lookups: by bbox, by point + radius, by road + stake range, by id, and
"which structures on this road block this vehicle".

Each lookup is two round trips that the indexes answer directly: the structures (GiST on
``asset.geom``, B-tree on ``(road_code, stake_m)``, primary key), then their limits in one
``asset_id = ANY(...)`` query assembled here. Building the limits as JSON per row in SQL
(a correlated ``json_agg`` subquery) was the slower half of every lookup.

Rows are JSON-ready dicts: id, external_id, kind, names, road_code, stake_m, lon/lat (a
point on the structure), lifecycle_state and ``limits`` (kind, value with ``unit`` cm or
kg, value_text, unlimited, status, direction, conditional, source_kind).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, OperationalError

from road_network.graph import LIMIT_UNITS
from road_network.vehicle import VehicleProfile
from twin.errors import InputError, NotFound

_SELECT = """
    SELECT a.id, a.external_id, a.kind, a.name_zh, a.name_en, a.road_code, a.stake_m,
           ST_X(ST_PointOnSurface(a.geom)) AS lon, ST_Y(ST_PointOnSurface(a.geom)) AS lat,
           a.lifecycle_state
    FROM asset a
"""
_HAS_LIMIT = "EXISTS (SELECT 1 FROM structure_limit l0 WHERE l0.asset_id = a.id)"
_LIMITS = """
    SELECT asset_id, id, kind, value, value_text, unlimited, status, direction, conditional,
           source_kind
    FROM structure_limit WHERE asset_id = ANY(:ids) ORDER BY asset_id, id
"""
_UNIT = {"height": "cm", "width": "cm", "length": "cm", "weight": "kg", "axle_load": "kg"}
MAX_ROWS = 10_000


def _with_limits(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attach each structure's limits (one query for all of them)."""
    by_id: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    if by_id:
        for d in _dicts(conn.execute(text(_LIMITS), {"ids": list(by_id)})):
            d["unit"] = _UNIT.get(d["kind"])
            by_id[d.pop("asset_id")].append(d)
    for r in rows:
        r["limits"] = by_id[r["id"]]
    return rows


def _dicts(result: Any) -> list[dict[str, Any]]:
    """All rows of a result as dicts: fetched at once as tuples and zipped with the
    column names (per-row mapping objects cost more than the lookup's SQL)."""
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _rows(
    conn: Connection, where: str, params: dict[str, Any], *, order: str, limit: int
) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_ROWS:
        raise InputError(f"limit={limit}: must be within 1..{MAX_ROWS}")
    sql = f"{_SELECT} WHERE {where} AND {_HAS_LIMIT} ORDER BY {order} LIMIT :limit"
    try:
        rows = _dicts(conn.execute(text(sql), {**params, "limit": limit}))
    except DBAPIError as exc:
        if isinstance(exc, OperationalError):
            raise
        raise InputError(f"invalid lookup: {str(exc.orig).splitlines()[0]}") from exc
    return _with_limits(conn, rows)


def _check_lonlat(lon: float, lat: float, name: str = "") -> None:
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise InputError(f"{name}lon={lon}: must be within -180..180 degrees")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise InputError(f"{name}lat={lat}: must be within -90..90 degrees")


def limits_in_bbox(
    conn: Connection,
    bbox: tuple[float, float, float, float],
    *,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Structures with limits inside ``bbox`` = (min_lon, min_lat, max_lon, max_lat)."""
    x0, y0, x1, y1 = bbox
    _check_lonlat(x0, y0, "bbox min ")
    _check_lonlat(x1, y1, "bbox max ")
    if x0 >= x1 or y0 >= y1:
        raise InputError(
            f"bbox={list(bbox)}: min must be below max (min_lon,min_lat,max_lon,max_lat)"
        )
    return _rows(
        conn,
        "a.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)",
        {"x0": x0, "y0": y0, "x1": x1, "y1": y1},
        order="a.id",
        limit=limit,
    )


def limits_near(
    conn: Connection, lon: float, lat: float, *, radius_m: float, limit: int = 1000
) -> list[dict[str, Any]]:
    """Structures with limits within ``radius_m`` metres of (lon, lat), nearest first."""
    _check_lonlat(lon, lat)
    if not (math.isfinite(radius_m) and 0 < radius_m <= 100_000):
        raise InputError(f"radius_m={radius_m}: must be within (0, 100000] m")
    # bounding box in degrees for the index, exact metres on the geography
    dlat = radius_m / 110_000.0
    dlon = radius_m / (110_000.0 * max(0.01, math.cos(math.radians(lat))))
    return _rows(
        conn,
        "a.geom && ST_MakeEnvelope(:lon - :dlon, :lat - :dlat, :lon + :dlon, :lat + :dlat, 4326)"
        " AND ST_DWithin(a.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :r)",
        {"lon": lon, "lat": lat, "dlon": dlon, "dlat": dlat, "r": radius_m},
        order="a.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)",
        limit=limit,
    )


def limits_on_road(
    conn: Connection,
    road_code: str,
    *,
    stake_from_m: float | None = None,
    stake_to_m: float | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Structures with limits on road ``road_code`` between two stakes (metres), in stake
    order; without a range, every one (those without a stake last)."""
    if not road_code or len(road_code) > 32:
        raise InputError(f"road_code={road_code!r}: must be 1..32 characters")
    for name, v in (("stake_from_m", stake_from_m), ("stake_to_m", stake_to_m)):
        if v is not None and not math.isfinite(v):
            raise InputError(f"{name}={v}: must be a finite number of metres")
    if stake_from_m is not None and stake_to_m is not None and stake_from_m > stake_to_m:
        raise InputError(f"stake range {stake_from_m}..{stake_to_m} m: from must not exceed to")
    where = "a.road_code = :code"
    params: dict[str, Any] = {"code": road_code}
    if stake_from_m is not None or stake_to_m is not None:
        # sargable on (road_code, stake_m): a range scan of the index
        where += " AND a.stake_m BETWEEN :lo AND :hi"
        params |= {
            "lo": -1e12 if stake_from_m is None else stake_from_m,
            "hi": 1e12 if stake_to_m is None else stake_to_m,
        }
    return _rows(conn, where, params, order="a.stake_m NULLS LAST, a.id", limit=limit)


def structure_by_id(conn: Connection, ident: str | int) -> dict[str, Any]:
    """One structure (asset) with its limits and governed edges, by id or external id."""
    where = "a.external_id = :x"
    params: dict[str, Any] = {"x": str(ident)}
    if isinstance(ident, int) or str(ident).isdigit():
        where = "(a.id = :i OR a.external_id = :x)"
        params["i"] = int(ident)
        if params["i"] > 2**31 - 1:
            where, params = "a.external_id = :x", {"x": str(ident)}
    row = conn.execute(text(f"{_SELECT} WHERE {where} LIMIT 1"), params).mappings().first()
    if row is None:
        raise NotFound(f"structure {ident!r} not found (give an asset id or external id)")
    (out,) = _with_limits(conn, [dict(row)])
    out["edges"] = [
        {"edge_id": int(e), "direction": d}
        for e, d in conn.execute(
            text("SELECT edge_id, direction FROM asset_edge WHERE asset_id = :a ORDER BY edge_id"),
            {"a": out["id"]},
        )
    ]
    return out


def blocking_on_road(
    conn: Connection, road_code: str, vehicle: VehicleProfile, *, limit: int = 1000
) -> list[dict[str, Any]]:
    """Structures on ``road_code`` whose approved limits the vehicle exceeds (or that are
    closed), each with ``violated`` = [{kind, limit, vehicle, unit}]."""
    out = []
    for r in limits_on_road(conn, road_code, limit=limit):
        violated: list[dict[str, Any]] = []
        if r["lifecycle_state"] in ("closed", "decommissioned"):
            violated.append({"kind": "closed", "limit": None, "vehicle": None, "unit": None})
        for lim in r["limits"]:
            if lim["status"] != "approved" or lim["kind"] not in LIMIT_UNITS:
                continue
            if lim["value"] is not None and lim["value"] < vehicle.value(lim["kind"]):
                violated.append(
                    {
                        "kind": lim["kind"],
                        "limit": lim["value"],
                        "vehicle": vehicle.value(lim["kind"]),
                        "unit": LIMIT_UNITS[lim["kind"]],
                    }
                )
        if violated:
            out.append({**r, "violated": violated})
    return out


__all__ = [
    "blocking_on_road",
    "limits_in_bbox",
    "limits_near",
    "limits_on_road",
    "structure_by_id",
]
