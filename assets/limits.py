"""Condition-aware limits: what a bridge's class means for traffic.

JTG/T H21-2011 (and the maintenance code JTG 5120) call for class 4 bridges to be posted
with reduced loads and class 5 bridges to be closed. The reduced load is an engineering
decision; the default here (half the current posted gross mass, or 20 t when nothing is
posted, rounded down to the tonne) is a placeholder the engineer replaces when approving.
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.errors import GradingError

#: Gross mass proposed for a class 4 bridge with no posted weight limit (kg).
DEFAULT_CLASS4_WEIGHT_KG = 20_000
#: Fraction of an existing posted weight limit proposed for a class 4 bridge.
CLASS4_FACTOR = 0.5


@dataclass(frozen=True)
class LimitProposal:
    """What a condition class asks for: a reduced weight limit, or closure."""

    condition_class: int
    action: str  # "none", "weight_limit", "closure"
    weight_kg: int | None
    reason: str


def propose_for_class(
    condition_class: int, *, current_weight_kg: int | None = None
) -> LimitProposal:
    """The posted limit or closure a bridge class calls for.

    Parameters
    ----------
    condition_class:
        The bridge's technical condition class 1..5.
    current_weight_kg:
        The gross-mass limit posted now (approved), if any.
    """
    if condition_class not in (1, 2, 3, 4, 5):
        raise GradingError("condition_class", condition_class, "an integer 1..5")
    if condition_class == 5:
        return LimitProposal(5, "closure", None, "class 5 (JTG/T H21-2011): close to traffic")
    if condition_class == 4:
        base = DEFAULT_CLASS4_WEIGHT_KG
        if current_weight_kg:
            base = min(base, int(current_weight_kg * CLASS4_FACTOR))
        kg = max(1_000, base // 1_000 * 1_000)
        return LimitProposal(
            4, "weight_limit", kg, f"class 4 (JTG/T H21-2011): post a reduced gross mass of {kg} kg"
        )
    return LimitProposal(condition_class, "none", None, f"class {condition_class}: no posting")
