"""``/scenarios``: planners' what-ifs (closures, floods, lowered limits) and their effects."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from road_network.scenario import LimitChange, Trip
from twin.api.deps import get_session, get_settings
from twin.api.routers.route import Vehicle
from twin.services import scenarios as svc
from twin.settings import Settings

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


class LimitChangeIn(BaseModel):
    """A structure's limit posted lower."""

    asset: int | str = Field(description="asset id or external id")
    kind: Literal["height", "width", "length", "weight", "axle_load"]
    value: float = Field(gt=0, description="metres for height/width/length, tonnes for weights")


class TripIn(BaseModel):
    """An origin/destination pair, WGS84 degrees."""

    name: str
    origin: tuple[float, float] = Field(description="[lon, lat]")
    destination: tuple[float, float] = Field(description="[lon, lat]")


class ScenarioIn(BaseModel):
    """A planner's scenario."""

    name: str = Field(min_length=1, max_length=200)
    vehicle: Vehicle = Field(
        default_factory=lambda: Vehicle(preset="container40hc"),
        description="whose detours are measured (default: 40 ft high-cube container truck)",
    )
    close_assets: list[int | str] = Field(default_factory=list)
    close_edges: list[int] = Field(default_factory=list)
    limit_changes: list[LimitChangeIn] = Field(default_factory=list)
    flood_raster_id: int | None = None
    max_wading_depth_m: float = Field(0.3, ge=0, le=5)
    trips: list[TripIn] | None = Field(None, description="default: port gates to inland road ends")
    villages: bool = True
    metric: Literal["time", "distance"] = "time"
    save: bool = True


def _limit(c: LimitChangeIn) -> LimitChange:
    factor = 100 if c.kind in ("height", "width", "length") else 1000
    return LimitChange(c.asset, c.kind, round(c.value * factor))


@router.post("", summary="Run a scenario and keep its result")
def run(
    body: ScenarioIn,
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    """Before/after: trips detoured or cut off (metres, seconds), villages cut off."""
    vehicle = body.vehicle.profile()
    req = svc.ScenarioRequest(
        name=body.name,
        vehicle=vehicle,
        close_assets=body.close_assets,
        close_edges=body.close_edges,
        limit_changes=[_limit(c) for c in body.limit_changes],
        flood_raster_id=body.flood_raster_id,
        max_wading_depth_m=body.max_wading_depth_m,
        trips=None
        if body.trips is None
        else [Trip(t.name, t.origin, t.destination) for t in body.trips],
        villages=body.villages,
        metric=body.metric,
        save=body.save,
        actor=settings.actor,
    )
    return svc.run_scenario(session.connection(), settings, req)


@router.get("", summary="Saved scenarios, newest first")
def list_(
    limit: int = Query(50, ge=1, le=500), session: Session = Depends(get_session)
) -> list[dict[str, Any]]:
    """Saved scenarios with their summaries."""
    return svc.list_scenarios(session.connection(), limit=limit)


@router.get("/{scenario_id}", summary="One saved scenario with its result")
def get(scenario_id: int, session: Session = Depends(get_session)) -> dict[str, Any]:
    """A saved scenario."""
    return svc.get_scenario(session.connection(), scenario_id)
