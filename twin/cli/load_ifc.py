"""``twin load ifc``: import an IFC model (elements, GLB, georeference, proposed limits)."""

from __future__ import annotations

from pathlib import Path

import typer

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.services import bim


@app.command("ifc")
@handle_errors
def load_ifc(
    file: Path = typer.Argument(
        ..., help="IFC file (IFC2X3, IFC4, IFC4X3; IFC4X3_RC2 is migrated)."
    ),
    asset: int | None = typer.Option(None, "--asset", help="Link the model to this asset id."),
    anchor: str | None = typer.Option(
        None,
        "--anchor",
        help="LON,LAT of the model's local origin (replaces the file's georeference).",
    ),
    rotation: float = typer.Option(
        0.0,
        "--rotation",
        help="Heading of the model's +X axis, degrees counter-clockwise from east.",
    ),
    elevation: float = typer.Option(0.0, "--elevation", help="Height of the local origin, metres."),
    threads: int | None = typer.Option(
        None, "--threads", help="Geometry threads (default: all cores)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the import report as JSON."),
) -> None:
    """Import FILE: every product with its property sets, one GLB, footprint, limits."""
    s = settings()
    anc = None
    if anchor is not None:
        lon, lat = bim.parse_anchor(anchor)
        anc = bim.Anchor(lon=lon, lat=lat, rotation_deg=rotation, elevation_m=elevation)
    with dbm.get_engine(s).begin() as conn:
        report = bim.import_ifc(conn, file, settings=s, asset_id=asset, anchor=anc, threads=threads)
    if as_json:
        print_json(report)
        return
    if report["status"] == "unchanged":
        console.print(
            f"{file.name}: already imported as model {report['model_id']} (same sha256); nothing changed"
        )
        return
    a = report.get("anchor")
    where = (
        f"at {a['lon']:.6f},{a['lat']:.6f} elev {a['elevation_m']:.1f} m, +X heading "
        f"{a['rotation_deg']:.1f} deg ({report['georef']})"
        if a
        else "not placed on the map"
    )
    console.print(
        f"model {report['model_id']}: {report['elements']} elements, {report['shapes']} shapes, "
        f"{report['schema']}, {where}; GLB {report['glb_path']} ({report['seconds']:.1f} s)"
    )
    for w in report["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
    for lim in report["limits_proposed"]:
        console.print(
            f"proposed limit {lim['limit_id']}: {lim['kind']} {lim['value']} {lim['unit']} "
            f"for asset {lim['asset_id']} from {lim['pset']}.{lim['property']} (status 'proposed')"
        )
    unparsed = [c for c in report["limit_candidates"] if c["value"] is None]
    if unparsed:
        console.print(f"{len(unparsed)} clearance/load properties could not be read as numbers")
