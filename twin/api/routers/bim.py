"""``/bim``: imported IFC models, their GLB meshes and elements; models per asset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from twin.api.deps import get_session
from twin.services import bim as svc

router = APIRouter(tags=["bim"])


class Element(BaseModel):
    """One IFC product: what a click on the 3D model shows."""

    global_id: str
    ifc_class: str
    name: str | None
    container: str | None
    container_class: str | None = None
    container_name: str | None = None
    psets: dict[str, Any]
    quantities: dict[str, Any]
    mesh_index: int | None


@router.get("/bim/models")
def models(
    asset_id: int | None = Query(None, description="only models linked to this asset"),
    db: Session = Depends(get_session),
) -> list[dict[str, Any]]:
    """Imported models: file, schema, georeference, footprint (GeoJSON, EPSG:4326), GLB."""
    return svc.list_models(db, asset_id=asset_id)


@router.get(
    "/bim/models/{model_id}.glb",
    response_class=FileResponse,
    responses={200: {"content": {"model/gltf-binary": {}}}},
)
def model_glb(model_id: int, db: Session = Depends(get_session)) -> FileResponse:
    """The model's triangulated geometry (glTF binary; node name = GlobalId, Y up, metres)."""
    path = svc.glb_file(db, model_id)
    return FileResponse(path, media_type="model/gltf-binary", filename=f"bim-model-{model_id}.glb")


@router.get("/bim/models/{model_id}")
def model(model_id: int, db: Session = Depends(get_session)) -> dict[str, Any]:
    """One model with element counts by class and, under ``view``, its deck.gl anchor."""
    m = svc.get_model(db, model_id)
    m["view"] = svc.model_view(db, model_id)
    return m


@router.get("/bim/models/{model_id}/elements", response_model=list[Element])
def elements(
    model_id: int,
    ifc_class: str | None = Query(None, description="e.g. IfcBeam"),
    global_id: str | None = Query(None, min_length=22, max_length=22),
    limit: int = Query(500, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
    db: Session = Depends(get_session),
) -> list[dict[str, Any]]:
    """Elements with property sets and quantities, filtered by class or GlobalId."""
    return svc.list_elements(
        db, model_id, ifc_class=ifc_class, global_id=global_id, limit=limit, offset=offset
    )


@router.get("/bim/models/{model_id}/boxes")
def boxes(model_id: int, db: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """Per element its map footprint box (lon/lat ring), base and height in metres: a
    pickable deck.gl PolygonLayer over the GLB for clicking single elements."""
    return svc.element_boxes(db, model_id)


@router.post("/bim/models/{model_id}/link")
def link(
    model_id: int,
    request: Request,
    asset_id: int = Query(..., description="the asset (bridge, tunnel ...) the model shows"),
    db: Session = Depends(get_session),
) -> dict[str, Any]:
    """Link a placed model to an asset; its BIM limits are proposed (status 'proposed')."""
    return svc.link_model(db, model_id, asset_id, settings=request.app.state.settings)


@router.delete("/bim/models/{model_id}")
def delete(model_id: int, db: Session = Depends(get_session)) -> dict[str, Any]:
    """Delete a model, its elements and its still-proposed limits."""
    return svc.delete_model(db, model_id)


@router.get("/assets/{asset_id}/bim")
def asset_models(asset_id: int, db: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """The BIM models linked to an asset, each with its deck.gl view (GLB URL, anchor)."""
    return [{**m, "view": svc.model_view(db, m["id"])} for m in svc.models_for_asset(db, asset_id)]
