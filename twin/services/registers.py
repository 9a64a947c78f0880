"""Load asset registers: place rows on roads by stake, upsert assets, limits and edge links.

Policy (documented in ``twin load register --help``):

- The whole file is written in one transaction (a savepoint inside the caller's
  transaction), so a file that fails half-way leaves the tables exactly as they were.
- By default good rows are loaded and every rejected row is reported with its line number
  and reason; with ``strict=True`` any rejected row fails the whole file and nothing is
  written.
- A row whose asset id (``external_id``) already exists updates that asset: given fields
  replace stored ones, attributes are merged, so a bridges register enriches the bridges
  the OSM import created (``osm:way/<id>``). Reloading the same file changes nothing.
- Limits in the register become ``structure_limit`` rows with ``source_kind='register'``
  (replaced on reload). Placed assets are linked (``asset_edge``) to the edges of the same
  road within :data:`LINK_TOLERANCE_M`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely import LineString, Point, wkb
from shapely.ops import linemerge
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from loaders.register import Register, RegisterError, RegisterRow, Rejection, read_register
from road_network.stake import (
    LinearRoute,
    StakeError,
    format_stake,
    parse_chain_breaks,
    to_metric,
    to_wgs84,
)
from twin.errors import InputError
from twin.ingest import copy_rows

#: Edges of the asset's road within this distance of it are the edges it governs.
LINK_TOLERANCE_M = 25.0
#: Without a road, a point asset governs the nearest edges within this distance.
NEAREST_TOLERANCE_M = 15.0
#: A row with both a stake and coordinates is rejected when they are farther apart.
STAKE_COORD_TOLERANCE_M = 100.0


@dataclass
class RegisterReport:
    """What a register load did."""

    file: str
    format: str
    encoding: str | None
    sha256: str
    rows_read: int
    inserted: int = 0
    updated: int = 0
    limits: int = 0
    edge_links: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    unmapped_columns: list[str] = field(default_factory=list)
    asset_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0
    load_run_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON)."""
        return asdict(self)


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_register(
    conn: Connection,
    path: str | Path,
    *,
    default_kind: str | None = None,
    strict: bool = False,
    sheet: str | None = None,
    source_name: str | None = None,
) -> RegisterReport:
    """Load a register file into ``asset``, ``structure_limit`` and ``asset_edge``.

    Parameters
    ----------
    conn:
        Connection inside the caller's transaction (the load uses a savepoint).
    path:
        CSV (UTF-8 or GBK), Excel or GeoPackage file.
    default_kind:
        Asset kind for rows without one.
    strict:
        Fail the whole file (write nothing) when any row is rejected.
    sheet:
        Excel sheet or GeoPackage layer.
    source_name:
        Name recorded as the rows' source file (default: the file name).

    Returns
    -------
    RegisterReport
        Counts, rejected rows with line numbers and reasons, the ``load_run`` id.

    Raises
    ------
    InputError
        The file cannot be read, or ``strict`` and some row was rejected.
    """
    t0 = time.perf_counter()
    p = Path(path)
    try:
        reg = read_register(p, default_kind=default_kind, sheet=sheet)
    except RegisterError as exc:
        raise InputError(str(exc), hint="see `twin load register --help` for the columns") from None
    sha = file_sha256(p) if p.is_file() else hashlib.sha256(str(path).encode()).hexdigest()
    report = RegisterReport(
        file=str(path),
        format=reg.format,
        encoding=reg.encoding,
        sha256=sha,
        rows_read=reg.rows_read,
        columns=reg.columns,
        unmapped_columns=reg.unmapped,
    )
    name = source_name or p.name
    with conn.begin_nested():
        rejections = list(reg.rejections)
        placed = _place(conn, reg, rejections)
        rejections.sort(key=lambda r: r.line)
        report.rejected = [r.to_dict() for r in rejections]
        if strict and rejections:
            raise InputError(
                f"{p.name}: {len(rejections)} of {reg.rows_read} rows rejected; nothing loaded "
                f"(--strict). First: line {rejections[0].line}: {rejections[0].reason}",
                details={"rejected": report.rejected[:200]},
            )
        _write(conn, placed, report, file_name=name)
        report.seconds = round(time.perf_counter() - t0, 3)
        report.load_run_id = conn.execute(
            text(
                "INSERT INTO load_run (kind, file_name, sha256, seconds, report) "
                "VALUES ('register', :f, :s, :sec, :r) RETURNING id"
            ).bindparams(bindparam("r", type_=JSONB)),
            {"f": name, "s": sha, "sec": report.seconds, "r": _summary(report)},
        ).scalar_one()
    return report


def _summary(report: RegisterReport) -> dict[str, Any]:
    d = report.to_dict()
    d.pop("asset_ids", None)
    d["rejected"] = d["rejected"][:500]
    return d


# ----------------------------------------------------------------------------- placing


@dataclass
class _Placed:
    row: RegisterRow
    geom: Any | None  # WGS84 shapely geometry, or None to keep the stored one
    road_id: int | None
    stake_m: float | None
    existing: tuple[int, str] | None  # (id, kind)


def _routes(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[int, LinearRoute | str]]:
    """Roads by code: their id and linear-referencing route (or why there is none)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    rows = conn.execute(
        text(
            "SELECT id, code, ST_AsBinary(geom) AS g, stake_start_m, chain_breaks, "
            "COALESCE(source->>'centreline', 'false') = 'true' AS centreline "
            "FROM road WHERE code = ANY(:c)"
        ),
        {"c": codes},
    ).all()
    out: dict[str, tuple[int, LinearRoute | str]] = {}
    for rid, code, g, start, breaks, centreline in rows:
        if g is None:
            out[code] = (rid, f"road {code} has no geometry to place stakes on")
            continue
        geom = wkb.loads(bytes(g))
        if not centreline and not isinstance(linemerge(geom), LineString):
            # OSM gives a road as carriageway pieces with no measure origin: stitching them
            # would place stakes at made-up positions, so refuse and say what is needed
            out[code] = (
                rid,
                f"road {code} has no stake centreline (its geometry is "
                f"{len(getattr(geom, 'geoms', [geom]))} separate pieces from OSM); load the "
                "road authority's centreline with `twin load stakes FILE`, or give lon/lat",
            )
            continue
        try:
            line = to_metric(geom)
            route = LinearRoute(
                line,  # type: ignore[arg-type]
                stake_start_m=float(start or 0.0),
                chain_breaks=parse_chain_breaks(breaks),
                code=code,
            )
            out[code] = (rid, route)
        except StakeError as exc:
            out[code] = (rid, f"road {code}: {exc}")
    return out


def _place(conn: Connection, reg: Register, rejections: list[Rejection]) -> list[_Placed]:
    ids = [r.external_id for r in reg.rows]
    existing = {
        e: (i, k)
        for i, e, k in conn.execute(
            text("SELECT id, external_id, kind FROM asset WHERE external_id = ANY(:e)"),
            {"e": ids},
        ).all()
    }
    routes = _routes(conn, (r.road_code for r in reg.rows if r.road_code))
    placed: list[_Placed] = []
    for row in reg.rows:
        old = existing.get(row.external_id)
        try:
            p = _place_row(row, routes, old)
        except _RowError as exc:
            rejections.append(Rejection(row.line, str(exc), row.external_id))
            continue
        placed.append(p)
    return placed


class _RowError(Exception):
    pass


def _place_row(
    row: RegisterRow,
    routes: dict[str, tuple[int, LinearRoute | str]],
    old: tuple[int, str] | None,
) -> _Placed:
    if old is None and row.kind is None:
        raise _RowError("missing kind (类型) for a new asset; give a kind column or --kind")
    if old is not None and row.kind is not None and row.kind != old[1]:
        raise _RowError(
            f"asset {row.external_id} exists as a {old[1]}; the register says {row.kind}"
        )
    road_id: int | None = None
    route: LinearRoute | None = None
    if row.road_code is not None:
        found = routes.get(row.road_code)
        if found is None:
            if row.stake_m is not None:
                raise _RowError(f"unknown road code {row.road_code!r}: no such road in the twin")
        else:
            road_id = found[0]
            if isinstance(found[1], str):
                if row.stake_m is not None:
                    raise _RowError(found[1])
            else:
                route = found[1]
    geom: Any = None
    stake = row.stake_m
    if row.stake_m is not None:
        assert route is not None
        try:
            if row.stake_end_m is not None:
                geom = to_wgs84(route.section(row.stake_m, row.stake_end_m))
            else:
                geom = to_wgs84(route.point_at(row.stake_m))
        except StakeError as exc:
            raise _RowError(str(exc)) from None
        given = (
            row.geometry
            if row.geometry is not None
            else (Point(row.lon, row.lat) if row.lon is not None and row.lat is not None else None)
        )
        if given is not None:
            at = route.point_at(row.stake_m)
            off = float(to_metric(given).distance(at))
            if off > STAKE_COORD_TOLERANCE_M:
                raise _RowError(
                    f"stake {format_stake(row.stake_m)} on {row.road_code} and the row's "
                    f"coordinates are {off:.0f} m apart (more than "
                    f"{STAKE_COORD_TOLERANCE_M:.0f} m): one of them is wrong"
                )
    elif row.geometry is not None:
        geom = row.geometry
    elif row.lon is not None and row.lat is not None:
        geom = Point(row.lon, row.lat)
    if geom is not None and stake is None and route is not None:
        pt = geom if isinstance(geom, Point) else shapely.centroid(geom)
        stake, _off = route.locate(to_metric(pt))  # type: ignore[arg-type]
    if geom is None and old is None:
        raise _RowError(
            "no location: give road code + stake (路线编号 + 桩号) or lon/lat (经度/纬度)"
        )
    return _Placed(row=row, geom=geom, road_id=road_id, stake_m=stake, existing=old)


# ----------------------------------------------------------------------------- writing

_STAGE_COLUMNS = (
    "line",
    "external_id",
    "kind",
    "name_zh",
    "name_en",
    "road_id",
    "road_code",
    "stake_m",
    "stake_end_m",
    "geom",
    "attributes",
    "state",
    "owner",
    "built_on",
    "source",
)
_STAGE = (
    "CREATE TEMP TABLE _register_stage (line int, external_id text, kind text, "
    "name_zh text, name_en text, road_id int, road_code text, stake_m float8, "
    "stake_end_m float8, geom geometry, attributes jsonb, state text, owner text, "
    "built_on date, source jsonb)"
)
# Existing assets: given fields replace stored ones, attributes and source are merged.
_UPDATE = """
    UPDATE asset a SET
        name_zh = COALESCE(r.name_zh, a.name_zh),
        name_en = COALESCE(r.name_en, a.name_en),
        road_id = COALESCE(r.road_id, a.road_id),
        road_code = COALESCE(r.road_code, a.road_code),
        stake_m = COALESCE(r.stake_m, a.stake_m),
        stake_end_m = COALESCE(r.stake_end_m, a.stake_end_m),
        geom = COALESCE(r.geom, a.geom),
        attributes = a.attributes || r.attributes,
        lifecycle_state = COALESCE(r.state, a.lifecycle_state),
        owner = COALESCE(r.owner, a.owner),
        built_on = COALESCE(r.built_on, a.built_on),
        source = a.source || r.source,
        updated_at = now()
    FROM _register_stage r
    WHERE a.external_id = r.external_id
    RETURNING a.id, a.external_id
"""
_INSERT = """
    INSERT INTO asset (external_id, kind, name_zh, name_en, road_id, road_code, stake_m,
                       stake_end_m, geom, attributes, lifecycle_state, owner, built_on, source)
    SELECT external_id, kind, name_zh, name_en, road_id, road_code, stake_m, stake_end_m,
           geom, attributes, COALESCE(state, 'in_service'), owner, built_on, source
    FROM _register_stage r
    WHERE NOT EXISTS (SELECT 1 FROM asset a WHERE a.external_id = r.external_id)
    ORDER BY line
    RETURNING id, external_id
"""


def _stage_row(p: _Placed, file_name: str) -> tuple[Any, ...]:
    r = p.row
    return (
        r.line,
        r.external_id,
        r.kind,
        r.name_zh,
        r.name_en,
        p.road_id,
        r.road_code,
        p.stake_m,
        r.stake_end_m,
        f"SRID=4326;{p.geom.wkt}" if p.geom is not None else None,
        json.dumps(r.attributes, ensure_ascii=False, default=str),
        r.state,
        r.owner,
        r.built_on,
        json.dumps(
            {"register": {"file": file_name, "line": r.line}, "stake_given": r.stake_m is not None},
            ensure_ascii=False,
        ),
    )


def _write(
    conn: Connection, placed: Sequence[_Placed], report: RegisterReport, *, file_name: str
) -> None:
    """Stage the rows with COPY, then update existing assets and insert new ones in two
    set-wise statements (one round trip per row made 10k-row registers take minutes)."""
    conn.execute(text(_STAGE))
    copy_rows(conn, "_register_stage", _STAGE_COLUMNS, (_stage_row(p, file_name) for p in placed))
    ids: dict[str, int] = {}
    updated = conn.execute(text(_UPDATE)).all()
    ids.update({e: int(i) for i, e in updated})
    inserted = conn.execute(text(_INSERT)).all()
    ids.update({e: int(i) for i, e in inserted})
    conn.execute(text("DROP TABLE _register_stage"))
    report.updated, report.inserted = len(updated), len(inserted)
    report.asset_ids = [ids[p.row.external_id] for p in placed]
    relink = [ids[p.row.external_id] for p in placed if p.geom is not None]
    limit_rows = [
        {
            "a": ids[p.row.external_id],
            "k": kind,
            "v": value,
            "src": {"register": {"file": file_name, "line": p.row.line}},
        }
        for p in placed
        for kind, value in p.row.limits.items()
    ]
    if report.asset_ids:
        conn.execute(
            text(
                "DELETE FROM structure_limit WHERE asset_id = ANY(:ids) AND source_kind = 'register'"
            ),
            {"ids": report.asset_ids},
        )
    if limit_rows:
        conn.execute(
            text(
                "INSERT INTO structure_limit (asset_id, kind, value, unlimited, source_kind, "
                "status, direction, source) "
                "VALUES (:a, :k, :v, false, 'register', 'approved', 'both', :src)"
            ).bindparams(bindparam("src", type_=JSONB)),
            limit_rows,
        )
    report.limits = len(limit_rows)
    report.edge_links = link_assets_to_edges(conn, relink)


def link_assets_to_edges(conn: Connection, asset_ids: Sequence[int]) -> int:
    """Link assets to the road edges they govern; returns the number of links.

    An asset on a road governs that road's edges within :data:`LINK_TOLERANCE_M` (both
    carriageways of a dual carriageway, every edge along a section). An asset without a
    road governs the nearest edges within :data:`NEAREST_TOLERANCE_M`. Existing links of
    the assets are replaced.
    """
    if not asset_ids:
        return 0
    ids = list(asset_ids)
    conn.execute(text("DELETE FROM asset_edge WHERE asset_id = ANY(:ids)"), {"ids": ids})
    deg = LINK_TOLERANCE_M / 80000.0  # a generous degree box for the index pre-filter
    n = conn.execute(
        text(
            """
            INSERT INTO asset_edge (asset_id, edge_id, direction)
            SELECT a.id, e.id, 'both'
            FROM asset a
            JOIN road_edge e
              ON e.geom && ST_Expand(a.geom, :deg)
             AND (e.road_id = a.road_id
                  OR a.road_code = ANY(string_to_array(replace(e.ref, ' ', ''), ';')))
             AND ST_DWithin(a.geom::geography, e.geom::geography, :tol)
            WHERE a.id = ANY(:ids) AND (a.road_id IS NOT NULL OR a.road_code IS NOT NULL)
            ON CONFLICT DO NOTHING
            """
        ),
        {"ids": ids, "deg": deg, "tol": LINK_TOLERANCE_M},
    ).rowcount
    n += conn.execute(
        text(
            """
            INSERT INTO asset_edge (asset_id, edge_id, direction)
            SELECT a.id, near.id, 'both'
            FROM asset a
            CROSS JOIN LATERAL (
                SELECT e.id FROM road_edge e
                WHERE e.geom && ST_Expand(a.geom, :deg)
                  AND ST_DWithin(a.geom::geography, e.geom::geography, :tol)
                ORDER BY e.geom <-> a.geom LIMIT 2
            ) near
            WHERE a.id = ANY(:ids)
              AND NOT EXISTS (SELECT 1 FROM asset_edge x WHERE x.asset_id = a.id)
            ON CONFLICT DO NOTHING
            """
        ),
        {"ids": ids, "deg": NEAREST_TOLERANCE_M / 80000.0, "tol": NEAREST_TOLERANCE_M},
    ).rowcount
    return int(n)
