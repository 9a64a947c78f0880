"""``twin load synthetic --edges N --seed S``: a generated network straight into the schema."""

from __future__ import annotations

import typer
from rich.table import Table

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.services.routing import invalidate
from twin.services.synthetic import load_synthetic


@app.command("synthetic")
@handle_errors
def load_synthetic_cmd(
    edges: int = typer.Option(10_000, "--edges", help="Target number of edges (200..5,000,000)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed + size = same network)."),
    limited_share: float = typer.Option(
        0.03, "--limited-share", help="Share of edges under a structure with limits."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Generate a seeded road network around Tianjin (urban grid, ring expressways, rural
    roads, bridges/tunnels/underpasses with limits) and write it in one transaction;
    re-loading the same size and seed replaces the previous copy."""
    with dbm.get_engine(settings()).begin() as conn:
        result = load_synthetic(conn, edges=edges, seed=seed, limited_share=limited_share)
    invalidate(settings())
    if as_json:
        print_json(result.to_dict())
        return
    t = Table("dataset", "nodes", "edges", "roads", "structures", "limits", "seconds")
    t.add_row(
        result.dataset,
        f"{result.nodes:,}",
        f"{result.edges:,}",
        f"{result.roads:,}",
        f"{result.assets:,}",
        f"{result.limits:,}",
        f"{result.seconds:.1f}",
    )
    console.print(t)
