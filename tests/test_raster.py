"""Rasters: registration (CRS, WGS84 extent, resolution, no-data, sha256) and sampling at
assets, on real third-party rasters read in place and on the sample's own rasters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from sqlalchemy import Connection, text

from loaders.raster import RasterError, raster_info, sample
from twin.errors import InputError, NotFound
from twin.services import rasters
from twin.settings import PROJECT_ROOT

FLOOD = PROJECT_ROOT / "data" / "sample" / "rasters" / "binhai_flood_depth.tif"


def _pixel(path: str, lon: float, lat: float) -> float:
    """The pixel value read directly by row/column (independent of ``sample``)."""
    with rasterio.open(path) as src:
        r, c = src.index(lon, lat)
        return float(src.read(1)[r, c])


def test_info_of_a_geotiff(shared_data: Path) -> None:
    p = str(shared_data / "hydrosheds_dfw_dem.tif")
    info = raster_info(p)
    with rasterio.open(p) as src:
        assert (info.width, info.height) == (src.width, src.height)
        assert info.bounds_wgs84 == pytest.approx(tuple(src.bounds))  # already EPSG:4326
    assert info.crs == "EPSG:4326" and info.nodata == -32768.0
    assert info.res_x == pytest.approx(1 / 1200)  # 3 arc-seconds


def test_sampling_matches_direct_pixel_reads(shared_data: Path) -> None:
    p = str(shared_data / "sf_srtm_elevation1.tif")
    info = raster_info(p)
    x0, y0, x1, y1 = info.bounds_wgs84
    pts = [
        (x0 + (x1 - x0) * f, y0 + (y1 - y0) * g) for f, g in ((0.2, 0.3), (0.5, 0.5), (0.8, 0.9))
    ]
    got = sample(p, pts)
    assert got == [_pixel(p, *xy) for xy in pts]
    assert sample(p, [(x1 + 1, y1)]) == [None]  # outside


def test_hgt_inside_zip_via_vsizip(shared_data: Path, connection: Connection) -> None:
    p = f"/vsizip/{shared_data / 'N43E007.hgt.zip'}/N43E007.hgt"
    rec = rasters.register_raster(connection, p, kind="dem")
    assert rec["status"] == "added" and rec["driver"] == "SRTMHGT"
    assert (rec["width"], rec["height"]) == (1201, 1201)
    b = rec["bounds_wgs84"]
    assert b[0] == pytest.approx(7.0, abs=1e-3) and b[3] == pytest.approx(44.0, abs=1e-3)
    row = connection.execute(
        text(
            "SELECT kind, crs, ST_XMin(bounds), ST_YMax(bounds), res_x, nodata "
            "FROM raster_layer WHERE id = :i"
        ),
        {"i": rec["id"]},
    ).one()
    assert row[0] == "dem" and row[1] == "EPSG:4326" and row[5] == -32768.0
    assert row[2] == pytest.approx(7.0, abs=1e-3) and row[3] == pytest.approx(44.0, abs=1e-3)
    # the same bytes again: no second row
    again = rasters.register_raster(connection, p, kind="dem")
    assert again["status"] == "unchanged" and again["id"] == rec["id"]


def test_sample_at_assets(connection: Connection) -> None:
    rec = rasters.register_raster(connection, FLOOD, kind="water-depth")
    ids = []
    for ext, lon, lat in (
        ("RT-1", 117.66, 39.03),
        ("RT-2", 117.80, 39.03),
        ("RT-3", 117.575, 39.088),
    ):
        ids.append(
            connection.execute(
                text(
                    "INSERT INTO asset (external_id, kind, geom, attributes, lifecycle_state, "
                    "source) VALUES (:e, 'sign', ST_Point(:x, :y, 4326), '{}', 'in_service', "
                    "'{}') RETURNING id"
                ),
                {"e": ext, "x": lon, "y": lat},
            ).scalar_one()
        )
    got = rasters.sample_at_assets(connection, rec["id"], asset_ids=ids)
    vals = {g["external_id"]: g["value"] for g in got}
    assert vals["RT-1"] == pytest.approx(_pixel(str(FLOOD), 117.66, 39.03)) and vals["RT-1"] > 1.0
    assert vals["RT-2"] is None  # east of the raster
    assert vals["RT-3"] is None  # on the no-data strip
    by_box = rasters.sample_at_assets(connection, rec["id"], bbox=(117.65, 39.02, 117.67, 39.04))
    assert [g["external_id"] for g in by_box if g["external_id"].startswith("RT-")] == ["RT-1"]


def test_bad_rasters_are_input_errors(tmp_path: Path, connection: Connection) -> None:
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00not really a tiff")
    with pytest.raises(InputError, match="not a readable raster"):
        rasters.register_raster(connection, junk, kind="dem")
    with pytest.raises(InputError, match="use dem or water-depth"):
        rasters.register_raster(connection, FLOOD, kind="height")
    with pytest.raises(NotFound):
        rasters.sample_at_assets(connection, 987654321, asset_ids=[1])
    nocrs = tmp_path / "nocrs.tif"
    with (
        pytest.warns(NotGeoreferencedWarning),
        rasterio.open(nocrs, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8") as d,
    ):
        d.write(np.zeros((1, 2, 2), dtype="uint8"))
    with pytest.warns(NotGeoreferencedWarning), pytest.raises(RasterError, match="no coordinate"):
        raster_info(nocrs)


def test_cli_reports_bad_raster_without_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"garbage" * 10)
    out = CliRunner().invoke(app, ["load", "raster", str(junk), "--kind", "dem"])
    assert out.exit_code == 2
    assert "not a readable raster" in out.output and "Traceback" not in out.output


def test_rasters_api(client: Any, connection: Connection) -> None:
    rec = rasters.register_raster(connection, FLOOD, kind="water-depth")
    aid = connection.execute(
        text(
            "INSERT INTO asset (external_id, kind, geom, attributes, lifecycle_state, source) "
            "VALUES ('RT-API', 'sign', ST_Point(117.66, 39.03, 4326), '{}', 'in_service', '{}') "
            "RETURNING id"
        )
    ).scalar_one()
    listed = client.get("/rasters", params={"kind": "water-depth"}).json()
    assert rec["id"] in [r["id"] for r in listed["items"]]
    one = client.get(f"/rasters/{rec['id']}").json()
    assert one["crs"] == "EPSG:4326" and one["bounds_wgs84"][0] == pytest.approx(117.56)
    got = client.get(f"/rasters/{rec['id']}/sample", params={"asset_ids": str(aid)}).json()
    assert got["items"][0]["value"] == pytest.approx(_pixel(str(FLOOD), 117.66, 39.03))
    assert client.get("/rasters/987654321").status_code == 404
    bad = client.get(f"/rasters/{rec['id']}/sample", params={"bbox": "1,2,3"})
    assert (bad.status_code == 422 and "four" not in bad.text) or "4 comma" in bad.text
    assert client.get(f"/rasters/{rec['id']}/sample").status_code == 422
    assert client.get("/rasters", params={"kind": "height"}).status_code == 422
