"""The one error the asset core raises: a value out of its valid range, naming the field."""

from __future__ import annotations

from typing import Any


class GradingError(ValueError):
    """An input to grading, fitting or planning is invalid.

    Parameters
    ----------
    field:
        Dotted name of the offending field (``component_scores.parts.piers[2].mci``).
    value:
        The value given.
    valid:
        What would be valid.
    """

    def __init__(self, field: str, value: Any, valid: str) -> None:
        super().__init__(f"{field} = {value!r} is invalid; expected {valid}")
        self.field = field
        self.value = value
        self.valid = valid
