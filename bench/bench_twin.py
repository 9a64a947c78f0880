"""Twin page speed in a real headless Chromium (software WebGL).

1. First painted frame: time from navigation start until the browser has committed the
   frame of deck.gl's first WebGL draw (the animation frame after the one that ends with
   that commit starts: a double requestAnimationFrame), for the twin's network overview on
   the bundled Tianjin sample (roads, structures, columns, water and land use). With
   software WebGL the commit reads the canvas back and so waits for the GPU process to
   compile every shader pipeline and draw: seconds per page here, which the time of the
   draw call alone does not show (it is reported beside, ``first_draw_*``, with the GPU
   process's CPU seconds per load). Target (issue 8, DESIGN.md): within 1.2x of a trivial
   Streamlit + pydeck page (three points) measured in the same browser run. Reported with
   a breakdown: the twin page with only its structure markers (a scatterplot like the
   trivial page's: the page chrome, i.e. sidebar, legend, inspector) and with markers +
   roads. Medians of repeated loads, pages alternating; the load average is printed
   because software WebGL on a shared 2-core machine is noisy.
2. Panning the 100k-edge layer: a ~100k-edge grid in its own database, so the roads come as
   vector tiles (``/tiles/road_edge``, PostGIS ST_AsMVT) through an MVTLayer. The canvas is
   dragged for a few seconds; frames = animation frames that drew something. The same drag
   on the trivial page is the peer.

Run: ``make bench-twin`` (or ``.venv/bin/python bench/bench_twin.py``). Last line: JSON.
Quicker variant while tuning: ``.venv/bin/python bench/bench_twin.py --first-frame-only
--repeats 3`` (skips the 100k-edge grid and the panning).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, emit

sys.path.insert(0, str(ROOT / "tests"))

import twin_browser as tb

REPEATS = 5
PAN_SECONDS = 6.0


def _gpu_cpu_s() -> float:
    """CPU seconds used so far by Chromium's GPU process (software WebGL runs there)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if b"--type=gpu-process" not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return total


def first_frame(driver: Any, url: str) -> dict[str, float]:
    """A fresh page's first frame, in ms from navigation start: ``draw`` (deck.gl's first
    WebGL draw call) and ``paint`` (that frame committed by the browser, i.e. on screen:
    with software WebGL the commit waits for the GPU process to compile the shaders and
    draw); ``gpu_cpu_s``: the GPU process's CPU seconds for the load up to that paint."""
    driver.get("about:blank")
    gpu0 = _gpu_cpu_s()
    driver.get(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        v = driver.execute_script("return [window.__firstDraw, window.__firstPaint]")
        if v and v[1]:
            return {"draw": float(v[0]), "paint": float(v[1]), "gpu_cpu_s": _gpu_cpu_s() - gpu0}
        time.sleep(0.05)
    raise TimeoutError(f"no frame painted on {url}")


def first_frame_ms(driver: Any, url: str) -> float:
    """Milliseconds from navigation start to the first painted frame of a fresh page."""
    return first_frame(driver, url)["paint"]


#: The sidebar's radio buttons: the panels around the map have been drawn.
PANELS_CSS = '[data-testid="stSidebar"] [role="radiogroup"]'


def load_timings(driver: Any, url: str) -> dict[str, Any]:
    """First frame (:func:`first_frame`) and the panels shown (ms from navigation start)."""
    first = first_frame(driver, url)
    deadline = time.monotonic() + 30
    panels = None
    while time.monotonic() < deadline:
        panels = driver.execute_script(
            f"return document.querySelector('{PANELS_CSS}') ? performance.now() : null"
        )
        if panels:
            break
        time.sleep(0.05)
    return {"first": first, "panels": panels}


def pan_fps(driver: Any, url: str, *, seconds: float = PAN_SECONDS) -> dict[str, float]:
    """Drag the deck canvas back and forth for ``seconds``; frames drawn per second."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver.get(url)
    canvas = tb.wait_canvas(driver)
    tb.wait_rendered(driver, canvas, background=(15, 23, 42), min_fraction=0.0005)
    if "scene=" in url:  # the twin: drag once its panels are there (the steady page)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not driver.execute_script(
            f"return document.querySelector('{PANELS_CSS}')"
        ):
            time.sleep(0.1)
        canvas = tb.wait_canvas(driver)
    time.sleep(1.0)
    f0 = driver.execute_script("return window.__drawFrames")
    t0 = time.perf_counter()
    step = 0
    while time.perf_counter() - t0 < seconds:
        dx = 60 if (step // 4) % 2 == 0 else -60
        ActionChains(driver).move_to_element(canvas).click_and_hold().move_by_offset(
            dx, 15
        ).move_by_offset(dx, -15).release().perform()
        step += 1
    elapsed = time.perf_counter() - t0
    time.sleep(0.3)
    f1 = driver.execute_script("return window.__drawFrames")
    return {"fps": (f1 - f0) / elapsed, "drags": step, "seconds": elapsed}


def grid_pan(driver: Any, out: dict[str, Any]) -> None:
    """Panning the ~100k-edge grid served as vector tiles (adds its figures to ``out``)."""
    from twin_demo_data import load_grid

    from twin import db as dbm
    from twin.settings import Settings

    with tb.scratch_database("roadtwin_bench_twin_grid") as url:
        engine = dbm.get_engine(Settings(), url=url)
        with engine.begin() as conn:
            n_edges = load_grid(conn, n=224)
        engine.dispose()
        logs = Path(tempfile.mkdtemp(prefix="bench-twin-grid-"))
        with tb.serve(url, log_dir=logs) as srv:
            centre = (117.0 + 223 * 0.003 / 2, 38.8 + 223 * 0.003 / 2)
            view = f"{centre[0]:.4f},{centre[1]:.4f},12.5"
            page = f"{srv.app_url}/?scene=network&lang=en&view={view}"
            t0 = time.perf_counter()
            first = first_frame_ms(driver, page)
            pan = pan_fps(driver, page)
            tiles = [u for u in tb.requested_urls(driver) if "/tiles/road_edge/" in u]
            out["grid_edges"] = n_edges
            out["grid_first_frame_ms"] = round(first, 1)
            out["pan_grid_fps"] = round(pan["fps"], 1)
            out["pan_grid_vs_trivial"] = round(pan["fps"] / max(out["pan_trivial_fps"], 1e-9), 3)
            out["tiles_requested"] = len(tiles)
            # Zoomed out to 11.5 the tiles carry the main classes only (thinned by class).
            view_out = f"{centre[0]:.4f},{centre[1]:.4f},11.5"
            pan_out = pan_fps(driver, f"{srv.app_url}/?scene=network&lang=en&view={view_out}")
            out["pan_grid_z11_5_fps"] = round(pan_out["fps"], 1)
            out["grid_total_s"] = round(time.perf_counter() - t0, 1)


def _args() -> Any:
    import argparse

    p = argparse.ArgumentParser(description="Twin page speed in headless Chromium.")
    p.add_argument("--repeats", type=int, default=REPEATS, help="loads per page (median)")
    p.add_argument(
        "--first-frame-only", action="store_true", help="skip the 100k-edge grid and panning"
    )
    return p.parse_args()


def main() -> None:
    from twin import db as dbm
    from twin.services.sample import load_sample
    from twin.settings import Settings

    args = _args()
    out: dict[str, Any] = {}
    load_start = round(os.getloadavg()[0], 2)
    driver = tb.chrome()
    try:
        # ---- first frame on the sample vs the trivial page
        with tb.scratch_database("roadtwin_bench_twin") as url:
            engine = dbm.get_engine(Settings(), url=url)
            with engine.begin() as conn:
                load_sample(conn)
                edges = conn.exec_driver_sql("SELECT count(*) FROM road_edge").scalar()
            engine.dispose()
            logs = Path(tempfile.mkdtemp(prefix="bench-twin-"))
            with (
                tb.serve(url, log_dir=logs) as twin_srv,
                tb.serve(
                    url, log_dir=logs / "trivial", app="bench/_twin_trivial_app.py"
                ) as triv_srv,
            ):
                twin_url = f"{twin_srv.app_url}/?scene=network&lang=zh"
                triv_url = f"{triv_srv.app_url}/"
                first_frame_ms(driver, twin_url)  # warm both servers (imports, caches)
                first_frame_ms(driver, triv_url)
                ground_url = f"{twin_url}&only=structure_points"
                roads_url = f"{twin_url}&only=structure_points,roads"
                first_frame_ms(driver, ground_url)
                first_frame_ms(driver, roads_url)
                pages = {"twin": twin_url, "trivial": triv_url, "chrome": ground_url}
                pages["chrome_roads"] = roads_url
                runs: dict[str, list[dict[str, float]]] = {k: [] for k in pages}
                panels_ms = []
                for _ in range(args.repeats):
                    tw = load_timings(driver, twin_url)
                    runs["twin"].append(tw["first"])
                    panels_ms.append(float(tw["panels"] or 0))
                    for key in ("trivial", "chrome", "chrome_roads"):
                        runs[key].append(first_frame(driver, pages[key]))
                out["sample_edges"] = int(edges or 0)
                med = {
                    k: {m: statistics.median(r[m] for r in rs) for m in rs[0]}
                    for k, rs in runs.items()
                }
                # The target: the first *painted* frame (committed by the browser).
                out["first_frame_twin_ms"] = round(med["twin"]["paint"], 1)
                out["first_frame_trivial_ms"] = round(med["trivial"]["paint"], 1)
                out["first_frame_ratio"] = round(
                    out["first_frame_twin_ms"] / out["first_frame_trivial_ms"], 3
                )
                # Beside it: deck.gl's first draw call (what earlier runs reported as the
                # first frame: it comes before the browser has drawn and shown the frame).
                out["first_draw_twin_ms"] = round(med["twin"]["draw"], 1)
                out["first_draw_trivial_ms"] = round(med["trivial"]["draw"], 1)
                out["first_draw_ratio"] = round(med["twin"]["draw"] / med["trivial"]["draw"], 3)
                # GPU-process CPU per load (shader compilation + software rasterising):
                # steadier than wall time on a shared machine.
                for k in pages:
                    out[f"gpu_cpu_s_{k}"] = round(med[k]["gpu_cpu_s"], 2)
                out["first_frame_twin_chrome_ms"] = round(med["chrome"]["paint"], 1)
                out["first_frame_twin_chrome_roads_ms"] = round(med["chrome_roads"]["paint"], 1)
                # Not the target, reported beside it: when the panels (sidebar, legend,
                # inspector) showed; they follow the map (app.PANELS_DELAY_S).
                out["twin_panels_shown_ms"] = round(statistics.median(panels_ms), 1)
                for k, rs in runs.items():
                    paints = [round(r["paint"]) for r in rs]
                    draws = [round(r["draw"]) for r in rs]
                    print(f"{k}: painted {paints} ms, first draw call {draws} ms")
                print(f"  twin panels shown {panels_ms} ms")
                if not args.first_frame_only:
                    out["pan_trivial_fps"] = round(pan_fps(driver, triv_url)["fps"], 1)
        if not args.first_frame_only:
            grid_pan(driver, out)
    finally:
        driver.quit()
    # DESIGN.md: the first painted frame within 1.2x of the trivial page's in the same run
    # (the "< 1.5 s" of the issue read as that ratio: the trivial page alone paints in
    # ~1.7-2.5 s here).
    out["target_first_frame_ratio"] = 1.2
    out["first_frame_meets_target"] = out["first_frame_ratio"] <= 1.2
    out["repeats"] = args.repeats
    out["load_avg_1m_start"] = load_start
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    for k, v in out.items():
        print(f"{k}: {v}")
    emit("twin", out)


if __name__ == "__main__":
    main()
