"""Blocking structures are only those whose own limits the vehicle violates.

A long edge carries RSUs, signs and pavement sections besides the underpass that limits
it; naming an RSU as the reason a truck may not pass would mislead the permit office.

The network: A -(1)- B -(2)- C on a straight line, and a way round A -(3)- D -(4)- C.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from road_network import cch
from road_network.graph import LIMIT_NONE, CompiledGraph, EdgeInput, build_graph
from road_network.route import NoRouteError, RouteOptions, check_route
from road_network.vehicle import PRESETS

LON0, LAT0 = 117.2, 39.1


@pytest.fixture(autouse=True, scope="module")
def _cch_on_first_use() -> Iterator[None]:
    """Customize every mask at its first use, so these tests run the CCH engine (masks
    used once would otherwise take the ALT search)."""
    before = cch.CUSTOMIZE_AFTER
    cch.CUSTOMIZE_AFTER = 1
    yield
    cch.CUSTOMIZE_AFTER = before


DX = 200 / (111_195.0 * math.cos(math.radians(LAT0)))
DY = 200 / 111_195.0
NODES = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (1, 3)}
EDGES = [(1, 2), (2, 3), (1, 4), (4, 3)]
TRUCK = PRESETS["container40hc"]


def _struct(sid: int, kind: str, limits: list[tuple[str, int]], edge: int) -> dict:
    return {
        "id": sid,
        "external_id": f"{kind.upper()}-{sid}",
        "kind": kind,
        "name": f"{kind} {sid}",
        "road_code": "S40",
        "stake_m": 100.0 * sid,
        "lon": LON0,
        "lat": LAT0,
        "state": "in_service",
        "limits": [
            {
                "kind": k,
                "value": v,
                "direction": "both",
                "conditional": None,
                "valid_from": None,
                "valid_to": None,
            }
            for k, v in limits
        ],
        "edges": [(edge, "both")],
    }


def network(*, structures: list[dict], edge2_height_cm: int | None = None) -> CompiledGraph:
    ids = np.array(sorted(NODES))
    lon = np.array([LON0 + NODES[n][0] * DX for n in ids])
    lat = np.array([LAT0 + NODES[n][1] * DY for n in ids])
    gl, ga, length = [], [], []
    for s, d in EDGES:
        gl += [lon[s - 1], lon[d - 1]]
        ga += [lat[s - 1], lat[d - 1]]
        length.append(200.0 * math.dist(NODES[s], NODES[d]))
    m = len(EDGES)
    height = np.full(m, LIMIT_NONE, np.int32)
    if edge2_height_cm is not None:
        height[1] = edge2_height_cm
    edges = EdgeInput(
        ids=np.arange(1, m + 1),
        source=np.array([s for s, _ in EDGES]),
        target=np.array([d for _, d in EDGES]),
        length_m=np.array(length),
        speed_kmh=np.full(m, 60.0),
        oneway=np.zeros(m, bool),
        geom_offsets=np.arange(0, 2 * m + 1, 2),
        geom_lon=np.array(gl),
        geom_lat=np.array(ga),
        road_code=["S40"] * m,
        name=["corridor"] * m,
        limits={"height": height},
    )
    return build_graph(ids, lon, lat, edges, structures=structures, landmarks=2)


A = (LON0, LAT0)
C = (LON0 + 2 * DX, LAT0)


def test_only_the_underpass_is_named_not_the_rsu_beside_it() -> None:
    g = network(
        structures=[
            _struct(1, "rsu", [], 2),
            _struct(2, "underpass", [("height", 380)], 2),
            _struct(3, "sign", [("weight", 55_000)], 2),
        ]
    )
    res = check_route(g, TRUCK, A, C, RouteOptions(metric="distance"))
    assert res.route.length_m > 400.0  # detoured round by D
    names = [b["external_id"] for b in res.blocking]
    assert names == ["UNDERPASS-2"]
    assert res.blocking[0]["violated"] == [
        {"kind": "height", "limit": 380, "vehicle": TRUCK.height_cm, "unit": "cm"}
    ]


def test_an_edge_limit_with_no_limiting_structure_names_the_edge() -> None:
    g = network(structures=[_struct(1, "rsu", [], 2)], edge2_height_cm=390)
    res = check_route(g, TRUCK, A, C, RouteOptions(metric="distance"))
    assert len(res.blocking) == 1
    b = res.blocking[0]
    assert b["kind"] == "edge" and b["edge_id"] == 2 and b["id"] is None
    assert b["violated"][0]["limit"] == 390


def test_no_route_lists_each_real_blocker_once() -> None:
    g = network(
        structures=[
            _struct(1, "rsu", [], 2),
            _struct(2, "underpass", [("height", 380)], 2),
            _struct(3, "tunnel", [("height", 360)], 3),
            _struct(4, "gantry", [("height", 550)], 3),
        ]
    )
    with pytest.raises(NoRouteError) as info:
        check_route(g, TRUCK, A, C, RouteOptions(metric="distance"))
    blocking = info.value.details["blocking"]
    assert sorted(b["external_id"] for b in blocking) == ["UNDERPASS-2"]


def test_structures_passed_are_those_with_limits_or_structural_kinds() -> None:
    g = network(
        structures=[
            _struct(1, "rsu", [], 1),
            _struct(2, "bridge", [], 1),
            _struct(3, "sign", [("height", 450)], 2),
            _struct(4, "pavement_section", [], 2),
        ]
    )
    res = check_route(g, TRUCK, A, C, RouteOptions(metric="distance"))
    assert [s["external_id"] for s in res.structures] == ["BRIDGE-2", "SIGN-3"]
    sign = res.structures[1]["limits"][0]
    assert sign["margin"] == 450 - TRUCK.height_cm


def test_a_closed_bridge_on_the_direct_way_is_named_as_the_reason() -> None:
    closed = _struct(5, "bridge", [], 2)
    closed["state"] = "closed"
    g = network(structures=[closed, _struct(1, "rsu", [], 2)])
    res = check_route(g, TRUCK, A, C, RouteOptions(metric="distance"))
    assert res.route.length_m > 400.0  # round by D
    assert [b["external_id"] for b in res.blocking] == ["BRIDGE-5"]
    assert res.blocking[0]["violated"][0]["kind"] == "closed"
    assert res.unrestricted is not None and res.unrestricted.length_m == pytest.approx(400.0)
