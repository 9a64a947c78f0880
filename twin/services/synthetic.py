"""Write a generated network (``loaders.synthetic``) straight into the schema with COPY.

Rows carry ``source = {"dataset": "synthetic:<edges>:<seed>"}`` so loading the same
network again replaces the previous rows (idempotent) and leaves every other dataset
alone. One savepoint of the caller's transaction: a failure leaves nothing behind.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from loaders.synthetic import SyntheticNetwork, generate_network
from twin.errors import Conflict, InputError
from twin.ingest import copy_rows


@dataclass
class SyntheticLoad:
    """What a synthetic load wrote."""

    dataset: str
    nodes: int
    edges: int
    roads: int
    assets: int
    limits: int
    node_id_start: int
    edge_id_start: int
    asset_id_start: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return dict(self.__dict__)


def load_synthetic(
    conn: Connection,
    *,
    edges: int,
    seed: int = 0,
    limited_share: float = 0.03,
    network: SyntheticNetwork | None = None,
) -> SyntheticLoad:
    """Generate (or take) a network and write it into ``conn``'s transaction.

    Parameters
    ----------
    conn:
        Connection; the caller commits.
    edges, seed, limited_share:
        Passed to :func:`loaders.synthetic.generate_network`.
    network:
        An already generated network (then ``edges``/``seed`` only name the dataset).

    Raises
    ------
    InputError
        ``edges`` out of range (200 .. 5,000,000).
    Conflict
        A road code of the network is already used by another dataset.
    """
    if not 200 <= edges <= 5_000_000:
        raise InputError(f"edges={edges}: must be within 200..5000000")
    t0 = time.perf_counter()
    net = network or generate_network(edges, seed=seed, limited_share=limited_share)
    dataset = f"synthetic:{edges}:{seed}"
    src = json.dumps({"dataset": dataset, "generator": "loaders.synthetic", "seed": seed})
    with conn.begin_nested():
        _delete(conn, dataset)
        codes = [r.code for r in net.roads]
        taken = conn.execute(
            text("SELECT code FROM road WHERE code = ANY(:c) LIMIT 5"), {"c": codes}
        ).scalars()
        clash = list(taken)
        if clash:
            raise Conflict(
                f"road codes {', '.join(clash)} already exist (another dataset); the synthetic "
                "network uses codes U###, V###, X###, G2501/G2502, S001",
                hint="load it into a separate database (TWIN_DATABASE_NAME)",
            )
        road0 = _next_id(conn, "road")
        node0 = _next_id(conn, "road_node")
        edge0 = _next_id(conn, "road_edge")
        asset0 = _next_id(conn, "asset")
        copy_rows(
            conn,
            "road",
            [
                "id",
                "code",
                "name_zh",
                "name_en",
                "road_class",
                "stake_start_m",
                "source",
                "chain_breaks",
            ],
            (
                (road0 + i, r.code, r.name_zh, r.name_en, r.road_class, 0.0, src, "[]")
                for i, r in enumerate(net.roads)
            ),
        )
        copy_rows(
            conn,
            "road_node",
            ["id", "geom", "attrs"],
            (
                (node0 + i, f"SRID=4326;POINT({x:.7f} {y:.7f})", src)
                for i, (x, y) in enumerate(zip(net.node_lon, net.node_lat, strict=True))
            ),
        )
        copy_rows(conn, "road_edge", _EDGE_COLUMNS, _edge_rows(net, edge0, node0, road0, src))
        n_limits = _write_structures(conn, net, asset0=asset0, edge0=edge0, road0=road0, src=src)
        conn.execute(
            text(
                "UPDATE road r SET geom = s.g, stake_end_m = s.m FROM ("
                " SELECT road_id, ST_Multi(ST_Collect(geom)) AS g, max(stake_to_m) AS m"
                " FROM road_edge WHERE source->>'dataset' = :d GROUP BY road_id) s"
                " WHERE r.id = s.road_id"
            ),
            {"d": dataset},
        )
        for table in ("road", "road_node", "road_edge", "asset", "structure_limit"):
            from twin.ingest import reset_sequence

            reset_sequence(conn, table)
    return SyntheticLoad(
        dataset=dataset,
        nodes=net.n_nodes,
        edges=net.n_edges,
        roads=len(net.roads),
        assets=len(net.structures),
        limits=n_limits,
        node_id_start=node0,
        edge_id_start=edge0,
        asset_id_start=asset0,
        seconds=round(time.perf_counter() - t0, 3),
    )


_EDGE_COLUMNS = [
    "id",
    "road_id",
    "source_node",
    "target_node",
    "highway",
    "name",
    "ref",
    "length_m",
    "speed_kmh",
    "oneway",
    "stake_from_m",
    "stake_to_m",
    "is_bridge",
    "is_tunnel",
    "conditional",
    "geom",
    "source",
]


def _edge_rows(net: SyntheticNetwork, edge0: int, node0: int, road0: int, src: str) -> Any:
    codes = [r.code for r in net.roads]
    names = [r.name_en for r in net.roads]
    for i in range(net.n_edges):
        r = int(net.edge_road[i])
        a, b = net.geom_offsets[i], net.geom_offsets[i + 1]
        pts = ", ".join(
            f"{x:.7f} {y:.7f}" for x, y in zip(net.geom_lon[a:b], net.geom_lat[a:b], strict=True)
        )
        yield (
            edge0 + i,
            road0 + r,
            node0 + int(net.edge_source[i]),
            node0 + int(net.edge_target[i]),
            str(net.edge_class[i]),
            names[r],
            codes[r],
            float(net.edge_length_m[i]),
            float(net.edge_speed_kmh[i]),
            bool(net.edge_oneway[i]),
            float(net.edge_stake_from_m[i]),
            float(net.edge_stake_to_m[i]),
            bool(net.edge_is_bridge[i]),
            bool(net.edge_is_tunnel[i]),
            "{}",
            f"SRID=4326;LINESTRING({pts})",
            src,
        )


def _write_structures(
    conn: Connection, net: SyntheticNetwork, *, asset0: int, edge0: int, road0: int, src: str
) -> int:
    code_to_road = {r.code: road0 + i for i, r in enumerate(net.roads)}
    copy_rows(
        conn,
        "asset",
        [
            "id",
            "external_id",
            "kind",
            "name_zh",
            "name_en",
            "road_id",
            "road_code",
            "stake_m",
            "geom",
            "attributes",
            "lifecycle_state",
            "source",
        ],
        (
            (
                asset0 + i,
                s.external_id,
                s.kind,
                s.name_zh,
                s.name_en,
                code_to_road[s.road_code],
                s.road_code,
                s.stake_m,
                f"SRID=4326;POINT({s.lon:.7f} {s.lat:.7f})",
                "{}",
                "in_service",
                src,
            )
            for i, s in enumerate(net.structures)
        ),
    )
    limit_rows = [
        (
            asset0 + i,
            kind,
            value,
            "unknown" if value is None else None,
            False,
            "design",
            "approved",
            s.direction,
            s.conditional,
            src,
        )
        for i, s in enumerate(net.structures)
        for kind, value in s.limits.items()
    ]
    copy_rows(
        conn,
        "structure_limit",
        [
            "asset_id",
            "kind",
            "value",
            "value_text",
            "unlimited",
            "source_kind",
            "status",
            "direction",
            "conditional",
            "source",
        ],
        limit_rows,
    )
    copy_rows(
        conn,
        "asset_edge",
        ["asset_id", "edge_id", "direction"],
        ((asset0 + i, edge0 + e, "both") for i, s in enumerate(net.structures) for e in s.edges),
    )
    return len(limit_rows)


def _next_id(conn: Connection, table: str) -> int:
    top = conn.execute(text(f'SELECT COALESCE(max(id), 0) FROM "{table}"')).scalar()
    return int(top or 0) + 1


def _delete(conn: Connection, dataset: str) -> None:
    """Remove a previous load of the same dataset (assets cascade to limits and links)."""
    d = {"d": dataset}
    conn.execute(text("DELETE FROM asset WHERE source->>'dataset' = :d"), d)
    conn.execute(text("DELETE FROM road_edge WHERE source->>'dataset' = :d"), d)
    conn.execute(text("DELETE FROM road_node WHERE attrs->>'dataset' = :d"), d)
    conn.execute(text("DELETE FROM road WHERE source->>'dataset' = :d"), d)
