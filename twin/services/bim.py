"""BIM models in the twin: IFC import, model and element queries, the twin's 3D view.

Every function takes a SQLAlchemy ``Session`` or ``Connection`` (tests pass the
rolled-back one) and plain data. :func:`import_ifc` validates the whole file before it
writes anything; all rows go through one transaction on the caller's connection, and
the GLB is moved into ``settings.bim_dir`` only after the rows are written, so a
refused or failed import leaves neither rows nor files behind.
"""

from __future__ import annotations

import json
import math
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Table, text
from sqlalchemy.orm import Session

from loaders import ifc as ifc_core
from loaders import ifc_georef, ifc_glb
from twin.errors import Conflict, InputError, NotFound
from twin.ingest import copy_rows
from twin.schema import BimElement, BimModel
from twin.settings import Settings

DbLike = Session | Connection
M = cast(Table, BimModel.__table__)
E = cast(Table, BimElement.__table__)

_ELEMENT_COLS = (
    "model_id",
    "global_id",
    "ifc_class",
    "name",
    "container",
    "psets",
    "quantities",
    "mesh_index",
)


@dataclass(frozen=True)
class Anchor:
    """Where a model without georeferencing goes: its local origin at ``lon, lat``.

    ``rotation_deg`` is the heading of the model's local +X axis counter-clockwise from
    east; ``elevation_m`` the height of its local origin.
    """

    lon: float
    lat: float
    rotation_deg: float = 0.0
    elevation_m: float = 0.0


def parse_anchor(value: str) -> tuple[float, float]:
    """``'117.19,39.13'`` -> (lon, lat); InputError naming the value otherwise."""
    try:
        lon_s, lat_s = value.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        raise InputError(
            f"--anchor {value!r}: expected LON,LAT in degrees, e.g. 117.196,39.134"
        ) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or not (
        math.isfinite(lon) and math.isfinite(lat)
    ):
        raise InputError(
            f"--anchor {value!r}: longitude must be in [-180, 180], latitude in [-90, 90]"
        )
    return lon, lat


def _conn(db: DbLike) -> Connection:
    return db.connection() if isinstance(db, Session) else db


# --------------------------------------------------------------------------- import


def import_ifc(
    db: DbLike,
    path: Path | str,
    *,
    settings: Settings,
    asset_id: int | None = None,
    anchor: Anchor | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Import one IFC file: model, elements, GLB, footprint, proposed limits.

    Parameters
    ----------
    db:
        Session or Connection; everything is written in its transaction.
    path:
        The IFC file (IFC2X3, IFC4, IFC4X3; IFC4X3_RC2 is migrated).
    settings:
        For ``bim_dir`` and ``bim_max_asset_distance_m``.
    asset_id:
        Link the model to this asset (bridge, tunnel ...). Without georeferencing in the
        file and without ``anchor``, the model is placed at the asset (its line's start
        to end sets the heading of the model's +X axis). Clearance and load values
        found in property sets become ``structure_limit`` rows of this asset with
        ``source_kind='bim'`` and ``status='proposed'``.
    anchor:
        Place the model here instead of using the file's own georeferencing (which is
        then ignored, never combined).
    threads:
        Geometry iterator threads (``os.cpu_count()`` when None).

    Returns
    -------
    dict
        The import report: ``model_id``, ``status`` ('imported' or 'unchanged'),
        ``elements``, ``shapes``, ``georef``, ``anchor``, ``limits_proposed``,
        ``limit_candidates``, ``warnings``, ``glb_path``, ``seconds``.

    Raises
    ------
    InputError
        Not an IFC, truncated, unknown schema, broken references, no geometry, a model
        far from its asset, a bad anchor.
    NotFound
        ``asset_id`` does not exist.
    Conflict
        The same file was imported before and linked to another asset.
    """
    t0 = time.perf_counter()
    conn = _conn(db)
    path = Path(path)
    if threads is not None and threads < 1:
        raise InputError(f"threads {threads}: must be at least 1")
    if anchor is not None and not (-180 <= anchor.lon <= 180 and -90 <= anchor.lat <= 90):
        raise InputError(
            f"anchor {anchor.lon},{anchor.lat}: longitude must be in [-180, 180], "
            "latitude in [-90, 90]"
        )
    hint = "export the model again as IFC (STEP) from the authoring tool"
    try:
        sha256 = ifc_core.file_sha256(path)
    except ifc_core.IfcError as exc:
        raise InputError(str(exc), hint=hint) from None
    asset = _asset(conn, asset_id) if asset_id is not None else None

    done = _already_imported(conn, sha256, path, asset_id=asset_id, settings=settings)
    if done is not None:
        return {**done, "seconds": time.perf_counter() - t0}

    try:
        scan, f, migration = ifc_core.scan_and_open(path, sha256=sha256)
    except ifc_core.IfcError as exc:
        raise InputError(str(exc), hint=hint) from None
    warnings: list[str] = []

    settings.bim_dir.mkdir(parents=True, exist_ok=True)
    tmp_glb = settings.bim_dir / f".{scan.sha256[:16]}.{os.getpid()}.glb.part"
    try:
        # The geometry iterator triangulates on its own C++ threads (without the GIL);
        # elements, property sets, limits and georeferencing are read meanwhile on a
        # helper thread, and the GLB's node names are filled in from them at the end.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ifc-elements") as pool:
            reading: list[Future[_ModelRead]] = []
            session_ready: list[Future[None]] = []
            warmed: list[bool] = []

            def start_helper() -> Future[_ModelRead]:
                # Started with the first shape, once the iterator's threads run: started
                # before, its Python work would hold the GIL the iterator's setup needs.
                # The connection is left to the helper until the geometry is done.
                if not reading:
                    reading.append(pool.submit(_read_model, f, scan))
                    session_ready.append(pool.submit(_prepare_session, conn))
                return reading[0]

            def between_shapes(_shape: Any) -> None:
                read = start_helper()
                if not warmed and read.done():
                    warmed.append(True)
                    _prepare_placement(read, anchor)

            geo = ifc_glb.triangulate_to_glb(
                f,
                tmp_glb,
                threads=threads,
                names=lambda: start_helper().result().names,
                on_shape=between_shapes,
            )
            model = start_helper().result()
            session_ready[0].result()
    except (RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
        # IfcOpenShell raises these on content it cannot interpret: the file's fault
        tmp_glb.unlink(missing_ok=True)
        raise InputError(
            f"{path.name}: IfcOpenShell could not read the model's elements or geometry: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    except BaseException:
        tmp_glb.unlink(missing_ok=True)
        raise
    info, elements, candidates = model.info, model.elements, model.candidates
    try:
        if geo.shapes == 0:
            raise InputError(
                f"{path.name}: the model has no geometry: none of its "
                f"{len(elements)} products has a body representation IfcOpenShell can "
                "triangulate",
                hint="export with 3D body geometry (a Body representation per element)",
            )
        georef, anchor_info, footprint_wkt, distance_m = _place(
            conn, model.own_georef, geo, asset=asset, anchor=anchor, settings=settings, path=path
        )
        warnings.extend(georef.warnings)
        if not georef.is_located:
            warnings.append(
                "not placed on the map: give --anchor LON,LAT [--rotation DEG --elevation M] "
                "or --asset ID to place it"
            )

        georef_json = {
            **georef.as_dict(),
            "anchor": anchor_info,
            "glb_origin_m": list(geo.origin_m),
            "asset_distance_m": distance_m,
            "migration": migration,
        }
        final_glb = settings.bim_dir / f"{scan.sha256[:16]}.glb"
        model_id = _insert_model(
            conn,
            scan,
            info,
            path=path,
            asset=asset,
            georef_json=georef_json,
            footprint_wkt=footprint_wkt,
            glb_path=final_glb,
            element_count=len(elements),
        )
        _copy_elements(conn, model_id, model.rows, geo.mesh_index)
        proposed = _propose_limits(conn, candidates, asset=asset, model_id=model_id, file=path.name)
        report = {
            "status": "imported",
            "model_id": model_id,
            "file": str(path),
            "sha256": scan.sha256,
            "size_bytes": scan.size_bytes,
            "schema": info.schema,
            "migration": migration,
            "authoring_app": info.authoring_app,
            "units": info.units,
            "elements": len(elements),
            "shapes": geo.shapes,
            "vertices": geo.vertices,
            "triangles": geo.triangles,
            "classes": geo.classes,
            "georef": georef.kind,
            "crs": georef.crs,
            "anchor": anchor_info,
            "asset_id": asset["id"] if asset else None,
            "asset_distance_m": distance_m,
            "limits_proposed": proposed,
            "limit_candidates": [c.as_dict() for c in candidates],
            "warnings": warnings,
            "glb_path": str(final_glb),
        }
        report["seconds"] = round(time.perf_counter() - t0, 3)
        _record_run(conn, path, scan.sha256, report)
        os.replace(tmp_glb, final_glb)
    except BaseException:
        tmp_glb.unlink(missing_ok=True)
        raise
    return report


def _prepare_placement(reading: Future[_ModelRead], anchor: Anchor | None) -> None:
    """Build the CRS transformer the placement will use, on this (the importing) thread,
    while the iterator still triangulates. A model placed at its asset is skipped (the
    asset's position needs the database)."""
    if reading.exception() is not None:
        return  # raised again where the result is used
    own = reading.result().own_georef
    crs = (
        ifc_georef.anchored(anchor.lon, anchor.lat).crs
        if anchor is not None
        else own.crs
        if own.is_located
        else None
    )
    try:
        ifc_georef.prepare(crs)
    except Exception:  # a bad CRS is reported by the placement itself
        return


def _prepare_session(conn: Connection) -> None:
    """Load PostGIS into this database session now, on the helper thread while the
    iterator triangulates: its first use in a session costs 13-25 ms, which the footprint
    (and the distance to an asset) would otherwise pay after the last shape."""
    conn.execute(text("SELECT postgis_lib_version()")).scalar()


@dataclass
class _ModelRead:
    """What :func:`_read_model` reads from an opened model (besides its geometry)."""

    info: ifc_core.ModelInfo
    elements: list[ifc_core.ElementRecord]
    candidates: list[ifc_core.LimitCandidate]
    own_georef: ifc_georef.Georef
    rows: list[tuple[str, str, str | None, str | None, str, str]]  # COPY rows, JSON done
    names: dict[str, str | None]


def _read_model(f: Any, scan: ifc_core.StepScan) -> _ModelRead:
    """Units, elements with property sets, limit candidates, own georeferencing, and the
    element rows ready for COPY (runs while the geometry iterator triangulates)."""
    info = ifc_core.model_info(f, scan)
    elements = list(ifc_core.iter_elements(f))
    rows = [
        (
            e.global_id,
            e.ifc_class,
            e.name,
            e.container,
            json.dumps(e.psets, ensure_ascii=False),
            json.dumps(e.quantities, ensure_ascii=False),
        )
        for e in elements
    ]
    return _ModelRead(
        info=info,
        elements=elements,
        candidates=ifc_core.find_limit_candidates(f, info, elements=elements),
        own_georef=ifc_georef.detect(f, length_unit_m=info.length_unit_m),
        rows=rows,
        names={e.global_id: e.name for e in elements},
    )


def _already_imported(
    conn: Connection,
    sha256: str,
    path: Path,
    *,
    asset_id: int | None,
    settings: Settings,
) -> dict[str, Any] | None:
    """The answer for a file imported before (same sha256), or None for a new file."""
    existing = conn.execute(
        text("SELECT id, asset_id FROM bim_model WHERE file_sha256 = :s"), {"s": sha256}
    ).first()
    if existing is None:
        return None
    if asset_id is not None and existing.asset_id not in (None, asset_id):
        raise Conflict(
            f"{path.name}: this file (sha256 {sha256[:16]}) is already imported as "
            f"model {existing.id}, linked to asset {existing.asset_id}, not {asset_id}",
            hint=f"delete model {existing.id} first (DELETE /bim/models/{existing.id})",
        )
    base = {"file": str(path), "sha256": sha256}
    if asset_id is not None and existing.asset_id is None:
        return {**link_model(conn, existing.id, asset_id, settings=settings), **base}
    return {
        "status": "unchanged",
        "model_id": existing.id,
        **base,
        "report": get_model(conn, existing.id),
    }


def _place(
    conn: Connection,
    own: ifc_georef.Georef,
    geo: ifc_glb.GeometryResult,
    *,
    asset: dict[str, Any] | None,
    anchor: Anchor | None,
    settings: Settings,
    path: Path,
) -> tuple[ifc_georef.Georef, dict[str, float] | None, str | None, float | None]:
    """Georeference, anchor, footprint WKT and distance to the asset (refused if far)."""
    georef = _georeference(own, geo, asset=asset, anchor=anchor, conn=conn)
    if not georef.is_located:
        return georef, None, None, None
    anchor_info = georef.anchor(geo.origin_m)
    ring = ifc_georef.footprint_lonlat(georef, geo.hull_local_m)
    footprint_wkt = "POLYGON((" + ",".join(f"{x:.9f} {y:.9f}" for x, y in ring) + "))"
    distance_m = None
    if asset is not None:
        distance_m = _distance_m(conn, footprint_wkt, asset["id"])
        if distance_m > settings.bim_max_asset_distance_m:
            raise InputError(
                f"{path.name}: the model's footprint lies {distance_m / 1000:.1f} km from "
                f"asset {asset['id']} ({asset['external_id']}); at most "
                f"{settings.bim_max_asset_distance_m / 1000:g} km is accepted",
                hint="check the file's georeferencing, or place it with --anchor "
                "LON,LAT --rotation DEG --elevation M",
            )
    return georef, anchor_info, footprint_wkt, distance_m


def _insert_model(
    conn: Connection,
    scan: ifc_core.StepScan,
    info: ifc_core.ModelInfo,
    *,
    path: Path,
    asset: dict[str, Any] | None,
    georef_json: dict[str, Any],
    footprint_wkt: str | None,
    glb_path: Path,
    element_count: int,
) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO bim_model (asset_id, file_name, file_sha256, ifc_schema, "
                "authoring_app, units, georef, footprint, glb_path, element_count) VALUES "
                "(:asset, :name, :sha, :schema, :app, CAST(:units AS jsonb), "
                "CAST(:georef AS jsonb), ST_GeomFromText(:fp, 4326), :glb, :n) RETURNING id"
            ),
            {
                "asset": asset["id"] if asset else None,
                "name": path.name,
                "sha": scan.sha256,
                "schema": info.schema,
                "app": info.authoring_app,
                "units": json.dumps(info.units),
                "georef": json.dumps(georef_json, default=float),
                "fp": footprint_wkt,
                "glb": str(glb_path),
                "n": element_count,
            },
        ).scalar_one()
    )


def _copy_elements(
    conn: Connection,
    model_id: int,
    rows: list[tuple[str, str, str | None, str | None, str, str]],
    mesh_index: dict[str, int],
) -> None:
    copy_rows(
        conn,
        "bim_element",
        _ELEMENT_COLS,
        ((model_id, *r, mesh_index.get(r[0])) for r in rows),
    )


def _record_run(conn: Connection, path: Path, sha256: str, report: dict[str, Any]) -> None:
    conn.execute(
        text(
            "INSERT INTO load_run (kind, file_name, sha256, seconds, report) VALUES "
            "('ifc', :f, :s, :sec, CAST(:r AS jsonb))"
        ),
        {
            "f": str(path),
            "s": sha256,
            "sec": report["seconds"],
            "r": json.dumps(report, default=str),
        },
    )


def _asset(conn: Connection, asset_id: int) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                "SELECT id, external_id, kind, name_zh, name_en, attributes, "
                "ST_AsText(geom) AS wkt, GeometryType(geom) AS gtype FROM asset WHERE id = :id"
            ),
            {"id": asset_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"asset {asset_id} does not exist", hint="list assets with GET /assets")
    return dict(row)


def _georeference(
    own: ifc_georef.Georef,
    geo: ifc_glb.GeometryResult,
    *,
    asset: dict[str, Any] | None,
    anchor: Anchor | None,
    conn: Connection,
) -> ifc_georef.Georef:
    """The file's own georeferencing ``own`` unless an anchor is given; a model with
    none is placed at its asset."""
    if anchor is not None:
        g = ifc_georef.anchored(
            anchor.lon,
            anchor.lat,
            rotation_deg=anchor.rotation_deg,
            elevation_m=anchor.elevation_m,
        )
        if own.is_located:
            g.warnings.append(
                f"the file's own georeferencing ({own.details.get('source')}) was replaced "
                "by --anchor, not combined with it"
            )
        return g
    if own.is_located:
        if geo.bbox_local_m is not None:
            centre = (np.array(geo.bbox_local_m[0]) + np.array(geo.bbox_local_m[1])) / 2.0
            own = ifc_georef.fix_double_georef(own, centre)
        return own
    if asset is not None:
        lon, lat, rot = _asset_anchor(conn, asset["id"])
        g = ifc_georef.anchored(
            lon,
            lat,
            rotation_deg=rot,
            kind="asset",
            details={"asset_id": asset["id"], "asset_external_id": asset["external_id"]},
        )
        g.warnings.append(
            f"the file has no georeferencing; placed at asset {asset['id']} "
            f"({asset['external_id']}): origin at its start point, +X along it"
        )
        return g
    return own


def _asset_anchor(conn: Connection, asset_id: int) -> tuple[float, float, float]:
    """Start point of the asset's line (or its centroid) and the line's heading."""
    row = conn.execute(
        text(
            "WITH g AS (SELECT CASE WHEN GeometryType(geom) LIKE '%LINESTRING' "
            "THEN ST_LineMerge(geom) ELSE geom END AS geom FROM asset WHERE id = :id) "
            "SELECT CASE WHEN GeometryType(geom) = 'LINESTRING' THEN ST_X(ST_StartPoint(geom)) "
            "ELSE ST_X(ST_Centroid(geom)) END AS lon, "
            "CASE WHEN GeometryType(geom) = 'LINESTRING' THEN ST_Y(ST_StartPoint(geom)) "
            "ELSE ST_Y(ST_Centroid(geom)) END AS lat, "
            "CASE WHEN GeometryType(geom) = 'LINESTRING' THEN degrees(ST_Azimuth("
            "ST_StartPoint(geom)::geography, ST_EndPoint(geom)::geography)) END AS az FROM g"
        ),
        {"id": asset_id},
    ).first()
    assert row is not None
    rot = 0.0 if row.az is None else (90.0 - float(row.az)) % 360.0
    return float(row.lon), float(row.lat), rot


def _distance_m(conn: Connection, footprint_wkt: str, asset_id: int) -> float:
    d = conn.execute(
        text(
            "SELECT ST_Distance(ST_GeomFromText(:fp, 4326)::geography, geom::geography) "
            "FROM asset WHERE id = :id"
        ),
        {"fp": footprint_wkt, "id": asset_id},
    ).scalar_one()
    return float(d)


def link_model(db: DbLike, model_id: int, asset_id: int, *, settings: Settings) -> dict[str, Any]:
    """Link an imported, placed model to an asset and propose its BIM limits for it.

    Refuses (InputError) a model whose footprint lies farther than
    ``settings.bim_max_asset_distance_m`` from the asset, or one that is not placed on
    the map (delete it and import the file again with ``--asset``); Conflict when it is
    linked to another asset already.

    Returns ``{'status': 'linked'|'unchanged', 'model_id', 'asset_id',
    'asset_distance_m', 'limits_proposed'}``.
    """
    conn = _conn(db)
    model = get_model(conn, model_id)
    asset = _asset(conn, asset_id)
    if model["asset_id"] == asset_id:
        return {
            "status": "unchanged",
            "model_id": model_id,
            "asset_id": asset_id,
            "limits_proposed": [],
        }
    if model["asset_id"] is not None:
        raise Conflict(
            f"BIM model {model_id} is linked to asset {model['asset_id']}, not {asset_id}",
            hint=f"delete model {model_id} and import the file again with --asset {asset_id}",
        )
    if model["footprint"] is None:
        raise InputError(
            f"BIM model {model_id} is not placed on the map, so it cannot be checked "
            f"against asset {asset_id}",
            hint=f"delete model {model_id} (DELETE /bim/models/{model_id}) and import the "
            f"file again with --asset {asset_id} (it is then placed at the asset)",
        )
    fp = conn.execute(
        text("SELECT ST_AsText(footprint) FROM bim_model WHERE id = :i"), {"i": model_id}
    ).scalar_one()
    distance_m = _distance_m(conn, fp, asset_id)
    if distance_m > settings.bim_max_asset_distance_m:
        raise InputError(
            f"BIM model {model_id}'s footprint lies {distance_m / 1000:.1f} km from asset "
            f"{asset_id} ({asset['external_id']}); at most "
            f"{settings.bim_max_asset_distance_m / 1000:g} km is accepted"
        )
    report = conn.execute(
        text(
            "SELECT report FROM load_run WHERE kind = 'ifc' AND sha256 = :s "
            "ORDER BY id DESC LIMIT 1"
        ),
        {"s": model["file_sha256"]},
    ).scalar()
    candidates = [
        ifc_core.LimitCandidate(
            kind=c["kind"],
            value=c["value"],
            raw=c["raw"],
            global_id=c["global_id"],
            ifc_class=c["ifc_class"],
            pset=c["pset"],
            prop=c["property"],
            measure=c["measure"],
        )
        for c in ((report or {}).get("limit_candidates") or [])
    ]
    conn.execute(
        text("UPDATE bim_model SET asset_id = :a WHERE id = :i"), {"a": asset_id, "i": model_id}
    )
    proposed = _propose_limits(
        conn, candidates, asset=asset, model_id=model_id, file=model["file_name"]
    )
    return {
        "status": "linked",
        "model_id": model_id,
        "asset_id": asset_id,
        "asset_distance_m": distance_m,
        "limits_proposed": proposed,
    }


def delete_model(db: DbLike, model_id: int) -> dict[str, Any]:
    """Delete a model, its elements and the limits it proposed that are still 'proposed'.

    Approved or rejected limits stay (an engineer decided on them). The GLB file stays
    on disk (named by the file's hash; a re-import rewrites it).
    """
    conn = _conn(db)
    get_model(conn, model_id)
    n_limits = conn.execute(
        text(
            "DELETE FROM structure_limit WHERE source_kind = 'bim' AND status = 'proposed' "
            "AND (source->>'bim_model_id')::int = :i"
        ),
        {"i": model_id},
    ).rowcount
    conn.execute(text("DELETE FROM bim_model WHERE id = :i"), {"i": model_id})
    return {"deleted": model_id, "proposed_limits_deleted": n_limits}


def import_sample_models(
    db: DbLike, *, settings: Settings, sample_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Import every ``*.ifc`` under ``(sample_dir or settings.sample_dir) / 'bim'``
    (idempotent) and link
    each placed model to the bridge or tunnel asset its footprint overlaps (nearest to
    the footprint's centre), proposing its limits for that asset.

    For ``twin load sample``: call after the assets are loaded.
    """
    conn = _conn(db)
    out = []
    for path in sorted(((sample_dir or settings.sample_dir) / "bim").glob("*.ifc")):
        rep = import_ifc(conn, path, settings=settings)
        mid = rep["model_id"]
        model = get_model(conn, mid)
        if model["asset_id"] is None and model["footprint"] is not None:
            aid = conn.execute(
                text(
                    "SELECT a.id FROM asset a, bim_model m WHERE m.id = :m AND a.kind IN "
                    "('bridge', 'tunnel', 'underpass') AND ST_Intersects(a.geom, m.footprint) "
                    "ORDER BY ST_Distance(a.geom, ST_Centroid(m.footprint)) LIMIT 1"
                ),
                {"m": mid},
            ).scalar()
            if aid is not None:
                rep = {**rep, **link_model(conn, mid, aid, settings=settings)}
        out.append(
            {
                "file": path.name,
                "model_id": mid,
                "status": rep["status"],
                "asset_id": get_model(conn, mid)["asset_id"],
            }
        )
    return out


def _propose_limits(
    conn: Connection,
    candidates: list[ifc_core.LimitCandidate],
    *,
    asset: dict[str, Any] | None,
    model_id: int,
    file: str,
) -> list[dict[str, Any]]:
    """Usable candidates -> structure_limit rows, status 'proposed' (never applied).

    One row per (kind, value); the smallest value of a kind is what binds, but every
    distinct value found is proposed so the engineer sees them all.
    """
    if asset is None:
        return []
    seen: set[tuple[str, int]] = set()
    out: list[dict[str, Any]] = []
    for c in candidates:
        if c.value is None or (c.kind, c.value) in seen:
            continue
        seen.add((c.kind, c.value))
        source = {"file": file, "bim_model_id": model_id, **c.as_dict()}
        lid = conn.execute(
            text(
                "INSERT INTO structure_limit (asset_id, kind, value, value_text, unlimited, "
                "source_kind, status, direction, note, source) VALUES (:a, :k, :v, :vt, false, "
                "'bim', 'proposed', 'both', :note, CAST(:src AS jsonb)) RETURNING id"
            ),
            {
                "a": asset["id"],
                "k": c.kind,
                "v": c.value,
                "vt": c.raw[:32],
                "note": f"from IFC {c.ifc_class} {c.global_id} {c.pset}.{c.prop}; confirm before use",
                "src": json.dumps(source, default=str),
            },
        ).scalar_one()
        out.append(
            {
                "limit_id": lid,
                "asset_id": asset["id"],
                "kind": c.kind,
                "value": c.value,
                "unit": "cm" if c.kind == "height" else "kg",
                "global_id": c.global_id,
                "pset": c.pset,
                "property": c.prop,
            }
        )
    return out


# --------------------------------------------------------------------------- queries

_MODEL_SQL = (
    "SELECT id, asset_id, file_name, file_sha256, ifc_schema, authoring_app, units, georef, "
    "ST_AsGeoJSON(footprint) AS footprint, glb_path, element_count, created_at FROM bim_model"
)


def _model_dict(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["footprint"] = json.loads(d["footprint"]) if d.get("footprint") else None
    d["created_at"] = d["created_at"].isoformat() if d.get("created_at") else None
    return d


def list_models(db: DbLike, *, asset_id: int | None = None) -> list[dict[str, Any]]:
    """Every imported model (or those linked to ``asset_id``), newest first."""
    conn = _conn(db)
    sql = (
        _MODEL_SQL + (" WHERE asset_id = :a" if asset_id is not None else "") + " ORDER BY id DESC"
    )
    return [_model_dict(r) for r in conn.execute(text(sql), {"a": asset_id})]


def get_model(db: DbLike, model_id: int) -> dict[str, Any]:
    """One model with its georeference, footprint (GeoJSON) and element counts by class."""
    conn = _conn(db)
    row = conn.execute(text(_MODEL_SQL + " WHERE id = :id"), {"id": model_id}).first()
    if row is None:
        raise NotFound(
            f"BIM model {model_id} does not exist", hint="list models with GET /bim/models"
        )
    d = _model_dict(row)
    d["classes"] = {
        r.ifc_class: r.n
        for r in conn.execute(
            text(
                "SELECT ifc_class, count(*) AS n FROM bim_element WHERE model_id = :id "
                "GROUP BY ifc_class ORDER BY n DESC"
            ),
            {"id": model_id},
        )
    }
    return d


def glb_file(db: DbLike, model_id: int) -> Path:
    """Path of the model's GLB; NotFound when the model or the file is missing."""
    m = get_model(db, model_id)
    p = m.get("glb_path")
    if not p or not Path(p).is_file():
        raise NotFound(
            f"BIM model {model_id} has no GLB on disk ({p or 'none registered'})",
            hint="import the IFC file again with `twin load ifc FILE`",
        )
    return Path(p)


def list_elements(
    db: DbLike,
    model_id: int,
    *,
    ifc_class: str | None = None,
    global_id: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Elements of a model: GlobalId, class, name, container, psets, quantities, node."""
    get_model(db, model_id)  # NotFound for a missing model
    if not (1 <= limit <= 10_000):
        raise InputError(f"limit {limit}: must be between 1 and 10000")
    if offset < 0:
        raise InputError(f"offset {offset}: must be >= 0")
    conn = _conn(db)
    where = ["e.model_id = :m"]
    params: dict[str, Any] = {"m": model_id, "lim": limit, "off": offset}
    if ifc_class:
        where.append("lower(e.ifc_class) = lower(:c)")
        params["c"] = ifc_class
    if global_id:
        where.append("e.global_id = :g")
        params["g"] = global_id
    rows = conn.execute(
        text(
            "SELECT e.global_id, e.ifc_class, e.name, e.container, c.ifc_class AS container_class, "
            "c.name AS container_name, e.psets, e.quantities, e.mesh_index FROM bim_element e "
            "LEFT JOIN bim_element c ON c.model_id = e.model_id AND c.global_id = e.container "
            f"WHERE {' AND '.join(where)} ORDER BY e.id LIMIT :lim OFFSET :off"
        ),
        params,
    )
    return [dict(r._mapping) for r in rows]


def element_info(db: DbLike, model_id: int, global_id: str) -> dict[str, Any]:
    """One element by GlobalId (what a click on the 3D model shows)."""
    rows = list_elements(db, model_id, global_id=global_id, limit=1)
    if not rows:
        raise NotFound(f"BIM model {model_id} has no element with GlobalId {global_id!r}")
    return rows[0]


def models_for_asset(db: DbLike, asset_id: int) -> list[dict[str, Any]]:
    """Models linked to an asset (NotFound when the asset does not exist)."""
    _asset(_conn(db), asset_id)
    return list_models(db, asset_id=asset_id)


def georef_of(model: dict[str, Any]) -> ifc_georef.Georef | None:
    """The stored georeference of a model as a transform (None when not placed)."""
    g = model.get("georef") or {}
    if not g.get("crs") or g.get("kind") in (None, "none"):
        return None
    return ifc_georef.Georef(
        kind=g["kind"],
        crs=g["crs"],
        offset=(float(g["offset"][0]), float(g["offset"][1])),
        theta_rad=math.radians(float(g["theta_deg"])),
        scale=float(g["scale"]),
        height_offset_m=float(g["height_offset_m"]),
    )


def element_boxes(db: DbLike, model_id: int) -> list[dict[str, Any]]:
    """Per element, its bounding box on the map: for a pickable deck.gl PolygonLayer.

    deck.gl picks a ScenegraphLayer as one object, so to click single elements draw
    these boxes (extruded from ``base_m`` by ``height_m``, nearly transparent) over the
    GLB. Read from the GLB's JSON chunk (accessor min/max), not its geometry.

    Returns a list of {global_id, ifc_class, name, polygon [[lon, lat], ...] (closed),
    base_m, height_m}; empty for a model that is not placed.
    """
    model = get_model(db, model_id)
    g = georef_of(model)
    if g is None:
        return []
    doc = _glb_json(glb_file(db, model_id))
    origin = np.array((doc.get("extras") or {}).get("origin_m") or [0.0, 0.0, 0.0])
    out = []
    for node in doc.get("nodes", []):
        acc = doc["accessors"][
            doc["meshes"][node["mesh"]]["primitives"][0]["attributes"]["POSITION"]
        ]
        (x0, y0, z0), (x1, y1, z1) = acc["min"], acc["max"]
        # glTF (x, y, z) = local (x, z, -y) relative to the GLB origin
        lx0, lx1 = x0 + origin[0], x1 + origin[0]
        ly0, ly1 = -z1 + origin[1], -z0 + origin[1]
        corners = np.array(
            [[lx0, ly0, 0.0], [lx1, ly0, 0.0], [lx1, ly1, 0.0], [lx0, ly1, 0.0], [lx0, ly0, 0.0]]
        )
        ll = g.to_lonlat(corners)
        extras = node.get("extras") or {}
        out.append(
            {
                "global_id": node["name"],
                "ifc_class": extras.get("ifc_class"),
                "name": extras.get("name"),
                "polygon": [[float(a), float(b)] for a, b in ll[:, :2]],
                "base_m": g.height_offset_m + y0 + float(origin[2]),
                "height_m": y1 - y0,
            }
        )
    return out


def _glb_json(path: Path) -> dict[str, Any]:
    import struct

    with path.open("rb") as fh:
        head = fh.read(20)
        magic, _version, _total, json_len, chunk_type = struct.unpack("<IIIII", head)
        if magic != 0x46546C67 or chunk_type != 0x4E4F534A:
            raise InputError(f"{path}: not a GLB file")
        doc: dict[str, Any] = json.loads(fh.read(json_len))
    return doc


#: colour of the linked asset's register line drawn with the model (nothing else in the
#: 3D view is magenta, so tests can find it on screen)
ASSET_LINE_RGB = (255, 0, 255)


def model_view(
    db: DbLike,
    model_id: int,
    *,
    glb_url: str | None = None,
    with_elements: bool = False,
    view_px: int = 300,
) -> dict[str, Any]:
    """What the twin needs to draw a model in place with deck.gl.

    Returns ``glb_path``, ``glb_url`` (``/bim/models/{id}.glb`` unless given),
    ``anchor`` {lon, lat, elevation_m, rotation_deg} — the GLB's origin and the heading of
    the model's +X axis counter-clockwise from east — and ``deck`` hints for a
    ``ScenegraphLayer``: ``position`` [lon, lat, elevation_m] and ``orientation``
    [pitch, yaw, roll] in degrees (yaw = rotation_deg; roll 90 turns glTF's +Y-up into
    deck.gl's +Z-up), ``size_scale`` 1 (metres), and ``view_state`` (longitude,
    latitude, zoom, pitch, bearing) framing the footprint in about ``view_px`` pixels.
    ``anchor`` and ``deck`` are None for a model that is not placed. ``asset_paths``
    holds the linked asset's line(s) as [[lon, lat], ...] lists (to draw the register's
    geometry with the model, in ``deck['asset_line_rgb']``; [lon, lat, z] half a metre
    above the model's top with ``with_elements``, so the model does not hide it),
    ``elements`` the pickable per-element boxes of
    :func:`element_boxes` when ``with_elements``. Element info for a picked node or box
    comes from :func:`element_info` (node name = GlobalId).
    """
    m = get_model(db, model_id)
    anchor = (m.get("georef") or {}).get("anchor")
    elements = element_boxes(db, model_id) if with_elements and anchor else []
    paths = _asset_paths(_conn(db), m["asset_id"])
    if elements:  # lifted just above the model's top, so the model does not hide it
        top_m = max(e["base_m"] + e["height_m"] for e in elements) + 0.5
        paths = [[[x, y, top_m] for x, y in line] for line in paths]
    deck = None
    if anchor:
        deck = {
            "position": [anchor["lon"], anchor["lat"], anchor["elevation_m"]],
            "orientation": [0.0, anchor["rotation_deg"], 90.0],
            "size_scale": 1.0,
            "view_state": _framing(m["footprint"], anchor, view_px=view_px),
            "asset_line_rgb": list(ASSET_LINE_RGB),
        }
    return {
        "model_id": model_id,
        "asset_id": m["asset_id"],
        "file_name": m["file_name"],
        "glb_path": m["glb_path"],
        "glb_url": glb_url or f"/bim/models/{model_id}.glb",
        "anchor": anchor,
        "deck": deck,
        "footprint": m["footprint"],
        "classes": m["classes"],
        "asset_paths": paths,
        "elements": elements,
    }


def _framing(
    footprint: dict[str, Any] | None, anchor: dict[str, float], *, view_px: int
) -> dict[str, float]:
    """A view state centred on the footprint, zoomed so it spans ~60 % of ``view_px``."""
    if footprint and footprint.get("coordinates"):
        ring = np.asarray(footprint["coordinates"][0], dtype=float)
        lon0, lat0 = (ring.min(axis=0) + ring.max(axis=0)) / 2.0
        w_m = float(np.ptp(ring[:, 0])) * 111_320.0 * math.cos(math.radians(lat0))
        h_m = float(np.ptp(ring[:, 1])) * 110_540.0
        extent_m = max(w_m, h_m, 10.0)
    else:
        lon0, lat0, extent_m = anchor["lon"], anchor["lat"], 100.0
    # Web Mercator at zoom z: 156543.03 * cos(lat) / 2**z metres per (256 px tile) pixel;
    # deck.gl's 512 px tiles halve that.
    m_per_px = extent_m / (0.6 * view_px)
    zoom = math.log2(156_543.03 * math.cos(math.radians(lat0)) / 2.0 / m_per_px)
    return {
        "longitude": float(lon0),
        "latitude": float(lat0),
        "zoom": round(min(max(zoom, 12.0), 21.0), 2),
        "pitch": 50.0,
        "bearing": 30.0,
    }


def _asset_paths(conn: Connection, asset_id: int | None) -> list[list[list[float]]]:
    """The asset's line(s) as [[lon, lat], ...] lists (empty for points and polygons)."""
    if asset_id is None:
        return []
    gj = conn.execute(
        text(
            "SELECT ST_AsGeoJSON(ST_LineMerge(geom)) FROM asset WHERE id = :i "
            "AND GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING')"
        ),
        {"i": asset_id},
    ).scalar()
    if not gj:
        return []
    g = json.loads(gj)
    lines = [g["coordinates"]] if g["type"] == "LineString" else g["coordinates"]
    return [[[float(x), float(y)] for x, y, *_ in line] for line in lines]
