"""Synthetic history, forecasts, figures and plans through the services and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from twin.services import assets as svc
from twin.services.asset_history import generate_history

H = {"X-Actor": "planner.liu"}


def _structures(conn: Connection, n: int = 12) -> list[int]:
    ids = []
    for i in range(n):
        kind = "tunnel" if i % 4 == 0 else "bridge"
        a = svc.create_asset(
            conn, external_id=f"PL-{i}", kind=kind, wkt=f"LINESTRING(117.{i:02d} 39.0, 117.{i:02d}1 39.0)",
            built_on=dt.date(1985 + i, 1, 1), actor="t",
        )  # fmt: skip
        ids.append(a["id"])
    return ids


def test_generate_history_is_labelled_idempotent_and_keeps_real_rows(
    connection: Connection,
) -> None:
    ids = _structures(connection, 4)
    svc.record_inspection(connection, ids[1], inspected_on=dt.date(2024, 1, 5),
                          component_scores={"parts": {"main_girders": [90], "piers": [90], "pavement": [90]}},
                          actor="real.inspector")  # fmt: skip
    out = generate_history(connection, seed=1, years=12)
    assert out["assets"] == 4 and out["inspections"] >= 4 * 10
    q = (
        "SELECT count(*) FILTER (WHERE synthetic), count(*) FILTER (WHERE NOT synthetic), "
        "count(*) FILTER (WHERE synthetic AND notes LIKE 'SYNTHETIC%') FROM inspection"
    )
    synth, real, labelled = connection.execute(text(q)).one()
    assert real == 1 and synth == out["inspections"] == labelled
    again = generate_history(connection, seed=1, years=12)
    assert again["removed_synthetic"] == synth and again["inspections"] == synth
    first = connection.execute(
        text("SELECT min(inspected_on) FROM inspection WHERE synthetic")
    ).scalar()
    assert first.year == dt.date.today().year - 12


def test_forecast_and_plan_api(client: TestClient) -> None:
    conn = client.app.state.connection  # type: ignore[attr-defined]
    ids = _structures(conn)
    generate_history(conn, seed=3, years=12)
    r = client.get("/forecasts/bridge", params={"years": 20})
    assert r.status_code == 200, r.text
    f = r.json()
    # shares are rounded to 5 decimals: 5 of them sum to 1 within 2.5e-5
    assert len(f["shares"]) == 21 and abs(sum(f["shares"][20]) - 1) <= 2.5e-5
    assert f["model"]["n_pairs"] > 50 and "bridge" in f["groups"]
    assert client.get("/forecasts/bridge/figure.png").content[:4] == b"\x89PNG"
    r = client.get(f"/assets/{ids[1]}/forecast", params={"years": 10})
    assert r.status_code == 200 and len(r.json()["expected_class"]) == 11
    assert client.get(f"/assets/{ids[1]}/forecast.png").headers["content-type"] == "image/png"
    assert client.get("/forecasts/bridge", params={"years": 31}).status_code == 422
    r = client.post("/plans", json={"name": "test plan", "budgets_cny": [3e6, 3e6, 3e6], "mip_rel_gap": 0,
                                    "time_limit_s": 20}, headers=H)  # fmt: skip
    assert r.status_code == 201, r.text
    plan = r.json()
    res = plan["result"]
    assert res["assets"] == 12
    assert res["milp"]["objective"] >= res["worst_first"]["objective"] - 1e-6
    assert all(s <= 3e6 + 1e-6 for s in res["milp"]["spend_by_year_cny"])
    r = client.post(f"/plans/{plan['id']}/work-orders", json={"year_index": 0}, headers=H)
    assert r.status_code == 201
    year0 = [a for a in res["milp"]["actions"] if a["year_index"] == 0]
    assert len(r.json()) == len(year0)
    assert all(w["plan_id"] == plan["id"] and w["status"] == "open" for w in r.json())
    assert (
        client.post(f"/plans/{plan['id']}/work-orders", json={"year_index": 0}, headers=H).json()
        == []
    )
    assert (
        client.post("/plans", json={"name": "x", "budgets_cny": [-5]}, headers=H).status_code == 422
    )
    assert (
        client.post(
            "/plans", json={"name": "x", "budgets_cny": [1e6], "kinds": ["rsu"]}
        ).status_code
        == 422
    )
    assert client.get("/plans/999999").status_code == 404
    assert client.get("/assets/999999/forecast").status_code == 404


def test_forecasts_per_traffic_band_with_pooling(client: TestClient) -> None:
    """12 bridges with heavy traffic, one with light traffic and one without data (it gets
    SYNTHETIC traffic of a tertiary road: light): the heavy band has its own model, the
    light band too few pairs, so it is pooled to the bridge model and says so."""
    conn = client.app.state.connection  # type: ignore[attr-defined]
    heavy = {"aadt": 60_000, "heavy_vehicle_share": 0.35}
    ids = []
    for i, attrs in enumerate([heavy] * 12 + [{"aadt": 4_000, "heavy_vehicle_share": 0.05}, {}]):
        a = svc.create_asset(
            conn, external_id=f"TB-{i}", kind="bridge", attributes=attrs,
            wkt=f"LINESTRING(117.{i:02d} 39.1, 117.{i:02d}1 39.1)",
            built_on=dt.date(1990 + i, 1, 1), actor="t",
        )  # fmt: skip
        ids.append(a["id"])
    out = generate_history(conn, seed=4, years=12)
    assert out["synthetic_traffic"]["structures"] == 1
    assert out["synthetic_traffic"]["kept_real_traffic"] == 13
    attrs, source = conn.execute(
        text("SELECT attributes, source FROM asset WHERE id = :i"), {"i": ids[-1]}
    ).one()
    assert attrs["traffic_synthetic"] is True and attrs["aadt"] > 0
    assert source["traffic"]["synthetic"] is True and "SYNTHETIC" in source["traffic"]["note"]
    real = conn.execute(text("SELECT attributes FROM asset WHERE id = :i"), {"i": ids[0]}).scalar()
    assert real["aadt"] == 60_000 and "traffic_synthetic" not in real

    r = client.get("/forecasts/bridge", params={"years": 10})
    assert r.status_code == 200, r.text
    bands = {b["band"]: b for b in r.json()["traffic_bands"]}
    assert set(bands) == {"traffic heavy", "traffic light"}
    assert bands["traffic heavy"]["assets"] == 12 and not bands["traffic heavy"]["pooled"]
    assert bands["traffic heavy"]["model_group"] == "bridge|traffic heavy"
    assert bands["traffic light"]["pooled"] and bands["traffic light"]["model_group"] == "bridge"
    assert bands["traffic light"]["band_pairs"] < 30
    assert all(len(b["shares"]) == 11 for b in bands.values())
    worse = bands["traffic heavy"]["class_4_or_5"]
    assert all(
        lo <= m <= hi
        for lo, m, hi in zip(worse["lower"], worse["mean"], worse["upper"], strict=True)
    )
    r = client.get("/forecasts/bridge", params={"years": 10, "band": "heavy"})
    assert r.status_code == 200 and r.json()["model"]["group"] == "bridge|traffic heavy"
    assert r.json()["assets"] == 12
    r = client.get("/forecasts/bridge", params={"band": "medium"})
    assert r.status_code == 404 and "heavy" in r.json()["message"]
    r = client.get("/forecasts/bridge", params={"band": "jammed"})
    assert r.status_code == 422 and "light" in r.json()["message"]
    png = client.get("/forecasts/bridge/figure.png", params={"band": "light"})
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    one = client.get(f"/assets/{ids[0]}/forecast", params={"years": 5}).json()
    assert one["group"] == "bridge|traffic heavy" and one["traffic_band"] == "traffic heavy"


@pytest.mark.slow
def test_sample_plan_is_proven_optimal(sample_connection: Connection) -> None:
    """The sample's bridges and tunnels (OSM structures, the bridges register, SYNTHETIC
    traffic and history) over 10 years at 40 M CNY a year: the milp plan is proven within
    HiGHS's default tolerance (1e-4 of the plan objective) and beats worst-first."""
    from twin.services import plans

    out = plans.run_plan(
        sample_connection, name="sample 10 years", budgets_cny=[4e7] * 10, time_limit_s=300,
        mip_rel_gap=1e-4, actor="test",
    )  # fmt: skip
    res = out["result"]
    milp, wf = res["milp"], res["worst_first"]
    assert res["assets"] >= 120
    assert milp["status"] == "optimal", milp
    assert milp["gap"] <= 1e-4 and milp["solver"]["asset_types"] < res["assets"]
    assert milp["objective"] > wf["objective"] > res["do_nothing_objective"]
    assert all(s <= 4e7 + 1e-6 for s in milp["spend_by_year_cny"])
