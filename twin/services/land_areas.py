"""Water and land-use areas (``land_area``): the offline basemap under the roads.

``import_areas`` reads an OSM file with :mod:`loaders.osm_areas` and replaces the rows of
one dataset; ``twin load areas FILE`` and the sample's ``areas`` step call it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from loaders.osm_areas import KINDS, OsmAreaError, read_areas
from twin.errors import InputError

_INSERT = text(
    """
    INSERT INTO land_area (kind, name, name_en, geom, dataset, source)
    SELECT :kind, :name, :name_en, g, :dataset, CAST(:source AS jsonb)
    FROM (
        SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB(:wkb, 4326)), 3)) AS g
    ) AS v
    WHERE NOT ST_IsEmpty(g)
    """
)


def import_areas(
    conn: Connection,
    path: Path | str,
    *,
    dataset: str | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> dict[str, Any]:
    """Load the water and land-use areas of an OSM file into ``land_area``.

    The rows of ``dataset`` are replaced (a second load of the same file leaves the same
    rows). Geometries libosmium assembled but PostGIS finds invalid are repaired with
    ``ST_MakeValid``.

    Parameters
    ----------
    conn:
        Connection inside the caller's transaction.
    path:
        OSM XML or PBF file.
    dataset:
        Dataset name kept with each row (default ``osm:<file name>``).
    kinds:
        Only these kinds (see :data:`loaders.osm_areas.KINDS`).

    Returns
    -------
    dict
        ``file``, ``dataset``, ``areas`` (rows written), ``by_kind``, ``replaced``,
        ``skipped`` (reason -> count) and ``seconds``.

    Raises
    ------
    InputError
        The file is missing or not OSM data, or a kind is unknown.
    """
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InputError(f"unknown area kind(s) {bad}; valid: {', '.join(KINDS)}")
    t0 = time.perf_counter()
    p = Path(path)
    try:
        report = read_areas(p, kinds=kinds)
    except OsmAreaError as exc:
        raise InputError(str(exc), hint="pass an OSM .osm or .osm.pbf file") from exc
    dataset = dataset or f"osm:{p.name}"
    replaced = conn.execute(
        text("DELETE FROM land_area WHERE dataset = :d"), {"d": dataset}
    ).rowcount
    written = 0
    for row in report.rows:
        source = {"file": p.name, "osm": f"{row.osm_type}/{row.osm_id}", "tags": row.tags}
        written += conn.execute(
            _INSERT,
            {
                "kind": row.kind,
                "name": row.name,
                "name_en": row.name_en,
                "wkb": row.wkb,
                "dataset": dataset,
                "source": json.dumps(source, ensure_ascii=False),
            },
        ).rowcount
    return {
        "file": str(p),
        "dataset": dataset,
        "areas": written,
        "by_kind": report.counts(),
        "replaced": int(replaced or 0),
        "skipped": dict(report.skipped),
        "seconds": round(time.perf_counter() - t0, 3),
    }
