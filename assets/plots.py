"""Figures an engineer reads: class shares stacked over time, one asset's expected path.

Built on ``matplotlib.figure.Figure`` with the Agg canvas (no pyplot global state, safe
in a web server's threads); each builder returns PNG bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray

#: Class colours from good (green) to bad (dark red), the usual condition palette.
CLASS_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#b2182b")
CLASS_LABELS = ("class 1", "class 2", "class 3", "class 4", "class 5")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def stacked_shares_png(
    shares: NDArray[np.float64],
    *,
    start_year: int,
    title: str,
    bands: Mapping[str, NDArray[np.float64]] | None = None,
) -> bytes:
    """Stacked area of class shares (rows: years 0..n, columns: classes 1..5), with the
    credible band of the class 4+5 share drawn as a dashed envelope when ``bands`` given."""
    years = start_year + np.arange(shares.shape[0])
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    ax.stackplot(years, (shares * 100).T, colors=CLASS_COLOURS, labels=CLASS_LABELS, alpha=0.9)
    if bands is not None and "worse_lower" in bands:
        # the class 3/4 boundary is 100 - share of class 4+5: its band, drawn there
        ax.plot(years, 100 - bands["worse_upper"] * 100, "k--", lw=0.8,
                label="class 4+5 share, credible band")  # fmt: skip
        ax.plot(years, 100 - bands["worse_lower"] * 100, "k--", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(years[0], years[-1])
    ax.set_ylim(0, 100)
    ax.set_xlabel("year")
    ax.set_ylabel("share of assets, %")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def expected_path_png(
    path: Mapping[str, NDArray[np.float64]],
    *,
    start_year: int,
    title: str,
) -> bytes:
    """One asset's expected class over time, with the probability of class 4 or worse."""
    years = start_year + path["year"]
    fig = Figure(figsize=(7.5, 4.0))
    ax = fig.add_subplot()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.plot(years, path["expected_class"], color="#2c7bb6", lw=2, label="expected class")
    ax.set_ylim(5.2, 0.8)  # class 1 at the top: up is better
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_ylabel("condition class (1 best)")
    ax.set_xlabel("year")
    for k, c in enumerate(CLASS_COLOURS, start=1):
        ax.axhspan(k - 0.5, k + 0.5, color=c, alpha=0.12)
    ax2 = ax.twinx()
    ax2.plot(years, path["p_class_4_or_5"] * 100, color="#d7191c", ls="--", label="P(class 4 or 5)")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("probability of class 4 or 5, %")
    ax.set_title(title)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)
