"""``/rasters``: registered DEM and water-depth rasters, and their values at assets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from twin.api.deps import get_session
from twin.errors import InputError
from twin.services import rasters

router = APIRouter(tags=["rasters"])


def _numbers(raw: str, field: str, *, count: int | None = None) -> list[float]:
    try:
        vals = [float(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        vals = []
    if not vals or (count is not None and len(vals) != count):
        want = f"{count} comma-separated numbers" if count else "comma-separated numbers"
        raise InputError(f"{field}={raw!r}: expected {want}", details={"field": field})
    return vals


@router.get("/rasters")
def list_rasters(
    kind: str | None = Query(None, description="dem or water-depth"),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Registered rasters: CRS, WGS84 extent, resolution, size, no-data value."""
    items = rasters.list_rasters(session.connection(), kind=kind)
    return {"count": len(items), "items": items}


@router.get("/rasters/{raster_id}")
def get_raster(raster_id: int, session: Session = Depends(get_session)) -> dict[str, Any]:
    """One registered raster."""
    return rasters.get_raster(session.connection(), raster_id)


@router.get("/rasters/{raster_id}/sample")
def sample_raster(
    raster_id: int,
    bbox: str | None = Query(None, description="min_lon,min_lat,max_lon,max_lat (WGS84)"),
    asset_ids: str | None = Query(None, description="comma-separated asset ids"),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """The raster's value (metres for both kinds) at each asset in a box or list; null
    outside the raster or on no-data."""
    if (bbox is None) == (asset_ids is None):
        raise InputError("give exactly one of bbox or asset_ids", details={"field": "bbox"})
    box = None
    ids = None
    if bbox is not None:
        b = _numbers(bbox, "bbox", count=4)
        box = (b[0], b[1], b[2], b[3])
    if asset_ids is not None:
        nums = _numbers(asset_ids, "asset_ids")
        if any(n != int(n) for n in nums):
            raise InputError(
                f"asset_ids={asset_ids!r}: ids are integers", details={"field": "asset_ids"}
            )
        ids = [int(n) for n in nums]
    items = rasters.sample_at_assets(session.connection(), raster_id, asset_ids=ids, bbox=box)
    return {"raster_id": raster_id, "count": len(items), "items": items}
