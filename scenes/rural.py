"""Rural roads and villages scene: rural roads, villages sized by population and coloured
by reachability. Inputs: ``twin.services.twin_view.villages`` and a reachability dict.
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

REACHABLE: tuple[int, int, int] = (0, 230, 118)
UNREACHABLE: tuple[int, int, int] = (255, 23, 68)


# --------------------------------------------------------------------------- rural
def build_rural(
    *,
    villages: list[dict[str, Any]],
    roads: list[dict[str, Any]],
    reach: dict[str, dict[str, Any]] | None = None,
    lang: Lang = "zh",
    camera: Camera | dict[str, float] | None = None,
    areas: list[dict[str, Any]] | None = None,
) -> Scene:
    """Rural roads and villages; ``reach[code] = {"reachable": bool, "time_min": float}``
    colours each village (grey when unknown)."""
    rural = [r for r in roads if r.get("road_class") in ("rural", "tertiary", "unclassified")]
    extent = bounds_of([*(v["position"] for v in villages), *(p for r in rural for p in r["path"])])
    layers: list[pdk.Layer] = [background_layer(extent), *basemap_layers(areas=areas)]
    layers.append(
        road_layer(
            roads, color_by="class", lang=lang, pickable=False, fixed_color=(90, 105, 125, 255)
        )
    )
    layers.append(
        road_layer(rural, color_by="class", lang=lang, layer_id="rural_roads", pickable=True)
    )
    rows = []
    for v in villages:
        r = (reach or {}).get(v["code"])
        if r is None:
            color = (160, 160, 160)
            state = "?"
        else:
            color = REACHABLE if r["reachable"] else UNREACHABLE
            state = t("reachable" if r["reachable"] else "unreachable", lang)
            if r.get("time_min") is not None:
                state += f" · {r['time_min']:.0f} min"
        rows.append(
            {
                **v,
                "color": rgba(color),
                "radius": 60 + 4 * math.sqrt(v.get("population") or 100),
                "label": f"{name_of(v, lang)}\n{t('population', lang)}: {v.get('population') or '?'}\n{state}",
                "state": state,
            }
        )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id="villages",
            data=rows,
            get_position="position",
            get_fill_color="color",
            get_radius="radius",
            radius_min_pixels=6,
            stroked=True,
            get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=2,
            pickable=True,
            auto_highlight=True,
        )
    )
    cam = (
        camera_for_bounds("rural", extent, pitch=0.0)
        if extent
        else Camera("rural", 117.4, 39.0, 10.0, 0.0)
    )
    legend = [
        LegendItem(t("rural", lang), CLASS_COLORS["rural"]),
        LegendItem(t("village", lang) + " · " + t("reachable", lang), REACHABLE, "circle"),
        LegendItem(t("village", lang) + " · " + t("unreachable", lang), UNREACHABLE, "circle"),
    ]
    return Scene(
        deck=make_deck(layers, camera or cam, tooltip={"text": "{label}"}),
        legend_title=t("scene_rural", lang),
        legend=[*legend, *area_legend(areas, lang)],
        cameras=[cam],
        pickable_layers=["villages", "rural_roads"],
        tables={
            "villages": [
                {
                    t("village", lang): name_of(v, lang),
                    t("population", lang): v.get("population"),
                    t("status", lang): r["state"],
                    t("road_distance_m", lang): round(v.get("road_distance_m") or 0.0),
                }
                for v, r in zip(villages, rows, strict=True)
            ]
        },
    )
