"""``twin load register``: asset registers (CSV in UTF-8 or GBK, Excel, GeoPackage)."""

from __future__ import annotations

from pathlib import Path

import typer

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.load import app
from twin.services import registers


@app.command("register")
@handle_errors
def load_register(
    file: Path = typer.Argument(..., help="Register: .csv (UTF-8 or GBK), .xlsx or .gpkg."),
    kind: str | None = typer.Option(
        None, "--kind", help="Asset kind for rows without one (bridge, tunnel, sign, rsu ...)."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Fail the whole file, writing nothing, if any row is rejected."
    ),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet or GeoPackage layer."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Load FILE into the asset inventory.

    Columns are matched by name, English or Chinese: asset id (external_id/资产编号),
    kind (类型), name (名称), road code (路线编号), stake (桩号, K12+345), end stake
    (止点桩号), lon/lat (经度/纬度), limits (限高 m, 限宽 m, 限重 t, 限轴重 t; a unit in
    brackets in the header or in the cell overrides), owner (管养单位), built year
    (建成年份), state (状态); other columns are kept as attributes. Rows whose asset id
    exists update that asset. The file loads in one transaction; without --strict good
    rows load and each rejected row is reported with its line number and reason.
    """
    with dbm.get_engine(settings()).begin() as conn:
        report = registers.load_register(conn, file, default_kind=kind, strict=strict, sheet=sheet)
    if as_json:
        print_json(report.to_dict())
        return
    enc = f", {report.encoding}" if report.encoding else ""
    console.print(
        f"{file.name} ({report.format}{enc}): {report.rows_read} rows read, "
        f"{report.inserted} assets added, {report.updated} updated, {report.limits} limits, "
        f"{report.edge_links} edge links, {len(report.rejected)} rejected "
        f"({report.seconds:.2f} s, load run {report.load_run_id})"
    )
    if report.unmapped_columns:
        console.print(f"kept as attributes: {', '.join(report.unmapped_columns)}")
    for r in report.rejected[:50]:
        console.print(f"[yellow]line {r['line']}[/] {r['external_id'] or ''}: {r['reason']}")
    if len(report.rejected) > 50:
        console.print(f"... and {len(report.rejected) - 50} more (use --json for all)")
