"""``twin load raster``: register a DEM or a flood water-depth raster."""

from __future__ import annotations

import typer

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.services import rasters


@app.command("raster")
@handle_errors
def load_raster(
    file: str = typer.Argument(
        ..., help="GeoTIFF/COG or any GDAL raster; /vsizip/<zip>/<member> for archives."
    ),
    kind: str = typer.Option(..., "--kind", help="dem or water-depth."),
    name: str | None = typer.Option(None, "--name", help="Display name (default: file name)."),
    as_json: bool = typer.Option(False, "--json", help="Print the record as JSON."),
) -> None:
    """Register FILE (CRS, WGS84 extent, resolution, no-data, sha256); it stays on disk."""
    with dbm.get_engine(settings()).begin() as conn:
        rec = rasters.register_raster(conn, file, kind=kind, name=name)
    if as_json:
        print_json(rec)
        return
    b = rec["bounds_wgs84"]
    console.print(
        f"raster {rec['id']} ({rec['status']}): {rec['name']} {rec['kind']} {rec['width']}x"
        f"{rec['height']} px of {rec['res_x']:.6g} x {rec['res_y']:.6g} in {rec['crs']}, "
        f"extent {b[0]:.4f},{b[1]:.4f} .. {b[2]:.4f},{b[3]:.4f}, nodata {rec['nodata']}"
    )
