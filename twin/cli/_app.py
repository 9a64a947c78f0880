"""Assembles the ``twin`` command from the command-group modules, loading each lazily.

The groups import heavy libraries (IfcOpenShell, numba, scipy, matplotlib, pyosmium), so a
group's module is imported only when that group is run; ``twin --help`` lists them from
the short help kept here. To add a group: one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Lazy:
    """Where a command lives: ``module:attribute`` (a Typer app or a command function)."""

    target: str
    help: str
    #: modules that register further commands on the group when imported
    extra: tuple[str, ...] = ()


COMMANDS: dict[str, Lazy] = {
    "serve": Lazy("twin.cli.serve:serve", "Serve the API and the 3D twin; Ctrl-C stops both."),
    "route": Lazy(
        "twin.cli.route:route",
        "Check a legal route for a heavy vehicle: structures passed with margins, and "
        "what makes the direct route illegal.",
    ),
    "limits": Lazy("twin.cli.route:limits_app", "Structure limit lookups."),
    "scenario": Lazy(
        "twin.cli.scenario:app", "Run and inspect planners' scenarios (closures, floods, limits)."
    ),
    "db": Lazy("twin.cli.db:app", "Manage the database: the embedded PostGIS cluster, schema."),
    "load": Lazy(
        "twin.cli.load:app",
        "Load data: OSM networks, asset registers, rasters, IFC models, the sample.",
        extra=tuple(
            f"twin.cli.load_{k}"
            for k in (
                "ifc",
                "osm",
                "register",
                "raster",
                "sample",
                "stakes",
                "synthetic",
                "areas",
            )
        ),
    ),
    "assets": Lazy(
        "twin.cli.assets:app", "Asset inventory: list, show, create, lifecycle, export."
    ),
    "inspections": Lazy(
        "twin.cli.inspections:app", "Inspections: record with component scores, list, import."
    ),
    "work-orders": Lazy("twin.cli.work_orders:app", "Work orders: create, assign, start, close."),
    "plan": Lazy("twin.cli.plan:app", "Forecast condition and plan maintenance under budgets."),
}


def _load(name: str, spec: Lazy, args: list[str] | None = None) -> Any:
    extra = spec.extra
    if args:  # `twin load osm`: only twin.cli.load_osm, not every kind's heavy imports
        extra = tuple(m for m in extra if m.rsplit("_", 1)[-1] == args[0]) or extra
    for module in extra:
        importlib.import_module(module)
    module, attr = spec.target.split(":")
    obj: Any = getattr(importlib.import_module(module), attr)
    if isinstance(obj, typer.Typer):
        # a group stays a group even when only one of its commands was imported
        cmd = typer.main.get_group(obj) if spec.extra else typer.main.get_command(obj)
    else:
        single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
        single.command(name)(obj)
        cmd = typer.main.get_command(single)
    cmd.name = name
    return cmd


class LazyGroup(TyperGroup):
    """A click group whose sub-commands are imported when resolved, not when listed."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS) + [c for c in super().list_commands(ctx) if c not in COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return super().get_command(ctx, cmd_name)
        # Listing (help): a light stand-in with the short help; running: resolve_command.
        return TyperCommand(cmd_name, help=spec.help, short_help=spec.help)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else None
        if name in COMMANDS:
            return name, _load(name, COMMANDS[name], args[1:]), args[1:]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="twin",
    cls=LazyGroup,
    help="RoadTwin: the digital twin of Tianjin's roads, bridges, tunnels and port yards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """RoadTwin: the digital twin of Tianjin's roads, bridges, tunnels and port yards."""


def main() -> None:
    """Entry point of the ``twin`` console script."""
    app()
