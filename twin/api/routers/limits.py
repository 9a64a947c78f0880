"""``/limits`` and ``/structures/{id}``: structure limit lookups.

Limits are integers in centimetres (height, width, length) and kilograms (weight, axle
load); ``value`` null with ``value_text`` means the value is unknown.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from road_network.vehicle import VehicleError, make_profile
from twin.api.deps import get_session
from twin.errors import InputError
from twin.services import limits as lookups

router = APIRouter(tags=["limits"])


def _bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(x) for x in raw.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4:
        raise InputError(
            f"bbox={raw!r}: expected four numbers min_lon,min_lat,max_lon,max_lat",
            details={"field": "bbox"},
        )
    return parts[0], parts[1], parts[2], parts[3]


@router.get("/limits")
def limits(
    bbox: str | None = Query(None, description="min_lon,min_lat,max_lon,max_lat (WGS84)"),
    lon: float | None = Query(None, ge=-180, le=180, description="with lat and radius_m"),
    lat: float | None = Query(None, ge=-90, le=90),
    radius_m: float | None = Query(None, gt=0, le=100_000, description="search radius, m"),
    road_code: str | None = Query(None, max_length=32, description="road code, e.g. G2"),
    stake_from_m: float | None = Query(None, description="stake range start, m (K12+345=12345)"),
    stake_to_m: float | None = Query(None, description="stake range end, m"),
    blocking_preset: str | None = Query(
        None, description="with road_code: only structures that block this preset vehicle"
    ),
    height_m: float | None = Query(
        None, gt=0, le=10, description="with road_code: vehicle height, m"
    ),
    weight_t: float | None = Query(
        None, gt=0, le=1000, description="with road_code: gross mass, t"
    ),
    limit: int = Query(1000, ge=1, le=10_000),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Structures and their limits by bounding box, by point + radius, or by road code and
    stake range; with a vehicle (``blocking_preset``/``height_m``/``weight_t``) and a road
    code, only the structures on that road that block the vehicle."""
    conn = session.connection()
    chosen = [n for n, v in (("bbox", bbox), ("lon/lat", lon), ("road_code", road_code)) if v]
    if lon is not None and (lat is None or radius_m is None):
        raise InputError("lon needs lat and radius_m", details={"field": "lat"})
    if len(chosen) != 1:
        raise InputError(
            "give exactly one of bbox, lon+lat+radius_m, road_code"
            + (f" (got {', '.join(chosen)})" if chosen else ""),
            details={"field": "bbox"},
        )
    vehicle_given = blocking_preset or height_m is not None or weight_t is not None
    if bbox:
        items = lookups.limits_in_bbox(conn, _bbox(bbox), limit=limit)
    elif lon is not None:
        assert lat is not None and radius_m is not None
        items = lookups.limits_near(conn, lon, lat, radius_m=radius_m, limit=limit)
    elif vehicle_given:
        try:
            v = make_profile(preset=blocking_preset, height_m=height_m, weight_t=weight_t)
        except VehicleError as exc:
            raise InputError(str(exc), details={"field": exc.field}) from exc
        items = lookups.blocking_on_road(conn, str(road_code), v, limit=limit)
    else:
        items = lookups.limits_on_road(
            conn, str(road_code), stake_from_m=stake_from_m, stake_to_m=stake_to_m, limit=limit
        )
    return {"count": len(items), "structures": items}


@router.get("/structures/{ident}")
def structure(ident: str, session: Session = Depends(get_session)) -> dict[str, Any]:
    """One structure with its limits (all statuses) and the edges it governs, by asset id
    or external id."""
    return lookups.structure_by_id(session.connection(), ident)
