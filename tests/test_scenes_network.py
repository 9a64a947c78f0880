"""Network overview scene (pure) and the twin_view queries that feed it (real PostGIS)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection
from twin_demo_data import load_demo

from scenes import network
from scenes._common import BACKGROUND, CLASS_COLORS, CONDITION_COLORS, camera_for_bounds, rgba
from scenes.i18n import t
from twin.errors import InputError, NotFound
from twin.services import twin_view as tv


@pytest.fixture()
def demo(connection: Connection) -> dict[str, Any]:
    return load_demo(connection)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Slippy-map tile indices (OSM wiki formula)."""
    n = 2**z
    lat_r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n)


def _layers(scene: network.Scene) -> dict[str, dict[str, Any]]:
    return {layer["id"]: layer for layer in json.loads(scene.deck.to_json())["layers"]}


def test_network_scene_from_database(connection: Connection, demo: dict[str, Any]) -> None:
    roads = tv.road_edges(connection)
    structs = tv.structures(connection)
    assert len(roads) == demo["edges"]
    underpass = next(s for s in structs if s["asset_id"] == demo["underpass_id"])
    assert underpass["height_cm"] == 380 and underpass["polygon"] is None
    bridge = next(s for s in structs if s["asset_id"] == demo["bridge_id"])
    assert bridge["weight_kg"] == 30_000 and bridge["cond_class"] == 4  # latest inspection
    assert bridge["polygon"] and bridge["stake"] == "K1+200"

    scene = network.build(roads=roads, structures=structs, lang="en", color_by="condition")
    layers = _layers(scene)
    # No external basemap: the deck asks for nothing outside our data.
    assert (
        "mapStyle" not in json.loads(scene.deck.to_json())
        or json.loads(scene.deck.to_json())["mapStyle"] == "__MAP_STYLE__"
    )
    assert {"roads", "structures", "clearance"} <= set(layers)
    # The dark ground: the map view clears to it (no full-screen layer to compile and draw).
    (view,) = json.loads(scene.deck.to_json())["views"]
    assert view["clear"] is True and view["clearColor"] == [*BACKGROUND, 255]
    s11 = [r for r in layers["roads"]["data"] if r["label"].startswith("S11")]
    assert s11 and all(r["color"] == rgba(CONDITION_COLORS[1]) for r in s11)
    cols = {c["asset_id"]: c for c in layers["clearance"]["data"]}
    assert cols[demo["underpass_id"]]["height_m"] == 3.8
    assert cols[demo["underpass_id"]]["column_color"] == [230, 25, 75, 255]  # < 4.0 m band
    assert scene.legend_title == t("condition_class", "en")
    assert [c.key for c in scene.cameras][:1] == ["cam_overview"]


def test_corridor_cameras_follow_the_data(connection: Connection, demo: dict[str, Any]) -> None:
    bounds = tv.corridor_bounds(connection, network.CORRIDOR_NAMES)
    assert bounds["cam_jinbin"] == (117.30, 39.04, 117.68, 39.10)
    cams = {c.key: c for c in network.cameras(overview_bounds=None, corridor_bounds=bounds)}
    assert set(cams) == {"cam_overview", *network.CORRIDOR_PRESETS}
    assert abs(cams["cam_jinbin"].longitude - 117.49) < 1e-9
    # The port camera frames the yards, tighter than the corridor cameras.
    assert cams["cam_port"].zoom > cams["cam_jinbin"].zoom


def test_camera_fit_zoom_arithmetic() -> None:
    # One tile (512 px at zoom 0 covers 360 degrees): 1.40625 degrees wide fits 512 px at zoom 8.
    cam = camera_for_bounds("k", (0.0, -0.01, 1.40625, 0.01), width_px=512, height_px=10_000)
    assert cam.zoom == pytest.approx(8.0 - 0.2, abs=1e-6)


def test_road_class_colours_and_legend_units() -> None:
    roads = [
        {"id": 1, "road_class": "motorway", "path": [[117.0, 39.0], [117.1, 39.0]]},
        {"id": 2, "road_class": None, "path": [[117.0, 39.1], [117.1, 39.1]]},
    ]
    scene = network.build(roads=roads, structures=[], lang="zh", color_by="class")
    data = _layers(scene)["roads"]["data"]
    assert data[0]["color"] == rgba(CLASS_COLORS["motorway"])
    assert data[1]["color"] == rgba(CLASS_COLORS["other"])
    _, legend = network.legend_for("limit", "en")
    assert any("(m" in it.label or " m" in it.label for it in legend)
    assert "m" in t("height_limit_m", "zh") and "t" in t("weight_limit_t", "en")


def test_tiles_layer_replaces_inline_roads() -> None:
    scene = network.build(
        roads=[],
        structures=[],
        tiles={
            "url": "http://127.0.0.1:8000/tiles/road_edge/{z}/{x}/{y}.pbf",
            "edge_count": 120_000,
        },
        extent=(117.0, 38.8, 117.7, 39.5),
        lang="en",
    )
    layer = _layers(scene)["roads"]
    assert layer["@@type"] == "MVTLayer" and layer["data"].endswith("{z}/{x}/{y}.pbf")
    assert layer["getLineColor"].startswith("@@=properties.road_class == 'motorway'")
    assert "120,000" in scene.notes[0]


def test_mvt_tiles_from_postgis(connection: Connection, demo: dict[str, Any]) -> None:
    from mapbox_vector_tile import decode  # type: ignore[import-not-found]

    # Zoom 12 tile over the Jinbin expressway near 117.46E 39.09N.
    z, x, y = 12, *_tile(117.46, 39.09, 12)
    tile = tv.tile_mvt(connection, "road_edge", z, x, y)
    feats = decode(tile)["road_edge"]["features"]
    assert feats and {f["properties"]["road_class"] for f in feats} >= {"motorway"}
    assets = decode(tv.tile_mvt(connection, "asset", 10, *_tile(117.38, 39.07, 10)))
    assert "asset" in assets
    assert tv.tile_mvt(connection, "road_edge", 3, 0, 0) == b""  # nothing there
    with pytest.raises(InputError):
        tv.tile_mvt(connection, "nope", 1, 0, 0)
    with pytest.raises(InputError):
        tv.tile_mvt(connection, "asset", 2, 4, 0)


def test_asset_card_and_engineer_actions(connection: Connection, demo: dict[str, Any]) -> None:
    card = tv.asset_card(connection, demo["bridge_id"])
    assert card["asset"]["external_id"] == "DEMO-BR-001"
    assert [i["condition_class"] for i in card["inspections"]] == [2, 2, 3, 3, 4]
    assert card["limits"][0]["kind"] == "weight" and card["limits"][0]["value"] == 30_000
    assert card["work_orders"][0]["status"] == "open"
    import datetime as dt

    tv.record_inspection_rows(
        connection,
        demo["bridge_id"],
        inspected_on=dt.date(2025, 5, 1),
        inspector="tester",
        overall_score=41.0,
        condition_class=4,
    )
    assert tv.asset_card(connection, demo["bridge_id"])["inspections"][-1]["overall_score"] == 41.0
    wo = tv.create_work_order_row(
        connection, demo["bridge_id"], actor="tester", kind="repair", title="加固 / strengthen"
    )
    assert tv.asset_card(connection, demo["bridge_id"])["work_orders"][0]["id"] == wo
    with pytest.raises(InputError):
        tv.record_inspection_rows(
            connection,
            demo["bridge_id"],
            inspected_on=dt.date(2025, 5, 1),
            inspector="x",
            overall_score=120.0,
            condition_class=4,
        )
    with pytest.raises(InputError):
        tv.create_work_order_row(connection, demo["bridge_id"], actor="x", kind="paint", title="x")
    with pytest.raises(NotFound):
        tv.asset_card(connection, 999_999)


def test_tiles_endpoint(client: Any, demo: dict[str, Any]) -> None:
    from mapbox_vector_tile import decode

    x, y = _tile(117.46, 39.09, 12)
    r = client.get(f"/tiles/road_edge/12/{x}/{y}.pbf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["access-control-allow-origin"] == "*"
    assert decode(r.content)["road_edge"]["features"]
    assert client.get("/tiles/road_edge/3/0/0.pbf").status_code == 204
    bad = client.get("/tiles/roads/1/0/0.pbf")
    assert bad.status_code == 422 and "road_edge" in bad.json()["hint"]
    assert client.get("/tiles/asset/2/9/0.pbf").status_code == 422
    assert client.get("/tiles/asset/x/0/0.pbf").status_code == 422


def test_columns_stay_readable_when_zoomed_out() -> None:
    close_scale, close_radius = network.column_scale(15.0)
    far_scale, far_radius = network.column_scale(9.0)
    assert close_scale == network.DEFAULT_VERTICAL_SCALE and close_radius == network.COLUMN_RADIUS_M
    assert far_scale > 20 * close_scale and far_radius > 4 * close_radius
    assert str(int(far_scale))[0] in "125"  # a round number for the legend
    structs = [{"asset_id": 1, "kind": "underpass", "position": [117.0, 39.0], "height_cm": 380}]
    scene = network.build(
        roads=[],
        structures=structs,
        extent=(116.5, 38.5, 117.5, 39.5),
        camera={"longitude": 117.0, "latitude": 39.0, "zoom": 9.0},
        lang="en",
    )
    col = _layers(scene)["clearance"]
    assert col["data"][0]["elevation"] == pytest.approx(3.8 * far_scale)
    # The column is a closed 12-gon of that radius around the structure (flat lon, lat).
    ring = np.asarray(col["data"][0]["polygon"]).reshape(-1, 2)
    assert len(ring) == 13 and tuple(ring[0]) == tuple(ring[-1])
    north_m = (ring[:, 1].max() - 39.0) * 110_574.0
    assert north_m == pytest.approx(far_radius, rel=0.01)
    assert f"×{far_scale:g}" in scene.legend[-1].label


def test_mvt_worker_is_served_locally(client: Any) -> None:
    r = client.get("/tiles/mvt-worker.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert len(r.content) > 50_000 and b"mvt" in r.content
    scene = network.build(
        roads=[],
        structures=[],
        extent=(117.0, 38.8, 117.7, 39.5),
        tiles={
            "url": "http://127.0.0.1:8000/tiles/road_edge/{z}/{x}/{y}.pbf",
            "edge_count": 1,
            "worker_url": "http://127.0.0.1:8000/tiles/mvt-worker.js",
        },
    )
    assert _layers(scene)["roads"]["loadOptions"] == {
        "mvt": {"workerUrl": "http://127.0.0.1:8000/tiles/mvt-worker.js"}
    }


def test_roads_that_look_the_same_and_meet_are_one_flat_path() -> None:
    """Edges of one road (same class, name, limits) joined end to end go to the browser as
    one flat [lon, lat, ...] path; a different name or a gap keeps them apart."""
    a = {"road_class": "primary", "name": "津滨高速"}
    roads = [
        {**a, "id": 1, "path": [[117.0, 39.0], [117.1, 39.0]]},
        {**a, "id": 2, "path": [[117.1, 39.0], [117.2, 39.05]]},
        {**a, "id": 3, "path": [[117.2, 39.05], [117.3, 39.05]]},
        {**a, "id": 4, "path": [[117.5, 39.0], [117.6, 39.0]]},  # not connected
        {
            "road_class": "primary",
            "name": "天津大道",
            "id": 5,
            "path": [[117.3, 39.05], [117.4, 39.0]],
        },
    ]
    layer = _layers(network.build(roads=roads, structures=[], lang="zh"))["roads"]
    assert layer["positionFormat"] == "XY"
    paths = sorted((r["label"], np.asarray(r["p"]).reshape(-1, 2).tolist()) for r in layer["data"])
    jinbin = [p for label, p in paths if label == "津滨高速"]
    assert sorted(len(p) for p in jinbin) == [2, 4]
    long = next(p for p in jinbin if len(p) == 4)
    assert {tuple(long[0]), tuple(long[-1])} == {(117.0, 39.0), (117.3, 39.05)}
    assert [p for label, p in paths if label == "天津大道"] == [[[117.3, 39.05], [117.4, 39.0]]]
