"""What every scene shares: the result type, cameras, legends, palettes, offline basemap.

Scenes are pure: they take plain data (lists of dicts with coordinates in EPSG:4326) and
return a :class:`Scene` — a pydeck ``Deck`` with no external basemap, a legend and the
camera presets — so they can be tested without Streamlit, a browser or a database.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydeck as pdk

from scenes.i18n import Lang, t

RGB = tuple[int, int, int]
RGBA = list[int]

#: Background of the offline basemap (dark slate) and of land/water drawn from our data.
BACKGROUND: RGB = (15, 23, 42)
LAND: RGB = (30, 41, 59)
WATER: RGB = (26, 78, 140)
#: Basemap area kind (``land_area.kind``) -> muted fill colour on the dark ground; water
#: kinds share one clear blue so rivers, lakes and the sea read as water at a glance.
AREA_COLORS: dict[str, RGB] = {
    "sea": WATER,
    "river": WATER,
    "water": WATER,
    "wetland": (32, 76, 84),
    "urban": (44, 50, 72),
    "residential": (44, 50, 72),
    "industrial": (58, 50, 58),
    "port": (52, 46, 80),
    "farmland": (28, 52, 38),
    "park": (26, 62, 42),
    "other": LAND,
}
#: Legend order and label ids of the area kinds.
AREA_LEGEND: list[tuple[str, str]] = [
    ("water", "area_water"),
    ("wetland", "area_wetland"),
    ("urban", "area_urban"),
    ("industrial", "area_industrial"),
    ("port", "area_port"),
    ("farmland", "area_farmland"),
    ("park", "area_park"),
]

#: Road class -> colour (bright on the dark background).
CLASS_COLORS: dict[str, RGB] = {
    "motorway": (255, 99, 71),
    "trunk": (255, 165, 0),
    "primary": (255, 221, 87),
    "secondary": (120, 200, 255),
    "tertiary": (170, 170, 220),
    "rural": (110, 220, 120),
    "port": (200, 110, 255),
    "other": (140, 150, 165),
}
#: Road class -> path width in metres (drawn at least 1-3 px).
CLASS_WIDTH_M: dict[str, float] = {
    "motorway": 40.0,
    "trunk": 30.0,
    "primary": 22.0,
    "secondary": 16.0,
    "tertiary": 12.0,
    "rural": 10.0,
    "port": 14.0,
    "other": 8.0,
}
#: Condition class 1..5 (JTG/T H21-2011 bridges, JTG 5210-2018 MQI bands mapped to 1..5,
#: JTG H12-2015 tunnels) -> colour; 0 = not rated.
CONDITION_COLORS: dict[int, RGB] = {
    1: (26, 152, 80),
    2: (145, 207, 96),
    3: (254, 224, 139),
    4: (252, 141, 89),
    5: (215, 48, 39),
    0: (128, 128, 128),
}
#: Structure kind -> colour when coloured by kind.
KIND_COLORS: dict[str, RGB] = {
    "bridge": (0, 200, 255),
    "tunnel": (186, 104, 200),
    "underpass": (255, 140, 0),
    "height_restrictor": (255, 64, 129),
    "culvert": (120, 144, 156),
}
#: Height limit bands (cm) -> colour.
HEIGHT_BANDS_CM: list[tuple[int, RGB, str]] = [
    (400, (230, 25, 75), "limit_lt_4"),
    (450, (245, 130, 48), "limit_4_45"),
    (10**9, (60, 180, 75), "limit_ge_45"),
]
NO_LIMIT_COLOR: RGB = (150, 150, 150)


@dataclass(frozen=True)
class Camera:
    """A named view: centre, zoom, pitch and bearing (deck.gl ``ViewState``)."""

    key: str
    longitude: float
    latitude: float
    zoom: float
    pitch: float = 45.0
    bearing: float = 0.0

    def view_state(self) -> pdk.ViewState:
        """The pydeck view state of this camera."""
        return pdk.ViewState(
            longitude=round(self.longitude, 6),
            latitude=round(self.latitude, 6),
            zoom=round(self.zoom, 2),
            pitch=self.pitch,
            bearing=self.bearing,
        )

    def as_dict(self) -> dict[str, float]:
        """Plain dict (kept in session state between reruns)."""
        return {
            "longitude": self.longitude,
            "latitude": self.latitude,
            "zoom": self.zoom,
            "pitch": self.pitch,
            "bearing": self.bearing,
        }


@dataclass(frozen=True)
class LegendItem:
    """One line of a legend: a colour swatch (or shape) and a label with its unit."""

    label: str
    color: RGB
    shape: str = "line"  # line | fill | column | circle | icon


@dataclass
class Scene:
    """What a scene hands to the shell.

    Attributes
    ----------
    deck:
        The pydeck ``Deck`` (no external basemap unless a tile URL was given).
    legend:
        Title and items, each label in the chosen language with its unit.
    cameras:
        Named camera presets (first one is the default).
    pickable_layers:
        Ids of the layers whose objects can be selected (asset inspector).
    tables:
        Named tables (lists of dicts) the shell shows beside the map.
    notes:
        Short messages for the user (data missing, tiles in use...).
    """

    deck: pdk.Deck
    legend_title: str
    legend: list[LegendItem]
    cameras: list[Camera]
    pickable_layers: list[str] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def rgba(color: RGB, alpha: int = 255) -> RGBA:
    """``[r, g, b, a]`` for deck.gl."""
    return [int(color[0]), int(color[1]), int(color[2]), int(alpha)]


def condition_color(condition_class: int | None) -> RGB:
    """Colour of a condition class (None/0 = not rated)."""
    return CONDITION_COLORS.get(int(condition_class or 0), CONDITION_COLORS[0])


def height_limit_color(height_cm: int | None) -> tuple[RGB, str]:
    """Colour and legend key of a height limit in centimetres."""
    if height_cm is None:
        return NO_LIMIT_COLOR, "limit_none"
    for upper, color, key in HEIGHT_BANDS_CM:
        if height_cm < upper:
            return color, key
    return HEIGHT_BANDS_CM[-1][1], HEIGHT_BANDS_CM[-1][2]


def class_color(road_class: str | None) -> RGB:
    """Colour of a road class (unknown classes get ``other``)."""
    return CLASS_COLORS.get(road_class or "other", CLASS_COLORS["other"])


def bounds_of(coords: Iterable[Sequence[float]]) -> tuple[float, float, float, float] | None:
    """(min_lon, min_lat, max_lon, max_lat) of coordinate pairs, None when empty."""
    xs: list[float] = []
    ys: list[float] = []
    for c in coords:
        xs.append(float(c[0]))
        ys.append(float(c[1]))
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def camera_for_bounds(
    key: str,
    bounds: tuple[float, float, float, float],
    *,
    width_px: int = 700,
    height_px: int = 600,
    pitch: float = 45.0,
    max_zoom: float = 17.0,
) -> Camera:
    """A camera that fits ``bounds`` into a viewport of ``width_px`` x ``height_px``.

    Web-Mercator zoom arithmetic written out (rather than deck.gl's ``fitBounds``, which
    only exists in the browser) so cameras can be computed and tested in Python.
    """
    min_lon, min_lat, max_lon, max_lat = bounds
    lon = (min_lon + max_lon) / 2.0
    lat = (min_lat + max_lat) / 2.0

    def merc_y(la: float) -> float:
        la = max(min(la, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(la) / 2))

    dx = max(abs(max_lon - min_lon) / 360.0, 1e-9)
    dy = max(abs(merc_y(max_lat) - merc_y(min_lat)) / (2 * math.pi), 1e-9)
    zoom_x = math.log2(width_px / 512.0 / dx)
    zoom_y = math.log2(height_px / 512.0 / dy)
    zoom = max(min(zoom_x, zoom_y, max_zoom) - 0.2, 1.0)
    return Camera(key=key, longitude=lon, latitude=lat, zoom=zoom, pitch=pitch)


def literal(value: str) -> str:
    """``value`` quoted so pydeck passes it as a string, not as an ``@@=`` accessor
    expression (pydeck turns every plain string property into an expression)."""
    if "'" in value:
        raise ValueError(f"cannot quote a string that contains ': {value[:40]}")
    return f"'{value}'"


def solid_png_data_uri(color: RGB) -> str:
    """A 1 x 1 PNG of ``color`` as a data URI (written with zlib: no image library needed
    for one pixel)."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(bytes([0, *color]))
    png = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def background_layer(bounds: tuple[float, float, float, float] | None) -> pdk.Layer:
    """A dark ground under everything (the offline basemap's land).

    A BitmapLayer rather than a polygon: Streamlit dims every fill-colour layer when an
    object is selected, which would turn the whole ground grey.
    """
    if bounds is None:
        bounds = (116.7, 38.5, 118.1, 40.3)  # Tianjin municipality
    min_lon, min_lat, max_lon, max_lat = bounds
    pad_x = max((max_lon - min_lon) * 2.0, 0.5)
    pad_y = max((max_lat - min_lat) * 2.0, 0.5)
    return pdk.Layer(
        "BitmapLayer",
        id="ground",
        image=literal(solid_png_data_uri(BACKGROUND)),
        bounds=[min_lon - pad_x, min_lat - pad_y, max_lon + pad_x, max_lat + pad_y],
        pickable=False,
        # The ground writes no depth, so roads at the same height (vector tiles drawn
        # through a model matrix in particular) are never hidden under it.
        parameters={"depthWriteEnabled": False, "depthMask": False},
    )


def basemap_layers(
    *,
    areas: list[dict[str, Any]] | None = None,
    tile_url: str | None = None,
    worker_url: str | None = None,
) -> list[pdk.Layer]:
    """Water and land use from our own data (one layer), or a configured tile layer.

    ``areas`` are rows of ``twin_view.land_areas`` (``{"kind", "polygon": [outer, holes...]}``
    in drawing order). ``tile_url`` (``settings.tile_url``) must serve Mapbox Vector Tiles
    (``{z}/{x}/{y}``); it is drawn as an MVT layer, so no map library or token is needed.
    """
    layers: list[pdk.Layer] = []
    if tile_url:
        layers.append(
            pdk.Layer(
                "MVTLayer",
                id="basemap-tiles",
                data=tile_url,
                get_fill_color=rgba(LAND),
                get_line_color=[90, 100, 120, 255],
                line_width_min_pixels=1,
                pickable=False,
                load_options=mvt_load_options(worker_url),
            )
        )
    if areas:
        layers.append(area_layer(areas))
    return layers


def area_layer(areas: list[dict[str, Any]]) -> pdk.Layer:
    """One flat PolygonLayer of water and land-use areas, coloured by kind.

    Only the polygon and its colour go to the browser (no names, no picking) to keep the
    page light; the rows' order is the drawing order (land use under water).
    """
    data = [
        {"polygon": a["polygon"], "fill": rgba(AREA_COLORS.get(a.get("kind") or "", LAND))}
        for a in areas
        if a.get("polygon")
    ]
    return pdk.Layer(
        "PolygonLayer",
        id="areas",
        data=data,
        get_polygon="polygon",
        get_fill_color="fill",
        stroked=False,
        filled=True,
        extruded=False,
        pickable=False,
        # Flat on the ground and writing no depth: roads and tiles on top always show.
        parameters={"depthWriteEnabled": False, "depthMask": False},
    )


def area_legend(areas: list[dict[str, Any]] | None, lang: Lang) -> list[LegendItem]:
    """Legend items (swatch + 中文/English label) of the area kinds present in ``areas``."""
    present = {a.get("kind") for a in areas or []}
    water = {"sea", "river", "water"}
    items = []
    for kind, key in AREA_LEGEND:
        here = bool(present & water) if kind == "water" else kind in present
        if kind == "urban":
            here = bool(present & {"urban", "residential"})
        if here:
            items.append(LegendItem(t(key, lang), AREA_COLORS[kind], "fill"))
    return items


class CompactDeck(pdk.Deck):  # type: ignore[misc]
    """A pydeck Deck whose JSON is compact (no indentation, no key sorting).

    pydeck indents its JSON by two spaces, which more than doubles what a big inline layer
    sends to the browser (and the time to build it); Streamlit's ``pydeck_chart`` calls
    ``to_json``, so compact JSON here makes the first frame come sooner.
    """

    def to_json(self) -> str:
        """Compact JSON of the deck (same content as pydeck's); the frozen text when
        :meth:`freeze` was called."""
        frozen = _FROZEN_JSON.get(self)
        if frozen is not None:
            return frozen
        import json

        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(
            self, default=default_serialize, separators=(",", ":"), ensure_ascii=False
        )

    def freeze(self) -> str:
        """Serialise once and keep the text: a deck shared between sessions (a cached
        scene) is then not serialised again on every page load. Do not change the deck
        afterwards."""
        text = self.to_json()
        _FROZEN_JSON[self] = text
        return text


#: JSON of frozen decks (kept outside the deck: pydeck serialises every attribute).
_FROZEN_JSON: weakref.WeakKeyDictionary[CompactDeck, str] = weakref.WeakKeyDictionary()


def mvt_load_options(worker_url: str | None) -> dict[str, Any] | None:
    """loaders.gl options pointing the MVT worker at a local copy (offline); None keeps
    loaders.gl's default, which fetches the worker from unpkg.com."""
    if not worker_url:
        return None
    return {"mvt": {"workerUrl": worker_url}}


def make_deck(
    layers: list[pdk.Layer],
    camera: Camera | dict[str, float],
    *,
    tooltip: dict[str, Any] | bool = True,
    ground: RGB | None = None,
) -> pdk.Deck:
    """A Deck with no external basemap (``map_provider=None``: nothing is fetched).

    ``ground`` (RGB) clears the map view to that colour before the layers are drawn: the
    dark land of the offline basemap without a full-screen layer (one shader program and
    one draw fewer on the first frame), and, not being a layer, never dimmed when an
    object is selected."""
    view = camera.view_state() if isinstance(camera, Camera) else pdk.ViewState(**camera)
    extra: dict[str, Any] = {}
    if ground is not None:
        extra["views"] = [
            pdk.View(type="MapView", controller=True, clear=True, clear_color=[*ground, 255])
        ]
    return CompactDeck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        tooltip=tooltip,  # type: ignore[arg-type]
        **extra,
    )


def legend_markdown(title: str, items: list[LegendItem]) -> str:
    """The legend as HTML (coloured swatches) for ``st.markdown(..., unsafe_allow_html=True)``."""
    rows = [f"<div style='font-weight:600;margin-bottom:4px'>{title}</div>"]
    for it in items:
        r, g, b = it.color
        if it.shape in ("line",):
            sw = f"display:inline-block;width:22px;height:4px;background:rgb({r},{g},{b});vertical-align:middle"
        elif it.shape in ("circle", "icon"):
            sw = f"display:inline-block;width:12px;height:12px;border-radius:6px;background:rgb({r},{g},{b})"
        else:
            sw = f"display:inline-block;width:14px;height:14px;background:rgb({r},{g},{b})"
        rows.append(
            f"<div style='font-size:0.85em'><span style='{sw}'></span>&nbsp;{it.label}</div>"
        )
    return "\n".join(rows)


def mvt_color_expression(prop: str, palette: Mapping[Any, RGB], default: RGB) -> str:
    """A deck.gl JSON expression colouring MVT features by ``properties[prop]``.

    deck.gl's JSON converter evaluates ``@@=`` strings with a small expression language
    (no functions can be shipped to the browser), so the palette becomes nested ternaries.
    """
    expr = str(rgba(default))
    for key, color in reversed(list(palette.items())):
        expr = f"properties.{prop} == {_js_literal(key)} ? {rgba(color)} : ({expr})"
    return expr  # pydeck turns a plain string into an "@@=" accessor expression


def _js_literal(v: object) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "") + "'"
    return str(v)


def legend_condition(lang: Lang) -> list[LegendItem]:
    """Condition classes 1–5 and 'not rated'."""
    items = [LegendItem(t(f"cond_{c}", lang), CONDITION_COLORS[c]) for c in (1, 2, 3, 4, 5)]
    items.append(LegendItem(t("cond_unknown", lang), CONDITION_COLORS[0]))
    return items
