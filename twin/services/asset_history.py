"""SYNTHETIC inspection history and traffic for the sample's structures (see
:mod:`assets.history`): every inspection row has ``synthetic = true`` and says so in its
notes; synthetic traffic is flagged ``attributes.traffic_synthetic`` and described in
``source.traffic``."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from typing import Any

import numpy as np
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from assets.history import TRAFFIC_NOTE, AssetSpec, generate, synthetic_traffic
from twin.errors import InputError
from twin.ingest import copy_rows
from twin.services.assets import DbLike, audit, conn_of, jsonable

_COLUMNS = (
    "asset_id", "inspected_on", "inspector", "kind", "component_scores", "overall_score",
    "condition_class", "grade", "synthetic", "notes", "source",
)  # fmt: skip


#: Kinds that get synthetic traffic (those the planner covers).
TRAFFIC_KINDS = ("bridge", "tunnel", "culvert", "underpass", "pavement_section")


def assign_synthetic_traffic(db: DbLike, *, seed: int, actor: str) -> dict[str, Any]:
    """Give every structure without real traffic data a SYNTHETIC AADT and heavy-vehicle
    share drawn by its road class (:func:`assets.history.synthetic_traffic`): one draw per
    numbered road (its structures share it), one per structure elsewhere. Structures
    whose ``attributes.aadt`` is not flagged synthetic are left alone.

    Returns the number of structures given traffic and skipped (real data).
    """
    conn = conn_of(db)
    rows = conn.execute(
        text(
            "SELECT a.id, a.road_code, COALESCE(a.attributes->'osm_tags'->>'highway', "
            "r.road_class) AS cls, a.attributes->'osm_tags'->>'hgv' AS hgv, a.attributes "
            "FROM asset a LEFT JOIN road r ON r.id = a.road_id WHERE a.kind = ANY(:k) "
            "ORDER BY a.id"
        ),
        {"k": list(TRAFFIC_KINDS)},
    ).all()
    updates, skipped = [], 0
    for aid, road_code, cls, hgv, attrs in rows:
        if "aadt" in (attrs or {}) and not (attrs or {}).get("traffic_synthetic"):
            skipped += 1
            continue
        key = zlib.crc32(road_code.encode()) if road_code else int(aid)
        rng = np.random.default_rng([seed, 1 if road_code else 2, key])
        traffic = synthetic_traffic(cls, rng=rng, port_corridor=hgv == "designated")
        src = {"synthetic": True, "generator": "assets.history.synthetic_traffic",
               "seed": seed, "road_class": cls, "note": TRAFFIC_NOTE}  # fmt: skip
        updates.append({"i": aid, "t": traffic, "s": {"traffic": src}})
    if updates:
        conn.execute(
            text(
                "UPDATE asset SET attributes = COALESCE(attributes, '{}') || :t, "
                "source = COALESCE(source, '{}') || :s WHERE id = :i"
            ).bindparams(bindparam("t", type_=JSONB), bindparam("s", type_=JSONB)),
            updates,
        )
    out = {"structures": len(updates), "kept_real_traffic": skipped, "seed": seed}
    audit(conn, actor=actor, action="synthetic_traffic", entity="asset", entity_id="synthetic",
          before=None, after=out)  # fmt: skip
    return out


def generate_history(
    db: DbLike,
    *,
    seed: int = 20240601,
    years: int = 12,
    actor: str = "synthetic-history",
    traffic: bool = True,
) -> dict[str, Any]:
    """Replace the synthetic inspections of every bridge and tunnel with a fresh seeded
    history of ``years`` years (real inspections are never touched). With ``traffic``,
    structures without real traffic data first get SYNTHETIC traffic
    (:func:`assign_synthetic_traffic`): heavier traffic wears them faster.

    Returns counts: assets, inspections written, synthetic rows removed, traffic.
    """
    if not 2 <= years <= 50:
        raise InputError(f"years = {years} is out of range; generate 2..50 years of history")
    conn = conn_of(db)
    traffic_out = assign_synthetic_traffic(conn, seed=seed, actor=actor) if traffic else None
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
        "synthetic_traffic": traffic_out,
    }
    audit(conn, actor=actor, action="generate_history", entity="inspection", entity_id="synthetic",
          before=None, after=out)  # fmt: skip
    return out


def sample_step(conn: Any, ctx: Any) -> dict[str, Any]:
    """The sample loader's step: SYNTHETIC traffic for the sample's structures and 12 years
    of SYNTHETIC history for its bridges and tunnels (seeded, so every load gives the
    same data)."""
    return generate_history(conn, seed=20240601, years=12, actor="twin load sample")
