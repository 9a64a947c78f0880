"""``twin load osm FILE``: an OSM network with its bridges, tunnels and limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin import db as dbm
from twin.cli._common import console, err_console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.errors import InputError
from twin.services.osm_import import OsmImportResult, import_osm

_PHASES = {
    "ways": "reading drivable ways",
    "edges": "splitting into edges",
    "road_node": "writing road_node",
    "road_edge": "writing road_edge",
    "asset": "writing asset",
    "structure_limit": "writing structure_limit, asset_edge",
}


def _parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        vals = tuple(float(p) for p in parts)
    except ValueError:
        vals = ()
    if len(vals) != 4:
        raise InputError(
            f"--bbox {raw!r}: expected four numbers MIN_LON,MIN_LAT,MAX_LON,MAX_LAT "
            "(for example 116.7,38.5,118.1,40.3 for Tianjin)"
        )
    return (vals[0], vals[1], vals[2], vals[3])


@app.command("osm")
@handle_errors
def load_osm(
    file: Path = typer.Argument(..., help="OSM file: .osm, .osm.gz, .osm.bz2 or .osm.pbf."),
    dataset: str | None = typer.Option(
        None,
        "--dataset",
        help="Identity of the load; a later load with the same name replaces its rows "
        "(default: the file's sha256, so re-loading the same file is a no-op).",
    ),
    region: str = typer.Option(
        "any", "--region", help="'any': coordinates outside China are a warning; 'china': an error."
    ),
    bbox: str | None = typer.Option(
        None, "--bbox", help="MIN_LON,MIN_LAT,MAX_LON,MAX_LAT: refuse files with nodes outside it."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Load FILE's drivable roads into road/road_node/road_edge, bridges, tunnels and
    height restrictors into asset with their limits -- all or nothing."""
    if region not in ("any", "china"):
        raise InputError(f"--region {region!r}: expected 'any' or 'china'")
    box = _parse_bbox(bbox)
    with _Bars(enabled=not as_json) as hook, dbm.get_engine(settings()).begin() as conn:
        result = import_osm(
            conn,
            file,
            dataset=dataset,
            region="china" if region == "china" else "any",
            bbox=box,
            progress=hook,
        )
    if as_json:
        print_json(result.to_dict())
        return
    _print_summary(result)


class _Bars:
    """Rich progress bars fed by the service's ``progress(phase, done, total)`` hook."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        self.bar.start()
        return self.hook

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()

    def hook(self, phase: str, done: int, total: int | None) -> None:
        task = self.tasks.get(phase)
        if task is None:
            task = self.bar.add_task(_PHASES.get(phase, phase), total=total)
            self.tasks[phase] = task
        self.bar.update(task, completed=done, total=total if total is not None else None)


def _print_summary(r: OsmImportResult) -> None:
    t = Table("table", "rows written", "replaced")
    for name, n in r.rows.items():
        t.add_row(name, f"{n:,}", f"{r.replaced.get(name, 0):,}")
    console.print(t)
    rep = r.report
    if rep is not None:
        for title, section in (
            ("unparseable (kept as unknown, never as 'no limit')", rep.unparseable),
            ("rejected", rep.rejected),
            ("warnings", rep.warnings),
        ):
            for key, issue in section.items():
                examples = "; ".join(issue.examples[:3])
                console.print(f"[yellow]{title}[/] {key}: {issue.count:,} (e.g. {examples})")
    console.print(
        f"{Path(r.file).name}: load_run {r.load_run_id}, dataset {r.dataset}, {r.seconds:.2f} s"
    )
