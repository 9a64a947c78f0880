"""``/roads``: stake <-> position over HTTP, on a road with a long chain break."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shapely import LineString
from sqlalchemy import Connection, text

ROAD = LineString([(117.70, 39.0), (117.74, 39.0)])


@pytest.fixture()
def road(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO road (code, name_zh, name_en, road_class, geom, stake_start_m, "
            "chain_breaks, source) VALUES ('TA1', '测试路', 'Test Road', 'trunk', "
            "ST_Multi(ST_GeomFromText(:g, 4326)), 1000, CAST(:b AS jsonb), '{}')"
        ),
        {"g": ROAD.wkt, "b": json.dumps([{"back": "K2+000", "ahead": "K1+950"}])},
    )


def test_locate_and_reverse(client: Any, road: None) -> None:
    listed = client.get("/roads", params={"prefix": "TA"}).json()
    assert [r["code"] for r in listed["items"]] == ["TA1"]
    at = client.get("/roads/TA1/locate", params={"stake": "K1+500"}).json()
    assert at["lat"] == pytest.approx(39.0, abs=1e-6) and 117.70 < at["lon"] < 117.71
    assert at["ambiguous"] is False
    back = client.get("/roads/TA1/stake", params={"lon": at["lon"], "lat": at["lat"]}).json()
    assert back["stake_m"] == pytest.approx(1500, abs=0.01) and back["stake"] == "K1+500.0"
    # an unencoded '+' arrives as a space and still reads as the stake
    raw = client.get("/roads/TA1/locate?stake=K1+500").json()
    assert raw["stake_m"] == 1500.0
    # K1+960 is inside the long chain break: two places, 100 m apart (the 50 m overlap twice)
    first = client.get("/roads/TA1/locate", params={"stake": "K1+960"}).json()
    last = client.get("/roads/TA1/locate", params={"stake": "K1+960", "occurrence": "last"}).json()
    assert first["ambiguous"] and last["lon"] > first["lon"]


def test_errors(client: Any, road: None) -> None:
    r = client.get("/roads/TA1/locate", params={"stake": "K9+000"})
    assert r.status_code == 422 and "beyond road TA1" in r.json()["message"]
    r = client.get("/roads/TA1/locate", params={"stake": "K1+2"})
    assert r.status_code == 422 and "K<km>+<metres>" in r.json()["message"]
    assert client.get("/roads/NOPE/locate", params={"stake": "K1+000"}).status_code == 404
    assert client.get("/roads/TA1/stake", params={"lon": 500, "lat": 39}).status_code == 422
