"""Network overview: roads by class or condition, structures in 3D, clearance columns.

Input (plain data, EPSG:4326):

``roads``
    list of ``{"id", "road_class", "path": [[lon, lat], ...], "name", "ref",
    "cond_class" (1..5 or None), "max_height_cm", "max_weight_kg"}`` — drawn inline. For big
    networks pass ``tiles`` instead (``{"url": ".../tiles/road_edge/{z}/{x}/{y}.pbf",
    "edge_count": n}``) and the roads come as Mapbox Vector Tiles from the API.
``structures``
    list of ``{"asset_id", "external_id", "kind", "name_zh", "name_en", "road_code",
    "stake", "position": [lon, lat], "polygon": [[lon, lat], ...] or None,
    "height_cm", "weight_kg", "cond_class"}``.

Bridges and tunnels with a footprint are extruded polygons (bridges solid, tunnels
translucent); every structure with a height limit gets a column whose height is the
clearance in metres times ``vertical_scale`` so it can be read at city scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pydeck as pdk
import shapely

from scenes._common import (
    BACKGROUND,
    CLASS_COLORS,
    CLASS_WIDTH_M,
    CONDITION_COLORS,
    HEIGHT_BANDS_CM,
    KIND_COLORS,
    NO_LIMIT_COLOR,
    Camera,
    LegendItem,
    Scene,
    area_legend,
    basemap_layers,
    bounds_of,
    camera_for_bounds,
    class_color,
    condition_color,
    height_limit_color,
    legend_condition,
    make_deck,
    mvt_color_expression,
    mvt_load_options,
    rgba,
)
from scenes.i18n import Lang, name_of, t

ColorBy = Literal["class", "condition", "limit"]

#: The four named corridors and the port: fixed fallbacks used when the data holds no road
#: whose name matches (centres from the corridors' published alignments, rounded).
CORRIDOR_PRESETS: dict[str, Camera] = {
    "cam_jinbin": Camera("cam_jinbin", 117.49, 39.08, 10.3, pitch=50, bearing=-10),
    "cam_tianjin_avenue": Camera("cam_tianjin_avenue", 117.50, 39.02, 10.3, pitch=50),
    "cam_jingjintang": Camera("cam_jingjintang", 117.33, 39.25, 9.4, pitch=45, bearing=20),
    "cam_port_corridor": Camera("cam_port_corridor", 117.66, 39.00, 11.0, pitch=50),
    "cam_port": Camera("cam_port", 117.78, 38.98, 13.0, pitch=55, bearing=-20),
}
#: Name fragments (中文 / English) that identify each corridor's roads in the data.
CORRIDOR_NAMES: dict[str, tuple[str, ...]] = {
    "cam_jinbin": ("津滨", "Jinbin"),
    "cam_tianjin_avenue": ("天津大道", "Tianjin Avenue"),
    "cam_jingjintang": ("京津塘", "Jingjintang", "Jing-Jin-Tang"),
    "cam_port_corridor": ("集疏运", "Port Corridor", "port corridor"),
    "cam_port": ("港", "Port"),
}

DEFAULT_VERTICAL_SCALE = 20.0
COLUMN_RADIUS_M = 70.0


def cameras(
    *,
    overview_bounds: tuple[float, float, float, float] | None,
    corridor_bounds: Mapping[str, tuple[float, float, float, float] | None] | None = None,
) -> list[Camera]:
    """The overview camera followed by the corridor/port presets.

    A corridor found in the data (``corridor_bounds[key]``) is framed from its extent; the
    others keep their fixed centres.
    """
    cams = []
    if overview_bounds is not None:
        cams.append(camera_for_bounds("cam_overview", overview_bounds, pitch=40))
    else:
        cams.append(Camera("cam_overview", 117.40, 39.10, 8.6, pitch=40))
    for key, fallback in CORRIDOR_PRESETS.items():
        b = (corridor_bounds or {}).get(key)
        if b is not None:
            cam = camera_for_bounds(key, b, pitch=fallback.pitch)
            cams.append(
                Camera(key, cam.longitude, cam.latitude, cam.zoom, fallback.pitch, fallback.bearing)
            )
        else:
            cams.append(fallback)
    return cams


def road_layer(
    roads: list[dict[str, Any]],
    *,
    color_by: ColorBy,
    lang: Lang,
    layer_id: str = "roads",
    pickable: bool = True,
    fixed_color: tuple[int, int, int, int] | None = None,
) -> pdk.Layer:
    """Inline roads as a PathLayer coloured by class or condition (limit -> by class), or
    all in ``fixed_color`` (RGBA; a dimmed network under a route).

    Edges that look the same (colour, width, tooltip) and meet end to end are drawn as one
    path, and paths are flat ``[lon, lat, lon, lat, ...]`` arrays (``position_format``
    ``XY``): the sample's 2,609 edges become ~600 paths and the JSON the browser must parse
    before the first frame shrinks by more than half. A picked road is therefore a road
    stretch (its tooltip text), not one edge."""
    groups: dict[tuple[tuple[int, ...], int, str], list[list[list[float]]]] = {}
    for r in roads:
        cls = r.get("road_class") or "other"
        if fixed_color:
            color = tuple(fixed_color)
        elif color_by == "condition":
            color = tuple(rgba(condition_color(r.get("cond_class"))))
        else:
            color = tuple(rgba(class_color(cls)))
        key = (color, round(CLASS_WIDTH_M.get(cls, 8.0)), _road_label(r, lang))
        groups.setdefault(key, []).append(r["path"])
    data = [
        {"p": flat, "color": list(color), "w": width, "label": label}
        for (color, width, label), paths in groups.items()
        for flat in merged_paths(paths)
    ]
    return pdk.Layer(
        "PathLayer",
        id=layer_id,
        data=data,
        get_path="p",
        position_format="'XY'",
        get_color="color",
        get_width="w",
        width_units="'meters'",
        width_min_pixels=1.5,
        pickable=pickable,
        auto_highlight=True,
    )


def merged_paths(paths: list[list[list[float]]]) -> list[list[float]]:
    """``paths`` (lists of ``[lon, lat]``) joined where they meet end to end (shapely's
    ``line_merge``), each as a flat ``[lon, lat, lon, lat, ...]`` list."""
    lines = [p for p in paths if len(p) >= 2]
    if len(lines) <= 1:
        return [np.asarray(p, dtype=float).ravel().tolist() for p in lines]
    merged = shapely.line_merge(shapely.multilinestrings([shapely.linestrings(p) for p in lines]))
    parts = shapely.get_parts(merged)
    return [shapely.get_coordinates(g).ravel().tolist() for g in parts]


def road_tiles_layer(
    url: str, *, color_by: ColorBy, worker_url: str | None = None, layer_id: str = "roads"
) -> pdk.Layer:
    """Roads as Mapbox Vector Tiles from ``/tiles/road_edge/{z}/{x}/{y}.pbf``, parsed by the
    loaders.gl worker at ``worker_url`` (the API serves one at ``/tiles/mvt-worker.js``;
    without it deck.gl would fetch the worker from a CDN)."""
    if color_by == "condition":
        palette = {k: v for k, v in CONDITION_COLORS.items() if k}
        color = mvt_color_expression("cond_class", palette, CONDITION_COLORS[0])
    else:
        color = mvt_color_expression("road_class", CLASS_COLORS, CLASS_COLORS["other"])
    return pdk.Layer(
        "MVTLayer",
        id=layer_id,
        data=url,
        get_line_color=color,
        get_line_width=12,
        line_width_units="'meters'",
        line_width_min_pixels=1,
        min_zoom=0,
        max_zoom=15,
        pickable=False,
        load_options=mvt_load_options(worker_url),
        update_triggers={"getLineColor": [color_by]},
    )


def structure_rows(
    structures: list[dict[str, Any]], *, color_by: ColorBy, lang: Lang
) -> list[dict[str, Any]]:
    """Rows for the structure layers: colour, label and limits in display units."""
    rows = []
    for s in structures:
        kind = s.get("kind") or "bridge"
        if color_by == "condition":
            color = condition_color(s.get("cond_class"))
        elif color_by == "limit":
            color, _ = height_limit_color(s.get("height_cm"))
        else:
            color = KIND_COLORS.get(kind, KIND_COLORS["bridge"])
        height_cm = s.get("height_cm")
        weight_kg = s.get("weight_kg")
        rows.append(
            {
                "asset_id": s.get("asset_id"),
                "external_id": s.get("external_id"),
                "kind": kind,
                "position": s.get("position"),
                "polygon": s.get("polygon"),
                "color": rgba(color, 230 if kind != "tunnel" else 150),
                "column_color": rgba(height_limit_color(height_cm)[0]),
                "height_m": None if height_cm is None else round(height_cm / 100.0, 2),
                "weight_t": None if weight_kg is None else round(weight_kg / 1000.0, 1),
                "cond_class": s.get("cond_class"),
                "label": _structure_label(s, lang),
            }
        )
    return rows


def column_scale(zoom: float, *, latitude: float = 39.1) -> tuple[float, float]:
    """(vertical scale, column radius in m) that keep clearance columns readable at ``zoom``:
    about 5 px wide and a 4.5 m clearance about 45 px tall, never below the close-up values.
    The scale is rounded to 1, 2 or 5 times a power of ten so the legend reads well."""
    m_per_px = 78_271.517 * math.cos(math.radians(latitude)) / 2**zoom  # 512-px tiles
    radius_m = max(COLUMN_RADIUS_M, 2.5 * m_per_px)
    raw = max(DEFAULT_VERTICAL_SCALE, 45 * m_per_px / 4.5)
    power = 10 ** math.floor(math.log10(raw))
    nice = next(m for m in (1, 2, 5, 10) if m * power >= raw) * power
    return float(nice), radius_m


def disk_ring(position: list[float], *, radius_m: float, sides: int = 12) -> list[float]:
    """A closed ``sides``-gon of ``radius_m`` around ``position`` ([lon, lat]), as a flat
    ``[lon, lat, ...]`` list rounded to 6 decimals (~0.1 m)."""
    lon, lat = float(position[0]), float(position[1])
    dlat = radius_m / 110_574.0  # metres per degree of latitude (WGS84, mid-latitudes)
    dlon = radius_m / (111_320.0 * math.cos(math.radians(lat)))
    angles = np.linspace(0.0, 2.0 * math.pi, sides + 1)
    ring = np.column_stack([lon + dlon * np.cos(angles), lat + dlat * np.sin(angles)])
    ring[-1] = ring[0]
    return np.round(ring, 6).ravel().tolist()


def structure_layers(
    rows: list[dict[str, Any]],
    *,
    vertical_scale: float = DEFAULT_VERTICAL_SCALE,
    column_radius_m: float = COLUMN_RADIUS_M,
) -> list[pdk.Layer]:
    """Extruded footprints (bridges/tunnels, ``DEFAULT_VERTICAL_SCALE``), clearance columns
    (``vertical_scale``), and a marker under every structure so each stays visible and
    clickable when zoomed out."""
    # Each layer gets only what it draws, its tooltip ("label") and the inspector's key
    # ("asset_id"); footprints are flat [lon, lat, ...] rings: less JSON to parse before
    # the first frame.
    footprints = [
        {
            "asset_id": r["asset_id"],
            "polygon": np.asarray(r["polygon"], dtype=float).ravel().tolist(),
            "color": r["color"],
            "elevation": (6.0 if r["kind"] == "tunnel" else 10.0) * DEFAULT_VERTICAL_SCALE,
            "label": r["label"],
        }
        for r in rows
        if r.get("polygon")
    ]
    columns = [
        {
            "asset_id": r["asset_id"],
            "polygon": disk_ring(r["position"], radius_m=column_radius_m),
            "column_color": r["column_color"],
            "height_m": r["height_m"],
            "elevation": r["height_m"] * vertical_scale,
            "label": r["label"],
        }
        for r in rows
        if r.get("position") and r.get("height_m")
    ]
    markers = [
        {k: r[k] for k in ("asset_id", "external_id", "kind", "position", "color", "label")}
        for r in rows
        if r.get("position")
    ]
    layers = [
        pdk.Layer(
            "PolygonLayer",
            id="structures",
            data=footprints,
            get_polygon="polygon",
            position_format="'XY'",
            get_fill_color="color",
            get_line_color=[255, 255, 255, 120],
            get_elevation="elevation",
            extruded=True,
            wireframe=True,
            pickable=True,
            auto_highlight=True,
        ),
        # Clearance columns are extruded 12-sided polygons rather than a ColumnLayer: they
        # share the footprints' shader programs, so the first frame compiles one fewer.
        pdk.Layer(
            "PolygonLayer",
            id="clearance",
            data=columns,
            get_polygon="polygon",
            position_format="'XY'",
            get_elevation="elevation",
            get_fill_color="column_color",
            extruded=True,
            stroked=False,
            pickable=True,
            auto_highlight=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="structure_points",
            data=markers,
            get_position="position",
            get_fill_color="color",
            get_radius=40,
            radius_min_pixels=3,
            stroked=True,
            get_line_color=[255, 255, 255, 200],
            line_width_min_pixels=1,
            pickable=True,
            auto_highlight=True,
        ),
    ]
    return layers


def build(
    *,
    roads: list[dict[str, Any]],
    structures: list[dict[str, Any]],
    lang: Lang = "zh",
    color_by: ColorBy = "class",
    tiles: dict[str, Any] | None = None,
    camera: Camera | dict[str, float] | None = None,
    corridor_bounds: Mapping[str, tuple[float, float, float, float] | None] | None = None,
    extent: tuple[float, float, float, float] | None = None,
    areas: list[dict[str, Any]] | None = None,
    tile_url: str | None = None,
    vertical_scale: float | None = None,
    worker_url: str | None = None,
) -> Scene:
    """The network overview scene.

    Parameters
    ----------
    roads, structures:
        See the module docstring.
    lang:
        ``"zh"`` or ``"en"`` for legend and tooltips.
    color_by:
        ``"class"`` (road class; structures by kind), ``"condition"`` (class 1–5) or
        ``"limit"`` (structures by height-limit band).
    tiles:
        When given (``{"url", "edge_count", "worker_url"}``), roads come from this
        vector-tile URL instead of ``roads``; ``worker_url`` is the local MVT worker.
    camera:
        The view to open with (kept by the shell between reruns); default: overview.
    extent:
        Bounds of the whole network when ``roads`` is not inline (tiles).
    vertical_scale:
        Clearance-column exaggeration; default from the opening camera's zoom
        (:func:`column_scale`).
    areas:
        Water and land-use areas (``twin_view.land_areas`` rows) drawn under the roads.
    worker_url:
        The local loaders.gl MVT worker for a ``tile_url`` basemap.
    """
    if extent is None:
        extent = bounds_of(p for r in roads for p in r["path"])
    cams = cameras(overview_bounds=extent, corridor_bounds=corridor_bounds)
    layers: list[pdk.Layer] = []  # the ground is the view's clear colour (make_deck)
    worker_url = (tiles or {}).get("worker_url") or worker_url
    layers += basemap_layers(areas=areas, tile_url=tile_url, worker_url=worker_url)
    notes: list[str] = []
    if tiles:
        layers.append(
            road_tiles_layer(tiles["url"], color_by=color_by, worker_url=tiles.get("worker_url"))
        )
        notes.append(t("tiles_note", lang, n=f"{tiles.get('edge_count', 0):,}"))
    else:
        layers.append(road_layer(roads, color_by=color_by, lang=lang))
    rows = structure_rows(structures, color_by=color_by, lang=lang)
    view = camera or cams[0]
    zoom = view.zoom if isinstance(view, Camera) else float(view["zoom"])
    auto_scale, radius_m = column_scale(zoom)
    vertical_scale = vertical_scale or auto_scale
    layers += structure_layers(rows, vertical_scale=vertical_scale, column_radius_m=radius_m)
    deck = make_deck(layers, view, tooltip={"text": "{label}"}, ground=BACKGROUND)
    title, legend = legend_for(color_by, lang, vertical_scale=vertical_scale)
    legend += area_legend(areas, lang)
    return Scene(
        deck=deck,
        legend_title=title,
        legend=legend,
        cameras=cams,
        pickable_layers=["roads", "structures", "clearance", "structure_points"],
        notes=notes,
    )


def legend_for(
    color_by: ColorBy, lang: Lang, *, vertical_scale: float = DEFAULT_VERTICAL_SCALE
) -> tuple[str, list[LegendItem]]:
    """Legend title and items (labels with units) for a colouring."""
    column = LegendItem(
        t("clearance_column", lang, x=f"{vertical_scale:g}"), (200, 200, 200), "column"
    )
    if color_by == "condition":
        return t("condition_class", lang), [*legend_condition(lang), column]
    if color_by == "limit":
        items = [LegendItem(t(key, lang), color, "column") for _, color, key in HEIGHT_BANDS_CM]
        items.append(LegendItem(t("limit_none", lang), NO_LIMIT_COLOR, "column"))
        return t("height_limit_m", lang), [*items, column]
    items = [LegendItem(t(k, lang), c) for k, c in CLASS_COLORS.items()]
    items += [LegendItem(t(k, lang), c, "fill") for k, c in KIND_COLORS.items()]
    return t("by_class", lang), [*items, column]


def _road_label(r: dict[str, Any], lang: Lang) -> str:
    parts = [str(r.get("ref") or ""), str(r.get("name") or "")]
    text = " ".join(p for p in parts if p).strip() or t(r.get("road_class") or "other", lang)
    lim = []
    if r.get("max_height_cm"):
        lim.append(f"{t('height_limit_m', lang)}: {r['max_height_cm'] / 100:.2f}")
    if r.get("max_weight_kg"):
        lim.append(f"{t('weight_limit_t', lang)}: {r['max_weight_kg'] / 1000:.1f}")
    if r.get("cond_class"):
        lim.append(f"{t('condition_class', lang)}: {r['cond_class']}")
    return "\n".join([text, *lim])


def _structure_label(s: dict[str, Any], lang: Lang) -> str:
    lines = [f"{name_of(s, lang)} ({t(s.get('kind') or 'bridge', lang)})"]
    if s.get("road_code"):
        stake = f" {s['stake']}" if s.get("stake") else ""
        lines.append(f"{s['road_code']}{stake}")
    if s.get("height_cm"):
        lines.append(f"{t('height_limit_m', lang)}: {s['height_cm'] / 100:.2f}")
    if s.get("weight_kg"):
        lines.append(f"{t('weight_limit_t', lang)}: {s['weight_kg'] / 1000:.1f}")
    if s.get("cond_class"):
        lines.append(f"{t('condition_class', lang)}: {s['cond_class']}")
    return "\n".join(lines)
