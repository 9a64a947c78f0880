"""Route, port, V2X, rural and scenario scenes (pure), fed by real queries and engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection
from twin_demo_data import load_demo

from scenes import port, route, rural, scenario, v2x
from scenes._common import rgba
from scenes.i18n import LABELS, t
from twin.services import twin_view as tv
from twin.settings import Settings


@pytest.fixture()
def demo(connection: Connection) -> dict[str, Any]:
    return load_demo(connection)


@pytest.fixture()
def home_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test settings with their own graph-snapshot directory."""
    return settings.model_copy(update={"home": tmp_path})


def _layers(scene: Any) -> dict[str, dict[str, Any]]:
    return {layer["id"]: layer for layer in json.loads(scene.deck.to_json())["layers"]}


def test_every_label_has_both_languages() -> None:
    for key, (zh, en) in LABELS.items():
        assert zh and en, key
    assert (
        t("height_limit_m", "zh") == "限高 (m)" and t("height_limit_m", "en") == "Height limit (m)"
    )
    assert t("unknown-key", "en") == "unknown-key"


def test_route_scene_from_the_route_engine(
    connection: Connection, demo: dict[str, Any], home_settings: Settings
) -> None:
    from road_network.vehicle import make_profile
    from twin.services import routing

    graph = routing.compile_graph(connection)
    answer = routing.check_route(
        graph, make_profile(preset="container40hc"), (117.34, 39.048), (117.40, 39.094)
    )
    scene = route.build(
        roads=tv.road_edges(connection),
        answer=answer,
        origin=(117.34, 39.048),
        destination=(117.40, 39.094),
        nodes=tv.pick_nodes(connection),
        lang="en",
    )
    layers = _layers(scene)
    assert {"legal_route", "direct_route", "blocking_structures", "pick_points"} <= set(layers)
    assert layers["legal_route"]["data"][0]["path"] == answer["route"]["geometry"]["coordinates"]
    blocking = scene.tables["blocking"]
    assert blocking[0]["Name"] == "Xingang underpass"
    assert blocking[0]["limit"] == "height 3.8 m" and blocking[0]["Vehicle"] == "4.1 m"
    passed = {r["Name"]: r for r in scene.tables["passed"]}
    assert passed["Tanggu height restrictor"]["Margin (m)"] == pytest.approx(0.1)
    assert any("Direct route (blocked)" in n for n in scene.notes)


def test_route_scene_without_a_legal_route_lists_the_blockers() -> None:
    no_route = {
        "blocking": [
            {
                "id": 1,
                "external_id": "X",
                "name": "Low bridge",
                "kind": "bridge",
                "lon": 117.0,
                "lat": 39.0,
                "violated": [{"kind": "weight", "limit": 20_000, "vehicle": 49_000}],
            }
        ]
    }
    scene = route.build(roads=[], answer=None, no_route=no_route, lang="zh")
    row = scene.tables["blocking"][0]
    assert row["limit"] == "weight 20.0 t" and row[t("vehicle", "zh")] == "49.0 t"
    assert _layers(scene)["blocking_structures"]["data"][0]["asset_id"] == 1


def test_port_scene(connection: Connection, demo: dict[str, Any]) -> None:
    feats = tv.port_features(connection)
    scene = port.build_port(yards=feats["yards"], lanes=feats["lanes"], roads=[], lang="en")
    layers = _layers(scene)
    kinds = [y["kind"] for y in layers["yards"]["data"]]
    assert kinds.count("block") == 4 and "gate" in kinds
    # Yards first, then blocks and gates above them.
    assert kinds[0] == "container_yard"
    lanes = layers["lanes"]["data"]
    dual = [ln for ln in lanes if ln["mode"] == "dual"]
    assert len(dual) == 4  # two dual lanes, each drawn as an autonomous + a mixed line
    assert {tuple(ln["color"]) for ln in dual} == {
        tuple(rgba(port.LANE_COLORS["autonomous"])),
        tuple(rgba(port.LANE_COLORS["dual"])),
    }
    assert all(len(p) == 3 for ln in lanes for p in ln["path"])  # lifted above the yard


def test_v2x_gaps_by_stake(connection: Connection, demo: dict[str, Any]) -> None:
    units = [
        {"road_code": "G", "stake_m": 0.0, "range_m": 300.0, "status": "online"},
        {"road_code": "G", "stake_m": 500.0, "range_m": 300.0, "status": "online"},
        {"road_code": "G", "stake_m": 1500.0, "range_m": 300.0, "status": "offline"},
        {"road_code": "G", "stake_m": 2500.0, "range_m": 300.0, "status": "online"},
    ]
    assert v2x.coverage_gaps(units) == [
        {"road_code": "G", "from_m": 800.0, "to_m": 2200.0, "length_m": 1400.0}
    ]
    feats = tv.v2x_features(connection)
    gaps = tv.stake_paths(connection, v2x.coverage_gaps(feats["units"]))
    assert gaps and all(len(g["path"]) >= 2 for g in gaps)
    scene = v2x.build_v2x(
        units=feats["units"], messages=feats["messages"], roads=[], gap_paths=gaps, lang="en"
    )
    layers = _layers(scene)
    icons = layers["rsi_messages"]["data"]
    assert {m["event_type"] for m in icons} == {"low_clearance", "work_zone", "weight_limit"}
    assert all(m["icon"]["url"].startswith("data:image/svg+xml") for m in icons)  # offline
    assert scene.tables["gaps"][0]["from"].startswith("K")


def test_rural_scene_with_reachability(
    connection: Connection, demo: dict[str, Any], home_settings: Settings
) -> None:
    from road_network.vehicle import make_profile
    from twin.services.scenarios import ScenarioRequest, run_scenario

    res = run_scenario(
        connection,
        home_settings,
        ScenarioRequest(
            name="baseline", vehicle=make_profile(preset="artic49t"), trips=[], save=False
        ),
    )
    reach = {v["code"]: {"reachable": v["reachable_before"]} for v in res["villages"]}
    assert reach["DEMO-V001"]["reachable"] is False  # behind the 20 t bridge
    assert reach["DEMO-V003"]["reachable"] is True
    villages = tv.villages(connection)
    scene = rural.build_rural(
        villages=villages, roads=tv.road_edges(connection), reach=reach, lang="en"
    )
    colours = {r["code"]: r["color"] for r in _layers(scene)["villages"]["data"]}
    assert colours["DEMO-V001"] == rgba(rural.UNREACHABLE)
    assert colours["DEMO-V003"] == rgba(rural.REACHABLE)


def test_scenario_scene_before_after(
    connection: Connection, demo: dict[str, Any], home_settings: Settings
) -> None:
    from road_network.vehicle import make_profile
    from twin.services.scenarios import ScenarioRequest, run_scenario

    result = run_scenario(
        connection,
        home_settings,
        ScenarioRequest(
            name="close restrictor",
            vehicle=make_profile(preset="gb1589"),
            close_assets=["DEMO-HR-001"],
            save=False,
        ),
    )
    roads = tv.road_edges(connection)
    before = scenario.build(result, side="before", roads=roads, lang="en")
    after = scenario.build(result, side="after", roads=roads, lang="en")
    cut = [tr for tr in result["trips"] if tr["status"] == "cut_off"]
    assert cut, "closing the restrictor cuts a port flow off"
    after_paths = _layers(after)["trips_after"]["data"]
    assert any(p["color"] == rgba(scenario.CUT_OFF, 200) for p in after_paths)
    assert all(
        p["color"] == rgba(scenario.ROUTE_BEFORE) for p in _layers(before)["trips_before"]["data"]
    )
    assert [r["Status"] for r in after.tables["trips"]].count("cut_off") == len(cut)
    flooded = scenario.build(
        {
            **result,
            "flood": {
                "image": "data:image/png;base64,AAAA",
                "bounds": [117.0, 38.9, 117.2, 39.0],
                "max_depth_m": 1.2,
            },
        },
        side="after",
        roads=roads,
        lang="en",
    )
    assert (
        _layers(flooded)["flood"]["image"] == "data:image/png;base64,AAAA"
    )  # not an @@= expression
    # A partial result (still running, or from another tool) still draws.
    partial = scenario.build({"scenario": "x"}, side="after", roads=roads, lang="zh")
    assert "villages_after" in _layers(partial)


def test_flood_overlay_from_a_water_depth_raster(connection: Connection, tmp_path: Path) -> None:
    import base64
    import io

    import numpy as np
    import rasterio
    from PIL import Image
    from rasterio.transform import from_origin
    from sqlalchemy import text

    from twin.errors import NotFound

    # 40 x 20 cells of 100 m in EPSG:4548 near Tianjin; depth rises to 2 m eastwards.
    depth = np.tile(np.linspace(0, 2.0, 40, dtype="float32"), (20, 1))
    path = tmp_path / "depth.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=40,
        height=20,
        count=1,
        dtype="float32",
        crs="EPSG:4548",
        transform=from_origin(540_000, 4_330_000, 100, 100),
    ) as dst:
        dst.write(depth, 1)
    rid = connection.execute(
        text(
            "INSERT INTO raster_layer (name, kind, path, sha256, crs, bounds, res_x, res_y, width, height)"
            " VALUES ('flood', 'water_depth', :p, 'x', 'EPSG:4548',"
            " ST_MakeEnvelope(117.4, 39.0, 117.5, 39.1, 4326), 100, 100, 40, 20) RETURNING id"
        ),
        {"p": str(path)},
    ).scalar_one()
    over = tv.flood_overlay(connection, rid)
    w, s, e, n = over["bounds"]
    assert 117.3 < w < e < 117.6 and 39.0 < s < n < 39.2  # warped to lon/lat
    assert over["max_depth_m"] == pytest.approx(2.0, abs=0.05)
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(over["image"].split(",", 1)[1]))))
    assert img.shape[2] == 4 and img[..., 3].max() > 200  # deep water opaque
    assert img[:, 0, 3].max() == 0  # dry cells transparent
    with pytest.raises(NotFound):
        tv.flood_overlay(connection, rid + 1000)
