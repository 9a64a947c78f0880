"""Heavy-vehicle route check scene: legal route, blocked direct route, structures, margins.

Input is the answer of ``twin.services.routing.check_route`` (a JSON-ready dict: lengths
m, times s, limits cm/kg) or, when no legal route exists, the ``details`` of its
``NoRoute`` error. Structures are listed with the vehicle's value, the limit and the
margin in display units (m for dimensions, t for masses).
"""

from __future__ import annotations

from typing import Any

import pydeck as pdk

from scenes._common import (
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
from scenes.i18n import Lang, t
from scenes.network import road_layer

LEGAL: tuple[int, int, int] = (0, 230, 118)
BLOCKED: tuple[int, int, int] = (255, 23, 68)
PASSED: tuple[int, int, int] = (41, 182, 246)
ORIGIN: tuple[int, int, int] = (255, 255, 255)
DESTINATION: tuple[int, int, int] = (255, 214, 0)
DIMMED_ROAD: tuple[int, int, int] = (71, 85, 105)

_DIMENSIONS = ("height", "width", "length")
_MASSES = ("weight", "axle_load")


def display_value(kind: str, value: float | None) -> tuple[float | None, str]:
    """A stored limit (cm / kg) in display units: metres or tonnes."""
    if value is None:
        return None, ""
    if kind in _DIMENSIONS:
        return round(value / 100.0, 2), "m"
    if kind in _MASSES:
        return round(value / 1000.0, 1), "t"
    return float(value), ""


def passed_table(answer: dict[str, Any], lang: Lang) -> list[dict[str, Any]]:
    """One row per limit of every structure the legal route passes, with its margin."""
    rows = []
    for s in answer.get("structures") or []:
        for lim in s.get("limits") or []:
            limit, unit = display_value(lim["kind"], lim.get("limit"))
            vehicle, _ = display_value(lim["kind"], lim.get("vehicle"))
            margin, _ = display_value(lim["kind"], lim.get("margin"))
            rows.append(
                {
                    t("name", lang): s.get("name") or s.get("external_id"),
                    t("kind", lang): t(s.get("kind") or "", lang),
                    t("road_code", lang): s.get("road_code"),
                    t("stake", lang): _stake(s.get("stake_m")),
                    "limit": f"{lim['kind']} {limit} {unit}".strip(),
                    t("vehicle", lang): f"{vehicle} {unit}".strip(),
                    t("margin_m", lang) if unit == "m" else t("margin_t", lang): margin,
                }
            )
    return rows


def blocking_table(blocking: list[dict[str, Any]], lang: Lang) -> list[dict[str, Any]]:
    """One row per violated limit of the structures that block the direct route."""
    rows = []
    for s in blocking:
        for v in s.get("violated") or []:
            limit, unit = display_value(v["kind"], v.get("limit"))
            vehicle, _ = display_value(v["kind"], v.get("vehicle"))
            rows.append(
                {
                    t("name", lang): s.get("name") or s.get("external_id"),
                    t("kind", lang): t(s.get("kind") or "", lang),
                    t("road_code", lang): s.get("road_code"),
                    t("stake", lang): _stake(s.get("stake_m")),
                    "limit": f"{v['kind']} {limit} {unit}".strip(),
                    t("vehicle", lang): f"{vehicle} {unit}".strip(),
                }
            )
    return rows


def _stake(stake_m: float | None) -> str | None:
    if stake_m is None:
        return None
    m = round(float(stake_m))
    return f"K{m // 1000}+{m % 1000:03d}"


def build(
    *,
    roads: list[dict[str, Any]],
    answer: dict[str, Any] | None,
    no_route: dict[str, Any] | None = None,
    origin: tuple[float, float] | None = None,
    destination: tuple[float, float] | None = None,
    nodes: list[dict[str, Any]] | None = None,
    lang: Lang = "zh",
    camera: Camera | dict[str, float] | None = None,
    areas: list[dict[str, Any]] | None = None,
) -> Scene:
    """The route-check scene.

    Parameters
    ----------
    roads:
        The network (dimmed) as in :mod:`scenes.network`.
    answer:
        ``check_route``'s answer, or None before a check / when there is no legal route.
    no_route:
        ``NoRoute.details`` (blocking structures) when no legal route exists.
    origin, destination:
        Chosen points (lon, lat).
    nodes:
        Pickable points (``{"id", "position", "label"}``) to choose origin/destination by
        clicking the map.
    """
    extent = bounds_of(p for r in roads for p in r["path"])
    layers: list[pdk.Layer] = [background_layer(extent), *basemap_layers(areas=areas)]
    layers.append(
        road_layer(
            roads,
            color_by="class",
            lang=lang,
            pickable=False,
            fixed_color=(*DIMMED_ROAD, 220),
        )
    )
    if nodes:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="pick_points",
                data=nodes,
                get_position="position",
                get_fill_color=[148, 163, 184, 160],
                get_radius=40,
                radius_min_pixels=3,
                pickable=True,
                auto_highlight=True,
            )
        )
    blocked = (answer or {}).get("direct_route_blocked") or None
    blocking = (blocked or {}).get("blocking") or (no_route or {}).get("blocking") or []
    if blocked and blocked.get("geometry"):
        layers.append(_path_layer("direct_route", blocked["geometry"]["coordinates"], BLOCKED, 10))
    if answer and (answer.get("route") or {}).get("geometry"):
        layers.append(
            _path_layer("legal_route", answer["route"]["geometry"]["coordinates"], LEGAL, 8)
        )
    passed = [
        {
            **s,
            "position": [s["lon"], s["lat"]],
            "label": s.get("name") or s.get("external_id"),
            "asset_id": s.get("id"),
        }
        for s in (answer or {}).get("structures") or []
        if s.get("limits") and s.get("lon") is not None
    ]
    block_pts = [
        {
            **s,
            "position": [s["lon"], s["lat"]],
            "label": s.get("name") or s.get("external_id"),
            "asset_id": s.get("id"),
        }
        for s in blocking
        if s.get("lon") is not None
    ]
    layers.append(_points("passed_structures", passed, PASSED, 90))
    layers.append(_points("blocking_structures", block_pts, BLOCKED, 160))
    ends = []
    if origin:
        ends.append({"position": list(origin), "color": rgba(ORIGIN), "label": t("origin", lang)})
    if destination:
        ends.append(
            {
                "position": list(destination),
                "color": rgba(DESTINATION),
                "label": t("destination", lang),
            }
        )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id="endpoints",
            data=ends,
            get_position="position",
            get_fill_color="color",
            get_radius=120,
            radius_min_pixels=7,
            stroked=True,
            get_line_color=[0, 0, 0, 255],
            line_width_min_pixels=2,
            pickable=False,
        )
    )
    focus = [p for p in (origin, destination) if p]
    route_pts = ((answer or {}).get("route") or {}).get("geometry") or {}
    fb = bounds_of([*focus, *(route_pts.get("coordinates") or [])]) or extent
    cams = (
        [camera_for_bounds("route", fb, pitch=0.0)]
        if fb
        else [Camera("route", 117.4, 39.1, 9.0, 0.0)]
    )
    deck = make_deck(layers, camera or cams[0], tooltip={"text": "{label}"})
    legend = [
        LegendItem(t("legal_route", lang), LEGAL),
        LegendItem(t("direct_route", lang), BLOCKED),
        LegendItem(t("blocking", lang), BLOCKED, "circle"),
        LegendItem(t("passed", lang), PASSED, "circle"),
        LegendItem(t("origin", lang), ORIGIN, "circle"),
        LegendItem(t("destination", lang), DESTINATION, "circle"),
    ]
    tables = {
        "passed": passed_table(answer or {}, lang),
        "blocking": blocking_table(blocking, lang),
    }
    notes = []
    if answer:
        r = answer["route"]
        notes.append(
            f"{t('legal_route', lang)}: {r['length_m'] / 1000:.1f} km · {r['time_s'] / 60:.0f} min"
        )
        if blocked:
            notes.append(
                f"{t('direct_route', lang)}: {blocked['length_m'] / 1000:.1f} km · "
                f"{t('extra_length_km', lang)} {blocked['detour_m'] / 1000:.1f} · "
                f"{t('extra_time_min', lang)} {blocked['detour_s'] / 60:.0f}"
            )
    return Scene(
        deck=deck,
        legend_title=t("scene_route", lang),
        legend=[*legend, *area_legend(areas, lang)],
        cameras=cams,
        pickable_layers=["pick_points", "passed_structures", "blocking_structures"],
        tables=tables,
        notes=notes,
    )


def _path_layer(
    layer_id: str, coords: list[list[float]], color: tuple[int, int, int], width_px: float
) -> pdk.Layer:
    return pdk.Layer(
        "PathLayer",
        id=layer_id,
        data=[{"path": coords}],
        get_path="path",
        get_color=rgba(color),
        get_width=width_px,
        width_units="'pixels'",
        cap_rounded=True,
        joint_rounded=True,
        pickable=False,
    )


def _points(
    layer_id: str, rows: list[dict[str, Any]], color: tuple[int, int, int], radius_m: float
) -> pdk.Layer:
    return pdk.Layer(
        "ScatterplotLayer",
        id=layer_id,
        data=rows,
        get_position="position",
        get_fill_color=rgba(color, 220),
        get_radius=radius_m,
        radius_min_pixels=6,
        stroked=True,
        get_line_color=[255, 255, 255, 255],
        line_width_min_pixels=2,
        pickable=True,
        auto_highlight=True,
    )
