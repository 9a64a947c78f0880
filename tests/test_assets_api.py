"""The assets, inspections, limits and work-order endpoints, in process on the test database."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from sqlalchemy import text
from test_assets_services import PARTS_CLASS4, PARTS_OK

H = {"X-Actor": "eng.zhao"}


def _create(client: TestClient, ext: str = "API-BR-1", built_on: str = "2008-01-01") -> dict:
    r = client.post(
        "/assets",
        json={
            "external_id": ext,
            "kind": "bridge",
            "lon": 117.21,
            "lat": 39.12,
            "built_on": built_on,
            "name_zh": "测试桥",
            "attributes": {"deck_area_m2": 1200},
        },
        headers=H,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _n(client: TestClient, table: str) -> int:
    return int(client.app.state.connection.execute(text(f"SELECT count(*) FROM {table}")).scalar())  # type: ignore[attr-defined]


def test_asset_crud_and_transition(client: TestClient) -> None:
    a = _create(client)
    assert client.get(f"/assets/{a['id']}").json()["name_zh"] == "测试桥"
    r = client.get("/assets", params={"kind": "bridge"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [a["id"]]
    r = client.post(f"/assets/{a['id']}/transition", json={"to_state": "closed"}, headers=H)
    assert r.status_code == 200 and r.json()["lifecycle_state"] == "closed"
    audit = client.get(f"/assets/{a['id']}/audit").json()
    assert audit[-1]["actor"] == "eng.zhao" and audit[-1]["after"]["lifecycle_state"] == "closed"


def test_bad_input_is_4xx_naming_the_field_and_writes_nothing(client: TestClient) -> None:
    a = _create(client)
    before = (_n(client, "inspection"), _n(client, "audit_log"))
    bad_scores = {
        "inspected_on": "2020-01-01",
        "component_scores": {"parts": {**PARTS_OK["parts"], "piers": [101]}},
    }
    r = client.post(f"/assets/{a['id']}/inspections", json=bad_scores, headers=H)
    assert r.status_code == 422 and "component_scores.parts.piers[0].mci" in r.json()["message"]
    early = {"inspected_on": "2007-12-31", "component_scores": PARTS_OK}
    r = client.post(f"/assets/{a['id']}/inspections", json=early, headers=H)
    assert r.status_code == 422 and "inspected_on" in r.json()["message"]
    r = client.post("/assets/999999/inspections", json=early, headers=H)
    assert r.status_code == 404 and "asset_id 999999" in r.json()["message"]
    r = client.post(f"/assets/{a['id']}/transition", json={"to_state": "planned"}, headers=H)
    assert r.status_code == 409 and "'in_service' to 'planned'" in r.json()["message"]
    r = client.post("/assets/999999/transition", json={"to_state": "closed"}, headers=H)
    assert r.status_code == 404
    r = client.post(
        f"/assets/{a['id']}/inspections", json={"inspected_on": "yesterday", "component_scores": {}}
    )
    assert r.status_code == 422 and r.json()["message"].startswith("inspected_on")
    assert (_n(client, "inspection"), _n(client, "audit_log")) == before


def test_inspection_limit_approval_and_work_order_flow(client: TestClient) -> None:
    a = _create(client)
    r = client.post(
        f"/assets/{a['id']}/inspections",
        json={"inspected_on": "2023-04-02", "component_scores": PARTS_CLASS4},
        headers=H,
    )
    assert r.status_code == 201
    ins = r.json()
    assert ins["condition_class"] == 4
    lim = ins["proposals"][0]
    r = client.post(
        f"/assets/{a['id']}/limits/{lim['id']}/approve", json={"value": 18000}, headers=H
    )
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["value"] == 18000
    assert client.get(f"/assets/{a['id']}").json()["lifecycle_state"] == "restricted"
    r = client.post(f"/assets/{a['id']}/limits/{lim['id']}/approve", headers=H)
    assert r.status_code == 409
    r = client.post(
        "/work-orders", json={"asset_id": a["id"], "inspection_id": ins["id"]}, headers=H
    )
    assert r.status_code == 201 and r.json()["kind"] == "rehabilitation"
    wid = r.json()["id"]
    r = client.post(
        f"/work-orders/{wid}/status", json={"status": "closed", "cost_cny": 5}, headers=H
    )
    assert r.status_code == 409
    for body in (
        {"status": "assigned", "assignee": "crew A"},
        {"status": "in_progress"},
        {"status": "closed", "cost_cny": 250000},
    ):
        r = client.post(f"/work-orders/{wid}/status", json=body, headers=H)
        assert r.status_code == 200, r.text
    assert client.get(f"/work-orders/{wid}").json()["cost_cny"] == 250000
    assert client.get("/work-orders", params={"status": "bogus"}).status_code == 422


def test_bulk_import_is_atomic_with_line_numbers(client: TestClient) -> None:
    a = _create(client, "IMP-1", built_on="2010-05-01")
    good = (
        "external_id,inspected_on,condition_class,overall_score,inspector,notes\n"
        f"IMP-1,2012-06-01,1,96.5,li,first\n"
        f"IMP-1,2015-06-01,2,,li,\n"
        f"{a['id']}x,2016-06-01,2,,li,\n"
    ).replace(f"{a['id']}x", "IMP-1")
    bad = (
        "external_id,inspected_on,condition_class,overall_score\n"
        "IMP-1,2012-06-01,1,96\n"
        "IMP-1,2009-06-01,2,\n"          # line 3: before construction
        "NOPE,2013-06-01,2,\n"           # line 4: unknown asset
        "IMP-1,2014-06-01,7,\n"          # line 5: class out of range
        "IMP-1,2014-13-01,2,\n"          # line 6: bad date
    )  # fmt: skip
    n = _n(client, "inspection")
    r = client.post(
        "/inspections/import", files={"file": ("bad.csv", bad.encode(), "text/csv")}, headers=H
    )
    assert r.status_code == 422
    lines = [(d["line"], d["field"]) for d in r.json()["details"]]
    assert lines == [
        (3, "inspected_on"),
        (4, "external_id"),
        (5, "condition_class"),
        (6, "inspected_on"),
    ]
    assert "bad.csv" in r.json()["message"]
    assert _n(client, "inspection") == n
    r = client.post(
        "/inspections/import", files={"file": ("h.csv", good.encode(), "text/csv")}, headers=H
    )
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 3
    got = client.get(f"/assets/{a['id']}/inspections").json()
    assert [g["condition_class"] for g in got] == [1, 2, 2]


def test_exports_csv_and_excel(client: TestClient) -> None:
    a = _create(client)
    client.post(
        f"/assets/{a['id']}/inspections",
        json={"inspected_on": "2023-04-02", "component_scores": PARTS_OK},
        headers=H,
    )
    r = client.get("/assets/export", params={"what": "assets", "format": "csv"})
    assert r.status_code == 200
    body = r.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("id,external_id,kind")
    assert "测试桥" in body
    r = client.get("/assets/export", params={"what": "inspections", "format": "xlsx"})
    assert r.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "asset_id", "external_id")
    assert rows[1][2] == "API-BR-1"
    assert client.get("/assets/export", params={"format": "pdf"}).status_code == 422


def test_wrongly_shaped_scores_are_422_not_500(client: TestClient) -> None:
    a = _create(client)
    t = client.post("/assets", json={"external_id": "PV-1", "kind": "pavement_section", "lon": 117.0, "lat": 39.0},
                    headers=H).json()  # fmt: skip
    cases = [
        (a["id"], {"parts": {"piers": [None], "main_girders": [90], "pavement": [90]}}),
        (a["id"], {"parts": ["piers"]}),
        (a["id"], {"items": {"lining": 2}}),
        (t["id"], {"pqi": ["PCI", 80], "sci": 90, "tci": 90}),
        (t["id"], {"pqi": {"PCI": 80}, "sci": 90, "tci": 90, "bridge_classes": ["x"]}),
        (t["id"], {"pqi": {"PCI": 80}, "sci": "ninety", "tci": 90}),
    ]
    for aid, scores in cases:
        r = client.post(
            f"/assets/{aid}/inspections",
            json={"inspected_on": "2024-01-01", "component_scores": scores},
        )
        assert r.status_code == 422, (scores, r.status_code, r.text)
        assert "component_scores" in r.json()["message"]
    ok = client.post(f"/assets/{t['id']}/inspections", json={"inspected_on": "2024-01-01", "component_scores":
                     {"pqi": {"PCI": 92, "RQI": 90}, "sci": 95, "tci": 90, "bridge_classes": [2]}})  # fmt: skip
    assert ok.status_code == 201 and ok.json()["grade"] in ("excellent", "good")
