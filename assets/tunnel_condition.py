"""Tunnel civil-structure condition by JTG H12-2015 (公路隧道养护技术规范).

UNVERIFIED (see STANDARDS.md "Tunnels — JTG H12-2015 (unverified)"): the formula and the
class bands below come from secondary sources; the item weights and the direct-class rule
are as reported for the standard's civil-structure assessment chapter (土建结构技术状况评定,
item weight table 分项权重 and the clause on items rated 3/4 setting the class directly)
and await confirmation against the standard's text. They are therefore plain tables a
caller can replace (:class:`TunnelTable`).

``JGCI = 100 * (1 - 1/4 * sum(JGCI_i * w_i) / sum(w_i))`` where ``JGCI_i`` is item i's
condition value 0..4 (the worst of its segments); classes: 1 >= 85, 2 [70, 85),
3 [55, 70), 4 [40, 55), 5 < 40.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assets.errors import GradingError

#: Item -> weight (JTG H12-2015 civil-structure item weights; unverified, configurable).
DEFAULT_WEIGHTS: dict[str, float] = {
    "portal": 15.0,  # 洞口
    "portal_face": 5.0,  # 洞门
    "lining": 40.0,  # 衬砌 (结构破损 / 渗漏水: the worse of the two)
    "pavement": 15.0,  # 路面
    "walkway": 2.0,  # 检修道
    "drainage": 6.0,  # 排水设施
    "ceiling_embedded": 10.0,  # 吊顶及预埋件
    "interior_decoration": 2.0,  # 内装饰
    "signs_markings": 5.0,  # 交通标志、标线
}

#: Lower bounds of classes 1..4 for JGCI (class 5 below the last); unverified.
DEFAULT_BOUNDS: tuple[float, float, float, float] = (85.0, 70.0, 55.0, 40.0)

#: Items whose value 3 or 4 sets the class directly to 4 or 5 (unverified, configurable).
DEFAULT_CRITICAL: dict[str, dict[int, int]] = {
    item: {3: 4, 4: 5}
    for item in ("portal", "portal_face", "lining", "pavement", "ceiling_embedded")
}


@dataclass(frozen=True)
class TunnelTable:
    """The configurable numbers of the tunnel assessment."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    bounds: tuple[float, float, float, float] = DEFAULT_BOUNDS
    critical: Mapping[str, Mapping[int, int]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_CRITICAL.items()}
    )


@dataclass(frozen=True)
class TunnelAssessment:
    """The result of grading one tunnel's civil structure."""

    item_values: dict[str, int]
    jgci: float
    score_class: int
    klass: int
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "jgci": round(self.jgci, 2),
            "score_class": self.score_class,
            "class": self.klass,
            "items": dict(self.item_values),
            "reasons": list(self.reasons),
            "unverified": "JTG H12-2015 weights, bands and direct-class rule await confirmation",
        }


def tunnel_class(jgci: float, *, table: TunnelTable | None = None) -> int:
    """Class 1..5 of a JGCI score."""
    table = table or TunnelTable()
    if not 0.0 <= jgci <= 100.0:
        raise GradingError("jgci", jgci, "a score in [0, 100]")
    for k, bound in enumerate(table.bounds, start=1):
        if jgci >= bound:
            return k
    return 5


def assess_tunnel(
    items: Mapping[str, int | Sequence[int]], *, table: TunnelTable | None = None
) -> TunnelAssessment:
    """Grade a tunnel's civil structure from item condition values.

    Parameters
    ----------
    items:
        Item (keys of the table's weights) -> condition value 0..4, or the values of its
        segments (the worst counts). Items a tunnel lacks are absent: their weight drops
        out of ``sum(w_i)``.
    table:
        Weights, bands and direct-class rule (defaults: :data:`DEFAULT_WEIGHTS` ...).
    """
    table = table or TunnelTable()
    if not items:
        raise GradingError("component_scores.items", items, "at least one rated item")
    values: dict[str, int] = {}
    for name, raw in items.items():
        if name not in table.weights:
            raise GradingError("component_scores.items", name, f"one of {', '.join(table.weights)}")
        segs = list(raw) if isinstance(raw, Sequence) else [raw]
        if not segs:
            raise GradingError(f"component_scores.items.{name}", raw, "a value 0..4")
        for v in segs:
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 4:
                raise GradingError(f"component_scores.items.{name}", v, "an integer 0..4")
        values[name] = max(segs)
    wsum = sum(table.weights[n] for n in values)
    jgci = 100.0 * (1.0 - 0.25 * sum(values[n] * table.weights[n] for n in values) / wsum)
    score_class = tunnel_class(jgci, table=table)
    klass = score_class
    reasons = [f"JGCI = {jgci:.2f} -> class {score_class}"]
    for name, v in sorted(values.items()):
        direct = table.critical.get(name, {}).get(v)
        if direct is not None and direct > klass:
            klass = direct
            reasons.append(f"{name} rated {v} sets the civil structure to class {direct}")
    return TunnelAssessment(values, jgci, score_class, klass, tuple(reasons))


def assess_tunnel_json(data: Mapping[str, Any]) -> TunnelAssessment:
    """Grade from the stored JSON ``{"items": {item: value or [values]}}``."""
    items = data.get("items")
    if not isinstance(items, Mapping):
        raise GradingError("component_scores.items", items, "an object item -> value 0..4")
    return assess_tunnel(items)
