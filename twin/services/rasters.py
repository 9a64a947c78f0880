"""Register rasters (DEM, water depth) and sample them at assets.

The raster stays a file on disk; ``raster_layer`` records its path, CRS, WGS84 extent,
resolution, size, no-data value and sha256 (the identity: registering the same bytes
again updates the row instead of adding one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shapely import box
from sqlalchemy import Connection, text

from loaders.raster import RasterError, container_path, raster_info, raster_sha256, sample
from twin.errors import InputError, NotFound

#: CLI/API spelling -> ``raster_layer.kind``.
KINDS = {"dem": "dem", "water-depth": "water_depth", "water_depth": "water_depth"}


def normalise_kind(kind: str) -> str:
    """``dem`` or ``water_depth`` from the CLI/API spelling."""
    k = KINDS.get(kind.strip().lower())
    if k is None:
        raise InputError(f"raster kind {kind!r} is not known; use dem or water-depth")
    return k


def _stored_path(path: str | Path) -> str:
    s = str(path)
    if s.startswith("/vsi"):
        real = container_path(s)
        return s.replace(str(real), str(real.resolve()), 1)
    return str(Path(s).resolve())


def register_raster(
    conn: Connection, path: str | Path, *, kind: str, name: str | None = None
) -> dict[str, Any]:
    """Record a raster in ``raster_layer``.

    Parameters
    ----------
    conn:
        Connection inside the caller's transaction.
    path:
        GeoTIFF/COG/any GDAL raster, or a GDAL virtual path (``/vsizip/a.zip/b.hgt``).
    kind:
        ``dem`` or ``water-depth``.
    name:
        Display name (default: the file name).

    Returns
    -------
    dict
        ``id``, ``status`` (``added`` or ``unchanged``) and the recorded metadata.

    Raises
    ------
    InputError
        Unknown kind, unreadable raster, raster without CRS.
    """
    k = normalise_kind(kind)
    try:
        info = raster_info(path)
        sha = raster_sha256(path)
    except RasterError as exc:
        raise InputError(str(exc), hint="give a GeoTIFF/COG or /vsizip/<zip>/<member>") from None
    stored = _stored_path(path)
    label = name or Path(str(path)).name
    params = {
        "name": label,
        "kind": k,
        "path": stored,
        "sha": sha,
        "crs": info.crs,
        "wkt": box(*info.bounds_wgs84).wkt,
        "rx": info.res_x,
        "ry": info.res_y,
        "w": info.width,
        "h": info.height,
        "nodata": info.nodata,
    }
    with conn.begin_nested():
        old = conn.execute(
            text("SELECT id, kind FROM raster_layer WHERE sha256 = :sha"), {"sha": sha}
        ).first()
        if old is not None:
            conn.execute(
                text(
                    "UPDATE raster_layer SET name = :name, kind = :kind, path = :path "
                    "WHERE id = :id"
                ),
                {"name": label, "kind": k, "path": stored, "id": old[0]},
            )
            rid, status = int(old[0]), "unchanged"
        else:
            rid = conn.execute(
                text(
                    "INSERT INTO raster_layer (name, kind, path, sha256, crs, bounds, res_x, "
                    "res_y, width, height, nodata) VALUES (:name, :kind, :path, :sha, :crs, "
                    "ST_GeomFromText(:wkt, 4326), :rx, :ry, :w, :h, :nodata) RETURNING id"
                ),
                params,
            ).scalar_one()
            status = "added"
    return {
        "id": rid,
        "status": status,
        "name": label,
        "kind": k,
        "path": stored,
        "sha256": sha,
        "crs": info.crs,
        "bounds_wgs84": list(info.bounds_wgs84),
        "res_x": info.res_x,
        "res_y": info.res_y,
        "width": info.width,
        "height": info.height,
        "nodata": info.nodata,
        "driver": info.driver,
    }


def sample_at_assets(
    conn: Connection,
    raster_id: int,
    *,
    asset_ids: list[int] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[dict[str, Any]]:
    """The raster's value at each asset (at a point on its geometry).

    Parameters
    ----------
    conn:
        Connection.
    raster_id:
        ``raster_layer.id``.
    asset_ids:
        Assets to sample; or
    bbox:
        (min_lon, min_lat, max_lon, max_lat): every asset intersecting it.

    Returns
    -------
    list of dict
        ``asset_id``, ``external_id``, ``kind``, ``lon``, ``lat`` and ``value`` (None
        outside the raster or on no-data), in asset id order.
    """
    if asset_ids is None and bbox is None:
        raise InputError("give asset ids or a bbox to sample the raster at")
    row = conn.execute(
        text("SELECT path, kind FROM raster_layer WHERE id = :i"), {"i": raster_id}
    ).first()
    if row is None:
        raise NotFound(f"raster {raster_id} is not registered")
    where: list[str] = []
    params: dict[str, Any] = {}
    if asset_ids is not None:
        where.append("id = ANY(:ids)")
        params["ids"] = list(asset_ids)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        if not (x0 < x1 and y0 < y1):
            raise InputError(f"bbox {bbox} must be (min_lon, min_lat, max_lon, max_lat)")
        where.append("geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        params.update({"x0": x0, "y0": y0, "x1": x1, "y1": y1})
    assets = conn.execute(
        text(
            "SELECT id, external_id, kind, ST_X(p) AS lon, ST_Y(p) AS lat FROM ("
            " SELECT id, external_id, kind, ST_PointOnSurface(geom) AS p FROM asset"
            f" WHERE {' AND '.join(where)}) a ORDER BY id"
        ),
        params,
    ).all()
    try:
        values = sample(row[0], [(a.lon, a.lat) for a in assets])
    except RasterError as exc:
        raise InputError(f"raster {raster_id}: {exc}") from None
    return [
        {
            "asset_id": a.id,
            "external_id": a.external_id,
            "kind": a.kind,
            "lon": a.lon,
            "lat": a.lat,
            "value": v,
        }
        for a, v in zip(assets, values, strict=True)
    ]


_LIST_SQL = (
    "SELECT id, name, kind, path, sha256, crs, res_x, res_y, width, height, nodata, "
    "ST_XMin(bounds) AS min_lon, ST_YMin(bounds) AS min_lat, ST_XMax(bounds) AS max_lon, "
    "ST_YMax(bounds) AS max_lat, created_at FROM raster_layer"
)


def _record(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["bounds_wgs84"] = [d.pop("min_lon"), d.pop("min_lat"), d.pop("max_lon"), d.pop("max_lat")]
    return d


def list_rasters(conn: Connection, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Registered rasters, newest first (optionally of one kind)."""
    where, params = "", {}
    if kind is not None:
        where, params = " WHERE kind = :k", {"k": normalise_kind(kind)}
    rows = conn.execute(text(_LIST_SQL + where + " ORDER BY id DESC"), params).all()
    return [_record(r) for r in rows]


def get_raster(conn: Connection, raster_id: int) -> dict[str, Any]:
    """One registered raster.

    Raises
    ------
    NotFound
        No raster with this id.
    """
    r = conn.execute(text(_LIST_SQL + " WHERE id = :i"), {"i": raster_id}).first()
    if r is None:
        raise NotFound(f"raster {raster_id} is not registered", hint="GET /rasters lists them")
    return _record(r)
