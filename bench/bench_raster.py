"""Raster sampling at many points (flood checks over a network): ours against rasterio's
per-point ``DatasetReader.sample`` on the same raster and points, in the same run.

Data: ../shared/data/N43E007.hgt.zip (SRTM 3", 1201 x 1201, read through /vsizip/) and
the sample's own flood raster. Medians of repeated runs; ends with one JSON line.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
import rasterio
from _common import ROOT, SHARED_DATA, emit, median_time

sys.path.insert(0, str(ROOT))

from loaders.raster import sample

N_POINTS = 20_000


def _points(bounds: tuple[float, float, float, float], n: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = bounds
    xs, ys = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _rasterio_sample(path: str, pts: list[tuple[float, float]]) -> list[float]:
    with rasterio.open(path) as src:
        return [float(v[0]) for v in src.sample(pts)]


def main() -> None:
    cases = [("flood", str(ROOT / "data" / "sample" / "rasters" / "binhai_flood_depth.tif"))]
    hgt = SHARED_DATA / "N43E007.hgt.zip"
    if hgt.is_file():
        cases.append(("srtm_vsizip", f"/vsizip/{hgt}/N43E007.hgt"))
    figures: dict[str, float] = {"points": N_POINTS}
    for name, path in cases:
        with rasterio.open(path) as src:
            b = src.bounds
        pts = _points((b.left, b.bottom, b.right, b.top), N_POINTS)
        ours = sample(path, pts)
        peer = _rasterio_sample(path, pts)
        nodata = rasterio.open(path).nodata
        same = all(
            (a is None and (p == nodata or p != p)) or a == p
            for a, p in zip(ours, peer, strict=True)
        )
        t_ours = median_time(functools.partial(sample, path, pts), repeat=5)
        t_peer = median_time(functools.partial(_rasterio_sample, path, pts), repeat=3)
        print(
            f"{name}: ours {t_ours * 1000:.1f} ms, rasterio.sample {t_peer * 1000:.1f} ms "
            f"for {N_POINTS:,} points -> {t_peer / t_ours:.1f}x; identical values: {same}"
        )
        figures[f"{name}_seconds"] = round(t_ours, 4)
        figures[f"{name}_rasterio_seconds"] = round(t_peer, 4)
        figures[f"{name}_speedup"] = round(t_peer / t_ours, 1)
        figures[f"{name}_identical"] = float(same)
    emit("raster", figures)


if __name__ == "__main__":
    main()
