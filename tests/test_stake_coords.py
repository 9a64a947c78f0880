"""Datum conversions (WGS84, CGCS2000, GCJ-02, BD-09) against published reference pairs."""

from __future__ import annotations

import pytest
from pyproj import Geod

from loaders.coords import LABELS, convert, convert_many, in_china

GEOD = Geod(ellps="WGS84")

# (wgs lat, wgs lon, gcj lat, gcj lon) from the test suite of googollee/eviltransform
# (python/test.py), the reference implementation most GCJ-02 converters are checked
# against.
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_published_pairs(
    wlat: float, wlon: float, glat: float, glon: float
) -> None:
    lon, lat = convert(wlon, wlat, src="wgs84", dst="gcj02")
    assert lon == pytest.approx(glon, abs=1e-9) and lat == pytest.approx(glat, abs=1e-9)
    # the reverse is iterative: back to the WGS84 point within a millimetre
    back = convert(glon, glat, src="gcj02", dst="wgs84")
    assert _metres(back, (wlon, wlat)) < 1e-3


def test_matches_amap_api_within_a_metre() -> None:
    # An R converter's tests record, for WGS84 (39.90734 N, 116.39089 E), the formula's
    # GCJ-02 value 39.90874107 N, 116.39713094 E and Amap's conversion API's answer
    # 39.90874539 N, 116.39713623 E (marked "api"); the API differs by decimetres.
    got = convert(116.39089, 39.90734, src="wgs84", dst="gcj02")
    assert got == pytest.approx((116.39713094, 39.90874107), abs=1e-8)
    assert _metres(got, (116.39713623, 39.90874539)) < 1.0
    # the same tests: GCJ-02 (39.908746, 116.397131) -> BD-09 (39.91508839, 116.40350426)
    bd = convert(116.397131, 39.908746, src="gcj02", dst="bd09")
    assert bd == pytest.approx((116.40350426, 39.91508839), abs=1e-8)


def test_gcj02_to_bd09_matches_gcoord() -> None:
    # hujiulong/gcoord unit test: GCJ02 (123, 45) -> BD09 (123.00636499, 45.00636899)
    lon, lat = convert(123.0, 45.0, src="gcj02", dst="bd09")
    assert lon == pytest.approx(123.00636499, abs=1e-7) and lat == pytest.approx(
        45.00636899, abs=1e-7
    )
    # and GCJ02 (123, 45) -> WGS84 (122.99395597, 44.99804071) (gcoord, 5 decimals)
    lon, lat = convert(123.0, 45.0, src="gcj02", dst="wgs84")
    assert lon == pytest.approx(122.99395597, abs=1e-5) and lat == pytest.approx(
        44.99804071, abs=1e-5
    )


def test_round_trips_over_tianjin() -> None:
    pts = [(117.0 + 0.1 * i, 38.9 + 0.05 * j) for i in range(9) for j in range(11)]
    for dst in ("gcj02", "bd09", "cgcs2000"):
        there = convert_many(pts, src="wgs84", dst=dst)  # type: ignore[arg-type]
        back = convert_many(there, src=dst, dst="wgs84")  # type: ignore[arg-type]
        assert max(_metres(a, b) for a, b in zip(pts, back, strict=True)) < 1e-3
    # the GCJ-02 offset around Tianjin is a few hundred metres
    off = _metres(pts[0], convert(*pts[0], src="wgs84", dst="gcj02"))
    assert 100 < off < 800


def test_cgcs2000_is_centimetres_from_wgs84() -> None:
    p = convert(117.2, 39.1, src="wgs84", dst="cgcs2000")
    assert _metres(p, (117.2, 39.1)) < 0.05


def test_outside_china_is_unchanged_and_bad_input_rejected() -> None:
    assert not in_china(2.35, 48.85) and in_china(117.2, 39.1)
    assert convert(2.35, 48.85, src="wgs84", dst="gcj02") == (2.35, 48.85)
    with pytest.raises(ValueError, match="datum"):
        convert(117.2, 39.1, src="wgs84", dst="mars")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not degrees"):
        convert(39.1, 117.2 + 100, src="wgs84", dst="gcj02")
    assert set(LABELS) == {"wgs84", "cgcs2000", "gcj02", "bd09"}
