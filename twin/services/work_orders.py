"""Work orders: created from inspections, plans or by hand; assigned, progressed, closed
with their cost. Status moves follow :data:`assets.lifecycle.WORK_ORDER_TRANSITIONS`;
every change is audited.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from assets import lifecycle
from assets.errors import GradingError
from twin.errors import Conflict, InputError, NotFound
from twin.schema import WORK_ORDER_KINDS, Inspection, MaintenancePlan, WorkOrder
from twin.services.assets import DbLike, _require_asset, audit, conn_of, jsonable

W = cast(Table, WorkOrder.__table__)
I = cast(Table, Inspection.__table__)  # noqa: E741
P = cast(Table, MaintenancePlan.__table__)

#: What an inspection's class calls for.
KIND_BY_CLASS = {1: "routine", 2: "routine", 3: "repair", 4: "rehabilitation", 5: "replacement"}


def _cost(value: float | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if value < 0 or value > 1e12:
        raise InputError(f"{field} = {value} CNY is out of range; use 0..1e12 CNY")
    return Decimal(str(round(float(value), 2)))


def get_work_order(db: DbLike, work_order_id: int) -> dict[str, Any]:
    """One work order.

    Raises
    ------
    NotFound
        Unknown id.
    """
    row = conn_of(db).execute(select(W).where(W.c.id == work_order_id)).first()
    if row is None:
        raise NotFound(f"work order id {work_order_id} does not exist")
    return jsonable(dict(row._mapping))  # type: ignore[no-any-return]


def list_work_orders(
    db: DbLike,
    *,
    asset_id: int | None = None,
    status: str | None = None,
    plan_id: int | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Work orders filtered by asset, status and plan, newest first."""
    if status is not None and status not in lifecycle.WORK_ORDER_STATUSES:
        raise InputError(
            f"status = {status!r}; use one of {', '.join(lifecycle.WORK_ORDER_STATUSES)}"
        )
    q = select(W).order_by(W.c.id.desc()).limit(limit)
    if asset_id is not None:
        q = q.where(W.c.asset_id == asset_id)
    if status is not None:
        q = q.where(W.c.status == status)
    if plan_id is not None:
        q = q.where(W.c.plan_id == plan_id)
    return [jsonable(dict(r._mapping)) for r in conn_of(db).execute(q)]


def create_work_order(
    db: DbLike,
    *,
    asset_id: int,
    kind: str | None = None,
    title: str | None = None,
    inspection_id: int | None = None,
    plan_id: int | None = None,
    assignee: str | None = None,
    estimated_cost_cny: float | None = None,
    due_on: dt.date | None = None,
    notes: str | None = None,
    actor: str,
) -> dict[str, Any]:
    """Open a work order. From an inspection, ``kind`` defaults to what its class calls for
    (class 3 repair, 4 rehabilitation, 5 replacement, else routine)."""
    conn = conn_of(db)
    asset = _require_asset(conn, asset_id)
    if inspection_id is not None:
        ins = conn.execute(
            select(I.c.asset_id, I.c.condition_class).where(I.c.id == inspection_id)
        ).first()
        if ins is None:
            raise NotFound(f"inspection_id {inspection_id} does not exist")
        if ins.asset_id != asset_id:
            raise InputError(
                f"inspection_id {inspection_id} belongs to asset {ins.asset_id}, not {asset_id}"
            )
        kind = kind or KIND_BY_CLASS.get(ins.condition_class or 1, "routine")
    if (
        plan_id is not None
        and conn.execute(select(P.c.id).where(P.c.id == plan_id)).first() is None
    ):
        raise NotFound(f"plan_id {plan_id} does not exist")
    kind = kind or "routine"
    if kind not in WORK_ORDER_KINDS:
        raise InputError(f"kind = {kind!r}; use one of {', '.join(WORK_ORDER_KINDS)}")
    est = _cost(estimated_cost_cny, "estimated_cost_cny")
    status = "assigned" if assignee else "open"
    title = title or f"{kind} of {asset['kind']} {asset['external_id']}"
    wid = conn.execute(
        insert(W)
        .values(
            asset_id=asset_id,
            inspection_id=inspection_id,
            plan_id=plan_id,
            kind=kind,
            status=status,
            title=title,
            assignee=assignee,
            estimated_cost_cny=est,
            due_on=due_on,
            notes=notes,
        )
        .returning(W.c.id)
    ).scalar_one()
    after = get_work_order(conn, wid)
    audit(
        conn,
        actor=actor,
        action="create",
        entity="work_order",
        entity_id=wid,
        before=None,
        after=after,
    )
    return after


def transition_work_order(
    db: DbLike,
    work_order_id: int,
    *,
    to_status: str,
    actor: str,
    assignee: str | None = None,
    cost_cny: float | None = None,
    closed_on: dt.date | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    """Move a work order: assign (needs ``assignee``), start (``in_progress``), close (needs
    ``cost_cny``), cancel. Illegal moves raise :class:`Conflict` and write nothing."""
    conn = conn_of(db)
    before = get_work_order(conn, work_order_id)
    try:
        lifecycle.work_order_transition(before["status"], to_status)
    except GradingError as exc:
        if to_status not in lifecycle.WORK_ORDER_STATUSES:
            raise InputError(str(exc), details={"field": "status"}) from None
        raise Conflict(
            f"work order {work_order_id} cannot move from {before['status']!r} to {to_status!r}; "
            f"expected {exc.valid}",
            details={"field": "status"},
        ) from None
    values: dict[str, Any] = {"status": to_status}
    if to_status == "assigned":
        if not assignee:
            raise InputError("assignee is required to assign a work order")
        values["assignee"] = assignee
    if to_status == "closed":
        if cost_cny is None:
            raise InputError("cost_cny is required to close a work order (the actual cost in CNY)")
        values["cost_cny"] = _cost(cost_cny, "cost_cny")
        values["closed_on"] = closed_on or dt.date.today()
        if dt.date.fromisoformat(before["opened_on"]) > values["closed_on"]:
            raise InputError(
                f"closed_on = {values['closed_on']} is before opened_on = {before['opened_on']}"
            )
    elif cost_cny is not None:
        values["cost_cny"] = _cost(cost_cny, "cost_cny")
    if to_status == "cancelled":
        values["closed_on"] = closed_on or dt.date.today()
    if notes:
        values["notes"] = ((before.get("notes") or "") + "\n" + notes).strip()
    conn.execute(update(W).where(W.c.id == work_order_id).values(**values))
    after = get_work_order(conn, work_order_id)
    audit(
        conn,
        actor=actor,
        action=f"status:{to_status}",
        entity="work_order",
        entity_id=work_order_id,
        before={k: before[k] for k in values},
        after={k: after[k] for k in values},
    )
    return after
