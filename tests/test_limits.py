"""Structure limit lookups on the sample: every way of asking finds the same structure with
the same limits, ranges are respected, and bad questions get clear 4xx errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text

from road_network.vehicle import PRESETS
from twin.errors import InputError, NotFound
from twin.services import limits


def _a_limited_structure(conn: Connection) -> dict[str, Any]:
    row = conn.execute(
        text(
            "SELECT a.id, a.external_id, a.road_code, a.stake_m, ST_X(ST_PointOnSurface(a.geom)) "
            "AS lon, ST_Y(ST_PointOnSurface(a.geom)) AS lat, count(l.id) AS n FROM asset a "
            "JOIN structure_limit l ON l.asset_id = a.id WHERE a.stake_m IS NOT NULL "
            "GROUP BY a.id ORDER BY count(l.id) DESC, a.id LIMIT 1"
        )
    ).one()
    return dict(row._mapping)


def test_every_lookup_finds_the_structure_with_its_limits(sample_connection: Connection) -> None:
    conn = sample_connection
    s = _a_limited_structure(conn)
    one = limits.structure_by_id(conn, s["id"])
    assert one["external_id"] == s["external_id"]
    assert len(one["limits"]) == s["n"]
    assert all(lim["unit"] in ("cm", "kg", None) for lim in one["limits"])
    assert one["edges"], "a limited structure governs edges"
    assert limits.structure_by_id(conn, s["external_id"])["id"] == s["id"]
    box = limits.limits_in_bbox(
        conn, (s["lon"] - 0.001, s["lat"] - 0.001, s["lon"] + 0.001, s["lat"] + 0.001)
    )
    near = limits.limits_near(conn, s["lon"], s["lat"], radius_m=50)
    road = limits.limits_on_road(
        conn, s["road_code"], stake_from_m=s["stake_m"] - 1, stake_to_m=s["stake_m"] + 1
    )
    for found in (box, near, road):
        (match,) = [r for r in found if r["id"] == s["id"]]
        assert match["limits"] == one["limits"]
    assert near[0]["id"] == s["id"], "nearest first"


def test_road_ranges_are_respected_and_ordered(sample_connection: Connection) -> None:
    conn = sample_connection
    rows = limits.limits_on_road(conn, "G2", stake_from_m=100_000, stake_to_m=140_000)
    assert rows, "the sample's G2 carries limited structures between K100 and K140"
    stakes = [r["stake_m"] for r in rows]
    assert stakes == sorted(stakes)
    assert all(100_000 <= st <= 140_000 for st in stakes)
    everything = limits.limits_on_road(conn, "G2")
    assert len(everything) > len(rows)
    assert {r["id"] for r in rows} <= {r["id"] for r in everything}


def test_blocking_on_road_names_the_violated_limit(sample_connection: Connection) -> None:
    conn = sample_connection
    truck = PRESETS["artic49t"]
    blocking = limits.blocking_on_road(conn, "G2", truck)
    assert blocking, "the 49 t truck is stopped on G2 in the sample"
    for b in blocking:
        for v in b["violated"]:
            if v["kind"] != "closed":
                assert v["limit"] < v["vehicle"]
                assert v["unit"] in ("cm", "kg")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: limits.limits_in_bbox(c, (118.0, 39.0, 117.0, 40.0)), "min must be below"),
        (lambda c: limits.limits_in_bbox(c, (117.0, 39.0, 200.0, 40.0)), "bbox max lon=200"),
        (lambda c: limits.limits_near(c, 117.2, 39.1, radius_m=0), "radius_m=0"),
        (lambda c: limits.limits_near(c, 117.2, float("nan"), radius_m=10), "lat=nan"),
        (lambda c: limits.limits_on_road(c, "G2", stake_from_m=5, stake_to_m=1), "must not exceed"),
        (lambda c: limits.limits_on_road(c, "", stake_from_m=5), "road_code"),
        (lambda c: limits.limits_on_road(c, "G2", stake_from_m=float("inf")), "stake_from_m=inf"),
        (lambda c: limits.limits_in_bbox(c, (117.0, 39.0, 118.0, 40.0), limit=0), "limit=0"),
    ],
)
def test_bad_questions_are_input_errors(
    sample_connection: Connection, call: Any, message: str
) -> None:
    with pytest.raises(InputError) as err:
        call(sample_connection)
    assert message in str(err.value)


def test_unknown_structures_are_not_found(sample_connection: Connection) -> None:
    for ident in ("no-such-structure", 99_999_999_999, "99999999999"):
        with pytest.raises(NotFound):
            limits.structure_by_id(sample_connection, ident)
