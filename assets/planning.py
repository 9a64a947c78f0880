"""Budgeted multi-year maintenance planning on Markov condition forecasts.

Model
-----
* Each asset has a class distribution now and a one-year transition matrix (from
  :mod:`assets.markov`, per asset group).
* Candidate actions (:data:`DEFAULT_ACTIONS`): ``routine`` (no class change, deterioration
  halved for three years), ``repair`` (one class better), ``rehabilitation`` (two classes
  better), ``replacement`` (class 1). Costs are unit costs in CNY times the asset's size
  (bridge deck area m², tunnel length m, else one unit); the defaults are planning
  assumptions to be replaced by the owner's own rates.
* An alternative for an asset is "do nothing" or one action in one year of the horizon
  (at most one treatment per asset in the horizon; both solvers choose among exactly
  these alternatives, so their objectives compare like with like).
* Objective: maximise the weighted sum over assets and years of the expected condition
  index (class 1 -> 100, 2 -> 87.5, 3 -> 70, 4 -> 50, 5 -> 20; :data:`CONDITION_INDEX`),
  measured at the end of each year, subject to a budget per year.

Solvers: :func:`solve_milp` (exact: scipy.optimize.milp with HiGHS, a multiple-choice
knapsack with one budget row per year) and :func:`worst_first` (the usual practice: each
year treat the assets with the worst expected class first, with the treatment their class
calls for, while the year's budget lasts).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from assets.errors import GradingError

FloatArray = NDArray[np.float64]
N = 5
ACTIONS = ("routine", "repair", "rehabilitation", "replacement")
CONDITION_INDEX = np.array([100.0, 87.5, 70.0, 50.0, 20.0])


@dataclass(frozen=True)
class Action:
    """A maintenance action: its class effect and unit costs per asset kind (CNY)."""

    name: str
    improve_classes: int  # 0: none; 9: back to class 1
    slow_factor: float = 1.0  # deterioration multiplier while the effect lasts
    slow_years: int = 0
    unit_cost_cny: Mapping[str, float] = field(default_factory=dict)


#: Unit costs: bridges per m² of deck, tunnels per metre of bore, others per asset.
#: Planning assumptions (order of magnitude of Chinese highway practice), configurable.
DEFAULT_ACTIONS: dict[str, Action] = {
    "routine": Action("routine", 0, 0.5, 3, {"bridge": 15.0, "tunnel": 400.0, "default": 2_000.0}),
    "repair": Action(
        "repair", 1, 1.0, 0, {"bridge": 450.0, "tunnel": 6_000.0, "default": 20_000.0}
    ),
    "rehabilitation": Action(
        "rehabilitation", 2, 1.0, 0, {"bridge": 2_000.0, "tunnel": 25_000.0, "default": 80_000.0}
    ),
    "replacement": Action(
        "replacement", 9, 1.0, 0, {"bridge": 9_000.0, "tunnel": 120_000.0, "default": 300_000.0}
    ),
}

#: Worst-first rule: the action an expected class calls for; class 2 assets get a repair
#: with the money the worse ones leave (routine upkeep is not a worst-first decision:
#: with one treatment per asset in the horizon it would lock good assets out of the
#: repair they need later).
WORST_FIRST_RULE: tuple[tuple[float, str], ...] = (
    (4.5, "replacement"),
    (3.5, "rehabilitation"),
    (2.5, "repair"),
    (1.5, "repair"),
)


@dataclass(frozen=True)
class PlanAsset:
    """One asset as the planner sees it."""

    asset_id: int
    kind: str
    distribution: FloatArray  # shares of classes 1..5 now
    group: str = "all"
    size: float = 1.0  # deck area m² (bridge), length m (tunnel), else 1
    weight: float = 1.0  # importance (traffic, area ...)


@dataclass
class Problem:
    """Alternatives with their gains and costs, ready for either solver."""

    assets: list[PlanAsset]
    years: int
    budgets: FloatArray
    actions: list[str]
    gain: FloatArray  # (n_assets, n_actions, years): weighted CI-years over doing nothing
    cost: FloatArray  # (n_assets, n_actions)
    base: FloatArray  # (n_assets,): weighted CI-years when doing nothing
    paths: dict[str, FloatArray]  # group -> (n_actions, years + 1, 5, 5) products after action
    transition: dict[str, FloatArray]


@dataclass
class Plan:
    """A solved plan."""

    method: str
    choices: list[dict[str, Any]]
    objective: float
    spend_by_year: list[float]
    condition_by_year: list[float]
    shares_by_year: list[list[float]]
    seconds: float
    status: str
    gap: float | None = None
    solver: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "method": self.method,
            "objective": round(self.objective, 3),
            "status": self.status,
            "gap": self.gap,
            "seconds": round(self.seconds, 4),
            "solver": dict(self.solver),
            "spend_by_year_cny": [round(s, 2) for s in self.spend_by_year],
            "network_condition_by_year": [round(c, 3) for c in self.condition_by_year],
            "class_shares_by_year": [[round(x, 4) for x in row] for row in self.shares_by_year],
            "actions": self.choices,
        }


def _effect(action: Action) -> FloatArray:
    e = np.zeros((N, N))
    for c in range(N):
        e[c, 0 if action.improve_classes >= 9 else max(0, c - action.improve_classes)] = 1.0
    return e


def _after_products(p: FloatArray, action: Action, years: int) -> FloatArray:
    """E_a @ M_1 @ ... @ M_k for k = 0..years (M slowed while the action's effect lasts)."""
    slow = np.eye(N) + action.slow_factor * (p - np.eye(N))
    out = np.empty((years + 1, N, N))
    m = _effect(action)
    out[0] = m
    for k in range(1, years + 1):
        m = m @ (slow if k <= action.slow_years else p)
        out[k] = m
    return out


def build_problem(
    assets: Sequence[PlanAsset],
    *,
    transition: Mapping[str, FloatArray],
    budgets_cny: Sequence[float],
    actions: Mapping[str, Action] | None = None,
) -> Problem:
    """Precompute every alternative's gain (weighted expected condition-index years over
    doing nothing) and cost.

    Parameters
    ----------
    assets:
        The assets to plan.
    transition:
        Group -> one-year transition matrix (``"all"`` is the fallback).
    budgets_cny:
        Budget of each plan year, CNY; the horizon is its length.
    """
    acts = dict(actions or DEFAULT_ACTIONS)
    years = len(budgets_cny)
    if not 1 <= years <= 50:
        raise GradingError("budgets_cny", list(budgets_cny), "1..50 yearly budgets")
    if any(b < 0 for b in budgets_cny):
        raise GradingError("budgets_cny", list(budgets_cny), "budgets >= 0 CNY")
    if not assets:
        raise GradingError("assets", [], "at least one asset to plan")
    if "all" not in transition:
        raise GradingError("transition", sorted(transition), "a matrix for group 'all'")
    names = list(acts)
    n = len(assets)
    groups = sorted({a.group if a.group in transition else "all" for a in assets})
    paths = {
        g: np.stack([_after_products(transition[g], acts[a], years) for a in names]) for g in groups
    }
    # pre-action distributions when doing nothing: d_t = d_0 P^t, t = 0..years
    d0 = np.stack([_norm(a.distribution) for a in assets])
    gidx = np.array([groups.index(a.group if a.group in transition else "all") for a in assets])
    pre = np.empty((n, years + 1, N))
    pre[:, 0] = d0
    for g_i, g in enumerate(groups):
        sel = gidx == g_i
        for t in range(1, years + 1):
            pre[sel, t] = pre[sel, t - 1] @ transition[g]
    w = np.array([a.weight for a in assets])
    ci_pre = pre @ CONDITION_INDEX  # (n, years + 1); end of year t is index t + 1
    base = w * ci_pre[:, 1:].sum(axis=1)
    gain = np.zeros((n, len(names), years))
    for g_i, g in enumerate(groups):
        sel = np.flatnonzero(gidx == g_i)
        ci_after = (
            paths[g] @ CONDITION_INDEX
        )  # (n_actions, years + 1, 5): class -> CI after k years
        cum = np.cumsum(ci_after[:, 1:, :], axis=1)  # sum_{k=1..m}
        for y in range(years):
            m = years - y  # end-of-year measurements from year y on
            with_action = pre[sel, y] @ cum[:, m - 1, :].T  # (n_sel, n_actions)
            without = ci_pre[sel, y + 1 :].sum(axis=1)
            gain[sel, :, y] = w[sel, None] * (with_action - without[:, None])
    cost = np.array([[_unit(acts[a], asset.kind) * asset.size for a in names] for asset in assets])
    return Problem(
        list(assets),
        years,
        np.asarray(budgets_cny, float),
        names,
        gain,
        cost,
        base,
        paths,
        dict(transition),
    )


def _unit(action: Action, kind: str) -> float:
    return float(action.unit_cost_cny.get(kind, action.unit_cost_cny.get("default", 0.0)))


def _norm(d: FloatArray) -> FloatArray:
    arr = np.asarray(d, dtype=float)
    if arr.shape != (N,) or (arr < 0).any() or arr.sum() <= 0:
        raise GradingError("distribution", arr.tolist(), "5 non-negative class shares")
    return arr / arr.sum()  # type: ignore[no-any-return]


#: Above this many (aggregated) variables the LP relaxation, rounding and reduced-cost
#: fixing run before ``milp`` (10,000 assets); below it ``milp`` gets the whole model.
LP_FIX_MIN_VARIABLES = 20_000


def asset_types(problem: Problem) -> tuple[NDArray[np.int_], NDArray[np.int_]]:
    """(type of each asset, assets per type): assets with identical gains and costs for
    every alternative are interchangeable (same kind, group, class distribution, size and
    weight), so the exact model chooses how many of a type get each alternative."""
    n = problem.gain.shape[0]
    keys = np.concatenate([problem.gain.reshape(n, -1), problem.cost], axis=1)
    _, type_of, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    return type_of.ravel().astype(int), counts.astype(int)


def solve_milp(
    problem: Problem,
    *,
    time_limit_s: float = 120.0,
    mip_rel_gap: float = 0.0,
    reduce: bool = True,
) -> Plan:
    """The exact plan with scipy's HiGHS (``milp``).

    Alternatives with no gain, over the year's budget, or dominated by a
    cheaper-and-better action of the same asset and year are left out (never needed for
    an optimum). Identical assets are aggregated (:func:`asset_types`): one integer
    variable per type, alternative and year counts how many of the type get it (bounded
    by the type's size), one row per type caps the total, one budget row per year (costs
    scaled to the largest budget). This is the same model as one 0/1 variable per asset
    and alternative, without its symmetric copies: permuting identical assets gives
    equal plans that branch-and-bound would otherwise explore one by one.

    ``mip_rel_gap`` is relative to the plan's objective (the network's weighted
    condition-index years, doing nothing included: :attr:`Plan.objective`); 0 asks for a
    proven optimum, HiGHS's default is 1e-4. The plan reports the proven gap both on
    the objective (``gap``) and on the gain over doing nothing (``solver.gap_vs_gain``).

    Above :data:`LP_FIX_MIN_VARIABLES` variables (with ``reduce``), the LP relaxation
    (``linprog``, HiGHS) gives an upper bound and reduced costs; rounding its solution
    gives a feasible plan; every variable whose reduced cost exceeds the gap between the
    two can take no other value in any better plan, so it is fixed (textbook reduced-cost
    fixing) and ``milp`` solves what is left.
    """
    t0 = time.perf_counter()
    n, na, ny = problem.gain.shape
    base = float(problem.base.sum())
    cost3 = np.broadcast_to(problem.cost[:, :, None], (n, na, ny))
    keep = (problem.gain > 1e-9) & (cost3 <= problem.budgets[None, None, :] + 1e-6)
    keep &= ~_dominated(problem.gain, cost3)
    type_of, counts = asset_types(problem)
    reps = np.zeros(counts.size, int)
    reps[type_of[::-1]] = np.arange(n)[::-1]  # first asset of each type
    idx = np.flatnonzero(keep[reps].ravel())  # alternatives of the types' representatives
    info: dict[str, Any] = {
        "assets": n,
        "asset_types": int(counts.size),
        "variables": int(idx.size),
    }
    if idx.size == 0:
        plan = _plan(problem, np.zeros(0, int), "milp", time.perf_counter() - t0, "optimal", 0.0)
        plan.solver = info
        return plan
    upper = float(problem.gain.max(axis=(1, 2)).clip(0).sum())  # no plan gains more
    if reduce and idx.size > LP_FIX_MIN_VARIABLES:
        return _solve_with_lp_fixing(
            problem, keep, cost3, base, upper, time_limit_s, mip_rel_gap, t0
        )
    t_of, y_of = idx // (na * ny), idx % ny
    g, c = problem.gain[reps].ravel()[idx], cost3[reps].ravel()[idx]
    lp_bound = _lp_bound(g, c, t_of, y_of, counts, problem.budgets)
    x, status, dual = _milp(
        g, c, t_of, y_of, counts, problem.budgets, time_limit_s,
        _highs_gap(mip_rel_gap, base, min(upper, lp_bound or upper)),
    )  # fmt: skip
    # disaggregate: the type's assets in order take its chosen alternatives
    chosen: list[int] = []
    members = {t: list(np.flatnonzero(type_of == t)) for t in np.unique(t_of[x > 0.5])}
    for k in np.flatnonzero(x > 0.5):
        t = int(t_of[k])
        a, y = divmod(int(idx[k] % (na * ny)), ny)
        for _ in range(int(x[k])):  # x is rounded
            chosen.append((members[t].pop(0) * na + a) * ny + y)
    found = float(g @ np.round(x))
    plan = _plan(problem, np.array(chosen, int), "milp", time.perf_counter() - t0, status, None)
    if lp_bound is not None:
        info["lp_bound"] = round(lp_bound, 6)
    bound = lp_bound if dual is None else dual if lp_bound is None else min(dual, lp_bound)
    _set_gap(plan, info, base=base, found=found, bound=bound, asked=mip_rel_gap)
    return plan


def _highs_gap(gap: float, base: float, upper: float) -> float:
    """HiGHS's gap (relative to its objective, the gain over doing nothing) that ensures
    ``gap`` relative to the plan objective (base + gain) for any gain up to ``upper`` (an
    upper bound: the tighter, the sooner HiGHS may stop; 1 % margin for its rounding)."""
    return 0.0 if gap <= 0 or upper <= 0 else 0.99 * gap * (base + upper) / upper


def _lp_bound(
    g: FloatArray,
    c: FloatArray,
    t_of: NDArray[np.int_],
    y_of: NDArray[np.int_],
    counts: NDArray[np.int_],
    budgets: FloatArray,
) -> float | None:
    """The LP relaxation's optimum (an upper bound on the gain), None if it fails."""
    nv = g.size
    cols = np.arange(nv)
    scale = max(float(budgets.max()), 1.0)
    a = sparse.vstack(
        [
            sparse.csr_array((np.ones(nv), (t_of, cols)), shape=(counts.size, nv)),
            sparse.csr_array((c / scale, (y_of, cols)), shape=(len(budgets), nv)),
        ]
    ).tocsr()
    b = np.concatenate([counts.astype(float), budgets / scale])
    lp = linprog(-g, A_ub=a, b_ub=b, bounds=np.c_[np.zeros(nv), counts[t_of]], method="highs")
    return -float(lp.fun) * (1 + 1e-9) + 1e-9 if lp.status == 0 else None


def _set_gap(
    plan: Plan, info: dict[str, Any], *, base: float, found: float, bound: float | None,
    asked: float,
) -> None:  # fmt: skip
    """Proven gaps from the dual bound; status ``optimal`` when within the asked gap."""
    if bound is not None:
        slack = max(0.0, bound - found)
        plan.gap = slack / max(abs(base + found), 1e-9)
        info["dual_bound_gain"] = round(bound, 6)
        info["gap_vs_gain"] = slack / max(abs(found), 1e-9)
        proven = plan.gap <= asked + 1e-9 or slack <= 1e-6 * max(1.0, abs(found))
        if proven:
            plan.status = "optimal"  # as HiGHS says it: proven within the asked gap
        elif plan.status == "optimal":
            plan.status = "feasible (gap above the asked one)"
    info["gap_asked"] = asked
    info["gap_on"] = "plan objective (weighted condition-index years incl. doing nothing)"
    plan.solver = info


def _solve_with_lp_fixing(
    problem: Problem,
    keep: NDArray[np.bool_],
    cost3: FloatArray,
    base: float,
    upper: float,
    time_limit_s: float,
    mip_rel_gap: float,
    t0: float,
) -> Plan:
    """Large models: LP bound, LP-rounded incumbent, reduced-cost fixing, then ``milp``
    on the free 0/1 variables (one per asset and alternative)."""
    n, na, ny = problem.gain.shape
    idx = np.flatnonzero(keep.ravel())
    i_of, y_of = idx // (na * ny), idx % ny
    g, c = problem.gain.ravel()[idx], cost3.ravel()[idx]
    ones = np.ones(n, int)
    fixed_one, free, incumbent, info = _reduced_cost_fixing(
        g, c, i_of, y_of, n, problem.budgets, time_limit_s
    )
    info = {"assets": n, "asset_types": n, **info}
    if "lp_bound" in info:
        lp_bound = float(info["lp_bound"])
        inc = float(info["incumbent"])
        if lp_bound - inc <= mip_rel_gap * (base + inc):  # the LP-rounded plan is close enough
            plan = _plan(problem, idx[incumbent], "milp", time.perf_counter() - t0, "optimal", None)
            _set_gap(plan, {**info, "free_variables": 0}, base=base, found=inc, bound=lp_bound,
                     asked=mip_rel_gap)  # fmt: skip
            return plan
    left = problem.budgets - np.bincount(y_of[fixed_one], c[fixed_one], minlength=ny)
    done_assets = np.zeros(n, bool)
    done_assets[i_of[fixed_one]] = True
    free &= ~done_assets[i_of]
    info["free_variables"] = int(free.sum())
    remaining = max(5.0, time_limit_s - (time.perf_counter() - t0))
    sel = np.flatnonzero(free)
    pick = fixed_one.copy()
    status = "optimal"
    sub_bound: float | None = 0.0
    if sel.size:
        x, status, sub_bound = _milp(
            g[sel], c[sel], i_of[sel], y_of[sel], ones, left, remaining,
            _highs_gap(mip_rel_gap, base, float(info.get("lp_bound", upper))),
        )  # fmt: skip
        pick[sel[x > 0.5]] = True
    if incumbent.any() and g[incumbent].sum() > g[pick].sum() + 1e-9:
        pick = incumbent  # the milp ran out of time below the LP-rounded plan
        status = f"{status}; LP-rounded incumbent kept"
    found = float(g[pick].sum())
    bound: float | None = None
    if sub_bound is not None and "lp_bound" in info:
        # every plan better than the incumbent has the fixed values: the best is at most
        # the incumbent or the fixed part plus the rest's bound
        bound = max(float(info["incumbent"]), float(g[fixed_one].sum()) + sub_bound)
    elif sub_bound is not None:
        bound = sub_bound
    if "lp_bound" in info:
        bound = (
            min(bound, float(info["lp_bound"])) if bound is not None else float(info["lp_bound"])
        )
    plan = _plan(problem, idx[pick], "milp", time.perf_counter() - t0, status, None)
    _set_gap(plan, info, base=base, found=found, bound=bound, asked=mip_rel_gap)
    return plan


def _milp(
    g: FloatArray,
    c: FloatArray,
    t_of: NDArray[np.int_],
    y_of: NDArray[np.int_],
    counts: NDArray[np.int_],
    budgets: FloatArray,
    time_limit_s: float,
    mip_rel_gap: float,
) -> tuple[FloatArray, str, float | None]:
    """Solve the integer model on these variables: x[k] <= counts[t_of[k]], one row per
    type (``sum x <= count``), one budget row per year. Returns x (all zeros, i.e. do
    nothing, when the time limit leaves no solution), the status and HiGHS's dual bound
    on the gain (None when unknown)."""
    nv = g.size
    cols = np.arange(nv)
    scale = max(float(budgets.max()), 1.0)  # budget rows ~1, not 1e7: HiGHS warns otherwise
    cons = [
        LinearConstraint(
            sparse.csr_array((np.ones(nv), (t_of, cols)), shape=(counts.size, nv)), -np.inf,
            counts.astype(float),
        ),
        LinearConstraint(
            sparse.csr_array((c / scale, (y_of, cols)), shape=(len(budgets), nv)), -np.inf,
            budgets / scale,
        ),
    ]  # fmt: skip
    res = milp(
        -g,
        constraints=cons,
        integrality=np.ones(nv),
        bounds=Bounds(0, counts[t_of].astype(float)),
        options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap, "presolve": True},
    )
    status = "optimal" if res.status == 0 else f"status {res.status}: {res.message}"
    dual = getattr(res, "mip_dual_bound", None)
    bound = None if dual is None or not np.isfinite(dual) else -float(dual)
    if res.x is None:  # time limit before any solution: the caller falls back
        return np.zeros(nv), status, bound
    x = np.round(res.x)
    # the rounded solution must still fit (HiGHS's integrality tolerance is 1e-6)
    spend = np.bincount(y_of, c * x, minlength=len(budgets))
    if (spend > budgets + 1e-6 * scale).any():
        return np.zeros(nv), "rounded solution over budget", bound
    return x, status, bound


def _reduced_cost_fixing(
    g: FloatArray,
    c: FloatArray,
    i_of: NDArray[np.int_],
    y_of: NDArray[np.int_],
    n: int,
    budgets: FloatArray,
    time_limit_s: float,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], dict[str, Any]]:
    """(fixed at 1, still free, incumbent, info) from the LP bound and a rounded incumbent."""
    nv = g.size
    cols = np.arange(nv)
    a = sparse.vstack(
        [
            sparse.csr_array((np.ones(nv), (i_of, cols)), shape=(n, nv)),
            sparse.csr_array((c, (y_of, cols)), shape=(len(budgets), nv)),
        ]
    ).tocsr()
    t_lp = time.perf_counter()
    lp = linprog(
        -g, A_ub=a, b_ub=np.concatenate([np.ones(n), budgets]), bounds=(0, 1), method="highs-ipm"
    )
    lp_seconds = time.perf_counter() - t_lp
    if lp.status != 0:
        none = np.zeros(nv, bool)
        return none, ~none, none, {"variables": nv, "lp": lp.message}
    x = lp.x
    bound = -float(lp.fun)
    one = x > 1 - 1e-7
    zero = x < 1e-7
    split_assets = np.zeros(n, bool)
    split_assets[i_of[~one & ~zero]] = True
    # incumbent: keep the LP's whole choices, re-solve the split assets on what is left
    base_one = one & ~split_assets[i_of]
    left = budgets - np.bincount(y_of[base_one], c[base_one], minlength=len(budgets))
    sub = np.flatnonzero(split_assets[i_of])
    inc_mask = base_one.copy()
    if sub.size:
        xs, _, _ = _milp(
            g[sub], c[sub], i_of[sub], y_of[sub], np.ones(n, int), np.maximum(left, 0),
            time_limit_s / 4, 0.0,
        )  # fmt: skip
        inc_mask[sub[xs > 0.5]] = True
    incumbent = float(g[inc_mask].sum())
    slack = bound - incumbent + 1e-7 * max(1.0, abs(bound))
    rc_low = np.asarray(lp.lower.marginals)  # >= 0 at x = 0: bound lost per unit raised
    rc_up = -np.asarray(lp.upper.marginals)  # >= 0 at x = 1: bound lost per unit lowered
    fix_zero = zero & (rc_low > slack)
    fix_one = one & (rc_up > slack)
    free = ~(fix_zero | fix_one)
    info = {
        "variables": nv,
        "lp_bound": round(bound, 6),
        "incumbent": round(incumbent, 6),
        "fixed_at_0": int(fix_zero.sum()),
        "fixed_at_1": int(fix_one.sum()),
        "split_assets": int(split_assets.sum()),
        "lp_seconds": round(lp_seconds, 3),
    }
    return fix_one, free, inc_mask, info


def _dominated(gain: FloatArray, cost3: FloatArray) -> NDArray[np.bool_]:
    """Alternatives another action of the same asset and year beats: no dearer and at least
    as good, one of them strictly (e.g. replacing a class 2 bridge gains what
    rehabilitating it gains, at a higher cost). Removing them keeps the optimum."""
    out = np.zeros(gain.shape, bool)
    na = gain.shape[1]
    for a in range(na):
        for b in range(na):
            if a == b:
                continue
            ga, gb = gain[:, a, :], gain[:, b, :]
            ca, cb = cost3[:, a, :], cost3[:, b, :]
            strict = (gb > ga + 1e-9) | (cb < ca - 1e-6)
            tie_break = (gb >= ga - 1e-9) & (cb <= ca + 1e-6) & ~strict & (b < a)
            out[:, a, :] |= ((gb >= ga - 1e-9) & (cb <= ca + 1e-6) & strict) | tie_break
    return out


def worst_first(problem: Problem, *, rule: Sequence[tuple[float, str]] = WORST_FIRST_RULE) -> Plan:
    """The usual practice: each year, rank untreated assets by expected class (worst first,
    heavier weight first on ties) and give each the treatment its class calls for while
    the year's budget lasts (an asset too dear for what is left is skipped)."""
    t0 = time.perf_counter()
    n, na, ny = problem.gain.shape
    pre = _pre_distributions(problem)
    exp_class = pre[:, :, :] @ np.arange(1, N + 1)  # (n, years + 1)
    weights = np.array([a.weight for a in problem.assets])
    treated = np.zeros(n, bool)
    chosen: list[int] = []
    for y in range(ny):
        left = problem.budgets[y]
        order = np.lexsort((-weights, -exp_class[:, y]))
        for i in order:
            if treated[i]:
                continue
            act = next((name for bound, name in rule if exp_class[i, y] >= bound), None)
            if act is None:
                break  # sorted: everyone after is better still
            a = problem.actions.index(act)
            c = problem.cost[i, a]
            if c <= left:
                left -= c
                treated[i] = True
                chosen.append((i * na + a) * ny + y)
    return _plan(
        problem, np.array(chosen, int), "worst_first", time.perf_counter() - t0, "heuristic", None
    )


def _pre_distributions(problem: Problem) -> FloatArray:
    n, ny = len(problem.assets), problem.years
    pre = np.empty((n, ny + 1, N))
    for i, a in enumerate(problem.assets):
        p = problem.transition.get(a.group, problem.transition["all"])
        d = _norm(a.distribution)
        pre[i, 0] = d
        for t in range(1, ny + 1):
            d = d @ p
            pre[i, t] = d
    return pre


def _plan(
    problem: Problem,
    chosen: NDArray[np.int_],
    method: str,
    seconds: float,
    status: str,
    gap: float | None,
) -> Plan:
    _n, na, ny = problem.gain.shape
    weights = np.array([a.weight for a in problem.assets])
    pre = _pre_distributions(problem)
    ends = pre[:, 1:, :].copy()  # (n, years, 5) end-of-year distributions, do nothing
    spend = np.zeros(ny)
    choices = []
    for flat in chosen.tolist():
        i, rem = divmod(int(flat), na * ny)
        a, y = divmod(rem, ny)
        asset = problem.assets[i]
        grp = asset.group if asset.group in problem.paths else "all"
        prods = problem.paths[grp][a]  # (years + 1, 5, 5)
        for t in range(y, ny):
            ends[i, t] = pre[i, y] @ prods[t - y + 1]
        spend[y] += problem.cost[i, a]
        choices.append(
            {
                "asset_id": asset.asset_id,
                "year_index": y,
                "action": problem.actions[a],
                "cost_cny": round(float(problem.cost[i, a]), 2),
                "expected_class_before": round(float(pre[i, y] @ np.arange(1, N + 1)), 3),
            }
        )
    ci = ends @ CONDITION_INDEX  # (n, years)
    objective = float((weights[:, None] * ci).sum())
    wsum = weights.sum()
    cond = (weights[:, None] * ci).sum(axis=0) / wsum
    shares = (weights[:, None, None] * ends).sum(axis=0) / wsum
    choices.sort(key=lambda c: (c["year_index"], c["asset_id"]))
    return Plan(
        method,
        choices,
        objective,
        spend.tolist(),
        cond.tolist(),
        shares.tolist(),
        seconds,
        status,
        gap,
    )
