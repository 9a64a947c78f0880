"""V2X corridor scene: each RSU's coverage circle (``range_m``), the stretches of its road
that no online RSU covers (gaps, by stake), and RSI messages as icons (SVG data URIs, so
nothing is fetched). Inputs: ``twin.services.twin_view.v2x_features``.
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

RSU_ONLINE: tuple[int, int, int] = (0, 200, 83)
RSU_OFFLINE: tuple[int, int, int] = (158, 158, 158)
GAP: tuple[int, int, int] = (255, 61, 0)

#: RSI event -> icon (SVG data URI, so nothing is fetched from the network).
_ICON_SHAPES = {
    "low_clearance": ("#ff1744", "H"),
    "work_zone": ("#ff9100", "W"),
    "weight_limit": ("#ffd600", "T"),
}


def _hex_rgb(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def icon_url(event_type: str | None) -> str:
    """A data-URI SVG icon for an RSI event type (triangle warning sign with a letter)."""
    fill, letter = _ICON_SHAPES.get(event_type or "", ("#2979ff", "i"))
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'>"
        f"<polygon points='32,4 60,58 4,58' fill='{fill}' stroke='white' stroke-width='4'/>"
        f"<text x='32' y='52' font-size='30' font-family='sans-serif' text-anchor='middle' "
        f"fill='black' font-weight='bold'>{letter}</text></svg>"
    )
    from urllib.parse import quote

    return "data:image/svg+xml;charset=utf-8," + quote(svg)


# --------------------------------------------------------------------------- v2x
def coverage_gaps(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stake ranges of each road between the first and last RSU that no online RSU covers.

    Coverage of an RSU is ``[stake - range, stake + range]`` along its road (metres).
    Returns ``{"road_code", "from_m", "to_m", "length_m"}`` rows.
    """
    by_road: dict[str, list[dict[str, Any]]] = {}
    for u in units:
        if u.get("road_code") and u.get("stake_m") is not None:
            by_road.setdefault(u["road_code"], []).append(u)
    gaps = []
    for road, us in by_road.items():
        lo = min(u["stake_m"] for u in us)
        hi = max(u["stake_m"] for u in us)
        spans = sorted(
            (u["stake_m"] - u["range_m"], u["stake_m"] + u["range_m"])
            for u in us
            if u.get("status", "online") == "online"
        )
        cursor = lo
        for a, b in spans:
            if a > cursor:
                gaps.append(
                    {"road_code": road, "from_m": round(cursor, 1), "to_m": round(min(a, hi), 1)}
                )
            cursor = max(cursor, b)
        if cursor < hi:
            gaps.append({"road_code": road, "from_m": round(cursor, 1), "to_m": round(hi, 1)})
    for g in gaps:
        g["length_m"] = round(g["to_m"] - g["from_m"], 1)
    return [g for g in gaps if g["length_m"] > 0]


def _stake(m: float) -> str:
    m = round(m)
    return f"K{m // 1000}+{m % 1000:03d}"


def build_v2x(
    *,
    units: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    roads: list[dict[str, Any]],
    gap_paths: list[dict[str, Any]] | None = None,
    lang: Lang = "zh",
    camera: Camera | dict[str, float] | None = None,
    areas: list[dict[str, Any]] | None = None,
) -> Scene:
    """The V2X corridor scene. ``gap_paths`` are the gaps of :func:`coverage_gaps` with a
    ``path`` (the road between the two stakes, located by the shell)."""
    extent = bounds_of(u["position"] for u in units) or bounds_of(
        p for r in roads for p in r["path"]
    )
    layers: list[pdk.Layer] = [background_layer(extent), *basemap_layers(areas=areas)]
    layers.append(
        road_layer(
            roads, color_by="class", lang=lang, pickable=False, fixed_color=(90, 105, 125, 255)
        )
    )
    rows = [
        {
            **u,
            "color": rgba(RSU_ONLINE if u.get("status") == "online" else RSU_OFFLINE),
            "fill": rgba(RSU_ONLINE if u.get("status") == "online" else RSU_OFFLINE, 45),
            "label": f"{u['code']} · {u.get('road_code') or ''} {u.get('stake') or ''}\n"
            f"{t('range_m', lang)}: {u['range_m']:.0f} · {u.get('status')}\n{', '.join(u.get('message_sets') or [])}",
        }
        for u in units
    ]
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id="rsu_coverage",
            data=rows,
            get_position="position",
            get_radius="range_m",
            get_fill_color="fill",
            get_line_color="color",
            stroked=True,
            line_width_min_pixels=1,
            pickable=False,
        )
    )
    if gap_paths:
        layers.append(
            pdk.Layer(
                "PathLayer",
                id="coverage_gaps",
                data=[
                    {
                        **g,
                        "label": f"{t('coverage_gap', lang)}: {_stake(g['from_m'])} – {_stake(g['to_m'])} ({g['length_m']:.0f} m)",
                    }
                    for g in gap_paths
                ],
                get_path="path",
                get_color=rgba(GAP),
                get_width=8,
                width_units="'pixels'",
                pickable=True,
            )
        )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id="rsus",
            data=rows,
            get_position="position",
            get_fill_color="color",
            get_radius=30,
            radius_min_pixels=5,
            stroked=True,
            get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=1,
            pickable=True,
            auto_highlight=True,
        )
    )
    icons = [
        {
            **m,
            "icon": {
                "url": icon_url(m.get("event_type")),
                "width": 64,
                "height": 64,
                "anchorY": 64,
            },
            "label": f"RSI · {m.get('event_type')} · {m.get('period_ms')} ms\n{m.get('payload')}",
        }
        for m in messages
    ]
    layers.append(
        pdk.Layer(
            "IconLayer",
            id="rsi_messages",
            data=icons,
            get_icon="icon",
            get_position="position",
            get_size=34,
            size_units="'pixels'",
            pickable=True,
        )
    )
    cam = (
        camera_for_bounds("v2x", extent, pitch=30.0)
        if extent
        else Camera("v2x", 117.45, 39.08, 11.0)
    )
    legend = [
        LegendItem(t("rsu_online", lang) + f" ({t('range_m', lang)})", RSU_ONLINE, "circle"),
        LegendItem(t("rsu_offline", lang), RSU_OFFLINE, "circle"),
        LegendItem(t("coverage_gap", lang), GAP),
        *[
            LegendItem(
                f"{t('rsi_message', lang)}: {k}",
                _hex_rgb(v),
                "icon",
            )
            for k, (v, _) in _ICON_SHAPES.items()
        ],
    ]
    return Scene(
        deck=make_deck(layers, camera or cam, tooltip={"text": "{label}"}),
        legend_title=t("scene_v2x", lang),
        legend=[*legend, *area_legend(areas, lang)],
        cameras=[cam],
        pickable_layers=["rsus", "rsi_messages", "coverage_gaps"],
        tables={
            "gaps": [
                {
                    t("road_code", lang): g["road_code"],
                    "from": _stake(g["from_m"]),
                    "to": _stake(g["to_m"]),
                    t("length_m", lang): g["length_m"],
                }
                for g in (gap_paths or [])
            ]
        },
    )
