"""Markov fitting, forecasts, figures, the planner and the synthetic history (pure core)."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from assets import history, markov, planning, plots
from assets.errors import GradingError

TRUE_P = np.array(
    [
        [0.80, 0.20, 0, 0, 0],
        [0, 0.85, 0.15, 0, 0],
        [0, 0, 0.90, 0.10, 0],
        [0, 0, 0, 0.85, 0.15],
        [0, 0, 0, 0, 1.0],
    ]
)


def _simulate(n_assets: int, years: int, seed: int) -> list[markov.Observation]:
    rng = np.random.default_rng(seed)
    out = []
    for a in range(n_assets):
        c = int(rng.integers(0, 4))
        for y in range(years):
            out.append(markov.Observation(a, dt.date(2010 + y, 5, 1), c + 1))
            c = int(rng.choice(5, p=TRUE_P[c]))
    return out


def test_fit_counts_by_hand() -> None:
    """Asset 1: 1 -> 1 -> 2 (yearly); asset 2: 2 -> 3 one year, then a 2-year gap (excluded),
    then 3 -> 2 (improvement, excluded). Counts: (1,1) 1, (1,2) 1, (2,3) 1. With prior 0.5
    on the two allowed cells of a row, row 1 = (1.5, 1.5)/3 = (0.5, 0.5); row 2 = (0.5,
    1.5)/2 = (0.25, 0.75); rows without data keep the prior (0.5, 0.5); row 5 is absorbing."""
    d = dt.date
    obs = [
        markov.Observation(1, d(2010, 5, 1), 1),
        markov.Observation(1, d(2011, 5, 3), 1),
        markov.Observation(1, d(2012, 4, 28), 2),
        markov.Observation(2, d(2010, 6, 1), 2),
        markov.Observation(2, d(2011, 6, 1), 3),
        markov.Observation(2, d(2013, 6, 1), 3),
        markov.Observation(2, d(2014, 6, 1), 2),
    ]
    f = markov.fit(obs)
    assert f.counts[0, 0] == 1 and f.counts[0, 1] == 1 and f.counts[1, 2] == 1
    assert f.excluded == {"gap_not_one_year": 1, "improved_maintenance": 1, "jump_too_large": 0}
    m = f.matrix
    assert m[0, :2] == pytest.approx([0.5, 0.5])
    assert m[1, 1:3] == pytest.approx([0.25, 0.75])
    assert m[3, 3:] == pytest.approx([0.5, 0.5])
    assert m[4, 4] == 1.0
    assert np.allclose(m.sum(axis=1), 1.0)


def test_fit_recovers_the_true_matrix_and_intervals_cover_it() -> None:
    f = markov.fit(_simulate(400, 12, seed=3), credible=0.999)  # ~99 % jointly over 8 cells
    lo, hi = f.intervals()
    assert np.abs(f.matrix - TRUE_P).max() < 0.04
    allowed = markov.allowed_mask()
    assert ((lo <= TRUE_P + 1e-12) | ~allowed).all() and ((hi + 1e-12 >= TRUE_P) | ~allowed).all()
    assert (hi - lo)[allowed & (TRUE_P < 1)].max() < 0.25
    # fewer data, wider intervals
    small = markov.fit(_simulate(20, 5, seed=3), credible=0.999)
    slo, shi = small.intervals()
    assert (shi - slo)[0, 1] > (hi - lo)[0, 1]


def test_groups_borrow_strength_from_the_pool() -> None:
    obs = _simulate(200, 10, seed=5)
    fits = markov.fit_groups(obs, group_of=lambda o: "a" if int(str(o.asset_id)) < 190 else "b")
    assert set(fits) == {"all", "a", "b"}
    assert fits["b"].n_pairs < fits["a"].n_pairs
    # the sparse group sits closer to the pooled matrix than its own counts alone would
    raw_b = markov.fit([o for o in obs if int(str(o.asset_id)) >= 190], prior=0.5)
    pooled = fits["all"].matrix
    assert np.abs(fits["b"].matrix - pooled).sum() <= np.abs(raw_b.matrix - pooled).sum() + 1e-9


def test_forecast_by_hand_and_bands() -> None:
    """From class 1 with TRUE_P: after one year (0.8, 0.2, 0, 0, 0); after two
    (0.64, 0.16 + 0.17, 0.03, 0, 0) = (0.64, 0.33, 0.03, 0, 0)."""
    f = markov.forecast(TRUE_P, 1, years=2)
    assert f[1] == pytest.approx([0.8, 0.2, 0, 0, 0])
    assert f[2] == pytest.approx([0.64, 0.33, 0.03, 0, 0])
    path = markov.expected_path(TRUE_P, 1, years=30)
    assert path["expected_class"][0] == 1 and np.all(np.diff(path["expected_class"]) >= 0)
    assert 0 < path["p_class_4_or_5"][30] < 1
    fit = markov.fit(_simulate(100, 10, seed=1))
    bands = markov.forecast_bands(fit, np.array([10, 50, 30, 8, 2.0]), years=30, draws=200)
    assert bands["mean"].shape == (31, 5)
    assert np.allclose(bands["mean"].sum(axis=1), 1)
    assert (bands["lower"] <= bands["mean"] + 1e-9).all() and (
        bands["mean"] <= bands["upper"] + 1e-9
    ).all()
    # the class 4+5 band brackets its mean and is narrower than adding the classes' bands
    worse = bands["mean"][:, 3:].sum(axis=1)
    assert (bands["worse_lower"] <= worse + 1e-9).all() and (
        worse <= bands["worse_upper"] + 1e-9
    ).all()
    width = bands["worse_upper"] - bands["worse_lower"]
    summed = bands["upper"][:, 3:].sum(axis=1) - bands["lower"][:, 3:].sum(axis=1)
    assert (width <= summed + 1e-9).all() and width[30] < summed[30]
    with pytest.raises(GradingError, match="years"):
        markov.forecast(TRUE_P, 1, years=0)


def test_figures_are_png() -> None:
    fit = markov.fit(_simulate(50, 8, seed=2))
    bands = markov.forecast_bands(fit, np.array([10, 50, 30, 8, 2.0]), years=30, draws=50)
    png = plots.stacked_shares_png(bands["mean"], start_year=2026, bands=bands, title="bridges")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    png2 = plots.expected_path_png(
        markov.expected_path(fit.matrix, 2), start_year=2026, title="one"
    )
    assert png2[:8] == b"\x89PNG\r\n\x1a\n"


def _assets(n: int, seed: int) -> list[planning.PlanAsset]:
    rng = np.random.default_rng(seed)
    return [
        planning.PlanAsset(i, "bridge", np.eye(5)[rng.choice(5, p=[0.1, 0.4, 0.3, 0.15, 0.05])],
                           size=float(rng.uniform(200, 2000)), weight=float(rng.uniform(0.5, 2)))
        for i in range(n)
    ]  # fmt: skip


def _brute_force(prob: planning.Problem) -> float:
    """Best objective over every combination of one alternative (or nothing) per asset."""
    n, na, ny = prob.gain.shape
    opts = [None] + [(a, y) for a in range(na) for y in range(ny)]
    brute = -np.inf
    for combo in itertools.product(opts, repeat=n):
        spend = np.zeros(ny)
        gain = 0.0
        for i, o in enumerate(combo):
            if o is not None:
                spend[o[1]] += prob.cost[i, o[0]]
                gain += prob.gain[i, o[0], o[1]]
        if (spend <= prob.budgets + 1e-6).all():
            brute = max(brute, prob.base.sum() + gain)
    return float(brute)


def test_milp_equals_brute_force_and_beats_worst_first() -> None:
    """4 assets x 2 years: enumerate all 9^4 alternative combinations."""
    prob = planning.build_problem(
        _assets(4, 1), transition={"all": TRUE_P}, budgets_cny=[1.5e6, 1.0e6]
    )
    best = planning.solve_milp(prob, mip_rel_gap=0.0)
    wf = planning.worst_first(prob)
    brute = _brute_force(prob)
    assert best.status == "optimal"
    assert best.objective == pytest.approx(brute, rel=1e-9)
    assert best.objective >= wf.objective - 1e-9
    for plan in (best, wf):
        assert all(s <= b + 1e-6 for s, b in zip(plan.spend_by_year, prob.budgets, strict=True))


def test_identical_assets_are_counted_once_and_the_plan_equals_brute_force() -> None:
    """5 assets (three identical class 3 bridges) x 2 years, budgets that bind: the
    aggregated model (one integer count per type) gives the brute-force optimum of all 9^5
    plans, and hands each identical asset at most one treatment."""
    same = [planning.PlanAsset(i, "bridge", np.eye(5)[2], size=800.0) for i in range(3)]
    others = [
        planning.PlanAsset(3, "bridge", np.eye(5)[1], size=1200.0, weight=1.5),
        planning.PlanAsset(4, "tunnel", np.eye(5)[3], size=300.0),
    ]
    prob = planning.build_problem(
        same + others, transition={"all": TRUE_P}, budgets_cny=[2.0e6, 1.5e6]
    )
    type_of, counts = planning.asset_types(prob)
    assert sorted(counts.tolist()) == [1, 1, 3] and len(set(type_of[:3].tolist())) == 1
    best = planning.solve_milp(prob, mip_rel_gap=0.0)
    assert best.solver["asset_types"] == 3
    assert best.status == "optimal" and best.gap is not None and best.gap <= 1e-9
    assert best.objective == pytest.approx(_brute_force(prob), rel=1e-9)
    treated = [c["asset_id"] for c in best.choices]
    assert len(treated) == len(set(treated)) and sum(1 for t in treated if t < 3) >= 2
    assert all(s <= b + 1e-6 for s, b in zip(best.spend_by_year, prob.budgets, strict=True))


def test_plan_effects_and_budgets_at_scale() -> None:
    prob = planning.build_problem(_assets(60, 2), transition={"all": TRUE_P}, budgets_cny=[6e6] * 5)
    best = planning.solve_milp(prob, time_limit_s=5, mip_rel_gap=1e-3)
    wf = planning.worst_first(prob)
    assert best.objective > wf.objective > prob.base.sum()
    assert len(best.condition_by_year) == 5 and all(0 < c <= 100 for c in best.condition_by_year)
    assert all(s <= 6e6 + 1e-6 for s in best.spend_by_year)
    assert {c["action"] for c in best.choices} <= set(planning.ACTIONS)
    with pytest.raises(GradingError, match="budgets_cny"):
        planning.build_problem(_assets(3, 1), transition={"all": TRUE_P}, budgets_cny=[-1.0])


def test_fit_by_traffic_band_finds_that_heavy_traffic_wears_faster() -> None:
    """Synthetic history of 120 bridges, half on a heavy-vehicle corridor (21,000 heavy
    vehicles a day), half on a quiet road (250 a day): the per-band fits recover faster
    deterioration for the heavy band, with credible intervals that do not overlap."""
    heavy = {"aadt": 60_000, "heavy_vehicle_share": 0.35}
    light = {"aadt": 5_000, "heavy_vehicle_share": 0.05}
    specs = [
        history.AssetSpec(i, "bridge", dt.date(1995 + i % 20, 1, 1), heavy if i % 2 else light)
        for i in range(1, 121)
    ]
    recs = history.generate(specs, seed=5, years=12, today=dt.date(2026, 6, 1))
    band = {
        s.asset_id: markov.traffic_band(s.attributes["aadt"], s.attributes["heavy_vehicle_share"])
        for s in specs
    }
    assert set(band.values()) == {"traffic heavy", "traffic light"}
    assert markov.traffic_band(None, 0.3) == "traffic unknown"
    assert markov.traffic_band(20_000, 0.2) == "traffic medium"
    obs = [markov.Observation(r["asset_id"], r["inspected_on"], r["condition_class"]) for r in recs]
    fits = markov.fit_groups(obs, group_of=lambda o: band[int(o.asset_id)])  # type: ignore[call-overload]
    h, li = fits["traffic heavy"], fits["traffic light"]
    assert h.n_pairs > 300 and li.n_pairs > 300

    def years_in_classes_1_to_3(m: np.ndarray) -> float:
        return float(sum(1.0 / (1.0 - m[i, i]) for i in range(3)))

    assert years_in_classes_1_to_3(h.matrix) < 0.5 * years_in_classes_1_to_3(li.matrix)
    assert h.intervals()[1][1, 1] < li.intervals()[0][1, 1]  # class 2 stay: heavy hi < light lo
    assert history.traffic_factor(heavy) > 1.5 > 0.8 > history.traffic_factor(light)  # type: ignore[operator]
    rng = np.random.default_rng(1)
    t = history.synthetic_traffic("motorway_link", rng=rng, port_corridor=True)
    assert 40_000 <= t["aadt"] <= 80_000 and t["heavy_vehicle_share"] >= 0.4
    assert t["traffic_synthetic"] is True


def test_synthetic_history_is_seeded_labelled_and_graded() -> None:
    specs = [
        history.AssetSpec(i, "bridge" if i % 4 else "tunnel", dt.date(1990 + i % 20, 1, 1))
        for i in range(1, 25)
    ]
    today = dt.date(2026, 6, 1)
    a = history.generate(specs, seed=7, years=12, today=today)
    b = history.generate(specs, seed=7, years=12, today=today)
    assert [(r["asset_id"], r["inspected_on"], r["overall_score"]) for r in a] == [
        (r["asset_id"], r["inspected_on"], r["overall_score"]) for r in b
    ]
    assert all(r["synthetic"] and "SYNTHETIC" in r["notes"] for r in a)
    years = {r["inspected_on"].year for r in a}
    assert min(years) == 2014 and max(years) == 2025  # 12 full years
    per_asset = {i: sum(r["asset_id"] == i for r in a) for i in range(1, 25)}
    assert min(per_asset.values()) >= 8  # about one year in ten skipped
    br = next(r for r in a if r["asset_id"] == 1)
    from assets.bridge_condition import assess_bridge_json

    assert assess_bridge_json(br["component_scores"]).klass == br["condition_class"]
    f = markov.fit(
        [markov.Observation(r["asset_id"], r["inspected_on"], r["condition_class"]) for r in a]
    )
    assert f.n_pairs > 100
