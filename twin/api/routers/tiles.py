"""``/tiles``: Mapbox Vector Tiles built by PostGIS (``ST_AsMVT``) for the twin's big layers."""

from __future__ import annotations

from pathlib import Path as FilePath

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy.orm import Session

from twin.api.deps import get_session
from twin.services import twin_view

router = APIRouter(tags=["tiles"])

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
MVT_WORKER = FilePath(__file__).resolve().parent.parent / "static" / "mvt-worker.js"


@router.get("/tiles/mvt-worker.js", response_class=Response, include_in_schema=False)
def mvt_worker() -> Response:
    """loaders.gl's MVT parsing worker (vendored, see ``twin/api/static/README.md``), so the
    twin's MVTLayer does not fetch it from a CDN."""
    return Response(
        content=MVT_WORKER.read_bytes(),
        media_type="text/javascript",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=86400"},
    )


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "one vector tile"}},
)
def tile(
    layer: str = Path(description=f"one of: {', '.join(twin_view.TILE_LAYERS)}"),
    z: int = Path(ge=0, le=22, description="zoom"),
    x: int = Path(ge=0, description="tile column"),
    y: int = Path(ge=0, description="tile row (XYZ, north at 0)"),
    session: Session = Depends(get_session),
) -> Response:
    """One tile of ``road_edge`` (roads with class and limits; thinned by class below zoom
    12) or ``asset``. Empty tiles answer 204. Open to any origin so the twin page (another
    port) can fetch them."""
    data = twin_view.tile_mvt(session, layer, z, x, y)
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"}
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(content=data, media_type=MVT_MEDIA_TYPE, headers=headers)
