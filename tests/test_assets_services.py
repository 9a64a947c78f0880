"""Inventory, lifecycle, inspections, limits and work orders against the real database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Connection, text

from twin.errors import Conflict, InputError, NotFound
from twin.services import assets as svc
from twin.services import work_orders as wo

PARTS_OK = {
    "parts": {
        "main_girders": [100, 100, 95],
        "bearings": [100, 100],
        "piers": [100, 95],
        "abutments": [100, 100],
        "foundations": [100],
        "pavement": [90],
        "expansion_joints": [85],
    }
}
#: Piers at MCI 30 (main part < 60 -> PCCI 30, class 5 part) flagged as affecting safety.
PARTS_BAD = {
    "parts": {**PARTS_OK["parts"], "piers": [100, 30]},
    "safety_affecting_parts": ["piers"],
}
#: Piers at MCI 50 -> class 4 part, affecting safety -> class 4 bridge.
PARTS_CLASS4 = {
    "parts": {**PARTS_OK["parts"], "piers": [100, 50]},
    "safety_affecting_parts": ["piers"],
}


def _bridge(conn: Connection, ext: str = "BR-T1", **kw: object) -> dict:
    return svc.create_asset(
        conn,
        external_id=ext,
        kind="bridge",
        lon=117.2,
        lat=39.1,
        built_on=kw.pop("built_on", dt.date(2005, 6, 1)),  # type: ignore[arg-type]
        actor="tester",
        **kw,  # type: ignore[arg-type]
    )


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_create_and_transition_are_audited(connection: Connection) -> None:
    a = _bridge(connection)
    assert a["lifecycle_state"] == "in_service"
    assert "restricted" in a["next_states"]
    b = svc.transition_asset(connection, a["id"], to_state="under_maintenance", actor="eng.li")
    assert b["lifecycle_state"] == "under_maintenance"
    trail = svc.audit_trail(connection, entity="asset", entity_id=a["id"])
    assert [t["action"] for t in trail] == ["create", "transition"]
    assert trail[1]["actor"] == "eng.li"
    assert trail[1]["before"] == {"lifecycle_state": "in_service"}
    assert trail[1]["after"]["lifecycle_state"] == "under_maintenance"


def test_illegal_transition_is_conflict_and_writes_nothing(connection: Connection) -> None:
    a = _bridge(connection)
    svc.transition_asset(connection, a["id"], to_state="decommissioned", actor="t")
    n = _count(connection, "audit_log")
    with pytest.raises(Conflict, match="decommissioned"):
        svc.transition_asset(connection, a["id"], to_state="in_service", actor="t")
    assert _count(connection, "audit_log") == n
    assert svc.get_asset(connection, a["id"])["lifecycle_state"] == "decommissioned"
    with pytest.raises(InputError, match="to_state"):
        svc.transition_asset(connection, a["id"], to_state="melted", actor="t")


def test_unknown_asset_ids(connection: Connection) -> None:
    with pytest.raises(NotFound, match="asset"):
        svc.get_asset(connection, 987654)
    with pytest.raises(NotFound, match="asset_id"):
        svc.record_inspection(
            connection,
            987654,
            inspected_on=dt.date(2020, 1, 1),
            component_scores=PARTS_OK,
            actor="t",
        )
    with pytest.raises(NotFound):
        wo.create_work_order(connection, asset_id=987654, actor="t")


def test_inspection_grades_bridge_and_lists(connection: Connection) -> None:
    a = _bridge(connection)
    ins = svc.record_inspection(
        connection, a["id"], inspected_on=dt.date(2020, 5, 1), component_scores=PARTS_OK, actor="t"
    )
    assert ins["condition_class"] in (1, 2)
    assert 80 <= ins["overall_score"] <= 100
    assert ins["component_scores"]["assessment"]["dr"] == pytest.approx(
        ins["overall_score"], abs=0.01
    )
    assert ins["proposals"] == []
    assert [i["id"] for i in svc.list_inspections(connection, a["id"])] == [ins["id"]]
    assert svc.get_asset(connection, a["id"])["latest_inspection"]["id"] == ins["id"]


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        (
            {"parts": {**PARTS_OK["parts"], "piers": [100, 130]}},
            "component_scores.parts.piers[1].mci",
        ),
        (
            {
                "parts": {
                    **PARTS_OK["parts"],
                    "piers": [{"defects": [{"scale": 7, "max_scale": 4}]}],
                }
            },
            "component_scores.parts.piers[0].defects[0].scale",
        ),
        ({"parts": {"towers": [100]}}, "component_scores.parts"),
    ],
)
def test_scores_out_of_range_name_the_field(
    connection: Connection, scores: dict, field: str
) -> None:
    a = _bridge(connection)
    n = _count(connection, "inspection")
    with pytest.raises(InputError) as info:
        svc.record_inspection(
            connection,
            a["id"],
            inspected_on=dt.date(2020, 1, 1),
            component_scores=scores,
            actor="t",
        )
    assert info.value.details["field"] == field
    assert field in info.value.message
    assert _count(connection, "inspection") == n


def test_inspection_before_construction_rejected(connection: Connection) -> None:
    a = _bridge(connection, built_on=dt.date(2010, 1, 1))
    with pytest.raises(InputError, match="inspected_on = 2009-12-31 is before"):
        svc.record_inspection(
            connection,
            a["id"],
            inspected_on=dt.date(2009, 12, 31),
            component_scores=PARTS_OK,
            actor="t",
        )
    assert svc.list_inspections(connection, a["id"]) == []


def test_class4_proposes_weight_limit_then_approval_restricts(connection: Connection) -> None:
    a = _bridge(connection)
    ins = svc.record_inspection(
        connection,
        a["id"],
        inspected_on=dt.date(2021, 3, 1),
        component_scores=PARTS_CLASS4,
        actor="insp",
    )
    assert ins["condition_class"] == 4
    (prop,) = ins["proposals"]
    assert (
        prop["type"] == "limit"
        and prop["status"] == "proposed"
        and prop["source_kind"] == "condition"
    )
    assert prop["kind"] == "weight" and prop["value"] == 20_000
    # nothing reaches routing yet: no approved limit
    assert svc.list_limits(connection, a["id"], status="approved") == []
    out = svc.decide_limit(
        connection, a["id"], prop["id"], approve=True, actor="eng.wang", value=15_000
    )
    assert out["status"] == "approved" and out["value"] == 15_000
    assert svc.get_asset(connection, a["id"])["lifecycle_state"] == "restricted"
    with pytest.raises(Conflict, match="only 'proposed'"):
        svc.decide_limit(connection, a["id"], prop["id"], approve=False, actor="eng.wang")
    actions = [
        r["action"]
        for r in svc.audit_trail(connection, entity="structure_limit", entity_id=prop["id"])
    ]
    assert actions == ["propose_limit", "approve_limit"]


def test_class5_proposes_closure_then_approval_closes(connection: Connection) -> None:
    a = _bridge(connection)
    ins = svc.record_inspection(
        connection,
        a["id"],
        inspected_on=dt.date(2021, 3, 1),
        component_scores=PARTS_BAD,
        actor="insp",
    )
    assert ins["condition_class"] == 5
    assert ins["proposals"][0]["type"] == "closure"
    assert svc.get_asset(connection, a["id"])["lifecycle_state"] == "in_service"  # only proposed
    closed = svc.approve_closure(connection, a["id"], actor="eng.wang")
    assert closed["lifecycle_state"] == "closed"
    assert "proposed_transition" not in closed["attributes"]
    with pytest.raises(Conflict, match="no proposed closure"):
        svc.approve_closure(connection, a["id"], actor="eng.wang")


def test_tunnel_and_generic_inspections(connection: Connection) -> None:
    t = svc.create_asset(
        connection, external_id="TN-1", kind="tunnel", lon=117.3, lat=39.0, actor="t"
    )
    ins = svc.record_inspection(
        connection,
        t["id"],
        inspected_on=dt.date(2022, 1, 1),
        component_scores={"items": {"lining": 1, "portal": 0, "pavement": 1}},
        actor="t",
    )
    # 100 (1 - 1/4 (40 + 15) / (40 + 15 + 15)) = 80.357 -> class 2 (weights of absent items drop)
    assert ins["overall_score"] == pytest.approx(80.357, abs=1e-3)
    assert ins["condition_class"] == 2 and ins["proposals"] == []
    s = svc.create_asset(
        connection, external_id="SG-1", kind="sign", lon=117.3, lat=39.0, actor="t"
    )
    ins = svc.record_inspection(
        connection,
        s["id"],
        inspected_on=dt.date(2022, 1, 1),
        component_scores={"score": 72},
        actor="t",
    )
    assert ins["condition_class"] == 3
    with pytest.raises(InputError, match=r"component_scores\.score"):
        svc.record_inspection(
            connection,
            s["id"],
            inspected_on=dt.date(2022, 1, 1),
            component_scores={"score": -1},
            actor="t",
        )


def test_create_asset_bad_input(connection: Connection) -> None:
    with pytest.raises(InputError, match="lifecycle_state"):
        svc.create_asset(
            connection,
            external_id="X",
            kind="camera",
            lon=1,
            lat=1,
            lifecycle_state="restricted",
            actor="t",
        )
    with pytest.raises(InputError, match="lat = 95"):
        svc.create_asset(connection, external_id="X", kind="camera", lon=1, lat=95, actor="t")
    with pytest.raises(InputError, match="kind"):
        svc.create_asset(connection, external_id="X", kind="ufo", lon=1, lat=1, actor="t")
    _bridge(connection, "DUP")
    with pytest.raises(Conflict, match="DUP"):
        _bridge(connection, "DUP")


def test_work_order_lifecycle(connection: Connection) -> None:
    a = _bridge(connection)
    ins = svc.record_inspection(
        connection,
        a["id"],
        inspected_on=dt.date(2021, 3, 1),
        component_scores=PARTS_CLASS4,
        actor="t",
    )
    w = wo.create_work_order(
        connection, asset_id=a["id"], inspection_id=ins["id"], estimated_cost_cny=120000, actor="t"
    )
    assert w["kind"] == "rehabilitation" and w["status"] == "open"
    with pytest.raises(Conflict, match="cannot move from 'open' to 'closed'"):
        wo.transition_work_order(connection, w["id"], to_status="closed", cost_cny=1, actor="t")
    with pytest.raises(InputError, match="assignee"):
        wo.transition_work_order(connection, w["id"], to_status="assigned", actor="t")
    wo.transition_work_order(
        connection, w["id"], to_status="assigned", assignee="crew 3", actor="t"
    )
    wo.transition_work_order(connection, w["id"], to_status="in_progress", actor="t")
    with pytest.raises(InputError, match="cost_cny"):
        wo.transition_work_order(connection, w["id"], to_status="closed", actor="t")
    with pytest.raises(InputError, match="cost_cny = -5"):
        wo.transition_work_order(connection, w["id"], to_status="closed", cost_cny=-5, actor="t")
    done = wo.transition_work_order(
        connection, w["id"], to_status="closed", cost_cny=131500.5, actor="t"
    )
    assert done["status"] == "closed" and done["cost_cny"] == pytest.approx(131500.5)
    trail = svc.audit_trail(connection, entity="work_order", entity_id=w["id"])
    assert [t["action"] for t in trail] == [
        "create",
        "status:assigned",
        "status:in_progress",
        "status:closed",
    ]
    assert wo.list_work_orders(connection, asset_id=a["id"], status="closed")[0]["id"] == w["id"]
