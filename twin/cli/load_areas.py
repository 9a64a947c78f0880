"""``twin load areas``: water and land-use areas of an OSM file (the offline basemap)."""

from __future__ import annotations

from pathlib import Path

import typer

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.errors import InputError
from twin.services.land_areas import import_areas


@app.command("areas")
@handle_errors
def load_areas(
    file: str = typer.Argument(..., help="OSM .osm or .osm.pbf file."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Dataset name (default osm:<file name>); its rows are replaced."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Load FILE's water (rivers, sea, lakes) and land use (urban, industrial, farmland,
    port, parks) into land_area; the 3D twin draws them under the roads."""
    if not Path(file).is_file():  # validate before connecting
        raise InputError(f"{file}: no such file", hint="pass an OSM .osm or .osm.pbf file")
    with dbm.get_engine(settings()).begin() as conn:
        rep = import_areas(conn, file, dataset=dataset)
    if as_json:
        print_json(rep)
        return
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(rep["by_kind"].items()))
    console.print(
        f"{rep['areas']} areas from {rep['file']} into dataset {rep['dataset']} ({kinds}); "
        f"replaced {rep['replaced']}, skipped {sum(rep['skipped'].values())} other areas, "
        f"{rep['seconds']:.2f} s"
    )
