"""Water and land-use areas from an OSM file: the offline basemap drawn under the roads.

Pure core: reads the path it is given, never touches the database. libosmium (pyosmium's
``FileProcessor.with_areas``) assembles closed ways and ``type=multipolygon`` relations
into areas, so rings, holes and multipolygons need no hand-written ring building here.

Which areas are kept, and their ``kind``:

========================================================  ============
tags                                                      kind
========================================================  ============
``natural=water`` + ``water=river|canal|stream``,          ``river``
``waterway=riverbank``
``natural=bay|sea|strait``, ``place=sea|ocean``            ``sea``
``natural=water`` (lake, reservoir, basin, pond...),       ``water``
``landuse=reservoir|basin``
``natural=wetland``                                        ``wetland``
``landuse=residential|commercial|retail|urban``            ``urban``
``landuse=industrial|railway``                             ``industrial``
``landuse=port``, ``industrial=port``, ``harbour=yes``      ``port``
``landuse=farmland|farmyard|meadow|orchard|greenhouse...``  ``farmland``
``leisure=park|garden``, ``landuse=grass|recreation_ground  ``park``
|forest``, ``natural=wood``
========================================================  ============

Everything else (a closed ring road, a building, a bridge outline) is skipped. Errors are
:class:`OsmAreaError` (a ``ValueError``) naming the file; the shell translates them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["AreaReport", "AreaRow", "OsmAreaError", "area_kind", "read_areas"]

#: Kinds in drawing order (bottom first): land use, then wetland, then water on top.
KINDS = ("farmland", "park", "urban", "industrial", "port", "wetland", "water", "river", "sea")

_RIVER_WATER = {"river", "canal", "stream", "oxbow", "ditch", "drain"}
_SEA = {"bay", "sea", "strait"}
_URBAN = {"residential", "commercial", "retail", "urban", "construction", "education"}
_INDUSTRIAL = {"industrial", "railway", "quarry", "landfill"}
_FARM = {
    "farmland",
    "farmyard",
    "meadow",
    "orchard",
    "vineyard",
    "greenhouse_horticulture",
    "plant_nursery",
    "aquaculture",
    "allotments",
}
_PARK_LANDUSE = {"grass", "recreation_ground", "forest", "village_green", "cemetery"}


class OsmAreaError(ValueError):
    """The file cannot be read as OSM data (missing, corrupt, wrong format)."""


@dataclass(frozen=True)
class AreaRow:
    """One area: its OSM identity, kind, names and geometry.

    Attributes
    ----------
    osm_type, osm_id:
        ``"way"`` or ``"relation"`` and the element id the area was built from.
    kind:
        One of :data:`KINDS`.
    name, name_en:
        ``name`` (or ``name:zh``) and ``name:en``; None when untagged.
    wkb:
        The MultiPolygon in EPSG:4326 as WKB (lon/lat).
    tags:
        The element's tags.
    """

    osm_type: str
    osm_id: int
    kind: str
    name: str | None
    name_en: str | None
    wkb: bytes
    tags: dict[str, str]


@dataclass
class AreaReport:
    """What :func:`read_areas` found: the rows and counts of what it skipped and why."""

    rows: list[AreaRow] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        """Rows per kind."""
        return dict(Counter(r.kind for r in self.rows))


def area_kind(tags: Mapping[str, str]) -> str | None:
    """The basemap kind of an area with these OSM tags, or None when it is not one.

    Parameters
    ----------
    tags:
        The OSM tags of a closed way or multipolygon relation.
    """
    natural = tags.get("natural")
    landuse = tags.get("landuse")
    if natural in _SEA or tags.get("place") in ("sea", "ocean"):
        return "sea"
    if tags.get("waterway") == "riverbank" or (
        natural == "water" and tags.get("water") in _RIVER_WATER
    ):
        return "river"
    if natural == "water" or landuse in ("reservoir", "basin"):
        return "water"
    if natural == "wetland":
        return "wetland"
    if landuse == "port" or tags.get("industrial") == "port" or tags.get("harbour") == "yes":
        return "port"
    if landuse in _URBAN:
        return "urban"
    if landuse in _INDUSTRIAL:
        return "industrial"
    if landuse in _FARM:
        return "farmland"
    if tags.get("leisure") in ("park", "garden") or landuse in _PARK_LANDUSE or natural == "wood":
        return "park"
    return None


def read_areas(
    path: Path | str,
    *,
    kinds: tuple[str, ...] = KINDS,
    progress: Callable[[int], None] | None = None,
) -> AreaReport:
    """Read the water and land-use areas of an OSM file (XML or PBF).

    Parameters
    ----------
    path:
        The OSM file.
    kinds:
        Keep only these kinds (default all of :data:`KINDS`).
    progress:
        Called with the number of areas seen every 1,000 areas.

    Returns
    -------
    AreaReport
        Rows in file order and counts of skipped areas (``not_basemap`` for areas of other
        kinds, ``invalid_geometry`` for rings libosmium could not assemble).

    Raises
    ------
    OsmAreaError
        The file is missing or cannot be read as OSM data.
    """
    import osmium

    p = Path(path)
    if not p.is_file():
        raise OsmAreaError(f"{p}: no such file (an OSM .osm or .osm.pbf file was expected)")
    wanted = set(kinds)
    factory = osmium.geom.WKBFactory()
    report = AreaReport()
    seen = 0
    try:
        for obj in osmium.FileProcessor(str(p)).with_areas():
            if not isinstance(obj, osmium.osm.Area):
                continue
            seen += 1
            if progress is not None and seen % 1000 == 0:
                progress(seen)
            tags = dict(obj.tags)
            kind = area_kind(tags)
            if kind is None or kind not in wanted:
                report.skipped["not_basemap"] += 1
                continue
            try:
                wkb = bytes.fromhex(factory.create_multipolygon(obj))
            except RuntimeError:  # libosmium: rings that could not be assembled
                report.skipped["invalid_geometry"] += 1
                continue
            report.rows.append(
                AreaRow(
                    osm_type="way" if obj.from_way() else "relation",
                    osm_id=int(obj.orig_id()),
                    kind=kind,
                    name=tags.get("name") or tags.get("name:zh"),
                    name_en=tags.get("name:en"),
                    wkb=wkb,
                    tags=tags,
                )
            )
    except OsmAreaError:
        raise
    except Exception as exc:  # libosmium raises RuntimeError and friends for bad files
        raise OsmAreaError(f"{p}: cannot read OSM data: {exc}") from exc
    return report
