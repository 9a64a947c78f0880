"""Condition-aware limits end to end: a class 4/5 inspection proposes a posted limit or a
closure; routing ignores it until an engineer approves; then a route that crossed the
bridge detours and says why."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, text
from test_assets_services import PARTS_BAD, PARTS_CLASS4

from road_network.vehicle import VehicleProfile
from twin.errors import NoRoute
from twin.services import assets as svc
from twin.services import routing

N0 = 9_100_000
#: node -> (lon, lat): 0 - 1 = 2 - 5 is the direct road (1 - 2 the bridge), 1 - 3 - 4 - 2
#: the detour.
NODES = {0: (116.99, 39.0), 1: (117.0, 39.0), 2: (117.01, 39.0), 5: (117.02, 39.0),
         3: (117.0, 39.01), 4: (117.01, 39.01)}  # fmt: skip
EDGES = {1: (0, 1), 2: (1, 2), 3: (2, 5), 4: (1, 3), 5: (3, 4), 6: (4, 2)}
BRIDGE_EDGE = N0 + 2
ORIGIN = (116.995, 39.0)
DESTINATION = (117.015, 39.0)
TRUCK = VehicleProfile(gross_weight_kg=30_000, name="30 t truck")


@pytest.fixture()
def bridge(connection: Connection) -> int:
    """A small network whose direct road crosses a bridge, and the bridge asset."""
    routing.invalidate()
    for n, (lon, lat) in NODES.items():
        connection.execute(
            text(
                "INSERT INTO road_node (id, geom, attrs) VALUES (:i, ST_SetSRID(ST_MakePoint(:x, :y), 4326), '{}')"
            ),
            {"i": N0 + n, "x": lon, "y": lat},
        )
    for e, (a, b) in EDGES.items():
        connection.execute(
            text(
                "INSERT INTO road_edge (id, source_node, target_node, length_m, speed_kmh, oneway, "
                "is_bridge, is_tunnel, conditional, source, name, geom) VALUES (:i, :a, :b, "
                "ST_Length(ST_MakeLine(ST_MakePoint(:x1, :y1), ST_MakePoint(:x2, :y2))::geography), "
                "60, false, :br, false, '{}', '{}', :nm, "
                "ST_SetSRID(ST_MakeLine(ST_MakePoint(:x1, :y1), ST_MakePoint(:x2, :y2)), 4326))"
            ),
            {"i": N0 + e, "a": N0 + a, "b": N0 + b, "x1": NODES[a][0], "y1": NODES[a][1],
             "x2": NODES[b][0], "y2": NODES[b][1], "br": N0 + e == BRIDGE_EDGE, "nm": f"edge {e}"},
        )  # fmt: skip
    asset = svc.create_asset(
        connection, external_id="ROUTE-BR", kind="bridge", wkt="LINESTRING(117.0 39.0, 117.01 39.0)",
        built_on=dt.date(1995, 1, 1), name_en="Test river bridge", road_code="X901", stake_m=850.0,
        actor="t",
    )  # fmt: skip
    connection.execute(
        text("INSERT INTO asset_edge (asset_id, edge_id, direction) VALUES (:a, :e, 'both')"),
        {"a": asset["id"], "e": BRIDGE_EDGE},
    )
    return int(asset["id"])


def _route(connection: Connection) -> dict[str, Any]:
    graph = routing.compile_graph(connection, landmarks=2)
    return routing.check_route(graph, TRUCK, ORIGIN, DESTINATION, geometry=False)


def _crosses_bridge(ans: dict[str, Any]) -> bool:
    return any(s.get("external_id") == "ROUTE-BR" for s in ans["structures"])


def test_approved_condition_limit_makes_the_route_detour(
    connection: Connection, bridge: int
) -> None:
    before = _route(connection)
    assert _crosses_bridge(before)
    direct_m = before["route"]["length_m"]
    ins = svc.record_inspection(
        connection,
        bridge,
        inspected_on=dt.date(2024, 5, 1),
        component_scores=PARTS_CLASS4,
        actor="insp",
    )
    (prop,) = ins["proposals"]
    assert prop["value"] == 20_000
    proposed = _route(connection)  # a proposal does not change routing
    assert proposed["route"]["length_m"] == pytest.approx(direct_m)
    svc.decide_limit(connection, bridge, prop["id"], approve=True, actor="eng.wang")
    after = _route(connection)
    assert not _crosses_bridge(after)
    assert after["route"]["length_m"] > direct_m + 1_000
    why = after["direct_route_blocked"]
    assert why is not None and why["detour_m"] > 1_000
    (block,) = why["blocking"]
    text_ = str(block)
    assert "ROUTE-BR" in text_ and "weight" in text_ and "20000" in text_


def test_approved_closure_blocks_the_bridge(connection: Connection, bridge: int) -> None:
    assert _crosses_bridge(_route(connection))
    ins = svc.record_inspection(
        connection,
        bridge,
        inspected_on=dt.date(2024, 5, 1),
        component_scores=PARTS_BAD,
        actor="insp",
    )
    assert ins["proposals"][0]["type"] == "closure"
    assert _crosses_bridge(_route(connection))  # only proposed
    svc.approve_closure(connection, bridge, actor="eng.wang")
    after = _route(connection)
    assert not _crosses_bridge(after)
    assert after["route"]["length_m"] > 1_000 + 860
    # The answer says why: the closed bridge blocks the direct route.
    why = after["direct_route_blocked"]
    assert why is not None and why["detour_m"] > 0
    (block,) = why["blocking"]
    assert block["external_id"] == "ROUTE-BR"
    assert block["violated"][0]["kind"] == "closed"
    # and the structure's state and audit trail record who closed it and on what grounds:
    assert routing.structure_by_id(connection, "ROUTE-BR")["lifecycle_state"] == "closed"
    trail = svc.audit_trail(connection, entity="asset", entity_id=bridge)
    assert (
        trail[-1]["after"]["lifecycle_state"] == "closed"
        and "class 5" in trail[-1]["after"]["reason"]
    )


def test_closing_the_only_crossing_is_no_route(connection: Connection, bridge: int) -> None:
    """With the detour removed too, closing the bridge leaves no legal route."""
    connection.execute(text("DELETE FROM road_edge WHERE id = :e"), {"e": N0 + 5})
    svc.transition_asset(connection, bridge, to_state="closed", actor="eng.wang", reason="test")
    with pytest.raises(NoRoute, match="no legal route") as info:
        _route(connection)
    assert [b["external_id"] for b in info.value.details["blocking"]] == ["ROUTE-BR"]
