"""``twin plan``: deterioration forecasts and budgeted maintenance plans."""

from __future__ import annotations

from pathlib import Path

import typer

from twin.cli import _assets_common as common
from twin.cli._assets_common import ACTOR_OPTION, show_table
from twin.cli._common import console, handle_errors, print_json
from twin.errors import InputError
from twin.services import plans as svc

app = typer.Typer(
    help="Forecast condition and plan maintenance under yearly budgets.", no_args_is_help=True
)


@app.command()
@handle_errors
def run(
    name: str = typer.Option(..., help="Plan name."),
    budget_cny: list[float] = typer.Option(
        ..., "--budget-cny", help="Budget of a year, CNY (repeat per year, or give --years)."
    ),
    years: int | None = typer.Option(
        None, help="Plan years: one --budget-cny is then every year's budget."
    ),
    kind: list[str] = typer.Option(["bridge", "tunnel"], "--kind", help="Asset kinds (repeat)."),
    time_limit_s: float = typer.Option(30.0, help="Solver time limit, seconds."),
    gap: float = typer.Option(
        1e-4, help="Gap accepted, relative to the plan objective (0: proven optimum)."
    ),
    as_json: bool = typer.Option(False, "--json"),
    actor: str = ACTOR_OPTION,
) -> None:
    """Solve and store a multi-year plan; compare milp with worst-first."""
    if years is not None:
        if len(budget_cny) == 1:
            budget_cny = budget_cny * max(years, 0)
        elif len(budget_cny) != years:
            raise InputError(
                f"--years {years} with {len(budget_cny)} --budget-cny values; give one budget "
                "(every year) or one per year"
            )
    with common.db_session() as db:
        out = svc.run_plan(db, name=name, budgets_cny=budget_cny, kinds=kind, time_limit_s=time_limit_s,
                           mip_rel_gap=gap, actor=actor)  # fmt: skip
    if as_json:
        print_json(out)
        return
    r = out["result"]
    console.print(
        f"plan {out['id']} '{name}': {r['assets']} assets, milp objective {r['milp']['objective']} "
        f"({r['milp']['status']}, proven gap {_gap(r['milp']['gap'])} of the objective, "
        f"{_gap(r['milp']['solver'].get('gap_vs_gain'))} of the gain over doing nothing; "
        f"{r['milp']['seconds']} s) vs worst-first "
        f"{r['worst_first']['objective']} (+{r['improvement_over_worst_first_pct']} %)"
    )
    show_table(
        r["milp"]["actions"][:50],
        ["year_index", "asset_id", "action", "cost_cny", "expected_class_before"],
    )


def _gap(g: float | None) -> str:
    return "unknown" if g is None else f"{g:.1e}"


@app.command("list")
@handle_errors
def list_() -> None:
    """Stored plans."""
    with common.db_session() as db:
        show_table(svc.list_plans(db), ["id", "name", "created_by", "created_at"])


@app.command()
@handle_errors
def show(plan_id: int = typer.Argument(...)) -> None:
    """A stored plan as JSON."""
    with common.db_session() as db:
        print_json(svc.get_plan(db, plan_id))


@app.command("work-orders")
@handle_errors
def work_orders(
    plan_id: int = typer.Argument(...),
    year_index: int = typer.Option(0, help="Plan year, 0 = first."),
    method: str = typer.Option("milp", help="milp or worst_first."),
    actor: str = ACTOR_OPTION,
) -> None:
    """Open work orders for one plan year."""
    with common.db_session() as db:
        out = svc.plan_work_orders(db, plan_id, year_index=year_index, method=method, actor=actor)
    console.print(f"opened {len(out)} work orders from plan {plan_id}, year index {year_index}")


@app.command()
@handle_errors
def forecast(
    kind: str = typer.Option("bridge", help="Asset kind."),
    asset_id: int | None = typer.Option(None, "--asset", help="One asset instead of the network."),
    years: int = typer.Option(30, help="1..30 years."),
    band: str | None = typer.Option(
        None, help="Traffic band (light, medium, heavy): that band's assets and model."
    ),
    png: Path | None = typer.Option(None, help="Write the figure to this PNG file."),
) -> None:
    """Forecast class shares per traffic band (or one asset's path); optionally write
    the figure."""
    if png is not None and png.suffix.lower() != ".png":
        raise InputError(f"--png {png}: the file name must end in .png")
    with common.db_session() as db:
        if asset_id is not None:
            data = svc.public(svc.forecast_asset(db, asset_id, years=years))
            fig = svc.asset_forecast_png(db, asset_id, years=years) if png else None
        else:
            data = svc.public(svc.forecast_network(db, kind=kind, years=years, band=band))
            data.pop("groups", None)
            fig = svc.network_forecast_png(db, kind=kind, years=years, band=band) if png else None
    if png is not None and fig is not None:
        png.write_bytes(fig)
        console.print(f"wrote {png}")
    print_json(data)
