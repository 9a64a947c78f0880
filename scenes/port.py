"""Port yard scene: yards, blocks and gates as extruded polygons, lanes by operation mode
(autonomous / manual / dual-lane operation drawn as two parallel lines), port roads and the
corridor to the expressway. Inputs: ``twin.services.twin_view.port_features`` and the roads
as in :mod:`scenes.network`.
"""

from __future__ import annotations

import math
from typing import Any

import pydeck as pdk

from scenes._common import (
    CLASS_COLORS,
    Camera,
    LegendItem,
    Scene,
    area_legend,
    background_layer,
    basemap_layers,
    bounds_of,
    camera_for_bounds,
    make_deck,
    rgba,
)
from scenes.i18n import Lang, name_of, t
from scenes.network import road_layer

YARD: tuple[int, int, int] = (38, 70, 83)
BLOCK: tuple[int, int, int] = (42, 157, 143)
GATE: tuple[int, int, int] = (233, 196, 106)
LANE_COLORS: dict[str, tuple[int, int, int]] = {
    "autonomous": (0, 229, 255),
    "manual": (255, 255, 255),
    "dual": (255, 0, 200),
}


def _offset_path(path: list[list[float]], offset_m: float) -> list[list[float]]:
    """``path`` shifted sideways by ``offset_m`` (left positive), per segment normal."""
    out = []
    for i, (x, y) in enumerate(path):
        a = path[max(i - 1, 0)]
        b = path[min(i + 1, len(path) - 1)]
        kx = 111_320 * math.cos(math.radians(y))
        dx, dy = (b[0] - a[0]) * kx, (b[1] - a[1]) * 110_540
        n = math.hypot(dx, dy) or 1.0
        out.append([x - dy / n * offset_m / kx, y + dx / n * offset_m / 110_540])
    return out


def _lift(path: list[list[float]], z_m: float = 1.0) -> list[list[float]]:
    """``path`` raised ``z_m`` above the ground so lanes draw over the yard surface."""
    return [[p[0], p[1], z_m] for p in path]


# --------------------------------------------------------------------------- port
def build_port(
    *,
    yards: list[dict[str, Any]],
    lanes: list[dict[str, Any]],
    roads: list[dict[str, Any]],
    lang: Lang = "zh",
    camera: Camera | dict[str, float] | None = None,
    areas: list[dict[str, Any]] | None = None,
) -> Scene:
    """The port yard scene (see the module docstring)."""
    port_pts = [p for y in yards if y.get("polygon") for p in y["polygon"]]
    port_pts += [p for ln in lanes for p in ln["path"]]
    extent = bounds_of(port_pts) or bounds_of(p for r in roads for p in r["path"])
    layers: list[pdk.Layer] = [background_layer(extent), *basemap_layers(areas=areas)]
    layers.append(road_layer(roads, color_by="class", lang=lang, pickable=False))
    polys = []
    for y in yards:
        if not y.get("polygon"):
            continue
        kind = y.get("kind") or "container_yard"
        color, height = {"block": (BLOCK, 18.0), "gate": (GATE, 10.0)}.get(kind, (YARD, 0.0))
        polys.append(
            {
                "polygon": y["polygon"],
                "color": rgba(color, 235 if kind != "container_yard" else 255),
                "elevation": height,
                "label": f"{name_of(y, lang)} ({t({'block': 'block', 'gate': 'gate'}.get(kind, 'yard'), lang)})",
                "yard_id": y["id"],
                "code": y["code"],
                "kind": kind,
            }
        )
    polys.sort(key=lambda p: p["elevation"])  # yards under blocks and gates
    layers.append(
        pdk.Layer(
            "PolygonLayer",
            id="yards",
            data=polys,
            get_polygon="polygon",
            get_fill_color="color",
            get_elevation="elevation",
            extruded=True,
            get_line_color=[255, 255, 255, 90],
            wireframe=True,
            pickable=True,
            auto_highlight=True,
        )
    )
    lane_rows = []
    for ln in lanes:
        mode = ln.get("mode") or "dual"
        label = f"{ln['code']}: {t('lane_' + mode, lang)}"
        if mode == "dual":  # dual-lane operation: an autonomous and a manual lane side by side
            lane_rows.append(
                {
                    "path": _lift(_offset_path(ln["path"], 6.0)),
                    "color": rgba(LANE_COLORS["autonomous"]),
                    "label": label,
                    "code": ln["code"],
                    "mode": mode,
                }
            )
            lane_rows.append(
                {
                    "path": _lift(_offset_path(ln["path"], -6.0)),
                    "color": rgba(LANE_COLORS["dual"]),
                    "label": label,
                    "code": ln["code"],
                    "mode": mode,
                }
            )
        else:
            lane_rows.append(
                {
                    "path": _lift(ln["path"]),
                    "color": rgba(LANE_COLORS.get(mode, LANE_COLORS["dual"])),
                    "label": label,
                    "code": ln["code"],
                    "mode": mode,
                }
            )
    layers.append(
        pdk.Layer(
            "PathLayer",
            id="lanes",
            data=lane_rows,
            get_path="path",
            get_color="color",
            get_width=5,
            width_units="'meters'",
            width_min_pixels=3,
            pickable=True,
            auto_highlight=True,
        )
    )
    cam = (
        camera_for_bounds("cam_port", extent, pitch=50.0)
        if extent
        else Camera("cam_port", 117.78, 38.98, 13.0)
    )
    legend = [
        LegendItem(t("yard", lang), YARD, "fill"),
        LegendItem(t("block", lang) + " (18 m)", BLOCK, "fill"),
        LegendItem(t("gate", lang), GATE, "fill"),
        LegendItem(t("lane_autonomous", lang), LANE_COLORS["autonomous"]),
        LegendItem(t("lane_manual", lang), LANE_COLORS["manual"]),
        LegendItem(t("lane_dual", lang), LANE_COLORS["dual"]),
        LegendItem(t("port_corridor", lang), CLASS_COLORS["primary"]),
    ]
    return Scene(
        deck=make_deck(layers, camera or cam, tooltip={"text": "{label}"}),
        legend_title=t("scene_port", lang),
        legend=[*legend, *area_legend(areas, lang)],
        cameras=[cam],
        pickable_layers=["yards", "lanes"],
        tables={
            "lanes": [
                {
                    "code": ln["code"],
                    "mode": t("lane_" + (ln.get("mode") or "dual"), lang),
                    t("yard", lang): ln.get("yard_code"),
                }
                for ln in lanes
            ]
        },
    )
