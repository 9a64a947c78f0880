"""``/assets``: inventory, lifecycle, inspections, condition limits, exports, forecasts.

Who makes a change is read from the ``X-Actor`` header (written to the audit log).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, File, Header, Query, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from twin.api.deps import get_session
from twin.services import asset_io
from twin.services import assets as svc

router = APIRouter(tags=["assets"])


def actor(x_actor: str = Header("api", description="who makes the change (audit log)")) -> str:
    """The acting user from the ``X-Actor`` header."""
    return x_actor


class AssetCreate(BaseModel):
    """A new asset: a point by lon/lat (EPSG:4326 degrees) or any geometry as WKT."""

    external_id: str = Field(min_length=1, max_length=96)
    kind: str
    lon: float | None = None
    lat: float | None = None
    wkt: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    road_code: str | None = None
    stake_m: float | None = Field(None, description="stake along the road's measure, metres")
    built_on: dt.date | None = None
    owner: str | None = None
    lifecycle_state: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class TransitionIn(BaseModel):
    """A lifecycle move."""

    to_state: str
    reason: str | None = None


class InspectionIn(BaseModel):
    """An inspection with component scores (JSON by asset kind, see the docs of
    ``twin.services.assets.grade``)."""

    inspected_on: dt.date
    component_scores: dict[str, Any]
    inspector: str | None = None
    kind: str = "periodic"
    method: str | None = None
    notes: str | None = None


class LimitDecision(BaseModel):
    """Approve a proposed limit, optionally with another value (kg for weight)."""

    value: int | None = Field(None, gt=0)


@router.get("/assets")
def list_assets(
    kind: str | None = None,
    state: str | None = None,
    road_code: str | None = None,
    condition_class: int | None = Query(None, ge=1, le=5),
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
    db: Session = Depends(get_session),
) -> list[dict[str, Any]]:
    """Assets with their latest condition, filtered by kind, state, road and class."""
    return svc.list_assets(
        db, kind=kind, state=state, road_code=road_code, condition_class=condition_class,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.post("/assets", status_code=201)
def create_asset(
    body: AssetCreate, who: str = Depends(actor), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """Register an asset (audited)."""
    return svc.create_asset(db, **body.model_dump(), actor=who)


@router.get("/assets/export")
def export(
    what: str = Query("assets", description="assets, inspections or work_orders"),
    format: str = Query("csv", description="csv or xlsx"),
    db: Session = Depends(get_session),
) -> Response:
    """Download assets, inspections or work orders as CSV or Excel."""
    data = asset_io.export_bytes(db, what, fmt=format)
    media = (
        "text/csv; charset=utf-8"
        if format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{what}.{format}"'},
    )


@router.get("/assets/{asset_id}")
def get_asset(asset_id: int, db: Session = Depends(get_session)) -> dict[str, Any]:
    """One asset, its latest inspection and the lifecycle states it may move to."""
    return svc.get_asset(db, asset_id)


@router.post("/assets/{asset_id}/transition")
def transition(
    asset_id: int, body: TransitionIn, who: str = Depends(actor), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """Move the asset to another lifecycle state (illegal moves: 409)."""
    return svc.transition_asset(db, asset_id, to_state=body.to_state, actor=who, reason=body.reason)


@router.get("/assets/{asset_id}/inspections")
def inspections(asset_id: int, db: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """The asset's inspections, oldest first."""
    return svc.list_inspections(db, asset_id)


@router.post("/assets/{asset_id}/inspections", status_code=201)
def record_inspection(
    asset_id: int, body: InspectionIn, who: str = Depends(actor), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """Record and grade an inspection; class 4/5 bridges get limit/closure proposals."""
    return svc.record_inspection(db, asset_id, **body.model_dump(), actor=who)


@router.get("/assets/{asset_id}/limits")
def limits(
    asset_id: int, status: str | None = None, db: Session = Depends(get_session)
) -> list[dict[str, Any]]:
    """The asset's structure limits (proposed, approved, rejected)."""
    return svc.list_limits(db, asset_id, status=status)


@router.post("/assets/{asset_id}/limits/{limit_id}/approve")
def approve_limit(
    asset_id: int,
    limit_id: int,
    body: LimitDecision | None = None,
    who: str = Depends(actor),
    db: Session = Depends(get_session),
) -> dict[str, Any]:
    """Approve a proposed limit: routing uses it from now on."""
    value = body.value if body else None
    return svc.decide_limit(db, asset_id, limit_id, approve=True, actor=who, value=value)


@router.post("/assets/{asset_id}/limits/{limit_id}/reject")
def reject_limit(
    asset_id: int, limit_id: int, who: str = Depends(actor), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """Reject a proposed limit."""
    return svc.decide_limit(db, asset_id, limit_id, approve=False, actor=who)


@router.post("/assets/{asset_id}/closure/approve")
def approve_closure(
    asset_id: int, who: str = Depends(actor), db: Session = Depends(get_session)
) -> dict[str, Any]:
    """Approve a proposed closure: the asset becomes ``closed`` and impassable."""
    return svc.approve_closure(db, asset_id, actor=who)


@router.get("/assets/{asset_id}/audit")
def audit(asset_id: int, db: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """Who changed the asset, when, before and after."""
    svc.get_asset(db, asset_id)
    return svc.audit_trail(db, entity="asset", entity_id=asset_id)


@router.post("/inspections/import")
async def import_inspections(
    file: UploadFile = File(..., description="CSV: " + ", ".join(asset_io.IMPORT_COLUMNS)),
    who: str = Depends(actor),
    db: Session = Depends(get_session),
) -> dict[str, Any]:
    """Bulk import of inspection history; any bad row rejects the file (line numbers in
    ``details``) and nothing is written."""
    data = await file.read()
    return asset_io.import_inspections_csv(
        db, data, actor=who, file_name=file.filename or "<upload>"
    )
