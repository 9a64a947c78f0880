"""SYNTHETIC inspection history for the sample's bridges and tunnels (see
:mod:`assets.history`): every row has ``synthetic = true`` and says so in its notes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text

from assets.history import AssetSpec, generate
from twin.errors import InputError
from twin.ingest import copy_rows
from twin.services.assets import DbLike, audit, conn_of, jsonable

_COLUMNS = (
    "asset_id", "inspected_on", "inspector", "kind", "component_scores", "overall_score",
    "condition_class", "grade", "synthetic", "notes", "source",
)  # fmt: skip


def generate_history(
    db: DbLike, *, seed: int = 20240601, years: int = 12, actor: str = "synthetic-history"
) -> dict[str, Any]:
    """Replace the synthetic inspections of every bridge and tunnel with a fresh seeded
    history of ``years`` years (real inspections are never touched).

    Returns counts: assets, inspections written, synthetic rows removed.
    """
    if not 2 <= years <= 50:
        raise InputError(f"years = {years} is out of range; generate 2..50 years of history")
    conn = conn_of(db)
    rows = conn.execute(
        text(
            "SELECT id, kind, built_on, attributes FROM asset WHERE kind IN ('bridge', 'tunnel') "
            "AND lifecycle_state NOT IN ('planned', 'under_construction') ORDER BY id"
        )
    ).all()
    specs = []
    for aid, kind, built_on, attrs in rows:
        year = (attrs or {}).get("built_year")
        if built_on is None and isinstance(year, int) and 1900 < year <= dt.date.today().year:
            built_on = dt.date(year, 1, 1)
        specs.append(AssetSpec(int(aid), kind, built_on, attrs or {}))
    removed = conn.execute(
        text(
            "DELETE FROM inspection WHERE synthetic AND asset_id IN "
            "(SELECT id FROM asset WHERE kind IN ('bridge', 'tunnel'))"
        )
    ).rowcount
    records = generate(specs, seed=seed, years=years)
    n = copy_rows(
        conn,
        "inspection",
        _COLUMNS,
        (
            [
                r["asset_id"], r["inspected_on"], r["inspector"], r["kind"],
                json.dumps(jsonable(r["component_scores"])), r["overall_score"],
                r["condition_class"], r["grade"], True, r["notes"], json.dumps(r["source"]),
            ]
            for r in records
        ),
    )  # fmt: skip
    out = {
        "assets": len(specs),
        "inspections": n,
        "removed_synthetic": removed,
        "seed": seed,
        "years": years,
    }
    audit(conn, actor=actor, action="generate_history", entity="inspection", entity_id="synthetic",
          before=None, after=out)  # fmt: skip
    return out


def sample_step(conn: Any, ctx: Any) -> dict[str, Any]:
    """The sample loader's step: 12 years of SYNTHETIC history for the sample's bridges
    and tunnels (seeded, so every load gives the same history)."""
    return generate_history(conn, seed=20240601, years=12, actor="twin load sample")
