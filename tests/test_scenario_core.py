"""Planner scenarios on the compiled graph (pure core): closures, floods, lower limits.

The network (100 m between neighbours, lon/lat near Tianjin)::

    H(1) --- 2 ====bridge==== 3 --- V(5)      H: main-road hub, V: a village
             |                |
             4 ------ 6 ----- 7

The bridge 2-3 is 100 m; the way round 2-4-6-7-3 is 300 m (100 + 50 + 50 + 100).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from road_network.graph import CompiledGraph, EdgeInput, build_graph
from road_network.route import RouteOptions
from road_network.scenario import LimitChange, Place, Scenario, ScenarioError, Trip, apply, evaluate
from road_network.vehicle import PRESETS, VehicleProfile

LON0, LAT0 = 117.2, 39.1
DX = 100 / (111_195.0 * math.cos(math.radians(LAT0)))
DY = 100 / 111_195.0
POS = {1: (0, 0), 2: (1, 0), 3: (2, 0), 5: (3, 0), 4: (1, -1), 6: (1.5, -1), 7: (2, -1)}
EDGES = [(1, 2), (2, 3), (3, 5), (2, 4), (4, 6), (6, 7), (7, 3)]
BRIDGE_EDGE = 2  # database id of 2-3


def xy(n: int) -> tuple[float, float]:
    c, r = POS[n]
    return (LON0 + c * DX, LAT0 + r * DY)


def graph(*, weight_limit_kg: int | None = 55_000) -> CompiledGraph:
    ids = np.array(sorted(POS))
    lon = np.array([xy(n)[0] for n in ids])
    lat = np.array([xy(n)[1] for n in ids])
    gl, ga, length = [], [], []
    for s, d in EDGES:
        gl += [xy(s)[0], xy(d)[0]]
        ga += [xy(s)[1], xy(d)[1]]
        (c0, r0), (c1, r1) = POS[s], POS[d]
        length.append(100.0 * math.hypot(c1 - c0, r1 - r0))
    m = len(EDGES)
    edges = EdgeInput(
        ids=np.arange(1, m + 1),
        source=np.array([s for s, _ in EDGES]),
        target=np.array([d for _, d in EDGES]),
        length_m=np.array(length),
        speed_kmh=np.full(m, 36.0),
        oneway=np.zeros(m, bool),
        geom_offsets=np.arange(0, 2 * m + 1, 2),
        geom_lon=np.array(gl),
        geom_lat=np.array(ga),
        road_code=["X001"] * m,
    )
    bridge = {
        "id": 10,
        "external_id": "BR-10",
        "kind": "bridge",
        "name": "Village bridge",
        "road_code": "X001",
        "stake_m": 150.0,
        "lon": xy(2)[0] + DX / 2,
        "lat": LAT0,
        "state": "in_service",
        "limits": []
        if weight_limit_kg is None
        else [
            {
                "kind": "weight",
                "value": weight_limit_kg,
                "direction": "both",
                "conditional": None,
                "valid_from": None,
                "valid_to": None,
            }
        ],
        "edges": [(BRIDGE_EDGE, "both")],
    }
    return build_graph(ids, lon, lat, edges, structures=[bridge], landmarks=2)


TRUCK = PRESETS["artic49t"]
CAR = VehicleProfile(
    height_cm=160,
    width_cm=180,
    length_cm=450,
    gross_weight_kg=1_800,
    axle_load_kg=1_000,
    axle_count=2,
    name="car",
)
TRIP = Trip("hub to village", xy(1), xy(5), kind="od")
VILLAGE = Place("V5", "East village", *xy(5))
HUB = np.array([0])  # node index of node 1
OPTS = RouteOptions(metric="distance")


def test_lowered_bridge_limit_detours_trucks_not_cars() -> None:
    g = graph()
    sc = Scenario("post 20 t", limit_changes=[LimitChange("BR-10", "weight", 20_000)])
    truck = evaluate(g, sc, TRUCK, trips=[TRIP], options=OPTS)
    row = truck["trips"][0]
    assert row["status"] == "detour"
    assert row["before"]["length_m"] == pytest.approx(300.0, abs=0.5)
    assert row["after"]["length_m"] == pytest.approx(500.0, abs=0.5)
    assert row["detour_m"] == pytest.approx(200.0, abs=0.5)
    assert truck["changed_structures"] == [
        {"id": 10, "name": "Village bridge", "kind": "weight", "value": 20_000}
    ]
    car = evaluate(g, sc, CAR, trips=[TRIP], options=OPTS)
    assert car["trips"][0]["status"] == "unchanged"
    assert g.limits.max() > 20_000  # the original graph is untouched


def test_closing_the_only_road_cuts_the_village_off() -> None:
    g = graph()
    last = 2  # graph edge index of 3-5
    assert int(g.edge_ids[last]) == 3
    res = evaluate(
        g,
        Scenario("close 3-5", closed_edges=[last]),
        TRUCK,
        trips=[TRIP],
        places=[VILLAGE],
        hub_nodes=HUB,
        options=OPTS,
    )
    assert res["trips"][0]["status"] == "cut_off"
    v = res["villages"][0]
    assert v["reachable_before"] and not v["reachable_after"]
    assert v["car_reachable_before"] and not v["car_reachable_after"]
    assert res["summary"]["villages_cut_off_car"] == 1
    assert res["closed_edges"] == [3]


def test_flood_deeper_than_wading_depth_blocks_edges() -> None:
    g = graph()
    depth = np.zeros(g.n_edges)
    depth[1] = 0.8  # the bridge approach under 0.8 m of water
    depth[3] = 0.2  # 2-4 wet but passable
    res = evaluate(
        g,
        Scenario("flood", edge_water_depth_m=depth, max_wading_depth_m=0.3),
        CAR,
        trips=[TRIP],
        places=[VILLAGE],
        hub_nodes=HUB,
        options=OPTS,
    )
    assert res["flooded_edges"] == [2]
    assert res["trips"][0]["status"] == "detour"
    assert res["villages"][0]["car_reachable_after"]
    assert res["villages"][0]["to_main_road_after_m"] == pytest.approx(500.0, abs=0.5)


def test_flood_on_the_way_round_cuts_off_a_truck_kept_off_the_bridge() -> None:
    g = graph(weight_limit_kg=10_000)
    depth = np.zeros(g.n_edges)
    depth[5] = 1.0  # 6-7 flooded too: the truck has no way at all
    res = evaluate(
        g, Scenario("flood", edge_water_depth_m=depth), TRUCK, trips=[TRIP], options=OPTS
    )
    assert res["trips"][0]["before"] is not None  # before: the way round was open
    assert res["trips"][0]["status"] == "cut_off"
    assert res["trips"][0]["blocking"], "a cut-off trip names what blocks it"


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        (Scenario(closed_structures=["nope"]), "structure"),
        (Scenario(limit_changes=[LimitChange("BR-10", "colour", 1)]), "kind"),
        (Scenario(limit_changes=[LimitChange("BR-10", "weight", -5)]), "value"),
        (Scenario(closed_edges=[99]), "closed_edges"),
        (Scenario(edge_water_depth_m=np.zeros(3)), "edge_water_depth_m"),
        (Scenario(max_wading_depth_m=float("nan")), "max_wading_depth_m"),
    ],
)
def test_bad_scenarios_name_the_field(scenario: Scenario, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        apply(graph(), scenario)
    assert info.value.field == field


def test_villages_need_hubs() -> None:
    with pytest.raises(ScenarioError, match="hub_nodes"):
        evaluate(graph(), Scenario(), CAR, places=[VILLAGE])
