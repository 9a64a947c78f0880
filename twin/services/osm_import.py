"""Import an OSM file into the twin: road, road_node, road_edge, asset, structure_limit,
asset_edge and a load_run row, all with COPY inside the caller's transaction.

Atomicity
    Everything runs in a savepoint of the caller's connection: if anything fails, the
    savepoint is rolled back and the database is exactly as it was (the caller's
    transaction stays usable). The CLI commits only after a successful import.

Idempotence (the load's identity)
    Every row written carries ``source.dataset`` (``attrs.dataset`` for nodes) and the
    file name (edges: the OSM way too; their ``source.sha256`` is left out when the
    dataset already is ``osm:<sha256>``). By default
    the dataset is ``osm:<sha256 of the file>``, so re-loading the same bytes replaces the
    rows that file wrote before: same content, same rows -- with the same ids, because a
    re-load reuses the id ranges recorded in the previous ``load_run.report``. A caller
    that reloads a *changed* file meant to supersede an older one (the bundled sample)
    passes its own ``dataset`` name (``dataset="sample:tianjin"``); the new load then
    replaces the old one's rows. Different datasets never delete each other's rows.

    Assets are upserted by ``external_id`` (``osm:way/123``) rather than deleted, so the
    inspections, work orders and BIM models attached to a bridge survive a re-load; their
    OSM-sourced limits (``structure_limit.source_kind = 'osm'``) are replaced. An asset a
    previous load of the same dataset wrote but the new file no longer has is deleted
    unless something else (an inspection, a work order, a non-OSM limit) refers to it, in
    which case it is kept and counted in the report. Roads are upserted by code: a road
    shared by several datasets keeps its names and class from the first load.

Region checks
    Coordinates outside China are a warning in the report (the test extracts from Europe
    load); ``region="china"`` makes them an error. ``bbox`` (min_lon, min_lat, max_lon,
    max_lat) makes any node outside it an error. Out-of-range coordinates (a swapped
    lat/lon in China gives a latitude near 117) are always reported, and the ways they
    break are split or rejected.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from sqlalchemy import Connection, text

from loaders.osm import (
    EdgeLines,
    LoadReport,
    OsmEdges,
    OsmGraph,
    OsmNetwork,
    OsmReadError,
    Table,
    read_osm_assets,
    read_osm_edges,
    read_osm_graph,
)
from twin.errors import InputError
from twin.ingest import (
    COPY_NULL,
    copy_escape,
    copy_rows,
    copy_text,
    deferred_indexes,
    local_settings,
    reset_sequence,
)

__all__ = ["SUFFIXES", "OsmImportResult", "import_osm"]

#: file name endings we read (libosmium picks the format from them).
SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".osm.xml")

Progress = Callable[[str, int, int | None], None]
"""``progress(phase, done, total)``; total is None when unknown."""

_LIMIT_COLS = (
    "max_height_cm",
    "max_width_cm",
    "max_length_cm",
    "max_weight_kg",
    "max_axle_load_kg",
)


@dataclass
class OsmImportResult:
    """What an import did.

    Attributes
    ----------
    load_run_id:
        The ``load_run`` row recording this import.
    dataset:
        The identity whose previous rows were replaced.
    sha256:
        Of the file.
    rows:
        Rows written per table.
    replaced:
        Rows of a previous load of the same dataset removed first, per table.
    seconds:
        Wall time of the import (reading + writing).
    report:
        The reader's :class:`~loaders.osm.LoadReport` (unparseable tags, warnings,
        rejections).
    """

    load_run_id: int
    dataset: str
    file: str
    sha256: str
    rows: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    report: LoadReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (``twin load osm --json``)."""
        rep = self.report.to_dict() if self.report else {}
        return {
            "load_run_id": self.load_run_id,
            "dataset": self.dataset,
            "file": self.file,
            "sha256": self.sha256,
            "rows": self.rows,
            "replaced": self.replaced,
            "seconds": round(self.seconds, 3),
            "unparseable": {k: v["count"] for k, v in rep.get("unparseable", {}).items()},
            "rejected": {k: v["count"] for k, v in rep.get("rejected", {}).items()},
            "warnings": {k: v["count"] for k, v in rep.get("warnings", {}).items()},
            "report": rep,
        }


def import_osm(
    conn: Connection,
    path: str | Path,
    *,
    dataset: str | None = None,
    region: Literal["any", "china"] = "any",
    bbox: tuple[float, float, float, float] | None = None,
    progress: Progress | None = None,
) -> OsmImportResult:
    """Load an OSM file into the twin inside ``conn``'s transaction.

    Parameters
    ----------
    conn:
        A connection; the import runs in a savepoint of its transaction and is rolled
        back as a whole on any error. The caller commits.
    path:
        ``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf``.
    dataset:
        Identity of the load whose previous rows are replaced (default
        ``osm:<sha256>``, i.e. the same file).
    region:
        ``any`` (outside-China coordinates are a warning) or ``china`` (an error).
    bbox:
        (min_lon, min_lat, max_lon, max_lat): nodes outside it are an error.
    progress:
        Called as ``progress(phase, done, total)``.

    Returns
    -------
    OsmImportResult

    Raises
    ------
    InputError
        Unreadable/corrupt file (with the element and, for XML, the line), unsupported
        suffix, no drivable roads, or a region/bbox violation.
    """
    t0 = time.perf_counter()
    path = Path(path)
    _check_path(path)
    _check_bbox(bbox)

    def read() -> OsmGraph:
        try:
            graph = read_osm_graph(
                path, progress=(lambda p, n: progress(p, n, None)) if progress else None
            )
        except OsmReadError as exc:
            raise InputError(
                str(exc), hint="the file is truncated, corrupt or not OSM XML/PBF; re-export it"
            ) from exc
        _check_network(graph, path, region=region, bbox=bbox)
        return graph

    with conn.begin_nested():
        result = _write(conn, read, path=path, dataset=dataset, progress=progress)
        result.seconds = time.perf_counter() - t0
        conn.execute(
            text("UPDATE load_run SET seconds = :s WHERE id = :i"),
            {"s": result.seconds, "i": result.load_run_id},
        )
    return result


# ----------------------------------------------------------------------------- checks


def _check_path(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such file", hint="give the path of an .osm/.osm.pbf file")
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise InputError(
            f"{path}: unsupported file type {''.join(path.suffixes) or '(none)'}",
            hint="OSM files end in " + ", ".join(SUFFIXES),
        )


def _check_bbox(bbox: tuple[float, float, float, float] | None) -> None:
    if bbox is None:
        return
    x0, y0, x1, y1 = bbox
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InputError(
            f"bbox {bbox}: expected min_lon,min_lat,max_lon,max_lat with min < max, "
            "longitudes in [-180, 180] and latitudes in [-90, 90]"
        )


def _check_network(
    net: OsmGraph,
    path: Path,
    *,
    region: str,
    bbox: tuple[float, float, float, float] | None,
) -> None:
    rep = net.report
    if not net.edge_count:
        raise InputError(
            f"{path}: no drivable road found ({rep.counts.get('ways_drivable', 0)} drivable "
            f"highway ways, 0 edges)",
            hint="the file needs ways tagged highway=motorway..residential/service/track "
            "whose nodes are in the file",
        )
    if region == "china" and "outside_china" in rep.warnings:
        issue = rep.warnings["outside_china"]
        raise InputError(
            f"{path}: {issue.count} node(s) lie outside China (e.g. {issue.examples[0]})",
            hint="check for swapped lat/lon, or load with region 'any'",
            details=rep.to_dict()["warnings"],
        )
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        lon, lat = net.nodes.lon, net.nodes.lat
        out = ~((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        if out.any():
            i = int(np.flatnonzero(out)[0])
            raise InputError(
                f"{path}: {int(out.sum())} node(s) lie outside the bbox {bbox}, e.g. "
                f"node/{net.nodes.osm_id[i]} at lon {lon[i]:.6f}, lat {lat[i]:.6f}",
                hint="widen --bbox or clip the file (osmium extract)",
            )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- writing


def _none(v: Any) -> Any:
    """NaN/NA -> None for COPY."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _columns(frame: Table, *names: str) -> Iterator[tuple[Any, ...]]:
    """Rows of ``frame``'s columns as plain Python values (faster than itertuples)."""
    return zip(*(frame[n].tolist() for n in names), strict=True)


def _int_or_none(v: Any) -> int | None:
    v = _none(v)
    return None if v is None else int(v)


def _ewkb(geoms: Iterable[Any]) -> list[str]:
    arr = shapely.set_srid(np.asarray(list(geoms), dtype=object), 4326)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


@dataclass
class _Previous:
    run_id: int | None
    ranges: dict[str, list[int]]


def _previous(conn: Connection, dataset: str) -> _Previous:
    row = conn.execute(
        text(
            "SELECT id, report FROM load_run WHERE kind = 'osm' "
            "AND report->>'dataset' = :d ORDER BY id DESC LIMIT 1"
        ),
        {"d": dataset},
    ).first()
    if row is None:
        return _Previous(None, {})
    return _Previous(int(row[0]), dict((row[1] or {}).get("id_ranges", {})))


def _delete_previous(conn: Connection, dataset: str, prev: _Previous) -> dict[str, int]:
    """Remove what the previous load of ``dataset`` wrote (assets are upserted later)."""
    d = {"d": dataset}
    out: dict[str, int] = {}
    for table, col in (("road_edge", "source"), ("road_node", "attrs")):
        rng = prev.ranges.get(table)
        where = f"{col}->>'dataset' = :d"
        params: dict[str, Any] = dict(d)
        if rng:
            where = f"id >= :lo AND id < :hi AND {where}"
            params.update(lo=rng[0], hi=rng[1])
        out[table] = conn.execute(text(f"DELETE FROM {table} WHERE {where}"), params).rowcount
    return out


def _sequences(conn: Connection, tables: Iterable[str]) -> dict[str, str | None]:
    """The id sequence of each table (one round trip)."""
    tables = list(tables)
    sql = ", ".join(f"pg_get_serial_sequence(:t{i}, 'id')" for i in range(len(tables)))
    row = conn.execute(text(f"SELECT {sql}"), {f"t{i}": t for i, t in enumerate(tables)}).one()
    return dict(zip(tables, row, strict=True))


def _allocate(
    conn: Connection, wanted: dict[str, int], prev: _Previous, seqs: dict[str, str | None]
) -> dict[str, int]:
    """First id of a block of ``n`` ids per table (``wanted``: table -> n): the previous
    load's block when it is big enough (so identical content gets identical ids), else a
    fresh block reserved by moving the table's id sequence past it (sequence updates are
    immediate, so a writer using the sequence meanwhile never lands inside our block).
    All tables in one statement: it runs while the calling thread builds the edges, and
    each round trip then waits for that thread to let go of the GIL (8 round trips cost
    0.1 s there)."""
    out: dict[str, int] = {}
    exprs: list[str] = []
    params: dict[str, Any] = {}
    todo: list[str] = []
    for i, (table, n) in enumerate(wanted.items()):
        rng = prev.ranges.get(table)
        if rng and rng[1] - rng[0] >= n:
            out[table] = int(rng[0])
            continue
        top = f'(SELECT COALESCE(max(id), 0) FROM "{table}")'
        seq = seqs.get(table)
        if seq is None or n <= 0:
            exprs.append(f"{top} + 1")
        else:
            exprs.append(
                f"setval(CAST(:s{i} AS regclass), GREATEST({top}, "
                f"(SELECT last_value FROM {seq})) + :n{i}) - :n{i} + 1"
            )
            params.update({f"s{i}": seq, f"n{i}": n})
        todo.append(table)
    if todo:
        row = conn.execute(text("SELECT " + ", ".join(exprs)), params).one()
        out.update({t: int(v) for t, v in zip(todo, row, strict=True)})
    return out


#: run the database steps on a worker thread (False: inline, for measurements)
THREADED = True


class _DbWorker:
    """Runs the import's database steps in order on one thread while the calling thread
    builds what the next steps need (PostgreSQL works on the other core meanwhile).

    Only one thread uses the connection at any time: the caller submits steps and
    touches the connection only after :meth:`wait`. On any error the remaining steps are
    cancelled and the running one finishes before the error propagates (so the
    savepoint's rollback never races a statement)."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="osm-import-db")
        self._futures: list[Any] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Queue ``fn(*args)`` (skipped when an earlier step failed); returns its future."""
        earlier = list(self._futures)

        def step() -> Any:
            if any(f.exception() is not None for f in earlier):
                raise RuntimeError("an earlier import step failed")
            return fn(*args)

        if not THREADED:  # the same steps on the calling thread (for comparisons)
            from concurrent.futures import Future

            fut: Any = Future()
            try:
                fut.set_result(step())
            except Exception as exc:
                fut.set_exception(exc)
            self._futures.append(fut)
            return fut
        fut = self._pool.submit(step)
        self._futures.append(fut)
        return fut

    def wait_for(self, event: threading.Event) -> None:
        """Wait until ``event`` is set or every queued step has ended (so an error in
        a step never leaves the caller waiting)."""
        while not event.wait(0.02):
            if all(f.done() for f in self._futures):
                return

    def result(self, fut: Any) -> Any:
        """``fut``'s result; on an error, the first failed step's error (as
        :meth:`wait`), not the "earlier step failed" of the steps after it."""
        try:
            return fut.result()
        except Exception:
            self.wait()
            raise

    def wait(self) -> None:
        """Wait for every queued step; re-raise the first error."""
        for fut in self._futures:
            fut.result()

    def __enter__(self) -> _DbWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=exc[0] is not None)


@contextmanager
def _quick_threads(seconds: float = 0.0005) -> Iterator[None]:
    """While the import runs: let a thread waiting for the GIL have it after
    ``seconds`` (0.5 ms; Python's default is 5 ms) -- the worker's every statement and COPY block needs the
    GIL for a moment while the calling thread parses, and with the default each of its
    ~40 round trips waited up to 5-10 ms, the server idle meanwhile -- and keep the
    cyclic garbage collector off: the reader allocates millions of containers that are
    all freed by reference counting, and the collector's passes over them found nothing
    (0.05 s of the 100k read). Both are process-wide, so they are restored on the way
    out (the CLI and the sample loader are the callers)."""
    if not THREADED:
        yield
        return
    previous = sys.getswitchinterval()
    collecting = gc.isenabled()
    sys.setswitchinterval(min(seconds, previous))
    gc.disable()
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
        if collecting:
            gc.enable()


@dataclass
class _State:
    """What the database steps of one import share."""

    path: Path
    dataset: str  # set by _hash when named by the file's hash
    sha: str = ""
    src: dict[str, Any] = field(default_factory=dict)
    prev: _Previous | None = None
    seqs: dict[str, str | None] = field(default_factory=dict)
    bulk: bool = False
    node_base: int = 0
    edge_base: int = 0
    road_ids: dict[int, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)
    ranges: dict[str, list[int]] = field(default_factory=dict)
    indexes: Any = None  # the deferred_indexes context, open between the graph steps
    edges_sent: threading.Event = field(default_factory=threading.Event)


def _write(
    conn: Connection,
    read: Callable[[], OsmGraph],
    *,
    path: Path,
    dataset: str | None,
    progress: Progress | None,
) -> OsmImportResult:
    """Read and write in stages, each database step queued on the DB worker as soon as
    its data exists: the file's hash is taken and the previous load removed while the
    file is read, the nodes go in while the edges are built, the edges while the assets
    are."""
    st = _State(path=path, dataset=dataset or "")

    def tick(phase: str, done: int, total: int | None) -> None:
        if progress is not None:
            progress(phase, done, total)

    with _DbWorker() as db, _quick_threads():
        # the hash on the worker (hashlib lets go of the GIL), its dataset name first
        db.submit(_hash, st, dataset is None)
        db.submit(_prepare, conn, st)
        graph = read()
        # ids first (the worker is idle by now), then road_node's COPY text built here,
        # handed over a block at a time, before read_osm_edges starts: built on the
        # worker, each block would wait for this thread's GIL (and the server for it)
        db.result(db.submit(_reserve_ids, conn, graph, st))
        node_text: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        blocks = _node_blocks(graph.nodes, st.node_base, st.dataset)
        if THREADED:
            db.submit(_write_graph, conn, graph, _drain(node_text), st, tick)
        try:
            for block in blocks:
                node_text.put(block)
        finally:
            node_text.put(None)  # always: the worker's COPY waits for it
        if not THREADED:  # steps run inline: the text has to be there first
            db.submit(_write_graph, conn, graph, _drain(node_text), st, tick)
        edges = read_osm_edges(graph)
        db.submit(_write_edges, conn, graph, edges, st, tick)
        # the edges' COPY text is built on the worker while PostgreSQL takes it; the
        # assets wait until that text is out, so the two threads do not take turns on
        # the GIL and starve the COPY (the server is the slower side from then on)
        db.wait_for(st.edges_sent)
        net = read_osm_assets(graph, edges)
        # the assets' and limits' rows are built here while the worker finishes the
        # edges' COPY and rebuilds their indexes
        prep = _Prepared(_asset_rows(net, st.src), _limit_rows(net.limits, st.src))
        done = db.submit(_write_assets, conn, net, prep, st, tick, path, st.sha)
        db.wait()
    result: OsmImportResult = done.result()
    return result


def _hash(st: _State, name_by_hash: bool) -> None:
    """The file's sha256; the dataset is ``osm:<sha256>`` unless the caller named it."""
    st.sha = _sha256(st.path)
    if name_by_hash:
        st.dataset = f"osm:{st.sha}"
    st.src = {"dataset": st.dataset, "file": st.path.name, "sha256": st.sha}


def _prepare(conn: Connection, st: _State) -> None:
    """Lock, remove the previous load of the dataset (while the file is read)."""
    # one OSM import at a time: two concurrent loads would allocate the same id ranges
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('twin.load.osm'))"))
    st.prev = _previous(conn, st.dataset)
    st.seqs = _sequences(conn, ("road_node", "road_edge"))
    st.replaced = _delete_previous(conn, st.dataset, st.prev)
    st.bulk = _can_skip_fk_triggers(conn)


def _reserve_ids(conn: Connection, graph: OsmGraph, st: _State) -> None:
    """Reserve the id blocks of road_node and road_edge."""
    prev = st.prev
    assert prev is not None
    nodes, n_edges = graph.nodes, graph.edge_count
    base = _allocate(conn, {"road_node": len(nodes), "road_edge": n_edges}, prev, st.seqs)
    st.node_base, st.edge_base = base["road_node"], base["road_edge"]
    st.ranges["road_node"] = [st.node_base, st.node_base + len(nodes)]
    st.ranges["road_edge"] = [st.edge_base, st.edge_base + n_edges]


def _write_graph(
    conn: Connection, graph: OsmGraph, node_text: Iterable[str], st: _State, tick: Progress
) -> None:
    """COPY road_node (``node_text``: :func:`_node_blocks`; its indexes deferred and
    rebuilt), defer road_edge's indexes."""
    from contextlib import ExitStack

    nodes, n_edges = graph.nodes, graph.edge_count
    # road_node's indexes are rebuilt right after its COPY (while the edges are still
    # being built); road_edge's are deferred until after the edges' COPY
    with deferred_indexes(conn, {"road_node": len(nodes)}):
        _bulk(conn, st.bulk, on=True)
        copy_text(
            conn,
            "road_node",
            ("id", "osm_id", "geom", "attrs"),
            node_text,
        )
        _bulk(conn, st.bulk, on=False)
    st.rows["road_node"] = len(nodes)
    st.indexes = ExitStack()
    st.indexes.enter_context(deferred_indexes(conn, {"road_edge": n_edges}))
    tick("road_node", st.rows["road_node"], len(nodes))


def _edge_source(st: _State) -> dict[str, Any]:
    """road_edge's ``source`` without ``sha256`` when the dataset already is
    ``osm:<sha256>``: the same facts in 70 fewer bytes on each of the (many) edges,
    which PostgreSQL parses into JSONB, stores and logs."""
    if st.dataset == f"osm:{st.src.get('sha256')}":
        return {k: v for k, v in st.src.items() if k != "sha256"}
    return st.src


def _write_edges(
    conn: Connection, graph: OsmGraph, edges: OsmEdges, st: _State, tick: Progress
) -> None:
    """Upsert roads, COPY road_edge, then rebuild the indexes deferred in
    :func:`_write_graph`."""
    st.road_ids = _upsert_roads(conn, edges.roads, st.src)  # by code
    st.rows["road"] = len(st.road_ids)
    if st.bulk:
        _check_edge_references(len(graph.nodes), edges.edges, st.road_ids)
    _bulk(conn, st.bulk, on=True)
    copy_text(
        conn,
        "road_edge",
        _EDGE_COLUMNS,
        _sent(
            _edge_blocks(
                edges.edges,
                edges.edge_lines,
                _edge_source(st),
                st.road_ids,
                st.edge_base,
                st.node_base,
            ),
            st.edges_sent,
        ),
    )
    st.rows["road_edge"] = len(edges.edges)
    _bulk(conn, st.bulk, on=False)
    st.indexes.close()  # rebuild the deferred indexes
    tick("road_edge", st.rows["road_edge"], len(edges.edges))


@dataclass
class _Prepared:
    """Rows of the asset staging table and of structure_limit, built on the calling
    thread (local ids; mapped to database ids when written)."""

    assets: list[tuple[Any, ...]]
    limits: list[tuple[Any, ...]]


def _write_assets(
    conn: Connection,
    net: OsmNetwork,
    prep: _Prepared,
    st: _State,
    tick: Progress,
    path: Path,
    sha: str,
) -> OsmImportResult:
    """Upsert assets, replace their OSM limits, link them to edges, finish the roads,
    record the load."""
    dataset, src, rows, replaced, road_ids = st.dataset, st.src, st.rows, st.replaced, st.road_ids
    assert st.prev is not None
    bulk, edge_base = st.bulk, st.edge_base
    # asset (upsert by external_id), structure_limit, asset_edge
    _bulk(conn, bulk, on=False)
    asset_ids = _upsert_assets(conn, net, src, road_ids, prep.assets)
    rows["asset"] = len(asset_ids)
    # OSM limits of every asset now in this dataset (re-loaded, taken over or stale) go;
    # limits from inspections, signs or engineers stay
    replaced["structure_limit"] = conn.execute(
        text(
            "DELETE FROM structure_limit sl USING asset a WHERE sl.asset_id = a.id "
            "AND sl.source_kind = 'osm' AND a.source->>'dataset' = :d"
        ),
        {"d": dataset},
    ).rowcount
    tick("asset", rows["asset"], len(net.assets))
    if bulk:
        _check_asset_references(net, asset_ids)
    _bulk(conn, bulk, on=True)
    rows["structure_limit"] = copy_rows(
        conn,
        "structure_limit",
        (
            "asset_id",
            "kind",
            "value",
            "value_text",
            "unlimited",
            "source_kind",
            "status",
            "direction",
            "conditional",
            "note",
            "source",
        ),
        ((asset_ids[r[0]], *r[1:]) for r in prep.limits),
    )
    rows["asset_edge"] = copy_rows(
        conn,
        "asset_edge",
        ("asset_id", "edge_id", "direction"),
        (
            (asset_ids[a], edge_base + e, d)
            for a, e, d in zip(
                net.asset_edges.asset.tolist(),
                net.asset_edges.edge.tolist(),
                net.asset_edges.direction.tolist(),
                strict=True,
            )
        ),
    )
    tick("structure_limit", rows["structure_limit"], len(net.limits))
    _bulk(conn, bulk, on=False)

    _finish_roads(conn, road_ids, dataset)
    for table in ("road_node", "road_edge"):
        reset_sequence(conn, table)
    report = net.report
    replaced["asset"], kept = _delete_stale_assets(conn, dataset, list(asset_ids.values()))
    if kept:
        issue = report.issue("warnings", "stale_assets_kept")
        issue.count = len(kept)
        issue.examples = kept[:5]
    body = {
        "dataset": dataset,
        "id_ranges": st.ranges,
        "rows": rows,
        "replaced": replaced,
        "previous_run": st.prev.run_id,
        **report.to_dict(),
    }
    run_id = conn.execute(
        text(
            "INSERT INTO load_run (kind, file_name, sha256, report) "
            "VALUES ('osm', :f, :s, CAST(:r AS jsonb)) RETURNING id"
        ),
        {"f": str(path), "s": sha, "r": json.dumps(body, ensure_ascii=False, default=str)},
    ).scalar_one()
    return OsmImportResult(
        load_run_id=int(run_id),
        dataset=dataset,
        file=str(path),
        sha256=sha,
        rows=rows,
        replaced=replaced,
        report=report,
    )


def _can_skip_fk_triggers(conn: Connection) -> bool:
    """True when we may set ``session_replication_role`` (superuser, as in the embedded
    cluster)."""
    return bool(
        conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    )


def _bulk(conn: Connection, enabled: bool, *, on: bool) -> None:
    """Switch per-row foreign-key triggers off (``on``) or back on for our COPYs.

    PostgreSQL checks a foreign key with one trigger call per inserted row; for the
    hundreds of thousands of edges of a network that costs more than the COPY itself.
    Every id we write comes from rows we have just written, so during our own COPYs we
    set ``session_replication_role = replica`` (the technique ``pg_restore
    --disable-triggers`` uses), scoped to this transaction with ``SET LOCAL``, and check
    before each COPY, on the frames, that every reference points at a row just written
    (:func:`_check_edge_references`, :func:`_check_asset_references`). Upserts of shared
    rows (roads, assets) run with triggers on.
    """
    if enabled:
        role = "replica" if on else "origin"
        conn.execute(text(f"SET LOCAL session_replication_role = {role}"))


def _check_edge_references(n: int, edges: Table, road_ids: dict[int, int]) -> None:
    """The foreign keys the skipped triggers would check for road_edge, checked on the
    frames: every edge's ``n`` nodes are among the nodes just written, its road was
    upserted."""
    ends = np.concatenate([edges["source"], edges["target"]])
    roads = edges["road"]
    known = np.fromiter(road_ids, dtype=np.int64, count=len(road_ids))
    if len(ends) and (ends.min() < 0 or ends.max() >= n):
        raise RuntimeError("OSM import: an edge refers to a node it did not write (a bug)")
    if not np.isin(roads[roads >= 0], known).all():
        raise RuntimeError("OSM import: an edge refers to a road it did not write (a bug)")


def _check_asset_references(net: OsmNetwork, asset_ids: dict[int, int]) -> None:
    """asset_edge's foreign keys, checked on the frames (see :func:`_bulk`)."""
    ae = net.asset_edges
    edge = ae["edge"]
    if len(edge) and (edge.min() < 0 or edge.max() >= len(net.edges)):
        raise RuntimeError("OSM import: an asset refers to an edge it did not write (a bug)")
    if not all(int(a) in asset_ids for a in ae["asset"].tolist()):
        raise RuntimeError("OSM import: a link refers to an asset it did not write (a bug)")


#: road_edge columns that follow from the way's tags alone (formatted once per distinct
#: combination, see :func:`_edge_text`)
_EDGE_SHARED_COLUMNS = (
    "road_id",
    "highway",
    "name",
    "ref",
    "speed_kmh",
    "oneway",
    "hgv",
    "hazmat",
    "tunnel_category",
    "is_bridge",
    "is_tunnel",
    "conditional",
)
_EDGE_COLUMNS = (
    "id",
    "source_node",
    "target_node",
    "osm_way_id",
    *_EDGE_SHARED_COLUMNS,
    "length_m",
    *_LIMIT_COLS,
    "geom",
    "source",
)


def _lines(cols: list[list[str]]) -> str:
    """COPY text of column lists (one join per block, no per-row Python call)."""
    return "\n".join(map("\t".join, zip(*cols, strict=True))) + "\n"


def _ints(values: np.ndarray) -> list[str]:
    return list(map(str, values.tolist()))


def _nullable_ints(col: np.ndarray) -> list[str]:
    """A float column of whole numbers as COPY text, NaN as NULL."""
    vals = np.asarray(col, dtype=float)
    out = [COPY_NULL] * len(vals)
    for i in np.flatnonzero(~np.isnan(vals)).tolist():
        out[i] = str(int(vals[i]))
    return out


def _text1(v: Any, *, limit: int | None = None, empty_null: bool = False) -> str:
    """One text value escaped for COPY (None/NaN -- and ``""`` with ``empty_null`` --
    as NULL)."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or (empty_null and not v):
        return COPY_NULL
    return copy_escape(str(v)[:limit])


_POINT_HEADER = np.frombuffer(bytes.fromhex("0101000020e6100000"), np.uint8)  # LE, SRID 4326


def _point_ewkb_hex(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """Hex EWKB of points (SRID 4326) built with numpy: what shapely's ``to_wkb(hex=True,
    include_srid=True)`` gives, without a GEOS geometry per point."""
    n = len(lon)
    buf = np.empty((n, 25), np.uint8)
    buf[:, :9] = _POINT_HEADER
    xy = np.empty((n, 2), "<f8")
    xy[:, 0], xy[:, 1] = lon, lat
    buf[:, 9:] = xy.view(np.uint8).reshape(n, 16)
    text = buf.tobytes().hex()
    return [text[i : i + 50] for i in range(0, 50 * n, 50)]


def _node_blocks(
    nodes: Table, node_base: int, dataset: str, *, chunk: int = 20_000
) -> Iterator[str]:
    """COPY text for road_node, a chunk at a time (points as hex EWKB)."""
    attrs = copy_escape(json.dumps({"dataset": dataset}, ensure_ascii=False))
    lon, lat, osm = nodes.lon, nodes.lat, nodes.osm_id
    for lo in range(0, len(nodes), chunk):
        hi = min(lo + chunk, len(nodes))
        wkb = _point_ewkb_hex(lon[lo:hi], lat[lo:hi])
        yield _lines(
            [
                _ints(np.arange(lo, hi) + node_base),
                _ints(osm[lo:hi]),
                wkb,
                [attrs] * (hi - lo),
            ]
        )


def _drain(blocks: queue.SimpleQueue[str | None]) -> Iterator[str]:
    """The blocks put on ``blocks`` until a None."""
    while (block := blocks.get()) is not None:
        yield block


def _sent(blocks: Iterable[str], event: threading.Event) -> Iterator[str]:
    """``blocks``, setting ``event`` once the last one has been built."""
    yield from blocks
    event.set()


def _edge_blocks(
    edges: Table,
    lines: EdgeLines,
    src: dict[str, Any],
    road_ids: dict[int, int],
    edge_base: int,
    node_base: int,
    *,
    chunk: int = 5_000,
) -> Iterator[str]:
    """COPY text for road_edge, built column-wise a chunk at a time (bounded memory)."""
    prefix = copy_escape(json.dumps(src, ensure_ascii=False)[:-1] + ', "osm": "way/')
    for lo in range(0, len(edges), chunk):
        part = edges.take(slice(lo, lo + chunk))
        wkb = lines.ewkb_hex(lo, lo + len(part))
        yield _edge_text(part, wkb, prefix, road_ids, edge_base, node_base)


def _edge_text(
    edges: Table,
    wkb: list[str],
    prefix: str,
    road_ids: dict[int, int],
    edge_base: int,
    node_base: int,
) -> str:
    """COPY text of ``edges``. The columns a way's tags decide (road, class, name,
    speed, access, conditional limits...) repeat along a road, so they are formatted
    once per group (the loader's ``group`` column) as one tab-joined piece."""
    group = edges["group"]
    groups, first, inverse = np.unique(group, return_index=True, return_inverse=True)
    # the reader's edge table names road_edge's road_id column "road"
    cols = [edges[c][first].tolist() for c in ("road", *_EDGE_SHARED_COLUMNS[1:])]
    pieces = np.array([_edge_piece(k, road_ids) for k in zip(*cols, strict=True)] or [""])
    shared = pieces[inverse].tolist() if len(groups) else []
    rev = edges["reversed"].tolist()
    ways = edges["osm_way_id"].tolist()
    source = [
        f'{prefix}{w}", "reversed": true}}' if r else f'{prefix}{w}"}}'
        for w, r in zip(ways, rev, strict=True)
    ]
    return _lines(
        [
            _ints(edges["id"] + edge_base),
            _ints(edges["source"] + node_base),
            _ints(edges["target"] + node_base),
            list(map(str, ways)),
            shared,
            list(map(repr, edges["length_m"].astype(float).tolist())),
            *(_nullable_ints(edges[c]) for c in _LIMIT_COLS),
            wkb,
            source,
        ]
    )


def _edge_piece(key: tuple[Any, ...], road_ids: dict[int, int]) -> str:
    """The tab-joined text of :data:`_EDGE_SHARED_COLUMNS` for one group of edges."""
    road, highway, name, ref, speed, oneway, hgv, hazmat, tcat, bridge, tunnel, cond = key
    rid = road_ids.get(road)
    return "\t".join(
        (
            COPY_NULL if rid is None else str(rid),
            _text1(highway),
            _text1(name),
            _text1(ref, limit=64, empty_null=True),
            repr(float(speed)),
            "t" if oneway else "f",
            _text1(hgv),
            _text1(hazmat),
            _text1(tcat),
            "t" if bridge else "f",
            "t" if tunnel else "f",
            copy_escape(json.dumps(cond, ensure_ascii=False)) if cond else "{}",
        )
    )


def _upsert_roads(conn: Connection, roads: Table, src: dict[str, Any]) -> dict[int, int]:
    """Insert or reuse ``road`` rows by code; returns local road index -> road.id."""
    if not len(roads):
        return {}
    codes, zh, en, cls = (
        [_none(v) for v in roads[c].tolist()] for c in ("code", "name_zh", "name_en", "road_class")
    )
    # one statement over arrays (not one INSERT per road): in file order, so ids follow it
    conn.execute(
        text(
            "INSERT INTO road (code, name_zh, name_en, road_class, stake_start_m, chain_breaks, "
            "source) SELECT code, zh, en, cls, 0, '[]'::jsonb, CAST(:src AS jsonb) "
            "FROM unnest(CAST(:codes AS text[]), CAST(:zh AS text[]), CAST(:en AS text[]), "
            "CAST(:cls AS text[])) WITH ORDINALITY AS r(code, zh, en, cls, n) ORDER BY n "
            "ON CONFLICT (code) DO UPDATE SET "
            "name_zh = COALESCE(road.name_zh, EXCLUDED.name_zh), "
            "name_en = COALESCE(road.name_en, EXCLUDED.name_en), "
            "road_class = CASE WHEN road.source->>'dataset' = EXCLUDED.source->>'dataset' "
            "THEN EXCLUDED.road_class ELSE road.road_class END"
        ),
        {
            "codes": codes,
            "zh": zh,
            "en": en,
            "cls": cls,
            "src": json.dumps(src, ensure_ascii=False),
        },
    )
    found = conn.execute(
        text("SELECT code, id FROM road WHERE code = ANY(:codes)"),
        {"codes": roads.code.tolist()},
    ).all()
    by_code = {c: int(i) for c, i in found}
    return {int(i): by_code[c] for i, c in zip(roads.id.tolist(), roads.code.tolist(), strict=True)}


def _finish_roads(conn: Connection, road_ids: dict[int, int], dataset: str) -> None:
    """Road geometry = its edges collected, for roads this dataset created (a curated
    centreline with a stake measure from elsewhere is kept); roads of the dataset left
    without edges or assets are removed."""
    if road_ids:
        # each road's edges collected in id order, one index scan per road: the plan
        # cannot turn (as the former WITH ... UPDATE FROM did now and then, right after
        # the edges' COPY, when the statistics still say the tables are empty) into a
        # nested loop re-reading every collected geometry for every road (1.3 s instead
        # of 0.3 s on 100k edges). The megabytes of road geometry are TOASTed with lz4
        # where the server has it (several times faster than the default pglz to
        # compress; read back the same).
        toast = {"default_toast_compression": "lz4"} if _has_lz4(conn) else {}
        with local_settings(conn, **toast):
            conn.execute(
                text(
                    "UPDATE road r SET geom = (SELECT ST_Multi(ST_Collect(e.geom ORDER BY e.id))"
                    " FROM road_edge e WHERE e.road_id = r.id) "
                    "WHERE r.id = ANY(:ids) AND (r.geom IS NULL OR r.source->>'dataset' = :d) "
                    "AND COALESCE(r.source->>'centreline', 'false') <> 'true' "
                    "AND EXISTS (SELECT 1 FROM road_edge e WHERE e.road_id = r.id)"
                ),
                {"ids": sorted(set(road_ids.values())), "d": dataset},
            )
        # a stake centreline (twin load stakes) is kept; its new edges get their stakes
        ids = sorted(set(road_ids.values()))
        if conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM road WHERE id = ANY(:ids) AND geom IS NOT NULL "
                "AND COALESCE(source->>'centreline', 'false') = 'true')"
            ),
            {"ids": ids},
        ).scalar():
            from twin.services import road_stakes  # lazy: only when a road has stakes

            road_stakes.restake(conn, ids)
    conn.execute(
        text(
            "DELETE FROM road r WHERE r.source->>'dataset' = :d "
            "AND COALESCE(r.source->>'centreline', 'false') <> 'true' "
            "AND NOT EXISTS (SELECT 1 FROM road_edge e WHERE e.road_id = r.id) "
            "AND NOT EXISTS (SELECT 1 FROM asset a WHERE a.road_id = r.id)"
        ),
        {"d": dataset},
    )


def _has_lz4(conn: Connection) -> bool:
    """Whether the server was built with lz4 TOAST compression."""
    return bool(
        conn.execute(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        ).scalar()
    )


def _asset_rows(net: OsmNetwork, src: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows for the asset staging table, with the *local* road index in the road_id slot
    (mapped when written: the road ids exist only once the roads are upserted)."""
    assets = net.assets
    code_of = dict(zip(net.roads.id.tolist(), net.roads.code.tolist(), strict=True))
    wkb = _ewkb(assets.geom.tolist())
    return [
        (
            local,
            ext,
            kind,
            _none(zh),
            _none(en),
            road,
            code_of.get(road),
            wkb[i],
            json.dumps(attrs, ensure_ascii=False),
            json.dumps({**src, "osm": str(ext).removeprefix("osm:")}, ensure_ascii=False),
        )
        for i, (local, ext, kind, zh, en, road, attrs) in enumerate(
            _columns(
                assets, "id", "external_id", "kind", "name_zh", "name_en", "road", "attributes"
            )
        )
    ]


def _upsert_assets(
    conn: Connection,
    net: OsmNetwork,
    src: dict[str, Any],
    road_ids: dict[int, int],
    rows: list[tuple[Any, ...]] | None = None,
) -> dict[int, int]:
    """Stage assets with COPY, then upsert by external_id; returns local -> asset.id.
    ``rows``: :func:`_asset_rows`, when already built."""
    assets = net.assets
    if not len(assets):
        return {}
    conn.execute(
        text(
            "CREATE TEMP TABLE _osm_asset (local_id int, external_id text, kind text, "
            "name_zh text, name_en text, road_id int, road_code text, geom geometry, "
            "attributes jsonb, source jsonb) ON COMMIT DROP"
        )
    )
    rows = _asset_rows(net, src) if rows is None else rows
    copy_rows(
        conn,
        "_osm_asset",
        (
            "local_id",
            "external_id",
            "kind",
            "name_zh",
            "name_en",
            "road_id",
            "road_code",
            "geom",
            "attributes",
            "source",
        ),
        ((*r[:5], road_ids.get(r[5]), *r[6:]) for r in rows),
    )
    got = conn.execute(
        text(
            "INSERT INTO asset (external_id, kind, name_zh, name_en, road_id, road_code, geom, "
            "attributes, lifecycle_state, source) "
            "SELECT external_id, kind, name_zh, name_en, road_id, road_code, geom, attributes, "
            "'in_service', source FROM _osm_asset ORDER BY local_id "
            "ON CONFLICT (external_id) DO UPDATE SET kind = EXCLUDED.kind, "
            "name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, road_id = EXCLUDED.road_id, "
            "road_code = EXCLUDED.road_code, geom = EXCLUDED.geom, "
            "attributes = asset.attributes || EXCLUDED.attributes, source = EXCLUDED.source, "
            "updated_at = now() "
            "RETURNING id, external_id"
        )
    ).all()
    by_ext = {e: int(i) for i, e in got}
    conn.execute(text("DROP TABLE _osm_asset"))
    return {
        int(i): by_ext[e]
        for i, e in zip(assets.id.tolist(), assets.external_id.tolist(), strict=True)
    }


def _delete_stale_assets(
    conn: Connection, dataset: str, keep_ids: list[int]
) -> tuple[int, list[str]]:
    """Delete assets an earlier load of ``dataset`` wrote that this file no longer has,
    unless an inspection, a work order or a non-OSM limit refers to them.

    Returns the number deleted and the external ids of stale assets kept."""
    params = {"d": dataset, "keep": keep_ids}
    # NOT EXISTS over unnest: a hashed anti-join (NOT (id = ANY(:keep)) scans the
    # thousands of kept ids for every asset: 35 ms per statement on 3,000 assets)
    not_kept = "NOT EXISTS (SELECT 1 FROM unnest(CAST(:keep AS int[])) k(id) WHERE k.id = a.id)"
    deleted = conn.execute(
        text(
            f"DELETE FROM asset a WHERE a.source->>'dataset' = :d AND {not_kept} "
            "AND NOT EXISTS (SELECT 1 FROM inspection i WHERE i.asset_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM work_order w WHERE w.asset_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM structure_limit s WHERE s.asset_id = a.id "
            "AND s.source_kind <> 'osm')"
        ),
        params,
    ).rowcount
    kept = conn.execute(
        text(
            "SELECT external_id FROM asset a WHERE a.source->>'dataset' = :d "
            f"AND {not_kept} ORDER BY external_id"
        ),
        params,
    ).scalars()
    return deleted, list(kept)


def _limit_rows(limits: Table, src: dict[str, Any]) -> list[tuple[Any, ...]]:
    """structure_limit rows with the asset's *local* id first (mapped when written)."""
    cols = ("asset", "kind", "value", "value_text", "unlimited", "status", "direction")
    out = []
    for (asset, kind, value, vtext, unlimited, status, direction), (cond, note, key, raw) in zip(
        _columns(limits, *cols), _columns(limits, "conditional", "note", "key", "raw"), strict=True
    ):
        out.append(
            (
                asset,
                kind,
                _int_or_none(value),
                _none(vtext),
                bool(unlimited),
                "osm",
                status,
                direction,
                _none(cond),
                _none(note),
                json.dumps({**src, "key": key, "raw": _none(raw)}, ensure_ascii=False),
            )
        )
    return out
