"""Time conditions of ``:conditional`` limits (the OSM opening-hours subset in use).

Understood: weekday lists and ranges (``Mo-Fr``, ``Sa,Su``), time ranges (``07:00-19:00``,
ranges past midnight ``22:00-06:00``), several rules separated by ``;``, optionally with a
leading ``value @`` and parentheses (``20 t @ (Mo-Fr 07:00-19:00)``). A condition that
cannot be read is treated as always in force -- the conservative choice for a limit --
and :func:`parse` raises so loaders can report it.
"""

from __future__ import annotations

import datetime as dt
import re

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse(spec: str) -> list[tuple[set[int], list[tuple[int, int]]]]:
    """Rules of ``spec`` as (weekdays 0=Mon.., [(start_min, end_min)]) pairs.

    Raises
    ------
    ValueError
        When the condition is not in the understood subset.
    """
    text = spec.split("@", 1)[-1].strip().strip("()").strip()
    if not text:
        raise ValueError(f"empty condition {spec!r}")
    rules = []
    for rule in text.split(";"):
        days: set[int] = set()
        spans: list[tuple[int, int]] = []
        for tok in rule.replace(",", " , ").split():
            if tok == ",":
                continue
            m = _TIME.match(tok)
            if m:
                h1, m1, h2, m2 = (int(g) for g in m.groups())
                if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
                    raise ValueError(f"bad time range {tok!r} in {spec!r}")
                spans.append((h1 * 60 + m1, h2 * 60 + m2))
            elif "-" in tok and tok[:2] in DAYS and tok[-2:] in DAYS:
                a, b = DAYS.index(tok[:2]), DAYS.index(tok[-2:])
                days |= {(a + i) % 7 for i in range((b - a) % 7 + 1)}
            elif tok in DAYS:
                days.add(DAYS.index(tok))
            else:
                raise ValueError(f"cannot read {tok!r} in condition {spec!r}")
        rules.append((days or set(range(7)), spans or [(0, 24 * 60)]))
    return rules


def is_active(spec: str | None, when: dt.datetime | None) -> bool:
    """True when the condition holds at ``when`` (always True when either is None or the
    condition cannot be read)."""
    if spec is None or when is None:
        return True
    try:
        rules = parse(spec)
    except ValueError:
        return True
    minute = when.hour * 60 + when.minute
    day = when.weekday()
    for days, spans in rules:
        for start, end in spans:
            if start <= end:
                if day in days and start <= minute < end:
                    return True
            # past midnight: the evening part belongs to the listed day, the morning
            # part to the day after
            elif (day in days and minute >= start) or ((day - 1) % 7 in days and minute < end):
                return True
    return False
