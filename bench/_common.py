"""Shared benchmark helpers: timing with medians, peak memory, the closing JSON line."""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"

sys.path.insert(0, str(ROOT))


def bench_settings(database: str) -> Any:
    """Settings on the scratch database ``database`` of the embedded cluster (created and
    migrated; ``TWIN_DATABASE_URL`` wins when set), home under ``bench/out/home``."""
    from twin import db as dbm
    from twin.cluster import Cluster
    from twin.settings import Settings

    base = Settings()
    if base.database_url:
        url = base.database_url
    else:
        cluster = Cluster(base)
        cluster.start()
        cluster.ensure_database(database)
        url = cluster.url(database)
    s = base.model_copy(update={"database_url": url, "home": OUT / "home"})
    dbm.migrate(s, url=url)
    return s


def median_time(fn: Callable[[], Any], *, repeat: int = 5) -> float:
    """Median wall time in seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def peak_rss_mb(*, children: bool = False) -> float:
    """Peak resident memory of this process (or its finished children) in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def emit(name: str, figures: dict[str, Any]) -> None:
    """Print the closing JSON line (last line of every benchmark) and keep a copy."""
    OUT.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"bench": name, **figures}, default=float)
    (OUT / f"{name}.json").write_text(line + "\n")
    print(line)


def cpu_info() -> str:
    """A short description of the machine for BENCHMARKS.md."""
    return f"{os.cpu_count()} cores"
