"""IFC import throughput against IfcOpenShell's bare geometry iterator.

For each of the larger shared files (AC20-FZK-Haus.ifc, duplex.ifc) and each repeat,
two fresh child processes (so each peak RSS is its own) run, in alternating order:

- ``iterator``: the peer. ``ifcopenshell.open`` + ``ifcopenshell.geom.iterator`` with
  the same settings and thread count as the import (``os.cpu_count()``), touching every
  shape's vertex and index buffers; nothing else.
- ``import``: ``twin.services.bim.import_ifc`` end to end: STEP scan and sha256, open,
  elements with property sets and quantities, triangulation streamed to a GLB,
  georeference and footprint, COPY into PostGIS, proposed limits — in a transaction
  rolled back afterwards (so every repeat really imports).

Prints medians per file, the throughput ratio (iterator seconds / import seconds; the
target is >= 0.9, i.e. our overhead under 10 %), elements/s, MB/s and peak memory,
and ends with one JSON line. IfcConvert is not installable here (no apt/PyPI package),
so the bare iterator — the same engine IfcConvert drives — is the peer.

Run: ``make bench-ifc`` or ``.venv/bin/python bench/bench_ifc.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, SHARED_DATA, cpu_info, emit, peak_rss_mb

FILES = ("AC20-FZK-Haus.ifc", "duplex.ifc")


def _preload() -> None:
    """Import the heavy modules before timing, in both workers alike."""
    import ifcopenshell
    import ifcopenshell.geom
    import ifcopenshell.util.element
    import ifcopenshell.util.geolocation
    import ifcopenshell.util.unit  # noqa: F401
    import numpy  # noqa: F401
    import pyproj  # noqa: F401
    import shapely  # noqa: F401


def _worker_iterator(path: Path, threads: int) -> dict[str, Any]:
    _preload()
    import ifcopenshell
    import numpy as np

    from loaders.ifc_glb import iter_shapes

    c0 = _cpu()
    t0 = time.perf_counter()
    f = ifcopenshell.open(str(path))
    shapes = verts = 0
    for shape in iter_shapes(f, threads=threads):
        g = shape.geometry
        verts += len(np.frombuffer(g.verts_buffer, dtype=np.float64)) // 3
        len(np.frombuffer(g.faces_buffer, dtype=np.int32))
        shapes += 1
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu() - c0,
        "shapes": shapes,
        "vertices": verts,
    }


def _cpu() -> float:
    """CPU seconds (user + system, all threads) of this process so far: unlike wall time,
    hardly moved by other load on the machine."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker_import(path: Path, threads: int) -> dict[str, Any]:
    _preload()
    import hashlib

    from sqlalchemy import text

    from twin import db as dbm
    from twin.services import bim
    from twin.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-ifc-") as home:
        base = Settings()
        url = dbm.database_url(base)  # the project's database; GLBs go to a temp home
        settings = base.model_copy(update={"database_url": url, "home": Path(home)})
        engine = dbm.get_engine(settings)
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                # a model already imported from this file would make the import a no-op:
                # remove it inside the transaction (the rollback restores it)
                sha = hashlib.sha256(path.read_bytes()).hexdigest()
                conn.execute(text("DELETE FROM bim_model WHERE file_sha256 = :s"), {"s": sha})
                c0 = _cpu()
                t0 = time.perf_counter()
                rep = bim.import_ifc(conn, path, settings=settings, threads=threads)
                seconds = time.perf_counter() - t0
                cpu_seconds = _cpu() - c0
            finally:
                trans.rollback()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "shapes": rep["shapes"],
        "elements": rep["elements"],
        "vertices": rep["vertices"],
    }


def _run_child(kind: str, path: Path, threads: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--file",
        str(path),
        "--threads",
        str(threads),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if res.returncode != 0:
        raise SystemExit(f"{kind} worker failed on {path.name}:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--worker", choices=("iterator", "import"))
    ap.add_argument("--file", type=Path)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--files", nargs="+", default=list(FILES), help="shared IFC file names")
    args = ap.parse_args()
    if args.worker:
        fn = _worker_iterator if args.worker == "iterator" else _worker_import
        out = fn(args.file, args.threads)
        out["peak_mb"] = peak_rss_mb()
        print(json.dumps(out))
        return

    paths = [SHARED_DATA / f for f in args.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"shared IFC files missing: {', '.join(map(str, missing))}")
    threads = args.threads
    print(
        f"IFC import vs bare IfcOpenShell geometry iterator; {cpu_info()}, threads={threads}, "
        f"{args.repeat} repeats, medians"
    )
    per_file: dict[str, Any] = {}
    for p in paths:
        runs: dict[str, list[dict[str, Any]]] = {"iterator": [], "import": []}
        for r in range(args.repeat):
            order = ("iterator", "import") if r % 2 == 0 else ("import", "iterator")
            for kind in order:
                runs[kind].append(_run_child(kind, p, threads))
        it_s = statistics.median(x["seconds"] for x in runs["iterator"])
        im_s = statistics.median(x["seconds"] for x in runs["import"])
        mb = p.stat().st_size / 1e6
        elements = runs["import"][0]["elements"]
        per_file[p.name] = {
            "size_mb": round(mb, 2),
            "elements": elements,
            "shapes": runs["import"][0]["shapes"],
            "iterator_shapes": runs["iterator"][0]["shapes"],
            "seconds": round(im_s, 3),
            "iterator_seconds": round(it_s, 3),
            "ratio": round(it_s / im_s, 3),
            "elements_per_s": round(elements / im_s, 1),
            "mb_per_s": round(mb / im_s, 3),
            "iterator_mb_per_s": round(mb / it_s, 3),
            "peak_mb": round(statistics.median(x["peak_mb"] for x in runs["import"]), 1),
            "iterator_peak_mb": round(statistics.median(x["peak_mb"] for x in runs["iterator"]), 1),
            "cpu_seconds": round(statistics.median(x["cpu_seconds"] for x in runs["import"]), 3),
            "iterator_cpu_seconds": round(
                statistics.median(x["cpu_seconds"] for x in runs["iterator"]), 3
            ),
            "import_runs_s": [round(x["seconds"], 3) for x in runs["import"]],
            "iterator_runs_s": [round(x["seconds"], 3) for x in runs["iterator"]],
        }
        d = per_file[p.name]
        print(
            f"{p.name}: {mb:.2f} MB, {elements} elements, {d['shapes']} shapes | import "
            f"{im_s:.2f} s ({d['elements_per_s']:.0f} el/s, {d['mb_per_s']:.2f} MB/s, peak "
            f"{d['peak_mb']:.0f} MB) | iterator {it_s:.2f} s ({d['iterator_mb_per_s']:.2f} MB/s, "
            f"peak {d['iterator_peak_mb']:.0f} MB) | throughput ratio {d['ratio']:.3f} (target >= 0.9)"
            f" | CPU s import {d['cpu_seconds']:.2f} vs iterator {d['iterator_cpu_seconds']:.2f}"
        )
    seconds = sum(d["seconds"] for d in per_file.values())
    it_seconds = sum(d["iterator_seconds"] for d in per_file.values())
    elements = sum(d["elements"] for d in per_file.values())
    total_mb = sum(d["size_mb"] for d in per_file.values())
    emit(
        "ifc",
        {
            "elements": elements,
            "seconds": round(seconds, 3),
            "iterator_seconds": round(it_seconds, 3),
            "ratio": round(it_seconds / seconds, 3),
            "elements_per_s": round(elements / seconds, 1),
            "mb_per_s": round(total_mb / seconds, 3),
            "cpu_ratio": round(
                sum(d["iterator_cpu_seconds"] for d in per_file.values())
                / sum(d["cpu_seconds"] for d in per_file.values()),
                3,
            ),
            "peak_mb": max(d["peak_mb"] for d in per_file.values()),
            "iterator_peak_mb": max(d["iterator_peak_mb"] for d in per_file.values()),
            "threads": threads,
            "repeat": args.repeat,
            "files": per_file,
        },
    )


if __name__ == "__main__":
    main()
