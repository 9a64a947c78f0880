"""Markov deterioration models fitted from inspection history, with their uncertainty.

States are the condition classes 1..5 (index 0..4). The one-year transition matrix is
estimated by maximum likelihood from counts of consecutive inspection pairs of the same
asset **whose gap is one year** (within a tolerance; pairs with longer gaps are not
converted through a matrix root, which can give negative or complex entries, they are
counted and reported as excluded). Pairs that improve (class goes down) are attributed
to maintenance and excluded from the deterioration model (``monotone=True``), as are
pairs that jump more than ``max_step`` classes in a year.

Uncertainty: each row gets a Dirichlet prior on its allowed cells (``prior`` pseudo-counts
per cell; groups borrow strength from the pooled fit, see :func:`fit_groups`), so its
posterior is Dirichlet(prior + counts). The point estimate is the posterior mean; each
cell's credible interval comes from its Beta marginal; forecast bands come from
propagating matrices drawn from the posterior.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from assets.errors import GradingError

N_CLASSES = 5
YEAR_DAYS = 365.25

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Observation:
    """One graded inspection of one asset."""

    asset_id: Hashable
    inspected_on: dt.date
    condition_class: int


@dataclass(frozen=True)
class MarkovFit:
    """A fitted one-year transition matrix with its Dirichlet posterior."""

    counts: FloatArray  # (5, 5) yearly pair counts used
    alpha: FloatArray  # (5, 5) posterior Dirichlet parameters (0 on disallowed cells)
    credible: float
    n_pairs: int
    excluded: dict[str, int]
    group: str = "all"

    @property
    def matrix(self) -> FloatArray:
        """Posterior-mean transition matrix (rows sum to 1)."""
        return _row_normalise(self.alpha)

    def intervals(self) -> tuple[FloatArray, FloatArray]:
        """Equal-tailed credible interval of each cell (Beta marginals of the Dirichlet)."""
        a = self.alpha
        a0 = a.sum(axis=1, keepdims=True)
        q = (1.0 - self.credible) / 2.0
        lo = np.zeros_like(a)
        hi = np.zeros_like(a)
        mask = a > 0
        b = np.broadcast_to(a0, a.shape) - a
        full = mask & (b <= 0)  # a cell carrying the whole row (absorbing class 5)
        part = mask & (b > 0)
        lo[part] = stats.beta.ppf(q, a[part], b[part])
        hi[part] = stats.beta.ppf(1.0 - q, a[part], b[part])
        lo[full] = hi[full] = 1.0
        return lo, hi

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """``n`` transition matrices drawn from the posterior, shape (n, 5, 5)."""
        out = np.zeros((n, N_CLASSES, N_CLASSES))
        for i in range(N_CLASSES):
            cells = self.alpha[i] > 0
            out[:, i, cells] = rng.dirichlet(self.alpha[i, cells], size=n)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: matrix, intervals, counts, exclusions."""
        lo, hi = self.intervals()
        return {
            "group": self.group,
            "matrix": np.round(self.matrix, 5).tolist(),
            "lower": np.round(lo, 5).tolist(),
            "upper": np.round(hi, 5).tolist(),
            "credible": self.credible,
            "counts": self.counts.astype(int).tolist(),
            "n_pairs": self.n_pairs,
            "excluded": dict(self.excluded),
            "method": "count MLE on one-year pairs, Dirichlet posterior mean",
        }


def allowed_mask(*, monotone: bool = True, max_step: int = 1) -> NDArray[np.bool_]:
    """Cells a one-year transition may use (deterioration by at most ``max_step``)."""
    i, j = np.indices((N_CLASSES, N_CLASSES))
    if monotone:
        return (j >= i) & (j - i <= max_step)
    return np.abs(j - i) <= max_step


def yearly_pairs(
    observations: Iterable[Observation],
    *,
    tolerance_years: float = 0.25,
    monotone: bool = True,
    max_step: int = 1,
) -> tuple[FloatArray, dict[str, int]]:
    """Counts of (class, class one year later) over consecutive inspections of each asset.

    Returns the (5, 5) count matrix and the number of pairs excluded per reason.
    """
    by_asset: dict[Hashable, list[Observation]] = defaultdict(list)
    for o in observations:
        if o.condition_class not in (1, 2, 3, 4, 5):
            raise GradingError("condition_class", o.condition_class, "an integer 1..5")
        by_asset[o.asset_id].append(o)
    mask = allowed_mask(monotone=monotone, max_step=max_step)
    counts = np.zeros((N_CLASSES, N_CLASSES))
    excluded = {"gap_not_one_year": 0, "improved_maintenance": 0, "jump_too_large": 0}
    for obs in by_asset.values():
        obs.sort(key=lambda o: o.inspected_on)
        for a, b in itertools.pairwise(obs):
            gap = (b.inspected_on - a.inspected_on).days / YEAR_DAYS
            if abs(gap - 1.0) > tolerance_years:
                excluded["gap_not_one_year"] += 1
                continue
            i, j = a.condition_class - 1, b.condition_class - 1
            if monotone and j < i:
                excluded["improved_maintenance"] += 1
            elif not mask[i, j]:
                excluded["jump_too_large"] += 1
            else:
                counts[i, j] += 1
    return counts, excluded


def fit(
    observations: Iterable[Observation],
    *,
    prior: float | FloatArray = 0.5,
    credible: float = 0.90,
    tolerance_years: float = 0.25,
    monotone: bool = True,
    max_step: int = 1,
    group: str = "all",
) -> MarkovFit:
    """Fit the one-year transition matrix from inspections.

    Parameters
    ----------
    observations:
        Graded inspections of any number of assets (any order).
    prior:
        Dirichlet pseudo-counts per allowed cell (a number, or a (5, 5) array); 0.5 is
        the Jeffreys-like default.
    credible:
        Mass of the credible intervals, e.g. 0.90.
    """
    if not 0.0 < credible < 1.0:
        raise GradingError("credible", credible, "a probability in (0, 1)")
    counts, excluded = yearly_pairs(
        observations, tolerance_years=tolerance_years, monotone=monotone, max_step=max_step
    )
    mask = allowed_mask(monotone=monotone, max_step=max_step)
    pri = np.broadcast_to(np.asarray(prior, dtype=float), counts.shape)
    alpha = np.where(mask, counts + pri, 0.0)
    alpha = np.where(mask, np.maximum(alpha, 1e-9), 0.0)
    return MarkovFit(counts, alpha, credible, int(counts.sum()), excluded, group)


def fit_groups(
    observations: Sequence[Observation],
    *,
    group_of: Callable[[Observation], str],
    prior_strength: float = 5.0,
    credible: float = 0.90,
    **kw: Any,
) -> dict[str, MarkovFit]:
    """One fit per group (asset class, age band, traffic band ...) plus ``"all"``.

    Groups borrow strength from the pooled fit: a group's prior is the pooled posterior
    mean times ``prior_strength`` pseudo-observations per row (empirical Bayes), so a
    sparse group falls back towards the pooled matrix and a rich one follows its data.
    """
    pooled = fit(observations, credible=credible, **kw)
    out = {"all": pooled}
    groups: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        groups[group_of(o)].append(o)
    for g, obs in sorted(groups.items()):
        out[g] = fit(obs, prior=pooled.matrix * prior_strength, credible=credible, group=g, **kw)
    return out


def forecast(matrix: FloatArray, initial: FloatArray | int, *, years: int = 30) -> FloatArray:
    """Class distribution for years 0..``years`` (shape (years + 1, 5)).

    ``initial`` is a class 1..5 or a distribution over the classes (shares or counts).
    """
    if not 1 <= years <= 100:
        raise GradingError("years", years, "1..100")
    p = _initial(initial)
    out = np.empty((years + 1, N_CLASSES))
    out[0] = p
    for t in range(1, years + 1):
        p = p @ matrix
        out[t] = p
    return out


def forecast_bands(
    fit_: MarkovFit,
    initial: FloatArray | int,
    *,
    years: int = 30,
    draws: int = 300,
    seed: int = 0,
) -> dict[str, FloatArray]:
    """Forecast with posterior uncertainty: mean and credible band of each class share.

    Returns ``{"mean", "lower", "upper"}`` arrays of shape (years + 1, 5) (each class's
    own band) and ``{"worse_lower", "worse_upper"}`` of shape (years + 1,): the band of
    the class 4 + 5 share (a quantile of the sum, not the sum of the classes' quantiles,
    which would be far too wide: the classes move against each other across draws).
    """
    rng = np.random.default_rng(seed)
    mats = fit_.sample(rng, draws)
    p0 = _initial(initial)
    paths = np.empty((draws, years + 1, N_CLASSES))
    paths[:, 0] = p0
    p = np.broadcast_to(p0, (draws, N_CLASSES)).copy()
    for t in range(1, years + 1):
        p = np.einsum("di,dij->dj", p, mats)
        paths[:, t] = p
    q = (1.0 - fit_.credible) / 2.0
    worse = paths[:, :, 3:].sum(axis=2)  # share in class 4 or 5 of each draw
    return {
        "mean": forecast(fit_.matrix, p0, years=years),
        "lower": np.quantile(paths, q, axis=0),
        "upper": np.quantile(paths, 1.0 - q, axis=0),
        "worse_lower": np.quantile(worse, q, axis=0),
        "worse_upper": np.quantile(worse, 1.0 - q, axis=0),
    }


def expected_path(
    matrix: FloatArray, start_class: int, *, years: int = 30
) -> dict[str, FloatArray]:
    """One asset's expected class and probability of class 4 or worse, years 0..``years``."""
    dist = forecast(matrix, start_class, years=years)
    classes = np.arange(1, N_CLASSES + 1)
    return {
        "year": np.arange(years + 1, dtype=float),
        "expected_class": dist @ classes,
        "p_class_4_or_5": dist[:, 3:].sum(axis=1),
        "distribution": dist,
    }


def age_band(age_years: float, *, edges: Sequence[float] = (15.0, 30.0)) -> str:
    """A label for an age band: ``"age<15"``, ``"age15-30"``, ``"age>=30"``."""
    if age_years < edges[0]:
        return f"age<{edges[0]:g}"
    for lo, hi in itertools.pairwise(edges):
        if age_years < hi:
            return f"age{lo:g}-{hi:g}"
    return f"age>={edges[-1]:g}"


#: Traffic bands by heavy vehicles a day (AADT x heavy-vehicle share), upper edges.
TRAFFIC_BAND_EDGES_HV_PER_DAY: tuple[tuple[str, float], ...] = (
    ("light", 2_000.0),
    ("medium", 8_000.0),
    ("heavy", float("inf")),
)


def heavy_vehicles_per_day(aadt: Any, heavy_share: Any) -> float | None:
    """AADT (vehicles a day, both directions) x heavy-vehicle share (0..1), or None when
    either is missing or out of range."""
    if not isinstance(aadt, int | float) or not isinstance(heavy_share, int | float):
        return None
    if aadt <= 0 or not 0 <= heavy_share <= 1:
        return None
    return float(aadt) * float(heavy_share)


def traffic_band(aadt: Any, heavy_share: Any) -> str:
    """``"traffic light"`` (< 2,000 heavy vehicles a day), ``"traffic medium"``
    (2,000-8,000), ``"traffic heavy"`` (>= 8,000) or ``"traffic unknown"``."""
    hv = heavy_vehicles_per_day(aadt, heavy_share)
    if hv is None:
        return "traffic unknown"
    return "traffic " + next(name for name, hi in TRAFFIC_BAND_EDGES_HV_PER_DAY if hv < hi)


def _initial(initial: FloatArray | int | Mapping[int, float]) -> FloatArray:
    if isinstance(initial, int | np.integer):
        if not 1 <= int(initial) <= N_CLASSES:
            raise GradingError("start_class", initial, "an integer 1..5")
        p = np.zeros(N_CLASSES)
        p[int(initial) - 1] = 1.0
        return p
    arr = np.asarray(initial, dtype=float)
    if arr.shape != (N_CLASSES,) or (arr < 0).any() or arr.sum() <= 0:
        raise GradingError("initial", arr.tolist(), "5 non-negative shares or counts")
    return arr / arr.sum()  # type: ignore[no-any-return]


def _row_normalise(a: FloatArray) -> FloatArray:
    s = a.sum(axis=1, keepdims=True)
    return np.divide(a, s, out=np.zeros_like(a), where=s > 0)  # type: ignore[no-any-return]
