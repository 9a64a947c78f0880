"""``twin load sample``: load the bundled Tianjin sample (``data/sample/``) step by step.

The sample is invented data (see ``data/sample/README.md``). Loading it is:

- ordered: :data:`STEPS` is a plain list; each step names the sample files it reads
  and a function ``run(conn, ctx) -> dict`` returning counts for the summary. To add a
  step, append one line to :data:`STEPS`, e.g.
  ``Step("inspections", ("inspections.csv",), _inspections)``;
- idempotent: after a step runs, a ``load_run`` row (kind ``sample``, file name
  ``sample:<step>``) records the sha256 of its files and :data:`SAMPLE_VERSION`. A step
  whose hash matches the last record is skipped, unless an earlier step ran in the same
  invocation (later steps may depend on it), so a second ``twin load sample`` takes
  seconds; ``force=True`` runs everything;
- atomic: all steps run in one savepoint of the caller's transaction; any failure leaves
  the database as it was.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from twin.errors import InputError
from twin.services import asset_history as _asset_history
from twin.services import road_stakes as _road_stakes
from twin.settings import PROJECT_ROOT

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
#: Bump when a step's code changes what it writes, so existing databases re-run it.
SAMPLE_VERSION = "3"
#: ``source.dataset`` / OSM dataset identity of everything the sample writes.
DATASET = "sample:tianjin"

Progress = Callable[[str], None]


@dataclass
class SampleContext:
    """What steps get besides the connection."""

    sample_dir: Path
    progress: Progress
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def file(self, name: str) -> Path:
        """A sample file by its name relative to the sample folder."""
        p = self.sample_dir / name
        if not p.is_file():
            raise InputError(
                f"sample file {p} is missing",
                hint="regenerate it: .venv/bin/python scripts/make_tianjin_sample.py",
            )
        return p


@dataclass(frozen=True)
class Step:
    """One step of the sample load: its name, the files it reads, what it does."""

    name: str
    files: tuple[str, ...]
    run: Callable[[Connection, SampleContext], dict[str, Any]]


# ----------------------------------------------------------------------------- steps


def _osm(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    from twin.services.osm_import import import_osm

    def tick(phase: str, done: int, total: int | None) -> None:
        ctx.progress(f"osm: {phase} {done:,}" + (f"/{total:,}" if total else ""))

    res = import_osm(conn, ctx.file("tianjin.osm"), dataset=DATASET, region="china", progress=tick)
    return {"rows": res.rows, "load_run_id": res.load_run_id}


def _routes(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    """Road centrelines with their stake measure: ``road`` rows and edge/asset stakes."""
    rep = _road_stakes.load_centrelines(
        conn, ctx.file("routes.geojson"), source={"dataset": DATASET}
    )
    return {
        "roads": rep.roads,
        "edges_with_stakes": rep.edges_with_stakes,
        "assets_with_stakes": rep.assets_with_stakes,
    }


def _registers(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    from twin.services.registers import load_register

    out: dict[str, Any] = {}
    for name, kind in (
        ("registers/bridges.csv", "bridge"),
        ("registers/port_corridor_assets.csv", None),
    ):
        ctx.progress(f"registers: {name}")
        rep = load_register(conn, ctx.file(name), default_kind=kind)
        out[name] = {
            "inserted": rep.inserted,
            "updated": rep.updated,
            "limits": rep.limits,
            "edge_links": rep.edge_links,
            "rejected": len(rep.rejected),
        }
        if rep.rejected:
            out[name]["first_rejections"] = rep.rejected[:5]
        out[name]["pruned"] = _prune_register(conn, Path(name).name, rep.asset_ids)
    return out


def _prune_register(conn: Connection, file_name: str, keep: list[int]) -> int:
    """Delete assets an earlier version of a sample register created that the current
    file no longer has (and their V2X units), unless inspections or work orders refer to
    them. OSM assets the register only enriched are never deleted here."""
    stale = [
        int(i)
        for (i,) in conn.execute(
            text(
                "SELECT a.id FROM asset a WHERE a.source->'register'->>'file' = :f "
                "AND NOT (a.id = ANY(:keep)) AND NOT (a.source ? 'dataset') "
                "AND NOT EXISTS (SELECT 1 FROM inspection i WHERE i.asset_id = a.id) "
                "AND NOT EXISTS (SELECT 1 FROM work_order w WHERE w.asset_id = a.id)"
            ),
            {"f": file_name, "keep": keep},
        )
    ]
    if stale:
        conn.execute(text("DELETE FROM v2x_unit WHERE asset_id = ANY(:s)"), {"s": stale})
        conn.execute(text("DELETE FROM asset WHERE id = ANY(:s)"), {"s": stale})
    return len(stale)


def _port(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    yards = json.loads(ctx.file("port_yard.geojson").read_text(encoding="utf-8"))
    lanes = json.loads(ctx.file("port_lanes.geojson").read_text(encoding="utf-8"))
    ids: dict[str, int] = {}
    for f in yards["features"]:
        p = dict(f["properties"])
        code = p.pop("code")
        ids[code] = conn.execute(
            text(
                "INSERT INTO port_yard (code, name_zh, name_en, kind, geom, attrs, source) "
                "VALUES (:code, :zh, :en, :kind, ST_GeomFromText(:wkt, 4326), :attrs, :src) "
                "ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, "
                "name_en = EXCLUDED.name_en, kind = EXCLUDED.kind, geom = EXCLUDED.geom, "
                "attrs = EXCLUDED.attrs, source = EXCLUDED.source RETURNING id"
            ).bindparams(bindparam("attrs", type_=JSONB), bindparam("src", type_=JSONB)),
            {
                "code": code,
                "zh": p.pop("name_zh", None),
                "en": p.pop("name_en", None),
                "kind": p.pop("kind", "container_yard"),
                "wkt": shape(f["geometry"]).wkt,
                "attrs": p,
                "src": {"dataset": DATASET, "file": "port_yard.geojson"},
            },
        ).scalar_one()
    for f in lanes["features"]:
        p = dict(f["properties"])
        code = p.pop("code")
        yard = p.pop("yard", None)
        conn.execute(
            text(
                "INSERT INTO port_lane (yard_id, code, mode, geom, attrs) VALUES (:y, :code, "
                ":mode, ST_GeomFromText(:wkt, 4326), :attrs) ON CONFLICT (code) DO UPDATE SET "
                "yard_id = EXCLUDED.yard_id, mode = EXCLUDED.mode, geom = EXCLUDED.geom, "
                "attrs = EXCLUDED.attrs"
            ).bindparams(bindparam("attrs", type_=JSONB)),
            {
                "y": ids.get(yard) if yard else None,
                "code": code,
                "mode": p.pop("mode", "dual"),
                "wkt": shape(f["geometry"]).wkt,
                "attrs": p,
            },
        )
    return {"port_yard": len(yards["features"]), "port_lane": len(lanes["features"])}


def _villages(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    data = json.loads(ctx.file("villages.geojson").read_text(encoding="utf-8"))
    for f in data["features"]:
        p = f["properties"]
        conn.execute(
            text(
                "INSERT INTO village (code, name_zh, name_en, population, geom, source) VALUES "
                "(:code, :zh, :en, :pop, ST_GeomFromText(:wkt, 4326), :src) ON CONFLICT (code) "
                "DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, "
                "population = EXCLUDED.population, geom = EXCLUDED.geom, source = EXCLUDED.source"
            ).bindparams(bindparam("src", type_=JSONB)),
            {
                "code": p["code"],
                "zh": p["name_zh"],
                "en": p["name_en"],
                "pop": p["population"],
                "wkt": shape(f["geometry"]).wkt,
                "src": {"dataset": DATASET, "file": "villages.geojson", "road": p.get("road")},
            },
        )
    return {"village": len(data["features"])}


#: RSI payloads: a JSON rendering of T/CSAE 53-2020 RSI field names (msgCnt, moy, id,
#: refPos, rtes/rtss with rteId/rtsId, eventType/signType, eventPos/signPos, description,
#: timeDetails, priority, referencePaths). The numeric eventType/signType codes below are
#: placeholders awaiting confirmation against GB/T 29100 and GB 5768 (unverified).
_SIGN_TYPES = {"height": 40, "weight": 38}  # unverified
_EVENT_WORK_ZONE = 401  # unverified
#: Broadcast periods (T/CSAE 159-2020 §5.4): static 1 s, semi-static 500 ms.
_PERIOD_STATIC_MS = 1000
_PERIOD_SEMI_STATIC_MS = 500


def _pos(lon: float, lat: float) -> dict[str, int]:
    """Position in the standard's units (1e-7 degree)."""
    return {"lat": round(lat * 1e7), "long": round(lon * 1e7)}


def _v2x(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    """RSUs of the corridor register become v2x units; RSI events at limits and works."""
    rsus = conn.execute(
        text(
            "SELECT id, external_id, road_code, stake_m, attributes, lifecycle_state, "
            "ST_AsText(ST_PointOnSurface(geom)) AS wkt FROM asset WHERE kind = 'rsu' "
            "AND source->'register'->>'file' = 'port_corridor_assets.csv' ORDER BY id"
        )
    ).all()
    unit_ids: list[int] = []
    for r in rsus:
        unit_ids.append(
            conn.execute(
                text(
                    "INSERT INTO v2x_unit (code, asset_id, road_code, stake_m, range_m, "
                    "message_sets, status, geom) VALUES (:code, :a, :rc, :st, :rng, :ms, :status, "
                    "ST_GeomFromText(:wkt, 4326)) ON CONFLICT (code) DO UPDATE SET "
                    "asset_id = EXCLUDED.asset_id, road_code = EXCLUDED.road_code, "
                    "stake_m = EXCLUDED.stake_m, range_m = EXCLUDED.range_m, "
                    "message_sets = EXCLUDED.message_sets, status = EXCLUDED.status, "
                    "geom = EXCLUDED.geom RETURNING id"
                ).bindparams(bindparam("ms", type_=JSONB)),
                {
                    "code": r.external_id,
                    "a": r.id,
                    "rc": r.road_code,
                    "st": r.stake_m,
                    "rng": float(r.attributes.get("range_m", 300.0)),
                    "ms": r.attributes.get("message_sets", ["BSM", "RSI"]),
                    "status": "online" if r.lifecycle_state == "in_service" else "offline",
                    "wkt": r.wkt,
                },
            ).scalar_one()
        )
    conn.execute(text("DELETE FROM v2x_message WHERE unit_id = ANY(:u)"), {"u": unit_ids})
    events = conn.execute(
        text(
            """
            SELECT a.id, a.external_id, a.kind, a.name_zh, a.lifecycle_state,
                   ST_X(ST_PointOnSurface(a.geom)) AS lon, ST_Y(ST_PointOnSurface(a.geom)) AS lat,
                   s.kind AS limit_kind, s.value, u.id AS unit_id, u.code AS unit_code,
                   ST_X(u.geom) AS ulon, ST_Y(u.geom) AS ulat
            FROM asset a
            LEFT JOIN structure_limit s ON s.asset_id = a.id AND s.kind IN ('height', 'weight')
            CROSS JOIN LATERAL (
                SELECT id, code, geom FROM v2x_unit WHERE id = ANY(:u)
                ORDER BY geom <-> a.geom LIMIT 1) u
            WHERE a.road_code IN ('S40', 'G2')
              AND ((a.kind IN ('underpass', 'bridge') AND s.value IS NOT NULL)
                   OR (a.kind = 'pavement_section' AND a.lifecycle_state = 'under_maintenance'))
              AND ST_DWithin(a.geom::geography, u.geom::geography, 3000)
            ORDER BY a.id, s.kind
            """
        ),
        {"u": unit_ids},
    ).all()
    counts: dict[str, int] = {}
    for n, e in enumerate(events, 1):
        if e.kind == "pavement_section":
            event_type, period = "work_zone", _PERIOD_SEMI_STATIC_MS
            body: dict[str, Any] = {
                "rtes": [
                    {
                        "rteId": 1,
                        "eventType": _EVENT_WORK_ZONE,
                        "eventSource": "transportation",
                        "eventPos": _pos(e.lon, e.lat),
                        "eventRadius": 500,
                        "description": {"textString": f"{e.name_zh} 施工作业，请减速慢行"},
                        "priority": 5,
                    }
                ],
                "rtss": [],
            }
        else:
            event_type = "low_clearance" if e.limit_kind == "height" else "weight_limit"
            period = _PERIOD_STATIC_MS
            value = (
                f"限高{e.value / 100:.1f}米"
                if e.limit_kind == "height"
                else f"限重{e.value / 1000:.0f}吨"
            )
            body = {
                "rtes": [],
                "rtss": [
                    {
                        "rtsId": 1,
                        "signType": _SIGN_TYPES[e.limit_kind],
                        "signPos": _pos(e.lon, e.lat),
                        "description": {"textString": f"{e.name_zh} {value}"},
                        "priority": 3,
                    }
                ],
            }
        payload = {
            "msgCnt": n % 128,
            "id": e.unit_code,
            "refPos": _pos(e.ulon, e.ulat),
            **body,
            "x_rendering": "JSON rendering of T/CSAE 53-2020 RSI field names (not UPER)",
            "x_asset": e.external_id,
        }
        conn.execute(
            text(
                "INSERT INTO v2x_message (unit_id, msg_type, event_type, period_ms, payload, geom) "
                "VALUES (:u, 'RSI', :et, :p, :payload, ST_Point(:x, :y, 4326))"
            ).bindparams(bindparam("payload", type_=JSONB)),
            {
                "u": e.unit_id,
                "et": event_type,
                "p": period,
                "payload": payload,
                "x": e.lon,
                "y": e.lat,
            },
        )
        counts[event_type] = counts.get(event_type, 0) + 1
    return {"v2x_unit": len(unit_ids), "rsi": counts}


def _rasters(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    from twin.services.rasters import register_raster

    out = {}
    for name, kind in (
        ("rasters/tianjin_dem.tif", "dem"),
        ("rasters/binhai_flood_depth.tif", "water-depth"),
    ):
        rec = register_raster(conn, ctx.file(name), kind=kind)
        out[name] = rec["id"]
    return out


#: The sample's load, in order. Append a step with one line.
def _bim(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    """The sample bridge's IFC model, triangulated, placed and linked to its asset."""
    from twin.services import bim
    from twin.settings import get_settings

    models = bim.import_sample_models(conn, settings=get_settings(), sample_dir=ctx.sample_dir)
    return {"bim_model": len(models)}


def _areas(conn: Connection, ctx: SampleContext) -> dict[str, Any]:
    from twin.services.land_areas import import_areas

    rep = import_areas(conn, ctx.file("tianjin.osm"), dataset=DATASET)
    return {"land_area": rep["areas"], **rep["by_kind"]}


STEPS: list[Step] = [
    Step("osm", ("tianjin.osm",), _osm),
    Step("routes", ("routes.geojson",), _routes),
    Step("registers", ("registers/bridges.csv", "registers/port_corridor_assets.csv"), _registers),
    Step("port", ("port_yard.geojson", "port_lanes.geojson"), _port),
    Step("villages", ("villages.geojson",), _villages),
    Step("v2x", ("registers/port_corridor_assets.csv",), _v2x),
    Step("rasters", ("rasters/tianjin_dem.tif", "rasters/binhai_flood_depth.tif"), _rasters),
    Step("inspection_history", (), _asset_history.sample_step),
    Step("bim", ("bim/yingkou_road_bridge.ifc",), _bim),
    Step("areas", ("tianjin.osm",), _areas),
]


# ----------------------------------------------------------------------------- driver


def step_hash(step: Step, sample_dir: Path) -> str:
    """sha256 over the step's name, :data:`SAMPLE_VERSION` and its files' bytes."""
    h = hashlib.sha256(f"{step.name}\0{SAMPLE_VERSION}\0".encode())
    for name in step.files:
        p = sample_dir / name
        h.update(name.encode() + b"\0")
        h.update(p.read_bytes() if p.is_file() else b"<missing>")
    return h.hexdigest()


def _last_hash(conn: Connection, step: Step) -> str | None:
    return conn.execute(
        text(
            "SELECT sha256 FROM load_run WHERE kind = 'sample' AND file_name = :f "
            "ORDER BY id DESC LIMIT 1"
        ),
        {"f": f"sample:{step.name}"},
    ).scalar()


def _counts(conn: Connection, tables: Sequence[str]) -> dict[str, int]:
    return {t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in tables}


SUMMARY_TABLES = (
    "road",
    "road_node",
    "road_edge",
    "asset",
    "structure_limit",
    "asset_edge",
    "port_yard",
    "port_lane",
    "village",
    "v2x_unit",
    "v2x_message",
    "raster_layer",
    "inspection",
    "bim_model",
)


def load_sample(
    conn: Connection,
    *,
    sample_dir: Path | None = None,
    steps: Sequence[Step] | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Load the bundled sample (idempotent, atomic).

    Parameters
    ----------
    conn:
        Connection inside the caller's transaction (the load uses one savepoint).
    sample_dir:
        The sample folder (default ``data/sample``).
    steps:
        Steps to consider (default :data:`STEPS`).
    force:
        Run every step even when its files are unchanged.
    progress:
        Called with a short message as steps advance.

    Returns
    -------
    dict
        ``steps`` (per step: ``status`` ran/skipped, ``seconds``, its result), ``rows``
        (rows per table after the load), ``added`` (change per table), ``seconds``.
    """
    t0 = time.perf_counter()
    sdir = sample_dir or SAMPLE_DIR
    if not sdir.is_dir():
        raise InputError(f"sample folder {sdir} is missing")
    say = progress or (lambda _m: None)
    ctx = SampleContext(sample_dir=sdir, progress=say)
    tables = [
        t
        for t in SUMMARY_TABLES
        if conn.execute(text("SELECT to_regclass(:t)"), {"t": f"public.{t}"}).scalar()
    ]
    before = _counts(conn, tables)
    report: dict[str, Any] = {"steps": {}}
    with conn.begin_nested():
        dirty = force
        for step in steps if steps is not None else STEPS:
            digest = step_hash(step, sdir)
            if not dirty and _last_hash(conn, step) == digest:
                report["steps"][step.name] = {"status": "skipped (unchanged)"}
                say(f"{step.name}: unchanged, skipped")
                continue
            dirty = True
            say(f"{step.name}: loading")
            ts = time.perf_counter()
            result = step.run(conn, ctx)
            secs = round(time.perf_counter() - ts, 3)
            ctx.results[step.name] = result
            report["steps"][step.name] = {"status": "ran", "seconds": secs, "result": result}
            conn.execute(
                text(
                    "INSERT INTO load_run (kind, file_name, sha256, seconds, report) "
                    "VALUES ('sample', :f, :s, :sec, :r)"
                ).bindparams(bindparam("r", type_=JSONB)),
                {
                    "f": f"sample:{step.name}",
                    "s": digest,
                    "sec": secs,
                    "r": json.loads(json.dumps(result, default=str)),
                },
            )
            say(f"{step.name}: done in {secs:.1f} s")
    after = _counts(conn, tables)
    report["rows"] = after
    report["added"] = {t: after[t] - before[t] for t in tables if after[t] != before[t]}
    report["seconds"] = round(time.perf_counter() - t0, 3)
    return report
