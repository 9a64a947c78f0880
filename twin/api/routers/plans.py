"""``/plans`` and ``/forecasts``: deterioration forecasts and budgeted maintenance plans."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from twin.api.deps import get_session
from twin.api.routers.assets import actor
from twin.services import plans as svc

router = APIRouter(tags=["plans"])


class PlanIn(BaseModel):
    """A plan request: one budget per year (CNY), the asset kinds to cover."""

    name: str = Field(min_length=1, max_length=200)
    budgets_cny: list[float] = Field(min_length=1, max_length=30)
    kinds: list[str] = Field(default_factory=lambda: ["bridge", "tunnel"])
    time_limit_s: float = Field(30.0, gt=0, le=3600)
    mip_rel_gap: float = Field(
        1e-4,
        ge=0,
        le=0.1,
        description="Accepted gap relative to the plan objective (HiGHS's default 1e-4); "
        "0 asks for a proven optimum",
    )


class WorkOrdersIn(BaseModel):
    """Which plan year (0 = first) and which solution to turn into work orders."""

    year_index: int = Field(0, ge=0)
    method: str = "milp"


BAND = Query(
    None,
    description="Traffic band (light, medium, heavy): forecast that band's assets with its model",
)


@router.get("/forecasts/{kind}")
def forecast(
    kind: str,
    years: int = Query(30, ge=1, le=30),
    band: str | None = BAND,
    db: Session = Depends(get_session),
) -> dict[str, Any]:
    """Class shares of an asset kind for 1-30 years, with credible bands, the same per
    traffic band (``traffic_bands``, each naming its model and whether it was pooled to
    the kind's fit) and the fitted transition matrices (per kind, age and traffic band)."""
    return svc.public(svc.forecast_network(db, kind=kind, years=years, band=band))


@router.get("/forecasts/{kind}/figure.png", response_class=Response)
def forecast_png(
    kind: str,
    years: int = Query(30, ge=1, le=30),
    band: str | None = BAND,
    db: Session = Depends(get_session),
) -> Response:
    """Stacked class shares over time (PNG), of one traffic band with ``band``."""
    png = svc.network_forecast_png(db, kind=kind, years=years, band=band)
    return Response(png, media_type="image/png")


@router.get("/assets/{asset_id}/forecast")
def asset_forecast(
    asset_id: int, years: int = Query(30, ge=1, le=30), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """One asset's expected class and probability of class 4/5 year by year."""
    return svc.public(svc.forecast_asset(db, asset_id, years=years))


@router.get("/assets/{asset_id}/forecast.png", response_class=Response)
def asset_forecast_png(
    asset_id: int, years: int = Query(30, ge=1, le=30), db: Session = Depends(get_session)
) -> Response:
    """One asset's expected path (PNG)."""
    return Response(svc.asset_forecast_png(db, asset_id, years=years), media_type="image/png")


@router.get("/plans")
def list_plans(db: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """Stored plans, newest first."""
    return svc.list_plans(db)


@router.post("/plans", status_code=201)
def create_plan(
    body: PlanIn, who: str = Depends(actor), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """Solve and store a plan (milp and worst-first on the same alternatives)."""
    return svc.run_plan(db, **body.model_dump(), actor=who)


@router.get("/plans/{plan_id}")
def get_plan(plan_id: int, db: Session = Depends(get_session)) -> dict[str, Any]:
    """A stored plan with both solutions."""
    return svc.get_plan(db, plan_id)


@router.post("/plans/{plan_id}/work-orders", status_code=201)
def plan_work_orders(
    plan_id: int, body: WorkOrdersIn, who: str = Depends(actor), db: Session = Depends(get_session)
) -> list[dict[str, Any]]:
    """Open work orders for one plan year's actions."""
    return svc.plan_work_orders(
        db, plan_id, year_index=body.year_index, method=body.method, actor=who
    )
