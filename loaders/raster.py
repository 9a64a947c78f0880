"""Rasters (DEM, flood water depth) read through rasterio: metadata and point sampling.

Any GDAL raster works (GeoTIFF, COG, SRTM ``.hgt``), also inside archives through GDAL's
virtual file systems (``/vsizip/path/N43E007.hgt.zip/N43E007.hgt``). Pure: reads the
path it is given and returns plain values.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RasterError", "RasterInfo", "container_path", "raster_info", "raster_sha256", "sample"]


class RasterError(ValueError):
    """The file cannot be read as a georeferenced raster."""


@dataclass(frozen=True)
class RasterInfo:
    """What the twin records about a raster.

    Attributes
    ----------
    crs:
        ``EPSG:<code>`` when the CRS has one, else its WKT.
    bounds_wgs84:
        (min_lon, min_lat, max_lon, max_lat) of the raster's extent in EPSG:4326.
    res_x, res_y:
        Pixel size in the raster's CRS units (positive).
    nodata:
        The band's no-data value, or None.
    """

    path: str
    driver: str
    crs: str
    bounds_wgs84: tuple[float, float, float, float]
    res_x: float
    res_y: float
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None


def _open(path: str):  # type: ignore[no-untyped-def]
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - rasterio is a dependency
        raise RasterError("rasterio is not installed: pip install rasterio") from exc
    try:
        return rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError and GDAL CPLE_* errors
        raise RasterError(f"{path}: not a readable raster ({exc})") from None


def container_path(path: str | Path) -> Path:
    """The real file behind a path, also for ``/vsizip/…/archive.zip/inner`` paths."""
    s = str(path)
    if s.startswith("/vsi"):
        m = re.match(r"^/vsi[a-z0-9]+/(.+?\.(?:zip|gz|tar|tgz|7z))(?:/|$)", s, re.IGNORECASE)
        if m:
            return Path("/" + m.group(1).lstrip("/"))
        raise RasterError(f"{s}: cannot tell the archive file of this GDAL virtual path")
    return Path(s)


def raster_sha256(path: str | Path) -> str:
    """sha256 of the raster's file; for a path inside an archive, of the archive plus the
    member name (two members of one archive differ)."""
    real = container_path(path)
    if not real.is_file():
        raise RasterError(f"{path}: no such file")
    h = hashlib.sha256()
    with open(real, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if str(path).startswith("/vsi"):
        h.update(str(path).removeprefix(f"/vsizip/{real}").encode())
    return h.hexdigest()


def raster_info(path: str | Path) -> RasterInfo:
    """Read a raster's CRS, extent (in WGS84), resolution, size and no-data value.

    Raises
    ------
    RasterError
        Unreadable file, or a raster without a CRS (it cannot be placed on the map).
    """
    from rasterio.warp import transform_bounds

    s = str(path)
    with _open(s) as src:
        if src.crs is None:
            raise RasterError(f"{s}: the raster has no coordinate reference system")
        epsg = src.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else src.crs.to_wkt()
        try:
            b = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
        except Exception as exc:  # PROJ errors
            raise RasterError(f"{s}: cannot transform the extent to WGS84 ({exc})") from None
        if not all(math.isfinite(v) for v in b) or not (-180 <= b[0] <= b[2] <= 180):
            raise RasterError(f"{s}: extent {b} is not a valid WGS84 box")
        nodata = src.nodata
        return RasterInfo(
            path=s,
            driver=src.driver,
            crs=crs,
            bounds_wgs84=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            res_x=abs(float(src.res[0])),
            res_y=abs(float(src.res[1])),
            width=int(src.width),
            height=int(src.height),
            count=int(src.count),
            dtype=str(src.dtypes[0]),
            nodata=None if nodata is None or math.isnan(nodata) else float(nodata),
        )


#: Above this many pixels in the points' bounding window, read per point instead.
_MAX_WINDOW_PIXELS = 64_000_000


def sample(
    path: str | Path, lonlats: Sequence[tuple[float, float]], *, band: int = 1
) -> list[float | None]:
    """Values at WGS84 points: None outside the raster, on no-data or NaN.

    The points are transformed to the raster's CRS; the value is the pixel's that holds
    the point (as rasterio's ``sample``). Vectorised: the window covering the points is
    read once and indexed with numpy (rasterio's per-point ``sample`` generator was the
    bottleneck for flood checks over whole networks); a window too large for memory falls
    back to ``sample``.
    """
    import numpy as np
    from pyproj import Transformer
    from rasterio.transform import rowcol
    from rasterio.windows import Window

    if not lonlats:
        return []
    with _open(str(path)) as src:
        if src.crs is None:
            raise RasterError(f"{path}: the raster has no coordinate reference system")
        tr = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        pts = np.asarray(lonlats, dtype=float)
        xs, ys = tr.transform(pts[:, 0], pts[:, 1])
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        rows, cols = rowcol(src.transform, xs, ys, op=np.floor)
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        inside = (
            np.isfinite(xs)
            & np.isfinite(ys)
            & (rows >= 0)
            & (rows < src.height)
            & (cols >= 0)
            & (cols < src.width)
        )
        values = np.full(len(pts), np.nan)
        if inside.any():
            r0, r1 = int(rows[inside].min()), int(rows[inside].max()) + 1
            c0, c1 = int(cols[inside].min()), int(cols[inside].max()) + 1
            if (r1 - r0) * (c1 - c0) <= _MAX_WINDOW_PIXELS:
                block = src.read(band, window=Window(c0, r0, c1 - c0, r1 - r0))
                values[inside] = block[rows[inside] - r0, cols[inside] - c0]
            else:
                idx = np.flatnonzero(inside)
                got = src.sample(list(zip(xs[idx], ys[idx], strict=True)), indexes=band)
                values[idx] = [float(v[0]) for v in got]
        nodata = src.nodata
        bad = np.isnan(values)
        if nodata is not None and not np.isnan(nodata):
            bad |= values == nodata
        return [None if b else float(v) for v, b in zip(values.tolist(), bad.tolist(), strict=True)]
