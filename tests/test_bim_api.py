"""The /bim API and the ``twin load ifc`` command."""

from __future__ import annotations

import json
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from twin.services import bim
from twin.settings import PROJECT_ROOT, Settings

SAMPLE_BRIDGE = PROJECT_ROOT / "data" / "sample" / "bim" / "yingkou_road_bridge.ifc"


def _asset(conn: Connection) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO asset (external_id, kind, geom, lifecycle_state, attributes, source) "
                "VALUES ('TEST-BIM-API', 'bridge', ST_GeomFromText('LINESTRING(117.1954389 "
                "39.1471714, 117.1954158 39.147982)', 4326), 'in_service', '{}', '{}') "
                "RETURNING id"
            )
        ).scalar_one()
    )


def test_models_glb_elements_and_asset_models(
    client: TestClient, connection: Connection, settings: Settings
) -> None:
    aid = _asset(connection)
    rep = bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, asset_id=aid, threads=1)
    mid = rep["model_id"]

    r = client.get("/bim/models")
    assert r.status_code == 200 and any(m["id"] == mid for m in r.json())
    r = client.get(f"/bim/models/{mid}")
    assert r.status_code == 200
    body = r.json()
    assert body["footprint"]["type"] == "Polygon" and body["classes"]["IfcBeam"] == 4
    view = body["view"]
    assert view["glb_url"] == f"/bim/models/{mid}.glb"
    assert abs(view["anchor"]["lon"] - 117.1954389) < 1e-5
    assert abs(view["anchor"]["lat"] - 39.1471714) < 1e-5
    # the bridge runs north: local +X about 90 degrees counter-clockwise from east
    assert 85 < view["anchor"]["rotation_deg"] < 95

    r = client.get(f"/bim/models/{mid}.glb")
    assert r.status_code == 200 and r.headers["content-type"] == "model/gltf-binary"
    assert r.content[:4] == b"glTF"

    r = client.get(f"/bim/models/{mid}/elements", params={"ifc_class": "IfcBeam"})
    beams = r.json()
    assert r.status_code == 200 and len(beams) == 4
    assert all(b["container_class"] == "IfcBridgePart" for b in beams)
    gid = beams[0]["global_id"]
    one = client.get(f"/bim/models/{mid}/elements", params={"global_id": gid}).json()
    assert one[0]["name"].startswith("Girder") and "Qto_RoadTwin" in one[0]["quantities"]

    r = client.get(f"/assets/{aid}/bim")
    assert r.status_code == 200 and [m["id"] for m in r.json()] == [mid]
    assert r.json()[0]["view"]["deck"]["orientation"][2] == 90.0


def test_api_errors_are_clear(client: TestClient) -> None:
    r = client.get("/bim/models/987654")
    assert r.status_code == 404 and "987654" in r.json()["message"]
    assert client.get("/bim/models/987654.glb").status_code == 404
    assert client.get("/bim/models/abc").status_code == 422
    assert client.get("/bim/models/1/elements", params={"limit": 0}).status_code == 422
    assert client.get("/assets/987654/bim").status_code == 404


def _twin(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "TWIN_DATABASE_URL": settings.database_url or "",
        "PATH": "/usr/bin:/bin",
        "TWIN_HOME": str(settings.home),
    }
    return subprocess.run(
        [sys.executable, "-m", "twin", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_cli_load_ifc(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ifc"
    bad.write_text("not a model")
    res = _twin(settings, "load", "ifc", str(bad))
    assert res.returncode == 2 and "not an IFC file" in " ".join(res.stderr.split())
    assert "Traceback" not in res.stderr

    # a real import commits: do it on a private copy of the sample (own sha256), clean up
    own = tmp_path / "bridge_cli.ifc"
    own.write_bytes(SAMPLE_BRIDGE.read_bytes() + b"/* cli test */\n")
    res = _twin(settings, "load", "ifc", str(own), "--threads", "1", "--json")
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)  # stdout holds only the JSON (kernel chatter goes to stderr)
    try:
        assert rep["status"] == "imported" and rep["crs"] == "EPSG:4548"
        assert rep["elements"] > rep["shapes"] > 0 and rep["limits_proposed"] == []  # no asset
    finally:
        from twin import db as dbm

        with dbm.get_engine(settings).begin() as conn:
            conn.execute(text("DELETE FROM bim_model WHERE id = :i"), {"i": rep["model_id"]})
            conn.execute(text("DELETE FROM load_run WHERE sha256 = :s"), {"s": rep["sha256"]})


def test_link_and_delete(client: TestClient, connection: Connection, settings: Settings) -> None:
    aid = _asset(connection)
    rep = bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, threads=1)
    mid = rep["model_id"]
    assert rep["limits_proposed"] == []  # no asset yet: nothing proposed
    r = client.post(f"/bim/models/{mid}/link", params={"asset_id": aid})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "linked"
    kinds = sorted(x["kind"] for x in r.json()["limits_proposed"])
    assert kinds == ["axle_load", "height", "weight"]
    # linking again changes nothing; importing the same file with the asset neither
    assert client.post(f"/bim/models/{mid}/link", params={"asset_id": aid}).json()["status"] == (
        "unchanged"
    )
    assert (
        bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, asset_id=aid)["status"]
        == "unchanged"
    )
    n = connection.execute(
        text("SELECT count(*) FROM structure_limit WHERE asset_id = :a AND status = 'proposed'"),
        {"a": aid},
    ).scalar_one()
    assert n == 3
    r = client.delete(f"/bim/models/{mid}")
    assert r.status_code == 200 and r.json()["proposed_limits_deleted"] == 3
    assert client.get(f"/bim/models/{mid}").status_code == 404
    assert client.post("/bim/models/987654/link", params={"asset_id": aid}).status_code == 404


def test_sample_models_link_to_the_overlapped_bridge(
    connection: Connection, settings: Settings
) -> None:
    aid = _asset(connection)
    sdir = SAMPLE_BRIDGE.parent.parent
    out = bim.import_sample_models(connection, settings=settings, sample_dir=sdir)
    assert [o["file"] for o in out] == [SAMPLE_BRIDGE.name]
    assert out[0]["asset_id"] == aid
    again = bim.import_sample_models(connection, settings=settings, sample_dir=sdir)
    assert again[0]["status"] == "unchanged"


def test_element_boxes_cover_the_bridge_line(connection: Connection, settings: Settings) -> None:
    aid = _asset(connection)
    rep = bim.import_ifc(connection, SAMPLE_BRIDGE, settings=settings, asset_id=aid, threads=1)
    boxes = bim.element_boxes(connection, rep["model_id"])
    assert len(boxes) == rep["shapes"]
    deck = next(b for b in boxes if b["name"] == "Deck slab")
    assert deck["height_m"] > 0.2 and deck["base_m"] > 5.0
    ring = "POLYGON((" + ",".join(f"{x} {y}" for x, y in deck["polygon"]) + "))"
    covered = connection.execute(
        text(
            "SELECT ST_Length(ST_Intersection(ST_GeomFromText(:r, 4326), geom)::geography) / "
            "ST_Length(geom::geography) FROM asset WHERE id = :a"
        ),
        {"r": ring, "a": aid},
    ).scalar_one()
    assert covered > 0.95
    gid = deck["global_id"]
    assert bim.element_info(connection, rep["model_id"], gid)["ifc_class"] == "IfcSlab"
