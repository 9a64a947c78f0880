"""``twin inspections``: record, list and bulk-import inspections."""

from __future__ import annotations

from pathlib import Path

import typer

from twin.cli import _assets_common as common
from twin.cli._assets_common import ACTOR_OPTION, parse_date, parse_json, show_table
from twin.cli._common import console, handle_errors, print_json
from twin.errors import InputError
from twin.services import asset_io
from twin.services import assets as svc

app = typer.Typer(
    help="Inspections: record with component scores, list, import history.", no_args_is_help=True
)


@app.command("list")
@handle_errors
def list_(
    asset_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """An asset's inspections, oldest first."""
    with common.db_session() as db:
        rows = svc.list_inspections(db, asset_id)
    if as_json:
        print_json(rows)
    else:
        show_table(
            rows,
            [
                "id",
                "inspected_on",
                "inspector",
                "overall_score",
                "condition_class",
                "grade",
                "synthetic",
            ],
        )


@app.command()
@handle_errors
def add(
    asset_id: int = typer.Argument(...),
    on: str = typer.Option(..., "--on", help="Inspection date YYYY-MM-DD."),
    scores: str = typer.Option(..., help="Component scores as JSON or @file.json."),
    inspector: str | None = typer.Option(None),
    notes: str | None = typer.Option(None),
    actor: str = ACTOR_OPTION,
) -> None:
    """Record and grade an inspection (class 4/5 bridges get limit/closure proposals)."""
    with common.db_session() as db:
        out = svc.record_inspection(
            db, asset_id, inspected_on=parse_date(on, "--on"), component_scores=parse_json(scores, "--scores"),
            inspector=inspector, notes=notes, actor=actor,
        )  # fmt: skip
    console.print(f"inspection {out['id']}: score {out['overall_score']}, {out['grade']}")
    for p in out["proposals"]:
        console.print(
            f"[yellow]proposed:[/] {p['type']} {p.get('value') or p.get('to')} — {p.get('note') or p.get('reason')}"
        )


@app.command("import")
@handle_errors
def import_(
    path: Path = typer.Argument(..., help="CSV of inspection history."), actor: str = ACTOR_OPTION
) -> None:
    """Import inspection history from CSV, all or nothing (rejections by line number)."""
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    try:
        with common.db_session() as db:
            out = asset_io.import_inspections_csv(
                db, path.read_bytes(), actor=actor, file_name=str(path)
            )
    except InputError as exc:
        for d in (exc.details or [])[:50]:
            typer.echo(f"{path}:{d['line']}: {d['field']}: {d['message']}", err=True)
        raise
    console.print(f"imported {out['imported']} inspections of {out['assets']} assets from {path}")
