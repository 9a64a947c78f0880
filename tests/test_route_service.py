"""Route checks against the real database: compiling from PostGIS, limits from approved
structure_limit rows only, closures, reload on change, snapshot while the database is
down, limit lookups, the API (in process and over a socket) and the CLI."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from loaders.synthetic import generate_network, to_graph_inputs
from road_network import cch
from road_network.graph import build_graph
from road_network.route import check_route as core_check
from road_network.vehicle import PRESETS
from twin.errors import InputError, NotFound
from twin.services import routing
from twin.services.synthetic import load_synthetic
from twin.settings import Settings

EDGES = 2_000
SEED = 11


@pytest.fixture(autouse=True, scope="module")
def _cch_on_first_use() -> Iterator[None]:
    """Customize every mask at its first use, so these tests run the CCH engine (masks
    used once would otherwise take the ALT search)."""
    before = cch.CUSTOMIZE_AFTER
    cch.CUSTOMIZE_AFTER = 1
    yield
    cch.CUSTOMIZE_AFTER = before


@pytest.fixture()
def network(connection: Connection):  # type: ignore[no-untyped-def]
    """The generated network written into the rolled-back test transaction."""
    routing.invalidate()
    net = generate_network(EDGES, seed=SEED)
    res = load_synthetic(connection, edges=EDGES, seed=SEED, network=net)
    return net, res


def _pair(net, i: int, j: int) -> tuple[tuple[float, float], tuple[float, float]]:  # type: ignore[no-untyped-def]
    return (
        (float(net.node_lon[i]) + 0.0002, float(net.node_lat[i]) + 0.0001),
        (float(net.node_lon[j]) - 0.0001, float(net.node_lat[j]) + 0.0002),
    )


def _limited_struct(connection: Connection, res, kind: str = "height") -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(asset id, limit id, edge id) of a structure with a known ``kind`` limit."""
    row = connection.execute(
        text(
            "SELECT a.id, l.id, ae.edge_id FROM asset a JOIN structure_limit l ON l.asset_id = a.id "
            "JOIN asset_edge ae ON ae.asset_id = a.id WHERE l.kind = :k AND l.value IS NOT NULL "
            "AND l.conditional IS NULL AND l.direction = 'both' AND a.id >= :a0 ORDER BY a.id LIMIT 1"
        ),
        {"k": kind, "a0": res.asset_id_start},
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def test_load_synthetic_is_idempotent_and_complete(connection: Connection, network) -> None:  # type: ignore[no-untyped-def]
    net, res = network
    count = lambda t, where="true": connection.execute(  # noqa: E731
        text(f"SELECT count(*) FROM {t} WHERE {where}")
    ).scalar()
    assert count("road_edge", "source->>'dataset' = :d".replace(":d", f"'{res.dataset}'")) == (
        net.n_edges
    )
    assert count("asset", f"source->>'dataset' = '{res.dataset}'") == len(net.structures)
    n_limits = count("structure_limit")
    again = load_synthetic(connection, edges=EDGES, seed=SEED, network=net)
    assert again.edges == net.n_edges
    assert count("road_edge", f"source->>'dataset' = '{res.dataset}'") == net.n_edges
    assert count("structure_limit") == n_limits
    with pytest.raises(InputError, match="edges=10"):
        load_synthetic(connection, edges=10)


def test_compiled_graph_matches_the_pure_build(connection: Connection, network) -> None:  # type: ignore[no-untyped-def]
    net, _res = network
    g_db = routing.compile_graph(connection, landmarks=4)
    g_pure = build_graph(**to_graph_inputs(net), landmarks=4)  # type: ignore[arg-type]
    assert g_db.n_arcs >= g_pure.n_arcs
    truck = PRESETS["container40hc"]
    rng = np.random.default_rng(0)
    for _ in range(10):
        i, j = (int(x) for x in rng.integers(net.n_nodes, size=2))
        o, d = _pair(net, i, j)
        try:
            a = core_check(g_pure, truck, o, d).route.cost
        except ValueError:
            continue
        b = core_check(g_db, truck, o, d).route.cost
        assert a == pytest.approx(b, abs=0.05)  # coordinates are stored to 1e-7 degree


def test_proposed_limits_ignored_closed_assets_block_and_reload(
    connection: Connection, network, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    _net, res = network
    asset_id, _limit_id, edge_id = _limited_struct(connection, res)
    g = routing.get_graph(settings, connection)
    e = int(np.searchsorted(g.edge_ids, edge_id))
    arc = int(g.edge_fwd_arc[e])
    assert g.limits[0, arc] < 10_000
    # a proposed row is ignored, a lower approved one applies
    connection.execute(
        text(
            "INSERT INTO structure_limit (asset_id, kind, value, unlimited, source_kind, status, "
            "direction, source) VALUES (:a, 'height', 150, false, 'inspection', 'proposed', "
            "'both', '{}')"
        ),
        {"a": asset_id},
    )
    routing.invalidate(settings)
    g2 = routing.get_graph(settings, connection)
    assert g2.limits[0, arc] == g.limits[0, arc]
    connection.execute(
        text("UPDATE structure_limit SET status = 'approved' WHERE asset_id = :a AND value = 150"),
        {"a": asset_id},
    )
    routing.invalidate(settings)
    g3 = routing.get_graph(settings, connection)
    assert g3.version != g.version and g3.limits[0, arc] == 150
    # closing the asset blocks the edge for everyone
    connection.execute(
        text("UPDATE asset SET lifecycle_state = 'closed' WHERE id = :a"), {"a": asset_id}
    )
    routing.invalidate(settings)
    g4 = routing.get_graph(settings, connection)
    from road_network.graph import FLAG_CLOSED

    assert g4.arc_flags[arc] & FLAG_CLOSED
    assert (settings.snapshot_dir / routing.SNAPSHOT_NAME).exists()


def test_snapshot_answers_while_the_database_is_down(
    connection: Connection, network, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    net, _ = network
    routing.get_graph(settings, connection)  # compiles and writes the snapshot
    down = settings.model_copy(
        update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    )
    store = routing.graph_store(down)
    store.graph = None  # a fresh process: nothing in memory, only the snapshot on disk
    store.invalidate()
    g = routing.get_graph(down)
    assert store.stale
    o, d = _pair(net, 5, net.n_nodes - 7)
    ans = routing.check_route(g, PRESETS["van"], o, d)
    assert ans["route"]["length_m"] > 0


def test_served_app_warms_its_graph_before_taking_requests(
    connection: Connection, network, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A fresh API process loads the snapshot and customizes every preset's metric at
    start-up (here with the database down), so its first requests do not pay for it."""
    from twin.api import create_app

    net, _ = network
    routing.get_graph(settings, connection)  # compiles and writes the snapshot
    down = settings.model_copy(
        update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    )
    store = routing.graph_store(down)
    store.graph = None  # a fresh process: only the snapshot on disk
    store.invalidate()
    with TestClient(create_app(down), raise_server_exceptions=False) as c:
        g = store.graph
        assert g is not None, "the graph was not loaded at start-up"
        warm = set(cch._lru(g))
        for name, profile in PRESETS.items():
            fp = cch.fingerprint(g, routing.passable_mask(g, profile))
            assert ("time", fp) in warm, f"preset {name} not customized at start-up"
            assert (cch.REACH, fp) in warm, f"preset {name}: no reachability at start-up"
        o, d = _pair(net, 3, net.n_nodes - 9)
        r = c.post(
            "/route/check",
            json={
                "origin": {"lon": o[0], "lat": o[1]},
                "destination": {"lon": d[0], "lat": d[1]},
                "vehicle": {"preset": "van"},
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["route"]["length_m"] > 0


def test_network_revision_moves_on_routing_changes_only(
    connection: Connection, network, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Statement triggers bump the revision on edges, limits, links and routing-relevant
    asset columns, not on an asset's name; a serving store's periodic re-check trusts an
    unchanged revision and recomputes the fingerprint only when it moved."""
    _, res = network
    rev = lambda: routing.network_revision(connection)  # noqa: E731
    r0 = rev()
    assert r0 is not None
    asset_id, limit_id, edge_id = _limited_struct(connection, res)
    connection.execute(text("UPDATE asset SET name_en = 'renamed' WHERE id = :a"), {"a": asset_id})
    assert rev() == r0, "a name change does not concern routing"
    for sql in (
        "UPDATE road_edge SET speed_kmh = speed_kmh + 1 WHERE id = :e",
        "UPDATE structure_limit SET value = value - 1 WHERE id = :l",
        "UPDATE asset SET lifecycle_state = 'closed' WHERE id = :a",
    ):
        before = rev()
        connection.execute(text(sql), {"e": edge_id, "l": limit_id, "a": asset_id})
        assert rev() != before, sql

    store = routing.GraphStore(snapshot=Path("/nonexistent/network.npz"))
    g = store._refresh(connection)  # the first load computes the fingerprint
    calls: list[int] = []
    real = routing.network_version

    def counting(conn: Connection) -> str:
        calls.append(1)
        return real(conn)

    monkeypatch.setattr(routing, "network_version", counting)
    assert store._refresh(connection, cheap=True) is g
    assert calls == [], "unchanged revision: no fingerprint"
    connection.execute(text("UPDATE road_edge SET oneway = oneway WHERE id = :e"), {"e": edge_id})
    assert store._refresh(connection, cheap=True) is g  # same fingerprint: same graph
    assert calls == [1], "moved revision: fingerprint recomputed"
    store._refresh(connection)
    assert calls == [1, 1], "explicit re-checks always recompute"


def test_no_snapshot_and_no_database_is_unavailable(tmp_path: Path) -> None:
    from twin.errors import Unavailable

    s = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none", home=tmp_path)
    with pytest.raises(Unavailable, match="no graph snapshot"):
        routing.get_graph(s)


def test_limit_lookups(connection: Connection, network) -> None:  # type: ignore[no-untyped-def]
    net, res = network
    s = net.structures[0]
    near = routing.limits_near(connection, s.lon, s.lat, radius_m=50)
    assert near and near[0]["external_id"] == s.external_id
    assert near[0]["limits"][0]["unit"] in ("cm", "kg")
    box = routing.limits_in_bbox(
        connection, (s.lon - 0.01, s.lat - 0.01, s.lon + 0.01, s.lat + 0.01)
    )
    assert s.external_id in {b["external_id"] for b in box}
    road = routing.limits_on_road(
        connection, s.road_code, stake_from_m=s.stake_m - 1, stake_to_m=s.stake_m + 1
    )
    assert s.external_id in {r["external_id"] for r in road}
    one = routing.structure_by_id(connection, s.external_id)
    assert one["edges"] and one["edges"][0]["edge_id"] == res.edge_id_start + s.edges[0]
    with pytest.raises(NotFound):
        routing.structure_by_id(connection, "no-such-structure")
    with pytest.raises(InputError, match="bbox"):
        routing.limits_in_bbox(connection, (118, 39, 117, 40))
    low = next(x for x in net.structures if x.limits.get("height") and x.limits["height"] < 400)
    blocking = routing.blocking_on_road(connection, low.road_code, PRESETS["container40hc"])
    assert low.external_id in {b["external_id"] for b in blocking}
    assert all(b["violated"] for b in blocking)


def test_limit_lookup_speed_uses_indexes(connection: Connection, network) -> None:  # type: ignore[no-untyped-def]
    net, _ = network
    s = net.structures[3]
    routing.limits_near(connection, s.lon, s.lat, radius_m=300)
    t0 = time.perf_counter()
    for _ in range(20):
        routing.limits_near(connection, s.lon, s.lat, radius_m=300)
        routing.limits_on_road(connection, s.road_code, stake_from_m=0, stake_to_m=2000)
    assert (time.perf_counter() - t0) / 40 < 0.05  # generous: shared CI machine


# --------------------------------------------------------------------------- API
def _body(o, d, **vehicle) -> dict:  # type: ignore[no-untyped-def]
    return {
        "origin": {"lon": o[0], "lat": o[1]},
        "destination": {"lon": d[0], "lat": d[1]},
        "vehicle": vehicle or {"preset": "container40hc"},
    }


def test_api_route_check(client: TestClient, network) -> None:  # type: ignore[no-untyped-def]
    net, _ = network
    o, d = _pair(net, 10, net.n_nodes - 20)
    r = client.post("/route/check", json=_body(o, d, preset="container40hc", height_m=4.2))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["vehicle"]["height_cm"] == 420
    assert body["route"]["length_m"] > 0 and body["route"]["geometry"]["type"] == "LineString"
    assert body["origin"]["snap_distance_m"] < 100
    b = client.post(
        "/route/check/batch",
        json={
            "pairs": [
                [{"lon": o[0], "lat": o[1]}, {"lon": d[0], "lat": d[1]}],
                [{"lon": o[0], "lat": o[1]}, {"lon": 100.0, "lat": 20.0}],
            ],
            "vehicle": {"preset": "artic49t"},
        },
    )
    assert b.status_code == 200, b.text
    res = b.json()["results"]
    assert res[0]["route"]["length_m"] > 0
    assert res[1]["error"] == "invalid_input" and "from any road" in res[1]["message"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"vehicle": {"height_m": -4}}, "vehicle.height_m"),
        ({"vehicle": {"weight_t": "heavy"}}, "vehicle.weight_t"),
        ({"vehicle": {"preset": "tank"}}, "vehicle.preset"),
        ({"vehicle": {"height_m": 4.2, "furlongs": 3}}, "vehicle.furlongs"),
        ({"origin": {"lon": 517, "lat": 39}}, "origin.lon"),
        ({"options": {"alternatives": 7}}, "options.alternatives"),
        ({"options": {"unknown_limits": "maybe"}}, "options.unknown_limits"),
    ],
)
def test_api_bad_input_is_422_naming_the_field(
    client: TestClient, network, patch: dict, field: str
) -> None:  # type: ignore[no-untyped-def]
    net, _ = network
    body = _body(*_pair(net, 1, 2))
    body.update(patch)
    r = client.post("/route/check", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["message"]


def test_fast_path_answers_like_the_fastapi_endpoint(
    client: TestClient, network, connection: Connection, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """``POST /route/check`` is answered by the lean ASGI path in a running app; the same
    requests through the plain FastAPI endpoint give the same status and JSON, for
    answers, validation errors, invalid JSON, vehicle errors and points off the network."""
    from sqlalchemy.orm import sessionmaker

    from twin.api import create_app
    from twin.api.fastpath import RouteCheckFastPath

    net, _ = network
    plain_app = create_app(settings)
    plain_app.user_middleware = [
        m for m in plain_app.user_middleware if m.cls is not RouteCheckFastPath
    ]
    plain_app.state.session_factory = sessionmaker(bind=connection)
    plain_app.state.connection = connection
    assert any(m.cls is RouteCheckFastPath for m in client.app.user_middleware)  # type: ignore[attr-defined]
    far = (float(net.node_lon.max()) + 0.5, float(net.node_lat.max()) + 0.5)
    bodies = [
        json.dumps(_body(*_pair(net, 10, net.n_nodes - 20), preset="container40hc")),
        json.dumps(_body(*_pair(net, 3, 40), height_m=4.2, weight_t=30)),
        json.dumps(_body(*_pair(net, 1, 2), height_m=-4)),
        json.dumps(_body(*_pair(net, 1, 2), weight_t=10, axle_load_t=20)),
        json.dumps(_body(_pair(net, 1, 2)[0], far)),
        json.dumps({**_body(*_pair(net, 1, 2)), "options": {"geometry": False, "speed": 1}}),
        '{"origin": {"lon": 117.2, "lat": ',
    ]
    statuses = []
    with TestClient(plain_app, raise_server_exceptions=False) as plain:
        for body in bodies:
            headers = {"Content-Type": "application/json"}
            fast = client.post("/route/check", content=body, headers=headers)
            slow = plain.post("/route/check", content=body, headers=headers)
            assert fast.status_code == slow.status_code, (body, fast.text, slow.text)
            assert fast.status_code != 500
            statuses.append(fast.status_code)
            fj, sj = fast.json(), slow.json()
            if fast.status_code == 200:
                assert fj == sj
            else:  # the same error; invalid JSON is located by each parser its own way
                assert fj["error"] == sj["error"]
                if "JSON" not in fj["message"] and "JSON" not in sj["message"]:
                    assert fj == sj, body
    assert statuses[:2] == [200, 200] and set(statuses[2:]) == {422}, statuses


def test_api_axle_over_gross_names_field(client: TestClient, network) -> None:  # type: ignore[no-untyped-def]
    net, _ = network
    r = client.post("/route/check", json=_body(*_pair(net, 1, 2), weight_t=10, axle_load_t=20))
    assert r.status_code == 422
    assert r.json()["details"]["field"] == "vehicle.axle_load_kg"


def test_api_no_route_is_422_with_blocking_structures(
    client: TestClient, connection: Connection, network
) -> None:  # type: ignore[no-untyped-def]
    net, res = network
    # close every edge at a node with a structure: make the destination node unreachable
    asset_id, _, edge_id = _limited_struct(connection, res)
    tgt = connection.execute(
        text("SELECT target_node FROM road_edge WHERE id = :e"), {"e": edge_id}
    ).scalar()
    connection.execute(
        text(
            "INSERT INTO asset_edge (asset_id, edge_id, direction) SELECT :a, id, 'both' "
            "FROM road_edge WHERE (source_node = :n OR target_node = :n) AND id <> :e"
        ),
        {"a": asset_id, "n": tgt, "e": edge_id},
    )
    connection.execute(
        text("UPDATE structure_limit SET value = 200 WHERE asset_id = :a AND kind = 'height'"),
        {"a": asset_id},
    )
    routing.invalidate()
    lon, lat = connection.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM road_node WHERE id = :n"), {"n": tgt}
    ).one()
    o = (float(net.node_lon[0]), float(net.node_lat[0]))
    r = client.post("/route/check", json=_body(o, (lon, lat), preset="container40hc"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "no_route"
    blocking = body["details"]["blocking"]
    assert blocking and blocking[0]["id"] == asset_id
    assert blocking[0]["violated"][0] == {
        "kind": "height",
        "limit": 200,
        "vehicle": 410,
        "unit": "cm",
    }


def test_api_limits_and_structures(client: TestClient, network) -> None:  # type: ignore[no-untyped-def]
    net, _ = network
    s = net.structures[0]
    r = client.get("/limits", params={"lon": s.lon, "lat": s.lat, "radius_m": 50})
    assert r.status_code == 200 and r.json()["structures"][0]["external_id"] == s.external_id
    r = client.get(
        "/limits", params={"bbox": f"{s.lon - 0.01},{s.lat - 0.01},{s.lon + 0.01},{s.lat + 0.01}"}
    )
    assert r.status_code == 200 and r.json()["count"] >= 1
    r = client.get(
        "/limits", params={"road_code": s.road_code, "blocking_preset": "lowbed_oversize"}
    )
    assert r.status_code == 200
    assert client.get(f"/structures/{s.external_id}").json()["external_id"] == s.external_id
    assert client.get("/structures/nope").status_code == 404
    bad = client.get("/limits", params={"bbox": "1,2,3"})
    assert bad.status_code == 422 and "bbox" in bad.json()["message"]
    assert client.get("/limits").status_code == 422
    r = client.get("/limits", params={"road_code": "U001", "blocking_preset": "tank"})
    assert r.status_code == 422 and "preset" in r.json()["message"]


# --------------------------------------------------------------------------- socket + CLI
@pytest.fixture(scope="module")
def private_db(settings: Settings):  # type: ignore[no-untyped-def]
    """A database of its own for tests that must commit (a server or CLI in another
    process cannot see the rolled-back test transaction), so other tests never see the
    committed rows. Skips with an external server (TWIN_DATABASE_URL)."""
    from twin import db as dbm
    from twin.cluster import Cluster

    base = Settings()
    if base.database_url:
        pytest.skip("needs the embedded cluster to create a private database")
    cluster = Cluster(base)
    cluster.ensure_database("roadtwin_route_test")
    url = cluster.url("roadtwin_route_test")
    dbm.migrate(base, url=url)
    s = settings.model_copy(update={"database_url": url})
    engine = dbm.get_engine(s)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE road_edge, road_node, road, asset CASCADE"))
    yield s, engine
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE road_edge, road_node, road, asset CASCADE"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_route_check_over_a_real_socket(private_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A committed small network in a private database, served by uvicorn on 127.0.0.1
    and queried over HTTP."""
    import httpx

    settings, engine = private_db

    net = generate_network(1_000, seed=99)
    with engine.begin() as conn:
        res = load_synthetic(conn, edges=1_000, seed=99, network=net)
    port = _free_port()
    env_home = tmp_path / "home"
    code = (
        "import uvicorn; from twin.api import create_app; from twin.settings import Settings; "
        f"s = Settings(database_url={settings.database_url!r}, home={str(env_home)!r}); "
        f"uvicorn.run(create_app(s), host='127.0.0.1', port={port}, log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        o, d = _pair(net, 3, net.n_nodes - 3)
        r = httpx.post(f"http://127.0.0.1:{port}/route/check", json=_body(o, d), timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["route"]["length_m"] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM asset WHERE source->>'dataset' = :d"), {"d": res.dataset}
            )
            conn.execute(
                text("DELETE FROM road_edge WHERE source->>'dataset' = :d"), {"d": res.dataset}
            )
            conn.execute(
                text("DELETE FROM road_node WHERE attrs->>'dataset' = :d"), {"d": res.dataset}
            )
            conn.execute(text("DELETE FROM road WHERE source->>'dataset' = :d"), {"d": res.dataset})


def test_cli_route_and_limits(private_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The CLI in process (typer's runner) against the private database."""
    from typer.testing import CliRunner

    from twin.cli._app import app
    from twin.settings import get_settings

    settings, engine = private_db
    monkeypatch.setenv("TWIN_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        out = runner.invoke(app, ["load", "synthetic", "--edges", "600", "--seed", "98", "--json"])
        assert out.exit_code == 0, out.output
        net = generate_network(600, seed=98)
        o, d = _pair(net, 2, net.n_nodes - 2)
        frm, to = f"{o[0]},{o[1]}", f"{d[0]},{d[1]}"
        out = runner.invoke(
            app,
            ["route", "--from", frm, "--to", to, "--preset", "container40hc", "--height", "4.2"],
        )
        assert out.exit_code == 0, out.output
        assert "length (m)" in out.output and "420 cm" in out.output
        out = runner.invoke(app, ["route", "--from", frm, "--to", to, "--json"])
        assert out.exit_code == 0 and json.loads(out.output)["route"]["length_m"] > 0
        out = runner.invoke(app, ["route", "--from", "1,2,3", "--to", to])
        assert out.exit_code == 2 and "LON,LAT" in out.output
        out = runner.invoke(app, ["route", "--from", frm, "--to", to, "--height", "-3"])
        assert out.exit_code == 2 and "height_cm" in out.output
        s = net.structures[0]
        out = runner.invoke(app, ["limits", "near", f"{s.lon},{s.lat}", "--radius", "30", "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["structures"][0]["external_id"] == s.external_id
        out = runner.invoke(app, ["limits", "road", s.road_code])
        assert out.exit_code == 0 and "structure(s)" in out.output
    finally:
        get_settings.cache_clear()
        routing.invalidate()
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE road_edge, road_node, road, asset CASCADE"))


def test_graph_check_interval_comes_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWIN_GRAPH_CHECK_INTERVAL_S", "42")
    s = Settings(home=tmp_path / "home")
    assert s.graph_check_interval_s == 42.0
    assert routing.graph_store(s).check_interval_s == 42.0
    monkeypatch.setenv("TWIN_GRAPH_CHECK_INTERVAL_S", "0")
    with pytest.raises(ValueError, match="graph_check_interval_s"):
        Settings(home=tmp_path / "home2")
