"""A small Tianjin-like network the twin's tests and benchmark load into a database.

Owned by the twin tests (until the project's sample loader, ``twin load sample``, exists):
four named corridors, connectors, rural roads to villages, a port with yards, blocks, a
gate and autonomous/dual lanes, structures with height/weight limits and inspection
history, RSUs along the Jinbin expressway with one coverage gap, and RSI messages.
Coordinates are schematic (right area, not surveyed).

Also :func:`load_grid` writes an n x n grid (~2 n^2 edges) for the vector-tile benchmark.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from typing import Any

from sqlalchemy import Connection, text

# road code -> (name_zh, name_en, class, [(lon, lat), ...])
ROADS: dict[str, tuple[str, str, str, list[tuple[float, float]]]] = {
    "S11": (
        "津滨高速",
        "Jinbin Expressway",
        "motorway",
        [
            (117.30, 39.10),
            (117.38, 39.095),
            (117.46, 39.09),
            (117.54, 39.075),
            (117.62, 39.055),
            (117.68, 39.04),
        ],
    ),
    "TJA": (
        "天津大道",
        "Tianjin Avenue",
        "trunk",
        [
            (117.30, 39.05),
            (117.38, 39.045),
            (117.46, 39.035),
            (117.54, 39.025),
            (117.62, 39.012),
            (117.68, 39.00),
        ],
    ),
    "G2": (
        "京津塘高速",
        "Jing-Jin-Tang Expressway",
        "motorway",
        [
            (117.10, 39.38),
            (117.20, 39.30),
            (117.30, 39.22),
            (117.40, 39.16),
            (117.50, 39.12),
            (117.60, 39.08),
            (117.68, 39.04),
        ],
    ),
    "PC1": (
        "港口集疏运通道",
        "Port Corridor",
        "primary",
        [(117.68, 39.04), (117.71, 39.02), (117.74, 39.00), (117.77, 38.985)],
    ),
    "X01": ("连接线一", "Connector 1", "secondary", [(117.38, 39.095), (117.38, 39.045)]),
    "X02": ("连接线二", "Connector 2", "secondary", [(117.54, 39.075), (117.54, 39.025)]),
    "X03": ("连接线三", "Connector 3", "secondary", [(117.62, 39.055), (117.62, 39.012)]),
    "C101": (
        "葛沽乡道",
        "Gegu rural road",
        "rural",
        [(117.46, 39.035), (117.45, 38.99), (117.42, 38.96)],
    ),
    "C102": ("小站村道", "Xiaozhan rural road", "rural", [(117.45, 38.99), (117.50, 38.97)]),
    "P1": (
        "港区一路",
        "Port Road 1",
        "port",
        [(117.77, 38.985), (117.79, 38.975), (117.81, 38.965)],
    ),
    "P2": ("港区二路", "Port Road 2", "port", [(117.79, 38.975), (117.80, 38.99)]),
}

VILLAGES = [
    ("V001", "葛沽村", "Gegu village", 3200, (117.421, 38.958)),
    ("V002", "小站村", "Xiaozhan village", 2100, (117.502, 38.969)),
    ("V003", "北塘村", "Beitang village", 450, (117.335, 39.075)),
]


def _ewkt_line(pts: list[tuple[float, float]]) -> str:
    return "SRID=4326;LINESTRING(" + ",".join(f"{x} {y}" for x, y in pts) + ")"


def _len_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (b[0] - a[0]) * 111_320 * math.cos(math.radians((a[1] + b[1]) / 2))
    dy = (b[1] - a[1]) * 110_540
    return math.hypot(dx, dy)


def _subdivide(pts: list[tuple[float, float]], step_m: float = 2500.0) -> list[tuple[float, float]]:
    out = [pts[0]]
    for a, b in itertools.pairwise(pts):
        n = max(1, int(_len_m(a, b) // step_m))
        for k in range(1, n + 1):
            out.append(
                (round(a[0] + (b[0] - a[0]) * k / n, 6), round(a[1] + (b[1] - a[1]) * k / n, 6))
            )
    return out


def load_demo(conn: Connection) -> dict[str, Any]:
    """Write the demo network into ``conn`` (inside the caller's transaction).

    Returns ids of interest: ``{"bridge_id", "underpass_id", "tunnel_id", "restrictor_id",
    "edges", "assets"}``.
    """
    ids: dict[str, Any] = {}
    node_ids: dict[tuple[float, float], int] = {}
    next_node = [conn.execute(text("SELECT COALESCE(max(id), 0) FROM road_node")).scalar_one() + 1]
    next_edge = conn.execute(text("SELECT COALESCE(max(id), 0) FROM road_edge")).scalar_one() + 1

    def node(p: tuple[float, float]) -> int:
        key = (round(p[0], 6), round(p[1], 6))
        if key not in node_ids:
            nid = next_node[0]
            next_node[0] += 1
            conn.execute(
                text(
                    "INSERT INTO road_node (id, geom, attrs) VALUES (:i, ST_SetSRID(ST_MakePoint(:x, :y), 4326), '{}')"
                ),
                {"i": nid, "x": key[0], "y": key[1]},
            )
            node_ids[key] = nid
        return node_ids[key]

    speeds = {"motorway": 100, "trunk": 80, "primary": 60, "secondary": 50, "rural": 40, "port": 30}
    highway = {
        "motorway": "motorway",
        "trunk": "trunk",
        "primary": "primary",
        "secondary": "secondary",
        "rural": "unclassified",
        "port": "service",
    }
    edges_by_road: dict[str, list[int]] = {}
    for code, (zh, en, cls, pts) in ROADS.items():
        road_id = conn.execute(
            text(
                "INSERT INTO road (code, name_zh, name_en, road_class, geom, stake_start_m, source, chain_breaks)"
                " VALUES (:c, :zh, :en, :cls, ST_Multi(ST_GeomFromEWKT(:g)), 0, '{\"demo\": true}', '[]')"
                " RETURNING id"
            ),
            {"c": f"DEMO-{code}", "zh": zh, "en": en, "cls": cls, "g": _ewkt_line(pts)},
        ).scalar_one()
        fine = _subdivide(pts)
        stake = 0.0
        for a, b in itertools.pairwise(fine):
            length = _len_m(a, b)
            conn.execute(
                text(
                    "INSERT INTO road_edge (id, road_id, source_node, target_node, highway, name, ref,"
                    " length_m, speed_kmh, oneway, stake_from_m, stake_to_m, geom, source, is_bridge, is_tunnel,"
                    " conditional) VALUES (:id, :r, :s, :t, :hw, :n, :ref, :len, :v, false, :sf, :st,"
                    " ST_GeomFromEWKT(:g), '{\"demo\": true}', false, false, '{}')"
                ),
                {
                    "id": next_edge,
                    "r": road_id,
                    "s": node(a),
                    "t": node(b),
                    "hw": highway[cls],
                    "n": zh,
                    "ref": code,
                    "len": length,
                    "v": speeds[cls],
                    "sf": stake,
                    "st": stake + length,
                    "g": _ewkt_line([a, b]),
                },
            )
            edges_by_road.setdefault(code, []).append(next_edge)
            next_edge += 1
            stake += length
    ids["edges"] = next_edge - 1

    def asset(
        ext: str,
        kind: str,
        zh: str,
        en: str,
        road: str,
        stake_m: float,
        geom: str,
        attrs: dict[str, Any] | None = None,
    ) -> int:
        return int(
            conn.execute(
                text(
                    "INSERT INTO asset (external_id, kind, name_zh, name_en, road_code, stake_m, geom,"
                    " attributes, owner, built_on, source, lifecycle_state) VALUES (:e, :k, :zh, :en, :rc, :s,"
                    " ST_GeomFromEWKT(:g), CAST(:a AS jsonb), '天津市公路事业发展服务中心', :b, '{\"demo\": true}', 'in_service')"
                    " RETURNING id"
                ),
                {
                    "e": ext,
                    "k": kind,
                    "zh": zh,
                    "en": en,
                    "rc": f"DEMO-{road}",
                    "s": stake_m,
                    "g": geom,
                    "a": json.dumps(attrs or {}),
                    "b": dt.date(2004, 6, 1),
                },
            ).scalar_one()
        )

    def limit(asset_id: int, kind: str, value: int) -> None:
        conn.execute(
            text(
                "INSERT INTO structure_limit (asset_id, kind, value, source_kind, status, direction, unlimited, source)"
                " VALUES (:a, :k, :v, 'sign', 'approved', 'both', false, '{}')"
            ),
            {"a": asset_id, "k": kind, "v": value},
        )

    def link(asset_id: int, edge_ids: list[int]) -> None:
        for e in edge_ids:
            conn.execute(
                text(
                    "INSERT INTO asset_edge (asset_id, edge_id, direction) VALUES (:a, :e, 'both')"
                ),
                {"a": asset_id, "e": e},
            )

    # A weight-restricted bridge (class 4) on connector 2, a low underpass on connector 1,
    # a height restrictor on connector 3, a tunnel on the port corridor.
    ids["bridge_id"] = asset(
        "DEMO-BR-001",
        "bridge",
        "海河二号桥",
        "Haihe Bridge No. 2",
        "X02",
        1200.0,
        _ewkt_line([(117.54, 39.058), (117.54, 39.046)]),
        {"spans": 5, "deck_width_m": 24},
    )
    limit(ids["bridge_id"], "weight", 30_000)
    link(ids["bridge_id"], edges_by_road["X02"][:1])
    ids["underpass_id"] = asset(
        "DEMO-UP-001",
        "underpass",
        "新港下穿通道",
        "Xingang underpass",
        "X01",
        2800.0,
        "SRID=4326;POINT(117.38 39.07)",
    )
    limit(ids["underpass_id"], "height", 380)
    link(ids["underpass_id"], edges_by_road["X01"][:1])
    ids["restrictor_id"] = asset(
        "DEMO-HR-001",
        "height_restrictor",
        "塘沽限高架",
        "Tanggu height restrictor",
        "X03",
        1500.0,
        "SRID=4326;POINT(117.62 39.035)",
    )
    limit(ids["restrictor_id"], "height", 420)
    link(ids["restrictor_id"], edges_by_road["X03"][:1])
    ids["tunnel_id"] = asset(
        "DEMO-TN-001",
        "tunnel",
        "港城隧道",
        "Port City tunnel",
        "PC1",
        3000.0,
        _ewkt_line([(117.705, 39.023), (117.725, 39.011)]),
    )
    limit(ids["tunnel_id"], "height", 450)
    link(ids["tunnel_id"], edges_by_road["PC1"][1:2])
    # A 20 t rural bridge: heavy trucks cannot reach the two villages beyond it.
    ids["rural_bridge_id"] = asset(
        "DEMO-BR-003",
        "bridge",
        "葛沽小桥",
        "Gegu small bridge",
        "C101",
        300.0,
        _ewkt_line([(117.4595, 39.031), (117.4585, 39.027)]),
    )
    limit(ids["rural_bridge_id"], "weight", 20_000)
    link(ids["rural_bridge_id"], edges_by_road["C101"][:1])
    ids["bridge2_id"] = asset(
        "DEMO-BR-002",
        "bridge",
        "津滨立交桥",
        "Jinbin interchange bridge",
        "S11",
        8000.0,
        _ewkt_line([(117.455, 39.0905), (117.47, 39.0885)]),
    )
    limit(ids["bridge2_id"], "height", 500)
    limit(ids["bridge2_id"], "weight", 55_000)
    s11_at_bridge = conn.execute(
        text(
            "SELECT id FROM road_edge WHERE id = ANY(:ids)"
            " ORDER BY geom <-> ST_SetSRID(ST_Point(117.4625, 39.0895), 4326) LIMIT 1"
        ),
        {"ids": edges_by_road["S11"]},
    ).scalar_one()
    link(ids["bridge2_id"], [s11_at_bridge])  # closing it detours the S11 port flow

    # Inspection history of the class-4 bridge, and one for the interchange.
    for d, score, cls in [
        (dt.date(2016, 5, 1), 91.0, 2),
        (dt.date(2018, 5, 1), 84.0, 2),
        (dt.date(2020, 5, 1), 74.0, 3),
        (dt.date(2022, 5, 1), 63.0, 3),
        (dt.date(2024, 5, 1), 55.0, 4),
    ]:
        conn.execute(
            text(
                "INSERT INTO inspection (asset_id, inspected_on, inspector, overall_score, condition_class,"
                " kind, component_scores, source, synthetic) VALUES (:a, :d, '李工', :s, :c, 'periodic', '{}', '{}', true)"
            ),
            {"a": ids["bridge_id"], "d": d, "s": score, "c": cls},
        )
    conn.execute(
        text(
            "INSERT INTO inspection (asset_id, inspected_on, inspector, overall_score, condition_class,"
            " kind, component_scores, source, synthetic) VALUES (:a, '2024-06-01', '王工', 96, 1, 'periodic', '{}', '{}', true)"
        ),
        {"a": ids["bridge2_id"]},
    )
    conn.execute(
        text(
            "INSERT INTO work_order (asset_id, kind, status, title, estimated_cost_cny)"
            " VALUES (:a, 'repair', 'open', '更换伸缩缝 / replace expansion joints', 850000)"
        ),
        {"a": ids["bridge_id"]},
    )
    # Pavement sections with condition classes on the two corridors (condition colouring).
    for i, (road, cls) in enumerate([("S11", 1), ("TJA", 3), ("G2", 2), ("PC1", 4)]):
        e_ids = edges_by_road[road]
        pa = asset(
            f"DEMO-PV-{i:03d}",
            "pavement_section",
            f"{ROADS[road][0]}路面",
            f"{ROADS[road][1]} pavement",
            road,
            0.0,
            _ewkt_line(ROADS[road][3]),
        )
        link(pa, e_ids)
        conn.execute(
            text(
                "INSERT INTO inspection (asset_id, inspected_on, overall_score, condition_class, kind,"
                " component_scores, source, synthetic) VALUES (:a, '2024-04-01', :s, :c, 'periodic', '{}', '{}', true)"
            ),
            {"a": pa, "s": {1: 93, 2: 85, 3: 75, 4: 65}[cls], "c": cls},
        )

    # Port: two container yards with blocks, a gate, lanes.
    def yard(
        code: str, zh: str, en: str, kind: str, x1: float, y1: float, x2: float, y2: float
    ) -> int:
        return int(
            conn.execute(
                text(
                    "INSERT INTO port_yard (code, name_zh, name_en, kind, attrs, source, geom) VALUES (:c, :zh, :en, :k,"
                    " '{}', '{}', ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)) RETURNING id"
                ),
                {"c": code, "zh": zh, "en": en, "k": kind, "x1": x1, "y1": y1, "x2": x2, "y2": y2},
            ).scalar_one()
        )

    y1 = yard(
        "DEMO-Y1",
        "北疆集装箱堆场",
        "Beijiang container yard",
        "container_yard",
        117.780,
        38.966,
        117.800,
        38.978,
    )
    y2 = yard(
        "DEMO-Y2",
        "东疆集装箱堆场",
        "Dongjiang container yard",
        "container_yard",
        117.802,
        38.978,
        117.822,
        38.992,
    )
    for k in range(4):
        yard(
            f"DEMO-Y1-B{k}",
            f"箱区 A{k + 1}",
            f"Block A{k + 1}",
            "block",
            117.782 + k * 0.0045,
            38.968,
            117.7855 + k * 0.0045,
            38.976,
        )
    yard("DEMO-G1", "北疆闸口", "Beijiang gate", "gate", 117.774, 38.981, 117.778, 38.985)
    for code, mode, pts, yid in [
        ("DEMO-L1", "autonomous", [(117.781, 38.977), (117.799, 38.977)], y1),
        ("DEMO-L2", "dual", [(117.781, 38.9672), (117.799, 38.9672)], y1),
        ("DEMO-L3", "dual", [(117.803, 38.979), (117.821, 38.991)], y2),
        ("DEMO-L4", "manual", [(117.776, 38.983), (117.781, 38.977)], y1),
    ]:
        conn.execute(
            text(
                "INSERT INTO port_lane (yard_id, code, mode, geom, attrs) VALUES (:y, :c, :m, ST_GeomFromEWKT(:g),"
                " CAST(:a AS jsonb))"
            ),
            {
                "y": yid,
                "c": code,
                "m": mode,
                "g": _ewkt_line(pts),
                "a": json.dumps({"lanes": 2 if mode == "dual" else 1}),
            },
        )

    # RSUs every ~1.5 km along S11 with a gap in the middle; RSI messages.
    s11 = ROADS["S11"][3]
    unit_ids = []
    for k, frac in enumerate([0.02, 0.08, 0.14, 0.20, 0.26, 0.50, 0.56, 0.62, 0.68]):
        x, y = _along(s11, frac)
        stake = frac * sum(_len_m(a, b) for a, b in itertools.pairwise(s11))
        unit_ids.append(
            conn.execute(
                text(
                    "INSERT INTO v2x_unit (code, road_code, stake_m, range_m, message_sets, status, geom)"
                    ' VALUES (:c, \'DEMO-S11\', :s, 400, \'["RSI", "MAP", "SPAT"]\', :st,'
                    " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"
                ),
                {
                    "c": f"DEMO-RSU-{k:02d}",
                    "s": stake,
                    "st": "offline" if k == 3 else "online",
                    "x": x,
                    "y": y,
                },
            ).scalar_one()
        )
    for uid, ev, payload in [
        (unit_ids[1], "low_clearance", {"limit_m": 3.8}),
        (unit_ids[6], "work_zone", {"lanes_closed": 1}),
        (unit_ids[7], "weight_limit", {"limit_t": 30}),
    ]:
        conn.execute(
            text(
                "INSERT INTO v2x_message (unit_id, msg_type, event_type, period_ms, payload, geom)"
                " SELECT :u, 'RSI', :e, 1000, CAST(:p AS jsonb), geom FROM v2x_unit WHERE id = :u"
            ),
            {"u": uid, "e": ev, "p": json.dumps(payload)},
        )
    for code, zh, en, pop, (x, y) in VILLAGES:
        conn.execute(
            text(
                "INSERT INTO village (code, name_zh, name_en, population, source, geom) VALUES (:c, :zh, :en, :p,"
                " '{}', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"c": f"DEMO-{code}", "zh": zh, "en": en, "p": pop, "x": x, "y": y},
        )
    ids["assets"] = conn.execute(text("SELECT count(*) FROM asset")).scalar_one()
    return ids


def _along(pts: list[tuple[float, float]], frac: float) -> tuple[float, float]:
    segs = [_len_m(a, b) for a, b in itertools.pairwise(pts)]
    target = frac * sum(segs)
    for (a, b), s in zip(itertools.pairwise(pts), segs, strict=False):
        if target <= s:
            f = target / s
            return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
        target -= s
    return pts[-1]


def load_grid(
    conn: Connection,
    *,
    n: int = 224,
    origin: tuple[float, float] = (117.0, 38.8),
    step_deg: float = 0.003,
) -> int:
    """An n x n grid of nodes joined by 2 n (n - 1) edges, written with set-based SQL.

    Returns the number of edges (n=224 -> 99,904).
    """
    base_node = conn.execute(text("SELECT COALESCE(max(id), 0) FROM road_node")).scalar_one() + 1
    base_edge = conn.execute(text("SELECT COALESCE(max(id), 0) FROM road_edge")).scalar_one() + 1
    p = {"n": n, "x0": origin[0], "y0": origin[1], "d": step_deg, "bn": base_node, "be": base_edge}
    conn.execute(
        text(
            "INSERT INTO road_node (id, geom, attrs) SELECT :bn + i * :n + j,"
            " ST_SetSRID(ST_MakePoint(:x0 + j * :d, :y0 + i * :d), 4326), '{}'"
            " FROM generate_series(0, :n - 1) i, generate_series(0, :n - 1) j"
        ),
        p,
    )
    conn.execute(
        text(
            """
            INSERT INTO road_edge (id, source_node, target_node, highway, length_m, speed_kmh, geom, source,
                                   oneway, is_bridge, is_tunnel, conditional)
            SELECT :be + row_number() OVER () - 1, s, t,
                   CASE WHEN k % 20 = 0 THEN 'primary' WHEN k % 5 = 0 THEN 'secondary' ELSE 'residential' END,
                   ST_Length(ST_Transform(g, 4548)), 40, g, '{"grid": true}', false, false, false, '{}'
              FROM (
                SELECT :bn + i * :n + j AS s, :bn + i * :n + j + 1 AS t, i AS k,
                       ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0 + j * :d, :y0 + i * :d),
                                              ST_MakePoint(:x0 + (j + 1) * :d, :y0 + i * :d)), 4326) AS g
                  FROM generate_series(0, :n - 1) i, generate_series(0, :n - 2) j
                UNION ALL
                SELECT :bn + i * :n + j, :bn + (i + 1) * :n + j, j,
                       ST_SetSRID(ST_MakeLine(ST_MakePoint(:x0 + j * :d, :y0 + i * :d),
                                              ST_MakePoint(:x0 + j * :d, :y0 + (i + 1) * :d)), 4326)
                  FROM generate_series(0, :n - 2) i, generate_series(0, :n - 1) j
              ) q
            """
        ),
        p,
    )
    return 2 * n * (n - 1)
