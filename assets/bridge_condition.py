"""Bridge technical condition by JTG/T H21-2011 (公路桥梁技术状况评定标准).

The chain is component -> part -> structure -> bridge:

* component score ``MCI`` (clause 4.1.1) from the deductions ``DP`` of its defects
  (Table 4.1.1), combined so that each further defect deducts less;
* part score ``PCCI`` (4.1.2) from its components' MCI, with ``t`` by component count;
* structure scores ``SPCI`` (superstructure), ``SBCI`` (substructure), ``BDCI`` (deck)
  (4.1.3) as weighted sums of part scores, weights of Table 4.2.1 for beam bridges with
  the weights of parts a bridge lacks redistributed pro rata;
* bridge score ``Dr = 0.20 BDCI + 0.40 SPCI + 0.40 SBCI`` (4.1.4), class 1–5 by the bands
  of Table 4.1.5, then the overrides of 4.1.7, 4.1.8 and the single-control conditions of
  4.3.

The numbers are the ones in ``/work/shared/STANDARDS.md`` (verified against the standard's
text there). Everything here is pure: no database, no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assets.errors import GradingError

#: Table 4.1.1: deduction DP by the highest scale an indicator can take and the scale found.
DP_TABLE: dict[int, tuple[float, ...]] = {
    3: (0.0, 20.0, 35.0),
    4: (0.0, 25.0, 40.0, 50.0),
    5: (0.0, 35.0, 45.0, 60.0, 100.0),
}

#: Clause 4.1.2: ``t`` by number of components n (n = 1 -> infinity); linear in between,
#: 2.3 from 200 on. These are the anchor points given in STANDARDS.md.
T_POINTS: tuple[tuple[int, float], ...] = (
    (2, 10.0),
    (5, 9.2),
    (10, 8.1),
    (20, 6.6),
    (50, 4.4),
    (100, 2.5),
    (200, 2.3),
)

#: Table 4.1.5: lower bounds of classes 1..4 (class 5 is below the last).
CLASS_BOUNDS: tuple[float, float, float, float] = (95.0, 80.0, 60.0, 40.0)

#: Clause 4.1.4: weights of deck, superstructure and substructure in Dr.
DR_WEIGHTS: dict[str, float] = {"deck": 0.20, "superstructure": 0.40, "substructure": 0.40}

#: Table 4.2.1 (beam bridges): part -> (structure, weight within the structure).
BEAM_BRIDGE_PARTS: dict[str, tuple[str, float]] = {
    # superstructure 上部结构
    "main_girders": ("superstructure", 0.70),  # 上部承重构件
    "secondary_members": ("superstructure", 0.18),  # 上部一般构件
    "bearings": ("superstructure", 0.12),  # 支座
    # substructure 下部结构
    "wing_walls": ("substructure", 0.02),  # 翼墙、耳墙
    "cone_slopes": ("substructure", 0.01),  # 锥坡、护坡
    "piers": ("substructure", 0.30),  # 桥墩
    "abutments": ("substructure", 0.30),  # 桥台
    "foundations": ("substructure", 0.28),  # 墩台基础
    "riverbed": ("substructure", 0.07),  # 河床
    "regulating_structures": ("substructure", 0.02),  # 调治构造物
    # deck system 桥面系
    "pavement": ("deck", 0.40),  # 桥面铺装
    "expansion_joints": ("deck", 0.25),  # 伸缩缝装置
    "sidewalks": ("deck", 0.10),  # 人行道
    "railings": ("deck", 0.10),  # 栏杆、护栏
    "drainage": ("deck", 0.10),  # 排水系统
    "lighting_signs": ("deck", 0.05),  # 照明、标志
}

#: Main parts (主要部件) of a beam bridge: a component of these below 60 sets the part's
#: score (4.1.2), and these may set the bridge's class under 4.1.8.
BEAM_MAIN_PARTS: frozenset[str] = frozenset(
    {"main_girders", "bearings", "piers", "abutments", "foundations"}
)

#: Clause 4.3: conditions any one of which makes the bridge class 5 directly.
SINGLE_CONTROL_CONDITIONS: dict[str, str] = {
    "girder_fallen_or_fractured": "upper structure has fallen girders or fractured members",
    "full_section_cracking": "main load-bearing member cracked through the full section",
    "scour_undermined": "foundation scour beyond design with more than 20 % undermined",
    "cable_wires_broken": "broken wires in stay cables, suspenders or main cables",
    "pier_unstable": "piers or abutments unstable (tilting, sliding, settling)",
}


@dataclass(frozen=True)
class Defect:
    """One indicator's finding on a component: its scale and the highest scale it has."""

    scale: int
    max_scale: int

    @property
    def deduction(self) -> float:
        """DP of Table 4.1.1."""
        return deduction(self.scale, max_scale=self.max_scale)


@dataclass(frozen=True)
class PartResult:
    """A part's score and where it came from."""

    name: str
    structure: str
    mci: tuple[float, ...]
    pcci: float
    weight: float
    main: bool
    klass: int


@dataclass(frozen=True)
class BridgeAssessment:
    """The result of grading one bridge."""

    parts: dict[str, PartResult]
    spci: float
    sbci: float
    bdci: float
    dr: float
    structure_classes: dict[str, int]
    dr_class: int
    klass: int
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "spci": round(self.spci, 2),
            "sbci": round(self.sbci, 2),
            "bdci": round(self.bdci, 2),
            "dr": round(self.dr, 2),
            "dr_class": self.dr_class,
            "class": self.klass,
            "structure_classes": dict(self.structure_classes),
            "parts": {
                n: {
                    "structure": p.structure,
                    "pcci": round(p.pcci, 2),
                    "weight": round(p.weight, 4),
                    "mci": [round(m, 2) for m in p.mci],
                    "class": p.klass,
                }
                for n, p in self.parts.items()
            },
            "reasons": list(self.reasons),
        }


def deduction(scale: int, *, max_scale: int) -> float:
    """Deduction DP (Table 4.1.1) for an indicator found at ``scale`` of ``max_scale``.

    Parameters
    ----------
    scale:
        The scale found, 1 (intact) .. ``max_scale``.
    max_scale:
        The highest scale the indicator can take: 3, 4 or 5.
    """
    if max_scale not in DP_TABLE:
        raise GradingError("max_scale", max_scale, "one of 3, 4, 5")
    if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale <= max_scale:
        raise GradingError("scale", scale, f"an integer 1..{max_scale}")
    return DP_TABLE[max_scale][scale - 1]


def component_score(deductions: Iterable[float]) -> float:
    """MCI of a component from its defects' deductions (clause 4.1.1).

    ``MCI = 100 - sum(U_x)`` with the deductions sorted from the largest,
    ``U_1 = DP_1`` and ``U_x = DP_x / (100 sqrt(x)) * (100 - sum_{y<x} U_y)``; a deduction
    of 100 makes the component 0.
    """
    dps = sorted((float(d) for d in deductions), reverse=True)
    for d in dps:
        if not 0.0 <= d <= 100.0:
            raise GradingError("deduction", d, "a DP value in [0, 100]")
    if dps and dps[0] >= 100.0:
        return 0.0
    total = 0.0
    for x, dp in enumerate(dps, start=1):
        u = dp if x == 1 else dp / (100.0 * math.sqrt(x)) * (100.0 - total)
        total += u
    return max(0.0, 100.0 - total)


def t_value(n: int) -> float:
    """``t`` of clause 4.1.2 for a part with ``n`` components (inf for one component)."""
    if n < 1:
        raise GradingError("components", n, "at least one component per part")
    if n == 1:
        return math.inf
    pts = T_POINTS
    if n >= pts[-1][0]:
        return pts[-1][1]
    for (n0, t0), (n1, t1) in itertools.pairwise(pts):
        if n0 <= n <= n1:
            return t0 + (t1 - t0) * (n - n0) / (n1 - n0)
    raise AssertionError("unreachable: n within the table")  # pragma: no cover


def part_score(mcis: Sequence[float], *, main: bool) -> float:
    """PCCI of a part from its components' MCI (clause 4.1.2).

    ``PCCI = mean(MCI) - (100 - min(MCI)) / t``; for a main part, a component in [0, 60)
    sets the part's score to that minimum. Clamped to [0, 100] (the formula can dip below
    0 for many very poor secondary components; a score has no meaning there).
    """
    if not mcis:
        raise GradingError("components", 0, "at least one component per part")
    for m in mcis:
        if not 0.0 <= m <= 100.0:
            raise GradingError("mci", m, "a component score in [0, 100]")
    lo = min(mcis)
    if main and lo < 60.0:
        return lo
    pcci = sum(mcis) / len(mcis) - (100.0 - lo) / t_value(len(mcis))
    return min(100.0, max(0.0, pcci))


def condition_class(score: float) -> int:
    """Class 1..5 of a score (Table 4.1.5: 95 / 80 / 60 / 40)."""
    if not 0.0 <= score <= 100.0:
        raise GradingError("score", score, "a score in [0, 100]")
    for k, bound in enumerate(CLASS_BOUNDS, start=1):
        if score >= bound:
            return k
    return 5


def structure_weights(
    present: Iterable[str], *, table: Mapping[str, tuple[str, float]] = BEAM_BRIDGE_PARTS
) -> dict[str, float]:
    """Weights of the parts a bridge has, with missing parts' weight redistributed pro rata
    within each structure (clause 4.1.3): ``w_i' = w_i / sum(w_present)``.
    """
    parts = list(present)
    unknown = [p for p in parts if p not in table]
    if unknown:
        raise GradingError("part", unknown[0], f"one of {', '.join(sorted(table))}")
    sums: dict[str, float] = {}
    for p in parts:
        s, w = table[p]
        sums[s] = sums.get(s, 0.0) + w
    return {p: table[p][1] / sums[table[p][0]] for p in parts}


def assess_bridge(
    parts: Mapping[str, Sequence[float]],
    *,
    safety_affecting_parts: Iterable[str] = (),
    single_control: Iterable[str] = (),
    table: Mapping[str, tuple[str, float]] = BEAM_BRIDGE_PARTS,
    main_parts: frozenset[str] = BEAM_MAIN_PARTS,
) -> BridgeAssessment:
    """Grade a beam bridge from its components' MCI per part.

    Parameters
    ----------
    parts:
        Part name (keys of :data:`BEAM_BRIDGE_PARTS`) -> MCI of each of its components.
        Parts the bridge lacks are simply absent; every structure needs at least one part.
    safety_affecting_parts:
        Main parts the inspector judged to affect the bridge's safety (clause 4.1.8): if
        such a part is class 4 or 5, the bridge takes that class.
    single_control:
        Keys of :data:`SINGLE_CONTROL_CONDITIONS` found (clause 4.3): class 5.
    """
    weights = structure_weights(parts, table=table)
    results: dict[str, PartResult] = {}
    for name, mcis in parts.items():
        main = name in main_parts
        pcci = part_score(list(mcis), main=main)
        results[name] = PartResult(
            name, table[name][0], tuple(mcis), pcci, weights[name], main, condition_class(pcci)
        )
    scores: dict[str, float] = {}
    for structure in DR_WEIGHTS:
        members = [p for p in results.values() if p.structure == structure]
        if not members:
            raise GradingError(
                "parts", structure, f"at least one {structure} part (components scored)"
            )
        scores[structure] = sum(p.pcci * p.weight for p in members)
    dr = sum(DR_WEIGHTS[s] * scores[s] for s in DR_WEIGHTS)
    s_classes = {s: condition_class(v) for s, v in scores.items()}
    dr_class = condition_class(min(100.0, dr))
    klass, reasons = _overrides(
        dr=dr,
        dr_class=dr_class,
        s_classes=s_classes,
        results=results,
        safety_affecting_parts=set(safety_affecting_parts),
        single_control=list(single_control),
    )
    return BridgeAssessment(
        parts=results,
        spci=scores["superstructure"],
        sbci=scores["substructure"],
        bdci=scores["deck"],
        dr=dr,
        structure_classes=s_classes,
        dr_class=dr_class,
        klass=klass,
        reasons=tuple(reasons),
    )


def _overrides(
    *,
    dr: float,
    dr_class: int,
    s_classes: Mapping[str, int],
    results: Mapping[str, PartResult],
    safety_affecting_parts: set[str],
    single_control: list[str],
) -> tuple[int, list[str]]:
    reasons = [f"Dr = {dr:.2f} -> class {dr_class} (Table 4.1.5)"]
    klass = dr_class
    # 4.1.7: super- and substructure class 3, deck class 4, 40 <= Dr < 60 -> class 3.
    if (
        s_classes["superstructure"] == 3
        and s_classes["substructure"] == 3
        and s_classes["deck"] == 4
        and 40.0 <= dr < 60.0
    ):
        klass = 3
        reasons.append("4.1.7: super/substructure class 3 and deck class 4 -> class 3")
    # 4.1.8: a safety-affecting main part at class 4 or 5 sets the bridge's class.
    for name in sorted(safety_affecting_parts):
        if name not in results:
            raise GradingError("safety_affecting_parts", name, "a part that was scored")
        part = results[name]
        if not part.main:
            raise GradingError("safety_affecting_parts", name, "a main part (主要部件)")
        if part.klass >= 4 and part.klass > klass:
            klass = part.klass
            reasons.append(f"4.1.8: main part {name} is class {part.klass} and affects safety")
    # 4.3: single-control conditions.
    for cond in single_control:
        if cond not in SINGLE_CONTROL_CONDITIONS:
            raise GradingError(
                "single_control", cond, f"one of {', '.join(SINGLE_CONTROL_CONDITIONS)}"
            )
        klass = 5
        reasons.append(f"4.3 single control: {SINGLE_CONTROL_CONDITIONS[cond]} -> class 5")
    return klass, reasons


def component_mci(component: Mapping[str, Any], *, where: str = "component") -> float:
    """MCI of a component given as ``{"mci": 87.5}`` or ``{"defects": [{"scale": 2,
    "max_scale": 4}, ...]}`` (the JSON stored in ``inspection.component_scores``)."""
    if "mci" in component:
        v = component["mci"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 100:
            raise GradingError(f"{where}.mci", v, "a number in [0, 100]")
        return float(v)
    defects = component.get("defects")
    if not isinstance(defects, list):
        raise GradingError(where, component, "an object with 'mci' or a 'defects' list")
    dps = []
    for j, d in enumerate(defects):
        if not isinstance(d, Mapping):
            raise GradingError(f"{where}.defects[{j}]", d, "an object {scale, max_scale}")
        try:
            dps.append(deduction(d.get("scale"), max_scale=d.get("max_scale")))  # type: ignore[arg-type]
        except GradingError as exc:
            raise GradingError(f"{where}.defects[{j}].{exc.field}", exc.value, exc.valid) from None
    return component_score(dps)


def assess_bridge_json(data: Mapping[str, Any]) -> BridgeAssessment:
    """Grade from the stored JSON: ``{"parts": {part: [component, ...]},
    "safety_affecting_parts": [...], "single_control": [...]}``."""
    parts_in = data.get("parts")
    if not isinstance(parts_in, Mapping) or not parts_in:
        raise GradingError("component_scores.parts", parts_in, "an object part -> components")
    parts: dict[str, list[float]] = {}
    for name, comps in parts_in.items():
        if name not in BEAM_BRIDGE_PARTS:
            raise GradingError(
                "component_scores.parts", name, f"one of {', '.join(BEAM_BRIDGE_PARTS)}"
            )
        if not isinstance(comps, list) or not comps:
            raise GradingError(f"component_scores.parts.{name}", comps, "a non-empty list")
        parts[name] = [
            component_mci(c, where=f"component_scores.parts.{name}[{i}]")
            if isinstance(c, Mapping)
            else component_mci({"mci": c}, where=f"component_scores.parts.{name}[{i}]")
            for i, c in enumerate(comps)
        ]
    return assess_bridge(
        parts,
        safety_affecting_parts=data.get("safety_affecting_parts") or (),
        single_control=data.get("single_control") or (),
    )
