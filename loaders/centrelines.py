"""Road centrelines with their stake measure, read from GeoJSON or GeoPackage.

A register places assets by road code + stake (``K12+345``); that needs, for each road,
the centreline the stakes are measured along (digitised in the direction of increasing
stakes), the stake at its first vertex and its chain breaks (长链/短链). OpenStreetMap has
none of this: an OSM road is a bundle of carriageway pieces with no measure origin, so
stakes on it would be guesses. The road authority's centreline file supplies it.

One feature per road, properties:

- ``code`` (or ``路线编号``): the road code, e.g. ``G2``, ``S30``, ``X501``;
- ``stake_start`` (or ``stake_start_m``, ``起点桩号``): stake at the first vertex,
  ``K0+000`` text or metres; default 0;
- ``chain_breaks`` (or ``断链``): a list of ``{"back": "K5+200", "ahead": "K5+150"}``
  (JSON text is accepted);
- ``name_zh``, ``name_en``, ``road_class`` (optional).

Geometry: a LineString, or a MultiLineString whose parts join end to start into one
line, in WGS84 (GeoJSON) or any CRS GDAL knows (transformed to WGS84).

Everything is validated before anything is returned: a bad feature raises
:class:`CentrelineError` naming the file, the feature number and the field, and listing
every other problem found, so a file is loaded whole or not at all.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from road_network.stake import ChainBreak, StakeError, parse_chain_breaks, parse_stake

#: Accepted property names, first match wins.
_CODE = ("code", "road_code", "路线编号", "ref")
_START = ("stake_start", "stake_start_m", "起点桩号")
_BREAKS = ("chain_breaks", "断链")
#: Coordinates outside this box are not in China (lon, lat): likely swapped or projected.
_CHINA_BOX = (73.0, 3.0, 136.0, 54.0)


class CentrelineError(ValueError):
    """A centreline file that cannot be loaded; ``problems`` lists every one found."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Centreline:
    """One road's stake centreline (WGS84)."""

    code: str
    line: LineString
    stake_start_m: float = 0.0
    chain_breaks: list[ChainBreak] = field(default_factory=list)
    chain_breaks_raw: list[Any] = field(default_factory=list)
    name_zh: str | None = None
    name_en: str | None = None
    road_class: str | None = None
    feature: int = 0


def read_centrelines(path: str | Path, *, layer: str | None = None) -> list[Centreline]:
    """Read and validate every feature of a GeoJSON / GeoPackage centreline file.

    Parameters
    ----------
    path:
        ``.geojson``/``.json``/``.gpkg`` (any vector format GDAL reads).
    layer:
        GeoPackage layer (default: the first).

    Returns
    -------
    list of Centreline
        In file order.

    Raises
    ------
    CentrelineError
        The file is unreadable, or any feature is invalid (all problems listed).
    """
    p = Path(path)
    if not p.exists():
        raise CentrelineError(f"{p}: no such file", [f"{p}: no such file"])
    features = _features(p, layer)
    problems: list[str] = []
    out: list[Centreline] = []
    seen: dict[str, int] = {}
    for number, props, geom in features:
        try:
            c = _centreline(number, props, geom)
        except (ValueError, StakeError) as exc:
            problems.append(f"{p.name}: feature {number}: {exc}")
            continue
        if c.code in seen:
            problems.append(
                f"{p.name}: feature {number}: code {c.code!r} already given by feature "
                f"{seen[c.code]}; one centreline per road"
            )
            continue
        seen[c.code] = number
        out.append(c)
    if not out and not problems:
        problems.append(f"{p.name}: no features")
    if problems:
        head = problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        raise CentrelineError(head, problems)
    return out


def _features(p: Path, layer: str | None) -> list[tuple[int, dict[str, Any], Any]]:
    """(feature number from 1, properties, shapely geometry or None) in file order."""
    # pyogrio (GDAL) reads GeoJSON and GeoPackage alike and reprojects; it is already the
    # register reader's engine, so both loaders accept the same formats.
    import pyogrio

    try:
        df = pyogrio.read_dataframe(p, layer=layer)
    except Exception as exc:  # GDAL raises its own error types for unreadable files
        raise CentrelineError(f"{p.name}: cannot read: {exc}", [str(exc)]) from exc
    if df.crs is not None and not df.crs.equals("EPSG:4326"):
        df = df.to_crs("EPSG:4326")
    rows = []
    props = df.drop(columns="geometry").to_dict("records")
    for i, (pr, geom) in enumerate(zip(props, df.geometry, strict=True), start=1):
        rows.append((i, {k: _plain(v) for k, v in pr.items()}, geom))
    return rows


def _plain(v: Any) -> Any:
    """pandas missing values (NaN/None/NaT) as None."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _first(props: dict[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        if props.get(n) not in (None, ""):
            return props[n]
    return None


def _centreline(number: int, props: dict[str, Any], geom: Any) -> Centreline:
    code = _first(props, _CODE)
    if code is None:
        raise ValueError("field 'code' (路线编号) is missing: the road code, e.g. G2")
    code = str(code).replace(" ", "")
    start_raw = _first(props, _START)
    try:
        start = 0.0 if start_raw is None else parse_stake(start_raw)
    except StakeError as exc:
        raise ValueError(f"field 'stake_start': {exc}") from exc
    raw = _first(props, _BREAKS)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"field 'chain_breaks' {raw!r} is not JSON: expected "
                '[{"back": "K5+200", "ahead": "K5+150"}, ...]'
            ) from exc
    try:
        breaks = parse_chain_breaks(raw)
    except StakeError as exc:
        raise ValueError(f"field 'chain_breaks': {exc}") from exc
    line = _line(geom, code)
    return Centreline(
        code=code,
        line=line,
        stake_start_m=start,
        chain_breaks=breaks,
        chain_breaks_raw=list(raw or []),
        name_zh=_text(props.get("name_zh")),
        name_en=_text(props.get("name_en")),
        road_class=_text(props.get("road_class")),
        feature=number,
    )


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


def _line(geom: BaseGeometry | None, code: str) -> LineString:
    """The feature's geometry as one valid WGS84 line in China."""
    if geom is None or geom.is_empty:
        raise ValueError(f"road {code}: no geometry")
    if isinstance(geom, MultiLineString):
        merged = linemerge(geom)
        if not isinstance(merged, LineString):
            raise ValueError(
                f"road {code}: the MultiLineString's {len(geom.geoms)} parts do not join "
                "into one line; a stake centreline must be continuous (one feature per road)"
            )
        geom = merged
    if not isinstance(geom, LineString):
        raise ValueError(f"road {code}: geometry is a {geom.geom_type}; expected a LineString")
    if geom.length == 0:
        raise ValueError(f"road {code}: the line has zero length")
    x0, y0, x1, y1 = geom.bounds
    lon0, lat0, lon1, lat1 = _CHINA_BOX
    if not (lon0 <= x0 and x1 <= lon1 and lat0 <= y0 and y1 <= lat1):
        hint = (
            " (lon and lat look swapped)"
            if lon0 <= y0 and y1 <= lon1 and lat0 <= x0 and x1 <= lat1
            else ""
        )
        raise ValueError(
            f"road {code}: coordinates {x0:.5f},{y0:.5f} .. {x1:.5f},{y1:.5f} are outside "
            f"China{hint}; expected WGS84 lon/lat"
        )
    return geom
