"""Scenario view: a planner's scenario (closure, flood, changed limit) before and after.

The scenario result structure
-----------------------------
The view draws the JSON-ready dict ``twin.services.scenarios.run_scenario`` returns (and
the ``scenario.result`` column keeps), all coordinates lon/lat WGS84, lengths m, times s:

``scenario``: name; ``vehicle``: the profile (cm/kg); ``params``: what was asked
    (``close_assets``, ``close_edges``, ``limit_changes`` [{structure, kind, value}],
    ``flood_raster_id``, ``max_wading_depth_m``).
``closed_edges`` / ``flooded_edges``: road edge ids; ``closed_geometry``: one coordinate
    list per closed or flooded edge.
``changed_structures``: structures whose limits changed or that were closed (dicts with at
    least ``external_id`` or ``id``, and ``lon``/``lat`` when known).
``trips``: one per OD pair: ``name``, ``kind``, ``origin``, ``destination`` (lon, lat),
    ``before``/``after`` (``{length_m, time_s, geometry}`` or None), ``status``
    (``unchanged`` | ``detour`` | ``cut_off`` | ``blocked_before``), ``detour_m``,
    ``detour_s``, ``reason``, ``blocking``.
``villages``: ``code``, ``name``, ``lon``, ``lat``, ``reachable_before``/``after`` (for the
    vehicle), ``car_reachable_before``/``after``.
``summary``: counts (``trips_cut_off``, ``trips_detoured``, ``max_detour_m``,
    ``villages_cut_off_vehicle``, ``villages_cut_off_car`` ...).
``flood`` (optional, added by the shell): ``{"image": data-URI PNG, "bounds": [w, s, e,
    n], "max_depth_m": float}`` — the water-depth raster drawn as a bitmap.

Missing keys are tolerated: a partial result (a scenario still running, or one computed
by another tool) shows whatever it has.
"""

from __future__ import annotations

from typing import Any, Literal

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
    literal,
    make_deck,
    rgba,
)
from scenes.i18n import Lang, t
from scenes.network import road_layer

Side = Literal["before", "after"]

CLOSED: tuple[int, int, int] = (255, 23, 68)
ROUTE_BEFORE: tuple[int, int, int] = (41, 182, 246)
DETOUR: tuple[int, int, int] = (255, 171, 0)
CUT_OFF: tuple[int, int, int] = (255, 23, 68)
VILLAGE_OK: tuple[int, int, int] = (0, 230, 118)
VILLAGE_LOST: tuple[int, int, int] = (255, 23, 68)
CHANGED: tuple[int, int, int] = (255, 214, 0)
DIMMED: tuple[int, int, int, int] = (71, 85, 105, 230)


def affected_trips(result: dict[str, Any], lang: Lang) -> list[dict[str, Any]]:
    """OD pairs whose route changed: detoured or cut off, with extra km / min."""
    rows = []
    for tr in result.get("trips") or []:
        status = tr.get("status")
        if status in (None, "unchanged"):
            continue
        rows.append(
            {
                t("name", lang): tr.get("name"),
                t("status", lang): status,
                t("extra_length_km", lang): None
                if tr.get("detour_m") is None
                else round(tr["detour_m"] / 1000, 2),
                t("extra_time_min", lang): None
                if tr.get("detour_s") is None
                else round(tr["detour_s"] / 60, 1),
                "reason": tr.get("reason"),
            }
        )
    return rows


def affected_villages(result: dict[str, Any], lang: Lang) -> list[dict[str, Any]]:
    """Villages that lose their legal route for the vehicle (or for cars)."""
    rows = []
    for v in result.get("villages") or []:
        lost_vehicle = v.get("reachable_before") and not v.get("reachable_after")
        lost_car = v.get("car_reachable_before") and not v.get("car_reachable_after")
        if lost_vehicle or lost_car:
            rows.append(
                {
                    t("village", lang): v.get("name") or v.get("code"),
                    t("vehicle", lang): t("unreachable", lang)
                    if lost_vehicle
                    else t("reachable", lang),
                    "car": t("unreachable", lang) if lost_car else t("reachable", lang),
                }
            )
    return rows


def build(
    result: dict[str, Any],
    *,
    side: Side,
    roads: list[dict[str, Any]],
    lang: Lang = "zh",
    camera: Camera | dict[str, float] | None = None,
    areas: list[dict[str, Any]] | None = None,
) -> Scene:
    """One side of the before/after comparison.

    ``before``: the network and every trip's original route. ``after``: closed/flooded
    edges, changed structures, the flood raster, detours (amber) and cut-off trips (red
    straight lines between their ends), villages coloured by reachability after.
    """
    closed = result.get("closed_geometry") or []
    trips = result.get("trips") or []
    villages = result.get("villages") or []
    pts: list[Any] = [p for c in closed for p in c]
    for tr in trips:
        for key in ("before", "after"):
            geom = (tr.get(key) or {}).get("geometry") or {}
            pts += geom.get("coordinates") or []
    pts += [[v["lon"], v["lat"]] for v in villages if v.get("lon") is not None]
    extent = bounds_of(pts) or bounds_of(p for r in roads for p in r["path"])
    layers: list[pdk.Layer] = [background_layer(extent), *basemap_layers(areas=areas)]
    flood = result.get("flood")
    if side == "after" and flood and flood.get("image"):
        w, s, e, n = flood["bounds"]
        layers.append(
            pdk.Layer(
                "BitmapLayer",
                id="flood",
                image=literal(flood["image"]),
                bounds=[w, s, e, n],
                opacity=0.75,
                pickable=False,
            )
        )
    layers.append(
        road_layer(roads, color_by="class", lang=lang, pickable=False, fixed_color=DIMMED)
    )
    paths = []
    for tr in trips:
        if side == "before":
            geom = (tr.get("before") or {}).get("geometry")
            if geom:
                paths.append(
                    {
                        "path": geom["coordinates"],
                        "color": rgba(ROUTE_BEFORE),
                        "label": tr.get("name"),
                    }
                )
            continue
        status = tr.get("status")
        geom = (tr.get("after") or {}).get("geometry")
        if status == "cut_off" or (geom is None and status != "blocked_before"):
            paths.append(
                {
                    "path": [list(tr["origin"]), list(tr["destination"])],
                    "color": rgba(CUT_OFF, 200),
                    "label": f"{tr.get('name')}: {tr.get('reason') or status}",
                }
            )
        elif geom:
            color = DETOUR if status == "detour" else ROUTE_BEFORE
            paths.append(
                {"path": geom["coordinates"], "color": rgba(color), "label": tr.get("name")}
            )
    layers.append(
        pdk.Layer(
            "PathLayer",
            id=f"trips_{side}",
            data=paths,
            get_path="path",
            get_color="color",
            get_width=5,
            width_units="'pixels'",
            pickable=True,
        )
    )
    if side == "after" and closed:
        layers.append(
            pdk.Layer(
                "PathLayer",
                id="closed",
                data=[{"path": c, "label": t("closed_edge", lang)} for c in closed],
                get_path="path",
                get_color=rgba(CLOSED),
                get_width=9,
                width_units="'pixels'",
                pickable=True,
            )
        )
    changed = [
        {
            **c,
            "position": [c["lon"], c["lat"]],
            "label": f"{t('changed_limit', lang)}: {c.get('external_id') or c.get('id')}",
        }
        for c in result.get("changed_structures") or []
        if isinstance(c, dict) and c.get("lon") is not None
    ]
    if side == "after" and changed:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="changed_structures",
                data=changed,
                get_position="position",
                get_fill_color=rgba(CHANGED),
                get_radius=100,
                radius_min_pixels=7,
                pickable=True,
            )
        )
    vrows = []
    for v in villages:
        ok = v.get("reachable_before") if side == "before" else v.get("reachable_after")
        vrows.append(
            {
                "position": [v["lon"], v["lat"]],
                "color": rgba(VILLAGE_OK if ok else VILLAGE_LOST),
                "label": f"{v.get('name')}: {t('reachable' if ok else 'unreachable', lang)}",
            }
        )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id=f"villages_{side}",
            data=vrows,
            get_position="position",
            get_fill_color="color",
            get_radius=80,
            radius_min_pixels=5,
            stroked=True,
            get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=1,
            pickable=True,
        )
    )
    cam = (
        camera_for_bounds("scenario", extent, width_px=480, pitch=0.0)
        if extent
        else Camera("scenario", 117.4, 39.1, 9.0, 0.0)
    )
    legend = [
        LegendItem(t("before", lang) + ": " + t("legal_route", lang), ROUTE_BEFORE),
        LegendItem(t("detour", lang), DETOUR),
        LegendItem(t("closed_edge", lang), CLOSED),
        LegendItem(t("changed_limit", lang), CHANGED, "circle"),
        LegendItem(t("village", lang) + " · " + t("reachable", lang), VILLAGE_OK, "circle"),
        LegendItem(t("village", lang) + " · " + t("unreachable", lang), VILLAGE_LOST, "circle"),
    ]
    if flood:
        legend.append(
            LegendItem(
                f"{t('flood', lang)} ({t('depth_m', lang)}, max {flood.get('max_depth_m', 0):.1f})",
                (33, 150, 243),
                "fill",
            )
        )
    return Scene(
        deck=make_deck(layers, camera or cam, tooltip={"text": "{label}"}),
        legend_title=f"{t('scenario', lang)}: {t(side, lang)}",
        legend=[*legend, *area_legend(areas, lang)],
        cameras=[cam],
        pickable_layers=[f"trips_{side}", f"villages_{side}", "closed", "changed_structures"],
        tables={"trips": affected_trips(result, lang), "villages": affected_villages(result, lang)},
    )
