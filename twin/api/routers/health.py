"""``/health``: is the twin able to serve?"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from twin import db as dbm

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Health report."""

    status: str
    database: bool
    schema_version: str | None
    schema_head: str
    graph_snapshot_age_s: float | None


@router.get("/health", response_model=Health)
def health(request: Request) -> dict[str, Any]:
    """Database reachable, schema version, and the age of the route graph snapshot."""
    engine = request.app.state.engine
    up = dbm.ping(engine)
    version = dbm.schema_version(engine) if up else None
    head = dbm.head_revision()
    snap = request.app.state.settings.snapshot_dir
    ages = [time.time() - p.stat().st_mtime for p in snap.glob("*.npz")] if snap.exists() else []
    ok = up and version == head
    return {
        "status": "ok" if ok else "degraded",
        "database": up,
        "schema_version": version,
        "schema_head": head,
        "graph_snapshot_age_s": round(min(ages), 1) if ages else None,
    }
