"""Maintenance planning at scale: exact milp (HiGHS) against worst-first, same run, same data.

Data: the transition matrix is fitted (assets.markov) from a SYNTHETIC 12-year history of
300 bridges (assets.history, seed 11); 10,000 bridges get current classes drawn from that
history's last grades, deck areas 150-4,000 m² and traffic weights; yearly budgets are 2 %
of the network's replacement value. Both solvers choose among the same alternatives (do
nothing, or one of four actions in one of the 10 years per asset) and are scored by the
same objective (weighted expected condition-index years).

Usage: ``.venv/bin/python bench/bench_plan.py [--assets 10000] [--years 10]
[--time-limit 300] [--gap 1e-4]``. ``--gap`` is relative to the plan objective (HiGHS's
default 1e-4); the proven gap is also printed relative to the gain over doing nothing.
Prints build/solve times (worst-first: median of 3 runs; milp: one run, it is the
expensive one; CPU seconds next to wall seconds, the machine is shared), objectives and
their ratio, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Iterator

import numpy as np
from _common import cpu_info, emit, median_time, peak_rss_mb

from assets import history, markov, planning


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints debugging lines from C++ on fd 1; keep the report readable."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--gap", type=float, default=1e-4)
    args = ap.parse_args()

    t0 = time.perf_counter()
    specs = [history.AssetSpec(i, "bridge", dt.date(1980 + i % 40, 1, 1)) for i in range(1, 301)]
    recs = history.generate(specs, seed=11, years=12, today=dt.date(2026, 6, 1))
    fit = markov.fit(
        [markov.Observation(r["asset_id"], r["inspected_on"], r["condition_class"]) for r in recs]
    )
    last: dict[int, int] = {}
    for r in recs:
        last[r["asset_id"]] = r["condition_class"]
    shares = np.bincount(np.array(list(last.values())) - 1, minlength=5) / len(last)
    rng = np.random.default_rng(11)
    classes = rng.choice(5, size=args.assets, p=shares)
    areas = rng.uniform(150, 4000, args.assets)
    items = [
        planning.PlanAsset(i, "bridge", np.eye(5)[c], size=float(a), weight=float(w))
        for i, (c, a, w) in enumerate(
            zip(classes, areas, rng.lognormal(0, 0.4, args.assets), strict=True)
        )
    ]
    replacement_value = float(
        areas.sum() * planning.DEFAULT_ACTIONS["replacement"].unit_cost_cny["bridge"]
    )
    budgets = [0.02 * replacement_value] * args.years
    print(f"data: {args.assets} bridges, {args.years} years, classes {np.bincount(classes, minlength=5).tolist()}, "
          f"budget {budgets[0] / 1e6:.1f} M CNY/yr; fit from {fit.n_pairs} yearly pairs ({time.perf_counter() - t0:.1f} s); {cpu_info()}")  # fmt: skip

    t_build = median_time(
        lambda: planning.build_problem(items, transition={"all": fit.matrix}, budgets_cny=budgets),
        repeat=3,
    )
    prob = planning.build_problem(items, transition={"all": fit.matrix}, budgets_cny=budgets)
    t_wf = median_time(lambda: planning.worst_first(prob), repeat=3)
    wf = planning.worst_first(prob)
    cpu0 = time.process_time()
    with _quiet_stdout():
        best = planning.solve_milp(prob, time_limit_s=args.time_limit, mip_rel_gap=args.gap)
    milp_cpu = time.process_time() - cpu0
    base = float(prob.base.sum())
    print(f"build alternatives: {t_build:.2f} s (median of 3)")
    print(f"worst-first: {t_wf:.2f} s (median of 3), objective {wf.objective:,.1f}")
    print(
        f"milp (HiGHS): {best.seconds:.2f} s ({milp_cpu:.2f} s CPU), {best.status}, proven gap "
        f"{best.gap if best.gap is not None else float('nan'):.2e} of the objective, "
        f"{best.solver.get('gap_vs_gain', float('nan')):.2e} of "
        f"the gain over doing nothing; objective {best.objective:,.1f}"
    )
    print(f"solver steps: {best.solver}")
    gain_m, gain_w = best.objective - base, wf.objective - base
    print(f"gain over doing nothing: milp {gain_m:,.1f} vs worst-first {gain_w:,.1f} "
          f"({gain_m / gain_w:.3f}x); spend milp {sum(best.spend_by_year) / 1e6:.1f} M, "
          f"worst-first {sum(wf.spend_by_year) / 1e6:.1f} M CNY")  # fmt: skip
    print(f"network condition in the last year: milp {best.condition_by_year[-1]:.2f}, "
          f"worst-first {wf.condition_by_year[-1]:.2f}, do nothing "
          f"{float((prob.base / max(1, args.years)).sum() / sum(a.weight for a in items)):.2f} (mean over years)")  # fmt: skip
    emit(
        "plan",
        {
            "assets": args.assets,
            "years": args.years,
            "seconds": round(best.seconds, 3),
            "cpu_seconds": round(milp_cpu, 3),
            "build_seconds": round(t_build, 3),
            "worst_first_seconds": round(t_wf, 4),
            "status": best.status,
            "lp_seconds": best.solver.get("lp_seconds"),
            "mip_gap": best.gap,
            "gap_vs_gain": best.solver.get("gap_vs_gain"),
            "asset_types": best.solver.get("asset_types"),
            "objective": round(best.objective, 3),
            "worst_first_objective": round(wf.objective, 3),
            "do_nothing_objective": round(base, 3),
            "gain_ratio_milp_vs_worst_first": round(gain_m / gain_w, 4) if gain_w else None,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
