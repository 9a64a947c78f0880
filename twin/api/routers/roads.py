"""``/roads``: road codes and their stake measure (``K12+345`` <-> position)."""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from twin.api.deps import get_session
from twin.services import roads

router = APIRouter(tags=["roads"])


@router.get("/roads")
def list_roads(
    prefix: str | None = Query(None, max_length=32, description="code prefix, e.g. G or X2"),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Roads with names (zh/en), class, stake range (m) and chain breaks."""
    items = roads.list_roads(session.connection(), prefix=prefix)
    return {"count": len(items), "items": items}


@router.get("/roads/{code}/locate")
def locate(
    code: str,
    stake: str = Query(..., max_length=32, description="K12+345 (or metres)"),
    occurrence: Literal["first", "last"] = Query(
        "first", description="which place, for a stake inside a long chain break"
    ),
    offset_m: float = Query(0.0, ge=-200, le=200, description="to the right (+) or left, m"),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """WGS84 position of a stake on the road."""
    value: str | float = stake
    with contextlib.suppress(ValueError):
        value = float(stake)
    return roads.locate_stake(
        session.connection(), code, value, occurrence=occurrence, offset_m=offset_m
    )


@router.get("/roads/{code}/stake")
def stake_at(
    code: str,
    lon: float = Query(..., ge=-180, le=180),
    lat: float = Query(..., ge=-90, le=90),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Stake of the place on the road nearest to a WGS84 point."""
    return roads.stake_at(session.connection(), code, lon, lat)
