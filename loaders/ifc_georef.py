"""Georeferencing of IFC models: IfcMapConversion/IfcProjectedCRS, IfcSite lat/lon, anchors.

Every case becomes one :class:`Georef`: a 2D similarity transform from the model's
local coordinates (metres, as IfcOpenShell's geometry iterator returns them) into a
projected CRS, followed by pyproj to EPSG:4326::

    map_xy = offset + scale * R(theta) @ local_xy        (CRS units)
    height = height_offset_m + local_z                   (metres)

- IfcMapConversion: the CRS is the IfcProjectedCRS (``EPSG:25832``), offset is
  Eastings/Northings, theta from XAxisAbscissa/XAxisOrdinate. ``Scale`` converts
  project length units to map units (IFC4 and IFC4.3 both say so). Files in the wild
  get it wrong both ways: buildingSMART's own ``geographic-referencing-utm.ifc`` has
  millimetre units and ``Scale 1000`` (the inverse of the 0.001 the definition needs).
  :func:`effective_scale` uses the declared scale when it matches the unit ratio (or is
  a plain grid factor near 1 with equal units) and the unit ratio when the declared one
  is exactly its inverse, recording a warning.
- IfcSite RefLatitude/RefLongitude (+ TrueNorth): an azimuthal-equidistant CRS centred on
  the reference point, which is the site placement's origin.
- A user anchor (``--anchor LON,LAT --rotation DEG --elevation M``) or a linked asset:
  the same, centred on the anchor, with the model's local origin there and its local
  +X axis ``rotation_deg`` counter-clockwise from east.

Georeferencing is applied exactly once: the GLB keeps local coordinates and the anchor
says where its origin sits; the footprint is computed through the same transform. When
a model's placements already hold map coordinates *and* it has a map conversion whose
offset equals them (a classic export error), the offset is dropped and a warning says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import ifcopenshell

#: a model whose local coordinates are within this of the map offset already holds map
#: coordinates (double georeferencing).
_DOUBLE_GEOREF_REL_TOL = 0.01


@dataclass
class Georef:
    """Local metres -> projected CRS -> EPSG:4326 (see module docstring)."""

    kind: str  # 'map_conversion' | 'site' | 'anchor' | 'asset' | 'none'
    crs: str | None = None
    offset: tuple[float, float] = (0.0, 0.0)
    theta_rad: float = 0.0
    scale: float = 1.0  # CRS units per local metre
    height_offset_m: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_located(self) -> bool:
        """True when the model can be placed on the map."""
        return self.kind != "none" and self.crs is not None

    def to_map(self, local_m: np.ndarray) -> np.ndarray:
        """Local metres (n, 2|3) to CRS coordinates (n, 2)."""
        c, s = math.cos(self.theta_rad), math.sin(self.theta_rad)
        x, y = local_m[:, 0], local_m[:, 1]
        return np.column_stack(
            (
                self.offset[0] + self.scale * (c * x - s * y),
                self.offset[1] + self.scale * (s * x + c * y),
            )
        )

    def to_lonlat(self, local_m: np.ndarray) -> np.ndarray:
        """Local metres (n, 3) to (lon, lat, height_m) in EPSG:4326."""
        if not self.is_located:
            raise ValueError("the model has no georeference; anchor it first")
        pts = np.atleast_2d(np.asarray(local_m, dtype=float))
        xy = self.to_map(pts)
        lon, lat = _transformer(self.crs or "").transform(xy[:, 0], xy[:, 1])
        z = pts[:, 2] if pts.shape[1] > 2 else np.zeros(len(pts))
        return np.column_stack((lon, lat, self.height_offset_m + z))

    def anchor(self, origin_m: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> dict[str, float]:
        """Where local point ``origin_m`` sits and where local +X points.

        Returns ``lon``, ``lat``, ``elevation_m`` and ``rotation_deg`` (heading of the
        local +X axis, counter-clockwise from east, true north based — grid convergence
        included): what a deck.gl layer needs to draw the GLB in place.
        """
        from pyproj import Geod

        o = np.array(origin_m, dtype=float)
        ll = self.to_lonlat(np.vstack((o, o + np.array([10.0, 0.0, 0.0]))))
        az, _, _ = Geod(ellps="WGS84").inv(ll[0, 0], ll[0, 1], ll[1, 0], ll[1, 1])
        rot = (90.0 - az + 180.0) % 360.0 - 180.0
        return {
            "lon": float(ll[0, 0]),
            "lat": float(ll[0, 1]),
            "elevation_m": float(ll[0, 2]),
            "rotation_deg": float(rot),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON for ``bim_model.georef``."""
        return {
            "kind": self.kind,
            "crs": self.crs,
            "offset": list(self.offset),
            "theta_deg": math.degrees(self.theta_rad),
            "scale": self.scale,
            "height_offset_m": self.height_offset_m,
            **self.details,
            "warnings": list(self.warnings),
        }


_TRANSFORMERS: dict[str, Any] = {}


def _transformer(crs: str) -> Any:
    from pyproj import Transformer

    t = _TRANSFORMERS.get(crs)
    if t is None:
        t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        _TRANSFORMERS[crs] = t
    return t


def prepare(crs: str | None) -> None:
    """Build the transformer from ``crs`` to EPSG:4326 and use it once, in this thread.

    Creating it (PROJ database, CRS parsing) takes tens of milliseconds, and pyproj gives
    each thread its own PROJ context, so it must happen on the thread that will
    transform: an import calls this between two shapes while the geometry iterator's
    threads triangulate, instead of after the last one.
    """
    if crs:
        _transformer(crs).transform(0.0, 0.0)


def _aeqd(lon: float, lat: float) -> str:
    return f"+proj=aeqd +lat_0={lat:.10f} +lon_0={lon:.10f} +datum=WGS84 +units=m +no_defs"


# --------------------------------------------------------------------------- detection


def effective_scale(declared: float | None, unit_ratio: float) -> tuple[float, str | None]:
    """The map-conversion scale to apply, and a warning when the declared one is wrong.

    ``unit_ratio`` is map units per project length unit (0.001 for millimetres on a
    metre CRS). See the module docstring for the rules.
    """
    if declared is None or declared == 0:
        return unit_ratio, None
    if math.isclose(declared, unit_ratio, rel_tol=0.01):
        return declared, None
    if unit_ratio != 1.0 and math.isclose(declared, 1.0 / unit_ratio, rel_tol=0.01):
        return unit_ratio, (
            f"IfcMapConversion.Scale {declared:g} is the inverse of the project-unit to "
            f"map-unit ratio {unit_ratio:g}; applied {unit_ratio:g} (Scale converts local "
            "units to map units)"
        )
    if unit_ratio != 1.0 and math.isclose(declared, 1.0, rel_tol=0.01):
        # a grid scale factor written without the unit conversion
        return declared * unit_ratio, (
            f"IfcMapConversion.Scale {declared:g} omits the unit conversion {unit_ratio:g}; "
            f"applied {declared * unit_ratio:g}"
        )
    return declared, None


def detect(f: ifcopenshell.file, *, length_unit_m: float) -> Georef:
    """The model's own georeferencing: map conversion first, else IfcSite lat/lon."""
    g = _from_map_conversion(f, length_unit_m=length_unit_m)
    site = _from_site(f, length_unit_m=length_unit_m)
    if g is not None and not g.is_located:  # unusable CRS: fall back to the site
        if site is not None:
            site.warnings.extend(g.warnings)
            return site
        return g
    if g is not None:
        if site is not None:
            a = g.to_lonlat(np.zeros((1, 3)))[0]
            b = site.to_lonlat(np.zeros((1, 3)))[0]
            from pyproj import Geod

            _, _, d = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])
            g.details["site_ref_distance_m"] = round(float(d), 1)
            if d > 1000:
                g.warnings.append(
                    f"IfcSite RefLatitude/RefLongitude lies {d / 1000:.1f} km from the "
                    "IfcMapConversion position; the map conversion is used"
                )
        return g
    if site is not None:
        return site
    return Georef(
        kind="none",
        warnings=["the model has no IfcMapConversion and no IfcSite RefLatitude/RefLongitude"],
    )


def _from_map_conversion(f: ifcopenshell.file, *, length_unit_m: float) -> Georef | None:
    import ifcopenshell.util.geolocation as geo

    params = geo.get_helmert_transformation_parameters(f)
    if params is None:
        return None
    crs_info = geo.get_crs(f) or {}
    name = crs_info.get("Name")
    if not name:
        return None
    try:
        from pyproj import CRS

        crs = CRS.from_user_input(str(name))
    except Exception:
        return Georef(
            kind="none",
            warnings=[
                f"IfcProjectedCRS name {name!r} is not a CRS pyproj knows (expected "
                "e.g. 'EPSG:4548'); the map conversion is ignored"
            ],
        )
    map_unit_m = _map_unit_m(f, crs_info, crs)
    unit_ratio = length_unit_m / map_unit_m
    scale, warning = effective_scale(
        float(params.scale) if params.scale is not None else None, unit_ratio
    )
    g = Georef(
        kind="map_conversion",
        crs=crs.to_string(),
        offset=(float(params.e), float(params.n)),
        theta_rad=math.atan2(float(params.xao), float(params.xaa)),
        # local metres -> project units -> map units (factor_x/y of IfcMapConversionScaled
        # are grid factors; applied as their mean, they are equal in practice)
        scale=scale / length_unit_m * (float(params.factor_x) + float(params.factor_y)) / 2.0,
        height_offset_m=float(params.h) * map_unit_m,
        details={
            "source": "IfcMapConversion",
            "eastings": float(params.e),
            "northings": float(params.n),
            "orthogonal_height": float(params.h),
            "x_axis_abscissa": float(params.xaa),
            "x_axis_ordinate": float(params.xao),
            "scale_declared": params.scale,
            "scale_applied": scale,
            "map_unit_m": map_unit_m,
        },
    )
    if warning:
        g.warnings.append(warning)
    return g


def _map_unit_m(f: ifcopenshell.file, crs_info: dict[str, Any], crs: Any) -> float:
    unit = crs_info.get("MapUnit")
    if unit is not None:
        import ifcopenshell.util.unit as uu

        try:
            ent = f.by_id(unit["id"]) if isinstance(unit, dict) else unit
            if ent.is_a("IfcSIUnit"):
                return float(uu.get_prefix_multiplier(ent.Prefix))
            if ent.is_a("IfcConversionBasedUnit"):
                return float(ent.ConversionFactor.ValueComponent.wrappedValue)
        except Exception:
            pass
    try:
        return float(crs.axis_info[0].unit_conversion_factor)
    except Exception:
        return 1.0


def _from_site(f: ifcopenshell.file, *, length_unit_m: float) -> Georef | None:
    import ifcopenshell.util.geolocation as geo
    import ifcopenshell.util.placement as up

    for site in f.by_type("IfcSite"):
        lat, lon = site.RefLatitude, site.RefLongitude
        if not lat or not lon:
            continue
        lat_dd = geo.dms2dd(*_dms(lat))
        lon_dd = geo.dms2dd(*_dms(lon))
        if not (-90 <= lat_dd <= 90 and -180 <= lon_dd <= 180):
            continue
        if lat_dd == 0.0 and lon_dd == 0.0:  # exporters' placeholder, not a location
            continue
        origin = np.zeros(3)
        if site.ObjectPlacement is not None:
            m = up.get_local_placement(site.ObjectPlacement)
            origin = np.asarray(m[:3, 3], dtype=float) * length_unit_m
        north = _true_north(f)
        # theta: angle of local +X from east. TrueNorth (nx, ny) is north in local axes,
        # so local +Y is rotated from north by -atan2(-nx, ny).
        theta = math.atan2(north[0], north[1])
        c, s = math.cos(theta), math.sin(theta)
        off = (-(c * origin[0] - s * origin[1]), -(s * origin[0] + c * origin[1]))
        elev = float(site.RefElevation or 0.0) * length_unit_m
        return Georef(
            kind="site",
            crs=_aeqd(lon_dd, lat_dd),
            offset=off,
            theta_rad=theta,
            scale=1.0,
            height_offset_m=elev - float(origin[2]),
            details={
                "source": "IfcSite.RefLatitude/RefLongitude",
                "site": site.GlobalId,
                "ref_lat": lat_dd,
                "ref_lon": lon_dd,
                "ref_elevation_m": elev,
                "true_north": list(north),
            },
        )
    return None


def _dms(v: Any) -> tuple[int, int, int, int]:
    parts = [int(x) for x in v] + [0, 0, 0, 0]
    d, m, s, us = parts[:4]
    if d < 0 or m < 0 or s < 0 or us < 0:  # IFC: all components carry the sign
        return (-abs(d), -abs(m), -abs(s), -abs(us))
    return (d, m, s, us)


def _true_north(f: ifcopenshell.file) -> tuple[float, float]:
    for ctx in f.by_type("IfcGeometricRepresentationContext", include_subtypes=False):
        tn = getattr(ctx, "TrueNorth", None)
        if tn is not None and tn.DirectionRatios:
            r = tn.DirectionRatios
            n = math.hypot(r[0], r[1]) or 1.0
            return (r[0] / n, r[1] / n)
    return (0.0, 1.0)


def anchored(
    lon: float,
    lat: float,
    *,
    rotation_deg: float = 0.0,
    elevation_m: float = 0.0,
    kind: str = "anchor",
    details: dict[str, Any] | None = None,
) -> Georef:
    """A georeference from a user anchor (or an asset): local origin at ``lon, lat``.

    ``rotation_deg`` is the heading of the model's local +X axis, counter-clockwise from
    east (0 = +X points east, 90 = +X points north).
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"anchor {lon},{lat} is not a longitude,latitude in degrees")
    return Georef(
        kind=kind,
        crs=_aeqd(lon, lat),
        theta_rad=math.radians(rotation_deg),
        height_offset_m=elevation_m,
        details={
            "source": "anchor" if kind == "anchor" else kind,
            "anchor_lon": lon,
            "anchor_lat": lat,
            "rotation_deg": rotation_deg,
            "elevation_m": elevation_m,
            **(details or {}),
        },
    )


def fix_double_georef(g: Georef, local_centre_m: np.ndarray) -> Georef:
    """Drop a map conversion's offset when the placements already hold map coordinates.

    When the model's geometry sits near ``(Eastings, Northings)`` *in its local
    coordinates*, applying the conversion would put it twice as far from the origin.
    """
    if g.kind != "map_conversion":
        return g
    ex, ny = g.offset
    dist = math.hypot(ex, ny)
    if dist < 10_000:
        return g
    local_map = np.asarray(local_centre_m[:2], dtype=float) * g.scale
    if math.hypot(local_map[0] - ex, local_map[1] - ny) < _DOUBLE_GEOREF_REL_TOL * dist:
        g.offset = (0.0, 0.0)
        g.theta_rad = 0.0
        g.height_offset_m = 0.0
        g.warnings.append(
            "the model's placements already hold map coordinates "
            f"(centre {local_map[0]:.0f}, {local_map[1]:.0f}) equal to the IfcMapConversion "
            "offset; the offset was not applied a second time"
        )
        g.details["double_georef_fixed"] = True
    return g


def footprint_lonlat(g: Georef, hull_local_m: np.ndarray) -> list[tuple[float, float]]:
    """The footprint ring in lon/lat from a convex hull in local metres (closed ring)."""
    from shapely.geometry import MultiPoint, Polygon

    hull = MultiPoint([tuple(p) for p in hull_local_m[:, :2]]).convex_hull
    if not isinstance(hull, Polygon) or hull.area < 0.01:
        hull = hull.buffer(0.5)  # a line or point of a thin model: a 0.5 m band
    ring = np.asarray(hull.exterior.coords)
    pts = np.column_stack((ring, np.zeros(len(ring))))
    ll = g.to_lonlat(pts)
    return [(float(x), float(y)) for x, y in ll[:, :2]]
