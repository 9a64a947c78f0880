"""Helpers to drive the twin in a real headless Chromium (used by tests and the benchmark).

Starts the Streamlit app and the API as subprocesses on loopback, a scratch database with
committed data (a rolled-back test transaction is invisible to another process), and
Chromium through apt's chromedriver with software WebGL (SwiftShader).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--window-size=1500,1000",
    "--hide-scrollbars",
]
DECK_CANVAS_CSS = '[data-testid="stDeckGlJsonChart"] canvas'

#: Recorded in every page before its scripts run: time of the first WebGL draw call, of the
#: first painted frame (the next animation frame after that draw: the browser has committed
#: the drawn frame, see ``__firstPaint``), the
#: number of animation frames that drew something (frame rate while panning) and the start
#: of the first 50 of them.
DRAW_PROBE_JS = """
(() => {
  window.__firstDraw = null; window.__drawFrames = 0; window.__rafTs = 0; window.__lastDrawTs = -1;
  window.__drawTimes = [];
  const rAF = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => rAF((ts) => { window.__rafTs = ts; return cb(ts); });
  window.__firstPaint = null;
  const mark = () => {
    if (window.__firstDraw === null) {
      window.__firstDraw = performance.now();
      // Painted = the browser has committed the drawn frame (with software compositing
      // the commit reads the canvas back, so it waits for the GPU process to finish the
      // drawing: shader compilation and rasterising). The commit ends the animation frame
      // after the draw, so the one after that starts once it is done (double rAF).
      rAF(() => rAF(() => { window.__firstPaint = performance.now(); }));
    }
    if (window.__lastDrawTs !== window.__rafTs) {
      window.__lastDrawTs = window.__rafTs; window.__drawFrames += 1;
      if (window.__drawTimes.length < 50) window.__drawTimes.push(performance.now());
    }
  };
  for (const C of [window.WebGL2RenderingContext, window.WebGLRenderingContext]) {
    if (!C) continue;
    for (const m of ['drawArrays', 'drawElements', 'drawArraysInstanced', 'drawElementsInstanced']) {
      const orig = C.prototype[m];
      if (!orig) continue;
      C.prototype[m] = function (...a) { mark(); return orig.apply(this, a); };
    }
  }
})();
"""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, *, timeout_s: float = 60.0) -> None:
    """Wait until ``url`` answers 200."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s: {last}")


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A fresh migrated database ``name`` in the embedded cluster, dropped afterwards."""
    import psycopg

    from twin import db as dbm
    from twin.cluster import Cluster
    from twin.settings import Settings

    base = Settings()
    cluster = Cluster(base)
    cluster.start()
    admin = f"host=127.0.0.1 port={cluster.port()} user={base.pg_superuser} dbname=postgres"

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    cluster.ensure_database(name)
    url = cluster.url(name)
    dbm.migrate(base, url=url)
    try:
        yield url
    finally:
        engine = dbm._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        drop()


@dataclass
class Servers:
    """The app and API processes."""

    app_url: str
    api_url: str
    procs: list[subprocess.Popen[bytes]]
    log_dir: Path


@contextlib.contextmanager
def serve(database_url: str, *, log_dir: Path, app: str = "app.py") -> Iterator[Servers]:
    """Run the Streamlit app and the API (uvicorn) against ``database_url``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    app_port, api_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": database_url,
        "TWIN_API_PUBLIC_URL": api_url,
        "TWIN_APP_USERS": json.dumps(
            {"tester": "pbkdf2_sha256$1000$00$" + _pbkdf2("secret", b"\x00", 1000)}
        ),
        "PYTHONPATH": str(ROOT),
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "twin.api.app:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(api_port),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=(log_dir / "api.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    app,
                    "--server.port",
                    str(app_port),
                    "--server.address",
                    "127.0.0.1",
                    "--server.headless",
                    "true",
                    "--browser.gatherUsageStats",
                    "false",
                    "--global.developmentMode",
                    "false",
                    "--server.fileWatcherType",
                    "none",
                    "--server.runOnSave",
                    "false",
                ],
                cwd=ROOT,
                env=env,
                stdout=(log_dir / f"{Path(app).stem}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        wait_http(f"{api_url}/health")
        wait_http(f"http://127.0.0.1:{app_port}/_stcore/health")
        yield Servers(f"http://127.0.0.1:{app_port}", api_url, procs, log_dir)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def _pbkdf2(pw: str, salt: bytes, iters: int) -> str:
    import hashlib

    return hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, iters).hex()


def chrome() -> Any:
    """Headless Chromium via apt's chromedriver, logging network requests."""
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    for f in CHROME_FLAGS:
        opts.add_argument(f)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(service=service, options=opts)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DRAW_PROBE_JS})
    return driver


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def wait_canvas(driver: Any, *, timeout_s: float = 40.0) -> Any:
    """The deck.gl canvas once it exists and has a size."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        els = driver.find_elements(By.CSS_SELECTOR, DECK_CANVAS_CSS)
        if els and els[0].size["width"] > 100 and els[0].size["height"] > 100:
            return els[0]
        time.sleep(0.2)
    raise TimeoutError("no deck.gl canvas appeared")


def canvas_pixels(canvas: Any) -> np.ndarray:
    """The canvas as an (h, w, 3) uint8 array (element screenshot)."""
    from PIL import Image

    img = Image.open(io.BytesIO(canvas.screenshot_as_png)).convert("RGB")
    return np.asarray(img)


def wait_rendered(
    driver: Any,
    canvas: Any,
    *,
    background: tuple[int, int, int],
    min_fraction: float = 0.001,
    timeout_s: float = 30.0,
    settle_s: float = 0.5,
) -> np.ndarray:
    """Wait for deck.gl's first WebGL draw, then poll the canvas until more than
    ``min_fraction`` of it differs from ``background`` and two shots ``settle_s`` apart
    agree; return the last shot."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not driver.execute_script("return window.__firstDraw"):
        time.sleep(0.1)
    prev: np.ndarray | None = None
    while time.monotonic() < deadline:
        px = canvas_pixels(canvas)
        if foreground_fraction(px, background) > min_fraction:
            if (
                prev is not None
                and prev.shape == px.shape
                and np.mean(np.abs(prev.astype(int) - px.astype(int))) < 0.5
            ):
                return px
            prev = px
        time.sleep(settle_s)
    return canvas_pixels(canvas)


def foreground_fraction(
    px: np.ndarray, background: tuple[int, int, int], *, tol: int = 12
) -> float:
    """Share of pixels that are neither ``background`` nor white page (within ``tol``)."""
    bg = np.all(np.abs(px.astype(int) - np.array(background)) <= tol, axis=-1)
    white = np.all(px >= 245, axis=-1)
    return float(np.mean(~(bg | white)))


def basemap_fraction(
    px: np.ndarray,
    colors: list[tuple[int, int, int]],
    background: tuple[int, int, int],
    *,
    tol: int = 8,
) -> float:
    """Share of pixels showing the offline basemap: ``background`` or one of ``colors``
    (water, land use), as drawn or faded as Streamlit fades unselected objects during a
    selection (alpha 102 of 255 over the ground)."""
    bg = np.array(background, dtype=float)
    palette = [bg]
    for c in colors:
        palette.append(np.array(c, dtype=float))
        palette.append(bg + (np.array(c, dtype=float) - bg) * 102 / 255)
    p = px.astype(float)
    hit = np.zeros(px.shape[:2], dtype=bool)
    for c in palette:
        hit |= np.all(np.abs(p - c) <= tol, axis=-1)
    return float(np.mean(hit))


def color_fraction(px: np.ndarray, color: tuple[int, int, int], *, tol: int = 30) -> float:
    """Share of pixels within ``tol`` (per channel) of ``color``."""
    return float(np.mean(np.all(np.abs(px.astype(int) - np.array(color)) <= tol, axis=-1)))


def save(px: np.ndarray, name: str) -> Path:
    """Save a screenshot under tests/artifacts/."""
    from PIL import Image

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    Image.fromarray(px).save(path)
    return path


def page_text(driver: Any) -> str:
    """The page's visible text."""
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def wait_text(driver: Any, text: str, *, timeout_s: float = 30.0) -> bool:
    """Wait until ``text`` shows on the page; on a miss, save a screenshot artefact."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in page_text(driver):
            return True
        time.sleep(0.3)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"missing_{abs(hash(text))}.png"))
    return False
