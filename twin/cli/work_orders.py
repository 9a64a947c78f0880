"""``twin work-orders``: create, assign, progress, close work orders."""

from __future__ import annotations

import typer

from twin.cli import _assets_common as common
from twin.cli._assets_common import ACTOR_OPTION, parse_date, show_table
from twin.cli._common import console, handle_errors, print_json
from twin.services import work_orders as svc

app = typer.Typer(
    help="Work orders: create, assign, start, close with cost, cancel.", no_args_is_help=True
)


@app.command("list")
@handle_errors
def list_(
    asset_id: int | None = typer.Option(None, "--asset"),
    status: str | None = typer.Option(None),
    plan_id: int | None = typer.Option(None, "--plan"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Work orders, newest first."""
    with common.db_session() as db:
        rows = svc.list_work_orders(db, asset_id=asset_id, status=status, plan_id=plan_id)
    if as_json:
        print_json(rows)
    else:
        show_table(
            rows,
            [
                "id",
                "asset_id",
                "kind",
                "status",
                "assignee",
                "estimated_cost_cny",
                "cost_cny",
                "title",
            ],
        )


@app.command()
@handle_errors
def create(
    asset_id: int = typer.Option(..., "--asset"),
    kind: str | None = typer.Option(
        None, help="routine, repair, rehabilitation, replacement, inspection."
    ),
    inspection_id: int | None = typer.Option(None, "--inspection"),
    title: str | None = typer.Option(None),
    assignee: str | None = typer.Option(None),
    estimate_cny: float | None = typer.Option(None, "--estimate-cny"),
    due: str | None = typer.Option(None, help="Due date YYYY-MM-DD."),
    actor: str = ACTOR_OPTION,
) -> None:
    """Open a work order (kind from the inspection's class when omitted)."""
    with common.db_session() as db:
        out = svc.create_work_order(
            db, asset_id=asset_id, kind=kind, inspection_id=inspection_id, title=title, assignee=assignee,
            estimated_cost_cny=estimate_cny, due_on=parse_date(due, "--due") if due else None, actor=actor,
        )  # fmt: skip
    console.print(f"work order {out['id']}: {out['kind']} {out['status']}")


def _move(work_order_id: int, status: str, actor: str, **kw: object) -> None:
    with common.db_session() as db:
        out = svc.transition_work_order(db, work_order_id, to_status=status, actor=actor, **kw)  # type: ignore[arg-type]
    console.print(f"work order {work_order_id}: {out['status']}")


@app.command()
@handle_errors
def assign(
    work_order_id: int = typer.Argument(...),
    to: str = typer.Option(..., "--to"),
    actor: str = ACTOR_OPTION,
) -> None:
    """Assign to a crew or person."""
    _move(work_order_id, "assigned", actor, assignee=to)


@app.command()
@handle_errors
def start(work_order_id: int = typer.Argument(...), actor: str = ACTOR_OPTION) -> None:
    """Mark as in progress."""
    _move(work_order_id, "in_progress", actor)


@app.command()
@handle_errors
def close(
    work_order_id: int = typer.Argument(...),
    cost_cny: float = typer.Option(..., "--cost-cny", help="Actual cost, CNY."),
    on: str | None = typer.Option(None, "--on", help="Closing date YYYY-MM-DD (today)."),
    actor: str = ACTOR_OPTION,
) -> None:
    """Close with the actual cost."""
    _move(
        work_order_id,
        "closed",
        actor,
        cost_cny=cost_cny,
        closed_on=parse_date(on, "--on") if on else None,
    )


@app.command()
@handle_errors
def cancel(work_order_id: int = typer.Argument(...), actor: str = ACTOR_OPTION) -> None:
    """Cancel."""
    _move(work_order_id, "cancelled", actor)
