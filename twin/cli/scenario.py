"""``twin scenario``: planners' what-ifs from the command line."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from road_network.scenario import LimitChange
from road_network.vehicle import PRESETS
from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.cli.route import _vehicle
from twin.errors import InputError
from twin.services import scenarios as svc

app = typer.Typer(
    help="Run and inspect planners' scenarios (closures, floods, limits).", no_args_is_help=True
)

_LIMIT_FACTORS = {"height": 100, "width": 100, "length": 100, "weight": 1000, "axle_load": 1000}


def _limit_change(raw: str) -> LimitChange:
    """``ASSET:KIND=VALUE`` with metres for sizes and tonnes for weights."""
    try:
        asset, rest = raw.split(":", 1)
        kind, value = rest.split("=", 1)
        factor = _LIMIT_FACTORS[kind]
        return LimitChange(asset, kind, round(float(value) * factor))
    except (ValueError, KeyError):
        raise InputError(
            f"--limit {raw!r}: expected ASSET:KIND=VALUE, KIND one of "
            f"{', '.join(_LIMIT_FACTORS)} (m for sizes, t for weights), e.g. BR-12:weight=20"
        ) from None


@app.command("run")
@handle_errors
def run(
    name: str = typer.Option(..., "--name", help="A name for the scenario."),
    close: list[str] = typer.Option(
        [], "--close", help="Asset id or external id to close (repeatable)."
    ),
    close_edge: list[int] = typer.Option(
        [], "--close-edge", help="Road edge id to close (repeatable)."
    ),
    limit: list[str] = typer.Option(
        [], "--limit", help="Post a lower limit: ASSET:KIND=VALUE (m / t)."
    ),
    flood: int | None = typer.Option(
        None, "--flood", help="Id of a registered water-depth raster."
    ),
    wading: float = typer.Option(0.3, "--max-wading-depth", help="Deeper water closes an edge, m."),
    preset: str = typer.Option("container40hc", "--preset", help=f"Vehicle: {', '.join(PRESETS)}."),
    height: float | None = typer.Option(None, "--height", help="Vehicle height, m."),
    weight: float | None = typer.Option(None, "--weight", help="Gross mass, t."),
    no_villages: bool = typer.Option(False, "--no-villages", help="Skip village reachability."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Do not save the result."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Evaluate a scenario: which port flows detour or are cut off, which villages lose access."""
    s = settings()
    req = svc.ScenarioRequest(
        name=name,
        vehicle=_vehicle(preset=preset, height_m=height, weight_t=weight),
        close_assets=list(close),
        close_edges=list(close_edge),
        limit_changes=[_limit_change(x) for x in limit],
        flood_raster_id=flood,
        max_wading_depth_m=wading,
        villages=not no_villages,
        save=not dry_run,
        actor=s.actor,
    )
    with dbm.get_engine(s).begin() as conn:
        result = svc.run_scenario(conn, s, req)
    if as_json:
        print_json(result)
        return
    _print(result)


def _print(result: dict[str, Any]) -> None:
    sm = result["summary"]
    console.print(
        f"[bold]{result['scenario']}[/]  vehicle {result['vehicle'].get('name')}: "
        f"{sm['closed_edges']} edges closed ({sm['flooded_edges']} flooded), "
        f"{sm['trips_detoured']} of {sm['trips']} trips detoured (max {sm['max_detour_m']:,.0f} m), "
        f"{sm['trips_cut_off']} cut off; villages cut off: {sm['villages_cut_off_vehicle']} "
        f"for this vehicle, {sm['villages_cut_off_car']} for cars"
        + (f"  [dim](saved as scenario {result['id']})[/]" if "id" in result else "")
    )
    t = Table("trip", "status", "before km", "after km", "detour km", "detour min")
    for r in result["trips"]:
        b, a = r.get("before"), r.get("after")
        t.add_row(
            r["name"],
            r["status"],
            f"{b['length_m'] / 1000:.1f}" if b else "-",
            f"{a['length_m'] / 1000:.1f}" if a else "-",
            f"{r['detour_m'] / 1000:.1f}" if "detour_m" in r else "-",
            f"{r['detour_s'] / 60:.1f}" if "detour_s" in r else "-",
        )
    console.print(t)
    for r in result["trips"]:
        if r["status"] in ("cut_off", "blocked_before") and r.get("reason"):
            first = (r.get("blocking") or [{}])[0]
            what = ", ".join(
                f"{v['kind']} {v['limit']} {v.get('unit') or ''} < {v['vehicle']}"
                for v in first.get("violated", [])
                if v.get("limit") is not None
            )
            where = first.get("name") or first.get("external_id")
            console.print(
                f"[yellow]{r['name']}[/]: {r['reason']}"
                + (f"; first: {where} ({what})" if where else "")
            )
    cut = [
        v for v in result["villages"] if v["car_reachable_before"] and not v["car_reachable_after"]
    ]
    if cut:
        console.print("villages cut off: " + ", ".join(f"{v['name']} ({v['code']})" for v in cut))


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Saved scenarios, newest first."""
    with dbm.get_engine(settings()).connect() as conn:
        rows = svc.list_scenarios(conn)
    if as_json:
        print_json(rows)
        return
    t = Table("id", "name", "kind", "trips detoured", "cut off", "villages cut off", "created")
    for r in rows:
        sm = r.get("summary") or {}
        t.add_row(
            str(r["id"]),
            r["name"],
            r["kind"],
            str(sm.get("trips_detoured", "-")),
            str(sm.get("trips_cut_off", "-")),
            str(sm.get("villages_cut_off_car", "-")),
            r["created_at"][:16],
        )
    console.print(t)
