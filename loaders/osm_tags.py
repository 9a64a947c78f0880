"""Parse OpenStreetMap limit and access tags into integer centimetres / kilograms.

Pure functions, no I/O. Every parse returns a :class:`Parsed` that says which of four
things the tag meant, so nothing unreadable is ever taken for 'no limit':

``value``
    a limit (``value`` in cm, kg or km/h; ``text`` for access values and tunnel
    categories);
``unlimited``
    explicitly no structure-specific limit (``none``, ``default`` -- the legal default
    applies, which a vehicle profile already enforces);
``unknown``
    a limit exists or may exist but its value is not given (``below_default``,
    ``unsigned``) or the value is a zone code (``maxspeed=CN:urban``);
``unparseable``
    anything else; ``raw`` keeps the string for the load report.

Forms handled (see the OSM wiki pages of ``maxheight``, ``maxweight``, ``maxspeed``,
``conditional restrictions``): ``3.8``, ``3.8 m``, ``3.8m``, ``380 cm``, ``3 m 80``
(metres and centimetres), ``12'6"``, ``12' 6"``, ``12 ft 6 in``, ``12 ft``, ``150 in``,
``3,8`` (decimal comma), ``~3.8`` / ``ca. 3.8`` (approximate), ``none``, ``default``,
``below_default``, ``unsigned``; weights in ``t`` (the default unit), ``kg``, ``lbs``
and ``st`` (US short tons of 2,000 lb); ``:physical``, ``:forward``, ``:backward`` and
``:conditional`` key suffixes (``3.5 @ (Mo-Fr 07:00-19:00)``).

We hand-write these parsers because no maintained library covers OSM's limit syntax:
osmnx only cleans ``maxspeed``, and routing engines (OSRM's Lua profiles, GraphHopper's
``OSMValueExtractor``) embed theirs in their own code. Conversions round *down* to a whole
unit so an imperial sign never yields a limit higher than the posted one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ACCESS_VALUES",
    "LIMIT_KEYS",
    "Parsed",
    "TagLimit",
    "access_from_tags",
    "limits_from_tags",
    "parse_access",
    "parse_conditional",
    "parse_length_cm",
    "parse_speed_kmh",
    "parse_tunnel_category",
    "parse_weight_kg",
]

Status = Literal["value", "unlimited", "unknown", "unparseable"]

#: limit kind -> the OSM key it is read from.
LIMIT_KEYS: dict[str, str] = {
    "height": "maxheight",
    "width": "maxwidth",
    "length": "maxlength",
    "weight": "maxweight",
    "axle_load": "maxaxleload",
}

#: access values we recognise for ``hgv`` and ``hazmat`` (OSM wiki 'Key:access').
ACCESS_VALUES = frozenset(
    {
        "yes",
        "no",
        "designated",
        "destination",
        "delivery",
        "agricultural",
        "forestry",
        "permissive",
        "private",
        "discouraged",
        "permit",
        "customers",
        "local",
        "unknown",
    }
)

_CM_PER_FT = 30.48
_CM_PER_IN = 2.54
_KG_PER_LB = 0.45359237
_KG_PER_SHORT_TON = 907.18474
_KMH_PER_MPH = 1.609344
_KMH_PER_KNOT = 1.852

#: plausible ranges (exclusive of 0); values outside are reported, not stored.
_MAX_CM = 3000.0  # 30 m: nothing higher/wider is a vehicle limit; '380' is a forgotten 'cm'
_MAX_LENGTH_CM = 20000.0
_MAX_KG = 500_000.0
_MAX_KMH = 300.0

_NUM = r"(\d+(?:\.\d+)?|\.\d+)"
_RE_METRES = re.compile(rf"^{_NUM}\s*(?:m|meters?|metres?|米)?$")
_RE_CM = re.compile(rf"^{_NUM}\s*(?:cm|厘米)$")
_RE_M_CM = re.compile(r"^(\d+)\s*(?:m|米)\s*(\d{1,2})\s*(?:cm|厘米)?$")
_RE_FT_IN = re.compile(rf"^{_NUM}\s*(?:'|ft|feet|foot)\s*(?:{_NUM}\s*(?:\"|''|in|inch|inches)?)?$")
_RE_IN = re.compile(rf"^{_NUM}\s*(?:\"|''|in|inch|inches)$")
_RE_WEIGHT = re.compile(
    rf"^{_NUM}\s*(t|tonnes?|tons?|kg|lbs?|pounds?|st|short\s*tons?|吨|公斤|千克)?$"
)
_RE_SPEED = re.compile(rf"^{_NUM}\s*(km/h|kmh|kph|mph|knots)?$")
_RE_ZONE = re.compile(r"^[a-z]{2}(?:-[a-z0-9]+)?:[a-z_]+$")
_RE_THOUSANDS = re.compile(r"^(\d{1,3}),(\d{3})(\s*(?:kg|lbs?|pounds?))$")

_APPROX_PREFIXES = ("~", "≈", "ca.", "ca ", "approx.", "approx ", "circa ")
_UNLIMITED_WORDS = {"none", "no", "unlimited", "default", "no_limit"}
_UNKNOWN_WORDS = {
    "below_default",
    "unsigned",
    "no_sign",
    "no_indications",
    "unknown",
    "yes",
    "signals",
    "variable",
}


@dataclass(frozen=True, slots=True)
class Parsed:
    """The meaning of one tag value.

    Attributes
    ----------
    status:
        ``value``, ``unlimited``, ``unknown`` or ``unparseable``.
    value:
        The number in the parser's unit (cm, kg, km/h) when ``status == 'value'``.
    text:
        The normalised word for access values and tunnel categories.
    raw:
        The tag value as found in the file.
    note:
        ``approximate``, ``default``, ``below_default``, ``implausible``, ``unit`` ...
    """

    status: Status
    value: int | None = None
    text: str | None = None
    raw: str | None = None
    note: str | None = None

    @property
    def is_value(self) -> bool:
        """True when a usable limit was read."""
        return self.status == "value"


@dataclass(frozen=True, slots=True)
class TagLimit:
    """One limit read from a way's or node's tags.

    Attributes
    ----------
    kind:
        ``height``, ``width``, ``length``, ``weight``, ``axle_load``, ``hgv``, ``hazmat``
        or ``tunnel_category``.
    key:
        The OSM key it came from (``maxheight:physical:forward``).
    direction:
        ``both``, ``forward`` or ``backward`` (relative to the way's digitised direction).
    physical:
        True for ``:physical`` (measured clearance rather than the posted limit).
    condition:
        The condition of a ``:conditional`` value (``Mo-Fr 07:00-19:00``), else None.
    parsed:
        The parsed value.
    """

    kind: str
    key: str
    direction: str
    physical: bool
    condition: str | None
    parsed: Parsed


def _unparseable(raw: str, note: str | None = None) -> Parsed:
    return Parsed("unparseable", raw=raw, note=note)


def _prepare(raw: str) -> tuple[str, bool]:
    """Lower-case, trim, normalise quotes and strip an 'approximately' marker."""
    s = raw.strip().lower()
    for a, b in (("’", "'"), ("′", "'"), ("‘", "'"), ("”", '"'), ("“", '"'), ("″", '"')):
        s = s.replace(a, b)
    approx = False
    for p in _APPROX_PREFIXES:
        if s.startswith(p):
            s = s[len(p) :].strip()
            approx = True
            break
    return s, approx


def _decimal_comma(s: str) -> str:
    """``3,8`` -> ``3.8``; a thousands separator before kg/lbs (``12,000 lbs``) is dropped."""
    m = _RE_THOUSANDS.match(s)
    if m:
        return m.group(1) + m.group(2) + m.group(3)
    return s.replace(",", ".")


def _words(s: str, raw: str) -> Parsed | None:
    if s in _UNLIMITED_WORDS:
        return Parsed("unlimited", raw=raw, note=s if s != "none" else None)
    if s in _UNKNOWN_WORDS:
        return Parsed("unknown", raw=raw, note=s)
    return None


def _finish(amount: float, raw: str, *, approx: bool, upper: float) -> Parsed:
    if not math.isfinite(amount) or amount <= 0:
        return _unparseable(raw, "not positive")
    if amount > upper:
        return _unparseable(raw, "implausible")
    value = math.floor(amount + 1e-6)
    if value <= 0:
        return _unparseable(raw, "below one unit")
    return Parsed("value", value=value, raw=raw, note="approximate" if approx else None)


def parse_length_cm(raw: str, *, upper_cm: float = _MAX_CM) -> Parsed:
    """Parse a ``maxheight``/``maxwidth``/``maxlength`` value into whole centimetres.

    Parameters
    ----------
    raw:
        The tag value (``3.8``, ``3.8 m``, ``3 m 80``, ``12'6"``, ``12 ft 6 in``, ``3,8``,
        ``~3.8``, ``none``, ``default``, ``below_default`` ...). A bare number is metres.
    upper_cm:
        Values above this are reported as implausible (default 30 m).

    Returns
    -------
    Parsed
        ``value`` in cm, or ``unlimited``/``unknown``/``unparseable``.
    """
    s, approx = _prepare(raw)
    if not s:
        return _unparseable(raw, "empty")
    word = _words(s, raw)
    if word is not None:
        return word
    s = _decimal_comma(s)
    if m := _RE_METRES.match(s):
        return _finish(float(m.group(1)) * 100.0, raw, approx=approx, upper=upper_cm)
    if m := _RE_CM.match(s):
        return _finish(float(m.group(1)), raw, approx=approx, upper=upper_cm)
    if m := _RE_M_CM.match(s):
        whole_cm = int(m.group(1)) * 100 + int(m.group(2))
        return _finish(float(whole_cm), raw, approx=approx, upper=upper_cm)
    if m := _RE_FT_IN.match(s):
        inches = float(m.group(2)) if m.group(2) else 0.0
        if inches >= 12:
            return _unparseable(raw, "inches >= 12")
        cm = float(m.group(1)) * _CM_PER_FT + inches * _CM_PER_IN
        return _finish(cm, raw, approx=approx, upper=upper_cm)
    if m := _RE_IN.match(s):
        return _finish(float(m.group(1)) * _CM_PER_IN, raw, approx=approx, upper=upper_cm)
    return _unparseable(raw, "unit")


def parse_weight_kg(raw: str, *, upper_kg: float = _MAX_KG) -> Parsed:
    """Parse a ``maxweight``/``maxaxleload`` value into whole kilograms.

    Parameters
    ----------
    raw:
        The tag value. A bare number is metric tonnes; units ``t``, ``kg``, ``lbs``,
        ``st`` (US short tons, 2,000 lb) are understood; ``7,5`` is 7.5 t.
    upper_kg:
        Values above this are reported as implausible (default 500 t).

    Returns
    -------
    Parsed
        ``value`` in kg, or ``unlimited``/``unknown``/``unparseable``.
    """
    s, approx = _prepare(raw)
    if not s:
        return _unparseable(raw, "empty")
    word = _words(s, raw)
    if word is not None:
        return word
    m = _RE_WEIGHT.match(_decimal_comma(s))
    if not m:
        return _unparseable(raw, "unit")
    amount = float(m.group(1))
    unit = re.sub(r"\s+", " ", m.group(2) or "t")
    if unit in ("kg", "公斤", "千克"):
        kg = amount
    elif unit in ("lb", "lbs", "pound", "pounds"):
        kg = amount * _KG_PER_LB
    elif unit in ("st", "short ton", "short tons", "short tons"):
        kg = amount * _KG_PER_SHORT_TON
    else:  # t, tonne(s), ton(s), 吨
        kg = amount * 1000.0
    return _finish(kg, raw, approx=approx, upper=upper_kg)


def parse_speed_kmh(raw: str) -> Parsed:
    """Parse ``maxspeed`` into whole km/h (``50``, ``50 km/h``, ``30 mph``, ``none``).

    Zone codes (``CN:urban``, ``DE:rural``) and ``walk`` give ``unknown`` (the caller's
    class default applies); ``none`` gives ``unlimited``.
    """
    s, approx = _prepare(raw)
    if not s:
        return _unparseable(raw, "empty")
    if s == "none":
        return Parsed("unlimited", raw=raw)
    if s in ("walk", "signals", "variable") or _RE_ZONE.match(s):
        return Parsed("unknown", raw=raw, note="zone" if ":" in s else s)
    m = _RE_SPEED.match(_decimal_comma(s))
    if not m:
        return _unparseable(raw, "unit")
    factor = {"mph": _KMH_PER_MPH, "knots": _KMH_PER_KNOT}.get(m.group(2) or "", 1.0)
    return _finish(float(m.group(1)) * factor, raw, approx=approx, upper=_MAX_KMH)


def parse_access(raw: str) -> Parsed:
    """Parse an access value (``hgv``, ``hazmat``): ``yes``, ``no``, ``designated``,
    ``destination``, ``delivery``, ``agricultural`` ... into ``Parsed.text``.
    """
    s = raw.strip().lower()
    if s in ACCESS_VALUES:
        if s == "unknown":
            return Parsed("unknown", raw=raw, note=s)
        return Parsed("value", text=s, raw=raw)
    return _unparseable(raw, "access value")


def parse_tunnel_category(raw: str) -> Parsed:
    """Parse an ADR tunnel category (``hazmat:adr_tunnel_cat``, ``tunnel:category``): A-E."""
    s = raw.strip().upper()
    if len(s) == 1 and s in "ABCDE":
        return Parsed("value", text=s, raw=raw)
    return _unparseable(raw, "tunnel category (A-E)")


def _split_top_level(raw: str) -> Iterator[str]:
    """Split on ``;`` outside parentheses (conditional restrictions are ``;``-separated)."""
    depth, start = 0, 0
    for i, ch in enumerate(raw):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ";" and depth == 0:
            yield raw[start:i]
            start = i + 1
    yield raw[start:]


def parse_conditional(raw: str, parse: Callable[[str], Parsed]) -> list[tuple[Parsed, str]]:
    """Parse a ``:conditional`` value: ``3.5 @ (Mo-Fr 07:00-19:00); none @ wet``.

    Parameters
    ----------
    raw:
        The tag value.
    parse:
        The value parser (:func:`parse_length_cm`, :func:`parse_weight_kg` ...).

    Returns
    -------
    list of (Parsed, condition)
        One entry per restriction; a part without ``@`` or without a condition is
        returned as ``unparseable`` with an empty condition.
    """
    out: list[tuple[Parsed, str]] = []
    for part in _split_top_level(raw):
        part = part.strip()
        if not part:
            continue
        value, sep, cond = part.partition("@")
        cond = cond.strip()
        if cond.startswith("(") and cond.endswith(")"):
            cond = cond[1:-1].strip()
        if not sep or not cond or not value.strip():
            out.append((_unparseable(part, "conditional syntax"), ""))
            continue
        out.append((parse(value.strip()), cond))
    return out


def _suffixes(key: str, base: str) -> tuple[str, bool, bool] | None:
    """``maxheight:physical:forward`` -> (direction, physical, conditional), else None."""
    if key == base:
        return "both", False, False
    if not key.startswith(base + ":"):
        return None
    parts = key[len(base) + 1 :].split(":")
    allowed = {"physical", "forward", "backward", "conditional"}
    if not set(parts) <= allowed or len(set(parts)) != len(parts):
        return None
    if "forward" in parts and "backward" in parts:
        return None
    direction = "forward" if "forward" in parts else "backward" if "backward" in parts else "both"
    return direction, "physical" in parts, "conditional" in parts


def _parser_for(kind: str) -> Callable[[str], Parsed]:
    if kind in ("height", "width"):
        return parse_length_cm
    if kind == "length":
        return lambda raw: parse_length_cm(raw, upper_cm=_MAX_LENGTH_CM)
    return parse_weight_kg


def limits_from_tags(tags: Mapping[str, str]) -> list[TagLimit]:
    """Every dimension/weight limit in ``tags`` (``maxheight`` and its suffixed forms,
    ``maxwidth``, ``maxlength``, ``maxweight``, ``maxaxleload``).

    Conditional values give one :class:`TagLimit` per restriction, each with its condition.
    """
    out: list[TagLimit] = []
    for key, raw in tags.items():
        if not key.startswith("max") or key.startswith("maxspeed"):  # speed: not a limit here
            continue
        for kind, base in LIMIT_KEYS.items():
            sfx = _suffixes(key, base)
            if sfx is None:
                continue
            direction, physical, conditional = sfx
            parse = _parser_for(kind)
            if conditional:
                for parsed, cond in parse_conditional(raw, parse):
                    out.append(TagLimit(kind, key, direction, physical, cond or None, parsed))
            else:
                out.append(TagLimit(kind, key, direction, physical, None, parse(raw)))
            break
    return out


_ACCESS_KEYS = {"hgv": "hgv", "hazmat": "hazmat"}
_CATEGORY_KEYS = ("hazmat:adr_tunnel_cat", "tunnel:category")


def access_from_tags(tags: Mapping[str, str]) -> list[TagLimit]:
    """``hgv``, ``hazmat`` (with ``:forward``/``:backward``/``:conditional``) and the ADR
    tunnel category (``hazmat:adr_tunnel_cat`` or ``tunnel:category``) as TagLimits."""
    out: list[TagLimit] = []
    for key, raw in tags.items():
        if key in _CATEGORY_KEYS:
            out.append(
                TagLimit("tunnel_category", key, "both", False, None, parse_tunnel_category(raw))
            )
            continue
        for kind, base in _ACCESS_KEYS.items():
            sfx = _suffixes(key, base)
            if sfx is None or sfx[1]:
                continue
            direction, _, conditional = sfx
            if conditional:
                for parsed, cond in parse_conditional(raw, parse_access):
                    out.append(TagLimit(kind, key, direction, False, cond or None, parsed))
            else:
                out.append(TagLimit(kind, key, direction, False, None, parse_access(raw)))
            break
    return out
