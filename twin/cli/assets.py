"""``twin assets``: the asset inventory, lifecycle moves, limit approvals, exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from twin.cli import _assets_common as common
from twin.cli._assets_common import ACTOR_OPTION, parse_date, parse_json, show_table
from twin.cli._common import console, handle_errors, print_json
from twin.services import asset_io
from twin.services import assets as svc

app = typer.Typer(
    help="Asset inventory: list, show, create, move through the lifecycle, export.",
    no_args_is_help=True,
)

_COLS = [
    "id",
    "external_id",
    "kind",
    "name_zh",
    "road_code",
    "lifecycle_state",
    "condition_class",
    "last_inspected_on",
]


@app.command("list")
@handle_errors
def list_(
    kind: str | None = typer.Option(None, help="Asset kind (bridge, tunnel, ...)."),
    state: str | None = typer.Option(None, help="Lifecycle state."),
    road: str | None = typer.Option(None, help="Road code (G2, S30 ...)."),
    condition_class: int | None = typer.Option(
        None, "--class", help="Latest condition class 1..5."
    ),
    limit: int = typer.Option(100, help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List assets with their latest condition class."""
    with common.db_session() as db:
        rows = svc.list_assets(
            db, kind=kind, state=state, road_code=road, condition_class=condition_class, limit=limit
        )
    print_json(rows) if as_json else show_table(rows, _COLS, title=f"{len(rows)} assets")


@app.command()
@handle_errors
def show(asset_id: int = typer.Argument(..., help="Asset id.")) -> None:
    """Show one asset as JSON (latest inspection, legal next states)."""
    with common.db_session() as db:
        print_json(svc.get_asset(db, asset_id))


@app.command()
@handle_errors
def create(
    external_id: str = typer.Option(..., help="Register id (unique)."),
    kind: str = typer.Option(..., help="Asset kind."),
    lon: float | None = typer.Option(None, help="Longitude, EPSG:4326 degrees."),
    lat: float | None = typer.Option(None, help="Latitude, EPSG:4326 degrees."),
    wkt: str | None = typer.Option(None, help="Geometry as WKT (EPSG:4326) instead of lon/lat."),
    name_zh: str | None = typer.Option(None),
    name_en: str | None = typer.Option(None),
    road: str | None = typer.Option(None, help="Road code."),
    stake_m: float | None = typer.Option(None, help="Stake along the road, metres."),
    built_on: str | None = typer.Option(None, help="YYYY-MM-DD."),
    state: str | None = typer.Option(None, help="Initial lifecycle state (default in_service)."),
    attributes: str = typer.Option("{}", help="JSON object (or @file)."),
    actor: str = ACTOR_OPTION,
) -> None:
    """Register an asset (audited)."""
    with common.db_session() as db:
        out = svc.create_asset(
            db, external_id=external_id, kind=kind, lon=lon, lat=lat, wkt=wkt, name_zh=name_zh,
            name_en=name_en, road_code=road, stake_m=stake_m,
            built_on=parse_date(built_on, "--built-on") if built_on else None,
            lifecycle_state=state, attributes=parse_json(attributes, "--attributes"), actor=actor,
        )  # fmt: skip
    console.print(
        f"asset {out['id']} ({out['kind']} {out['external_id']}) registered, {out['lifecycle_state']}"
    )


@app.command()
@handle_errors
def transition(
    asset_id: int = typer.Argument(..., help="Asset id."),
    to_state: str = typer.Argument(..., help="Target lifecycle state."),
    reason: str | None = typer.Option(None, help="Why (kept in the audit log)."),
    actor: str = ACTOR_OPTION,
) -> None:
    """Move an asset to another lifecycle state (legal moves only)."""
    with common.db_session() as db:
        out = svc.transition_asset(db, asset_id, to_state=to_state, actor=actor, reason=reason)
    console.print(f"asset {asset_id} is now {out['lifecycle_state']}")


@app.command()
@handle_errors
def limits(asset_id: int = typer.Argument(...), status: str | None = typer.Option(None)) -> None:
    """List an asset's structure limits."""
    with common.db_session() as db:
        rows = svc.list_limits(db, asset_id, status=status)
    show_table(rows, ["id", "kind", "value", "source_kind", "status", "note"])


@app.command("approve-limit")
@handle_errors
def approve_limit(
    asset_id: int = typer.Argument(...),
    limit_id: int = typer.Argument(...),
    value: int | None = typer.Option(None, help="Approve with this value instead (kg for weight)."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of approving."),
    actor: str = ACTOR_OPTION,
) -> None:
    """Approve (or reject) a proposed condition limit; routing then uses it."""
    with common.db_session() as db:
        out = svc.decide_limit(db, asset_id, limit_id, approve=not reject, actor=actor, value=value)
    console.print(f"limit {limit_id}: {out['status']} ({out['kind']} {out['value']})")


@app.command("approve-closure")
@handle_errors
def approve_closure(asset_id: int = typer.Argument(...), actor: str = ACTOR_OPTION) -> None:
    """Approve a proposed closure of a class 5 bridge."""
    with common.db_session() as db:
        out = svc.approve_closure(db, asset_id, actor=actor)
    console.print(f"asset {asset_id} is now {out['lifecycle_state']}")


@app.command()
@handle_errors
def export(
    out: Path = typer.Argument(..., help="Output file: .csv or .xlsx."),
    what: str = typer.Option("assets", help="assets, inspections or work_orders."),
) -> None:
    """Export assets, inspections or work orders to CSV or Excel."""
    fmt = out.suffix.lower().lstrip(".")
    with common.db_session() as db:
        data = asset_io.export_bytes(db, what, fmt=fmt)
    out.write_bytes(data)
    console.print(f"wrote {out} ({len(data)} bytes)")


@app.command()
@handle_errors
def audit(asset_id: int = typer.Argument(...)) -> None:
    """Who changed the asset, when, before and after."""
    with common.db_session() as db:
        svc.get_asset(db, asset_id)
        rows: list[dict[str, Any]] = svc.audit_trail(db, entity="asset", entity_id=asset_id)
    show_table(rows, ["at", "actor", "action", "before", "after"])


@app.command("generate-history")
@handle_errors
def generate_history(
    seed: int = typer.Option(20240601, help="Random seed (same seed, same history)."),
    years: int = typer.Option(12, help="Years of history."),
    traffic: bool = typer.Option(
        True, help="First give structures without real traffic data SYNTHETIC traffic."
    ),
    actor: str = ACTOR_OPTION,
) -> None:
    """Replace the SYNTHETIC inspection history of every bridge and tunnel (marked
    synthetic=true; real inspections are kept); heavier traffic wears structures faster."""
    from twin.services.asset_history import generate_history as gen

    with common.db_session() as db:
        out = gen(db, seed=seed, years=years, actor=actor, traffic=traffic)
    console.print(
        f"synthetic history: {out['inspections']} inspections of {out['assets']} bridges/tunnels "
        f"over {years} years (seed {seed}; {out['removed_synthetic']} old synthetic rows replaced)"
    )
    if out["synthetic_traffic"]:
        t = out["synthetic_traffic"]
        console.print(
            f"SYNTHETIC traffic (AADT, heavy-vehicle share by road class) on {t['structures']} "
            f"structures; {t['kept_real_traffic']} with real traffic data kept"
        )
