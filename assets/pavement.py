"""Highway technical condition MQI by JTG 5210-2018 (公路技术状况评定标准).

``MQI = 0.08 SCI + 0.70 PQI + 0.12 BCI + 0.10 TCI`` (verified from secondary sources per
STANDARDS.md); grades for MQI and every sub-index: excellent >= 90, good [80, 90),
fair [70, 80), poor [60, 70), bad < 60 (from JTG H20-2007, likely unchanged).

UNVERIFIED, therefore configurable (:class:`PavementTable`): the PQI sub-index weights per
road class and surface (JTG 5210-2018 PQI weight table), the PCI/RQI/RDI model
parameters (JTG 5210-2018 PCI, RQI and RDI formulas: ``PCI = 100 - a0 DR^a1``,
``RQI = 100 / (1 + a0 exp(a1 IRI))``, piecewise-linear RDI) and the mapping from bridge
classes to BCI (class 1 -> 100 ... class 5 -> 0, worst bridge of the section governs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assets.errors import GradingError

#: Clause: MQI weights (verified from secondary sources).
MQI_WEIGHTS: dict[str, float] = {"SCI": 0.08, "PQI": 0.70, "BCI": 0.12, "TCI": 0.10}
#: Grade bands (excellent, good, fair, poor lower bounds).
GRADE_BOUNDS: tuple[tuple[str, float], ...] = (
    ("excellent", 90.0),
    ("good", 80.0),
    ("fair", 70.0),
    ("poor", 60.0),
)
GRADES = ("excellent", "good", "fair", "poor", "bad")

_HIGH = ("motorway", "trunk")  # expressway and first-class highways

#: (road class group, surface) -> PQI sub-index weights. Unverified; configurable.
DEFAULT_PQI_WEIGHTS: dict[tuple[str, str], dict[str, float]] = {
    ("high", "asphalt"): {"PCI": 0.35, "RQI": 0.30, "RDI": 0.15, "PBI": 0.10, "PWI": 0.10},
    ("high", "concrete"): {"PCI": 0.50, "RQI": 0.30, "PBI": 0.10, "PWI": 0.10},
    ("other", "asphalt"): {"PCI": 0.60, "RQI": 0.40},
    ("other", "concrete"): {"PCI": 0.60, "RQI": 0.40},
}
#: Surface -> (a0, a1) of PCI = 100 - a0 * DR^a1 (DR, damage ratio in percent). Unverified.
DEFAULT_PCI_PARAMS: dict[str, tuple[float, float]] = {
    "asphalt": (15.00, 0.412),
    "concrete": (10.66, 0.461),
}
#: Road class group -> (a0, a1) of RQI = 100 / (1 + a0 exp(a1 IRI)). Unverified.
DEFAULT_RQI_PARAMS: dict[str, tuple[float, float]] = {
    "high": (0.026, 0.65),
    "other": (0.0185, 0.58),
}
#: Bridge class -> BCI. Unverified; configurable.
DEFAULT_BCI_BY_CLASS: dict[int, float] = {1: 100.0, 2: 80.0, 3: 60.0, 4: 40.0, 5: 0.0}


@dataclass(frozen=True)
class PavementTable:
    """The configurable (unverified) numbers of the pavement assessment."""

    pqi_weights: Mapping[tuple[str, str], Mapping[str, float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_PQI_WEIGHTS.items()}
    )
    pci_params: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_PCI_PARAMS)
    )
    rqi_params: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_RQI_PARAMS)
    )
    bci_by_class: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_BCI_BY_CLASS))
    rdi_breaks_mm: tuple[float, float] = (10.0, 40.0)
    rdi_slopes: tuple[float, float] = (1.0, 3.0)


@dataclass(frozen=True)
class PavementAssessment:
    """The result of grading a section."""

    mqi: float
    grade: str
    sub: dict[str, float]
    pqi_parts: dict[str, float]
    grades: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "mqi": round(self.mqi, 2),
            "grade": self.grade,
            "indices": {k: round(v, 2) for k, v in self.sub.items()},
            "pqi_parts": {k: round(v, 2) for k, v in self.pqi_parts.items()},
            "grades": dict(self.grades),
        }


def grade(score: float) -> str:
    """Grade of an index: excellent / good / fair / poor / bad."""
    if not 0.0 <= score <= 100.0:
        raise GradingError("score", score, "an index in [0, 100]")
    for name, bound in GRADE_BOUNDS:
        if score >= bound:
            return name
    return "bad"


def _group(road_class: str) -> str:
    return "high" if road_class in _HIGH else "other"


def pci(
    damage_ratio_pct: float, *, surface: str = "asphalt", table: PavementTable | None = None
) -> float:
    """PCI from the damage ratio DR in percent: ``100 - a0 DR^a1``, floored at 0."""
    table = table or PavementTable()
    if surface not in table.pci_params:
        raise GradingError("surface", surface, f"one of {', '.join(table.pci_params)}")
    if not 0.0 <= damage_ratio_pct <= 100.0:
        raise GradingError("damage_ratio_pct", damage_ratio_pct, "a percentage in [0, 100]")
    a0, a1 = table.pci_params[surface]
    return max(0.0, 100.0 - a0 * damage_ratio_pct**a1)


def rqi(
    iri_m_per_km: float, *, road_class: str = "motorway", table: PavementTable | None = None
) -> float:
    """RQI from the international roughness index (m/km): ``100 / (1 + a0 exp(a1 IRI))``."""
    table = table or PavementTable()
    if not 0.0 <= iri_m_per_km <= 30.0:
        raise GradingError("iri_m_per_km", iri_m_per_km, "an IRI in [0, 30] m/km")
    a0, a1 = table.rqi_params[_group(road_class)]
    return 100.0 / (1.0 + a0 * math.exp(a1 * iri_m_per_km))


def rdi(rut_depth_mm: float, *, table: PavementTable | None = None) -> float:
    """RDI from rut depth (mm): ``100 - a0 RD`` up to RDa, then ``90 - a1 (RD - RDa)``
    down to 0 at RDb (defaults RDa = 10 mm, RDb = 40 mm, a0 = 1, a1 = 3; unverified)."""
    table = table or PavementTable()
    if not 0.0 <= rut_depth_mm <= 500.0:
        raise GradingError("rut_depth_mm", rut_depth_mm, "a rut depth in [0, 500] mm")
    rda, rdb = table.rdi_breaks_mm
    a0, a1 = table.rdi_slopes
    if rut_depth_mm <= rda:
        return 100.0 - a0 * rut_depth_mm
    if rut_depth_mm >= rdb:
        return 0.0
    return max(0.0, 100.0 - a0 * rda - a1 * (rut_depth_mm - rda))


def bci(bridge_classes: Sequence[int], *, table: PavementTable | None = None) -> float:
    """BCI of a section: the worst bridge's class mapped by the table (100 with no bridge)."""
    table = table or PavementTable()
    if not bridge_classes:
        return 100.0
    for c in bridge_classes:
        if c not in table.bci_by_class:
            raise GradingError("bridge_classes", c, "bridge classes 1..5")
    return min(table.bci_by_class[c] for c in bridge_classes)


def pqi(
    indices: Mapping[str, float],
    *,
    road_class: str = "motorway",
    surface: str = "asphalt",
    table: PavementTable | None = None,
) -> tuple[float, dict[str, float]]:
    """PQI as the weighted sum of the sub-indices given; the weights of sub-indices not
    measured are redistributed pro rata over those measured. Returns (PQI, weights used)."""
    table = table or PavementTable()
    key = (_group(road_class), surface)
    if key not in table.pqi_weights:
        raise GradingError("surface", surface, "asphalt or concrete")
    weights = table.pqi_weights[key]
    used = {k: w for k, w in weights.items() if k in indices}
    if not used:
        raise GradingError("pqi", dict(indices), f"at least one of {', '.join(weights)}")
    for k, v in indices.items():
        if not 0.0 <= v <= 100.0:
            raise GradingError(f"pqi.{k}", v, "an index in [0, 100]")
    total = sum(used.values())
    norm = {k: w / total for k, w in used.items()}
    return sum(indices[k] * w for k, w in norm.items()), norm


def mqi(*, sci: float, pqi_value: float, bci_value: float, tci: float) -> float:
    """``MQI = 0.08 SCI + 0.70 PQI + 0.12 BCI + 0.10 TCI``."""
    vals = {"SCI": sci, "PQI": pqi_value, "BCI": bci_value, "TCI": tci}
    for k, v in vals.items():
        if not 0.0 <= v <= 100.0:
            raise GradingError(k.lower(), v, "an index in [0, 100]")
    return sum(MQI_WEIGHTS[k] * v for k, v in vals.items())


def assess_section(
    data: Mapping[str, Any], *, table: PavementTable | None = None
) -> PavementAssessment:
    """Grade a pavement section from the stored JSON.

    ``{"road_class": "motorway", "surface": "asphalt", "sci": 92, "tci": 88,
    "bridge_classes": [2, 3] or "bci": 80, "pqi": {"PCI": 91, ...} or
    "measurements": {"damage_ratio_pct": 0.8, "iri_m_per_km": 2.1, "rut_depth_mm": 6}}``
    """
    table = table or PavementTable()
    road_class = str(data.get("road_class", "motorway"))
    surface = str(data.get("surface", "asphalt"))
    indices: dict[str, float] = {}
    for k, v in dict(data.get("pqi") or {}).items():
        indices[str(k).upper()] = _num(v, f"component_scores.pqi.{k}")
    meas = dict(data.get("measurements") or {})
    if "damage_ratio_pct" in meas:
        indices.setdefault(
            "PCI",
            pci(
                _num(meas["damage_ratio_pct"], "damage_ratio_pct", hi=None),
                surface=surface,
                table=table,
            ),
        )
    if "iri_m_per_km" in meas:
        indices.setdefault(
            "RQI",
            rqi(
                _num(meas["iri_m_per_km"], "iri_m_per_km", hi=None),
                road_class=road_class,
                table=table,
            ),
        )
    if "rut_depth_mm" in meas:
        indices.setdefault(
            "RDI", rdi(_num(meas["rut_depth_mm"], "rut_depth_mm", hi=None), table=table)
        )
    p, used = pqi(indices, road_class=road_class, surface=surface, table=table)
    if "bci" in data:
        b = _num(data["bci"], "component_scores.bci")
    else:
        b = bci([int(c) for c in data.get("bridge_classes") or []], table=table)
    sci = _num(data.get("sci"), "component_scores.sci")
    tci = _num(data.get("tci"), "component_scores.tci")
    m = mqi(sci=sci, pqi_value=p, bci_value=b, tci=tci)
    sub = {"SCI": sci, "PQI": p, "BCI": b, "TCI": tci, **indices}
    return PavementAssessment(m, grade(m), sub, used, {k: grade(v) for k, v in sub.items()})


def _num(v: Any, name: str, *, hi: float | None = 100.0) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise GradingError(name, v, "a number" + (" in [0, 100]" if hi else ""))
    if hi is not None and not 0.0 <= v <= hi:
        raise GradingError(name, v, f"a number in [0, {hi:g}]")
    return float(v)
