"""``/work-orders``: maintenance work from inspections and plans, with legal status moves."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from twin.api.deps import get_session
from twin.api.routers.assets import actor
from twin.services import work_orders as svc

router = APIRouter(tags=["work orders"])


class WorkOrderIn(BaseModel):
    """A new work order (``kind`` defaults from the inspection's class when given)."""

    asset_id: int
    kind: str | None = None
    title: str | None = None
    inspection_id: int | None = None
    plan_id: int | None = None
    assignee: str | None = None
    estimated_cost_cny: float | None = Field(None, ge=0)
    due_on: dt.date | None = None
    notes: str | None = None


class StatusIn(BaseModel):
    """A status move: ``assigned`` needs ``assignee``, ``closed`` needs ``cost_cny``."""

    status: str
    assignee: str | None = None
    cost_cny: float | None = None
    closed_on: dt.date | None = None
    notes: str | None = None


@router.get("/work-orders")
def list_work_orders(
    asset_id: int | None = None,
    status: str | None = None,
    plan_id: int | None = None,
    limit: int = Query(500, ge=1, le=10_000),
    db: Session = Depends(get_session),
) -> list[dict[str, Any]]:
    """Work orders, newest first."""
    return svc.list_work_orders(db, asset_id=asset_id, status=status, plan_id=plan_id, limit=limit)


@router.post("/work-orders", status_code=201)
def create_work_order(
    body: WorkOrderIn, who: str = Depends(actor), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """Open a work order (audited)."""
    return svc.create_work_order(db, **body.model_dump(), actor=who)


@router.get("/work-orders/{work_order_id}")
def get_work_order(work_order_id: int, db: Session = Depends(get_session)) -> dict[str, Any]:
    """One work order."""
    return svc.get_work_order(db, work_order_id)


@router.post("/work-orders/{work_order_id}/status")
def move(
    work_order_id: int,
    body: StatusIn,
    who: str = Depends(actor),
    db: Session = Depends(get_session),
) -> dict[str, Any]:
    """Assign, start, close (with cost) or cancel; illegal moves answer 409."""
    return svc.transition_work_order(
        db,
        work_order_id,
        to_status=body.status,
        actor=who,
        assignee=body.assignee,
        cost_cny=body.cost_cny,
        closed_on=body.closed_on,
        notes=body.notes,
    )
