"""Stake numbers (桩号) and linear referencing along a road.

A stake ``K12+345`` is 12,345 m of the road's own measure. The measure starts at the
road's ``stake_start_m`` at the first vertex of its geometry and grows with the distance
travelled, except at chain breaks (断链): a chain break says "at the place where the
measure reads ``back_m`` (断链前桩号) it continues as ``ahead_m`` (断链后桩号)".

- ``ahead_m < back_m`` is a *long* chain (长链): the stretch is longer than its stakes say,
  so the stakes ``[ahead_m, back_m)`` occur twice, once before and once after the break.
- ``ahead_m > back_m`` is a *short* chain (短链): the stakes ``(back_m, ahead_m)`` do not
  exist on the ground; asking for one is an input error.

This module is pure: it takes geometry in a metric CRS (EPSG:4548, CGCS2000 / 3-degree
Gauss-Kruger CM 117E, for Tianjin) or WGS84 lon/lat with :func:`to_metric`, and returns
plain values. Errors are :class:`StakeError` (a ``ValueError``), translated to the twin's
``InputError`` at the boundary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import shapely
from shapely import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

__all__ = [
    "METRIC_EPSG",
    "ChainBreak",
    "LinearRoute",
    "StakeError",
    "format_stake",
    "parse_chain_breaks",
    "parse_stake",
    "to_metric",
    "to_wgs84",
]

METRIC_EPSG = 4548
_STAKE_RE = re.compile(
    r"^\s*(?P<prefix>[A-Z]{0,2})K\s*(?P<km>\d{1,5})(?:\s*\+\s*|\s+)(?P<m>\d{3}(?:\.\d+)?)\s*$",
    re.IGNORECASE,
)
_TOLERANCE_M = 1e-6


class StakeError(ValueError):
    """A stake that is malformed or does not exist on the route."""


@dataclass(frozen=True)
class ChainBreak:
    """A measure discontinuity: at stake ``back_m`` the measure continues as ``ahead_m``."""

    back_m: float
    ahead_m: float

    @property
    def kind(self) -> Literal["long", "short", "none"]:
        """``long`` (长链, stakes repeat), ``short`` (短链, stakes skipped) or ``none``."""
        if self.ahead_m < self.back_m:
            return "long"
        if self.ahead_m > self.back_m:
            return "short"
        return "none"


def parse_stake(text: str | float | int) -> float:
    """Parse ``K12+345`` (or ``K12+345.6``, ``k0+000``, ``AK3+020``) to metres.

    Numbers pass through as metres. The part after ``+`` must have three digits for the
    metres (``K12+45`` is ambiguous and rejected) and be below 1000. A space instead of
    the ``+`` is accepted (``K12 345``: what an unencoded ``+`` in a URL query becomes).

    Parameters
    ----------
    text:
        The stake as written in a register, or a number of metres.

    Returns
    -------
    float
        The stake in metres of the route's measure.

    Raises
    ------
    StakeError
        When the text is not a stake number.

    Examples
    --------
    >>> parse_stake("K12+345")
    12345.0
    >>> parse_stake("K0+012.5")
    12.5
    """
    if isinstance(text, bool):
        raise StakeError(f"stake {text!r} is not a stake number")
    if isinstance(text, int | float):
        value = float(text)
        if not math.isfinite(value) or value < 0:
            raise StakeError(f"stake {text!r} must be a finite, non-negative number of metres")
        return value
    m = _STAKE_RE.match(str(text))
    if not m:
        raise StakeError(
            f"stake {text!r} is not a stake number; expected K<km>+<metres> with three "
            "digits of metres, e.g. K12+345 or K12+345.6"
        )
    metres = float(m["m"])
    if metres >= 1000:
        raise StakeError(f"stake {text!r}: the metres after '+' must be below 1000")
    return int(m["km"]) * 1000.0 + metres


def format_stake(stake_m: float, *, decimals: int = 0) -> str:
    """Format metres as ``K12+345`` (``decimals`` digits after the metres).

    Examples
    --------
    >>> format_stake(12345.0)
    'K12+345'
    >>> format_stake(12.46, decimals=1)
    'K0+012.5'
    """
    if not math.isfinite(stake_m) or stake_m < 0:
        raise StakeError(f"stake {stake_m!r} m cannot be formatted: must be >= 0")
    value = round(stake_m, decimals)
    km = int(value // 1000)
    metres = value - km * 1000
    width = 3 if decimals == 0 else 4 + decimals
    return f"K{km}+{metres:0{width}.{decimals}f}"


def parse_chain_breaks(raw: Iterable[Any] | None) -> list[ChainBreak]:
    """Chain breaks from the ``road.chain_breaks`` JSON.

    Each item is ``{"back": "K5+200", "ahead": "K5+150"}`` (stake strings or metres;
    ``back_m``/``ahead_m`` are accepted as aliases) or a ``[back, ahead]`` pair.
    """
    out: list[ChainBreak] = []
    for i, item in enumerate(raw or []):
        if isinstance(item, Mapping):
            back = item.get("back", item.get("back_m"))
            ahead = item.get("ahead", item.get("ahead_m"))
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            back, ahead = item
        else:
            raise StakeError(f"chain break #{i + 1} {item!r}: expected {{'back':..,'ahead':..}}")
        if back is None or ahead is None:
            raise StakeError(f"chain break #{i + 1} {item!r}: needs both 'back' and 'ahead'")
        out.append(ChainBreak(parse_stake(back), parse_stake(ahead)))
    return out


@lru_cache(maxsize=4)
def _transformer(src: int, dst: int) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def to_metric(geom: BaseGeometry, *, epsg: int = METRIC_EPSG) -> BaseGeometry:
    """Project a WGS84 lon/lat geometry to the metric CRS (EPSG:4548 by default)."""
    return _project(geom, _transformer(4326, epsg))


def to_wgs84(geom: BaseGeometry, *, epsg: int = METRIC_EPSG) -> BaseGeometry:
    """Project a metric geometry back to WGS84 lon/lat."""
    return _project(geom, _transformer(epsg, 4326))


def _project(geom: BaseGeometry, tr: Any) -> BaseGeometry:
    def fn(x: Any, y: Any) -> Any:
        return np.column_stack(tr.transform(x, y))

    return shapely.transform(geom, lambda xy: fn(xy[:, 0], xy[:, 1]))


@dataclass(frozen=True)
class _Segment:
    dist_from_m: float
    dist_to_m: float
    stake_from_m: float

    @property
    def stake_to_m(self) -> float:
        return self.stake_from_m + (self.dist_to_m - self.dist_from_m)


class LinearRoute:
    """A road's geometry with its stake measure, for stake <-> position mapping.

    Parameters
    ----------
    line:
        The road's centreline in a metric CRS, digitised in the direction of increasing
        stakes. A MultiLineString is merged; parts that do not join are taken in their
        stored order, a gap between parts bridged by a straight segment.
    stake_start_m:
        The stake at the first vertex.
    chain_breaks:
        Measure discontinuities in order along the road.
    code:
        The road code, for messages.
    """

    def __init__(
        self,
        line: LineString | MultiLineString,
        *,
        stake_start_m: float = 0.0,
        chain_breaks: Sequence[ChainBreak] = (),
        code: str = "road",
    ) -> None:
        self.code = code
        self.line = _single_line(line, code=code)
        self.length_m = float(self.line.length)
        if self.length_m <= 0:
            raise StakeError(f"road {code}: geometry has zero length")
        self.segments = self._segments(stake_start_m, chain_breaks)

    def _segments(self, stake_start_m: float, breaks: Sequence[ChainBreak]) -> list[_Segment]:
        segs: list[_Segment] = []
        dist = 0.0
        stake = stake_start_m
        for br in breaks:
            if br.kind == "none":
                continue
            at = dist + (br.back_m - stake)
            if br.back_m < stake - _TOLERANCE_M or at > self.length_m + _TOLERANCE_M:
                raise StakeError(
                    f"road {self.code}: chain break at {format_stake(br.back_m, decimals=1)} "
                    f"is outside the stretch {format_stake(stake, decimals=1)}.."
                    f"{format_stake(stake + self.length_m - dist, decimals=1)} that precedes it"
                )
            segs.append(_Segment(dist, at, stake))
            dist, stake = at, br.ahead_m
        segs.append(_Segment(dist, self.length_m, stake))
        return segs

    @property
    def stake_start_m(self) -> float:
        """Stake at the start of the geometry."""
        return self.segments[0].stake_from_m

    @property
    def stake_end_m(self) -> float:
        """Stake at the end of the geometry."""
        return self.segments[-1].stake_to_m

    def distance_at(
        self, stake_m: float, *, occurrence: Literal["first", "last"] = "first"
    ) -> float:
        """Distance along the geometry (m) at which the measure reads ``stake_m``.

        In a long chain break the stake exists twice; ``occurrence`` picks which.

        Raises
        ------
        StakeError
            Beyond the route's ends, or inside a short chain break.
        """
        hits = self.distances_at(stake_m)
        if not hits:
            lo = min(s.stake_from_m for s in self.segments)
            hi = max(s.stake_to_m for s in self.segments)
            where = format_stake(stake_m, decimals=1)
            span = f"{format_stake(lo, decimals=1)}..{format_stake(hi, decimals=1)}"
            if lo <= stake_m <= hi:
                raise StakeError(
                    f"stake {where} on road {self.code} lies inside a short chain break "
                    f"(断链): those stakes do not exist on the ground (road runs {span})"
                )
            raise StakeError(
                f"stake {where} is beyond road {self.code}, whose stakes run {span} "
                f"({self.length_m:.0f} m of geometry)"
            )
        d = hits[0] if occurrence == "first" else hits[-1]
        return min(max(d, 0.0), self.length_m)

    def distances_at(self, stake_m: float) -> list[float]:
        """Every distance along the geometry where the measure reads ``stake_m`` (none
        when the stake does not exist, two or more inside long chain breaks)."""
        return [
            min(max(seg.dist_from_m + (stake_m - seg.stake_from_m), 0.0), self.length_m)
            for seg in self.segments
            if seg.stake_from_m - _TOLERANCE_M <= stake_m <= seg.stake_to_m + _TOLERANCE_M
        ]

    def is_ambiguous(self, stake_m: float) -> bool:
        """True when the stake falls in a long chain break and occurs twice."""
        return len(self.distances_at(stake_m)) > 1

    def point_at(
        self,
        stake_m: float,
        *,
        offset_m: float = 0.0,
        occurrence: Literal["first", "last"] = "first",
    ) -> Point:
        """The metric point at ``stake_m``, moved ``offset_m`` to the right (negative: left)."""
        d = self.distance_at(stake_m, occurrence=occurrence)
        p = self.line.interpolate(d)
        if offset_m == 0:
            return p
        a = self.line.interpolate(max(d - 1.0, 0.0))
        b = self.line.interpolate(min(d + 1.0, self.length_m))
        dx, dy = b.x - a.x, b.y - a.y
        norm = math.hypot(dx, dy) or 1.0
        return Point(p.x + offset_m * dy / norm, p.y - offset_m * dx / norm)

    def section(self, stake_from_m: float, stake_to_m: float) -> LineString:
        """The stretch of geometry between two stakes (metric), in stake order."""
        d0 = self.distance_at(stake_from_m)
        d1 = self.distance_at(stake_to_m, occurrence="last")
        if d1 <= d0:
            raise StakeError(
                f"section {format_stake(stake_from_m)}..{format_stake(stake_to_m)} on road "
                f"{self.code} is empty or reversed: the end stake must come after the start"
            )
        out = substring(self.line, d0, d1)
        assert isinstance(out, LineString)
        return out

    def stake_at_distance(self, dist_m: float) -> float:
        """The stake where the geometry is ``dist_m`` from its start."""
        if dist_m < -_TOLERANCE_M or dist_m > self.length_m + _TOLERANCE_M:
            raise StakeError(
                f"distance {dist_m:.1f} m is off road {self.code} (0..{self.length_m:.1f} m)"
            )
        seg = next(
            (s for s in reversed(self.segments) if s.dist_from_m <= dist_m), self.segments[0]
        )
        return seg.stake_from_m + (dist_m - seg.dist_from_m)

    def locate(self, point: Point) -> tuple[float, float]:
        """Stake of the nearest place on the road to a metric point, and its distance (m)."""
        d = float(self.line.project(point))
        return self.stake_at_distance(d), float(point.distance(self.line.interpolate(d)))


def _single_line(geom: LineString | MultiLineString, *, code: str) -> LineString:
    """Merge a MultiLineString into one line (stored order where parts do not join)."""
    if isinstance(geom, LineString):
        return geom
    if not isinstance(geom, MultiLineString):
        raise StakeError(f"road {code}: geometry is a {geom.geom_type}, expected a line")
    from shapely.ops import linemerge

    merged = linemerge(geom)
    if isinstance(merged, LineString):
        return merged
    coords: list[tuple[float, ...]] = []
    for part in geom.geoms:
        pts = list(part.coords)
        if coords and pts and coords[-1] == pts[0]:
            pts = pts[1:]
        coords.extend(pts)
    return LineString(coords)
