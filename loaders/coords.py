"""Coordinates for Chinese basemaps: WGS84, CGCS2000, GCJ-02 and BD-09, always labelled.

- WGS84 (EPSG:4326) is what the twin stores; CGCS2000 (EPSG:4490) differs from it by
  centimetres and is converted with pyproj.
- GCJ-02 is the non-linear obfuscation Chinese navigation basemaps use (Amap, Tencent);
  BD-09 is Baidu's further offset. The forward formulas and the iterative reverse come
  from ``prcoords`` (public-domain reference implementation) rather than being
  re-typed here. Outside mainland China (``prcoords``' rough box) GCJ-02 equals WGS84,
  as the published implementations do.

Convert to GCJ-02/BD-09 only for export or display over such basemaps, and say which
datum a coordinate is in (:data:`LABELS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Literal

import prcoords

__all__ = ["DATUMS", "LABELS", "Datum", "convert", "convert_many", "in_china"]

Datum = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
DATUMS: tuple[Datum, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")
LABELS: dict[Datum, str] = {
    "wgs84": "WGS84 (EPSG:4326)",
    "cgcs2000": "CGCS2000 (EPSG:4490)",
    "gcj02": "GCJ-02 (Amap/Tencent basemaps; not a geodetic datum)",
    "bd09": "BD-09 (Baidu basemaps; not a geodetic datum)",
}


def in_china(lon: float, lat: float) -> bool:
    """Inside the box where GCJ-02 offsets apply (the published implementations' box)."""
    return bool(prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)))


@lru_cache(maxsize=2)
def _cgcs(to_cgcs: bool) -> Any:
    from pyproj import Transformer

    src, dst = ("EPSG:4326", "EPSG:4490") if to_cgcs else ("EPSG:4490", "EPSG:4326")
    return Transformer.from_crs(src, dst, always_xy=True)


def _to_wgs84(lon: float, lat: float, src: Datum) -> tuple[float, float]:
    if src == "wgs84":
        return lon, lat
    if src == "cgcs2000":
        x, y = _cgcs(False).transform(lon, lat)
        return float(x), float(y)
    if not in_china(lon, lat):
        return lon, lat
    fwd = _wgs_gcj if src == "gcj02" else _wgs_bd
    return _invert(fwd, lon, lat)


def _wgs_gcj(lon: float, lat: float) -> tuple[float, float]:
    g = prcoords.wgs_gcj(prcoords.Coords(lat, lon), False)
    return float(g.lon), float(g.lat)


def _wgs_bd(lon: float, lat: float) -> tuple[float, float]:
    g = prcoords.gcj_bd(prcoords.wgs_gcj(prcoords.Coords(lat, lon), False))
    return float(g.lon), float(g.lat)


#: Fixed-point tolerance of the reverse transforms, degrees (~0.01 mm).
_EPS_DEG = 1e-10


def _invert(fwd: Any, lon: float, lat: float) -> tuple[float, float]:
    """Solve ``fwd(x) = (lon, lat)`` by fixed-point iteration.

    prcoords' own ``*_bored`` reverses stop at 1e-5 degree between steps, which leaves
    up to a millimetre (GCJ-02) or decimetres (BD-09) of error; iterating the forward
    formula to 1e-10 degree costs a few more calls and is exact to well under 1 mm.
    """
    x, y = lon, lat
    for _ in range(40):
        fx, fy = fwd(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < _EPS_DEG and abs(dy) < _EPS_DEG:
            break
    return x, y


def _from_wgs84(lon: float, lat: float, dst: Datum) -> tuple[float, float]:
    if dst == "wgs84":
        return lon, lat
    if dst == "cgcs2000":
        x, y = _cgcs(True).transform(lon, lat)
        return float(x), float(y)
    if not in_china(lon, lat):
        return lon, lat
    g = prcoords.wgs_gcj(prcoords.Coords(lat, lon), False)
    if dst == "bd09":
        g = prcoords.gcj_bd(g)
    return float(g.lon), float(g.lat)


def convert(lon: float, lat: float, *, src: Datum, dst: Datum) -> tuple[float, float]:
    """Convert one lon/lat between datums.

    Reverse conversions out of GCJ-02/BD-09 iterate the forward formula to a fixed point
    (sub-millimetre), so ``convert(*convert(p, src='wgs84', dst='gcj02'), src='gcj02',
    dst='wgs84')`` returns ``p``.

    Raises
    ------
    ValueError
        Unknown datum or a latitude/longitude out of range.
    """
    for d in (src, dst):
        if d not in DATUMS:
            raise ValueError(f"datum {d!r} is not one of {', '.join(DATUMS)}")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"lon {lon}, lat {lat} are not degrees (lon -180..180, lat -90..90)")
    if src == dst:
        return lon, lat
    return _from_wgs84(*_to_wgs84(lon, lat, src), dst)


def convert_many(
    lonlats: Iterable[tuple[float, float]], *, src: Datum, dst: Datum
) -> list[tuple[float, float]]:
    """:func:`convert` over many points."""
    return [convert(x, y, src=src, dst=dst) for x, y in lonlats]
