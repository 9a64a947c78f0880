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

from twin.cli import assets as assets_cli  # noqa: E402
from twin.cli import inspections as inspections_cli  # noqa: E402
from twin.cli import work_orders as work_orders_cli  # noqa: E402

app.add_typer(assets_cli.app, name="assets")
app.add_typer(inspections_cli.app, name="inspections")
app.add_typer(work_orders_cli.app, name="work-orders")
from twin.cli import plan as plan_cli  # noqa: E402

app.add_typer(plan_cli.app, name="plan")

# Command modules that register on the groups above (one line each).
from twin.cli import load_ifc  # noqa: E402,F401  (twin load ifc)
from twin.cli import load_osm  # noqa: E402,F401  (twin load osm)
from twin.cli import load_register  # noqa: E402,F401  (twin load register)
from twin.cli import load_raster  # noqa: E402,F401  (twin load raster)
from twin.cli import load_sample  # noqa: E402,F401  (twin load sample)
from twin.cli import load_synthetic  # noqa: E402,F401  (twin load synthetic)
from twin.cli import route as route_cli  # noqa: E402

app.command("route")(route_cli.route)
app.add_typer(route_cli.limits_app, name="limits")
from twin.cli import scenario as scenario_cli  # noqa: E402

app.add_typer(scenario_cli.app, name="scenario")


def main() -> None:
    """Entry point of the ``twin`` console script."""
    app()
