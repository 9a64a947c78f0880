"""Route checks over HTTP: uvicorn with 2 workers on 127.0.0.1, loaded by wrk.

Uses the 100k-edge generated network of ``bench_route.py`` (its ``roadtwin_bench``
database, loaded there when absent). The graph snapshot is compiled once before the
server starts, so workers load it instead of compiling. wrk (``/usr/bin/wrk``) posts
route checks for the 40 ft container truck, cycling through 200 random OD pairs, for a
bounded time with a fixed number of connections. Reports requests/s, latency
percentiles and each worker's resident memory.

Run: ``make bench-route_http`` or ``.venv/bin/python bench/bench_route_http.py
[--seconds 15] [--connections 16] [--geometry]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def _bodies(g: Any, n: int, *, geometry: bool) -> list[str]:
    rng = np.random.default_rng(3)
    out = []
    for _ in range(n):
        i, j = (int(x) for x in rng.integers(g.n_nodes, size=2))
        out.append(
            json.dumps(
                {
                    "origin": {"lon": float(g.node_lon[i]), "lat": float(g.node_lat[i])},
                    "destination": {"lon": float(g.node_lon[j]), "lat": float(g.node_lat[j])},
                    "vehicle": {"preset": "container40hc"},
                    "options": {"geometry": geometry},
                }
            )
        )
    return out


def _lua(bodies: list[str], path: Path) -> None:
    items = ",\n".join("[==[" + b + "]==]" for b in bodies)
    path.write_text(
        "local bodies = {\n" + items + "\n}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        '  return wrk.format("POST", "/route/check", '
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
    bodies = _bodies(g, 200, geometry=args.geometry)
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
            for b in bodies * 3:
                c.post(
                    f"{url}/route/check", content=b, headers={"Content-Type": "application/json"}
                )
        workers = [
            w
            for w in psutil.Process(server.pid).children(recursive=True)
            if "resource_tracker" not in " ".join(w.cmdline())
        ]
        cpu0_each = [sum(w.cpu_times()[:2]) for w in workers]
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "route.lua"
            _lua(bodies, script)
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
        "requests_per_s": round(rps, 1),
        "p50_ms": _ms(lat.get("50", "nan")),
        "p99_ms": _ms(lat.get("99", "nan")),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "worker_rss_mb": rss,
        # CPU the workers spent per request (user + system): what the throughput on two
        # otherwise idle cores would be bounded by; wall-clock figures on a shared,
        # loaded machine are much worse
        "worker_cpu_ms_per_request": round(cpu_s / max(n_req, 1) * 1e3, 3),
        "worker_cpu_share": round(cpu_s / args.seconds, 2),
        # per worker: a lopsided split means the kernel gave one worker most connections
        "worker_cpu_share_each": [round(c / args.seconds, 2) for c in cpu_each],
        "load_avg_1m": round(load, 2),
        "machine": cpu_info(),
    }
    print(
        f"{rps:.0f} route checks/s, p99 {fig['p99_ms']} ms, worker RSS {rss} MB, "
        f"{fig['worker_cpu_ms_per_request']} ms worker CPU per request, workers busy "
        f"{fig['worker_cpu_share']} cores, load average {load:.1f}"
    )
    emit("route_http", fig)


if __name__ == "__main__":
    main()
