"""Assembles the ``twin`` typer app from the command-group modules."""

from __future__ import annotations

import typer

from twin.cli import db, load, serve

app = typer.Typer(
    name="twin",
    help="RoadTwin: the digital twin of Tianjin's roads, bridges, tunnels and port yards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(load.app, name="load")
app.command("serve")(serve.serve)

# Command modules that register on the groups above (one line each).


def main() -> None:
    """Entry point of the ``twin`` console script."""
    app()
