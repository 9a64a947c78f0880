"""Planner scenarios on the bundled Tianjin sample: service and API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import sessionmaker

from road_network.scenario import LimitChange
from road_network.vehicle import PRESETS
from twin.errors import InputError, NotFound
from twin.services import scenarios as svc
from twin.settings import Settings

TRUCK = PRESETS["container40hc"]


@pytest.fixture()
def sample_client(sample_settings: Settings, sample_connection: Connection) -> Iterator[TestClient]:
    from twin.api import create_app

    app = create_app(sample_settings)
    app.state.session_factory = sessionmaker(
        bind=sample_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_default_trips_are_port_flows(sample_connection: Connection) -> None:
    trips = svc.default_trips(sample_connection)
    assert trips, "the sample has port gates and motorways"
    assert all(t.kind == "port_flow" for t in trips)
    names = " ".join(t.name for t in trips)
    assert "→" in names


def _busiest_structure(conn: Connection, settings: Settings) -> str:
    """The bridge the baseline port flows of the 49 t truck cross most."""
    base = svc.run_scenario(
        conn, settings, svc.ScenarioRequest("baseline", TRUCK, save=False, villages=False)
    )
    assert base["summary"]["trips"] > 0
    from twin.services import routing

    g = routing.get_graph(settings, conn)
    counts: dict[str, int] = {}
    for t in svc.default_trips(conn):
        res = routing.check_route(g, TRUCK, t.origin, t.destination, geometry=False)
        for s in res["structures"]:
            if s.get("kind") == "bridge":
                counts[s["external_id"]] = counts.get(s["external_id"], 0) + 1
    assert counts, "port flows cross bridges in the sample"
    return max(counts, key=lambda k: counts[k])


def test_closing_a_bridge_on_port_flows_detours_them(
    sample_connection: Connection, sample_settings: Settings
) -> None:
    bridge = _busiest_structure(sample_connection, sample_settings)
    res = svc.run_scenario(
        sample_connection,
        sample_settings,
        svc.ScenarioRequest(f"close {bridge}", TRUCK, close_assets=[bridge], villages=False),
    )
    s = res["summary"]
    assert s["trips_detoured"] + s["trips_cut_off"] >= 1
    detoured = [t for t in res["trips"] if t["status"] == "detour"]
    assert all(t["detour_s"] > 0 for t in detoured)
    saved = svc.get_scenario(sample_connection, res["id"])
    assert saved["kind"] == "closure"
    assert saved["result"]["summary"] == s


def test_lower_limit_on_a_bridge_only_affects_heavy_trucks(
    sample_connection: Connection, sample_settings: Settings
) -> None:
    bridge = _busiest_structure(sample_connection, sample_settings)
    change = [LimitChange(bridge, "weight", 10_000)]
    truck = svc.run_scenario(
        sample_connection,
        sample_settings,
        svc.ScenarioRequest("post 10 t", TRUCK, limit_changes=change, villages=False, save=False),
    )
    light = PRESETS["gb1589"].__class__(
        height_cm=200,
        width_cm=200,
        length_cm=600,
        gross_weight_kg=3_500,
        axle_load_kg=2_000,
        axle_count=2,
        name="van",
    )
    van = svc.run_scenario(
        sample_connection,
        sample_settings,
        svc.ScenarioRequest("post 10 t", light, limit_changes=change, villages=False, save=False),
    )
    assert truck["summary"]["trips_detoured"] + truck["summary"]["trips_cut_off"] >= 1
    assert van["summary"]["trips_detoured"] == 0 and van["summary"]["trips_cut_off"] == 0


def test_closing_a_villages_roads_cuts_it_off(
    sample_connection: Connection, sample_settings: Settings
) -> None:
    village = svc.villages(sample_connection)[0]
    edges = (
        sample_connection.execute(
            text(
                "SELECT e.id FROM road_edge e WHERE ST_DWithin(e.geom::geography, "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 1500)"
            ),
            {"x": village.lon, "y": village.lat},
        )
        .scalars()
        .all()
    )
    assert edges
    res = svc.run_scenario(
        sample_connection,
        sample_settings,
        svc.ScenarioRequest("ring closure", TRUCK, close_edges=list(edges), trips=[], save=False),
    )
    row = next(v for v in res["villages"] if v["code"] == village.code)
    assert row["car_reachable_before"] and not row["car_reachable_after"]
    assert res["summary"]["villages_cut_off_car"] >= 1


def test_flood_raster_closes_deep_edges(
    sample_connection: Connection, sample_settings: Settings
) -> None:
    rid = sample_connection.execute(
        text("SELECT id FROM raster_layer WHERE kind = 'water_depth' LIMIT 1")
    ).scalar_one()
    res = svc.run_scenario(
        sample_connection,
        sample_settings,
        svc.ScenarioRequest(
            "flood", TRUCK, flood_raster_id=rid, max_wading_depth_m=0.3, save=False
        ),
    )
    assert res["summary"]["flooded_edges"] > 0
    deeper = svc.run_scenario(
        sample_connection,
        sample_settings,
        svc.ScenarioRequest(
            "flood", TRUCK, flood_raster_id=rid, max_wading_depth_m=5.0, trips=[], save=False
        ),
    )
    assert deeper["summary"]["flooded_edges"] < res["summary"]["flooded_edges"]


def test_bad_references_are_clear_errors(
    sample_connection: Connection, sample_settings: Settings
) -> None:
    dem = sample_connection.execute(
        text("SELECT id FROM raster_layer WHERE kind = 'dem' LIMIT 1")
    ).scalar_one()
    with pytest.raises(InputError, match="water_depth"):
        svc.run_scenario(
            sample_connection,
            sample_settings,
            svc.ScenarioRequest("x", TRUCK, flood_raster_id=dem, save=False),
        )
    with pytest.raises(NotFound, match="raster 999999"):
        svc.run_scenario(
            sample_connection,
            sample_settings,
            svc.ScenarioRequest("x", TRUCK, flood_raster_id=999999, save=False),
        )
    with pytest.raises(InputError, match="close_edges"):
        svc.run_scenario(
            sample_connection,
            sample_settings,
            svc.ScenarioRequest("x", TRUCK, close_edges=[-7], save=False),
        )


def test_api_runs_lists_and_gets(sample_client: TestClient) -> None:
    r = sample_client.post(
        "/scenarios", json={"name": "api closure", "close_edges": [], "villages": False}
    )
    assert r.status_code == 200, r.text
    sid = r.json()["id"]
    assert any(s["id"] == sid for s in sample_client.get("/scenarios").json())
    got = sample_client.get(f"/scenarios/{sid}")
    assert got.status_code == 200 and got.json()["name"] == "api closure"
    assert sample_client.get("/scenarios/999999").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "close_assets": ["no-such-asset"]}, "structure"),
        (
            {"name": "x", "limit_changes": [{"asset": 1, "kind": "colour", "value": 3}]},
            "limit_changes.0.kind",
        ),
        ({"name": "x", "vehicle": {"height_m": -1}}, "vehicle.height_m"),
        ({"name": "", "villages": False}, "name"),
        ({"name": "x", "max_wading_depth_m": 99}, "max_wading_depth_m"),
    ],
)
def test_api_bad_input_is_422_naming_the_field(
    sample_client: TestClient, body: dict, field: str
) -> None:
    r = sample_client.post("/scenarios", json=body)
    assert r.status_code == 422, r.text
    assert field in r.text
