"""``twin serve`` (what ``make run`` ends with): serves, and stops its servers on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil

from twin.settings import PROJECT_ROOT, Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(settings: Settings, port: int) -> subprocess.Popen[str]:
    env = {
        "TWIN_DATABASE_URL": settings.database_url or "",
        "TWIN_HOME": str(settings.home),
        "TWIN_API_PORT": str(port),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", "--no-app", "--api-workers", "1"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _until_api(proc: subprocess.Popen[str]) -> list[str]:
    """Output lines up to the one announcing the API."""
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    deadline = time.monotonic() + 120
    while "API" not in lines[-1] and time.monotonic() < deadline and proc.poll() is None:
        lines.append(proc.stdout.readline())
    return lines


def test_serve_answers_health_and_sigterm_leaves_no_orphans(settings: Settings) -> None:
    port = _free_port()
    proc = _serve(settings, port)
    try:
        line = _until_api(proc)[-1]
        assert f"http://127.0.0.1:{port}" in line, line
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()["status"] == "ok"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the API runs in a child process"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) is not None
        _, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"servers left running: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_prepares_the_route_graph_for_its_workers(sample_settings: Settings) -> None:
    """On the sample, ``twin serve`` compiles the route graph snapshot before the API
    starts, so its workers load and warm it instead of compiling one each."""
    from twin.services.routing import SNAPSHOT_NAME

    snapshot = sample_settings.snapshot_dir / SNAPSHOT_NAME
    snapshot.unlink(missing_ok=True)
    port = _free_port()
    proc = _serve(sample_settings, port)
    try:
        out = "".join(_until_api(proc))
        assert "route graph:" in out and "edges" in out, out
        assert snapshot.exists()
        body = {
            "origin": {"lon": 117.20, "lat": 39.13},
            "destination": {"lon": 117.45, "lat": 39.05},
            "vehicle": {"preset": "container40hc"},
            "options": {"geometry": False},
        }
        r = httpx.post(f"http://127.0.0.1:{port}/route/check", json=body, timeout=30)
        assert r.status_code in (200, 422), r.text
        assert ("route" in r.json()) or ("blocking" in r.json().get("details", {})), r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
