"""``twin serve``: run the HTTP API and the Streamlit twin together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import typer

from twin.cli._common import console, handle_errors, settings
from twin.errors import NotFound, Unavailable
from twin.settings import PROJECT_ROOT


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _pick_port(host: str, preferred: int) -> int:
    if _port_free(host, preferred):
        return preferred
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, *, timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Unavailable(f"the server for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise Unavailable(f"{url} did not answer within {timeout_s:.0f} s")


def _prepare_graph() -> None:
    """Compile the route graph snapshot once, here, so that every API worker loads and
    warms it at start-up instead of compiling its own on its first request."""
    from twin.services import routing

    try:
        with console.status("preparing the route graph ..."):
            g = routing.get_graph(settings())
        console.print(f"route graph: {g.n_edges:,} edges, {g.n_arcs:,} arcs")
    except (NotFound, Unavailable) as exc:
        console.print(f"[yellow]route graph not prepared ({exc}); route checks will say why[/]")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@handle_errors
def serve(
    api_workers: int = typer.Option(2, min=1, help="uvicorn worker processes for the API."),
    no_app: bool = typer.Option(False, "--no-app", help="Serve only the API."),
) -> None:
    """Serve the API (uvicorn) and the 3D twin (Streamlit); Ctrl-C stops both."""
    s = settings()
    host = s.api_host
    api_port = _pick_port(host, s.api_port)
    app_port = _pick_port(host, s.app_port)
    env = {**os.environ, "TWIN_API_PORT": str(api_port), "TWIN_APP_PORT": str(app_port)}
    procs: list[subprocess.Popen[bytes]] = []
    # SIGTERM (a service manager, `kill`) stops both servers just as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    _prepare_graph()
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "twin.api.asgi:app",
            "--host",
            host,
            "--port",
            str(api_port),
            "--workers",
            str(api_workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=PROJECT_ROOT,
    )
    procs.append(api)
    try:
        _wait_http(f"http://{host}:{api_port}/health", timeout_s=120, proc=api)
        console.print(f"API        http://{host}:{api_port}   (docs: /docs, health: /health)")
        if not no_app:
            ui = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    str(PROJECT_ROOT / "app.py"),
                    "--server.address",
                    host,
                    "--server.port",
                    str(app_port),
                    "--server.headless",
                    "true",
                    "--browser.gatherUsageStats",
                    "false",
                ],
                env=env,
                cwd=PROJECT_ROOT,
            )
            procs.append(ui)
            _wait_http(f"http://{host}:{app_port}/_stcore/health", timeout_s=120, proc=ui)
            console.print(f"3D twin    http://{host}:{app_port}")
        console.print(
            "[dim]Ctrl-C stops the servers; the database keeps running (`make stop` stops it).[/]"
        )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        raise Unavailable("a server exited unexpectedly; see its output above")
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
