"""OSM import: ``twin load osm`` against osm2pgsql, osm2pgrouting and a naive osmnx path.

Same files, same run, round-robin repeats (so load drift on the shared machine hits every
tool alike), medians. Every tool runs as a child process under ``/usr/bin/time`` and is
measured the same way: wall seconds end to end, peak resident memory and the CPU seconds
(user + sys) of its own process -- the database server's work is in the wall time only,
for every tool alike; on a shared machine CPU seconds are the steadier comparison. Ours is
``import_osm`` called in a fresh Python process (so the figure includes starting Python
and importing pandas/shapely/osmium/SQLAlchemy); on Monaco the full ``twin load osm`` CLI
is timed too (``ours_cli``: it also imports every other command group). The in-process
import time the service reports is shown beside them.

Files:
  * ``monaco.osm.pbf`` from ../shared/data (ours and osm2pgsql read the PBF; osm2pgrouting
    and osmnx read only XML, so they get the same data converted to ``.osm`` by pyosmium,
    and ours is timed on that XML too);
  * a generated ~100k-edge network (``loaders.synthetic`` seed 1, written by
    ``loaders.osm_write``) as OSM XML, read by all four.

Each tool writes into its own scratch database created in the embedded cluster and
dropped at the end, and every run starts from empty tables: osm2pgsql ``--create`` and
osm2pgrouting ``--clean`` drop theirs, and our tables are truncated (untimed) before each
of our runs, so every figure is a first import. Tools: osm2pgsql (``--create``, default style), osm2pgrouting
(``--clean``, ``mapconfig_for_cars.xml``), naive = ``osmnx.graph_from_xml`` (defaults) +
``graph_to_gdfs`` + ``GeoDataFrame.to_postgis`` for edges and nodes.

Usage: ``python bench/bench_osm.py [--repeat 3] [--naive-repeat 1] [--edges 100000]``;
while iterating, ``--files synthetic --tools ours,osm2pgsql`` times just those (no JSON
line).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _common import OUT, ROOT, SHARED_DATA, cpu_info, emit

PY = sys.executable
TIME = "/usr/bin/time"
MAPCONFIG = next(
    (
        p
        for p in (
            "/usr/share/osm2pgrouting/mapconfig_for_cars.xml",
            "/usr/share/osm2pgrouting/mapconfig.xml",
        )
        if Path(p).exists()
    ),
    "/usr/share/osm2pgrouting/mapconfig.xml",
)
PREFIX = "roadtwin_bench_osm_"
OUR_TABLES = (
    "road",
    "road_node",
    "road_edge",
    "asset",
    "structure_limit",
    "asset_edge",
    "load_run",
)

LEAN = r"""
import json, sys, time
from sqlalchemy import create_engine
from twin.services.osm_import import import_osm
eng = create_engine(sys.argv[2])
with eng.begin() as conn:
    res = import_osm(conn, sys.argv[1])
print(json.dumps({"seconds": res.seconds, "rows": res.rows}))
"""

NAIVE = r"""
import sys, osmnx as ox
from sqlalchemy import create_engine
path, url = sys.argv[1], sys.argv[2]
G = ox.graph_from_xml(path)
nodes, edges = ox.graph_to_gdfs(G)
def flat(df):
    for c in df.columns:
        if df[c].dtype == object and c != "geometry":
            df[c] = df[c].map(lambda v: str(v) if isinstance(v, (list, set, dict)) else v)
    return df
eng = create_engine(url)
flat(edges.reset_index()).to_postgis("naive_edges", eng, if_exists="replace")
flat(nodes.reset_index()).to_postgis("naive_nodes", eng, if_exists="replace")
print(len(edges))
"""


@dataclass
class Runs:
    """Measurements of one tool on one file."""

    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    inner_seconds: list[float] = field(default_factory=list)
    edges: int | None = None

    def median(self, what: str = "seconds") -> float:
        vals = getattr(self, what)
        return statistics.median(vals) if vals else float("nan")


def _timed(cmd: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, str, float]:
    """Run ``cmd`` under /usr/bin/time: (wall s, peak RSS MB, stdout, user+sys CPU s).

    The CPU figure is the tool's own process (its threads included), not the database
    server's work, for every tool alike; on a loaded machine it moves far less than the
    wall time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-f", "%M %U %S", "-o", tf.name, *cmd],
            capture_output=True,
            text=True,
            env=env,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr[-2000:]}"
            )
        kb, user, system = map(float, tf.read().strip().splitlines()[-1].split())
    return wall, kb / 1024.0, proc.stdout, user + system


class Cluster:
    """Scratch databases in the embedded cluster."""

    def __init__(self) -> None:
        from twin.cluster import Cluster as TwinCluster
        from twin.settings import Settings

        self.settings = Settings()
        self.cluster = TwinCluster(self.settings)
        self.cluster.start()
        self.port = self.cluster.port()
        self.user = self.settings.pg_superuser
        self.created: list[str] = []

    def create(self, name: str, *, migrate: bool = False) -> str:
        self.drop(name)
        self.cluster.ensure_database(name)
        self.created.append(name)
        url = self.cluster.url(name)
        if migrate:
            from twin import db as dbm

            dbm.migrate(self.settings, url=url)
            dbm.dispose_engines()
        return url

    def truncate(self, name: str, tables: tuple[str, ...]) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user={self.user} dbname={name}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")

    def drop(self, name: str) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        for name in self.created:
            self.drop(name)


def _xml_of(pbf: Path, dst: Path) -> Path:
    import osmium

    if not dst.exists():
        with osmium.SimpleWriter(str(dst)) as w:
            for obj in osmium.FileProcessor(str(pbf)):
                w.add(obj)
    return dst


def _generated(edges: int, dst: Path) -> Path:
    if dst.exists():
        return dst
    from loaders.osm_write import write_osm_xml
    from loaders.synthetic import generate_network

    return write_osm_xml(generate_network(edges=edges, seed=1), dst)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-repeat", type=int, default=1)
    ap.add_argument("--edges", type=int, default=100_000)
    ap.add_argument("--skip-naive", action="store_true", help="skip the slow osmnx path")
    ap.add_argument(
        "--files",
        default="monaco,synthetic",
        help="comma list of monaco,synthetic (while iterating: synthetic)",
    )
    ap.add_argument(
        "--tools",
        default="",
        help="comma list of tools to run (e.g. ours,osm2pgsql); default all. "
        "The JSON line is emitted only for a full run.",
    )
    args = ap.parse_args()
    for exe in ("osm2pgsql", "osm2pgrouting"):
        if shutil.which(exe) is None:
            sys.exit(f"{exe} is not installed (apt-get install {exe})")
    OUT.mkdir(parents=True, exist_ok=True)
    monaco_pbf = SHARED_DATA / "monaco.osm.pbf"
    if not monaco_pbf.exists():
        sys.exit(f"{monaco_pbf} is absent: the benchmark needs ../shared/data")
    monaco_xml = _xml_of(monaco_pbf, OUT / "monaco.osm")
    synth = _generated(args.edges, OUT / f"synthetic_{args.edges // 1000}k.osm")

    # the project's bytecode, as an install (pip compiles it) has it: with
    # PYTHONDONTWRITEBYTECODE set (as in this sandbox) every timed process would
    # otherwise compile twin/ and loaders/ from source first (~0.1 s); site-packages
    # (SQLAlchemy, osmnx...) are compiled already, for every tool alike
    for pkg in ("twin", "loaders"):
        compileall.compile_dir(ROOT / pkg, quiet=1)
    cl = Cluster()
    urls = {
        "ours": cl.create(PREFIX + "ours", migrate=True),
        "osm2pgsql": cl.create(PREFIX + "osm2pgsql"),
        "osm2pgrouting": cl.create(PREFIX + "osm2pgrouting"),
        "naive": cl.create(PREFIX + "naive"),
    }
    env = {**os.environ, "TWIN_DATABASE_URL": urls["ours"]}
    db = {k: v.rsplit("/", 1)[1] for k, v in urls.items()}
    conn_args = ["-H", "127.0.0.1", "-P", str(cl.port), "-U", cl.user]

    def ours(path: Path, *, cli: bool = False) -> Callable[[Runs], None]:
        cmd = [PY, "-m", "twin", "load", "osm", str(path), "--json"]
        if not cli:  # the service in a fresh process: what `twin load sample` and scripts pay
            cmd = [PY, "-c", LEAN, str(path), urls["ours"]]

        def run(r: Runs) -> None:
            cl.truncate(db["ours"], OUR_TABLES)
            wall, mb, out, cpu = _timed(cmd, env=env)
            rep = json.loads(out)
            r.seconds.append(wall)
            r.cpu_seconds.append(cpu)
            r.peak_mb.append(mb)
            r.inner_seconds.append(float(rep["seconds"]))
            r.edges = int(rep["rows"]["road_edge"])

        return run

    def osm2pgsql(path: Path) -> Callable[[Runs], None]:
        def run(r: Runs) -> None:
            wall, mb, _, cpu = _timed(
                ["osm2pgsql", "--create", "-d", db["osm2pgsql"], *conn_args, str(path)]
            )
            r.seconds.append(wall)
            r.cpu_seconds.append(cpu)
            r.peak_mb.append(mb)

        return run

    def osm2pgrouting(path: Path) -> Callable[[Runs], None]:
        def run(r: Runs) -> None:
            cmd = [
                "osm2pgrouting",
                "-f",
                str(path),
                "-c",
                MAPCONFIG,
                "--clean",
                "-d",
                db["osm2pgrouting"],
                "-h",
                "127.0.0.1",
                "-p",
                str(cl.port),
                "-U",
                cl.user,
            ]
            wall, mb, _, cpu = _timed(cmd)
            r.seconds.append(wall)
            r.cpu_seconds.append(cpu)
            r.peak_mb.append(mb)

        return run

    def naive(path: Path) -> Callable[[Runs], None]:
        def run(r: Runs) -> None:
            wall, mb, out, cpu = _timed([PY, "-c", NAIVE, str(path), urls["naive"]])
            r.seconds.append(wall)
            r.cpu_seconds.append(cpu)
            r.peak_mb.append(mb)
            r.edges = int(out.strip().splitlines()[-1])

        return run

    plans: dict[str, list[tuple[str, Callable[[Runs], None], int]]] = {
        "monaco": [
            ("ours", ours(monaco_pbf), args.repeat),
            ("ours_xml", ours(monaco_xml), args.repeat),
            ("ours_cli", ours(monaco_pbf, cli=True), args.repeat),
            ("osm2pgsql", osm2pgsql(monaco_pbf), args.repeat),
            ("osm2pgrouting", osm2pgrouting(monaco_xml), args.repeat),
        ],
        "synthetic": [
            ("ours", ours(synth), args.repeat),
            ("osm2pgsql", osm2pgsql(synth), args.repeat),
            ("osm2pgrouting", osm2pgrouting(synth), args.repeat),
        ],
    }
    if not args.skip_naive:
        plans["monaco"].append(("naive", naive(monaco_xml), args.naive_repeat))
        plans["synthetic"].append(("naive", naive(synth), args.naive_repeat))
    files = set(args.files.split(","))
    tools = set(args.tools.split(",")) if args.tools else None
    plans = {
        name: [p for p in plan if tools is None or p[0] in tools]
        for name, plan in plans.items()
        if name in files
    }
    results: dict[str, dict[str, Runs]] = {}
    try:
        for name, plan in plans.items():
            res = results[name] = {tool: Runs() for tool, _, _ in plan}
            for i in range(max(n for _, _, n in plan)):  # round robin
                for tool, run, n in plan:
                    if i < n:
                        run(res[tool])
                        print(
                            f"  {name:9s} {tool:14s} run {i + 1}: {res[tool].seconds[-1]:7.2f} s "
                            f"{res[tool].peak_mb[-1]:7.0f} MB {res[tool].cpu_seconds[-1]:6.2f} s CPU",
                            flush=True,
                        )
    finally:
        cl.drop_all()

    figures: dict[str, object] = {"machine": cpu_info()}
    for name, res in results.items():
        print(f"\n== {name} ({'monaco.osm.pbf' if name == 'monaco' else synth.name})")
        print(f"{'tool':14s} {'median s':>9s} {'in-proc s':>9s} {'CPU s':>7s} {'peak MB':>8s}")
        for tool, r in res.items():
            inner = f"{r.median('inner_seconds'):9.2f}" if r.inner_seconds else f"{'':9s}"
            print(
                f"{tool:14s} {r.median():9.2f} {inner} {r.median('cpu_seconds'):7.2f} "
                f"{r.median('peak_mb'):8.0f}"
            )
        if "osm2pgsql" in res and "ours" in res:
            print(f"ours/osm2pgsql {res['ours'].median() / res['osm2pgsql'].median():.2f}")
        if tools is not None or len(results) < 2:
            continue
        ours_s = res["ours"].median()
        ours_xml_s = res.get("ours_xml", res["ours"]).median()
        f: dict[str, object] = {
            "edges": res["ours"].edges,
            "seconds": round(ours_s, 3),
            "inprocess_seconds": round(res["ours"].median("inner_seconds"), 3),
            "osm2pgsql_seconds": round(res["osm2pgsql"].median(), 3),
            "osm2pgrouting_seconds": round(res["osm2pgrouting"].median(), 3),
            "naive_seconds": round(res["naive"].median(), 3) if "naive" in res else None,
            "peak_mb": round(res["ours"].median("peak_mb"), 1),
            "cpu_seconds": {t: round(r.median("cpu_seconds"), 2) for t, r in res.items()},
            "osm2pgsql_peak_mb": round(res["osm2pgsql"].median("peak_mb"), 1),
            "osm2pgrouting_peak_mb": round(res["osm2pgrouting"].median("peak_mb"), 1),
            "naive_peak_mb": round(res["naive"].median("peak_mb"), 1) if "naive" in res else None,
            "vs_osm2pgsql": round(ours_s / res["osm2pgsql"].median(), 2),
            "osm2pgrouting_over_ours": round(res["osm2pgrouting"].median() / ours_xml_s, 2),
            "naive_over_ours": round(res["naive"].median() / ours_xml_s, 1)
            if "naive" in res
            else None,
            "repeats": args.repeat,
            "naive_repeats": args.naive_repeat,
        }
        if "ours_xml" in res:
            f["xml_seconds"] = round(ours_xml_s, 3)
        if "ours_cli" in res:
            f["cli_seconds"] = round(res["ours_cli"].median(), 3)
            f["cli_peak_mb"] = round(res["ours_cli"].median("peak_mb"), 1)
        print(
            f"ratios: ours/osm2pgsql {f['vs_osm2pgsql']} (target <= 2), "
            f"osm2pgrouting/ours {f['osm2pgrouting_over_ours']} (target > 1), "
            f"naive/ours {f['naive_over_ours']} (target >= 10), peak MB ours {f['peak_mb']} vs "
            f"osm2pgrouting {f['osm2pgrouting_peak_mb']} (target below)"
        )
        figures[name] = f
    if tools is not None or len(results) < 2:
        return  # a partial run (iterating): no JSON line
    monaco = figures["monaco"]
    assert isinstance(monaco, dict)
    emit(
        "osm",
        {
            **monaco,
            "file": "monaco.osm.pbf",
            "machine": cpu_info(),
            "synthetic": figures["synthetic"],
        },
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
