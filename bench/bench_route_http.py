"""Route checks over HTTP: uvicorn with 2 workers on 127.0.0.1, loaded by wrk.

Uses the 100k-edge generated network of ``bench_route.py`` (its ``roadtwin_bench``
database, loaded there when absent). The graph snapshot is compiled once before the
server starts, so workers load it instead of compiling. wrk (``/usr/bin/wrk``) posts
route checks for the 40 ft container truck, cycling through 200 random OD pairs, for a
bounded time with a fixed number of connections. Reports requests/s, latency
percentiles, each worker's resident memory and CPU per request. ``--batch N`` posts N of
the pairs per request to ``/route/check/batch`` instead (bulk use; checks/s = requests/s
x N, every pair searched).

Run: ``make bench-route_http`` or ``.venv/bin/python bench/bench_route_http.py
[--seconds 15] [--connections 16] [--geometry] [--batch N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT, cpu_info, emit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bodies(g: Any, n: int, *, geometry: bool, batch: int = 0) -> list[str]:
    """``n`` request bodies over ``n`` random OD pairs: one pair each, or (``batch``)
    ``batch`` consecutive pairs of the same list each, for ``/route/check/batch``."""
    rng = np.random.default_rng(3)
    points = []
    for _ in range(n):
        i, j = (int(x) for x in rng.integers(g.n_nodes, size=2))
        points.append(
            (
                {"lon": float(g.node_lon[i]), "lat": float(g.node_lat[i])},
                {"lon": float(g.node_lon[j]), "lat": float(g.node_lat[j])},
            )
        )
    common = {"vehicle": {"preset": "container40hc"}, "options": {"geometry": geometry}}
    if batch:
        return [
            json.dumps({"pairs": [points[(k + m) % n] for m in range(batch)], **common})
            for k in range(n)
        ]
    return [json.dumps({"origin": o, "destination": d, **common}) for o, d in points]


def _lua(bodies: list[str], path: Path, *, url_path: str = "/route/check") -> None:
    items = ",\n".join("[==[" + b + "]==]" for b in bodies)
    path.write_text(
        "local bodies = {\n" + items + "\n}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        f'  return wrk.format("POST", "{url_path}", '
        '{["Content-Type"] = "application/json"}, bodies[i])\n'
        "end\n"
        "response = function(status, headers, body)\n"
        '  if status ~= 200 and status ~= 422 then io.write("status " .. status .. "\\n") end\n'
        "end\n"
    )


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def main() -> None:
    import httpx
    import psutil

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_route import _ensure_network, _settings

    from twin import db as dbm
    from twin.services import routing

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--geometry", action="store_true", help="ask for GeoJSON geometries too")
    ap.add_argument(
        "--batch",
        type=int,
        default=0,
        help="post N pairs per request to /route/check/batch (checks/s = requests/s x N)",
    )
    args = ap.parse_args()
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    if not Path(wrk).exists():
        sys.exit("wrk is not installed (apt-get install wrk)")

    settings = _settings()
    _ensure_network(dbm.get_engine(settings))
    g = routing.get_graph(settings)  # compiles once and writes the snapshot for the workers
    print(f"graph: {g.n_edges:,} edges; snapshot {settings.snapshot_dir}")
    port = _free_port()
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": str(settings.database_url),
        "TWIN_HOME": str(settings.home),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "twin.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    bodies = _bodies(g, 200, geometry=args.geometry, batch=args.batch)
    url_path = "/route/check/batch" if args.batch else "/route/check"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        # warm both workers (snapshot load, numba, snap index, the truck's CCH
        # customizations: its metric, then its reachability once no-route answers have
        # cost enough ALT searches -- state a running server has, not answers: every
        # timed request is searched)
        with httpx.Client(timeout=120) as c:
            for b in bodies * 3 if not args.batch else bodies[: max(2, 600 // args.batch)]:
                c.post(f"{url}{url_path}", content=b, headers={"Content-Type": "application/json"})
        # the loop above rides one keep-alive connection, hence one worker: a short
        # bounded wrk run spreads the same warming over every worker's connections
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "warm.lua"
            _lua(bodies, script, url_path=url_path)
            subprocess.run(
                [wrk, "-t2", f"-c{args.connections}", "-d3s", "-s", str(script), url],
                capture_output=True,
                timeout=60,
            )
        workers = [
            w
            for w in psutil.Process(server.pid).children(recursive=True)
            if "resource_tracker" not in " ".join(w.cmdline())
        ]
        cpu0_each = [sum(w.cpu_times()[:2]) for w in workers]
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it is reaped
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "route.lua"
            _lua(bodies, script, url_path=url_path)
            out = subprocess.run(
                [
                    wrk,
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.seconds}s",
                    "--latency",
                    "-s",
                    str(script),
                    url,
                ],
                capture_output=True,
                text=True,
                timeout=args.seconds + 60,
            ).stdout
        print(out)
        cpu_each = [sum(w.cpu_times()[:2]) - c0 for w, c0 in zip(workers, cpu0_each, strict=True)]
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu_s = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
        cpu_s = sum(cpu_each)
        rss = [round(w.memory_info().rss / 2**20) for w in workers if w.is_running()]
        load = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(\d+)%\s+(\S+)", out, flags=re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    n_req = int(total.group(1)) if total else 0
    fig = {
        "edges": g.n_edges,
        "workers": 2,
        "connections": args.connections,
        "seconds": args.seconds,
        "geometry": args.geometry,
        "batch": args.batch,
        "requests_per_s": round(rps, 1),
        "checks_per_s": round(rps * max(args.batch, 1), 1),
        "p50_ms": _ms(lat.get("50", "nan")),
        "p99_ms": _ms(lat.get("99", "nan")),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "worker_rss_mb": rss,
        # CPU the workers spent per request (user + system): what the throughput on two
        # otherwise idle cores would be bounded by; wall-clock figures on a shared,
        # loaded machine are much worse
        "worker_cpu_ms_per_request": round(cpu_s / max(n_req, 1) * 1e3, 3),
        "worker_cpu_ms_per_check": round(cpu_s / max(n_req * max(args.batch, 1), 1) * 1e3, 3),
        "worker_cpu_share": round(cpu_s / args.seconds, 2),
        # per worker: a lopsided split means the kernel gave one worker most connections
        "worker_cpu_share_each": [round(c / args.seconds, 2) for c in cpu_each],
        # the load tool shares the two cores with the workers
        "wrk_cpu_share": round(wrk_cpu_s / args.seconds, 2),
        "load_avg_1m": round(load, 2),
        "machine": cpu_info(),
    }
    print(
        f"{fig['checks_per_s']:.0f} route checks/s ({rps:.0f} requests/s), p99 {fig['p99_ms']} ms, worker RSS {rss} MB, "
        f"{fig['worker_cpu_ms_per_request']} ms worker CPU per request, workers busy "
        f"{fig['worker_cpu_share']} cores, wrk {fig['wrk_cpu_share']} cores, load average {load:.1f}"
    )
    emit("route_http", fig)


if __name__ == "__main__":
    main()
