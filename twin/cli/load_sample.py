"""``twin load sample``: the bundled Tianjin sample (idempotent; ``make run`` calls it)."""

from __future__ import annotations

import typer

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.services import sample


@app.command("sample")
@handle_errors
def load_sample(
    force: bool = typer.Option(False, "--force", help="Re-run every step even if unchanged."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Load data/sample/ (invented Tianjin data): OSM network, road stakes, registers, port
    yard and lanes, villages, V2X units and RSI messages, rasters. Steps whose files are
    unchanged since the last load are skipped; everything runs in one transaction."""
    s = settings()
    dbm.migrate(s)
    with console.status("loading the Tianjin sample ...") as status:

        def progress(msg: str) -> None:
            status.update(f"sample: {msg}")

        with dbm.get_engine(s).begin() as conn:
            report = sample.load_sample(conn, force=force, progress=progress)
    if as_json:
        print_json(report)
        return
    for name, st in report["steps"].items():
        secs = f" ({st['seconds']:.1f} s)" if "seconds" in st else ""
        console.print(f"  {name:<12} {st['status']}{secs}")
    added = ", ".join(f"{t} {n:+,}" for t, n in report["added"].items()) or "no changes"
    console.print(f"sample loaded in {report['seconds']:.1f} s: {added}")
    rows = report["rows"]
    console.print(
        "now: "
        + ", ".join(
            f"{t} {rows[t]:,}"
            for t in ("road_edge", "asset", "structure_limit", "village", "v2x_unit")
            if t in rows
        )
    )
