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


def test_serve_answers_health_and_sigterm_leaves_no_orphans(settings: Settings) -> None:
    port = _free_port()
    env = {
        "TWIN_DATABASE_URL": settings.database_url or "",
        "TWIN_HOME": str(settings.home),
        "TWIN_API_PORT": str(port),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", "--no-app", "--api-workers", "1"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        deadline = time.monotonic() + 120
        while "API" not in line and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
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
