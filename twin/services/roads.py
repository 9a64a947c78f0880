"""Roads and their stake measure: list roads, stake -> position, position -> stake."""

from __future__ import annotations

from typing import Any, Literal

from shapely import Point, wkb
from sqlalchemy import Connection, text

from road_network.stake import (
    LinearRoute,
    StakeError,
    format_stake,
    parse_chain_breaks,
    parse_stake,
    to_metric,
    to_wgs84,
)
from twin.errors import InputError, NotFound


def list_roads(conn: Connection, *, prefix: str | None = None) -> list[dict[str, Any]]:
    """Roads with names, class and stake range (optionally codes starting with ``prefix``)."""
    rows = conn.execute(
        text(
            "SELECT code, name_zh, name_en, road_class, admin_level, stake_start_m, "
            "stake_end_m, chain_breaks FROM road "
            "WHERE (CAST(:p AS text) IS NULL OR code LIKE CAST(:p AS text) || '%') "
            "ORDER BY code"
        ),
        {"p": prefix},
    ).all()
    return [dict(r._mapping) for r in rows]


def route_of(conn: Connection, code: str) -> LinearRoute:
    """The road's linear-referencing route.

    Raises
    ------
    NotFound
        No such road.
    InputError
        The road has no geometry or inconsistent chain breaks.
    """
    r = conn.execute(
        text(
            "SELECT ST_AsBinary(geom) AS g, stake_start_m, chain_breaks FROM road WHERE code = :c"
        ),
        {"c": code},
    ).first()
    if r is None:
        raise NotFound(f"road {code!r} does not exist", hint="GET /roads lists the road codes")
    if r.g is None:
        raise InputError(f"road {code} has no geometry to place stakes on")
    try:
        return LinearRoute(
            to_metric(wkb.loads(bytes(r.g))),  # type: ignore[arg-type]
            stake_start_m=float(r.stake_start_m or 0.0),
            chain_breaks=parse_chain_breaks(r.chain_breaks),
            code=code,
        )
    except StakeError as exc:
        raise InputError(str(exc)) from None


def locate_stake(
    conn: Connection,
    code: str,
    stake: str | float,
    *,
    occurrence: Literal["first", "last"] = "first",
    offset_m: float = 0.0,
) -> dict[str, Any]:
    """WGS84 position of a stake (``K12+345`` or metres) on a road.

    Raises
    ------
    InputError
        Malformed stake, beyond the road's end, inside a short chain break.
    """
    route = route_of(conn, code)
    try:
        m = parse_stake(stake)
        p = to_wgs84(route.point_at(m, offset_m=offset_m, occurrence=occurrence))
    except StakeError as exc:
        raise InputError(str(exc), details={"field": "stake"}) from None
    assert isinstance(p, Point)
    return {
        "road_code": code,
        "stake": format_stake(m, decimals=1),
        "stake_m": m,
        "lon": p.x,
        "lat": p.y,
        "ambiguous": route.is_ambiguous(m),
        "datum": "WGS84 (EPSG:4326)",
    }


def stake_at(conn: Connection, code: str, lon: float, lat: float) -> dict[str, Any]:
    """Stake of the place on a road nearest to a WGS84 point, and how far the point is."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"lon {lon}, lat {lat} are not WGS84 degrees", details={"field": "lon"})
    route = route_of(conn, code)
    stake_m, off = route.locate(to_metric(Point(lon, lat)))  # type: ignore[arg-type]
    return {
        "road_code": code,
        "stake": format_stake(stake_m, decimals=1),
        "stake_m": stake_m,
        "distance_m": off,
    }
