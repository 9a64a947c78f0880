"""``twin load stakes``: road centrelines with their stake measure (linear referencing)."""

from __future__ import annotations

from pathlib import Path

import typer

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.services import road_stakes


@app.command("stakes")
@handle_errors
def load_stakes(
    file: Path = typer.Argument(
        ..., help="Centrelines: .geojson or .gpkg, one LineString per road code."
    ),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Give roads their stake centreline so registers can place assets by K-stake.

    Each feature: code (路线编号, e.g. G2), stake_start (起点桩号, K96+000 or metres; the
    stake at the first vertex, the line digitised in the direction of increasing stakes),
    chain_breaks (断链, [{"back": "K150+000", "ahead": "K150+120"}]), optional name_zh,
    name_en, road_class. The road's edges (OSM ref = code) and assets get their stakes.
    All features are checked first; any bad one fails the file, naming the feature and
    field, and nothing is written.
    """
    with dbm.get_engine(settings()).begin() as conn:
        rep = road_stakes.load_centrelines(conn, file, layer=layer)
    if as_json:
        print_json(rep.to_dict())
        return
    console.print(
        f"{file.name}: {rep.roads} roads ({rep.roads_created} new), "
        f"{rep.edges_linked} edges linked, {rep.edges_with_stakes} edges and "
        f"{rep.assets_with_stakes} assets with stakes ({rep.seconds:.2f} s)"
    )
    for r in rep.per_road:
        console.print(
            f"  {r['code']}: {r['length_m'] / 1000:.2f} km, stakes "
            f"{_stake(r['stake_start_m'])} .. {_stake(r['stake_end_m'])}, "
            f"{r['edges']} edges, {r['assets']} assets"
        )


def _stake(m: float) -> str:
    from road_network.stake import format_stake

    return format_stake(m)
